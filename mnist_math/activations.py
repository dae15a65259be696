# ~/~ begin <<docs/activations.md#mnist_math/activations.py>>[init]
"""Activation functions: ReLU, its derivative, and a numerically stable softmax.

Tangled from the book's chapter "3. Activations" (docs/activations.md).
"""

import numpy as np

from ._checks import check_matrix


# ~/~ begin <<docs/activations.md#activations-relu>>[init]
def relu(Z: np.ndarray, *, validate: bool = True) -> np.ndarray:
    r"""Rectified linear unit, applied entry by entry.

    Implements [ReLU][eq-relu]: $g(z) = \max(0, z)$.

    Args:
        Z: Pre-activations, any shape (in the network: $Z^{[1]}$, (h, m)), floats.
        validate: Check ``Z`` first (the training loops, which check their data once and
            watch for divergence themselves, pass ``False``).

    Returns:
        An array of ``Z``'s shape and dtype with the negative entries replaced by 0.
    """
    if validate:
        Z = check_matrix("Z", Z, ndim=None, allow_empty=True)
    return np.maximum(Z, 0)
# ~/~ end

# ~/~ begin <<docs/activations.md#activations-relu-derivative>>[init]
def relu_derivative(Z: np.ndarray, *, validate: bool = True) -> np.ndarray:
    r"""Derivative of ReLU entry by entry, with the subgradient 0 at $z = 0$ (as torch).

    Implements [g'][eq-relu-derivative]: $g'(z) = 1$ if $z > 0$ else $0$.

    Args:
        Z: Pre-activations, any shape (in the network: $Z^{[1]}$, (h, m)), floats.
        validate: Check ``Z`` first (the training loops, which check their data once and
            watch for divergence themselves, pass ``False``).

    Returns:
        An array of ``Z``'s shape and dtype holding 1.0 where ``Z > 0`` and 0.0 elsewhere.
    """
    if validate:
        Z = check_matrix("Z", Z, ndim=None, allow_empty=True)
    return (Z > 0).astype(Z.dtype)
# ~/~ end

# ~/~ begin <<docs/activations.md#activations-softmax>>[init]
def softmax(Z: np.ndarray, *, validate: bool = True) -> np.ndarray:
    r"""Column-wise softmax, stabilised by subtracting each column's maximum.

    Implements [softmax][eq-softmax]:

    $$
    \operatorname{softmax}(Z)_{cj}
    = \frac{e^{Z_{cj} - \max_{c'} Z_{c'j}}}{\sum_{c''} e^{Z_{c''j} - \max_{c'} Z_{c'j}}}
    $$

    Args:
        Z: Logits, shape (k, m), one example per column, finite floats.
        validate: Check ``Z`` first (the training loops, which check their data once and
            watch for divergence themselves, pass ``False``).

    Returns:
        Probabilities of shape (k, m) and ``Z``'s dtype; every column is non-negative and
            sums to 1.

    Raises:
        TypeError, ValueError: ``Z`` is not a 2-D array of finite real numbers, or it is
            empty (a softmax of no classes or no examples is undefined).
    """
    if validate:
        Z = check_matrix("Z", Z)
    shifted = Z - Z.max(axis=0, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=0, keepdims=True)
# ~/~ end
# ~/~ end