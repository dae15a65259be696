"""What precision training needs: the seed's run in float64 and in float32.

Run from the repository root:

    python benchmarks/precision.py

Trains the seed's configuration (784 -> 10 -> 10, uniform init with seed 0, lr 0.1, 500
full-batch iterations on the 60,000 training images) with chapter 7's gradient_descent in
float64 (the book's reference run) and with train_fast in float64 and in float32, and
reports for each the final training loss, the test accuracy on the 10,000 test images and
the wall-clock time of the run (one run each: benchmarks/speed.py is the careful timing).
Prints the table and writes docs/generated/precision.md, which the chapter "Making it fast"
includes.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from mnist_math import accuracy, gradient_descent, predict, train_fast
from mnist_math.data import as_columns, load_mnist

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "generated" / "precision.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    Y_train = y_train.astype(np.int64)
    Y_test = y_test.astype(np.int64)
    runs = (
        ("reference `gradient_descent`", np.float64, gradient_descent),
        ("`train_fast`", np.float64, train_fast),
        ("`train_fast`", np.float32, train_fast),
    )
    rows = [
        "| engine | dtype | final training loss | test accuracy | time of the run (s) |",
        "|---|---|---:|---:|---:|",
    ]
    accuracies = {}
    load_before = os.getloadavg()[0]
    for name, dtype, trainer in runs:
        X_train = as_columns(x_train, dtype=dtype)
        X_test = as_columns(x_test, dtype=dtype)
        start = time.perf_counter()
        params, history = trainer(X_train, Y_train, lr=0.1, iterations=500, seed=0)
        seconds = time.perf_counter() - start
        test_accuracy = accuracy(predict(params, X_test), Y_test)
        accuracies[(name, np.dtype(dtype).name)] = test_accuracy
        row = (
            f"| {name} | {np.dtype(dtype).name} | {history['loss'][-1]:.4f} | "
            f"{test_accuracy:.2%} | {seconds:.1f} |"
        )
        print(row, flush=True)
        rows.append(row)
    load_after = os.getloadavg()[0]
    reference = accuracies[("reference `gradient_descent`", "float64")]
    gap32 = abs(accuracies[("`train_fast`", "float32")] - reference)
    gap64 = abs(accuracies[("`train_fast`", "float64")] - reference)
    text = "\n".join(rows) + (
        f"\n\nThe test accuracy of `train_fast` differs from the reference's by "
        f"{100 * gap64:.2f} percentage points in float64 and {100 * gap32:.2f} in float32 "
        f"(one image of the 10,000 is 0.01 points). Times are single runs, load average "
        f"{load_before:.1f} before and {load_after:.1f} after.\n"
    )
    print(text)
    if not args.no_write:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
