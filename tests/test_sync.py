"""The sync gate: the committed package is exactly what the chapters tangle to.

From a clean state (a copy of docs/ and entangled.toml, no .entangled/, no tangled files),
`entangled tangle` must reproduce every file of mnist_math/, and the tangled modules of the
book's tooling (booktools/figures.py), byte for byte and report no missing reference. (Entangled 2.1.13 writes a file without a final newline when it
creates it and with one when it updates it, so the canonical package is the one a clean
tangle creates; the README's "Writing the book" section gives the command.) A hand edit of a tangled module, or a chapter changed without
re-tangling, fails here with a message naming the file.
"""

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTANGLED = Path(sys.executable).with_name("entangled")
MARKER = "# ~/~ begin <<"
# Where the chapters tangle to: the package (every module) and the book's tooling (the
# modules that start with Entangled's marker; the others are written by hand).
TANGLED_DIRS = ("mnist_math", "booktools")


def tangled_files(root: Path) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every tangled module under ``root``."""
    found = {}
    for folder in TANGLED_DIRS:
        for path in sorted((root / folder).glob("*.py")):
            data = path.read_bytes()
            if data.startswith(MARKER.encode()):
                found[f"{folder}/{path.name}"] = data
    return found


def tangle_clean_copy(tmp_path: Path) -> tuple[Path, str]:
    """Tangle a copy of the book in ``tmp_path``; return the tangled package and the log."""
    shutil.copytree(
        ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(ROOT / "entangled.toml", tmp_path / "entangled.toml")
    result = subprocess.run(
        [str(ENTANGLED), "tangle"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"entangled tangle failed:\n{log}"
    return tmp_path, log


@pytest.fixture(scope="module")
def tangled(tmp_path_factory):
    return tangle_clean_copy(tmp_path_factory.mktemp("tangle"))


def test_tangle_reports_no_problem(tangled):
    _, log = tangled
    for word in ("Missing", "ERROR", "WARNING"):
        assert word not in log, f"entangled tangle reported a problem:\n{log}"


def test_every_module_is_tangled_from_a_chapter():
    hand_written = [
        path.name
        for path in sorted((ROOT / "mnist_math").glob("*.py"))
        if not path.read_text(encoding="utf-8").startswith(MARKER)
    ]
    assert not hand_written, (
        f"mnist_math/ holds modules no chapter tangles: {hand_written}; "
        "write them in a chapter (the Engineering notes appendix for plumbing)"
    )


def test_book_and_package_agree(tangled):
    copy, _ = tangled
    committed = tangled_files(ROOT)
    produced = tangled_files(copy)
    assert set(committed) == set(produced), (
        "The book and the package disagree on which modules exist: "
        f"only in the repository: {sorted(set(committed) - set(produced))}, "
        f"only tangled from docs/: {sorted(set(produced) - set(committed))}"
    )
    for name in sorted(produced):
        expected = produced[name]
        actual = committed[name]
        if expected != actual:
            diff = "".join(
                difflib.unified_diff(
                    expected.decode().splitlines(keepends=True),
                    actual.decode().splitlines(keepends=True),
                    f"tangled from docs/ ({name})",
                    name,
                )
            )
            pytest.fail(
                f"The book and the package disagree: {name} is not what the "
                "chapters tangle to. Edit the chapter, then tangle from a clean state "
                "(`make tangle`; after editing the module itself: `make stitch` "
                f"first).\n{diff[:4000]}"
            )
