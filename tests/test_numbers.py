"""Measured numbers in the prose agree with the data the tables come from (booktools/numbers.py).

A number written ``<!--n:file.key-->text<!--/n-->`` in a chapter must be entry ``key`` of
``docs/generated/file.json``, character for character. The first test checks every page of
the book; the others show that the check bites and that ``--update`` repairs what it finds.
"""

import re
from pathlib import Path

from booktools import numbers
from booktools.blocks import fences, nav_pages

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


# --------------------------------------------------------------------------------------
# Numbers quoted from a block's output
#
# A paragraph that follows a block's printed output often repeats its figures ("the initial
# loss, 2.84, ..."). The block runner checks the printed output against a fresh run; this
# checks the sentence against the printed output: every decimal number and percentage of
# such a paragraph is a number printed above it on the page, as printed or rounded (a
# percentage may quote a fraction). Numbers that do not come from a run are listed here.

NOT_FROM_A_RUN = {
    # a worked example's own probabilities, log 10, the smallest float64 and its cost,
    # an exercise's 0.9 and its answer
    "loss.md": {"0.2", "0.1", "2.303", "2.2", "0.9", "0.105"},
    "training.md": {"2.30"},  # log 10
    "going-further.md": {"2.30"},  # log 10
    "fast.md": {"1.7%"},  # 1,024 of 60,000 examples
    # learning rates, the seed's headline and the test's bounds
    "pytorch.md": {"0.01", "0.1", "85%", "83%", "88%"},
    # the test's bounds, and the figures tests/test_handwriting.py checks against its run
    "handwriting.md": {"0.98", "95%", "0.9955", "98.5%"},
}

NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?%|\d[\d,]*\.\d+)")
PRINTED = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _printed_values(text: str) -> list[tuple[float, bool]]:
    """Every number of a block's output: (absolute value, printed as a percentage)."""
    values = []
    for match in PRINTED.finditer(text):
        token = match.group(0).replace(",", "")
        try:
            values.append((float(token.rstrip("%")), token.endswith("%")))
        except ValueError:
            continue
    return values


def _is_quoted(token: str, printed: list[tuple[float, bool]]) -> bool:
    """True when ``token`` is one of the printed numbers, as printed or rounded."""
    percent = token.endswith("%")
    digits = token.rstrip("%").replace(",", "")
    decimals = len(digits.partition(".")[2])
    value = float(digits)
    for number, printed_percent in printed:
        scale = 100 if percent and not printed_percent else 1
        if not percent and printed_percent:
            scale = 0.01
        if round(number * scale, decimals) == value:
            return True
    return False


def unquoted_numbers(path: Path, allowed: set[str] = frozenset()) -> list[str]:
    """The numbers of the paragraphs after printed outputs on a page that no printed
    output above them holds (numbers in ``<!--n:...-->`` markers are checked above)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = fences(path)
    problems = []
    printed: list[tuple[float, bool]] = []  # every text block's numbers so far
    for index, fence in enumerate(found):
        if fence.language == "text":
            printed += _printed_values(fence.body)
        if (
            fence.language != "text"
            or index == 0
            or found[index - 1].language != "python"
        ):
            continue
        stop = found[index + 1].line - 1 if index + 1 < len(found) else len(lines)
        for number in range(fence.end, stop):
            line = lines[number]
            if line.lstrip().startswith("#"):
                break
            prose = numbers.MARKER_RE.sub("", line)
            for match in NUMBER.finditer(prose):
                token = match.group(0)
                if token not in allowed and not _is_quoted(token, printed):
                    problems.append(f"{path.name}:{number + 1}: {token} ({line.strip()})")
    return problems


def test_numbers_after_an_output_are_the_outputs() -> None:
    problems = []
    for page in nav_pages():
        problems += unquoted_numbers(page, NOT_FROM_A_RUN.get(page.name, set()))
    assert not problems, (
        "a sentence quotes a number that no output above it prints:\n"
        + "\n".join(problems)
    )


def test_a_misquoted_output_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    block = '```python\nprint("loss 2.8408, accuracy 0.1477")\n```\n\n'
    output = "```text\nloss 2.8408, accuracy 0.1477\n```\n\n"
    page.write_text(
        block + output + "The loss, 2.84, and 14.77% of the images.\n", encoding="utf-8"
    )
    assert unquoted_numbers(page) == []
    page.write_text(
        block + output + "The loss, 2.85, and 14.8% of the images; 3.1.\n",
        encoding="utf-8",
    )
    assert [problem.split(" (")[0] for problem in unquoted_numbers(page)] == [
        "page.md:9: 2.85",
        "page.md:9: 3.1",
    ]
    assert unquoted_numbers(page, {"2.85", "3.1"}) == []


def test_a_benchmark_writes_its_tables_and_its_numbers(tmp_path: Path) -> None:
    paths = numbers.write_generated(
        "speed",
        {"speed.md": "| a |\n", "speed-one-core.md": "| b |\n"},
        {"r": "2×"},
        tmp_path,
    )
    assert [path.name for path in paths] == [
        "speed.md",
        "speed-one-core.md",
        "speed.json",
    ]
    assert (tmp_path / "speed-one-core.md").read_text(encoding="utf-8") == "| b |\n"
    assert numbers.load_numbers(tmp_path) == {"speed.r": "2×"}
