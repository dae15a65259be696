# ~/~ begin <<docs/backward.md#mnist_math/backward.py>>[init]
"""Backward propagation: the gradients of the loss, derived by hand.

Tangled from the book's chapter "5. Backward propagation" (docs/backward.md).
"""

import numpy as np

from ._checks import check_labels, check_matrix, check_params
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
    r"""Gradients of the cross-entropy loss with respect to every layer, by hand.

    Implements [dZ2][eq-dz2], [dW2][eq-dw2], [db2][eq-db2], [dZ1][eq-dz1], [dW1][eq-dw1] and
    [db1][eq-db1]:

    $$
    \begin{aligned}
    dZ^{[2]} &= A^{[2]} - Y, & dW^{[2]} &= \tfrac{1}{m} dZ^{[2]} A^{[1]\top}, & db^{[2]} &= \tfrac{1}{m} \textstyle\sum_j dZ^{[2]}_{:,j}, \\
    dZ^{[1]} &= W^{[2]\top} dZ^{[2]} \odot g'(Z^{[1]}), & dW^{[1]} &= \tfrac{1}{m} dZ^{[1]} X^\top, & db^{[1]} &= \tfrac{1}{m} \textstyle\sum_j dZ^{[1]}_{:,j}.
    \end{aligned}
    $$

    ``dZ2`` and ``dZ1`` are gradients of the summed loss $m\mathcal{L}$; ``dW`` and ``db``
    carry the $1/m$ and are gradients of the mean loss $\mathcal{L}$ (the seed's convention).

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), floats.
        cache: The output of ``forward_prop(params, X)``: ``Z1, A1`` (h, m), ``Z2, A2`` (k, m).
        X: Inputs, shape (n, m), one example per column.
        Y: Labels, shape (m,), integers in ``0 .. k - 1``.
        validate: Check the arguments first (the training loop checks once and passes False).

    Returns:
        A dict of the gradients, each with the shape of its variable, keyed ``dZ2`` (k, m),
            ``dW2`` (k, h), ``db2`` (k, 1), ``dZ1`` (h, m), ``dW1`` (h, n) and ``db1`` (h, 1).

    Raises:
        TypeError, ValueError: the shapes do not fit together or a label is out of range.
    """
    if validate:
        params = check_params(params)
        X = check_matrix("X", X, rows=params["W1"].shape[1])
        Y = check_labels("Y", Y, n_classes=params["W2"].shape[0], m=X.shape[1])
        for name in ("Z1", "A1", "Z2", "A2"):
            check_matrix(name, cache[name])
    m = Y.size
    A1 = cache["A1"]
    dZ2 = cache["A2"] - one_hot(Y, params["W2"].shape[0])
    dW2 = 1 / m * (dZ2 @ A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (params["W2"].T @ dZ2) * relu_derivative(cache["Z1"])
    dW1 = 1 / m * (X @ dZ1.T).T
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dZ1": dZ1, "dW1": dW1, "db1": db1}
# ~/~ end
# ~/~ end