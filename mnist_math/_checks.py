# ~/~ begin <<docs/engineering.md#mnist_math/_checks.py>>[init]
"""Input validation shared by the book's functions (see the Engineering notes appendix)."""

from collections.abc import Mapping

import numpy as np

# ~/~ begin <<docs/engineering.md#checks-matrix>>[init]
def check_matrix(name: str, value: object, *, ndim: int | None = 2, rows: int | None = None) -> np.ndarray:
    """Return ``value`` as a floating-point array after checking its shape and entries.

    ``ndim=None`` accepts any number of dimensions (the elementwise activations).

    Raises:
        TypeError: ``value`` is not a NumPy array of real numbers.
        ValueError: wrong number of dimensions or rows, or a NaN or infinity inside.
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
    if not np.issubdtype(value.dtype, np.floating):
        value = value.astype(np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity")
    return value
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-labels>>[init]
def check_labels(name: str, value: object, *, n_classes: int, m: int | None = None) -> np.ndarray:
    """Return ``value`` as an integer label vector after checking its shape and range.

    Raises:
        TypeError: ``value`` is not a NumPy array of integers.
        ValueError: not 1-D, wrong length, or a label outside ``0 .. n_classes - 1``.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of integer labels, got {type(value).__name__}")
    if value.dtype == np.bool_ or not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{name} must hold integer labels, got dtype {value.dtype}")
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (m,), got shape {value.shape}")
    if m is not None and value.shape[0] != m:
        raise ValueError(f"{name} has {value.shape[0]} labels but X has {m} columns (examples)")
    if value.size and (value.min() < 0 or value.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}, got values from {value.min()} to {value.max()}"
        )
    return value
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-params>>[init]
def check_params(params: object) -> dict[str, np.ndarray]:
    """Check that ``params`` holds ``W1, b1, W2, b2`` with shapes that fit together.

    Raises:
        TypeError: ``params`` is not a mapping of arrays.
        ValueError: a key is missing or two shapes do not chain.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict with W1, b1, W2, b2, got {type(params).__name__}")
    missing = [key for key in ("W1", "b1", "W2", "b2") if key not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}")
    W1 = check_matrix("W1", params["W1"])
    h = W1.shape[0]
    b1 = check_matrix("b1", params["b1"], rows=h)
    W2 = check_matrix("W2", params["W2"])
    k = W2.shape[0]
    b2 = check_matrix("b2", params["b2"], rows=k)
    if W2.shape[1] != h:
        raise ValueError(f"W2 must have {h} columns to follow W1 of shape {W1.shape}, got {W2.shape}")
    if b1.shape[1] != 1 or b2.shape[1] != 1:
        raise ValueError(f"b1 and b2 must be columns (h, 1), got {b1.shape} and {b2.shape}")
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
# ~/~ end

# ~/~ begin <<docs/engineering.md#checks-count>>[init]
def check_count(name: str, value: object, *, at_most: int | None = None) -> int:
    """Return ``value`` after checking that it is an integer >= 1 (and <= ``at_most``).

    Raises:
        ValueError: ``value`` is not an integer (or is a bool), is below 1 or above ``at_most``.
    """
    is_integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if at_most is None and not (is_integer and value >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if at_most is not None and not (is_integer and 1 <= value <= at_most):
        raise ValueError(f"{name} must be an integer in 1..{at_most}, got {value!r}")
    return int(value)
# ~/~ end
# ~/~ end