"""Format the Python code of the chapters with ruff, block by block, in the chapters themselves.

The chapters are the source of the package (Entangled), so a formatter must run on them, not
on the tangled modules: formatting `mnist_math/` alone would be undone by the next tangle and
would put Entangled's markers in the wrong places. Each ```` ```python ```` block and each
Entangled block (```` ``` {.python ...} ````) of docs/*.md is formatted on its own with
`ruff format` and the project's configuration (pyproject.toml: lines of at most 90
characters). A `<<fragment>>` reference is not Python, so it becomes a comment while ruff
looks at the block, and is put back afterwards.

    python -m booktools.format_chapters            # rewrite the chapters
    python -m booktools.format_chapters --check    # list the blocks ruff would change; exit 1

`make format` and `make lint` run it; tests/test_style.py runs the check.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from booktools.blocks import ROOT, fences

REFERENCE_RE = re.compile(r"^(?P<indent>[ \t]*)<<(?P<name>[\w-]+)>>[ \t]*$")
PLACEHOLDER_RE = re.compile(r"^(?P<indent>[ \t]*)# ENTANGLED-REF (?P<name>[\w-]+)$")


def ruff() -> str:
    beside_python = Path(sys.executable).with_name("ruff")
    found = str(beside_python) if beside_python.exists() else shutil.which("ruff")
    if found is None:
        raise SystemExit("ruff is not installed: pip install -e '.[dev]'")
    return found


def format_code(code: str, name: str) -> str:
    """``code`` as ruff formats it; ``<<references>>`` survive as they were."""
    hidden = "\n".join(
        REFERENCE_RE.sub(r"\g<indent># ENTANGLED-REF \g<name>", line)
        for line in code.split("\n")
    )
    result = subprocess.run(
        [ruff(), "format", "--stdin-filename", name, "-"],
        input=hidden + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise ValueError(f"ruff cannot format {name}: {result.stderr.strip()}")
    formatted = result.stdout.rstrip("\n")
    return "\n".join(
        PLACEHOLDER_RE.sub(r"\g<indent><<\g<name>>>", line)
        for line in formatted.split("\n")
    )


def is_python(info: str) -> bool:
    return info.split()[:1] == ["python"] or info.startswith("{.python")


def format_page(path: Path) -> list[str]:
    """Format the Python blocks of one chapter in place; return the blocks that changed."""
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = []
    for fence in reversed(fences(path)):
        if not is_python(fence.info) or not fence.body.strip():
            continue
        indent = re.match(r"[ \t]*", lines[fence.line - 1]).group(0)
        formatted = format_code(fence.body, f"{path.name}:{fence.line}.py")
        if formatted != fence.body.rstrip("\n"):
            body = [indent + line if line else "" for line in formatted.split("\n")]
            lines[fence.line : fence.end - 1] = body
            changed.append(f"{path.relative_to(ROOT)}:{fence.line}")
    if changed:
        path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        original = path.read_text(encoding="utf-8")
        page_changes = format_page(path)
        if check and page_changes:
            path.write_text(original, encoding="utf-8")
        changed += page_changes
    for where in reversed(changed):
        print(f"{'would reformat' if check else 'reformatted'} the block at {where}")
    if check and changed:
        print("run `python -m booktools.format_chapters`, then `make tangle`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
