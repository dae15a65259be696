"""The runnable blocks of the book: which they are, in which order, and what they print.

Shared by the test suite (booktools/run_book.py runs every block, the paste test) and the
build hook (the notebooks of each chapter). The rules, stated once:

* A block is *runnable* when its fence's info string starts with the word ``python``: a
  plain ```` ```python ```` block, at any indentation (inside a content tab ``=== "NumPy"``
  or a collapsed solution ``??? success``). Entangled's source blocks (```` ``` {.python
  file=...} ````, ```` ``` {.python #name} ````) are the package, not examples: they are not
  runnable, and neither are ``bash``, ``console`` or ``text`` blocks.
* A runnable block's *shown output* is the ```` ```text ```` block that follows it with only
  blank lines in between. A block that prints must show its output; a block that shows an
  output must print exactly that, up to ``normalise``.
* The pages run in the order of the site's navigation (``mkdocs.yml``), all in one Python
  session, as a reader pasting every block in turn would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

FENCE_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$"
)
# Numbers in scientific notation, as Python and NumPy print them: 3.6e-15, -1.2e-10, 1e-12.
SCIENTIFIC_RE = re.compile(r"[-+]?\d+(?:\.\d+)?e[-+]?\d+")
TINY = 1e-9
# Decimal numbers written with all the digits of a float64 (repr): 77.39348759884506.
LONG_DECIMAL_RE = re.compile(r"(?<![\w.])[-+]?\d+\.\d+(?![\w.])")
SIGNIFICANT = 12


@dataclass(frozen=True)
class Fence:
    """One fenced code block of a page."""

    page: str  # relative to the repository root, e.g. "docs/forward.md"
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    info: str  # the info string: "python", "text", "{.python #name}", ...
    body: str  # the content, with the fence's indentation removed

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""


@dataclass(frozen=True)
class Block:
    """A runnable block and the output shown beneath it (``None``: no output shown)."""

    page: str
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    indent: str  # the fence's indentation
    code: str
    output: str | None
    output_line: int | None  # 1-based lines of the output block's fences
    output_end: int | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def fences(path: Path) -> list[Fence]:
    """Every fenced code block of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    resolved = path.resolve()
    page = (
        resolved.relative_to(ROOT).as_posix()
        if resolved.is_relative_to(ROOT)
        else str(path)
    )
    found: list[Fence] = []
    i = 0
    while i < len(lines):
        opening = FENCE_RE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent = len(opening.group("indent"))
        marker = opening.group("fence")
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped and set(stripped) == {marker[0]} and len(stripped) >= len(marker):
                break
            j += 1
        body = "\n".join(
            line[indent:] if line[:indent].strip() == "" else line.lstrip()
            for line in lines[i + 1 : j]
        )
        found.append(Fence(page, i + 1, j + 1, opening.group("info"), body))
        i = j + 1
    return found


def runnable_blocks(path: Path) -> list[Block]:
    """The runnable blocks of a page, each with the output shown beneath it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    all_fences = fences(path)
    blocks = []
    for index, fence in enumerate(all_fences):
        if fence.language != "python":
            continue
        output = None
        output_line = None
        output_end = None
        if index + 1 < len(all_fences):
            following = all_fences[index + 1]
            between = lines[fence.end : following.line - 1]
            if following.language == "text" and all(not line.strip() for line in between):
                output = following.body
                output_line = following.line
                output_end = following.end
        indent = re.match(r"[ \t]*", lines[fence.line - 1]).group(0)
        blocks.append(
            Block(
                fence.page,
                fence.line,
                fence.end,
                indent,
                fence.body,
                output,
                output_line,
                output_end,
            )
        )
    return blocks


def nav_pages(config: Path = ROOT / "mkdocs.yml") -> list[Path]:
    """The Markdown pages of the site's navigation, in order."""
    import yaml

    nav = yaml.safe_load(config.read_text(encoding="utf-8"))["nav"]
    pages: list[Path] = []

    def walk(items) -> None:
        for item in items:
            if isinstance(item, str):
                pages.append(DOCS / item)
            elif isinstance(item, dict):
                for target in item.values():
                    if isinstance(target, str):
                        pages.append(DOCS / target)
                    else:
                        walk(target)

    walk(nav)
    return [page for page in pages if page.suffix == ".md"]


def normalise(text: str) -> str:
    """The output as compared: the documented minimal normalisation.

    * Trailing spaces of each line and trailing blank lines are ignored.
    * A number in scientific notation whose magnitude is below 1e-9 (``3.6e-15``) reads as
      ``<tiny>``: such numbers are round-off, whose exact digits change with the BLAS build,
      the CPU and the order of additions.
    * A decimal number written with more than 12 significant digits (a float64's full
      ``repr``, such as ``77.39348759884506``) is compared rounded to 12 significant digits:
      its last digits are round-off of the same kind. Every other character must match.
    """

    def tiny(match: re.Match) -> str:
        return "<tiny>" if abs(float(match.group())) < TINY else match.group()

    def rounded(match: re.Match) -> str:
        digits = sum(character.isdigit() for character in match.group().lstrip("+-0."))
        if digits <= SIGNIFICANT:
            return match.group()
        return f"{float(match.group()):.{SIGNIFICANT}g}"

    lines = [
        LONG_DECIMAL_RE.sub(rounded, SCIENTIFIC_RE.sub(tiny, line)).rstrip()
        for line in text.splitlines()
    ]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
