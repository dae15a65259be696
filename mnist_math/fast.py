# ~/~ begin <<docs/engines.md#mnist_math/fast.py>>[init]
"""The fast engine: the full-batch gradient of chapter 7, added up chunk by chunk.

Tangled from the book's chapter "9. Making it fast" (docs/fast.md), which derives the
chunked gradient, and the appendix "Inside the engines" (docs/engines.md), which holds the
trainer's checks and threads; the record of a run is mnist_math._training's.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from ._checks import check_count
from ._training import (
    GRADIENT_NAMES,
    PARAM_NAMES,
    TrainingRun,
    check_training_inputs,
    starting_params,
)
from .train import update_params


# ~/~ begin <<docs/fast.md#fast-chunk>>[init]
def chunk_sums(
    params: dict[str, np.ndarray],
    Xc: np.ndarray,
    Yc: np.ndarray,
    sums: dict,
    *,
    record: bool,
) -> None:
    r"""Forward and backward pass on one chunk of examples; add its terms to ``sums``.

    Implements one term of each sum of [the chunked gradient][eq-chunk-sum], for the
    summed loss (the caller divides by $m$):

    $$
    dW^{[1]} \mathrel{+}= dZ^{[1]}_{\mathcal{C}} X_{\mathcal{C}}^\top, \quad
    db^{[1]} \mathrel{+}= \textstyle\sum_{j \in \mathcal{C}} dZ^{[1]}_{:,j}, \quad
    dW^{[2]} \mathrel{+}= dZ^{[2]}_{\mathcal{C}} A^{[1]\top}_{\mathcal{C}}, \quad
    db^{[2]} \mathrel{+}= \textstyle\sum_{j \in \mathcal{C}} dZ^{[2]}_{:,j}
    $$

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        Xc: The chunk's inputs, shape (n, size), of the parameters' dtype (a view of
            columns of ``X``: no copy).
        Yc: The chunk's labels, shape (size,), integers in ``0 .. k - 1``.
        sums: Running sums, updated in place: ``dW1, db1, dW2, db2`` (arrays of the
            parameters' shapes and dtype), ``loss`` (a float, the summed loss) and
            ``correct`` (an int, the number of correct predictions).
        record: Also add the chunk's loss and correct predictions (the trainer records
            them every ``record_every`` iterations). A NaN probability makes the loss NaN,
            which the trainer's ``check_loss`` turns into a ``DivergenceError``.
    """
    columns = np.arange(Xc.shape[1])
    Z1 = params["W1"] @ Xc + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = params["W2"] @ A1 + params["b2"]
    exps = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
    A2 = exps / exps.sum(axis=0, keepdims=True)
    if record:
        probabilities = np.maximum(A2[Yc, columns], np.finfo(A2.dtype).tiny)
        sums["loss"] -= float(np.sum(np.log(probabilities)))
        sums["correct"] += int(np.count_nonzero(np.argmax(A2, axis=0) == Yc))
    dZ2 = A2
    dZ2[Yc, columns] -= 1
    sums["dW2"] += dZ2 @ A1.T
    sums["db2"] += np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (params["W2"].T @ dZ2) * (Z1 > 0)
    sums["dW1"] += (Xc @ dZ1.T).T  # dZ1 @ Xc.T, computed as its transpose (faster)
    sums["db1"] += np.sum(dZ1, axis=1, keepdims=True)
# ~/~ end

# ~/~ begin <<docs/engines.md#fast-share>>[init]
def share_sums(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    share: list[tuple[int, int]],
    *,
    record: bool,
) -> dict:
    """One thread's work: the sums of ``chunk_sums`` over its share of the chunks.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        X: All inputs, shape (n, m), of the parameters' dtype.
        Y: All labels, shape (m,), integers.
        share: The ``(start, stop)`` column ranges of this thread's chunks.
        record: Also sum the loss and the correct predictions.

    Returns:
        A dict of ``dW1, db1, dW2, db2`` (the parameters' shapes and dtype), ``loss`` and
            ``correct`` (zero when not ``record``), summed over the share.
    """
    sums = {"d" + name: np.zeros_like(params[name]) for name in PARAM_NAMES}
    sums.update(loss=0.0, correct=0)
    # Overflow is caught by the divergence checks, not reported as warnings (per thread).
    with np.errstate(over="ignore", invalid="ignore"):
        for start, stop in share:
            chunk_sums(params, X[:, start:stop], Y[start:stop], sums, record=record)
    return sums
# ~/~ end

# ~/~ begin <<docs/engines.md#fast-train>>[init]
def train_fast(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    lr: float = 0.1,
    iterations: int = 500,
    n_hidden: int = 10,
    seed: int = 0,
    scheme: str = "uniform",
    params: dict[str, np.ndarray] | None = None,
    record_every: int = 10,
    progress: bool = False,
    chunk_size: int = 1024,
    threads: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Train the network by full-batch gradient descent, chunk by chunk, on every core.

    The same iterations as [`gradient_descent`][mnist_math.train.gradient_descent], up to
    round-off: each iteration adds up [the chunked gradient][eq-chunk-sum] over chunks of
    ``chunk_size`` columns of ``X``, shared between ``threads`` threads, then takes the
    step of ``update_params``. The result does not depend on the threads' timing: every
    thread always gets the same chunks, and the threads' sums are added in a fixed order.

    Args:
        X: Training inputs, shape (n, m), floats in [0, 1] (a warning says when they are
            not); its dtype, float64 or float32, is the training dtype.
        Y: Training labels, shape (m,), integers in 0..9.
        lr: Learning rate $\\alpha$.
        iterations: Number of gradient steps.
        n_hidden: Hidden units $h$ (ignored when ``params`` is given).
        seed: Seed of ``init_params``, an integer >= 0.
        scheme: Initialisation scheme of ``init_params``.
        params: Start from these parameters instead of ``init_params(...)``; converted
            once to ``X``'s dtype if theirs differs.
        record_every: Record loss and training accuracy every this many iterations.
        progress: Show a progress bar with the loss and accuracy.
        chunk_size: Examples (columns of ``X``) per chunk, an integer >= 1.
        threads: Threads sharing the chunks, an integer >= 1; by default the number of
            cores this process may use (never more than there are chunks).

    Returns:
        The pair ``(params, history)`` of the trained ``W1, b1, W2, b2`` (of ``X``'s dtype)
            and a dict of three equal-length lists ``iteration``, ``loss`` and ``accuracy``,
            recorded at iterations 0, record_every, 2·record_every, ... and at the last
            iteration, each value measured before that iteration's update.

    Raises:
        TypeError, ValueError: invalid data, labels, parameters or settings.
        DivergenceError: the loss or the weights became NaN or infinite, or the loss ended
            far above where it started; the exception carries the last finite parameters.
    """
    # ~/~ begin <<docs/engines.md#fast-train-checks>>[init]
    chunk_size = check_count("chunk_size", chunk_size)
    if threads is not None:
        check_count("threads", threads)
    X, Y, lr, seed = check_training_inputs(
        X, Y, lr=lr, seed=seed, iterations=iterations, record_every=record_every
    )
    params = starting_params(params, X, n_hidden=n_hidden, seed=seed, scheme=scheme)
    # ~/~ end
    # ~/~ begin <<docs/engines.md#fast-train-setup>>[init]
    m = X.shape[1]
    chunks = [(start, min(start + chunk_size, m)) for start in range(0, m, chunk_size)]
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        threads = threads or os.cpu_count() or 1
    threads = min(threads, len(chunks))
    shares = [chunks[thread::threads] for thread in range(threads)]
    # ~/~ end
    # ~/~ begin <<docs/engines.md#fast-train-loop>>[init]
    run = TrainingRun(iterations, lr=lr, record_every=record_every, progress=progress)
    blas = threadpool_limits(limits=1, user_api="blas")
    with run, blas, ThreadPoolExecutor(threads) as pool:
        for i in run.steps():
            record = run.due(i)
            # ~/~ begin <<docs/fast.md#fast-train-step>>[init]
            futures = [
                pool.submit(share_sums, params, X, Y, share, record=record) for share in shares
            ]
            parts = [future.result() for future in futures]
            total = parts[0]
            for part in parts[1:]:
                for name in ("dW1", "db1", "dW2", "db2", "loss", "correct"):
                    total[name] += part[name]
            if record:
                run.record(i, total["loss"] / m, total["correct"] / m, params)
            grads = {name: total[name] / m for name in GRADIENT_NAMES}
            params = run.step(i, update_params, params, grads, lr)
            # ~/~ end
    # ~/~ end
    return params, run.history
# ~/~ end

# ~/~ begin <<docs/fast.md#fast-tolerance>>[init]
def trajectory_tolerance(dtype: npt.DTypeLike, iterations: int, largest: float) -> float:
    r"""How far two correct engines' weights may drift apart after ``iterations`` steps.

    $\tau = 2\,(t + 1)\, u \max|\theta|$, where $u$ is the unit round-off of ``dtype``
    (half its machine epsilon: $2^{-24}$ for float32, $2^{-53}$ for float64): a count of
    roundings (each of the $t$ updates rounds every weight once and adds the rounding
    errors of its gradient, about as large; converting the starting weights rounds them
    once more). It is empirical, not a bound: it leaves out how later steps propagate an
    earlier error, and ``benchmarks/precision.py`` measures its margin on real runs.

    Args:
        dtype: The floating-point dtype the engine computes in.
        iterations: The number of iterations $t$ both engines ran.
        largest: The largest absolute weight, $\max|\theta|$.

    Returns:
        The tolerance $\tau$ on the largest absolute difference between the two engines'
            weights.
    """
    unit_round_off = float(np.finfo(dtype).eps) / 2
    return 2 * (iterations + 1) * unit_round_off * largest
# ~/~ end
# ~/~ end