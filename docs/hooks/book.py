"""MkDocs hook that turns the chapters into a cross-linked, offline book.

What it does, in build order:

1. ``on_files``: scans every chapter once, in nav order, for labelled display
   equations (``$$ ... \\label{eq-name} $$``) and Entangled fragments
   (``{.python #name}``); scans the tangled package's docstrings for the
   equations each function implements (``[...][eq-name]`` links).
2. ``on_page_markdown``: gives each labelled equation an anchor (``#eq-name``),
   a number ``(chapter.k)``, and a line naming the function that implements it
   and the test that checks it; expands ``<!-- equation-checks -->`` into the
   table of the verification chapter, from the registry of checks
   (booktools/registry.py); checks that the table of every gradient which chapter 5 writes
   between ``<!-- gradient-table -->`` and ``<!-- /gradient-table -->`` (formula, shape,
   code name, loss, check) is what the registry gives (booktools/gradient_table.py).
3. ``on_page_content``: typesets all math with KaTeX at build time (a pinned npm
   package driven by one long-lived ``node`` process), so pages carry no math
   JavaScript and read offline; a TeX error is a warning, which fails
   ``mkdocs build --strict``. Turns ``<<fragment>>`` references in code blocks
   into links to the fragment's definition.
   Warns (and so fails a strict build) when TeX is left untypeset in the prose,
   e.g. a ``$$`` block glued to the paragraph above it. Runs before
   mkdocs-material's ``typeset`` plugin, which copies the typeset headings into
   the table of contents.
   Adds a "Download this chapter as a notebook" link under the title of every
   chapter that has runnable blocks.
4. ``on_post_build``: copies KaTeX's CSS and fonts into the site, and writes every
   chapter's notebook (booktools/notebooks.py) into ``notebooks/``.

Under ``mkdocs serve`` the hook says when a chapter changed after the package
was tangled (the API reference reads the tangled package).
"""

from __future__ import annotations

import ast
import html
import importlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.book")

ROOT = Path(__file__).resolve().parents[2]
# MkDocs loads a hook from its path: the book's tooling is imported from the repository root.
sys.path.insert(0, str(ROOT))
from booktools import gradient_table as book_gradient_table  # noqa: E402
from booktools import notebooks as book_notebooks  # noqa: E402
from booktools import numbers as book_numbers  # noqa: E402
from booktools import registry  # noqa: E402

PACKAGE = ROOT / "mnist_math"
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = ROOT / "booktools" / "katex-render.cjs"

LABEL_RE = re.compile(r"\\label\{(eq-[a-z0-9-]+)\}")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
FRAGMENT_RE = re.compile(r"^\s*```+\s*\{[^}]*#([A-Za-z0-9_-]+)[^}]*\}")
EQ_LINK_RE = re.compile(r"\]\[(eq-[a-z0-9-]+)\]")
NAV_NUMBER_RE = re.compile(r"^\s*(\d+)\.")


@dataclass
class Equation:
    name: str
    page: str  # src_uri of the chapter that labels it
    number: str
    tex: str
    implementers: list[str] = field(default_factory=list)


class Book:
    def __init__(self) -> None:
        self.equations: dict[str, Equation] = {}
        self.fragments: dict[str, str] = {}
        self.checks: dict[str, tuple[str, str]] = {}
        # The gradients of chapter 5: equation -> (code name, "summed" or "mean") and
        # equation -> shape, both from the registry of checks.
        self.gradients: dict[str, tuple[str, str]] = {}
        self.gradient_shapes: dict[str, str] = {}
        # The measured numbers of docs/generated/*.json, "file.key" -> text.
        self.numbers: dict[str, str] = {}


BOOK = Book()


# --------------------------------------------------------------------------
# KaTeX, one node process per build


