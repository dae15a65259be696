"""The fast engine against the reference (chapter "Making it fast").

``train_fast`` must compute the iterations of chapter 7's ``gradient_descent``: its chunked
sums equal autograd's gradients, its weights after 20 iterations on the full MNIST agree
with the reference's within the round-off tolerance ``trajectory_tolerance`` of the
chapter (the one place it is set: an empirical count of roundings, whose margin on the
full run benchmarks/precision.py measures), its test accuracy after the seed's 500 iterations is
within 0.3 percentage points of the reference's, and it keeps the reference's history
format, dtypes, refusals and divergence checks. Speed is the benchmark's job
(benchmarks/speed.py), not the tests'.
"""

import contextlib
import io
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from mnist_math import gradient_descent, init_params, train_fast
from mnist_math._checks import DivergenceError, InputRangeWarning
from mnist_math._training import SCAN_COLUMNS
from mnist_math.fast import chunk_sums, trajectory_tolerance

NAMES = ("W1", "b1", "W2", "b2")


def batch(m: int = 64, *, n: int = 784, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n, m)).astype(dtype)
    Y = rng.integers(0, 10, size=m)
    return X, Y


def largest_difference(first: dict, second: dict) -> float:
    return max(float(np.max(np.abs(first[name] - second[name]))) for name in NAMES)


# --------------------------------------------------------------------------------------
# The chunked sums (eq-chunk-sum) against autograd


@pytest.mark.parametrize(
    ("m", "chunk"),
    [(1, 1), (13, 1), (13, 5), (13, 13), (13, 100), (200, 64), (200, 7)],
)
def test_chunked_sums_match_autograd(m: int, chunk: int) -> None:
    """Sums over chunks, divided by m, are torch's gradients of the mean loss, its loss and
    its number of correct predictions, in float64 (the formulas of eq-chunk-sum)."""
    torch = pytest.importorskip("torch")
    X, Y = batch(m, seed=m + chunk)
    params = init_params(n_hidden=10, seed=3)
    sums = {"d" + name: np.zeros_like(params[name]) for name in NAMES}
    sums.update(loss=0.0, correct=0)
    for start in range(0, m, chunk):
        stop = start + chunk
        chunk_sums(params, X[:, start:stop], Y[start:stop], sums, record=True)

    tensors = {name: torch.tensor(params[name], requires_grad=True) for name in NAMES}
    Z1 = tensors["W1"] @ torch.tensor(X) + tensors["b1"]
    Z2 = tensors["W2"] @ torch.relu(Z1) + tensors["b2"]
    loss = torch.nn.functional.cross_entropy(Z2.T, torch.tensor(Y))
    loss.backward()
    for name in NAMES:
        difference = np.max(np.abs(sums["d" + name] / m - tensors[name].grad.numpy()))
        where = f"m={m}, chunks of {chunk}"
        assert difference < 1e-13, f"d{name} ({where}) differs by {difference:.1e}"
    assert abs(sums["loss"] / m - loss.item()) < 1e-13, "the loss"
    correct = int((Z2.argmax(dim=0).numpy() == Y).sum())
    assert sums["correct"] == correct, "the number of correct predictions"


# --------------------------------------------------------------------------------------
# Agreement with the reference on the full MNIST


@pytest.fixture(scope="module")
def reference_20(mnist):
    """20 iterations of the reference in float64 from init_params(seed=0)."""
    start = init_params(seed=0)
    X, Y = mnist.X_train, mnist.Y_train
    params, history = gradient_descent(X, Y, iterations=20, params=start)
    return start, params, history


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_fast_agrees_with_the_reference_after_20_iterations(
    mnist, reference_20, dtype
) -> None:
    """From the same weights, after 20 iterations on the 60,000 images, the weights differ
    from the float64 reference's by at most trajectory_tolerance (the rounding count of
    dtype, whose margin on this run benchmarks/precision.py measures)."""
    start, reference, reference_history = reference_20
    X = mnist.X_train.astype(dtype, copy=False)
    params, history = train_fast(X, mnist.Y_train, iterations=20, params=start)
    largest = max(float(np.max(np.abs(reference[name]))) for name in NAMES)
    tolerance = trajectory_tolerance(dtype, 20, largest)
    for name in NAMES:
        assert params[name].dtype == dtype, f"{name} is {params[name].dtype}"
        difference = float(np.max(np.abs(params[name] - reference[name])))
        report = f"{np.dtype(dtype)} {name}: {difference:.1e}, tolerance {tolerance:.1e}"
        print(report)
        assert difference <= tolerance, report
    if dtype == np.float32:
        assert largest_difference(params, reference) > 0, (
            "float32 must compute in float32"
        )
    assert history["iteration"] == reference_history["iteration"] == [0, 10, 19]
    for ours, theirs in zip(history["loss"], reference_history["loss"]):
        assert abs(ours - theirs) <= 1e3 * np.finfo(dtype).eps * theirs, (
            "the recorded loss"
        )
    for ours, theirs in zip(history["accuracy"], reference_history["accuracy"]):
        assert abs(ours - theirs) <= 5 / mnist.X_train.shape[1], "the recorded accuracy"


