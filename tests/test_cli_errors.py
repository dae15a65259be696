"""The command line under bad input: one short error, a non-zero status, never a traceback.

Each case runs ``mnist-math`` and checks the exit status (2 for a usage error, as argparse's
own, 1 for everything else), that standard error holds ``error:`` and a fragment that names
the problem, and that no traceback is printed. ``--debug`` brings the traceback back.

The table of argument errors (``CASES``) calls ``cli.main`` in this process, as the console
script does, which costs no interpreter start per case; the cases that could hang on a
FIFO, that need a real process (``--debug``, file permissions, signals) or a fresh
interpreter run ``python -m mnist_math.cli`` in a subprocess, under a timeout.
"""

import os
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "mnist_math.cli", *args],
        cwd=cwd or ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def call_cli(capsys, *args: str) -> subprocess.CompletedProcess:
    """``mnist-math ARGS`` in this process: its exit status and what it printed."""
    from mnist_math import cli

    capsys.readouterr()
    try:
        status = cli.main(list(args))
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)


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
def test_one_short_error(case: str, capsys) -> None:
    args, status, fragment = CASES[case]
    assert_one_error(call_cli(capsys, *args), status, fragment)


def test_the_console_script_reports_an_error_the_same_way() -> None:
    """One case of the table through a real process, as a user's shell runs it."""
    args, status, fragment = CASES["missing data file"]
    assert_one_error(run_cli(*args), status, fragment)


def test_a_missing_cuda_device_is_one_error() -> None:
    """Without CUDA, asking for it is an error that says so; on a machine with CUDA, asking
    for one GPU more than it has is the same kind of error."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        device, fragment = f"cuda:{count}", f"there are {count} CUDA GPU(s)"
    else:
        device, fragment = "cuda", "CUDA is not available"
    args = ("train", "--backend", "torch", "--device", device, "--no-progress")
    assert_one_error(run_cli(*args), 1, fragment)


def test_a_bug_is_reported_as_unexpected(monkeypatch, capsys) -> None:
    """Only the library's errors for bad input are user errors: a TypeError raised by a bug
    is named as unexpected, with the way to its traceback, and never passed off as the
    user's mistake."""
    from mnist_math import cli

    def buggy(args):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr(cli, "run_train", buggy)
    assert cli.main(["train"]) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith("mnist-math: error: unexpected TypeError: unsupported"), (
        stderr
    )
    assert "rerun with --debug" in stderr, stderr

    def refuses(args):
        raise ValueError("batch_size must be an integer in 1..60000, got 70000")

    monkeypatch.setattr(cli, "run_train", refuses)
    assert cli.main(["train"]) == 1
    stderr = capsys.readouterr().err
    assert stderr == (
        "mnist-math: error: batch_size must be an integer in 1..60000, got 70000\n"
    ), stderr


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


# --------------------------------------------------------------------------
# --save never replaces what it should not, and says so before training


def _fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    os.mkfifo(path)
    return path


def test_save_refuses_the_data_file_and_the_cache_before_training(tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    data.write_bytes(b"PK\x03\x04 55 MB of training data")
    cache = tmp_path / "cache.npz"
    cache.write_bytes(b"PK\x03\x04 the MNIST cache")
    environment_cache = {"MNIST_MATH_CACHE": str(cache)}
    cases = [
        (("--data", str(data), "--save", str(data)), f"the same file as {data}"),
        (("--save", str(cache)), f"the same file as {cache}"),
        (("--data", str(tmp_path), "--save", str(data)), f"the same file as {data}"),
    ]
    for args, fragment in cases:
        result = run_cli(
            "train", "--no-progress", *args, env=environment_cache, timeout=60
        )
        assert_one_error(result, 1, fragment)
        assert "which this run reads: refusing to replace it" in result.stderr
        assert "Training" not in result.stdout, "refused before training"
    assert data.read_bytes() == b"PK\x03\x04 55 MB of training data"
    assert cache.read_bytes() == b"PK\x03\x04 the MNIST cache"


def test_save_refuses_devices_fifos_and_too_large_networks(tmp_path: Path) -> None:
    pipe = _fifo(tmp_path / "pipe.npz")
    cases = [
        (("--save", "/dev/null"), "/dev/null: a character device, not a regular file"),
        (("--save", str(pipe)), f"{pipe}: a FIFO (named pipe), not a regular file"),
        (("--save", str(tmp_path)), f"{tmp_path}: a folder"),
        (
            ("--save", str(tmp_path / "wide.npz"), "--hidden", "30000"),
            "a 784-30000-10 network has 23,850,010 numbers, more than the 16,777,216",
        ),
    ]
    for args, fragment in cases:
        result = run_cli("train", "--no-progress", *args, timeout=60)
        assert_one_error(result, 1, fragment)
        assert "Training" not in result.stdout
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert stat.S_ISFIFO(pipe.stat().st_mode), "the FIFO is still a FIFO"


def test_save_into_a_folder_that_cannot_be_written_names_the_users_path(
    tmp_path: Path,
) -> None:
    """A folder without write permission. Root writes anywhere; as root, the command runs
    without the capability that lets it (setpriv drops CAP_DAC_OVERRIDE)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    target = locked / "model.npz"
    prefix = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: every folder is writable")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "mnist_math.cli", "train", "--no-progress"]
        + ["--save", str(target)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_error(result, 1, f"{target}: cannot write in the folder {locked}")
    assert ".partial" not in result.stderr, "the message names the user's path"
    assert "Training" not in result.stdout, "refused before training"
    assert not list(locked.iterdir())


# --------------------------------------------------------------------------
# predict: nothing hangs, every error names its file, one bad image stops nothing


def _good_picture(path: Path) -> Path:
    from PIL import Image

    picture = Image.new("L", (60, 60), 255)
    picture.paste(0, (28, 10, 33, 50))  # a 1
    picture.save(path)
    return path


def test_predict_refuses_fifos_and_folders_at_once(tmp_path: Path) -> None:
    pipe = _fifo(tmp_path / "pipe.npz")
    (tmp_path / "folder.npz").mkdir()
    good = _good_picture(tmp_path / "good.png")
    for model, fragment in [
        (pipe, f"{pipe}: a FIFO (named pipe), not a model file"),
        (
            tmp_path / "folder.npz",
            f"{tmp_path / 'folder.npz'}: a folder, not a model file",
        ),
    ]:
        assert_one_error(
            run_cli("predict", str(model), str(good), timeout=60), 1, fragment
        )
    image_pipe = _fifo(tmp_path / "pipe.png")
    result = run_cli("predict", "models/seed.npz", str(image_pipe), str(good), timeout=60)
    assert_one_error(result, 1, f"{image_pipe}: a FIFO (named pipe), not an image file")
    assert result.stdout.startswith(f"{good}: "), "the next picture is still read"


def test_one_bad_picture_does_not_stop_the_batch(tmp_path: Path) -> None:
    huge = tmp_path / "huge.bmp"
    info = struct.pack("<IiiHHIIiiII", 40, 20_000, 20_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    huge.write_bytes(b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info)
    header = tmp_path / "header.ppm"
    header.write_bytes(b"P5\n2 x\n255\n\x00\x00")
    good = _good_picture(tmp_path / "good.png")
    result = run_cli(
        "predict", "models/seed.npz", str(huge), str(header), str(good), timeout=60
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"mnist-math: error: {huge}: ") and "pixels" in errors[0]
    assert errors[1].startswith(f"mnist-math: error: {header}: "), errors[1]
    assert "invalid literal for int()" in errors[1], errors[1]
    assert result.stdout.startswith(f"{good}: "), result.stdout