class Katex:
    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], tuple[str | None, str | None]] = {}

    def _start(self) -> subprocess.Popen[str]:
        if not (KATEX_DIST / "katex.min.css").exists():
            raise RuntimeError(
                "KaTeX is not installed: run `npm ci` in the repository root "
                "(package-lock.json pins it)."
            )
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(
                "Node.js is not installed: the book typesets its math at build time with "
                "KaTeX, which needs `node` on PATH."
            )
        return subprocess.Popen(
            [node, str(RENDERER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
        )

    def render(self, tex: str, display: bool) -> tuple[str | None, str | None]:
        key = (tex, display)
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
            if not line:
                self._proc = None
                raise RuntimeError(
                    f"the KaTeX renderer ({RENDERER.name}) stopped unexpectedly"
                )
            answer = json.loads(line)
        result = (answer.get("html"), answer.get("error"))
        self._cache[key] = result
        return result

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._proc.stdin.close()  # type: ignore[union-attr]
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


KATEX = Katex()


# --------------------------------------------------------------------------
# Scanning the chapters, the package and the registry of checks


def _outside_fences(lines: list[str]):
    """Yield (index, line) for the lines that are not inside a code fence."""
    fence: str | None = None
    for i, line in enumerate(lines):
        m = FENCE_RE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
                continue
            if marker.startswith(fence) and line.strip() == marker:
                fence = None
                continue
        if fence is None:
            yield i, line


def _display_blocks(lines: list[str]):
    """Yield (start, end, tex) for each ``$$``-fenced display block outside code."""
    start: int | None = None
    body: list[str] = []
    for i, line in _outside_fences(lines):
        if line.strip() == "$$":
            if start is None:
                start, body = i, []
            else:
                yield start, i, "\n".join(body)
                start = None
        elif start is not None:
            body.append(line)


def _chapter_numbers(nav, numbers: dict[str, str]) -> None:
    for item in nav or []:
        if isinstance(item, dict):
            for title, target in item.items():
                if isinstance(target, str):
                    m = NAV_NUMBER_RE.match(title)
                    numbers[target] = m.group(1) if m else ""
                else:
                    _chapter_numbers(target, numbers)
        elif isinstance(item, str):
            numbers.setdefault(item, "")


def _implementers() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        module = f"mnist_math.{path.stem}"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError as error:
            log.warning(f"cannot read the docstrings of {path.name}: {error}")
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node) or ""
                for name in EQ_LINK_RE.findall(doc):
                    found.setdefault(name, []).append(f"{module}.{node.name}")
    return found


def _checks() -> dict[str, tuple[str, str]]:
    """``EQUATION_CHECKS``: which test checks each labelled equation."""
    return registry.EQUATION_CHECKS


def on_files(files, config):
    numbers: dict[str, str] = {}
    _chapter_numbers(config["nav"], numbers)
    BOOK.equations.clear()
    BOOK.fragments.clear()
    docs_dir = Path(config["docs_dir"])
    for src_uri in numbers:
        path = docs_dir / src_uri
        if not path.exists() or path.suffix != ".md":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        count = 0
        for _start, _end, tex in _display_blocks(lines):
            m = LABEL_RE.search(tex)
            if not m:
                continue
            count += 1
            chapter = numbers[src_uri] or "A"
            name = m.group(1)
            if name in BOOK.equations:
                log.warning(f"equation label '{name}' is defined twice ({src_uri})")
            BOOK.equations[name] = Equation(
                name=name,
                page=src_uri,
                number=f"{chapter}.{count}",
                tex=LABEL_RE.sub("", tex).strip(),
            )
        for line in lines:
            m = FRAGMENT_RE.match(line)
            if m:
                BOOK.fragments[m.group(1)] = src_uri
    for name, functions in _implementers().items():
        if name in BOOK.equations:
            BOOK.equations[name].implementers = functions
        else:
            log.warning(
                f"a docstring links to equation '{name}', which no chapter labels"
            )
    BOOK.checks = _checks()
    importlib.reload(registry)  # `mkdocs serve`: a registry edited since the last build
    BOOK.numbers = book_numbers.load_numbers(ROOT / "docs" / "generated")
    BOOK.gradients = registry.BACKWARD_QUANTITIES
    BOOK.gradient_shapes = registry.GRADIENT_SHAPES
    return files


# --------------------------------------------------------------------------
# Markdown: anchors, numbers, implementation lines, the table of checks


def _relative(from_page: str, to_page: str) -> str:
    depth = from_page.count("/")
    return "../" * depth + to_page


def _implementation_line(eq: Equation, page_uri: str, indent: str) -> str:
    parts = []
    if eq.implementers:
        links = ", ".join(f"[`{q.rsplit('.', 1)[1]}`][{q}]" for q in eq.implementers)
        parts.append(f"Implemented by {links}")
    if eq.name in BOOK.checks:
        target = _relative(page_uri, "verification.md")
        test, how = BOOK.checks[eq.name]
        # Most equations are compared with PyTorch; the others (the finite difference) are not.
        oracle = re.search(r"torch|autograd|\bF\.|\.grad\b", f"{test} {how}")
        text = "checked against autograd" if oracle else "checked by a test"
        parts.append(f"[{text}]({target}#check-{eq.name})")
    if not parts:
        return ""
    return f"{indent}{' · '.join(parts)}\n{indent}{{: .eq-impl }}\n"


def _checks_table(page_uri: str) -> str:
    rows = [
        '<div class="checks-table" markdown>',
        "",
        "| Eq. | Formula | Implemented by · checked by |",
        "|---|---|---|",
    ]
    for eq in BOOK.equations.values():
        target = _relative(page_uri, eq.page)
        impl = ", ".join(f"[`{q.rsplit('.', 1)[1]}`][{q}]" for q in eq.implementers)
        test, how = BOOK.checks.get(eq.name, ("", ""))
        tex = " ".join(eq.tex.split()).replace("|", "\\vert ")
        how = how.replace("|", "\\|")  # a pipe would end the table cell
        if test:
            file, _, function = test.rpartition("::")
            check = f"`{function or test}` <small>({file})</small>: {how}"
        else:
            check = "**no check**"
        rows.append(
            f"| [](){{#check-{eq.name}}}[({eq.number})]({target}#{eq.name}) "
            f"| $\\displaystyle {tex}$ | {impl or '**no implementation**'}<br>{check} |"
        )
    rows += ["", "</div>"]
    return "\n".join(rows)


GRADIENT_LOSS = {"summed": r"$m\mathcal{L}$ (summed)", "mean": r"$\mathcal{L}$ (mean)"}


def _gradient_table(page_uri: str) -> str:
    """The table of every gradient: formula, shape, code name, loss and check.

    One row per entry of the registry's ``BACKWARD_QUANTITIES``, in its order; the formula
    is the labelled equation's TeX as the chapter writes it, the shape comes from
    ``GRADIENT_SHAPES``, the check from ``EQUATION_CHECKS``. Anything missing is a warning,
    which fails the strict build.
    """
    rows = [
        '<div class="checks-table" markdown>',
        "",
        "| Eq. | Formula | Code · shape | Gradient of · checked by |",
        "|---|---|---|---|",
    ]
    for name, (quantity, loss) in BOOK.gradients.items():
        eq = BOOK.equations.get(name)
        shape = BOOK.gradient_shapes.get(name)
        test, _how = BOOK.checks.get(name, ("", ""))
        if eq is None or shape is None or not test or loss not in GRADIENT_LOSS:
            log.warning(
                f"{page_uri}: the gradient table has no equation, shape, check or loss "
                f"for '{name}' (booktools/registry.py)"
            )
            continue
        target = _relative(page_uri, eq.page)
        check_target = _relative(page_uri, "verification.md")
        # An equation that adds an entrywise form after \qquad shows its matrix form here.
        main = eq.tex.split("\\qquad")[0].strip().rstrip(",")
        tex = " ".join(main.split()).replace("|", "\\vert ")
        file, _, function = test.rpartition("::")
        rows.append(
            f"| [({eq.number})]({target}#{eq.name}) | $\\displaystyle {tex}$ "
            f"| `{quantity}`<br>${shape}$ | {GRADIENT_LOSS[loss]}<br>"
            f"[`{function}`]({check_target}#check-{eq.name}) <small>({file})</small> |"
        )
    rows += ["", "</div>"]
    return "\n".join(rows)


def on_page_markdown(markdown, page, config, files):
    page_uri = page.file.src_uri
    lines = markdown.splitlines()
    replacements: list[tuple[int, int, str]] = []
    for start, end, tex in _display_blocks(lines):
        m = LABEL_RE.search(tex)
        if not m:
            continue
        eq = BOOK.equations.get(m.group(1))
        if eq is None or eq.page != page_uri:
            continue
        indent = re.match(r"\s*", lines[start]).group(0)
        body = LABEL_RE.sub("", tex).rstrip()
        block = (
            f"{indent}[](){{#{eq.name}}}\n\n"
            f"{indent}$$\n{body} \\tag{{{eq.number}}}\n{indent}$$\n\n"
            + _implementation_line(eq, page_uri, indent)
        )
        replacements.append((start, end, block))
    for start, end, block in reversed(replacements):
        lines[start : end + 1] = block.rstrip("\n").split("\n")
    markdown = "\n".join(lines) + "\n"
    if "<!-- equation-checks -->" in markdown:
        markdown = markdown.replace("<!-- equation-checks -->", _checks_table(page_uri))
    # The chapter writes the table of every gradient itself (Markdown and notebook readers
    # see it too); it must be the one the registry gives.
    try:
        written = book_gradient_table.written_table(markdown)
    except ValueError as error:
        log.warning(f"{page_uri}: {error}")
        written = None
    if written is not None and written != _gradient_table(page_uri).strip():
        log.warning(
            f"{page_uri}: the table of every gradient differs from the registry's "
            "(booktools/registry.py): run `python -m booktools.gradient_table --update`"
        )
    # A measured number in the prose must be its datum in docs/generated/ (booktools/numbers.py).
    for problem in book_numbers.problems_in(markdown, BOOK.numbers, page_uri):
        log.warning(str(problem))
    return markdown


# --------------------------------------------------------------------------
# HTML: KaTeX and fragment links

DISPLAY_RE = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)
# Inline math with the punctuation glued to it: "$0.1$," must not break before the comma.
INLINE_RE = re.compile(
    r'([(\[]?)<span class="arithmatex">\\\((.*?)\\\)</span>([.,;:!?)\]]*)', re.S
)
# The empty autorefs anchor ``[](){#eq-x}`` before a display equation becomes the
# equation's own id, so that ``#eq-x`` lands on (and highlights) the formula.
ANCHOR_RE = re.compile(
    r'<p><a href="" id="(eq-[a-z0-9-]+)"></a></p>\s*<div class="math-display">'
)
# Other autorefs anchors (``[](){#check-eq-x}``) need no empty link around them.
EMPTY_ANCHOR_RE = re.compile(r'<a href="" id="([^"]+)"></a>')
# What must never reach a reader: TeX that arithmatex did not pick up.
PROSE_SKIP_RE = re.compile(
    r"<(pre|code|script|style|textarea)\b.*?</\1>|"
    r'<div class="arithmatex">.*?</div>|<span class="arithmatex">.*?</span>',
    re.S,
)
RAW_TEX_RE = re.compile(
    r"\$\$|\\[\[\]()]|\\(?:frac|begin|end|sum|mathbf|partial|label|tag)\b"
    r"|\$[^\s$][^$\n]{0,80}?[^\s$\\]\$|\$[^\s$\d]\$"  # inline $x$ that was not typeset
)
STRAY_DOLLAR_RE = re.compile(r'\$<span class="arithmatex">|\\\)</span>\$')
CODE_RE = re.compile(r"(<code[^>]*>)(.*?)(</code>)", re.S)
REF_RE = re.compile(r"&lt;&lt;((?:(?!&gt;&gt;|\n).)+?)&gt;&gt;")
TAG_RE = re.compile(r"<[^>]+>")


