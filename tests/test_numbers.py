"""Measured numbers in the prose agree with the data the tables come from (booktools/numbers.py).

A number written ``<!--n:file.key-->text<!--/n-->`` in a chapter must be entry ``key`` of
``docs/generated/file.json``, character for character. The first test checks every page of
the book; the others show that the check bites and that ``--update`` repairs what it finds.
"""

from pathlib import Path

from booktools import numbers

PAGE = """The engine is <!--n:speed.ratio-->2.65×<!--/n--> faster, in a run
of <!--n:speed.time-->12.5 s<!--/n-->; a plain 3 stays as it is.
"""


def test_every_marked_number_is_its_datum() -> None:
    data = numbers.load_numbers()
    problems = []
    for page in numbers.book_pages():
        problems += numbers.problems_in(page.read_text(encoding="utf-8"), data, page.name)
    assert not problems, "\n".join(str(problem) for problem in problems)


def test_a_changed_datum_is_caught_and_updated(tmp_path: Path) -> None:
    numbers.write_numbers("speed", {"ratio": "2.65×", "time": "12.5 s"}, tmp_path)
    data = numbers.load_numbers(tmp_path)
    assert numbers.problems_in(PAGE, data) == []
    numbers.write_numbers("speed", {"ratio": "2.71×", "time": "12.5 s"}, tmp_path)
    data = numbers.load_numbers(tmp_path)
    problems = numbers.problems_in(PAGE, data, "page.md")
    assert [(p.key, p.shown, p.expected, p.line) for p in problems] == [
        ("speed.ratio", "2.65×", "2.71×", 1)
    ]
    assert "2.71×" in str(problems[0]) and "page.md:1" in str(problems[0])
    fixed = numbers.updated(PAGE, data)
    assert "<!--n:speed.ratio-->2.71×<!--/n-->" in fixed
    assert numbers.problems_in(fixed, data) == []


def test_an_unknown_datum_is_caught(tmp_path: Path) -> None:
    numbers.write_numbers("speed", {"ratio": "2.65×"}, tmp_path)
    problems = numbers.problems_in(PAGE, numbers.load_numbers(tmp_path))
    assert [(p.key, p.expected) for p in problems] == [("speed.time", None)]
    assert "not in docs/generated/" in str(problems[0])


def test_notebooks_show_the_number_without_the_marker() -> None:
    assert numbers.unmarked(PAGE).startswith(
        "The engine is 2.65× faster, in a run\nof 12.5 s;"
    )
