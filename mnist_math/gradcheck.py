# ~/~ begin <<docs/verification.md#mnist_math/gradcheck.py>>[init]
"""Checking the book's formulas: one comparison with its tolerances, and finite differences (the
method that needs no autograd).

Tangled from the book's chapter "13. How we know it is right" (docs/verification.md).
"""

from collections.abc import Callable

import numpy as np

from .backward import backward_prop
from .forward import forward_prop
from .loss import cross_entropy

# ~/~ begin <<docs/verification.md#verification-tolerances>>[init]
# Tolerances of every float64 comparison in the test suite (chapter 13 argues for them):
# round-off of two summation orders is at most ~3e-11 (784 terms), while a wrong formula
# changes the entries it touches by amounts comparable to the entries themselves.
RTOL = 1e-10
ATOL = 1e-10

# A finite-difference check passes below this relative error (chapter 13: the error of a
# central difference with eps = 1e-5 is about 1e-10 relative on the test networks).
GRADCHECK_TOLERANCE = 1e-7
# ~/~ end

# ~/~ begin <<docs/verification.md#verification-assert-close>>[init]
def assert_close(
    name: str,
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> float:
    r"""Assert that two arrays agree entry by entry within ``atol + rtol * |expected|``.

    $$
    |\text{actual} - \text{expected}| \le \text{atol} + \text{rtol}\,|\text{expected}|
    $$

    Args:
        name: What is compared (``"dW2"``, ``"A2 [784x10x10, m=64, seed 1]"``), for the message.
        actual: The book's result, any shape, float.
        expected: The reference (autograd, torch), the same shape and dtype as ``actual``.
        rtol: Relative tolerance.
        atol: Absolute tolerance.

    Returns:
        The largest absolute difference, a float (0.0 for empty arrays).

    Raises:
        AssertionError: the shapes or dtypes differ, ``actual`` is not finite, or an entry
            differs by more than the tolerance; the message names the quantity, the largest
            difference and the entry where it occurs.
    """
    __tracebackhide__ = True  # pytest shows the failing test's line, not this function's
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape}, expected {expected.shape}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{name}: dtype {actual.dtype}, expected {expected.dtype}")
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{name}: contains NaN or infinity")
    if actual.size == 0:
        return 0.0
    difference = np.abs(actual - expected)
    excess = difference - (atol + rtol * np.abs(expected))
    if np.any(excess > 0):
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
        raise AssertionError(
            f"{name}: max |difference| = {difference.max():.3e} exceeds "
            f"atol + rtol·|expected| (atol={atol:g}, rtol={rtol:g}); worst entry {worst}: "
            f"actual {float(actual[worst])!r}, expected {float(expected[worst])!r}"
        )
    return float(difference.max())
# ~/~ end

# ~/~ begin <<docs/verification.md#verification-numerical-gradient>>[init]
def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    r"""Gradient of a scalar function by central differences, one entry at a time.

    Implements [the central difference][eq-central-difference]:

    $$
    \frac{\partial f}{\partial \theta_i}
    \approx \frac{f(\theta_i + \varepsilon) - f(\theta_i - \varepsilon)}{2\varepsilon}
    $$

    Each entry of ``x`` is moved in place and restored before the next one (also if ``f``
    raises), so ``f`` can read ``x`` directly. Costs two calls of ``f`` per entry.

    Args:
        f: A function of the array ``x`` returning a float.
        x: The point $\theta$, any shape, float64 (float32 is too coarse for finite
            differences).
        eps: The step $\varepsilon > 0$.

    Returns:
        An array of ``x``'s shape and dtype, the estimate of $\partial f / \partial \theta$.

    Raises:
        TypeError: ``x`` is not a float64 array.
        ValueError: ``eps`` is not a positive finite number.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 NumPy array, got {getattr(x, 'dtype', type(x))}"
        )
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            f_plus = f(x)
            x[index] = original - eps
            f_minus = f(x)
        finally:
            x[index] = original
        gradient[index] = (f_plus - f_minus) / (2 * eps)
    return gradient
# ~/~ end

# ~/~ begin <<docs/verification.md#verification-gradient-check>>[init]
def gradient_check(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    eps: float = 1e-5,
    *,
    backward: Callable[..., dict[str, np.ndarray]] = backward_prop,
) -> dict[str, float]:
    """Compare the backward pass with central differences of the loss, parameter by parameter.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1); converted to
            float64 copies, never modified.
        X: Inputs, shape (n, m), one example per column (keep n, h and m small: the check
            costs two forward passes per parameter).
        Y: Labels, shape (m,), integers in ``0 .. k - 1``.
        eps: The finite-difference step.
        backward: The backward pass under test, called like ``backward_prop``.

    Returns:
        A dict keyed ``W1``, ``b1``, ``W2``, ``b2``, each value the largest difference
            between ``backward``'s gradient and the numerical one, relative to the largest
            entry of either; float64 round-off puts it near 1e-10.

    Raises:
        ValueError: a gradient of ``backward`` does not have its parameter's shape.
    """
    work = {
        name: np.array(params[name], dtype=np.float64)
        for name in ("W1", "b1", "W2", "b2")
    }
    X = np.asarray(X, dtype=np.float64)
    grads = backward(work, forward_prop(work, X), X, Y)
    errors = {}
    for name in ("W1", "b1", "W2", "b2"):

        def loss(value: np.ndarray, name: str = name) -> float:
            # The loss as a function of this one parameter, the others held fixed.
            return cross_entropy(forward_prop({**work, name: value}, X)["A2"], Y)

        analytic = grads["d" + name]
        if analytic.shape != work[name].shape:
            raise ValueError(
                f"d{name} has shape {analytic.shape}, {name} has {work[name].shape}"
            )
        numeric = numerical_gradient(loss, work[name], eps)
        scale = max(
            np.max(np.abs(analytic)), np.max(np.abs(numeric)), np.finfo(np.float64).tiny
        )
        errors[name] = float(np.max(np.abs(analytic - numeric)) / scale)
    return errors
# ~/~ end
# ~/~ end