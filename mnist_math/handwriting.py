# ~/~ begin <<docs/handwriting.md#mnist_math/handwriting.py>>[init]
"""Reading your own handwriting: any picture of a digit made to look like MNIST.

Tangled from the book's chapter "12. Reading your own handwriting" (docs/handwriting.md).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ._checks import check_matrix

# ~/~ begin <<docs/handwriting.md#handwriting-constants>>[init]
BOX = 20
"""Side of the box the ink is shrunk to fit, keeping its aspect ratio (MNIST's 20 x 20)."""
FIELD = 28
"""Side of the field the box is placed in (MNIST's 28 x 28)."""
CENTRE = 14.0
"""Where the centre of mass goes, in index coordinates (measured on MNIST above)."""
NOISE_MADS = 15.0
"""How many median absolute deviations of the border above the background count as noise."""
MARGIN = 0.05
"""Unless the border is even, the floor is at least this fraction of the contrast."""
MIN_CONTRAST = 0.2
"""Below this difference between the darkest ink and the background, a picture is blank."""
TIE = 1e-9
"""Added before rounding a centre that lies halfway between two pixels (see step 4)."""
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-gray>>[init]
def to_gray(image: np.ndarray) -> np.ndarray:
    """A 2-D grayscale picture as float64 in [0, 1] (bytes are divided by 255).

    Args:
        image: 2-D array (height, width): uint8 in 0..255, or floats in [0, 1].

    Returns:
        float64 array of the same shape, entries in [0, 1].

    Raises:
        TypeError: ``image`` is not a NumPy array of uint8 or floats.
        ValueError: not 2-D, empty, non-finite, or floats outside [0, 1].
    """
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.ndim != 2 or image.size == 0:
            raise ValueError(f"image must be a non-empty 2-D array, got {image.shape}")
        return image.astype(np.float64) / 255
    if isinstance(image, np.ndarray) and not np.issubdtype(image.dtype, np.floating):
        message = f"image must hold uint8 bytes or floats in [0, 1], got {image.dtype}"
        raise TypeError(message)
    gray = check_matrix("image", image).astype(np.float64)
    if gray.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {gray.shape}")
    if gray.min() < 0 or gray.max() > 1:
        found = f"{gray.min()} to {gray.max()}"
        raise ValueError(f"image floats must lie in [0, 1], got {found}")
    return gray
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-ink>>[init]
def border_pixels(gray: np.ndarray) -> np.ndarray:
    """The pixels of the outermost rows and columns, each once.

    Args:
        gray: 2-D float array (height, width).

    Returns:
        1-D array: the top row, the bottom row, then the left and right columns without
            their corners (every pixel of a picture less than 3 pixels high or wide).
    """
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return gray.ravel()
    return np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])


