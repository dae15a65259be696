# ~/~ begin <<docs/forward.md#mnist_math/forward.py>>[init]
"""Forward propagation: the parameters of the network and one pass through it.

Tangled from the book's chapter "2. Forward propagation" (docs/forward.md).
"""

import numpy as np
import numpy.typing as npt

from ._checks import (
    check_count,
    check_float_dtype,
    check_matrix,
    check_params,
    check_same_dtype,
    check_seed,
)
from .activations import relu, softmax


# ~/~ begin <<docs/forward.md#forward-init-params>>[init]
def init_params(
    n_in: int = 784,
    n_hidden: int = 10,
    n_out: int = 10,
    *,
    seed: int = 0,
    scheme: str = "uniform",
    dtype: npt.DTypeLike = np.float64,
) -> dict[str, np.ndarray]:
    """Draw the initial weights and biases of the 784 → h → 10 network.

    ``scheme="uniform"`` is the seed's: every entry of ``W1, b1, W2, b2`` is drawn from
    U(-0.5, 0.5), in that order, from ``np.random.default_rng(seed)``. ``scheme="he"`` draws
    the weights from N(0, 2 / fan_in) and sets the biases to zero
    ([He's variance][eq-he-variance], derived in chapter 11). The numbers are drawn in
    float64 and rounded once to ``dtype``, so both dtypes start from the same weights.

    Args:
        n_in: Inputs per example (784 pixels for MNIST).
        n_hidden: Hidden units $h$.
        n_out: Output units $k$, one per class.
        seed: Seed of the random generator, an integer >= 0; the same seed gives the same
            arrays.
        scheme: ``"uniform"`` (the seed's) or ``"he"``.
        dtype: Floating-point dtype of the arrays, float64 or float32.

    Returns:
        A dict of arrays of ``dtype`` with keys ``W1`` (n_hidden, n_in), ``b1`` (n_hidden, 1),
            ``W2`` (n_out, n_hidden) and ``b2`` (n_out, 1).

    Raises:
        TypeError: a size or the seed is not an integer, or ``dtype`` is not a
            floating-point type.
        ValueError: a size is below 1, the seed is negative, or the scheme is unknown.
    """
    for name, size in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        check_count(name, size)
    seed = check_seed(seed)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng(seed)
    shapes = {
        "W1": (n_hidden, n_in),
        "b1": (n_hidden, 1),
        "W2": (n_out, n_hidden),
        "b2": (n_out, 1),
    }
    if scheme == "uniform":
        params = {
            name: rng.uniform(-0.5, 0.5, size=shape) for name, shape in shapes.items()
        }
    elif scheme == "he":
        params = {
            "W1": rng.normal(0.0, np.sqrt(2.0 / n_in), size=shapes["W1"]),
            "b1": np.zeros(shapes["b1"]),
            "W2": rng.normal(0.0, np.sqrt(2.0 / n_hidden), size=shapes["W2"]),
            "b2": np.zeros(shapes["b2"]),
        }
    else:
        raise ValueError(f"scheme must be 'uniform' or 'he', got {scheme!r}")
    return {name: array.astype(dtype) for name, array in params.items()}
# ~/~ end

# ~/~ begin <<docs/forward.md#forward-prop>>[init]
def forward_prop(
    params: dict[str, np.ndarray], X: np.ndarray, *, validate: bool = True
) -> dict[str, np.ndarray]:
    r"""Run the network forward on a batch of examples stored as columns.

    Implements [eq. Z1][eq-z1], [A1][eq-a1], [Z2][eq-z2] and [A2][eq-a2]:

    $$
    \begin{aligned}
    Z^{[1]} &= W^{[1]} X + b^{[1]}, & A^{[1]} &= \max(0, Z^{[1]}), \\
    Z^{[2]} &= W^{[2]} A^{[1]} + b^{[2]}, & A^{[2]} &= \operatorname{softmax}(Z^{[2]}).
    \end{aligned}
    $$

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), floats.
        X: Inputs, shape (n, m), one example per column, finite floats of the parameters'
            dtype (float64 or float32: the whole pass keeps that dtype).
        validate: Check ``params`` and ``X`` first, and the activations' inputs. The
            training loop checks its data once, watches for divergence itself and passes
            ``False``, which skips a full scan of ``X`` on every iteration.

    Returns:
        The cache, a dict keyed ``Z1`` and ``A1`` (h, m), ``Z2`` and ``A2`` (k, m), all of
            the parameters' dtype; each column of ``A2`` sums to 1.

    Raises:
        TypeError, ValueError: ``params`` or ``X`` do not have the shapes above, ``X`` is
            empty, or ``X`` and the parameters have different dtypes.
    """
    if validate:
        params = check_params(params)
        X = check_matrix("X", X, rows=params["W1"].shape[1])
        check_same_dtype("X", X, params["W1"].dtype)
    Z1 = params["W1"] @ X + params["b1"]
    A1 = relu(Z1, validate=validate)
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = softmax(Z2, validate=validate)
    return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
# ~/~ end
# ~/~ end