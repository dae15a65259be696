"""Why backpropagation is cheap: one gradient by finite differences and by backward_prop.

Run from the repository root:

    python benchmarks/backprop_cost.py            # measure, print, write the numbers
    python benchmarks/backprop_cost.py --no-write # measure and print only

On the first ``--images`` training images (default 1,000) and the seed's network
(``init_params(seed=0)``, 784 -> 10 -> 10, 7,960 parameters), it times

- the gradient by central differences: every parameter nudged up and down by 1e-5, two
  forward passes (``forward_prop`` and ``cross_entropy``) per parameter, 15,920 in all;
- the gradient by backpropagation: one ``forward_prop`` and one ``backward_prop``, averaged
  over ``--repeat`` calls, and one ``forward_prop`` alone, the same way;

each the best of ``--rounds`` rounds, so that both times are averages over many calls
measured the same way;

checks that the two gradients agree, and writes the times, their ratio and the CPU into
docs/generated/backprop-cost.json (booktools.numbers), the numbers chapter 5 quotes in its
section "Why backward propagation is cheap". Times are wall-clock on one process; run it on
a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(
    0, str(ROOT)
)  # the book's tooling (booktools) is not an installed package

from booktools.machine import cores, cpu  # noqa: E402
from booktools.numbers import write_numbers  # noqa: E402
from mnist_math import backward_prop, cross_entropy, forward_prop, init_params  # noqa: E402
from mnist_math.data import as_columns, load_mnist  # noqa: E402

EPS = 1e-5


def finite_difference_gradient(
    params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> tuple[dict[str, np.ndarray], int]:
    """The central-difference gradient of the mean loss, and the forward passes it took."""
    passes = 0
    gradient = {}
    for name, value in params.items():
        gradient[name] = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + EPS
            plus = cross_entropy(forward_prop(params, X, validate=False)["A2"], Y)
            value[index] = original - EPS
            minus = cross_entropy(forward_prop(params, X, validate=False)["A2"], Y)
            value[index] = original
            gradient[name][index] = (plus - minus) / (2 * EPS)
            passes += 2
    return gradient, passes


def backprop_gradient(
    params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> dict[str, np.ndarray]:
    cache = forward_prop(params, X, validate=False)
    grads = backward_prop(params, cache, X, Y, validate=False)
    return {name: grads["d" + name] for name in params}


def seconds(value: float) -> str:
    """A time as the prose writes it: 12.3 s, 4.56 ms."""
    if value >= 1:
        return f"{value:.1f} s"
    return f"{value * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="default: 1000")
    parser.add_argument("--rounds", type=int, default=3, help="default: 3")
    parser.add_argument("--repeat", type=int, default=100, help="default: 100")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if min(args.images, args.rounds, args.repeat) < 1:
        parser.error("--images, --rounds and --repeat must be positive integers")
    (x_train, y_train), _ = load_mnist()
    X = as_columns(x_train[: args.images])
    Y = y_train[: args.images].astype(np.int64)
    params = init_params(seed=0)

    backprop_times = []
    forward_times = []
    differences_times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.repeat):
            forward_prop(params, X, validate=False)
        forward_times.append((time.perf_counter() - start) / args.repeat)
        start = time.perf_counter()
        for _ in range(args.repeat):
            by_backprop = backprop_gradient(params, X, Y)
        backprop_times.append((time.perf_counter() - start) / args.repeat)
        start = time.perf_counter()
        by_differences, passes = finite_difference_gradient(params, X, Y)
        differences_times.append(time.perf_counter() - start)
    backprop = min(backprop_times)
    forward = min(forward_times)
    differences = min(differences_times)

    worst = max(
        float(np.abs(by_differences[name] - by_backprop[name]).max()) for name in params
    )
    if worst > 1e-8:
        raise SystemExit(f"the two gradients differ by {worst:.1e}: something is wrong")
    ratio = differences / backprop
    values = {
        "images": f"{args.images:,}",
        "forward_passes": f"{passes:,}",
        "finite_differences": seconds(differences),
        "backprop": seconds(backprop),
        "forward": seconds(forward),
        "ratio": f"{float(f'{ratio:.2g}'):,.0f}",
        "cpu": f"{cpu()}, {cores()} cores",
    }
    for key, text in values.items():
        print(f"{key}: {text}")
    print(f"largest difference between the two gradients: {worst:.1e}")
    if not args.no_write:
        path = write_numbers("backprop-cost", values)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
