"""Speed of one training iteration: the seed's code, the book's engines, the torch twin.

Run from the repository root:

    python benchmarks/speed.py            # about 5 rounds; --rounds N for more

Everything runs in ONE process on the same 60,000 MNIST training images, interleaved: each
round times every engine once, and each engine keeps its best round, so that a busy moment
of the machine slows all engines alike and the best round is the least disturbed one. An
iteration's time is (time of a run of LONG iterations - time of a run of SHORT iterations)
/ (LONG - SHORT): the one-off costs of a call (checking X, the twin's copy of X to rows,
starting threads) cancel out.

Also measured in the same run: the physical reference points (reading X once, one float32
W1 @ X and its rate against the rate of a large square float32 product, the "peak"), a
sweep of train_fast's chunk size, and the peak memory each engine allocates on top of the
X it is given (tracemalloc sees every NumPy array).

Prints everything and writes the tables that the chapter "Making it fast" includes:
docs/generated/speed.md, speed-limits.md, speed-chunks.md and speed-memory.md.
"""

import argparse
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from mnist_math import gradient_descent, init_params, train_fast
from mnist_math.data import as_columns, load_mnist
from mnist_math.torch_twin import train_torch

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"
SHORT = 1
LONG = 16


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


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def blas_name() -> str:
    for library in threadpool_info():
        if library["user_api"] == "blas":
            return f"{library['internal_api']} {library['version']} ({library['architecture']})"
    return "unknown BLAS"


def engines(data: dict) -> dict:
    """name -> (description, dtype, threads, function(iterations) running that many)."""
    X64, X32, Y = data["X64"], data["X32"], data["Y"]
    start64 = init_params(seed=0)
    start32 = init_params(seed=0, dtype=np.float32)
    n = cores()
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


def reference_points(data: dict, rounds: int) -> dict:
    """Reading X, one W1 @ X (one BLAS thread and all), both dW1 products, a square GEMM."""
    X32 = data["X32"]
    h, n, m = 10, X32.shape[0], X32.shape[1]
    rng = np.random.default_rng(0)
    W1 = rng.uniform(-0.5, 0.5, size=(h, n)).astype(np.float32)
    dZ1 = rng.uniform(-0.5, 0.5, size=(h, m)).astype(np.float32)
    size = 2048
    square = rng.standard_normal((size, size), dtype=np.float32)
    X64, dZ1_64 = data["X64"], dZ1.astype(np.float64)
    keys = (
        "read",
        "skinny1",
        "skinny",
        "dW1",
        "dW1T",
        "dW1_64",
        "dW1T_64",
        "square",
        "square1",
    )
    best = {key: np.inf for key in keys}
    for _ in range(rounds):
        best["read"] = min(best["read"], timed(lambda: X32.sum()))
        best["skinny"] = min(best["skinny"], timed(lambda: W1 @ X32))
        best["square"] = min(best["square"], timed(lambda: square @ square))
        with threadpool_limits(limits=1, user_api="blas"):
            best["skinny1"] = min(best["skinny1"], timed(lambda: W1 @ X32))
            best["square1"] = min(best["square1"], timed(lambda: square @ square))
            best["dW1"] = min(best["dW1"], timed(lambda: dZ1 @ X32.T))
            best["dW1T"] = min(best["dW1T"], timed(lambda: X32 @ dZ1.T))
            best["dW1_64"] = min(best["dW1_64"], timed(lambda: dZ1_64 @ X64.T))
            best["dW1T_64"] = min(best["dW1T_64"], timed(lambda: X64 @ dZ1_64.T))
    flop = 2 * h * n * m
    return {
        "read_ms": 1000 * best["read"],
        "read_gbs": X32.nbytes / best["read"] / 1e9,
        "skinny_ms": 1000 * best["skinny"],
        "skinny_gflops": flop / best["skinny"] / 1e9,
        "skinny1_ms": 1000 * best["skinny1"],
        "skinny1_gflops": flop / best["skinny1"] / 1e9,
        "dW1_ms": 1000 * best["dW1"],
        "dW1T_ms": 1000 * best["dW1T"],
        "dW1_64_ms": 1000 * best["dW1_64"],
        "dW1T_64_ms": 1000 * best["dW1T_64"],
        "square_gflops": 2 * size**3 / best["square"] / 1e9,
        "square1_gflops": 2 * size**3 / best["square1"] / 1e9,
        # The peak of the machine: all cores, unless another program held one of them.
        "peak_gflops": 2 * size**3 / min(best["square"], best["square1"]) / 1e9,
        "flop": flop,
        "bytes": X32.nbytes,
    }


