"""The book as a reader gets it: the strict build, and every page in a real browser.

* ``test_strict_build_passes``: ``mkdocs build --strict`` of the repository succeeds (built once
  per session into a temporary folder; needs the tangled package and ``npm ci``'s KaTeX).
* ``test_broken_formula_fails_the_strict_build``: a TeX error in a chapter makes the strict
  build exit non-zero with KaTeX's message.
* ``test_every_page_reads_offline`` (browser): headless Chromium from Debian, driven by
  Playwright, loads every built page from a server on 127.0.0.1 and checks that the math is
  typeset (no raw TeX outside code, KaTeX elements wherever the chapter has math, no error
  elements), that every internal link and ``#anchor`` resolves, that no request leaves the
  machine (except mkdocs-material's repository-stats call to api.github.com), that code blocks
  have their copy button, that the page is not wider than the window, and saves a full-page
  screenshot of each page under ``test-artifacts/screenshots/``.
* ``test_checker_catches`` (browser): the same checker run over a deliberately damaged copy of
  the book (a broken formula, TeX glued to a paragraph, a CDN script, links to nowhere) reports
  each damage, so a passing browser test means something.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from site_harness import CDN_SCRIPT, DAMAGED_PAGES, SiteServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# The top of every page by default; whole pages (slower) with MNIST_MATH_FULL_SCREENSHOTS=1.
FULL_SCREENSHOTS = os.environ.get("MNIST_MATH_FULL_SCREENSHOTS") == "1"


def _allowed_remote() -> re.Pattern:
    """The one request allowed to leave loopback: mkdocs-material's stats of ``repo_url``."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    m = re.search(
        r"^repo_url:\s*https://github\.com/([^/\s]+/[^/\s]+?)/?\s*$", config, re.M
    )
    if m is None:
        return re.compile(r"(?!)")  # no repo_url: nothing may leave the machine
    return re.compile(rf"^https://api\.github\.com/repos/{re.escape(m.group(1))}(/.*)?$")


ALLOWED_REMOTE = _allowed_remote()
COPY_BUTTON_SELECTOR = ".md-content pre button.md-clipboard, .md-content pre button.md-code__button[data-md-type='copy']"


# --------------------------------------------------------------------------
# Building the book


@pytest.mark.site
def test_strict_build_passes(built_site: Path):
    assert (built_site / "index.html").exists(), "the build wrote no landing page"
    from booktools.blocks import nav_pages, runnable_blocks

    chapters = [page for page in nav_pages() if runnable_blocks(page)]
    for page in chapters:
        notebook = built_site / "notebooks" / f"{page.stem}.ipynb"
        assert notebook.exists(), f"no notebook for {page.name}"
        html_page = built_site / page.stem / "index.html"
        assert f'notebooks/{page.stem}.ipynb" download' in html_page.read_text(
            encoding="utf-8"
        ), f"{page.name} has no 'Download this chapter as a notebook' link"
    assert (built_site / "assets" / "katex" / "katex.min.css").exists(), (
        "KaTeX's CSS was not copied"
    )
    assert len(list(built_site.rglob("index.html"))) >= 10, "too few pages were built"


@pytest.mark.site
def test_broken_formula_fails_the_strict_build(damaged_site):
    _site, result = damaged_site
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"a TeX error did not fail the strict build:\n{output}"
    assert "KaTeX could not typeset" in output and "\\\\frac{1}{" in output, output
    assert "Aborted with" in output and "in strict mode" in output, output


# --------------------------------------------------------------------------
# Serving the site and checking it in Chromium


@dataclass
class Report:
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    allowed_remote: list[str] = field(default_factory=list)
    links_checked: int = 0

    def about(self, needle: str) -> list[str]:
        return [p for p in self.problems if needle in p]


# JavaScript run in each page: what the reader sees, outside code and rendered math.
_PAGE_FACTS_JS = r"""
() => {
  // mkdocs-material <= 9.5 adds button.md-clipboard; 9.6+ a nav of md-code__button's.
  const COPY_BUTTON = "button.md-clipboard, button.md-code__button[data-md-type='copy']";
  const skip = "pre, code, script, style, noscript, textarea, .katex, .math-error";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && !parent.closest(skip)) texts.push(node.nodeValue);
  }
  const content = document.querySelector(".md-content") || document.body;
  const blocks = Array.from(content.querySelectorAll("pre > code"));
  return {
    text: texts.join(" "),
    katex: document.querySelectorAll(".katex").length,
    errors: Array.from(document.querySelectorAll(".katex-error, .math-error")).map(
      (e) => e.textContent.slice(0, 80)),
    codeBlocks: blocks.length,
    withoutCopy: blocks.filter((c) => !c.parentElement.querySelector(COPY_BUTTON)).length,
    links: Array.from(document.querySelectorAll("a[href]")).map((a) => a.href),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}
"""