def main_command() -> tuple[int, list[str]]:
    """The README's main command, ``mnist-math train --no-progress``: its exit status and
    the lines it prints."""
    from mnist_math.cli import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["train", "--no-progress"])
    return status, printed.getvalue().splitlines()


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The main command's training runs in the background from the session's start
    (tests/conftest.py)."""
    wanted = any(
        item.originalname == "test_fast_reaches_the_reference_accuracy" for item in items
    )
    return [(1, "main command", main_command, ())] if wanted else []


@pytest.mark.slow
def test_fast_reaches_the_reference_accuracy(background, seed_run) -> None:
    """The README's main command, `mnist-math train` (the fast engine, seed 0, 500
    iterations, float32): test accuracy within 0.3 percentage points of the float64
    reference's (tests/conftest.py trains it once), and the lines the README shows."""
    status, lines = background.result("main command")
    print("\n".join(lines))
    assert status == 0, f"the main command exited {status}"
    assert lines[0].startswith(
        "Training 784 -> 10 -> 10 on 60,000 images with the fast engine"
    )
    test_accuracy = (
        float(
            next(line for line in lines if line.startswith("Test accuracy: "))
            .split(": ")[1]
            .rstrip("%")
        )
        / 100
    )
    gap = abs(test_accuracy - seed_run.test_accuracy)
    assert gap <= 0.003, (
        f"test accuracy {test_accuracy:.2%} vs {seed_run.test_accuracy:.2%}"
    )
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(
        encoding="utf-8"
    )
    shown = readme.split("<!-- main-command -->")[1].split("```text\n")[1].split("```")[0]
    for line in shown.splitlines():
        if not line.startswith(
            "Time: "
        ):  # a time is a benchmark's business, not a test's
            assert line in lines, (
                f"the README shows {line!r}; the command printed {lines}"
            )


# --------------------------------------------------------------------------------------
# The reference's contracts: history, dtypes, determinism, memory


@pytest.mark.parametrize(
    ("iterations", "record_every"), [(1, 10), (25, 10), (7, 1), (20, 10), (5, 100)]
)
def test_history_has_the_reference_format(iterations: int, record_every: int) -> None:
    X, Y = batch(100)
    _, ours = train_fast(X, Y, iterations=iterations, record_every=record_every)
    _, theirs = gradient_descent(X, Y, iterations=iterations, record_every=record_every)
    assert set(ours) == set(theirs) == {"iteration", "loss", "accuracy"}
    assert ours["iteration"] == theirs["iteration"], "recorded at the same iterations"
    assert len(ours["loss"]) == len(ours["accuracy"]) == len(ours["iteration"])
    assert all(isinstance(value, float) for value in ours["loss"] + ours["accuracy"])
    assert np.allclose(ours["loss"], theirs["loss"], rtol=1e-12, atol=0), (
        "the same losses"
    )
    assert ours["accuracy"] == theirs["accuracy"], "the same accuracies"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_fast_trains_in_the_dtype_of_X(dtype) -> None:
    X, Y = batch(64, dtype=dtype)
    params, history = train_fast(X, Y, iterations=3, record_every=1, chunk_size=10)
    for name in NAMES:
        assert params[name].dtype == dtype, f"{name} is {params[name].dtype}"
    assert history["loss"][-1] < history["loss"][0], "the loss falls"


def test_fast_converts_given_params_once() -> None:
    X, Y = batch(32, dtype=np.float32)
    start = init_params(seed=0)  # float64
    params, _ = train_fast(X, Y, iterations=2, params=start)
    assert all(params[name].dtype == np.float32 for name in NAMES), "converted to float32"
    assert start["W1"].dtype == np.float64, "the given params are not modified"


def test_results_do_not_depend_on_timing_and_barely_on_chunking() -> None:
    """Same settings: identical weights, bit for bit (the threads' sums are added in a fixed
    order). Other chunk sizes and thread counts: agreement within the float64 tolerance."""
    X, Y = batch(300)
    first, first_history = train_fast(X, Y, iterations=10, chunk_size=16, threads=2)
    second, second_history = train_fast(X, Y, iterations=10, chunk_size=16, threads=2)
    for name in NAMES:
        assert np.array_equal(first[name], second[name]), (
            f"{name} differs between two runs"
        )
    assert first_history == second_history
    largest = max(float(np.max(np.abs(first[name]))) for name in NAMES)
    tolerance = trajectory_tolerance(np.float64, 10, largest)
    for chunk, threads in ((1, 1), (7, 3), (300, 1), (1000, 4)):
        other, _ = train_fast(X, Y, iterations=10, chunk_size=chunk, threads=threads)
        difference = largest_difference(first, other)
        where = f"chunks of {chunk}, {threads} threads"
        assert difference <= tolerance, f"{where}: {difference:.1e}"


