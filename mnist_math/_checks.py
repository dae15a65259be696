# ~/~ begin <<docs/engineering.md#mnist_math/_checks.py>>[init]
"""Input validation shared by the book's functions (see the Engineering notes appendix)."""

import warnings
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


# ~/~ begin <<docs/engineering.md#checks-matrix>>[init]
def check_matrix(
    name: str,
    value: object,
    *,
    ndim: int | None = 2,
    rows: int | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Return ``value`` as a floating-point array after checking its shape and entries.

    ``ndim=None`` accepts any number of dimensions (the elementwise activations).

    Raises:
        TypeError: ``value`` is not a NumPy array of real numbers.
        ValueError: wrong number of dimensions or rows, no entries (unless ``allow_empty``),
            or a NaN or infinity inside.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(value).__name__}")
    if value.dtype == np.bool_ or not np.issubdtype(value.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if np.issubdtype(value.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {value.shape}")
    if rows is not None and value.shape[0] != rows:
        raise ValueError(
            f"{name} must have {rows} rows (one per unit or pixel; columns are examples), "
            f"got shape {value.shape}"
        )
    if value.size == 0 and not allow_empty:
        raise ValueError(
            f"{name} is empty (shape {value.shape}): pass at least one example (one column)"
        )
    if not np.issubdtype(value.dtype, np.floating):
        value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")
    return value


def check_same_dtype(name: str, value: np.ndarray, dtype: np.dtype) -> None:
    """Refuse an array whose dtype is not the parameters' (no silent promotion).

    Raises:
        TypeError: ``value.dtype`` differs from ``dtype``.
    """
    if value.dtype != dtype:
        raise TypeError(
            f"{name} is {value.dtype} but the parameters are {dtype}: convert one of them "
            f"once, e.g. {name}.astype(np.{dtype}), so that nothing is converted on every step"
        )


class InputRangeWarning(UserWarning):
    """The inputs of a trainer lie outside the pixel range [0, 1] the book assumes."""


def warn_if_not_pixels(X: np.ndarray, *, stacklevel: int = 3) -> None:
    """Warn when ``X`` (n, m) holds values outside [0, 1], such as raw bytes 0..255.

    ``stacklevel`` 3 names the line that called the trainer that called this check.
    """
    low = float(X.min())
    high = float(X.max())
    if low < 0.0 or high > 1.0:
        warnings.warn(
            f"X holds values from {low:g} to {high:g}, outside [0, 1]: the book's trainers "
            "expect pixels scaled to [0, 1] (as_columns divides the bytes by 255); with raw "
            "bytes the first layer's sums are 255 times larger and training stalls",
            InputRangeWarning,
            stacklevel=stacklevel,
        )
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-labels>>[init]
def check_labels(
    name: str, value: object, *, n_classes: int, m: int | None = None
) -> np.ndarray:
    """Return ``value`` as an integer label vector after checking its shape and range.

    Raises:
        TypeError: ``value`` is not a NumPy array of integers.
        ValueError: not 1-D, wrong length, or a label outside ``0 .. n_classes - 1``.
    """
    if not isinstance(value, np.ndarray):
        kind = type(value).__name__
        raise TypeError(f"{name} must be a NumPy array of integer labels, got {kind}")
    if value.dtype == np.bool_ or not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{name} must hold integer labels, got dtype {value.dtype}")
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (m,), got shape {value.shape}")
    if m is not None and value.shape[0] != m:
        raise ValueError(
            f"{name} has {value.shape[0]} labels but X has {m} columns (examples)"
        )
    if value.size and (value.min() < 0 or value.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}, "
            f"got values from {value.min()} to {value.max()}"
        )
    return value
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-params>>[init]
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def check_params(params: object) -> dict[str, np.ndarray]:
    """Check that ``params`` holds ``W1, b1, W2, b2`` with shapes that fit together.

    Raises:
        TypeError: ``params`` is not a mapping of arrays, or the arrays are not all of one
            floating-point dtype.
        ValueError: a key is missing or two shapes do not chain.
    """
    if not isinstance(params, Mapping):
        kind = type(params).__name__
        raise TypeError(f"params must be a dict with W1, b1, W2, b2, got {kind}")
    missing = [key for key in PARAM_NAMES if key not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}")
    for key in PARAM_NAMES:
        value = params[key]
        if isinstance(value, np.ndarray) and not np.issubdtype(value.dtype, np.floating):
            raise TypeError(
                f"{key} must hold floating-point numbers, got dtype {value.dtype}"
            )
    W1 = check_matrix("W1", params["W1"])
    h = W1.shape[0]
    b1 = check_matrix("b1", params["b1"], rows=h)
    W2 = check_matrix("W2", params["W2"])
    k = W2.shape[0]
    b2 = check_matrix("b2", params["b2"], rows=k)
    if W2.shape[1] != h:
        raise ValueError(
            f"W2 must have {h} columns to follow W1 of shape {W1.shape}, got {W2.shape}"
        )
    if b1.shape[1] != 1 or b2.shape[1] != 1:
        raise ValueError(
            f"b1 and b2 must be columns (h, 1), got {b1.shape} and {b2.shape}"
        )
    dtypes = {str(array.dtype) for array in (W1, b1, W2, b2)}
    if len(dtypes) != 1:
        raise TypeError(
            f"W1, b1, W2, b2 must share one dtype, got {sorted(dtypes)}: convert them once"
        )
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-cache>>[init]
def check_cache(cache: object, params: dict[str, np.ndarray], m: int) -> None:
    """Check that ``cache`` is ``forward_prop``'s output for these parameters and m examples.

    Raises:
        TypeError: ``cache`` is not a mapping, or an entry has the wrong dtype.
        ValueError: an entry is missing or has the wrong shape.
    """
    if not isinstance(cache, Mapping):
        kind = type(cache).__name__
        raise TypeError(f"cache must be the dict forward_prop returns, got {kind}")
    h = params["W1"].shape[0]
    k = params["W2"].shape[0]
    shapes = {"Z1": (h, m), "A1": (h, m), "Z2": (k, m), "A2": (k, m)}
    for name, shape in shapes.items():
        if name not in cache:
            raise ValueError(
                f"cache has no {name!r}: pass the dict that forward_prop(params, X) returns"
            )
        value = check_matrix(name, cache[name])
        if value.shape != shape:
            raise ValueError(
                f"cache[{name!r}] has shape {value.shape}, expected {shape}: the cache must "
                "come from forward_prop on the same params and X"
            )
        check_same_dtype(f"cache[{name!r}]", value, params["W1"].dtype)
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-from-chapters>>[init]
def check_float_dtype(dtype: object) -> np.dtype:
    """Return ``np.dtype(dtype)`` after checking that it is a floating-point type.

    Raises:
        TypeError: ``dtype`` is not a floating-point type such as float64 or float32.
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(
            f"dtype must be a floating-point type such as float64, got {dtype}"
        )
    return dtype


def check_like_params(
    label: str, arrays: object, params: dict[str, np.ndarray], *, prefix: str = "d"
) -> None:
    """Check that ``arrays[prefix + name]`` matches ``params[name]`` for every parameter.

    Each must be there, finite, and of the parameter's shape and dtype (``grads`` with
    ``dW1, db1, dW2, db2``; an optimizer's state with its own prefix).

    Raises:
        TypeError: ``arrays`` is not a mapping, or an array is not one or has another dtype.
        ValueError: an array is missing, has the wrong shape or holds NaN or infinity.
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"{label} must be a dict of arrays, got {type(arrays).__name__}")
    for name in PARAM_NAMES:
        key = prefix + name
        if key not in arrays:
            raise ValueError(f"{label} has no {key!r}: pass the dict the book returns")
        value = check_matrix(key, arrays[key])
        if value.shape != params[name].shape:
            raise ValueError(
                f"{key} has shape {value.shape}, {name} has {params[name].shape}"
            )
        check_same_dtype(key, value, params[name].dtype)


