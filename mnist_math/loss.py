# ~/~ begin <<docs/loss.md#mnist_math/loss.py>>[init]
"""One-hot labels and the categorical cross-entropy loss.

Tangled from the book's chapter "4. The loss" (docs/loss.md).
"""

import numpy as np
import numpy.typing as npt

from ._checks import check_float_dtype, check_labels, check_matrix, check_probabilities


# ~/~ begin <<docs/loss.md#loss-one-hot>>[init]
def one_hot(
    Y: np.ndarray, n_classes: int = 10, dtype: npt.DTypeLike = np.float64
) -> np.ndarray:
    r"""Encode integer labels as one-hot columns.

    Implements [the one-hot encoding][eq-one-hot]: $Y_{cj} = 1$ if $c = y^{(j)}$ else $0$.

    Args:
        Y: Labels, shape (m,), integers in ``0 .. n_classes - 1``.
        n_classes: Number of classes $k$.
        dtype: Floating-point dtype of the result (the dtype of the network it is
            compared with: ``backward_prop`` passes ``A2.dtype``).

    Returns:
        An array of ``dtype`` and shape (n_classes, m) with exactly one 1 per column.

    Raises:
        TypeError, ValueError: ``Y`` is not a 1-D integer array of labels in range, or
            ``dtype`` is not a floating-point type.
    """
    Y = check_labels("Y", Y, n_classes=n_classes)
    dtype = check_float_dtype(dtype)
    encoded = np.zeros((n_classes, Y.size), dtype=dtype)
    encoded[Y, np.arange(Y.size)] = 1
    return encoded
# ~/~ end

# ~/~ begin <<docs/loss.md#loss-cross-entropy>>[init]
def cross_entropy(A2: np.ndarray, Y: np.ndarray) -> float:
    r"""Mean categorical cross-entropy of predicted probabilities against integer labels.

    Implements [the cross-entropy][eq-cross-entropy]:

    $$\mathcal{L} = -\frac{1}{m} \sum_{j} \log A^{[2]}_{y^{(j)} j}$$

    Args:
        A2: Predicted probabilities, shape (k, m), float64 or float32: entries >= 0, each
            column summing to 1 within ``probability_tolerance(A2.dtype)``.
        Y: Labels, shape (m,), integers in ``0 .. k - 1``.

    Returns:
        The mean loss over the m examples, a finite float even when a probability is 0.

    Raises:
        TypeError, ValueError: the shapes do not fit, a label is out of range, the batch is
            empty, or ``A2`` does not hold probabilities (logits, say: pass
            ``softmax(Z2)``).
    """
    A2 = check_matrix("A2", A2)
    Y = check_labels("Y", Y, n_classes=A2.shape[0], m=A2.shape[1])
    check_probabilities(A2)
    m = Y.size
    correct = A2[Y, np.arange(m)]
    correct = np.maximum(correct, np.finfo(A2.dtype).tiny)
    return float(-np.sum(np.log(correct)) / m)
# ~/~ end
# ~/~ end