"""Every chapter as a notebook: built from the chapter, valid, and run top to bottom by a real
Jupyter kernel without an error (chapter 13, "Every example in the book runs").

The notebooks are built by booktools/notebooks.py, the same code the site build uses to
write ``notebooks/*.ipynb`` next to the pages. Each is executed from the repository root with
nbclient and the ``python3`` kernel of ipykernel, as a reader would run it after downloading
it (the first cell finds ``mnist_math`` installed and installs nothing).
"""

import json
import re
from pathlib import Path

import pytest

from booktools.blocks import nav_pages, runnable_blocks
from booktools.notebooks import chapter_notebook, has_notebook, repo_url_of

ROOT = Path(__file__).resolve().parents[1]


nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

CHAPTERS = [page for page in nav_pages() if has_notebook(page)]


def build(page: Path):
    """The chapter's notebook, read back through nbformat as Jupyter reads the file."""
    text = json.dumps(chapter_notebook(page, repo_url=repo_url_of()))
    return nbformat.reads(text, as_version=4)


@pytest.mark.parametrize("page", CHAPTERS, ids=[page.stem for page in CHAPTERS])
def test_notebook_is_valid_and_holds_every_block(page: Path) -> None:
    notebook = build(page)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "pip" in code[0].source and 'find_spec("mnist_math")' in code[0].source, (
        "the first code cell installs the package when it is missing"
    )
    blocks = runnable_blocks(page)
    assert [cell.source.strip() for cell in code[1:]] == [
        block.code.strip() for block in blocks
    ]
    for cell, block in zip(code[1:], blocks):
        shown = "".join(output.text for output in cell.outputs)
        assert shown.strip() == (block.output or "").strip(), (
            f"{block.where}: output cell"
        )
    markdown = "".join(
        cell.source for cell in notebook.cells if cell.cell_type == "markdown"
    )
    markdown = re.sub(
        r"^\s*(>\s*)?```.*?^\s*(>\s*)?```\s*$", "", markdown, flags=re.S | re.M
    )
    assert "\\label{" not in markdown, "equation labels are removed (Jupyter's MathJax)"
    assert ".md)" not in markdown and ".md#" not in markdown, "links point at the site"
    assert "!!! " not in markdown and '=== "' not in markdown, (
        "admonitions and tabs rewritten"
    )


def execute(page: Path) -> tuple[str | None, int, int]:
    """Run the chapter's notebook in a fresh kernel: ``(failure or None, cells, cells run)``.

    Runs in a background worker process (each notebook in its own kernel anyway)."""
    notebook = build(page)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        return f"{page.name}: a cell failed in the notebook:\n{str(error)[-3000:]}", 0, 0
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return None, len(code), sum(1 for cell in code if cell.execution_count)


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The notebooks this session's tests ask for, each run in the background from the
    session's start (tests/conftest.py): a kernel's start-up is most of a notebook's time."""
    pages = {
        item.callspec.params["page"]
        for item in items
        if item.originalname == "test_notebook_runs_top_to_bottom"
    }
    return [(3, f"notebook {page.stem}", execute, (page,)) for page in sorted(pages)]


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS, ids=[page.stem for page in CHAPTERS])
def test_notebook_runs_top_to_bottom(page: Path, background) -> None:
    failure, cells, ran = background.result(f"notebook {page.stem}")
    if failure:
        pytest.fail(failure)
    assert ran == cells > 0, f"{ran} of {cells} code cells ran"
