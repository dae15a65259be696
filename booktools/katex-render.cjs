// Long-lived KaTeX renderer for the mkdocs build hook (docs/hooks/book.py).
// Protocol: one JSON request per line on stdin, {"tex": "...", "display": true},
// one JSON answer per line on stdout, {"html": "..."} or {"error": "..."}.
// KaTeX comes from node_modules (pinned by package-lock.json): no CDN, no network.
"use strict";
const katex = require("katex");
const readline = require("readline");

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    const html = katex.renderToString(request.tex, {
      displayMode: Boolean(request.display),
      throwOnError: true,
      strict: "error",
      trust: false,
      output: "htmlAndMathml",
    });
    answer = { html };
  } catch (err) {
    answer = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