def test_fast_makes_no_copy_of_X() -> None:
    """What train_fast allocates stays far below the size of X: the chunks are views and
    the activations chunk-sized (the reference allocates (h, m) arrays and a boolean copy).
    Besides 5% of X, it may hold the one fixed-size mask of the shared input check, which
    scans X a block of SCAN_COLUMNS columns at a time, whatever m is."""
    X, Y = batch(20000, dtype=np.float32)
    scan_mask = X.shape[0] * SCAN_COLUMNS  # booleans, one byte each
    tracemalloc.start()
    train_fast(X, Y, iterations=2, record_every=1)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < scan_mask + 0.05 * X.nbytes, (
        f"train_fast allocated {peak / 1e6:.1f} MB on top of X"
    )


# --------------------------------------------------------------------------------------
# Refusals and divergence, as the reference


def call(**knobs):
    """A call of train_fast on 4 random examples with these knobs."""
    return lambda: train_fast(*batch(4), **knobs)


REFUSALS = {
    "seed=-1": (call(seed=-1), ValueError, "seed must be"),
    "lr=True": (call(lr=True), TypeError, "lr must be a positive number"),
    "lr='0.1'": (call(lr="0.1"), TypeError, "such as 0.1"),
    "lr=0": (call(lr=0), ValueError, "positive finite"),
    "iterations=0": (call(iterations=0), ValueError, "iterations must"),
    "record_every=0": (call(record_every=0), ValueError, "record_every"),
    "chunk_size=0": (call(chunk_size=0), ValueError, "chunk_size must"),
    "chunk_size=1.5": (call(chunk_size=1.5), TypeError, "chunk_size"),
    "threads=0": (call(threads=0), ValueError, "threads must"),
    "empty X": (
        lambda: train_fast(np.zeros((784, 0)), np.zeros(0, dtype=np.int64)),
        ValueError,
        "pass at least one example",
    ),
    "X a list": (
        lambda: train_fast([[0.5]], np.zeros(1, dtype=np.int64)),
        TypeError,
        "NumPy array",
    ),
    "X.T": (
        lambda: train_fast(batch(4)[0].T, batch(4)[1]),
        ValueError,
        "4 labels but X has 784",
    ),
    "NaN in the last chunk": (
        lambda: train_fast(
            np.where(np.arange(50) == 49, np.nan, batch(50)[0]),
            batch(50)[1],
            chunk_size=8,
        ),
        ValueError,
        "X contains NaN or infinity",
    ),
    "params for other inputs": (
        call(params=init_params(n_in=10)),
        ValueError,
        "W1 has 10 columns but X has 784 rows",
    ),
    "labels out of range": (
        lambda: train_fast(batch(4)[0], np.array([0, 1, 2, 10])),
        ValueError,
        "must lie in 0..9",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal(case: str) -> None:
    call, error, fragment = REFUSALS[case]
    with pytest.raises(error) as raised:
        call()
    message = str(raised.value)
    assert fragment in message, f"{case}: message {message!r} lacks {fragment!r}"


def test_fast_warns_about_raw_bytes() -> None:
    X, Y = batch(16)
    with pytest.warns(InputRangeWarning, match=r"outside \[0, 1\]"):
        train_fast(X * 255, Y, iterations=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        train_fast(X, Y, iterations=1)


def test_overflow_stops_with_the_last_finite_parameters() -> None:
    X, Y = batch(64, dtype=np.float32)  # 1e100 * dW overflows float32 at once
    with pytest.raises(DivergenceError) as raised:
        train_fast(X, Y, lr=1e100, iterations=20, chunk_size=16)
    error = raised.value
    assert "overflowed to infinity or NaN at iteration" in str(error)
    assert "try a smaller one, such as 0.1" in str(error)
    assert all(np.all(np.isfinite(array)) for array in error.params.values()), (
        "finite params"
    )
    assert set(error.params) == set(NAMES)


def test_a_loss_that_rises_is_divergence() -> None:
    X, Y = batch(200)
    rose = r"the loss rose from .* instead of falling"
    with pytest.raises(DivergenceError, match=rose) as raised:
        train_fast(X, Y, lr=1e6, iterations=30, chunk_size=64)
    assert raised.value.iteration == 29, "reported at the last iteration"
    assert raised.value.loss > 2 * 2.0, "the loss it reports is the high one"
