"""Every chapter as a Jupyter notebook, built from the chapter's Markdown.

The prose becomes Markdown cells, every runnable ```` ```python ```` block (booktools/blocks.py
decides which) a code cell, with the output the page shows beneath it as the cell's output.
Entangled's source blocks stay in the Markdown, shown and not run, as on the site. A first
code cell installs the book's package when it is missing. The build hook (book.py) writes one
notebook per chapter into the site and links it from the chapter; tests/test_notebooks.py
executes each of them with a real Jupyter kernel.

Markdown that Jupyter does not know is rewritten: admonitions become block quotes with a bold
title, content tabs a bold label, ``\\label{...}`` leaves the math, links to other chapters
point at their pages on the site, and mkdocs-autorefs links keep only their text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from booktools.blocks import ROOT, fences, runnable_blocks
from booktools.numbers import unmarked

ADMONITION_RE = re.compile(
    r'^(?P<indent>\s*)(?:!!!|\?\?\?\+?)\s+(?P<kind>[\w-]+)(?:\s+"(?P<title>[^"]*)")?\s*$'
)
TAB_RE = re.compile(r'^(?P<indent>\s*)===\s+"(?P<title>[^"]*)"\s*$')
LABEL_RE = re.compile(r"\s*\\label\{[^}]*\}")
CHAPTER_LINK_RE = re.compile(r"\]\((?!https?:|#)([\w./-]+?)\.md(#[^)]*)?\)")
AUTOREF_RE = re.compile(r"\[([^\]]+)\]\[[\w.:-]+\]")
HEADING_ATTR_RE = re.compile(r"^(#+ .*?)\s*\{[^}]*\}\s*$")
IMAGE_RE = re.compile(r"\]\((img/[^)]+)\)")
HTML_LINE_RE = re.compile(r"^\s*</?(figure|figcaption)\b[^>]*>\s*$")
FIGCAPTION_RE = re.compile(r"<figcaption[^>]*>(.*)</figcaption>")

# The package is not on PyPI (`pip install mnist-math` would find nothing, or someone
# else's package), so the notebook installs it from the book's repository, by name and
# address, and says what to do when that is not possible (no git, no network).
INSTALL = """\
# The book's package, mnist_math: installed from the book's repository when it is missing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("mnist_math") is None:
    requirement = "mnist-math @ git+{repo}"
    if subprocess.call([sys.executable, "-m", "pip", "install", requirement]) != 0:
        raise RuntimeError(
            "could not install mnist_math from {repo}: clone the repository, run "
            "`pip install -e .` in it, and start Jupyter from its root folder"
        )
"""


def _prose(line: str) -> str:
    """Rewrite one line of prose for Jupyter's Markdown."""
    line = unmarked(LABEL_RE.sub("", line))
    line = CHAPTER_LINK_RE.sub(lambda m: f"](../{m.group(1)}/{m.group(2) or ''})", line)
    line = AUTOREF_RE.sub(r"\1", line)
    line = IMAGE_RE.sub(r"](../\1)", line)
    heading = HEADING_ATTR_RE.match(line)
    if heading:
        line = heading.group(1)
    caption = FIGCAPTION_RE.search(line)
    if caption:
        return f"*{caption.group(1).strip()}*"
    if HTML_LINE_RE.match(line):
        return ""
    return line


def _markdown_cell(lines: list[str], number: int) -> dict:
    text = "\n".join(lines).strip("\n")
    return {
        "cell_type": "markdown",
        "id": f"cell-{number}",
        "metadata": {},
        "source": text.splitlines(keepends=True),
    }


def _code_cell(code: str, output: str | None, number: int) -> dict:
    outputs = []
    if output is not None:
        outputs.append(
            {
                "output_type": "stream",
                "name": "stdout",
                "text": (output + "\n").splitlines(keepends=True),
            }
        )
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"cell-{number}",
        "metadata": {},
        "outputs": outputs,
        "source": code.strip("\n").splitlines(keepends=True),
    }


