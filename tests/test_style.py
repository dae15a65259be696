"""One linter and formatter configuration (pyproject.toml, [tool.ruff]), applied through the
chapters: code on the page is formatted at 90 characters and the package lints clean.

* `python -m booktools.format_chapters --check`: every Python block of docs/*.md is as `ruff format`
  writes it (the chapters are the source; the tangled package follows them).
* `ruff check` over the tangled package, the tests, the scripts and the build hooks.
* `ruff format --check` over the files that are not tangled.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLAIN = ["tests", "scripts", "benchmarks", "docs/hooks", "docs/examples", "booktools"]


def ruff() -> str:
    beside_python = Path(sys.executable).with_name("ruff")
    found = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail(
            "ruff is missing: pip install -e '.[dev]' (the README's test command)"
        )
    return found


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_chapters_code_is_formatted() -> None:
    result = run(sys.executable, "-m", "booktools.format_chapters", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing() -> None:
    result = run(ruff(), "check", "mnist_math", *PLAIN)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_files_are_formatted() -> None:
    result = run(ruff(), "format", "--check", *PLAIN)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_chapter_formatter_keeps_references(tmp_path: Path) -> None:
    from booktools.format_chapters import format_code

    code = "def f(x):\n    y=x+1\n    <<chapter-piece>>\n    return  y"
    formatted = format_code(code, "example.py")
    assert formatted == "def f(x):\n    y = x + 1\n    <<chapter-piece>>\n    return y"
