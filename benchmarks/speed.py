"""Speed of one training iteration: the seed's code, the book's engines, the torch twin.

Run from the repository root, on a machine that runs nothing else:

    python benchmarks/speed.py              # 5 rounds (about 2 minutes on 2 cores)
    python benchmarks/speed.py --rounds 1 --no-write    # a quick check that it runs

Everything runs in ONE process on the same 60,000 MNIST training images, interleaved: each
round times every engine once, and each engine keeps its best round, so that a busy moment
of the machine slows all engines alike and the best round is the least disturbed one. An
iteration's time is (time of a run of LONG iterations - time of a run of SHORT iterations)
/ (LONG - SHORT): the one-off costs of a call (checking X, the twin's copy of X to rows,
starting threads) cancel out.

Also in the same run:

- the CPU time per iteration of each engine held to one core (its work, nearly
  independent of what else the machine runs);
- the machine's reference points: a *derived* nominal peak of float32 multiply-adds (the
  cores, the vector width and the clock the machine reports, times two FMA units per
  core, an assumption stated in the table), and *measured* rates: reading X once, one
  W1 @ X, a large square product; and the two forms of the dW1 product at the engine's
  chunk size, in both dtypes;
- a sweep of train_fast's chunk size, and the peak memory each engine allocates on top of
  the X it is given (tracemalloc sees every NumPy array).

Prints everything and writes the tables that the chapter "Making it fast" includes,
docs/generated/speed.md, speed-work.md, speed-limits.md, speed-dw1.md, speed-chunks.md
and speed-memory.md, and the numbers its sentences quote, docs/generated/speed.json
(booktools.numbers).
"""

import argparse
import os
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the book's tooling (booktools), run as a script

from booktools import machine  # noqa: E402
from booktools.numbers import write_generated  # noqa: E402
from mnist_math import gradient_descent, init_params, train_fast  # noqa: E402
from mnist_math.data import as_columns, load_mnist  # noqa: E402
from mnist_math.torch_twin import train_torch  # noqa: E402

GENERATED = ROOT / "docs" / "generated"
SHORT = 1
LONG = 16
CHUNK = 1024  # train_fast's default chunk size
# Fused multiply-add units per core, each as wide as the widest vector instructions: two
# on Zen 5 (AMD family 26) and on Intel's server cores with AVX-512. This cannot be read
# from the machine; where the units are narrower than the instructions (Zen 4 runs AVX-512
# on 256-bit units), the derived peak overstates the real one, and is still not exceeded.
FMA_UNITS = 2


# --------------------------------------------------------------------------------------
# The seed's own code, as the seed project writes it (float64, built-in sum, one_hot at
# every iteration). Only the print of its loop is left out.


def seed_init_params():
    W1 = np.random.rand(10, 784) - 0.5
    b1 = np.random.rand(10, 1) - 0.5
    W2 = np.random.rand(10, 10) - 0.5
    b2 = np.random.rand(10, 1) - 0.5
    return W1, b1, W2, b2


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    A = np.exp(Z) / sum(np.exp(Z))
    return A


