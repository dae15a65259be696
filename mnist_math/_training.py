# ~/~ begin <<docs/training-machinery.md#mnist_math/_training.py>>[init]
"""The training loop's machinery: what every trainer of the book does around its steps.

Tangled from the appendix "The training loop's machinery" (docs/training-machinery.md).
Chapter 7's loop is forward pass, backward pass, update; this module holds what a trainer
adds to it: the names, the checks before the first step, the parameters it starts from,
and the record of a run (history, progress bar, divergence watch).
"""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ._checks import (
    PARAM_NAMES,
    check_count,
    check_finite,
    check_labels,
    check_loss,
    check_matrix,
    check_params,
    check_rate,
    check_seed,
    warn_if_not_pixels,
)
from .forward import init_params
from .loss import cross_entropy

# ~/~ begin <<docs/training-machinery.md#machinery-names>>[init]
GRADIENT_NAMES = ("dW1", "db1", "dW2", "db2")
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` after checking that it is one of ``choices``.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is not one of the strings ``choices``.
    """
    expected = f"{name} must be one of {', '.join(choices)}, got {value!r}"
    if not isinstance(value, str):
        raise TypeError(expected)
    if value not in choices:
        raise ValueError(expected)
    return value
# ~/~ end

# ~/~ begin <<docs/training-machinery.md#machinery-inputs>>[init]
SCAN_COLUMNS = 4096  # columns of X scanned at a time for NaN and infinity


def check_inputs(X: object, *, rows: int | None = None) -> np.ndarray:
    """``check_matrix("X", X, rows=rows)``, scanning a float ``X`` block by block.

    Returns:
        ``X`` itself if it is a 2-D float array; otherwise what ``check_matrix`` returns
            (integers converted once to float64).

    Raises:
        TypeError, ValueError: as ``check_matrix``, with the same messages.
    """
    floating = isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.floating)
    if not floating or X.ndim != 2 or X.size == 0:
        return check_matrix("X", X, rows=rows)
    for start in range(0, X.shape[1], SCAN_COLUMNS):
        check_matrix("X", X[:, start : start + SCAN_COLUMNS], rows=rows)
    return X


def check_training_inputs(
    X: object,
    Y: object,
    *,
    lr: object,
    seed: object,
    rows: int | None = None,
    n_classes: int = 10,
    optimizer: object = None,
    schedule: object = None,
    **counts: object,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """The checks every trainer runs before its first step, in the same order.

    Args:
        X: Training inputs, shape (n, m), finite real numbers.
        Y: Training labels, shape (m,), integers in ``0 .. n_classes - 1``.
        lr: Learning rate, a positive finite number.
        seed: Random seed, an integer >= 0.
        rows: The number of rows ``X`` must have (the inputs of given parameters), if known.
        n_classes: Number of classes $k$ the labels index.
        optimizer: One of ``OPTIMIZERS``, checked when given.
        schedule: One of ``SCHEDULES``, checked when given.
        **counts: Integers >= 1 by name, such as ``iterations=500, record_every=10``.

    Returns:
        ``(X, Y, lr, seed)``: ``X`` as ``check_inputs`` returns it, the labels, the rate as
            a float and the seed as an int.

    Raises:
        TypeError, ValueError: the first argument that is wrong, named in the message.

    Warns:
        InputRangeWarning: ``X`` holds values outside [0, 1], such as raw bytes.
    """
    X = check_inputs(X, rows=rows)
    Y = check_labels("Y", Y, n_classes=n_classes, m=X.shape[1])
    lr = check_rate("lr", lr)
    for name, value in counts.items():
        check_count(name, value)
    seed = check_seed(seed)
    if optimizer is not None:
        check_choice("optimizer", optimizer, OPTIMIZERS)
    if schedule is not None:
        check_choice("schedule", schedule, SCHEDULES)
    warn_if_not_pixels(X, stacklevel=4)  # 4: the caller of the trainer that called us
    return X, Y, lr, seed
# ~/~ end

# ~/~ begin <<docs/training-machinery.md#machinery-start>>[init]
def starting_params(
    params: dict[str, np.ndarray] | None,
    X: np.ndarray,
    *,
    n_hidden: int,
    seed: int,
    scheme: str,
) -> dict[str, np.ndarray]:
    """The parameters a trainer starts from, in ``X``'s dtype.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (10, h), ``b2`` (10, 1), or ``None``
            for ``init_params(n, n_hidden, 10, seed=seed, scheme=scheme)``; not modified.
        X: The training inputs, shape (n, m), floats.
        n_hidden: Hidden units $h$ of ``init_params`` (not used when ``params`` is given).
        seed: Seed of ``init_params``.
        scheme: Initialisation scheme of ``init_params``.

    Returns:
        New arrays (or ``params``' own where no conversion is needed) of ``X``'s dtype.

    Raises:
        TypeError, ValueError: ``params`` is not a valid network for ``X``.
    """
    if params is None:
        params = init_params(
            X.shape[0], n_hidden, 10, seed=seed, scheme=scheme, dtype=X.dtype
        )
    params = check_params(params)
    if params["W1"].shape[1] != X.shape[0]:
        raise ValueError(
            f"W1 has {params['W1'].shape[1]} columns but X has {X.shape[0]} rows"
        )
    return {name: array.astype(X.dtype, copy=False) for name, array in params.items()}
# ~/~ end

# ~/~ begin <<docs/training-machinery.md#machinery-run>>[init]
class TrainingRun:
    """The record of one training run, and the watch that stops it when it diverges.

    Used as ``with TrainingRun(...) as run:`` around a trainer's loop. Inside, NumPy's
    overflow warnings are silenced (the watch reports divergence instead); on the way out
    the progress bar is closed, also when the run stops with an error.

    Args:
        iterations: The number of steps of the run, at least 1.
        lr: The learning rate, named in the advice of a ``DivergenceError``.
        record_every: ``due(i)`` is true every this many iterations and at the last.
        progress: Show a progress bar with the latest loss and accuracy.
        unit: The bar's unit (``"it"`` for iterations, ``"step"`` for mini-batch steps).
        columns: The history's lists; ``iteration``, ``loss`` and ``accuracy`` must be
            among them.

    Attributes:
        history: Equal-length lists, one entry per record, keyed by ``columns``.
        first_loss: The first loss recorded (``None`` before it), the reference of the
            final divergence test.
    """

    def __init__(
        self,
        iterations: int,
        *,
        lr: float,
        record_every: int = 1,
        progress: bool = False,
        unit: str = "it",
        columns: tuple[str, ...] = ("iteration", "loss", "accuracy"),
    ) -> None:
        self.iterations = iterations
        self.lr = lr
        self.record_every = record_every
        self.history: dict[str, list] = {name: [] for name in columns}
        self.first_loss: float | None = None
        self.bar = tqdm(
            range(iterations), desc="training", unit=unit, disable=not progress
        )
        self._stack = ExitStack()

    def __enter__(self) -> "TrainingRun":
        self._stack.enter_context(np.errstate(over="ignore", invalid="ignore"))
        self._stack.callback(self.bar.close)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def steps(self) -> Iterator[int]:
        """The iterations ``0 .. iterations - 1``, advancing the progress bar."""
        return iter(self.bar)

    def due(self, i: int) -> bool:
        """Whether iteration ``i`` is recorded: every ``record_every`` and the last."""
        return i % self.record_every == 0 or i == self.iterations - 1

    def record(
        self,
        i: int,
        loss: float,
        accuracy: float,
        params: dict[str, np.ndarray],
        *,
        final: bool | None = None,
        **columns: object,
    ) -> None:
        """Append a record after checking the loss.

        Args:
            i: The iteration (or, for a trainer that records per epoch, the steps so far).
            loss: The loss measured, a float.
            accuracy: The training accuracy measured, in [0, 1].
            params: The parameters the loss was measured on, all finite: what a
                ``DivergenceError`` carries.
            final: Whether this is the run's last record, when the loss is compared with
                the first; by default ``i == iterations - 1``.
            **columns: The values of the history's other columns.

        Raises:
            DivergenceError: ``loss`` is NaN or infinite or, at the final record, more
                than twice the first loss and more than one above it.
        """
        if final is None:
            final = i == self.iterations - 1
        self.watch_loss(i, loss, params, final=final)
        self.history["iteration"].append(i)
        self.history["loss"].append(loss)
        self.history["accuracy"].append(accuracy)
        for name, value in columns.items():
            self.history[name].append(value)
        self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.2%}")

    def record_output(
        self, i: int, A2: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]
    ) -> None:
        """Record the loss and accuracy of the probabilities ``A2`` (k, m) for ``Y``.

        Raises:
            DivergenceError: ``A2`` holds a NaN or an infinity, or as ``record``.
        """
        self.watch(i, {"A2": A2}, ("A2",), params)
        loss = cross_entropy(A2, Y)
        accuracy = float(np.mean(np.argmax(A2, axis=0) == Y))
        self.record(i, loss, accuracy, params)

    def watch_loss(
        self, i: int, loss: float, params: dict[str, np.ndarray], *, final: bool = False
    ) -> None:
        """Check a loss: the first one watched becomes the run's reference, ``first_loss``.

        Raises:
            DivergenceError: ``loss`` is NaN or infinite or, with ``final``, more than
                twice the first loss and more than one above it; the error carries
                ``params``, the last finite ones.
        """
        if self.first_loss is None:
            self.first_loss = loss
        check_loss(
            loss,
            first_loss=self.first_loss,
            iteration=i,
            lr=self.lr,
            params=params,
            final=final,
        )

    def watch(
        self,
        i: int,
        arrays: dict[str, np.ndarray],
        names: tuple[str, ...],
        params: dict[str, np.ndarray],
    ) -> None:
        """Raise ``DivergenceError`` (with ``params``) if a named array is not finite."""
        check_finite(arrays, names, iteration=i, lr=self.lr, params=params)

    def step(
        self,
        i: int,
        update: Callable[..., Any],
        params: dict[str, np.ndarray],
        grads: dict[str, np.ndarray],
        *args: object,
        **kwargs: object,
    ) -> Any:
        """Take the step ``update(params, grads, *args, **kwargs)``, watching both sides.

        The gradients are checked before the update and the new parameters after it.

        Returns:
            What ``update`` returns: the new parameters, or a tuple whose first item they
                are (an optimizer that also returns its state).

        Raises:
            DivergenceError: a gradient or a new parameter holds a NaN or an infinity;
                the error carries ``params``, the last finite ones.
        """
        self.watch(i, grads, GRADIENT_NAMES, params)
        result = update(params, grads, *args, **kwargs)
        new_params = result[0] if isinstance(result, tuple) else result
        self.watch(i, new_params, PARAM_NAMES, params)
        return result

    def note(self, line: str) -> None:
        """Print ``line`` above the progress bar, when there is one."""
        if not self.bar.disable:
            self.bar.write(line)
# ~/~ end
# ~/~ end