"""The site harness shared by the browser tests (tests/test_site.py, tests/test_play.py).

Building the book with ``mkdocs build``, serving a built site on 127.0.0.1, and the flags of
Debian's headless Chromium. The session fixtures ``built_site`` and ``chromium`` that use
them live in tests/conftest.py.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _require_build_inputs(root: Path) -> None:
    if not (root / "node_modules" / "katex" / "dist" / "katex.min.css").exists():
        pytest.fail(
            "KaTeX is missing: run `npm ci` in the repository root (package-lock.json pins it); "
            "the book typesets its math at build time."
        )
    if shutil.which("node") is None:
        pytest.fail(
            "Node.js is missing: the build hook runs KaTeX with `node` (apt-get install nodejs)."
        )
    if not (root / "mnist_math" / "__init__.py").exists():
        pytest.fail(
            "The package is not tangled: run `entangled tangle` first (mkdocstrings reads it)."
        )


def mkdocs_build(
    config_dir: Path, site_dir: Path, *, strict: bool = True
) -> subprocess.CompletedProcess:
    """Run ``mkdocs build`` (never ``-q``: quiet mode hides the warnings strict mode counts)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("MNIST_MATH_MKDOCS_COMMAND", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict" if strict else "--no-strict",
            "-f",
            str(config_dir / "mkdocs.yml"),
            "-d",
            str(site_dir),
        ],
        cwd=config_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def build_site(site: Path) -> tuple[Path, float, subprocess.CompletedProcess]:
    """Build the repository's book into ``site`` with --strict: ``(site, seconds, result)``."""
    started = time.perf_counter()
    result = mkdocs_build(ROOT, site)
    return site, time.perf_counter() - started, result


def copy_book(target: Path) -> Path:
    """Copy what the build reads (config, chapters, hooks, package, registry, models) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(
        ROOT / "docs", target / "docs", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "mnist_math",
        target / "mnist_math",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(  # the build hook imports the book's tooling
        ROOT / "booktools",
        target / "booktools",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    if (ROOT / "models").is_dir():
        shutil.copytree(
            ROOT / "models", target / "models"
        )  # the "Draw a digit" page's networks
    (target / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return target


# --------------------------------------------------------------------------
# Serving a built site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class SiteServer:
    """Serve a built site on 127.0.0.1 from a daemon thread."""

    def __init__(self, site: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(site))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------
# One damaged copy of the book, built once, for every test that needs one


BROKEN_FORMULA = "\n\nA damaged formula:\n\n$$\n\\frac{1}{\n$$\n"
GLUED_TEX = "\n\nA paragraph glued to its formula\n$$\n\\frac{a}{b}\n$$\nand after.\n"
DEAD_LINKS = (
    "\n\n[a chapter that does not exist](no-such-chapter.md) and "
    '<a href="#no-such-anchor">an anchor that does not exist</a>.\n'
)
CDN_SCRIPT = "https://cdn.jsdelivr.net/npm/katex@0.16.9/dist/katex.min.js"
DAMAGED_PAGES = ["damage-formula/", "damage-glued/", "damage-links/"]
WIDE_MODEL_META = {
    "name": "wide",
    "title": "A wide untrained network",
    "order": 99,  # after the committed networks
    "command": "tests/test_play.py",
    "trainer": "init_params(784, 40, 10, seed=1, scheme='he')",
    "test_accuracy": 0.1,
}


def build_damaged_copy(target: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """Copy the book into ``target``, damage it, and build it with ``--strict``.

    The damage: a formula KaTeX cannot typeset, TeX glued to a paragraph, a link to a
    missing page and one to a missing anchor, a script from a CDN, and one more network
    on the play page (an untrained 784-40-10 network saved as safetensors, which the
    page's exporter reads too). ``mkdocs build --strict`` writes every page and then exits
    non-zero because of the warnings, so one build serves the strict-mode test, the
    browser checker's tests and the play page's second-network test.
    """
    from mnist_math import init_params, save_params

    book = copy_book(target)
    docs = book / "docs"
    (docs / "damage-formula.md").write_text(
        "# Broken formula" + BROKEN_FORMULA, encoding="utf-8"
    )
    (docs / "damage-glued.md").write_text("# Glued TeX" + GLUED_TEX, encoding="utf-8")
    (docs / "damage-links.md").write_text("# Dead links" + DEAD_LINKS, encoding="utf-8")
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + f"\nextra_javascript:\n  - {CDN_SCRIPT}\n",
        encoding="utf-8",
    )
    save_params(
        book / "models" / "wide.safetensors",
        init_params(784, 40, 10, seed=1, scheme="he"),
        WIDE_MODEL_META,
    )
    site = book / "site"
    return site, mkdocs_build(book, site, strict=True)