def forward_prop(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def deriv_ReLU(Z):
    return Z > 0


def one_hot(Y):
    one_hot_Y = np.zeros((Y.size, Y.max() + 1))
    one_hot_Y[np.arange(Y.size), Y] = 1
    one_hot_Y = one_hot_Y.T
    return one_hot_Y


def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y):
    m = Y.size
    one_hot_Y = one_hot(Y)
    dZ2 = A2 - one_hot_Y
    dW2 = 1 / m * np.dot(dZ2, A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(W2.T, dZ2) * deriv_ReLU(Z1)
    dW1 = 1 / m * np.dot(dZ1, X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return dW1, db1, dW2, db2


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    W1 = W1 - alpha * dW1
    b1 = b1 - alpha * db1
    W2 = W2 - alpha * dW2
    b2 = b2 - alpha * db2
    return W1, b1, W2, b2


def get_predictions(A2):
    return np.argmax(A2, 0)


def get_accuracy(predictions, Y):
    return np.sum(predictions == Y) / Y.size


def seed_gradient_descent(X, Y, alpha, iterations):
    W1, b1, W2, b2 = seed_init_params()
    for i in range(iterations):
        Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
        dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
        W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
        if i % 10 == 0:
            get_accuracy(get_predictions(A2), Y)
    return W1, b1, W2, b2


# --------------------------------------------------------------------------------------
# Measurements


def timed(call, clock=time.perf_counter) -> float:
    start = clock()
    call()
    return clock() - start


def engines(data: dict) -> dict:
    """name -> (description, dtype, threads, function(iterations) running that many)."""
    X64, X32, Y = data["X64"], data["X32"], data["Y"]
    start64 = init_params(seed=0)
    start32 = init_params(seed=0, dtype=np.float32)
    n = machine.cores()
    return {
        "seed": (
            "seed's code",
            "float64",
            "BLAS: all",
            lambda k: seed_gradient_descent(X64, Y, 0.1, k),
        ),
        "reference64": (
            "reference `gradient_descent`",
            "float64",
            "BLAS: all",
            lambda k: gradient_descent(X64, Y, iterations=k, params=start64),
        ),
        "reference32": (
            "reference `gradient_descent`",
            "float32",
            "BLAS: all",
            lambda k: gradient_descent(X32, Y, iterations=k, params=start32),
        ),
        "fast64": (
            "`train_fast`",
            "float64",
            f"{n} threads",
            lambda k: train_fast(X64, Y, iterations=k, params=start64),
        ),
        "fast32_1": (
            "`train_fast`",
            "float32",
            "1 thread",
            lambda k: train_fast(X32, Y, iterations=k, params=start32, threads=1),
        ),
        "fast32": (
            "`train_fast`",
            "float32",
            f"{n} threads",
            lambda k: train_fast(X32, Y, iterations=k, params=start32),
        ),
        "torch32": (
            "torch twin `train_torch`, CPU",
            "float32",
            f"torch: {torch.get_num_threads()}",
            lambda k: train_torch(
                X32, Y, iterations=k, params=start32, device="cpu", dtype="float32"
            ),
        ),
    }


def per_iteration(run, label: str, results: dict, clock=time.perf_counter) -> None:
    """Time run(SHORT) and run(LONG) once; keep the best of each over the rounds."""
    short = timed(lambda: run(SHORT), clock)
    long = timed(lambda: run(LONG), clock)
    best = results.setdefault(label, {"short": np.inf, "long": np.inf})
    best["short"] = min(best["short"], short)
    best["long"] = min(best["long"], long)


def iteration_ms(best: dict) -> float:
    return 1000 * (best["long"] - best["short"]) / (LONG - SHORT)


def one_core_work(data: dict, rounds: int) -> dict:
    """CPU time per iteration of each engine on one core (one BLAS thread, one thread).

    CPU time counts only the time the process ran, so unlike wall-clock time it barely
    changes when other programs compete for the cores: it measures each engine's work.
    """
    table = engines(data)
    start32 = init_params(seed=0, dtype=np.float32)
    start64 = init_params(seed=0)
    runs = {label: table[label][3] for label in ("seed", "reference64", "reference32")}
    runs["fast64"] = lambda k: train_fast(
        data["X64"], data["Y"], iterations=k, params=start64, threads=1
    )
    runs["fast32"] = lambda k: train_fast(
        data["X32"], data["Y"], iterations=k, params=start32, threads=1
    )
    runs["torch32"] = table["torch32"][3]
    results: dict = {}
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(rounds):
                for label, run in runs.items():
                    per_iteration(run, label, results, clock=time.process_time)
    finally:
        torch.set_num_threads(torch_threads)
    return {label: iteration_ms(best) for label, best in results.items()}


def nominal_peak(cpu: machine.Processor) -> float:
    """Float32 flop/s of all cores at the reported clock: cores x FMA units x lanes x 2.

    A fused multiply-add is two floating-point operations; a vector of ``vector_bits``
    holds ``vector_bits / 32`` float32 numbers. Not an upper bound if the cores run above
    the reported clock (boost), which a virtual machine does not report.
    """
    if cpu.clock_ghz is None:
        return float("nan")
    lanes = cpu.vector_bits // 32
    return cpu.cores * FMA_UNITS * lanes * 2 * cpu.clock_ghz * 1e9


def clock_text() -> str:
    clock = machine.processor().clock_ghz
    return "clock unknown" if clock is None else f"{clock:.2f} GHz reported"


def best_of(rounds: int, call) -> float:
    return min(timed(call) for _ in range(rounds))


def reference_points(data: dict, rounds: int) -> dict:
    """Seconds of: reading X, one W1 @ X, a square product; one BLAS thread and all."""
    X32 = data["X32"]
    h, n = 10, X32.shape[0]
    rng = np.random.default_rng(0)
    W1 = rng.uniform(-0.5, 0.5, size=(h, n)).astype(np.float32)
    ones = np.ones(n, dtype=np.float32)
    size = 2048
    square = rng.standard_normal((size, size), dtype=np.float32)
    halves = [X32[: n // 2], X32[n // 2 :]]  # contiguous blocks of rows
    seconds = {}
    # Reading X once: the fastest of a NumPy sum and a BLAS matrix-vector product (which
    # streams X through the vector units), on one core, and on all cores.
    with threadpool_limits(limits=1, user_api="blas"):
        seconds["read1"] = min(
            best_of(rounds, lambda: X32.sum()), best_of(rounds, lambda: ones @ X32)
        )
        seconds["skinny1"] = best_of(rounds, lambda: W1 @ X32)
        seconds["square1"] = best_of(rounds, lambda: square @ square)
        with ThreadPoolExecutor(2) as pool:
            threaded = best_of(
                rounds,
                lambda: list(pool.map(lambda rows: ones[: len(rows)] @ rows, halves)),
            )
    seconds["read"] = min(seconds["read1"], threaded, best_of(rounds, lambda: ones @ X32))
    seconds["skinny"] = best_of(rounds, lambda: W1 @ X32)
    seconds["square"] = best_of(rounds, lambda: square @ square)
    return {
        **seconds,
        "square_flop": 2 * size**3,
        "skinny_flop": 2 * h * n * X32.shape[1],
        "bytes": X32.nbytes,
    }


def dw1_forms(data: dict, rounds: int) -> dict:
    """Milliseconds per iteration of dW1's two product forms, over chunks of CHUNK columns
    of X with one BLAS thread, as train_fast computes them, in float32 and float64."""
    rng = np.random.default_rng(0)
    results = {}
    for dtype, X in (("float32", data["X32"]), ("float64", data["X64"])):
        m = X.shape[1]
        dZ1 = rng.uniform(-0.5, 0.5, size=(10, CHUNK)).astype(X.dtype)
        chunks = [X[:, start : start + CHUNK] for start in range(0, m - CHUNK + 1, CHUNK)]
        scale = m / (len(chunks) * CHUNK)  # to the full m of an iteration

        def plain(chunks=chunks, dZ1=dZ1):
            total = np.zeros((10, chunks[0].shape[0]), dtype=dZ1.dtype)
            for Xc in chunks:
                total += dZ1 @ Xc.T

        def transposed(chunks=chunks, dZ1=dZ1):
            total = np.zeros((10, chunks[0].shape[0]), dtype=dZ1.dtype)
            for Xc in chunks:
                total += (Xc @ dZ1.T).T

        with threadpool_limits(limits=1, user_api="blas"):
            for name, form in (("plain", plain), ("transposed", transposed)):
                results[f"{name}_{dtype}"] = 1000 * scale * best_of(rounds, form)
    return results


def memory(data: dict) -> dict:
    """Peak bytes each engine allocates on top of its X, over a 3-iteration run."""
    X64, X32, Y = data["X64"], data["X32"], data["Y"]
    start32 = init_params(seed=0, dtype=np.float32)
    runs = {
        "seed": lambda: seed_gradient_descent(X64, Y, 0.1, 3),
        "reference32": lambda: gradient_descent(
            X32, Y, iterations=3, params=start32, record_every=1
        ),
        "fast32": lambda: train_fast(
            X32, Y, iterations=3, params=start32, record_every=1
        ),
    }
    peaks = {}
    for name, run in runs.items():
        tracemalloc.start()
        run()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[name] = peak
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    (x_train, y_train), _test = load_mnist()
    X64 = as_columns(x_train)
    data = {"X64": X64, "X32": X64.astype(np.float32), "Y": y_train.astype(np.int64)}
    np.random.seed(0)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    began = time.perf_counter()
    table = engines(data)
    chunk_sizes = (128, CHUNK, 8192)
    start32 = init_params(seed=0, dtype=np.float32)
    results: dict = {}
    for round_number in range(args.rounds):
        for label, (_name, _dtype, _threads, run) in table.items():
            per_iteration(run, label, results)
        for chunk in chunk_sizes:
            per_iteration(
                lambda k, chunk=chunk: train_fast(
                    data["X32"], data["Y"], iterations=k, params=start32, chunk_size=chunk
                ),
                f"chunk{chunk}",
                results,
            )
        print(
            f"round {round_number + 1}/{args.rounds}: "
            + ", ".join(
                f"{label} {iteration_ms(best):.1f}" for label, best in results.items()
            ),
            flush=True,
        )
    measured = {
        "wall": {label: iteration_ms(best) for label, best in results.items()},
        "work": one_core_work(data, max(2, args.rounds // 2)),
        "points": reference_points(data, args.rounds),
        "dw1": dw1_forms(data, args.rounds),
        "memory": memory(data),
    }
    seconds = time.perf_counter() - began
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    footer = (
        f"Measured on {machine.cpu()}, {machine.cores()} cores, {clock_text()}; "
        f"NumPy {np.__version__} with "
        f"{machine.blas()}, PyTorch {torch.__version__}; {Path(__file__).name} ran "
        f"{seconds:.0f} s, load average {load_before:.1f} before and {load_after:.1f} "
        "after (a load above the number of cores means that other programs were "
        "competing for them, and the wall-clock times are less reliable)."
    )
    tables, numbers = report(table, measured, data, chunk_sizes, footer)
    # Quiet: less than half the cores busy in the minute before the run. The book's words
    # about the wall-clock times are checked against a quiet run only (tests/test_benchmarks.py).
    quiet = load_before < machine.cores() / 2
    numbers.update(quiet="yes" if quiet else "no", load_before=f"{load_before:.1f}")
    print()
    for name, text in tables.items():
        print(f"--- {name}\n{text}")
    for key, value in numbers.items():
        print(f"{key}: {value}")
    if not args.no_write:
        paths = write_generated("speed", tables, numbers)
        written = ", ".join(path.name for path in paths)
        print(f"wrote {written} in {GENERATED.relative_to(ROOT)}")
    if not quiet:
        print(
            f"the machine was busy (load average {load_before:.1f} before the run, "
            f"{machine.cores()} cores): these wall-clock times are not the book's; "
            "rerun on a quiet machine"
        )


# --------------------------------------------------------------------------------------
# Report


def report(table, measured, data, chunk_sizes, footer) -> tuple[dict, dict]:
    """The tables (file name -> Markdown) and the numbers the prose quotes (key -> text)."""
    ms, work, points = measured["wall"], measured["work"], measured["points"]
    dw1, peaks = measured["dw1"], measured["memory"]
    cpu = machine.processor()
    seed, fast = ms["seed"], ms["fast32"]
    numbers = {}

    rows = [
        "| engine | dtype | threads | ms per iteration | speed-up over the seed's code |",
        "|---|---|---|---:|---:|",
    ]
    for label, (name, dtype, threads, _run) in table.items():
        rows.append(
            f"| {name} | {dtype} | {threads} | {ms[label]:.1f} | {seed / ms[label]:.2f}× |"
        )
        numbers[f"ms_{label}"] = f"{ms[label]:.1f}"
        numbers[f"x_{label}"] = f"{seed / ms[label]:.2f}×"
    comparisons = [
        (
            "`train_fast` (float32) faster than the torch twin on the CPU",
            "fast32",
            "torch32",
        ),
        ("float32 faster than float64 (`train_fast`)", "fast32", "fast64"),
        ("float32 faster than float64 (reference)", "reference32", "reference64"),
    ]
    verdicts = [
        f"- {claim}: **{'yes' if ms[quick] < ms[slow] else 'no'}** "
        f"({ms[slow] / ms[quick]:.2f}×)"
        for claim, quick, slow in comparisons
    ]
    speed = "\n".join(rows) + "\n\n" + "\n".join(verdicts) + f"\n\n{footer}\n"
    numbers["second_core"] = f"{ms['fast32_1'] / fast:.2f}×"

    work_rows = [
        "| engine | dtype | CPU ms per iteration, one core | speed-up over the seed's code |",
        "|---|---|---:|---:|",
    ]
    for label, (name, dtype) in {
        "seed": ("seed's code", "float64"),
        "reference64": ("reference `gradient_descent`", "float64"),
        "reference32": ("reference `gradient_descent`", "float32"),
        "fast64": ("`train_fast`", "float64"),
        "fast32": ("`train_fast`", "float32"),
        "torch32": ("torch twin `train_torch`, CPU", "float32"),
    }.items():
        work_rows.append(
            f"| {name} | {dtype} | {work[label]:.1f} | {work['seed'] / work[label]:.2f}× |"
        )
        numbers[f"work_{label}"] = f"{work[label]:.1f}"
    work_text = "\n".join(work_rows) + f"\n\n{footer}\n"
    numbers["float32_work"] = f"{work['reference64'] / work['reference32']:.2f}×"
    numbers["chunks_work"] = f"{1 - work['fast32'] / work['reference32']:.0%}"
    # What the second core does for each: one core's work against all cores' wall clock.
    numbers["seed_cores"] = f"{work['seed'] / ms['seed']:.2f}×"
    numbers["fast_cores"] = f"{work['fast32'] / ms['fast32']:.2f}×"

    peak = nominal_peak(cpu)
    two_products = 2 * points["skinny_flop"]
    square1 = points["square_flop"] / points["square1"]
    square = points["square_flop"] / points["square"]
    skinny1 = points["skinny_flop"] / points["skinny1"]
    skinny = points["skinny_flop"] / points["skinny"]
    read1 = points["bytes"] / points["read1"]
    read = points["bytes"] / points["read"]
    clock = f"{cpu.clock_ghz:.2f} GHz" if cpu.clock_ghz else "an unknown clock"
    lanes = cpu.vector_bits // 32
    limit_rows = [
        "| reference point | derived or measured | rate | an iteration's share (ms) |",
        "|---|---|---:|---:|",
        f"| nominal peak of float32 multiply-adds, all cores | derived: {cpu.cores} cores × "
        f"{FMA_UNITS} FMA units × {lanes} lanes × 2 flop × {clock} | "
        f"{peak / 1e9:.1f} Gflop/s | {1000 * two_products / peak:.1f} |",
        f"| 2048 × 2048 square product, all BLAS threads | measured | "
        f"{square / 1e9:.1f} Gflop/s | {1000 * two_products / square:.1f} |",
        f"| 2048 × 2048 square product, one BLAS thread | measured | "
        f"{square1 / 1e9:.1f} Gflop/s | |",
        f"| one `W1 @ X` (all of $X$), all BLAS threads | measured | "
        f"{skinny / 1e9:.1f} Gflop/s | {1000 * two_products / skinny:.1f} |",
        f"| one `W1 @ X` (all of $X$), one BLAS thread | measured | "
        f"{skinny1 / 1e9:.1f} Gflop/s | |",
        f"| read $X$ once ({points['bytes'] / 1e6:.0f} MB), all cores | measured | "
        f"{read / 1e9:.1f} GB/s | {1000 * points['read']:.1f} |",
        f"| read $X$ once, one core | measured | {read1 / 1e9:.1f} GB/s | "
        f"{1000 * points['read1']:.1f} |",
    ]
    fast_rate = two_products / (fast / 1000)
    fast_bandwidth = points["bytes"] / (fast / 1000)
    reference_ms = max(1000 * points["read"], 1000 * two_products / peak)
    limits_text = (
        "\n".join(limit_rows)
        + "\n\nAn iteration's share is the time of the iteration's two products with $X$ "
        f"({two_products / 1e9:.2f} Gflop) at that rate, or of reading $X$ once. "
        f"`train_fast` (float32, all cores) computes them at {fast_rate / 1e9:.1f} "
        f"Gflop/s ({fast_rate / peak:.0%} of the nominal peak) and reads $X$ at "
        f"{fast_bandwidth / 1e9:.1f} GB/s. The derived peak assumes {FMA_UNITS} FMA units "
        f"as wide as the {cpu.vector_name} instructions per core and the clock that "
        f"{cpu.clock_source} reports; a core that boosts above it can exceed it.\n\n"
        f"{footer}\n"
    )
    numbers.update(
        peak_gflops=f"{peak / 1e9:.0f}",
        peak_ms=f"{1000 * two_products / peak:.1f}",
        clock_ghz=f"{cpu.clock_ghz:.2f}" if cpu.clock_ghz else "unknown",
        square_gflops=f"{square / 1e9:.0f}",
        square_share=f"{square / peak:.0%}",
        skinny_gflops=f"{skinny / 1e9:.0f}",
        skinny_share=f"{skinny / peak:.0%}",
        read_gbs=f"{read / 1e9:.0f}",
        read_ms=f"{1000 * points['read']:.1f}",
        reference_ms=f"{reference_ms:.1f}",
        fast_vs_reference=f"{fast / reference_ms:.1f}",
        fast_gflops=f"{fast_rate / 1e9:.0f}",
        fast_share=f"{fast_rate / peak:.0%}",
        fast_gbs=f"{fast_bandwidth / 1e9:.1f}",
    )

    dw1_rows = [
        "| dtype | `dZ1 @ Xc.T` (ms) | `(Xc @ dZ1.T).T` (ms) | transposed form faster |",
        "|---|---:|---:|---|",
    ]
    for dtype in ("float32", "float64"):
        plain, transposed = dw1[f"plain_{dtype}"], dw1[f"transposed_{dtype}"]
        dw1_rows.append(
            f"| {dtype} | {plain:.1f} | {transposed:.1f} | "
            f"{'yes' if transposed < plain else '**no**'} |"
        )
        numbers[f"dw1_plain_{dtype}"] = f"{plain:.1f}"
        numbers[f"dw1_transposed_{dtype}"] = f"{transposed:.1f}"
    dw1_text = (
        "\n".join(dw1_rows)
        + f"\n\nThe time of an iteration's $dW^{{[1]}}$ products, chunks of {CHUNK:,} "
        f"columns of $X$, one BLAS thread, best of the rounds. {footer}\n"
    )

    chunk_rows = [
        "| chunk size | ms per iteration (`train_fast`, float32, all cores) |",
        "|---:|---:|",
    ]
    for chunk in chunk_sizes:
        chunk_rows.append(f"| {chunk:,} | {ms[f'chunk{chunk}']:.1f} |")
        numbers[f"chunk_{chunk}"] = f"{ms[f'chunk{chunk}']:.1f}"
    chunks_text = "\n".join(chunk_rows) + f"\n\n{footer}\n"

    names = {
        "seed": "seed's code (float64 X)",
        "reference32": "reference `gradient_descent` (float32 X)",
        "fast32": "`train_fast` (float32 X)",
    }
    memory_rows = ["| engine | peak allocated on top of $X$ (MB) |", "|---|---:|"]
    for label, peak_bytes in peaks.items():
        memory_rows.append(f"| {names[label]} | {peak_bytes / 1e6:.1f} |")
        numbers[f"memory_{label}"] = f"{peak_bytes / 1e6:.1f}"
    memory_text = "\n".join(memory_rows) + (
        f"\n\n$X$ itself holds {data['X32'].nbytes / 1e6:.0f} MB in float32 and "
        f"{data['X64'].nbytes / 1e6:.0f} MB in float64. {footer}\n"
    )
    tables = {
        "speed.md": speed,
        "speed-work.md": work_text,
        "speed-limits.md": limits_text,
        "speed-dw1.md": dw1_text,
        "speed-chunks.md": chunks_text,
        "speed-memory.md": memory_text,
    }
    return tables, numbers


if __name__ == "__main__":
    main()