def _katex(page_uri: str, display: bool):
    def replace(m: re.Match) -> str:
        before, tex, after = ("", m.group(1), "") if display else m.groups()
        tex = html.unescape(tex).strip()
        rendered, error = KATEX.render(tex, display)
        if error is not None:
            log.warning(f"{page_uri}: KaTeX could not typeset {tex!r}: {error}")
            rendered = f'<code class="math-error">{html.escape(tex)}</code>'
        elif display:
            return f'<div class="math-display">{rendered}</div>'
        if before or after:
            return f'<span class="math-nowrap">{before}{rendered}{after}</span>'
        return rendered

    return replace


def _fragment_links(page, files):
    def link_code(m: re.Match) -> str:
        def link_ref(r: re.Match) -> str:
            name = TAG_RE.sub("", r.group(1)).strip()
            target = BOOK.fragments.get(name)
            target_file = files.get_file_from_path(target) if target else None
            if target_file is None:
                return r.group(0)
            href = (
                ""
                if target == page.file.src_uri
                else get_relative_url(target_file.url, page.url)
            )
            return (
                f'<a class="fragment-ref" href="{href}#{name}" title="go to fragment {name}">'
                f"&lt;&lt;{name}&gt;&gt;</a>"
            )

        return m.group(1) + REF_RE.sub(link_ref, m.group(2)) + m.group(3)

    return link_code