def ink_image(gray: np.ndarray) -> np.ndarray:
    r"""Light ink on a dark background, stretched to [0, 1], with the background at 0.

    Implements [the ink normalisation][eq-ink]:
    $\tilde{x} = \min(1, \max(0, (x - f) / (p - f)))$ with the floor
    $f = \beta + \min(\max(15 \delta, \mu (p - \beta)), (p - \beta) / 2)$, where $\beta$ is
    the median of the border (after inverting a light background), $\delta$ the border's
    median absolute deviation, $p = \max x$, and $\mu = 0.05$ unless the border is even.

    Args:
        gray: 2-D float64 array (height, width) in [0, 1], either polarity.

    Returns:
        float64 array of the same shape in [0, 1]; all zeros when the picture is blank
            (peak less than ``MIN_CONTRAST`` above the background).
    """
    border = border_pixels(gray)
    background = np.median(border)
    if background > 0.5:
        gray = 1.0 - gray
        border = 1.0 - border
        background = 1.0 - background
    peak = gray.max()
    contrast = peak - background
    if contrast < MIN_CONTRAST:
        return np.zeros_like(gray)
    noise = NOISE_MADS * np.median(np.abs(border - background))
    margin = 0.0 if np.all(border == background) else MARGIN
    floor = background + min(max(noise, margin * contrast), contrast / 2)
    return np.clip((gray - floor) / (peak - floor), 0.0, 1.0)
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-crop>>[init]
def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle that holds every pixel above 0.

    Args:
        ink: 2-D float array (height, width) with the background at 0, at least one
            pixel above 0.

    Returns:
        A view of ``ink``, shape (rows with ink, columns with ink) counted from the first to
            the last such row and column.
    """
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-resample>>[init]
def area_weights(n: int, n_new: int) -> np.ndarray:
    r"""The matrix that resamples n pixels to n_new by averaging areas, along one axis.

    Implements [area averaging][eq-area-average]: entry $(i, r)$ is the length of the
    overlap of $[i n / n', (i + 1) n / n')$ with $[r, r + 1)$, times $n' / n$.

    Args:
        n: Pixels before, along one axis (>= 1).
        n_new: Pixels after (>= 1).

    Returns:
        float64 array of shape (n_new, n); every row sums to 1.
    """
    R = np.zeros((n_new, n))
    for i in range(n_new):
        start = i * n / n_new
        stop = (i + 1) * n / n_new
        for r in range(int(np.floor(start)), min(n, int(np.ceil(stop)))):
            overlap = min(stop, r + 1) - max(start, r)
            R[i, r] = overlap * n_new / n
    return R


def fit_in_box(crop: np.ndarray, box: int = BOX) -> np.ndarray:
    r"""Resize a crop so that its longer side is ``box`` pixels, keeping the aspect ratio.

    Computes $S = R^{(h \to h')} C R^{(w \to w')\top}$ ([area averaging][eq-area-average])
    with $\max(h', w') = $ ``box``.

    Args:
        crop: 2-D float array (h, w), the ink's bounding box.
        box: Side of the box.

    Returns:
        float64 array (h', w'), the longer side ``box``, the shorter
            ``floor(box * min(h, w) / max(h, w) + 0.5)`` (at least 1).
    """
    h, w = crop.shape
    scale = box / max(h, w)
    h_new = max(1, int(np.floor(h * scale + 0.5)))
    w_new = max(1, int(np.floor(w * scale + 0.5)))
    return area_weights(h, h_new) @ crop @ area_weights(w, w_new).T
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-centre>>[init]
def centre_of_mass(S: np.ndarray) -> tuple[float, float]:
    r"""The brightness-weighted mean row and column of a picture.

    Implements [the centre of mass][eq-centre-of-mass]:
    $\bar{r} = \sum_{r,c} r S_{rc} / \sum_{r,c} S_{rc}$, and likewise $\bar{c}$.

    Args:
        S: 2-D float array (h, w), non-negative, not all zero.

    Returns:
        The pair ``(r_bar, c_bar)`` in index coordinates (pixel centres at 0, 1, ...).
    """
    total = S.sum()
    r_bar = (S.sum(axis=1) * np.arange(S.shape[0])).sum() / total
    c_bar = (S.sum(axis=0) * np.arange(S.shape[1])).sum() / total
    return float(r_bar), float(c_bar)


def place_by_centre_of_mass(
    S: np.ndarray, field: int = FIELD, centre: float = CENTRE
) -> np.ndarray:
    """Put a picture into an empty field so that its centre of mass is nearest the centre.

    Args:
        S: 2-D float array (h, w) with h, w <= ``field``, not all zero.
        field: Side of the square field.
        centre: Target of the centre of mass, in index coordinates of the field.

    Returns:
        float64 array (field, field): zeros, with ``S`` at the whole-pixel offset
            ``floor(centre - r_bar + 0.5 + TIE)``, ``floor(centre - c_bar + 0.5 + TIE)``,
            clamped to keep ``S`` inside.
    """
    h, w = S.shape
    r_bar, c_bar = centre_of_mass(S)
    top = min(max(int(np.floor(centre - r_bar + 0.5 + TIE)), 0), field - h)
    left = min(max(int(np.floor(centre - c_bar + 0.5 + TIE)), 0), field - w)
    out = np.zeros((field, field))
    out[top : top + h, left : left + w] = S
    return out
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-preprocess>>[init]
def preprocess_image(image: np.ndarray) -> np.ndarray:
    """Make a picture of one digit look like an MNIST image, the way MNIST was made.

    Finds the ink ([ink normalisation][eq-ink]: a light background is inverted, the
    background and its noise go to 0), crops to the ink, shrinks it to fit a 20 x 20 box
    keeping its aspect ratio ([area averaging][eq-area-average]), and places its
    [centre of mass][eq-centre-of-mass] nearest to (14, 14) of a 28 x 28 field.

    Args:
        image: 2-D array (height, width) of any size: uint8 in 0..255 or floats in [0, 1];
            dark ink on a light background or light on dark.

    Returns:
        float64 array of shape (784,) in [0, 1], row by row like a column of
            ``as_columns`` (pixel (r, c) at 28 r + c); all zeros for a blank picture.

    Raises:
        TypeError, ValueError: ``image`` is not a 2-D array of bytes or of floats in [0, 1].
    """
    ink = ink_image(to_gray(image))
    if not ink.any():
        return np.zeros(FIELD * FIELD)
    S = fit_in_box(crop_to_ink(ink))
    return place_by_centre_of_mass(S).reshape(FIELD * FIELD)
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-read-image>>[init]
def read_image(path: str | Path) -> np.ndarray:
    """Read a PNG, JPEG (or any format Pillow knows) as one channel of gray bytes.

    Args:
        path: The image file.

    Returns:
        uint8 array (height, width): the picture turned upright by its EXIF orientation,
            transparent parts on white, converted to gray with Pillow's ``L`` mode (16-bit
            gray divided by 257).

    Raises:
        ValueError: the file is missing or is not an image Pillow can read; the message
            names the file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened)
            if picture.mode == "I" or picture.mode.startswith("I;16"):  # 16-bit gray
                sixteen = np.asarray(picture, dtype=np.float64)
                return np.clip(np.round(sixteen / 257), 0, 255).astype(np.uint8)
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                rgba = picture.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                picture = Image.alpha_composite(paper, rgba)
            return np.asarray(picture.convert("L"), dtype=np.uint8).copy()
    except FileNotFoundError as error:
        raise ValueError(f"{path}: no such file") from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path}: not an image Pillow can read ({error})") from error
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-predict>>[init]
SHADES = ".:-=+*#%@"


