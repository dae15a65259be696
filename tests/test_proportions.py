"""Chapters teach, appendices engineer (booktools/proportions.py, issue 22).

No numbered chapter has more than 35% of its lines in tangled code blocks, and the three
chapters that had grown most (9, 11 and 12) stay at least 40% shorter than they were.
"""

from pathlib import Path

from booktools import proportions


def test_every_chapter_is_within_its_limits() -> None:
    problems = proportions.problems(proportions.pages())
    assert not problems, "\n".join(problems)


def test_the_measure_counts_tangled_blocks_only(tmp_path: Path) -> None:
    page = tmp_path / "fast.md"
    page.write_text(
        "# 9. A chapter\n\n"
        "``` {.python file=mnist_math/x.py}\nx = 1\n```\n\n"
        "``` {.python #fragment}\ny = 2\n```\n\n"
        "```python\nprint(3)\n```\n",
        encoding="utf-8",
    )
    measured = proportions.measure(page, "9. A chapter")
    assert (measured.lines, measured.tangled) == (13, 6), measured
    assert measured.numbered
    problems = proportions.problems([measured])
    assert problems == [
        "fast.md: 46% of its 13 lines are tangled code (at most 35%): move the machinery "
        "to an appendix"
    ], problems
