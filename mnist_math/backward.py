# ~/~ begin <<docs/engineering.md#mnist_math/backward.py>>[init]
"""Backward propagation: the gradients of the loss, derived by hand.

Tangled from the book's chapter "5. Backward propagation" (docs/backward.md); the imports,
the docstring and the argument checks come from the Engineering notes appendix.
"""

import numpy as np

from ._checks import (
    check_cache,
    check_labels,
    check_matrix,
    check_params,
    check_same_dtype,
)
from .activations import relu_derivative
from .loss import one_hot


# ~/~ begin <<docs/backward.md#backward-prop>>[init]
def backward_prop(
    params: dict[str, np.ndarray],
    cache: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    validate: bool = True,
) -> dict[str, np.ndarray]:
    # ~/~ begin <<docs/engineering.md#backward-prop-docstring>>[init]
    r"""Gradients of the cross-entropy loss with respect to every layer, by hand.

    Implements [dZ2][eq-dz2], [dW2][eq-dw2], [db2][eq-db2], [dA1][eq-da1], [dZ1][eq-dz1],
    [dW1][eq-dw1] and [db1][eq-db1], where $Y$ is the one-hot matrix of the labels
    (``one_hot_Y = one_hot(Y)``):

    $$
    \begin{aligned}
    dZ^{[2]} &= A^{[2]} - Y, & dW^{[2]} &= \tfrac{1}{m} dZ^{[2]} A^{[1]\top},
        & db^{[2]} &= \tfrac{1}{m} \textstyle\sum_j dZ^{[2]}_{:,j}, \\
    dA^{[1]} &= W^{[2]\top} dZ^{[2]}, & dZ^{[1]} &= dA^{[1]} \odot g'(Z^{[1]}), & & \\
    dW^{[1]} &= \tfrac{1}{m} dZ^{[1]} X^\top,
        & db^{[1]} &= \tfrac{1}{m} \textstyle\sum_j dZ^{[1]}_{:,j}. & &
    \end{aligned}
    $$

    Column $j$ of ``dZ2``, ``dA1`` and ``dZ1`` is example $j$'s own gradient, without a
    $1/m$ (together, the gradient of the summed loss $m\mathcal{L}$); ``dW`` and ``db`` add
    up the examples and take the $1/m$ of the mean loss $\mathcal{L}$
    ([chapter 5][from-one-example-to-the-batch]).

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), floats of one
            dtype.
        cache: The output of ``forward_prop(params, X)``: ``Z1, A1`` (h, m), ``Z2, A2``
            (k, m).
        X: Inputs, shape (n, m), one example per column, of the parameters' dtype.
        Y: Labels $y$, shape (m,), integers in ``0 .. k - 1`` (not one-hot).
        validate: Check the arguments first (the training loop checks once and passes
            False).

    Returns:
        A dict of the gradients, each with the shape and dtype of its variable, keyed
            ``dZ2`` (k, m), ``dW2`` (k, h), ``db2`` (k, 1), ``dA1`` (h, m), ``dZ1`` (h, m),
            ``dW1`` (h, n) and ``db1`` (h, 1).

    Raises:
        TypeError, ValueError: the shapes or dtypes do not fit together, the batch is
            empty, a label is out of range, or the cache lacks an entry or does not
            belong to ``X``.
    """
    # ~/~ end
    # ~/~ begin <<docs/engineering.md#backward-prop-checks>>[init]
    if validate:
        params = check_params(params)
        X = check_matrix("X", X, rows=params["W1"].shape[1])
        check_same_dtype("X", X, params["W1"].dtype)
        Y = check_labels("Y", Y, n_classes=params["W2"].shape[0], m=X.shape[1])
        check_cache(cache, params, X.shape[1])
    # ~/~ end
    m = X.shape[1]
    A1 = cache["A1"]
    A2 = cache["A2"]
    # ~/~ begin <<docs/backward.md#backward-dz2>>[init]
    one_hot_Y = one_hot(Y, A2.shape[0], dtype=A2.dtype)
    dZ2 = A2 - one_hot_Y
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-dw2>>[init]
    dW2 = 1 / m * (dZ2 @ A1.T)
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-db2>>[init]
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-da1>>[init]
    dA1 = params["W2"].T @ dZ2
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-dz1>>[init]
    dZ1 = dA1 * relu_derivative(cache["Z1"], validate=validate)
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-dw1>>[init]
    dW1 = 1 / m * (dZ1 @ X.T)
    # ~/~ end
    # ~/~ begin <<docs/backward.md#backward-db1>>[init]
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    # ~/~ end
    return {
        "dZ2": dZ2,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }
# ~/~ end
# ~/~ end