def _check_untypeset(page_uri: str, html_text: str) -> None:
    """Warn about TeX that would reach the reader as raw text."""
    if STRAY_DOLLAR_RE.search(html_text):
        log.warning(
            f"{page_uri}: a '$' is glued to inline math (inline $$...$$ is not supported: "
            "put display math on its own lines, with a blank line before and after)"
        )
    prose = html.unescape(TAG_RE.sub(" ", PROSE_SKIP_RE.sub(" ", html_text)))
    for m in RAW_TEX_RE.finditer(prose):
        context = " ".join(prose[max(0, m.start() - 40) : m.end() + 40].split())
        log.warning(
            f"{page_uri}: TeX left untypeset near {context!r} (display math needs `$$` "
            "alone on its own lines, with a blank line before and after the block; "
            'HTML blocks such as <figcaption> need markdown="span" for inline math)'
        )
        break


# Early (before mkdocs-material's typeset plugin copies the headings into the table of
# contents), so that math in a heading is typeset there too.
@event_priority(50)
def on_page_content(html_text, page, config, files):
    page_uri = page.file.src_uri
    _check_untypeset(page_uri, html_text)
    html_text = DISPLAY_RE.sub(_katex(page_uri, True), html_text)
    html_text = INLINE_RE.sub(_katex(page_uri, False), html_text)
    html_text = ANCHOR_RE.sub(r'<div class="math-display" id="\1">', html_text)
    html_text = EMPTY_ANCHOR_RE.sub(r'<a id="\1"></a>', html_text)
    html_text = CODE_RE.sub(_fragment_links(page, files), html_text)
    return _notebook_link(html_text, page, config)


