"""The command line under bad input: one short error, a non-zero status, never a traceback.

Each case runs ``mnist-math`` as a user would, in a subprocess, and checks the exit status
(2 for a usage error, as argparse's own, 1 for everything else), that standard error holds
``error:`` and a fragment that names the problem, and that no traceback is printed.
``--debug`` brings the traceback back.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, cwd: Path | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "mnist_math.cli", *args],
        cwd=cwd or ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error(
    result: subprocess.CompletedProcess, status: int, fragment: str
) -> None:
    stderr = result.stderr
    assert result.returncode == status, (
        f"exit {result.returncode}, expected {status}:\n{stderr}"
    )
    assert "Traceback" not in stderr, f"a traceback reached the user:\n{stderr}"
    error_lines = [line for line in stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1, f"expected one error line:\n{stderr}"
    assert fragment in error_lines[0], f"{fragment!r} not in {error_lines[0]!r}"
    if status == 1:
        assert error_lines[0].startswith("mnist-math: error: "), error_lines[0]


CASES = {
    "missing data file": (
        ("train", "--data", "/nonexistent/mnist.npz"),
        1,
        "/nonexistent/mnist.npz",
    ),
    "negative seed": (("train", "--seed", "-1"), 2, "must be an integer 0 or larger"),
    "seed not a number": (
        ("train", "--seed", "zero"),
        2,
        "must be an integer 0 or larger",
    ),
    "zero iterations": (("train", "--iterations", "0"), 2, "must be a positive integer"),
    "lr not a number": (("train", "--lr", "fast"), 2, "must be a positive number"),
    "infinite lr": (("train", "--lr", "inf"), 2, "must be a positive finite number"),
    "device without torch": (
        ("train", "--device", "cpu"),
        2,
        "--device does not apply to the fast engine",
    ),
    "epochs with the fast engine": (
        ("train", "--engine", "fast", "--epochs", "2"),
        2,
        "--epochs does not apply to the fast engine (--epochs is for the mini-batch engine)",
    ),
    "iterations with a recipe": (
        ("train", "--recipe", "best", "--iterations", "3"),
        2,
        "--iterations does not apply to the mini-batch engine",
    ),
    "batch size with the reference engine": (
        ("train", "--engine", "reference", "--batch-size", "64"),
        2,
        "--batch-size does not apply to the reference engine",
    ),
    "engine with torch": (
        ("train", "--backend", "torch", "--engine", "fast"),
        2,
        "--engine does not apply to the torch backend",
    ),
    "unknown recipe": (("train", "--recipe", "fastest"), 2, "invalid choice: 'fastest'"),
    "warm-up of 1": (("train", "--warmup", "1"), 2, "must be a number in [0, 1), got 1"),
    "zero threads": (("train", "--threads", "0"), 2, "must be a positive integer"),
    "threads with the fast engine": (
        ("train", "--engine", "fast", "--threads", "2"),
        2,
        "--threads does not apply to the fast engine",
    ),
    "no cuda": (
        ("train", "--backend", "torch", "--device", "cuda", "--no-progress"),
        1,
        "CUDA is not available",
    ),
    "bogus device": (
        ("train", "--backend", "torch", "--device", "bogus", "--no-progress"),
        1,
        "unknown device 'bogus'",
    ),
    "batch larger than m": (
        ("train", "--backend", "torch", "--batch-size", "70000", "--no-progress"),
        1,
        "batch_size must be an integer in 1..60000",
    ),
    "huge hidden layer": (
        ("train", "--hidden", "100000000", "--no-progress"),
        1,
        "GiB of memory",
    ),
    "divergence": (
        (
            "train",
            "--lr",
            "1e6",
            "--iterations",
            "50",
            "--dtype",
            "float32",
            "--no-progress",
        ),
        1,
        "training diverged: the loss rose from",
    ),
    "divergence of the mini-batch engine": (
        ("train", "--recipe", "best", "--lr", "1e6", "--epochs", "1", "--no-progress"),
        1,
        "training diverged",
    ),
    "overflow": (
        (
            "train",
            "--lr",
            "1e100",
            "--iterations",
            "20",
            "--dtype",
            "float32",
            "--no-progress",
        ),
        1,
        "overflowed to infinity or NaN",
    ),
    "save into a missing folder": (
        ("train", "--save", "/nonexistent/folder/model.npz", "--no-progress"),
        1,
        "the folder /nonexistent/folder does not exist",
    ),
    "predict with a missing model": (
        ("predict", "/nonexistent/model.npz", "x.png"),
        1,
        "model.npz",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_short_error(case: str) -> None:
    args, status, fragment = CASES[case]
    assert_one_error(run_cli(*args), status, fragment)


def test_damaged_data_file(tmp_path: Path) -> None:
    damaged = tmp_path / "mnist.npz"
    damaged.write_bytes(b"PK\x03\x04 this is not a zip archive")
    assert_one_error(run_cli("train", "--data", str(damaged)), 1, str(damaged))


def test_debug_shows_the_traceback() -> None:
    result = run_cli("--debug", "train", "--data", "/nonexistent/mnist.npz")
    assert result.returncode == 1
    assert "Traceback" in result.stderr, result.stderr
    again = run_cli("train", "--data", "/nonexistent/mnist.npz", "--debug")
    assert "Traceback" in again.stderr, "--debug is accepted after the command too"


def test_fifo_as_data_is_refused_not_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for args in (("train", "--data", str(pipe)), ("data", "--path", str(pipe))):
        assert_one_error(
            run_cli(*args, timeout=60), 1, "a FIFO (named pipe), not a regular file"
        )
