# ~/~ begin <<docs/training-machinery.md#mnist_math/train.py>>[init]
"""Gradient descent: the update rule, the training loop, predictions and accuracy.

Tangled from the book's chapter "7. Gradient descent" (docs/gradient-descent.md); the
machinery around the loop is `mnist_math._training` (docs/training-machinery.md).
"""

import numpy as np

from ._checks import check_like_params, check_matrix, check_params, check_rate
from ._training import GRADIENT_NAMES as GRADIENT_NAMES  # for fast.py and further.py
from ._training import (
    PARAM_NAMES,
    TrainingRun,
    check_training_inputs,
    starting_params,
)
from .backward import backward_prop
from .forward import forward_prop


# ~/~ begin <<docs/gradient-descent.md#gd-update>>[init]
def update_params(
    params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float
) -> dict[str, np.ndarray]:
    r"""One gradient-descent step; returns new arrays and leaves ``params`` untouched.

    Implements [the update rule][eq-update]: $W \leftarrow W - \alpha\, dW$ and
    $b \leftarrow b - \alpha\, db$ for both layers.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        grads: ``dW1, db1, dW2, db2`` with the shapes and dtype of the parameters (as
            returned by ``backward_prop``), finite.
        lr: Learning rate $\alpha > 0$, a real number.

    Returns:
        The updated parameters, a new dict of new arrays of the parameters' dtype.

    Raises:
        TypeError: ``lr`` is not a real number, or a gradient's dtype is not the
            parameters' (it would promote them).
        ValueError: ``lr`` is not positive and finite, a gradient is missing, has the wrong
            shape or holds NaN or infinity.
    """
    lr = check_rate("lr", lr)
    check_like_params("grads", grads, params)
    new_params = {}
    for name in PARAM_NAMES:
        gradient = grads["d" + name]
        new_params[name] = params[name] - lr * gradient
    return new_params
# ~/~ end

# ~/~ begin <<docs/gradient-descent.md#gd-predict>>[init]
def get_predictions(A2: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """The most probable class of each column (the seed's name for the argmax).

    Args:
        A2: Probabilities or logits, shape (n_classes, m): one row per class.
        n_classes: Number of classes $k$, the number of rows ``A2`` must have.

    Returns:
        Predicted labels, shape (m,), int64.

    Raises:
        ValueError: ``A2`` does not have ``n_classes`` rows (a transposed ``A2``, say) or
            is empty.
    """
    A2 = check_matrix("A2", A2, rows=n_classes)
    return np.argmax(A2, axis=0).astype(np.int64)


def predict(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Predicted digit for every column of ``X``: a forward pass and an argmax.

    ``X`` is converted once to the parameters' dtype if it differs (a float64 model
    reading float32 images, say).

    Args:
        params: ``W1, b1, W2, b2`` as returned by ``init_params`` or ``gradient_descent``.
        X: Inputs, shape (n, m), one example per column.

    Returns:
        Predicted labels, shape (m,), int64.
    """
    params = check_params(params)
    X = check_matrix("X", X, rows=params["W1"].shape[1])
    X = X.astype(params["W1"].dtype, copy=False)
    A2 = forward_prop(params, X)["A2"]
    return get_predictions(A2, n_classes=A2.shape[0])


def accuracy(predictions: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of predictions equal to the labels.

    Args:
        predictions: Predicted labels, shape (m,), integers.
        Y: True labels, shape (m,), integers.

    Returns:
        A float in [0, 1].

    Raises:
        ValueError: the two arrays differ in length or are empty.
    """
    predictions = np.asarray(predictions)
    Y = np.asarray(Y)
    if predictions.shape != Y.shape or predictions.ndim != 1:
        raise ValueError(
            f"predictions {predictions.shape} and Y {Y.shape} must both be (m,)"
        )
    if Y.size == 0:
        raise ValueError(
            "accuracy of an empty set of predictions is undefined: pass m >= 1"
        )
    return float(np.mean(predictions == Y))
# ~/~ end

# ~/~ begin <<docs/gradient-descent.md#gd-loop>>[init]
def gradient_descent(
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
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Train the network by full-batch gradient descent, the seed's way.

    Each iteration runs ``forward_prop``, ``backward_prop`` and ``update_params``
    ([the update rule][eq-update]) on all m examples.

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
    X, Y, lr, seed = check_training_inputs(
        X, Y, lr=lr, seed=seed, iterations=iterations, record_every=record_every
    )
    params = starting_params(params, X, n_hidden=n_hidden, seed=seed, scheme=scheme)
    run = TrainingRun(iterations, lr=lr, record_every=record_every, progress=progress)
    with run:
        for i in run.steps():
            cache = forward_prop(params, X, validate=False)
            if run.due(i):
                run.record_output(i, cache["A2"], Y, params)
            grads = backward_prop(params, cache, X, Y, validate=False)
            params = run.step(i, update_params, params, grads, lr)
    return params, run.history
# ~/~ end
# ~/~ end