def chapter_notebook(path: Path, *, repo_url: str, page_url: str | None = None) -> dict:
    """The notebook of one chapter, as the JSON structure of nbformat 4.5.

    Args:
        path: The chapter's Markdown file.
        repo_url: The book's repository (the install cell installs the package from it).
        page_url: The chapter's address on the site, named in the first cell, if known.

    Returns:
        The notebook: a note on where it comes from, the install cell, then the chapter.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    python_blocks = {block.line: block for block in runnable_blocks(path)}
    other_fences = {
        fence.line: fence for fence in fences(path) if fence.line not in python_blocks
    }
    cells: list[dict] = []
    markdown: list[str] = []

    def flush() -> None:
        if any(line.strip() for line in markdown):
            cells.append(_markdown_cell(markdown, len(cells)))
        markdown.clear()

    title = lines[0] if lines and lines[0].startswith("# ") else f"# {path.stem}"
    origin = f" ({page_url})" if page_url else ""
    cells.append(
        _markdown_cell(
            [
                _prose(title),
                "",
                f"This notebook is a chapter of the book *mnist-math*{origin}, generated from "
                "the chapter's source: the prose, and every code block you are meant to run, "
                "in order. The first cell installs the book's package if it is missing.",
            ],
            0,
        )
    )
    cells.append(_code_cell(INSTALL.format(repo=repo_url.rstrip("/")), None, 1))
    container: str | None = (
        None  # "quote" inside an admonition, "tab" inside a content tab
    )
    index = 1 if lines and lines[0].startswith("# ") else 0
    while index < len(lines):
        number = index + 1
        line = lines[index]
        if container and not _still_inside(lines, index):
            container = None
        if number in python_blocks:
            flush()
            block = python_blocks[number]
            cells.append(_code_cell(block.code, block.output, len(cells)))
            index = block.output_end if block.output_end is not None else block.end
            continue
        if number in other_fences:
            fence = other_fences[number]
            for raw in lines[fence.line - 1 : fence.end]:
                markdown.append(_in_container(raw, container))
            index = fence.end
            continue
        admonition = ADMONITION_RE.match(line)
        tab = TAB_RE.match(line)
        if LABEL_RE.fullmatch(line):
            pass  # a line holding only an equation's label: Jupyter's math has no use for it
        elif admonition:
            label = admonition.group("title") or admonition.group("kind").capitalize()
            markdown += ["", f"> **{_prose(label)}**", ">"]
            container = "quote"
        elif tab:
            markdown += ["", f"**{tab.group('title')}**", ""]
            container = "tab"
        else:
            markdown.append(_in_container(_prose(line), container))
        index += 1
    flush()
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _still_inside(lines: list[str], index: int) -> bool:
    """Does line ``index`` belong to the admonition or tab above it (indented, or blank
    with the next non-blank line indented)?"""
    for line in lines[index:]:
        if line.strip():
            return line.startswith("    ")
    return False


def _in_container(line: str, container: str | None) -> str:
    if container is None:
        return line
    inner = line[4:] if line.startswith("    ") else line.lstrip()
    return f"> {inner}".rstrip() if container == "quote" else inner


def notebook_name(path: Path) -> str:
    """The file name of a chapter's notebook: ``forward.md`` gives ``forward.ipynb``."""
    return f"{path.stem}.ipynb"


def has_notebook(path: Path) -> bool:
    """Chapters with at least one runnable block get a notebook."""
    return bool(runnable_blocks(path))


def write_notebook(
    path: Path, target: Path, *, repo_url: str, page_url: str | None = None
) -> Path:
    """Write the notebook of chapter ``path`` to ``target`` (a folder); return its path."""
    target.mkdir(parents=True, exist_ok=True)
    notebook = chapter_notebook(path, repo_url=repo_url, page_url=page_url)
    out = target / notebook_name(path)
    out.write_text(
        json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return out


def repo_url_of(config_path: Path = ROOT / "mkdocs.yml") -> str:
    """The ``repo_url`` of mkdocs.yml."""
    match = re.search(
        r"^repo_url:\s*(\S+)\s*$", config_path.read_text(encoding="utf-8"), re.M
    )
    return match.group(1) if match else "https://github.com/mnist-math/mnist-math"