def probability_tolerance(dtype: npt.DTypeLike) -> float:
    """How far a column of probabilities may sum from 1: 1000 units of ``dtype``'s precision.

    That is 2.2e-13 in float64 and 1.2e-4 in float32; a softmax column of ten classes is off
    by a few units at most.
    """
    return float(1000 * np.finfo(dtype).eps)


def check_probabilities(A2: np.ndarray) -> None:
    """Refuse an (k, m) array that is not one probability distribution per column.

    Raises:
        ValueError: a negative entry, or a column whose sum is not 1 within
            ``probability_tolerance``.
    """
    if A2.min() < 0:
        raise ValueError(
            f"A2 must hold probabilities, but its smallest entry is {A2.min():g}: "
            "pass softmax(Z2), not the logits Z2"
        )
    sums = A2.sum(axis=0)
    worst = int(np.argmax(np.abs(sums - 1)))
    if abs(sums[worst] - 1) > probability_tolerance(A2.dtype):
        raise ValueError(
            f"A2 must hold probabilities, one distribution per column, but column {worst} "
            f"sums to {sums[worst]:g}: pass softmax(Z2), not the logits Z2"
        )
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-count>>[init]
def _is_integer(value: object) -> bool:
    integer = isinstance(value, (int, np.integer))
    return integer and not isinstance(value, (bool, np.bool_))


