"""Every python block of the book runs, pasted in order into one session, and prints what the
page shows beneath it (booktools/run_book.py; chapter 13, "Every example in the book runs").

The quick tests check the checker itself on a small page written here: a block whose output
differs from the one shown, a block that prints without showing it, and a block that raises
must each be reported with the page and line, and round-off-sized numbers must not matter.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from booktools.blocks import nav_pages, normalise, runnable_blocks
from booktools.run_book import run_blocks

ROOT = Path(__file__).resolve().parents[1]


def run_book() -> subprocess.CompletedProcess:
    """``python -m booktools.run_book`` (``make book``) from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "booktools.run_book"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The pasted book runs in the background from the session's start (tests/conftest.py)."""
    wanted = any(
        item.originalname == "test_every_block_runs_pasted_in_nav_order" for item in items
    )
    return [(2, "book", run_book, ())] if wanted else []


@pytest.mark.slow
def test_every_block_runs_pasted_in_nav_order(background) -> None:
    result = background.result("book")
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(summary)
    assert result.returncode == 0, (
        "pasting the book's blocks in nav order fails:\n"
        + result.stdout[result.stdout.find("\n===") :][-6000:]
        + result.stderr[-2000:]
    )


PAGE = """
# A page

```python
print("right")
```

```text
right
```

Prose between.

```python
print("wrong")
```

```text
what the page claims
```

```python
print("not shown")
```

```python
undefined_name + 1
```

=== "A tab"

    ```python
    print(f"difference {3.6e-15:.1e}")
    ```

    ```text
    difference 4.4e-16
    ```

``` {.python #not-an-example}
raise RuntimeError("Entangled source blocks are not run")
```
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(PAGE), encoding="utf-8")
    return path


def test_blocks_and_their_outputs_are_found(page: Path) -> None:
    blocks = runnable_blocks(page)
    assert [block.code.strip() for block in blocks] == [
        'print("right")',
        'print("wrong")',
        'print("not shown")',
        "undefined_name + 1",
        'print(f"difference {3.6e-15:.1e}")',
    ], "python blocks only, Entangled source blocks excluded, tabs included"
    assert [block.output for block in blocks] == [
        "right",
        "what the page claims",
        None,
        None,
        "difference 4.4e-16",
    ]


def test_the_checker_reports_each_problem_with_page_and_line(page: Path) -> None:
    failures, count = run_blocks(runnable_blocks(page))
    assert count == 5
    problems = {failure.where.rsplit(":", 1)[1]: failure.problem for failure in failures}
    assert set(problems) == {"14", "22", "26"}, problems
    assert "prints something else than the output shown" in problems["14"]
    assert "prints but the page shows no ```text output" in problems["22"]
    assert "NameError" in problems["26"] and "page.md" in problems["26"]


def test_normalise_ignores_only_round_off_and_trailing_space() -> None:
    assert normalise("max 3.6e-15  \n\n") == normalise("max 4.4e-16")
    assert normalise("error 2.0e-05") != normalise("error 3.0e-05")
    assert normalise("loss 0.5059") != normalise("loss 0.5060")
    assert normalise("1e-12 and 1e-08") == "<tiny> and 1e-08"
    # A float64's full repr is compared to 12 significant digits, nothing shorter is touched.
    assert normalise("actual 77.3934875988451") == normalise("actual 77.39348759884506")
    assert normalise("actual 77.3934875988451") != normalise("actual 77.3934875989451")
    assert normalise("loss 0.50590000001") != normalise("loss 0.50590000002")
    assert (
        normalise("torch 2.13.0, 1.2345678901234e-05")
        == "torch 2.13.0, 1.2345678901234e-05"
    )


def test_the_nav_is_read_in_order() -> None:
    pages = [page.name for page in nav_pages()]
    assert pages[:3] == ["index.md", "notation.md", "data.md"], pages
    assert all(page.exists() for page in nav_pages())
