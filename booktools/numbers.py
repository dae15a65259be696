"""Numbers in the prose that come from a run, tied to the data that the tables come from.

A sentence that states a measured figure (a time, a speed-up, an accuracy, a count) writes
the figure as it reads, wrapped in a marker that names where it comes from:

    the fast engine is <!--n:speed.fast_vs_seed-->2.65×<!--/n--> faster than the seed's code

The comments are invisible on the site and in the notebooks; a reader of the Markdown sees
the number. The key ``speed.fast_vs_seed`` is entry ``fast_vs_seed`` of
``docs/generated/speed.json``, which the script that measured it writes beside the tables it
writes (``docs/generated/*.md``), from the same values, already formatted as the prose shows
them. So a sentence cannot drift from its table:

- the build hook (docs/hooks/book.py) warns, which fails ``mkdocs build --strict``, when a
  marked number differs from its datum or names a datum that does not exist;
- ``tests/test_numbers.py`` fails in the same cases;
- ``python -m booktools.numbers --update`` rewrites every marked number from the data after
  the scripts were rerun (review the diff: the sentence around a number may need new words).

    python -m booktools.numbers              # check every page and the README; exit 1 on a mismatch
    python -m booktools.numbers --update     # rewrite the marked numbers from the data
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from booktools.blocks import DOCS

GENERATED = DOCS / "generated"
MARKER_RE = re.compile(
    r"<!--n:(?P<key>[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+)-->(?P<text>.*?)<!--/n-->"
)


@dataclass(frozen=True)
class Problem:
    """A marked number that does not match its datum."""

    page: str
    line: int
    key: str
    shown: str
    expected: str | None  # None: no such datum

    def __str__(self) -> str:
        if self.key == "(line start)":
            return (
                f"{self.page}:{self.line}: a marked number starts the line, which ends the "
                "paragraph in Markdown: rewrap so that a word comes first"
            )
        if self.expected is None:
            return f"{self.page}:{self.line}: {self.key} is not in docs/generated/ (shown: {self.shown!r})"
        return (
            f"{self.page}:{self.line}: {self.key} is {self.expected!r} in docs/generated/, "
            f"the prose says {self.shown!r} (python -m booktools.numbers --update)"
        )


def load_numbers(folder: Path = GENERATED) -> dict[str, str]:
    """Every datum of ``folder/*.json`` as ``{"file.key": "text"}``.

    Raises:
        ValueError: a file is not a JSON object of strings.
    """
    numbers: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
            isinstance(v, str) for v in data.values()
        ):
            raise ValueError(f"{path}: expected a JSON object of strings")
        for key, text in data.items():
            numbers[f"{path.stem}.{key}"] = text
    return numbers


def write_numbers(name: str, values: dict[str, str], folder: Path = GENERATED) -> Path:
    """Write ``folder/name.json`` (the scripts that measure call this beside their tables)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(
        json.dumps(values, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def write_generated(
    name: str, tables: dict[str, str], values: dict[str, str], folder: Path = GENERATED
) -> list[Path]:
    """Write each of ``tables`` (file name: Markdown) into ``folder`` and ``values`` as
    ``folder/name.json``: what a benchmark publishes. Returns the paths, the JSON last."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file, text in tables.items():
        (folder / file).write_text(text, encoding="utf-8")
        paths.append(folder / file)
    return [*paths, write_numbers(name, values, folder)]


LINE_START_RE = re.compile(r"^[ \t]*<!--n:", re.M)


def problems_in(
    text: str, numbers: dict[str, str], page: str = "<page>"
) -> list[Problem]:
    """The marked numbers of ``text`` that differ from ``numbers`` or are unknown, and those
    that start a line: Markdown reads a line that starts with ``<!--`` as the start of an
    HTML block, which ends the paragraph there (rewrap the line so that a word comes
    first)."""
    found = []
    for match in LINE_START_RE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        shown = text[match.start() :].split("\n")[0]
        found.append(Problem(page, line, "(line start)", shown, ""))
    for match in MARKER_RE.finditer(text):
        key, shown = match["key"], match["text"]
        expected = numbers.get(key)
        if expected != shown:
            line = text.count("\n", 0, match.start()) + 1
            found.append(Problem(page, line, key, shown, expected))
    return found


def updated(text: str, numbers: dict[str, str]) -> str:
    """``text`` with every marked number rewritten from ``numbers`` (unknown keys kept)."""

    def replace(match: re.Match) -> str:
        key = match["key"]
        text = numbers.get(key, match["text"])
        return f"<!--n:{key}-->{text}<!--/n-->"

    return MARKER_RE.sub(replace, text)


def unmarked(text: str) -> str:
    """``text`` without the markers, the numbers kept (for the notebooks)."""
    return MARKER_RE.sub(lambda match: match["text"], text)


def book_pages() -> list[Path]:
    """Every page whose prose may quote a measured number: the chapters and the README."""
    return [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m booktools.numbers",
        description="Check (or rewrite) the prose's measured numbers against docs/generated/.",
    )
    parser.add_argument(
        "--update", action="store_true", help="rewrite them from the data"
    )
    parser.add_argument("pages", nargs="*", type=Path, help="default: every docs/*.md")
    args = parser.parse_args(argv)
    numbers = load_numbers()
    pages = args.pages or book_pages()
    problems: list[Problem] = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if args.update:
            new = updated(text, numbers)
            if new != text:
                page.write_text(new, encoding="utf-8")
                print(f"updated {page}")
            text = new
        problems += problems_in(text, numbers, str(page))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