def check_count(name: str, value: object, *, at_most: int | None = None) -> int:
    """Return ``value`` after checking that it is an integer >= 1 (and <= ``at_most``).

    Raises:
        TypeError: ``value`` is not an integer (a float, a string or a bool, say).
        ValueError: ``value`` is below 1 or above ``at_most``.
    """
    if at_most is None:
        expected = f"{name} must be a positive integer, got {value!r}"
    else:
        expected = f"{name} must be an integer in 1..{at_most}, got {value!r}"
    if not _is_integer(value):
        raise TypeError(expected)
    if value < 1 or (at_most is not None and value > at_most):
        raise ValueError(expected)
    return int(value)


def check_seed(value: object) -> int:
    """Return ``value`` after checking that it is an integer >= 0 (a bool is refused).

    Raises:
        TypeError: ``value`` is not an integer (a float, a string or a bool, say).
        ValueError: ``value`` is negative.
    """
    expected = f"seed must be an integer 0 or larger, such as 0, got {value!r}"
    if not _is_integer(value):
        raise TypeError(expected)
    if value < 0:
        raise ValueError(expected)
    return int(value)
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-rate>>[init]
def check_rate(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it is a positive finite number.

    Raises:
        TypeError: ``value`` is not a real number (a bool or a string, say).
        ValueError: ``value`` is 0, negative, NaN or infinite.
    """
    real = isinstance(value, (int, float, np.integer, np.floating))
    if not real or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive number such as 0.1, got {value!r}")
    if not 0 < value < np.inf:
        raise ValueError(
            f"{name} must be a positive finite number such as 0.1, got {value!r}"
        )
    return float(value)
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-fraction>>[init]
def check_fraction(name: str, value: object) -> float:
    """Return ``value`` as a float after checking that it is a real number in [0, 1).

    Raises:
        TypeError: ``value`` is not a real number (a bool or a string, say).
        ValueError: ``value`` is negative, 1 or more, or NaN.
    """
    real = isinstance(value, (int, float, np.integer, np.floating))
    if not real or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number in [0, 1) such as 0.9, got {value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must lie in [0, 1), such as 0.9, got {value!r}")
    return float(value)
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-divergence>>[init]
class DivergenceError(RuntimeError):
    """Training diverged: the loss or a parameter became non-finite, or the loss rose.

    Attributes:
        iteration: The iteration at which the divergence was seen.
        loss: The last loss computed (NaN if it was not finite or not computed).
        params: The last parameters whose entries were all finite.
    """

    def __init__(
        self, message: str, *, iteration: int, loss: float, params: dict[str, np.ndarray]
    ) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.loss = loss
        self.params = params


def _advice(lr: float) -> str:
    smaller = min(0.1, lr / 10)
    return (
        f"the learning rate {lr:g} is too large for this network: try a smaller one, "
        f"such as {smaller:g}"
    )


def check_finite(
    arrays: Mapping[str, np.ndarray],
    names: tuple[str, ...],
    *,
    iteration: int,
    lr: float,
    params: dict[str, np.ndarray],
) -> None:
    """Raise ``DivergenceError`` (keeping ``params``) if one of ``arrays[names]`` is not finite.

    The trainers call it on the gradients and on the updated parameters of every step, and
    on the probabilities before computing a loss.
    """
    for name in names:
        if not np.all(np.isfinite(arrays[name])):
            raise DivergenceError(
                f"training diverged: {name} overflowed to infinity or NaN at iteration "
                f"{iteration}; {_advice(lr)}",
                iteration=iteration,
                loss=float("nan"),
                params=params,
            )


def check_loss(
    loss: float,
    *,
    first_loss: float,
    iteration: int,
    lr: float,
    params: dict[str, np.ndarray],
    final: bool = False,
) -> None:
    """Raise ``DivergenceError`` if ``loss`` is not finite or, at the end, far above the start.

    "Far above" is more than twice ``first_loss`` and more than ``first_loss + 1``.
    """
    if not np.isfinite(loss):
        raise DivergenceError(
            f"training diverged: the loss is {loss} at iteration {iteration}; {_advice(lr)}",
            iteration=iteration,
            loss=float(loss),
            params=params,
        )
    if final and loss > max(2 * first_loss, first_loss + 1):
        raise DivergenceError(
            f"training diverged: the loss rose from {first_loss:.4g} to {loss:.4g} "
            f"(iteration {iteration}) instead of falling; {_advice(lr)}",
            iteration=iteration,
            loss=float(loss),
            params=params,
        )
# ~/~ end
# ~/~ end