NOTEBOOKS_DIR = "notebooks"
H1_END_RE = re.compile(r"</h1>")


def _notebook_link(html_text: str, page, config) -> str:
    """Put a link to the chapter's notebook under its title (chapters with runnable code)."""
    source = Path(config["docs_dir"]) / page.file.src_uri
    if not book_notebooks.has_notebook(source):
        return html_text
    target = f"{NOTEBOOKS_DIR}/{book_notebooks.notebook_name(source)}"
    href = get_relative_url(target, page.url or ".")
    link = (
        f'<p class="notebook-link"><a href="{href}" download>'
        "Download this chapter as a notebook</a> (Jupyter: the prose, and every block to "
        "run, in order)</p>"
    )
    return H1_END_RE.sub(lambda m: m.group(0) + link, html_text, count=1)


def on_startup(command, dirty):
    # Hooks are reloaded with the config on every rebuild of `mkdocs serve`;
    # the environment is how this module remembers which command runs.
    os.environ["MNIST_MATH_MKDOCS_COMMAND"] = command


def on_pre_build(config):
    """Under `mkdocs serve`, say when a chapter changed after the package was tangled.

    The hook does not tangle by itself: the canonical package is the one a *clean* tangle
    creates (README, "Writing the book"), and that command deletes the tangled files.
    """
    if os.environ.get("MNIST_MATH_MKDOCS_COMMAND") != "serve":
        return
    modules = [
        p
        for p in PACKAGE.glob("*.py")
        if p.read_text(encoding="utf-8").startswith("# ~/~")
    ]
    if not modules:
        log.warning("the package is not tangled: the API reference will be empty")
        return
    tangled_at = min(p.stat().st_mtime for p in modules)
    docs_dir = Path(config["docs_dir"])
    changed = [
        p.name
        for p in sorted(docs_dir.glob("*.md"))
        if p.stat().st_mtime > tangled_at and "{.python" in p.read_text(encoding="utf-8")
    ]
    if changed:
        log.info(
            f"{', '.join(changed)} changed after mnist_math/ was tangled: the API reference "
            'shows the old code until you re-tangle (README, "Writing the book")'
        )


def on_post_build(config):
    KATEX.close()  # one renderer per build: `mkdocs serve` reloads this module per rebuild
    docs_dir = Path(config["docs_dir"])
    numbers: dict[str, str] = {}
    _chapter_numbers(config["nav"], numbers)
    repo_url = config.get("repo_url") or book_notebooks.repo_url_of()
    for src_uri in numbers:
        source = docs_dir / src_uri
        if (
            source.suffix == ".md"
            and source.exists()
            and book_notebooks.has_notebook(source)
        ):
            book_notebooks.write_notebook(
                source, Path(config["site_dir"]) / NOTEBOOKS_DIR, repo_url=repo_url
            )
    target = Path(config["site_dir"]) / "assets" / "katex"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(KATEX_DIST / "katex.min.css", target / "katex.min.css")
    shutil.copytree(KATEX_DIST / "fonts", target / "fonts", dirs_exist_ok=True)


def on_shutdown():
    KATEX.close()
