"""The package's structure, as a maintainer checks it before adopting the code.

- The modules of ``mnist_math`` import each other in one direction: no cycle, counting the
  imports inside functions too (a lazy import is still a dependency).
- ``import mnist_math`` (what a reader does) loads neither Matplotlib nor the command line:
  drawing belongs to the book's tooling (booktools/figures.py), printing to the CLI.
- The book's tooling (booktools/) may import the package; the package never imports it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mnist_math"


def imports_of(path: Path) -> set[str]:
    """The modules of mnist_math that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("mnist_math."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mnist_math."):
                    found.add(alias.name.split(".")[1])
    return found


def graph() -> dict[str, set[str]]:
    return {
        path.stem: imports_of(path) - {path.stem}
        for path in PACKAGE.glob("*.py")
        if path.stem != "__init__"
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_the_package_never_imports_the_books_tooling() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "booktools" not in text, f"{path.name} reaches into booktools/"


def test_import_mnist_math_loads_no_plotting_and_no_cli() -> None:
    probe = (
        "import sys, mnist_math\n"
        "loaded = [name for name in sys.modules if name == 'matplotlib' "
        "or name.startswith('matplotlib.') or name == 'mnist_math.cli']\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import mnist_math loaded {result.stdout}"


def test_one_command_publishes_every_generated_file() -> None:
    """Every script that writes the book's figures, tables or models is a job of
    ``python -m booktools.publish``."""
    from booktools.publish import JOBS

    scripts = {
        str(path.relative_to(ROOT))
        for folder in ("scripts", "benchmarks")
        for path in (ROOT / folder).glob("*.py")
    }
    run = {job.command[0] for job in JOBS if not job.command[0].startswith("-")}
    assert scripts <= run, f"not published by booktools.publish: {sorted(scripts - run)}"
    for script in run:
        assert (ROOT / script).exists(), f"a job runs {script}, which does not exist"
