"""What precision training needs: the seed's run in float64 and in float32, and how far
two correct engines drift apart.

Run from the repository root:

    python benchmarks/precision.py              # about 3 minutes on 2 quiet cores
    python benchmarks/precision.py --no-write   # print only

Trains the seed's configuration (784 -> 10 -> 10, uniform init with seed 0, lr 0.1, 500
full-batch iterations on the 60,000 training images) with chapter 7's gradient_descent in
float64 (the book's reference run) and with train_fast in float64 and in float32. Each run
is cut at the iterations CHECKPOINTS (a full-batch step depends only on the weights it
starts from, so a run continued from its own weights takes exactly the same steps) to
compare the engines' weights with the reference's there, against the tolerance
``trajectory_tolerance`` of the chapter "Making it fast".

Writes docs/generated/precision.md (final loss, test accuracy, time of each run),
docs/generated/precision-drift.md (the largest weight difference against the tolerance at
each checkpoint) and docs/generated/precision.json (the numbers the chapter's sentences
quote, booktools.numbers).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the book's tooling (booktools), run as a script

from booktools import machine  # noqa: E402
from booktools.numbers import write_generated  # noqa: E402
from mnist_math import (  # noqa: E402
    accuracy,
    gradient_descent,
    init_params,
    predict,
    train_fast,
)
from mnist_math.data import as_columns, load_mnist  # noqa: E402
from mnist_math.fast import trajectory_tolerance  # noqa: E402

GENERATED = ROOT / "docs" / "generated"
ITERATIONS = 500
CHECKPOINTS = (1, 5, 20, 100, ITERATIONS)
RUNS = {
    "reference": ("reference `gradient_descent`", np.float64, gradient_descent),
    "fast64": ("`train_fast`", np.float64, train_fast),
    "fast32": ("`train_fast`", np.float32, train_fast),
}


def run_in_segments(trainer, X, Y, start) -> dict:
    """Train from ``start`` for ITERATIONS steps, cut at CHECKPOINTS.

    Returns the weights at each checkpoint, the last loss recorded and the seconds spent
    training (each cut adds one call's checks of X, a few tenths of a second).
    """
    params, done, seconds, snapshots = start, 0, 0.0, {}
    for checkpoint in CHECKPOINTS:
        began = time.perf_counter()
        params, history = trainer(
            X, Y, lr=0.1, iterations=checkpoint - done, params=params
        )
        seconds += time.perf_counter() - began
        snapshots[checkpoint] = params
        done = checkpoint
    return {"snapshots": snapshots, "loss": history["loss"][-1], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    Y_train = y_train.astype(np.int64)
    Y_test = y_test.astype(np.int64)
    start = init_params(seed=0)  # float64; train_fast converts it once for float32
    load_before = os.getloadavg()[0]
    results = {}
    for label, (name, dtype, trainer) in RUNS.items():
        X_train = as_columns(x_train, dtype=dtype)
        result = run_in_segments(trainer, X_train, Y_train, start)
        final = result["snapshots"][ITERATIONS]
        result["accuracy"] = accuracy(
            predict(final, as_columns(x_test, dtype=dtype)), Y_test
        )
        results[label] = result
        print(
            f"{name} {np.dtype(dtype).name}: loss {result['loss']:.4f}, test accuracy "
            f"{result['accuracy']:.2%}, {result['seconds']:.1f} s",
            flush=True,
        )
    load_after = os.getloadavg()[0]
    footer = (
        f"Measured on {machine.cpu()}, {machine.cores()} cores, NumPy {np.__version__} with "
        f"{machine.blas()}; single runs, load average {load_before:.1f} before and "
        f"{load_after:.1f} after."
    )
    tables, numbers = report(results, footer)
    print()
    for text in tables.values():
        print(text)
    for key, value in numbers.items():
        print(f"{key}: {value}")
    if not args.no_write:
        paths = write_generated("precision", tables, numbers)
        print(f"wrote {', '.join(path.name for path in paths)} in {GENERATED}")


def report(results: dict, footer: str) -> tuple[dict, dict]:
    """The tables (file name -> Markdown) and the numbers the prose quotes (key -> text).

    ``results`` maps each of RUNS to its ``snapshots`` (the weights at each checkpoint),
    final ``loss``, test ``accuracy`` and ``seconds``.
    """
    numbers = {}

    rows = [
        "| engine | dtype | final training loss | test accuracy | time of the run (s) |",
        "|---|---|---:|---:|---:|",
    ]
    for label, (name, dtype, _trainer) in RUNS.items():
        result = results[label]
        rows.append(
            f"| {name} | {np.dtype(dtype).name} | {result['loss']:.4f} | "
            f"{result['accuracy']:.2%} | {result['seconds']:.1f} |"
        )
        numbers[f"accuracy_{label}"] = f"{result['accuracy']:.2%}"
        numbers[f"seconds_{label}"] = f"{result['seconds']:.1f}"
    reference = results["reference"]["accuracy"]
    for label in ("fast64", "fast32"):
        gap = abs(results[label]["accuracy"] - reference)
        numbers[f"gap_{label}"] = f"{100 * gap:.2f}"
    table = "\n".join(rows) + (
        f"\n\nThe test accuracy of `train_fast` differs from the reference's by "
        f"{numbers['gap_fast64']} percentage points in float64 and {numbers['gap_fast32']} "
        f"in float32 (one image of the 10,000 is 0.01 points). {footer}\n"
    )

    drift_rows = [
        "| iterations $t$ | dtype | $\\tau$ | largest difference | difference / $\\tau$ |",
        "|---:|---|---:|---:|---:|",
    ]
    closest = []  # (largest ratio, dtype, at t) of each engine
    for label in ("fast64", "fast32"):
        dtype = RUNS[label][1]
        ratios = []
        for t in CHECKPOINTS:
            ours = results[label]["snapshots"][t]
            theirs = results["reference"]["snapshots"][t]
            largest = max(float(np.max(np.abs(array))) for array in theirs.values())
            tolerance = trajectory_tolerance(dtype, t, largest)
            difference = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in theirs)
            ratios.append(difference / tolerance)
            drift_rows.append(
                f"| {t} | {np.dtype(dtype).name} | {tolerance:.1e} | {difference:.1e} | "
                f"{difference / tolerance:.2f} |"
            )
            numbers[f"drift_{label}_{t}"] = f"{difference / tolerance:.2f}"
        worst = int(np.argmax(ratios))
        closest.append((ratios[worst], np.dtype(dtype).name, CHECKPOINTS[worst]))
    ratio, dtype_name, t = max(closest)
    numbers.update(
        drift_max=f"{ratio:.2f}",
        drift_max_dtype=dtype_name,
        drift_max_at=f"{t}",
        drift_margin=f"{1 / ratio:.1f}",
    )
    drift = "\n".join(drift_rows) + (
        "\n\nThe largest absolute difference between the weights of `train_fast` and of the "
        "float64 reference `gradient_descent` after $t$ iterations of the seed's run, and "
        "the tolerance $\\tau = 2(t+1)u\\max|\\theta|$ of the engine's dtype. A ratio below "
        f"1 is within the tolerance. {footer}\n"
    )

    return {"precision.md": table, "precision-drift.md": drift}, numbers


if __name__ == "__main__":
    main()