# Raw TeX a reader must never see (inline `$x$` included: prices like "5$" do not match).
RAW_TEX = re.compile(
    r"\$\$|\\\[|\\\]|\\\(|\\\)"
    r"|\\(?:frac|begin|end|sum|prod|label|tag|mathbf|mathrm|partial|left|right|cdot|odot|top)\b"
    r"|\$[^\s$][^$\n]{0,80}?[^\s$\\]\$|\$[^\s$\d]\$"
)
ID_RE = re.compile(r"""\s(?:id|name)=["']([^"']+)["']""")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,}).*?^\s*\1\s*$", re.S | re.M)


def source_has_math(markdown: str) -> bool:
    """Does a chapter's Markdown (outside code) contain TeX?"""
    prose = FENCE_RE.sub("", markdown)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return bool(
        re.search(r"^\s*\$\$\s*$|\$[^\s$][^$\n]*[^\s$]\$|\$[^\s$\d]\$", prose, re.M)
    )


def built_pages(site: Path) -> list[str]:
    """Site-relative URLs of every built page, the landing page first."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    urls = ["" if p == "index.html" else p[: -len("index.html")] for p in pages]
    urls.sort(key=lambda u: (u != "", u))
    return urls + ["404.html"] if (site / "404.html").exists() else urls


def _page_source(site_url: str, docs_dir: Path) -> Path | None:
    if site_url in ("", "404.html"):
        return docs_dir / "index.md" if site_url == "" else None
    candidate = docs_dir / (site_url.rstrip("/") + ".md")
    if candidate.exists():
        return candidate
    candidate = docs_dir / site_url / "index.md"
    return candidate if candidate.exists() else None


def _ids_of(html_text: str) -> set[str]:
    return {urllib.parse.unquote(i) for i in ID_RE.findall(html_text)}


def check_site(
    browser,
    site: Path,
    docs_dir: Path,
    *,
    pages: list[str] | None = None,
    screenshots: Path | None = None,
) -> Report:
    """Load pages of a built site in Chromium and report everything a reader would trip on."""
    report = Report()
    with SiteServer(site) as server, socket.socket() as nowhere:
        origin = server.origin
        # Nothing leaves the machine: every request but those to 127.0.0.1 goes to a proxy
        # on a port bound but never listened on, and fails; each is recorded as it starts.
        # (Intercepting every request with context.route does the same: 19.0 s for the
        # check, against 16.9 s this way, on a 2-core AMD EPYC Zen 5.)
        nowhere.bind(("127.0.0.1", 0))
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            service_workers="block",
            proxy={
                "server": f"http://127.0.0.1:{nowhere.getsockname()[1]}",
                "bypass": "127.0.0.1",
            },
        )

        def remote(request) -> None:
            url = request.url
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("http", "https") or parsed.hostname == "127.0.0.1":
                return
            if ALLOWED_REMOTE.match(url):
                report.allowed_remote.append(url)
            else:
                report.remote_requests.append(url)

        context.on("request", remote)
        page = context.new_page()
        failed: list[str] = []
        js_errors: list[str] = []
        page.on(
            "response",
            lambda r: (
                failed.append(f"{r.status} {r.url}")
                if r.url.startswith(origin) and r.status >= 400
                else None
            ),
        )
        page.on("pageerror", lambda e: js_errors.append(str(e)))
        links: dict[str, set[str]] = {}
        try:
            for site_url in pages if pages is not None else built_pages(site):
                failed.clear()
                js_errors.clear()
                url = f"{origin}/{site_url}"
                name = site_url.rstrip("/") or "index"
                report.pages.append(name)
                response = page.goto(url, wait_until="load")
                if response is None or response.status != 200:
                    report.problems.append(
                        f"{name}: page answered {response and response.status}"
                    )
                    continue
                if page.locator(".md-content pre > code").count():
                    try:
                        page.wait_for_selector(COPY_BUTTON_SELECTOR, timeout=5000)
                    except Exception:
                        pass
                facts = page.evaluate(_PAGE_FACTS_JS)
                raw = RAW_TEX.search(facts["text"])
                if raw:
                    context_text = facts["text"][
                        max(0, raw.start() - 40) : raw.end() + 40
                    ]
                    report.problems.append(
                        f"{name}: raw TeX visible: {' '.join(context_text.split())!r}"
                    )
                for error in facts["errors"]:
                    report.problems.append(f"{name}: math error element: {error!r}")
                source = _page_source(site_url, docs_dir)
                if source is not None and source_has_math(
                    source.read_text(encoding="utf-8")
                ):
                    if facts["katex"] == 0:
                        report.problems.append(
                            f"{name}: the chapter has math but no .katex element"
                        )
                if facts["withoutCopy"]:
                    report.problems.append(
                        f"{name}: {facts['withoutCopy']} of {facts['codeBlocks']} code blocks "
                        "have no copy button"
                    )
                if facts["overflow"] > 1:
                    report.problems.append(
                        f"{name}: the page is {facts['overflow']} px wider than the window"
                    )
                for link in facts["links"]:
                    if link.startswith(origin):
                        base, _, fragment = link.partition("#")
                        links.setdefault(base, set()).add(fragment)
                for bad in failed:
                    report.problems.append(f"{name}: request failed: {bad}")
                for error in js_errors:
                    report.problems.append(f"{name}: JavaScript error: {error}")
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    slug = name.replace("/", "__")
                    # The top of the page (the whole page, a second per long chapter,
                    # with MNIST_MATH_FULL_SCREENSHOTS=1): a picture to look at, not a check.
                    page.screenshot(
                        path=str(screenshots / f"{slug}.png"), full_page=FULL_SCREENSHOTS
                    )
        finally:
            context.close()
        # Every same-origin link: the target answers 200 and holds the anchor.
        for base, fragments in sorted(links.items()):
            report.links_checked += len(fragments)
            try:
                with urllib.request.urlopen(base, timeout=10) as answer:
                    body = answer.read()
                    kind = answer.headers.get_content_type()
            except urllib.error.HTTPError as error:
                report.problems.append(f"broken link: {base} answers {error.code}")
                continue
            wanted = {urllib.parse.unquote(f) for f in fragments if f}
            if not wanted:
                continue
            if kind != "text/html":
                report.problems.append(
                    f"broken link: {base} is {kind} and has no anchors {sorted(wanted)}"
                )
                continue
            ids = _ids_of(body.decode("utf-8", errors="replace"))
            for fragment in sorted(wanted - ids):
                report.problems.append(f"broken anchor: {base}#{fragment}")
    for url in report.remote_requests:
        report.problems.append(f"request leaving the machine: {url}")
    return report


@pytest.mark.browser
def test_every_page_reads_offline(chromium, built_site: Path):
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    started = time.perf_counter()
    report = check_site(chromium, built_site, DOCS, screenshots=SCREENSHOTS)
    seconds = time.perf_counter() - started
    print(
        f"checked {len(report.pages)} pages and {report.links_checked} links in {seconds:.1f} s; "
        f"screenshots in {SCREENSHOTS}"
    )
    assert len(report.pages) >= 10, f"too few pages were checked: {report.pages}"
    assert not report.problems, "\n".join(report.problems)


# --------------------------------------------------------------------------
# Figures whose text must read at the page's width

# (page, image file, the figure function's font size of its smallest label, in points)
READABLE_FIGURES = [("backward", "computational-graph.png", "GRAPH_FONT_SIZE")]


@pytest.mark.browser
@pytest.mark.parametrize("page_name, image, font", READABLE_FIGURES)
def test_figure_labels_are_as_large_as_the_caption(
    chromium, built_site: Path, page_name: str, image: str, font: str
):
    r"""The figure's smallest label, scaled as the page shows the PNG, is at least the size
    of the caption's text: points x DPI / 72 pixels in the PNG, times the shown width over
    the PNG's own width, against the caption's CSS font size."""
    from booktools import figures

    with SiteServer(built_site) as server:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(server.origin)
                else route.abort()
            ),
        )
        page = context.new_page()
        try:
            page.goto(f"{server.origin}/{page_name}/", wait_until="load")
            facts = page.evaluate(
                """(image) => {
                    const img = document.querySelector(`img[src$="${image}"]`);
                    if (!img) return null;
                    const caption = img.closest("figure").querySelector("figcaption");
                    return {
                        shown: img.getBoundingClientRect().width,
                        natural: img.naturalWidth,
                        caption: parseFloat(getComputedStyle(caption).fontSize),
                    };
                }""",
                image,
            )
        finally:
            context.close()
    assert facts is not None, f"{page_name}: no figure shows {image}"
    label = getattr(figures, font) * figures.DPI / 72 * facts["shown"] / facts["natural"]
    assert label >= facts["caption"], (
        f"{page_name}: the labels of {image} are shown {label:.1f} px high, smaller than "
        f"the caption's {facts['caption']:.1f} px: enlarge them or narrow the figure"
    )


# --------------------------------------------------------------------------
# The checker itself: a damaged copy of the book must be reported


@pytest.fixture(scope="module")
def damaged_report(chromium, damaged_site) -> Report:
    site, _result = damaged_site
    return check_site(chromium, site, site.parent / "docs", pages=DAMAGED_PAGES)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("broken formula", "damage-formula: math error element"),
        ("TeX glued to a paragraph", "damage-glued: raw TeX visible"),
        ("script from a CDN", f"request leaving the machine: {CDN_SCRIPT}"),
        ("link to a missing page", "no-such-chapter.md answers 404"),
        ("link to a missing anchor", "damage-links/#no-such-anchor"),
    ],
)
def test_checker_catches(damaged_report: Report, damage: str, expected: str):
    assert damaged_report.about(expected), (
        f"the browser check missed a {damage}; it reported:\n"
        + "\n".join(damaged_report.problems)
    )
