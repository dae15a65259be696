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
