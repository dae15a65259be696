"""Traceability both ways (chapter 13): equations, implementers and checks agree.

- every equation a chapter labels (``\\label{eq-...}`` in a ``$$`` block of docs/*.md,
  outside code fences) has an entry in booktools/registry.py, and every entry names
  a labelled equation;
- every entry names a test function that exists in the named test file;
- every labelled equation has an implementer, a function or class of mnist_math whose
  docstring links to it (``[...][eq-name]``), and every such link names a labelled equation;
- labels are unique, and the verification chapter holds the table's placeholder.

The parsing mirrors the build hook (docs/hooks/book.py) but is written independently, so
that a change to either shows up as a disagreement here or in the strict build.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"
PACKAGE = ROOT / "mnist_math"

LABEL_RE = re.compile(r"\\label\{(eq-[a-z0-9-]+)\}")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
DOC_LINK_RE = re.compile(r"\]\[(eq-[a-z0-9-]+)\]")
PLACEHOLDER = "<!-- equation-checks -->"


def labels_in(text: str) -> list[str]:
    """Equation labels inside ``$$ ... $$`` display blocks that are outside code fences."""
    labels = []
    fence = None
    in_math = False
    for line in text.splitlines():
        match = FENCE_RE.match(line)
        if match and not in_math:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
                continue
            if marker.startswith(fence) and line.strip() == marker:
                fence = None
                continue
        if fence is not None:
            continue
        if line.strip() == "$$":
            in_math = not in_math
        elif in_math:
            labels.extend(LABEL_RE.findall(line))
    return labels


def chapter_labels() -> dict[str, list[str]]:
    """``{label: [chapters that label it]}`` over docs/*.md (the chapters are top-level)."""
    found: dict[str, list[str]] = {}
    for path in sorted(DOCS.glob("*.md")):
        for label in labels_in(path.read_text(encoding="utf-8")):
            found.setdefault(label, []).append(path.name)
    return found


def registry() -> dict[str, tuple[str, str]]:
    """``EQUATION_CHECKS``, as the build hook reads it."""
    from booktools.registry import EQUATION_CHECKS

    return EQUATION_CHECKS


def docstring_links() -> dict[str, list[str]]:
    """``{label: [module.function, ...]}`` for every ``][eq-...]`` link in a docstring of mnist_math."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                for label in DOC_LINK_RE.findall(ast.get_docstring(node) or ""):
                    found.setdefault(label, []).append(
                        f"mnist_math.{path.stem}.{node.name}"
                    )
    return found


def test_the_parser_sees_labels_only_in_math_outside_code() -> None:
    text = "\n".join(
        [
            "$$",
            r"a = b \label{eq-one}",
            "$$",
            "```python",
            "$$",
            r"\label{eq-in-code}",
            "$$",
            "```",
            r"inline \label{eq-not-in-math}",
            "$$",
            r"c = d",
            r"\label{eq-two}",
            "$$",
        ]
    )
    assert labels_in(text) == ["eq-one", "eq-two"]


def test_labels_are_unique() -> None:
    twice = {label: pages for label, pages in chapter_labels().items() if len(pages) > 1}
    assert not twice, f"equations labelled more than once: {twice}"


def test_every_labelled_equation_has_a_check() -> None:
    missing = sorted(set(chapter_labels()) - set(registry()))
    assert not missing, (
        f"chapters label {missing} but booktools/registry.py has no check for them: "
        "add a test and an EQUATION_CHECKS entry"
    )


def test_every_registered_equation_is_labelled() -> None:
    unknown = sorted(set(registry()) - set(chapter_labels()))
    assert not unknown, f"EQUATION_CHECKS names {unknown}, which no chapter labels"


@pytest.mark.parametrize("equation", sorted(registry()))
def test_registered_check_exists(equation: str) -> None:
    test, description = registry()[equation]
    assert description.strip(), f"{equation}: empty description"
    assert test.count("::") == 1, f"{equation}: {test!r} is not 'file.py::test_function'"
    filename, function = test.split("::")
    function = function.split("[")[0]
    path = TESTS / filename
    assert path.is_file(), f"{equation}: {filename} does not exist in tests/"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert function in functions, (
        f"{equation}: {filename} has no test function {function}"
    )
    assert function.startswith("test_"), f"{equation}: {function} is not a test function"


def test_every_labelled_equation_has_an_implementer() -> None:
    links = docstring_links()
    missing = sorted(set(chapter_labels()) - set(links))
    assert not missing, (
        f"no docstring in mnist_math links to {missing}: the implementing function should "
        "cite its equation as [formula][eq-name]"
    )


def test_every_docstring_link_names_a_labelled_equation() -> None:
    labels = chapter_labels()
    dangling = {
        label: where for label, where in docstring_links().items() if label not in labels
    }
    assert not dangling, (
        f"docstrings link to equations that no chapter labels: {dangling}"
    )


def test_verification_chapter_has_the_table_placeholder() -> None:
    lines = (DOCS / "verification.md").read_text(encoding="utf-8").splitlines()
    assert PLACEHOLDER in [line.strip() for line in lines], (
        f"docs/verification.md must contain the line {PLACEHOLDER} (the hook puts the table there)"
    )