def memory(data: dict) -> dict:
    """Peak bytes each engine allocates on top of its X, over a 3-iteration run."""
    X64, X32, Y = data["X64"], data["X32"], data["Y"]
    start32 = init_params(seed=0, dtype=np.float32)
    runs = {
        "seed's code (float64 X)": lambda: seed_gradient_descent(X64, Y, 0.1, 3),
        "reference `gradient_descent` (float32 X)": lambda: gradient_descent(
            X32, Y, iterations=3, params=start32, record_every=1
        ),
        "`train_fast` (float32 X)": lambda: train_fast(
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
    (x_train, y_train), _test = load_mnist()
    X64 = as_columns(x_train)
    data = {"X64": X64, "X32": X64.astype(np.float32), "Y": y_train.astype(np.int64)}
    np.random.seed(0)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    began = time.perf_counter()
    table = engines(data)
    chunk_sizes = (128, 1024, 8192)
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
    work = one_core_work(data, max(2, args.rounds // 2))
    limits = reference_points(data, args.rounds)
    peaks = memory(data)
    seconds = time.perf_counter() - began
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    write(
        table,
        results,
        work,
        limits,
        peaks,
        data,
        chunk_sizes,
        load=(load_before, load_after),
        seconds=seconds,
        write_files=not args.no_write,
    )


# --------------------------------------------------------------------------------------
# Report


def write(
    table, results, work, limits, peaks, data, chunk_sizes, *, load, seconds, write_files
):
    ms = {label: iteration_ms(results[label]) for label in results}
    seed = ms["seed"]
    machine = (
        f"Measured on {cpu_name()}, {cores()} cores, NumPy {np.__version__} with "
        f"{blas_name()}, PyTorch {torch.__version__}; {os.path.basename(__file__)} ran "
        f"{seconds:.0f} s, load average {load[0]:.1f} before and {load[1]:.1f} after "
        "(a load above the number of cores means that other programs were competing for "
        "them, and the wall-clock times are less reliable)."
    )

    rows = [
        "| engine | dtype | threads | ms per iteration | speed-up over the seed's code |",
        "|---|---|---|---:|---:|",
    ]
    for label, (name, dtype, threads, _run) in table.items():
        rows.append(
            f"| {name} | {dtype} | {threads} | {ms[label]:.1f} | "
            f"{seed / ms[label]:.2f}× |"
        )
    fast = ms["fast32"]
    lower = max(
        limits["read_ms"], 1000 * 2 * limits["flop"] / (limits["peak_gflops"] * 1e9)
    )
    checks = [
        (
            "`train_fast` (float32) at least 2.5× faster than the seed's code",
            seed / fast >= 2.5,
            f"{seed / fast:.2f}×",
        ),
        (
            "`train_fast` (float32) faster than the torch twin on the CPU",
            fast < ms["torch32"],
            f"{ms['torch32'] / fast:.2f}×",
        ),
        (
            "float32 training faster than float64 (`train_fast`)",
            fast < ms["fast64"],
            f"{ms['fast64'] / fast:.2f}×",
        ),
        (
            "float32 training faster than float64 (reference)",
            ms["reference32"] < ms["reference64"],
            f"{ms['reference64'] / ms['reference32']:.2f}×",
        ),
    ]
    speed = (
        "\n".join(rows)
        + "\n\n"
        + "\n".join(
            f"- {claim}: **{'yes' if met else 'no'}** ({ratio})"
            for claim, met, ratio in checks
        )
        + (
            f"\n- The lower bound of an iteration, the larger of reading $X$ once and two "
            f"products at the peak rate, is {lower:.1f} ms: `train_fast` (float32) takes "
            f"{fast / lower:.1f} times as long.\n\n{machine}\n"
        )
    )

    limit_rows = [
        "| reference point | time (ms) | rate |",
        "|---|---:|---:|",
        f"| read $X$ once, `X.sum()` ({limits['bytes'] / 1e6:.0f} MB, float32) | "
        f"{limits['read_ms']:.1f} | {limits['read_gbs']:.1f} GB/s |",
        f"| one `W1 @ X`, float32, one BLAS thread | {limits['skinny1_ms']:.1f} | "
        f"{limits['skinny1_gflops']:.1f} Gflop/s |",
        f"| one `W1 @ X`, float32, all BLAS threads | {limits['skinny_ms']:.1f} | "
        f"{limits['skinny_gflops']:.1f} Gflop/s |",
        f"| 2048 × 2048 square product, float32, one BLAS thread | | "
        f"{limits['square1_gflops']:.1f} Gflop/s |",
        f"| 2048 × 2048 square product, float32, all BLAS threads | | "
        f"{limits['square_gflops']:.1f} Gflop/s |",
        f"| `dZ1 @ X.T`, float32, one BLAS thread | {limits['dW1_ms']:.1f} | |",
        f"| `(X @ dZ1.T).T`, float32, one BLAS thread | {limits['dW1T_ms']:.1f} | |",
        f"| `dZ1 @ X.T`, float64, one BLAS thread | {limits['dW1_64_ms']:.1f} | |",
        f"| `(X @ dZ1.T).T`, float64, one BLAS thread | {limits['dW1T_64_ms']:.1f} | |",
    ]
    two_products = 1000 * 2 * limits["flop"] / (limits["peak_gflops"] * 1e9)
    limits_text = "\n".join(limit_rows) + (
        f"\n\nOn all cores, one `W1 @ X` runs at "
        f"{limits['skinny_gflops'] / limits['peak_gflops']:.0%} of the peak, taken as the "
        f"faster of the two square products ({limits['peak_gflops']:.1f} Gflop/s). At the peak, the two products of an iteration would take "
        f"{two_products:.1f} ms; reading $X$ once takes {limits['read_ms']:.1f} ms.\n\n"
        f"{machine}\n"
    )

    work_rows = [
        "| engine | dtype | CPU ms per iteration, one core | "
        "speed-up over the seed's code |",
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
            f"| {name} | {dtype} | {work[label]:.1f} | "
            f"{work['seed'] / work[label]:.2f}× |"
        )
    work_text = "\n".join(work_rows) + "\n"

    chunk_rows = [
        "| chunk size | ms per iteration (`train_fast`, float32, all cores) |",
        "|---:|---:|",
    ]
    for chunk in chunk_sizes:
        chunk_rows.append(f"| {chunk:,} | {ms[f'chunk{chunk}']:.1f} |")
    chunks_text = "\n".join(chunk_rows) + "\n"

    x_mb = data["X32"].nbytes / 1e6
    memory_rows = ["| engine | peak allocated on top of $X$ (MB) |", "|---|---:|"]
    for name, peak in peaks.items():
        memory_rows.append(f"| {name} | {peak / 1e6:.1f} |")
    memory_text = "\n".join(memory_rows) + (
        f"\n\n$X$ itself holds {x_mb:.0f} MB in float32 and {2 * x_mb:.0f} MB in float64. "
        f"`train_fast` adds {peaks['`train_fast` (float32 X)'] / 1e6:.1f} MB: the chunks of "
        "$X$ are views, not copies, and only chunk-sized activations exist at any time.\n"
    )

    print()
    for text in (limits_text, speed, work_text, chunks_text, memory_text):
        print(text)
    if write_files:
        GENERATED.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("speed-limits.md", limits_text),
            ("speed.md", speed),
            ("speed-chunks.md", chunks_text),
            ("speed-memory.md", memory_text),
            ("speed-work.md", work_text),
        ):
            (GENERATED / name).write_text(text, encoding="utf-8")
        print(
            f"wrote {', '.join(sorted(p.name for p in GENERATED.glob('speed*.md')))} "
            f"in {GENERATED.relative_to(ROOT)}"
        )


if __name__ == "__main__":
    main()
