"""The package installs like any other: ``python -m build`` makes a wheel and an sdist that
hold the tangled package and nothing of the tests or of the book's tooling, and the wheel,
installed into a fresh virtual environment, runs ``mnist-math``.

The fresh environment gets the wheel's files only; its dependencies (NumPy, PyTorch, ...)
are borrowed from the test's own environment through a ``.pth`` line, so that the test
needs no download and the copy of ``mnist_math`` that runs is the wheel's (checked).
Slow: it builds in an isolated environment (setuptools from the package index).
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(path.name for path in (ROOT / "mnist_math").glob("*.py"))

# Slow, and the isolated build fetches setuptools from the package index.
pytestmark = [pytest.mark.slow, pytest.mark.network]


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def build_dist(out: Path) -> Path:
    """``python -m build`` of the repository into ``out``: a wheel and an sdist."""
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    return out


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The build runs in the background from the session's start (tests/conftest.py)."""
    if not any("dist" in item.fixturenames for item in items):
        return []
    return [(2, "dist", build_dist, (tmp_path_factory.mktemp("dist"),))]


@pytest.fixture(scope="module")
def dist(background) -> Path:
    return background.result("dist")


def test_the_wheel_holds_the_package_and_nothing_else(dist: Path) -> None:
    (wheel,) = dist.glob("mnist_math-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    package = sorted(
        name.split("/")[1] for name in names if name.startswith("mnist_math/")
    )
    assert package == MODULES, "every tangled module, and only those"
    others = [
        name for name in names if not name.startswith(("mnist_math/", "mnist_math-"))
    ]
    assert others == [], f"the wheel holds more than the package: {others}"
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert (
        "mnist-math = mnist_math.cli:main"
        in zipfile.ZipFile(wheel).read(entry_points).decode()
    )


def test_the_sdist_holds_no_tests(dist: Path) -> None:
    (sdist,) = dist.glob("mnist_math-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert (
        sorted(name.split("/")[1] for name in names if name.startswith("mnist_math/"))
        == MODULES
    )
    for folder in ("tests/", "booktools/", "docs/", "benchmarks/", "scripts/"):
        assert not [name for name in names if name.startswith(folder)], (
            f"the sdist holds {folder}"
        )


def test_the_wheel_installs_and_runs(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("mnist_math-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", wheel)
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    borrowed = Path(purelib.stdout.strip()) / "borrowed-dependencies.pth"
    borrowed.write_text("\n".join(site.getsitepackages()) + "\n")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    where = run(
        python,
        "-c",
        "import mnist_math; print(mnist_math.__file__)",
        cwd=tmp_path,
        env=environment,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), (
        f"the installed wheel should run, not the checkout: {where.stdout}"
    )
    mnist_math = venv / "bin" / "mnist-math"
    usage = run(mnist_math, "--help", cwd=tmp_path, env=environment)
    assert "train" in usage.stdout and "predict" in usage.stdout
    trained = run(
        mnist_math,
        "train",
        "--iterations",
        "5",
        "--no-progress",
        cwd=tmp_path,
        env=environment,
    )
    assert "Test accuracy:" in trained.stdout, trained.stdout
    tiny = run(
        python,
        "-c",
        "import numpy as np\n"
        "from mnist_math import accuracy, gradient_descent, predict\n"
        "from mnist_math.data import as_columns, load_mnist\n"
        "(x, y), _ = load_mnist()\n"
        "X, Y = as_columns(x[:500]), y[:500].astype(np.int64)\n"
        "params, history = gradient_descent(X, Y, lr=0.1, iterations=5, progress=False)\n"
        "print(history['loss'][0], history['loss'][-1])\n",
        cwd=tmp_path,
        env=environment,
    )
    first, last = (float(word) for word in tiny.stdout.split())
    assert last < first, f"five steps on 500 images lower the loss: {tiny.stdout}"