def show_input(x: np.ndarray) -> str:
    """The 28 x 28 input as text, two characters per pixel (a pixel is square, a character
    is about twice as high as it is wide).

    Args:
        x: float array (784,) in [0, 1], row by row.

    Returns:
        28 lines of 56 characters, pixels from ``"."`` (below 1/9) to ``"@"`` (8/9 and up).
    """
    levels = np.minimum((x * len(SHADES)).astype(int), len(SHADES) - 1)
    levels = levels.reshape(FIELD, FIELD)
    return "\n".join("".join(SHADES[level] * 2 for level in row) for row in levels)


def run_predict(args: argparse.Namespace) -> int:
    """``mnist-math predict MODEL IMAGE [IMAGE ...] [--json] [--show]``.

    Args:
        args: ``model`` (a path), ``images`` (paths), ``json`` and ``show`` (bools).

    Returns:
        The exit status: 0, or 1 when the model or an image could not be read.
    """
    from .forward import forward_prop
    from .model_io import ModelFileError, load_params

    try:
        params, _meta = load_params(args.model)
    except ModelFileError as error:
        print(f"mnist-math: error: {error}", file=sys.stderr)
        return 1
    n_in = params["W1"].shape[1]
    if n_in != FIELD * FIELD:
        message = f"the network reads {n_in} pixels, not {FIELD * FIELD}"
        print(f"mnist-math: error: {args.model}: {message}", file=sys.stderr)
        return 1
    status = 0
    for name in args.images:
        try:
            x = preprocess_image(read_image(name))
        except ValueError as error:
            print(f"mnist-math: error: {error}", file=sys.stderr)
            status = 1
            continue
        A2 = forward_prop(params, x.reshape(-1, 1).astype(params["W1"].dtype))["A2"][:, 0]
        digit = int(np.argmax(A2))
        blank = not x.any()
        if args.json:
            record = {
                "file": name,
                "digit": digit,
                "probabilities": [float(p) for p in A2],
            }
            if blank:
                record["blank"] = True
            if args.show:
                record["input"] = show_input(x).split("\n")
            print(json.dumps(record))
            continue
        note = "  (no ink found: the picture looks blank)" if blank else ""
        print(f"{name}: {digit}  ({A2[digit]:.1%}){note}")
        for half in (range(0, 5), range(5, 10)):
            print("  " + "  ".join(f"{c}: {A2[c]:6.2%}" for c in half))
        if args.show:
            print(show_input(x))
    return status
# ~/~ end
# ~/~ end