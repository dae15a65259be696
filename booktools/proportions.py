"""How much of each chapter is tangled code: chapters teach, appendices engineer.

A numbered chapter (1 to 13 in the navigation) is for the idea it teaches and the lines that
compute it; the package's machinery (argument checks, progress bars, file formats, threads)
is tangled from the appendices. This script counts, for every page of the navigation, its
lines and the lines inside Entangled source blocks (```` ``` {.python file=...} ```` and
```` ``` {.python #name} ````, fences included), and with ``--check`` fails when

- a numbered chapter has more than ``MAX_SHARE`` of its lines in tangled code, or
- a chapter named in ``MAX_LINES`` is longer than its limit (the chapters that had grown
  most: each must stay at least 40% shorter than it was, ``BEFORE``).

    python -m booktools.proportions           # the table
    python -m booktools.proportions --check   # and exit 1 when a limit is broken

``make lint`` and ``tests/test_proportions.py`` run the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from booktools.blocks import DOCS, ROOT, fences, nav_pages

MAX_SHARE = 0.35
# Lines of the three longest chapters before they were split into chapter and appendix.
BEFORE = {"fast.md": 699, "going-further.md": 1294, "handwriting.md": 1170}
MAX_LINES = {name: int(lines * 0.6) for name, lines in BEFORE.items()}
TANGLED_INFO_RE = re.compile(r"^\{\.python\b.*(?:\bfile=|#[\w-]+)")
NUMBERED_RE = re.compile(r"^\s*(\d+)\.")


@dataclass(frozen=True)
class Page:
    name: str
    title: str
    lines: int
    tangled: int

    @property
    def share(self) -> float:
        return self.tangled / self.lines if self.lines else 0.0

    @property
    def numbered(self) -> bool:
        return NUMBERED_RE.match(self.title) is not None


def measure(path: Path, title: str) -> Page:
    """Count ``path``'s lines and those inside its tangled source blocks."""
    total = len(path.read_text(encoding="utf-8").splitlines())
    tangled = sum(
        fence.end - fence.line + 1
        for fence in fences(path)
        if TANGLED_INFO_RE.match(fence.info)
    )
    return Page(path.name, title, total, tangled)


def nav_titles() -> dict[str, str]:
    """``{file name: title in the navigation}`` of mkdocs.yml's nav (top level)."""
    titles = {}
    for line in (ROOT / "mkdocs.yml").read_text(encoding="utf-8").splitlines():
        match = re.match(
            r'^  - "?(?P<title>[^:"]+(?::[^:"]+)?)"?: (?P<page>[\w./-]+\.md)$', line
        )
        if match:
            titles[match["page"]] = match["title"]
    return titles


def pages() -> list[Page]:
    """Every page of the navigation but the API reference (docs/reference/)."""
    titles = nav_titles()
    return [
        measure(path, titles.get(path.name, path.stem))
        for path in nav_pages()
        if path.parent == DOCS
    ]


def problems(measured: list[Page]) -> list[str]:
    found = []
    for page in measured:
        if page.numbered and page.share > MAX_SHARE:
            found.append(
                f"{page.name}: {page.share:.0%} of its {page.lines} lines are tangled code "
                f"(at most {MAX_SHARE:.0%}): move the machinery to an appendix"
            )
        limit = MAX_LINES.get(page.name)
        if limit is not None and page.lines > limit:
            found.append(
                f"{page.name}: {page.lines} lines, at most {limit} "
                f"(40% fewer than its {BEFORE[page.name]} before the split)"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.proportions")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a limit is broken"
    )
    args = parser.parse_args(argv)
    measured = pages()
    print(f"{'page':<24} {'lines':>6} {'tangled':>8} {'share':>6}")
    for page in measured:
        mark = "" if page.numbered else "  (not a numbered chapter)"
        print(
            f"{page.name:<24} {page.lines:>6} {page.tangled:>8} {page.share:>6.0%}{mark}"
        )
    found = problems(measured)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
