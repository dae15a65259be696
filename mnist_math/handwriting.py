# ~/~ begin <<docs/model-files.md#mnist_math/handwriting.py>>[init]
"""Reading your own handwriting: any picture of a digit made to look like MNIST.

Tangled from the book's chapter "12. Reading your own handwriting" (docs/handwriting.md),
which derives the preprocessing, and from "Appendix: Model files and images"
(docs/model-files.md), which reads the files.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np

from ._checks import check_matrix
from ._files import open_regular

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

# ~/~ begin <<docs/model-files.md#model-files-image-limits>>[init]
MAX_IMAGE_PIXELS = 2**24
"""At most this many pixels in a picture: 16,777,216, a 4,096 x 4,096 square."""

MAX_IMAGE_SIDE = 2**14
"""At most this many pixels along either side of a picture (16,384)."""

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
"""The formats read_image opens (those of them this Pillow was built with); Pillow's
others, some of which call external programs (EPS), are refused."""


class ImageFileError(ValueError):
    """A picture cannot be read; the message starts with the file's path and says why."""


def check_image_size(height: int, width: int) -> None:
    """Refuse a picture larger than the limits, from its size alone.

    Args:
        height: Rows of pixels.
        width: Columns of pixels.

    Raises:
        ValueError: more than ``MAX_IMAGE_PIXELS`` pixels, or more than
            ``MAX_IMAGE_SIDE`` on a side.
    """
    if height * width > MAX_IMAGE_PIXELS or max(height, width) > MAX_IMAGE_SIDE:
        raise ValueError(
            f"{width:,} x {height:,} pixels (width x height), more than this reader "
            f"takes ({MAX_IMAGE_PIXELS:,} pixels, {MAX_IMAGE_SIDE:,} on a side): a "
            "photo of one digit needs far fewer, crop or shrink it"
        )
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-gray>>[init]
def to_gray(image: np.ndarray) -> np.ndarray:
    """A 2-D grayscale picture as float64 in [0, 1] (bytes are divided by 255).

    Args:
        image: 2-D array (height, width): uint8 in 0..255, or floats in [0, 1]; at most
            ``MAX_IMAGE_PIXELS`` pixels and ``MAX_IMAGE_SIDE`` on a side.

    Returns:
        float64 array of the same shape, entries in [0, 1].

    Raises:
        TypeError: ``image`` is not a NumPy array of uint8 or floats.
        ValueError: not 2-D, empty, too large, non-finite, or floats outside [0, 1].
    """
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.ndim != 2 or image.size == 0:
            raise ValueError(f"image must be a non-empty 2-D array, got {image.shape}")
        check_image_size(*image.shape)
        return np.divide(image, 255, dtype=np.float64)
    if isinstance(image, np.ndarray) and not np.issubdtype(image.dtype, np.floating):
        message = f"image must hold uint8 bytes or floats in [0, 1], got {image.dtype}"
        raise TypeError(message)
    if isinstance(image, np.ndarray) and image.ndim == 2:
        check_image_size(*image.shape)
    gray = check_matrix("image", image).astype(np.float64)
    if gray.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {gray.shape}")
    if gray.min() < 0 or gray.max() > 1:
        found = f"{gray.min()} to {gray.max()}"
        raise ValueError(f"image floats must lie in [0, 1], got {found}")
    return gray


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
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-ink>>[init]
def ink_image(gray: np.ndarray) -> np.ndarray:
    r"""Light ink on a dark background, stretched to [0, 1], with the background at 0.

    Implements [the ink normalisation][eq-ink]:
    $\tilde{x} = \min(1, \max(0, (x - x_{\mathrm{floor}}) / (x_{\max} - x_{\mathrm{floor}})))$
    with the floor $x_{\mathrm{floor}} = x_{\mathrm{bg}} + \min(\max(15 \nu,
    \rho (x_{\max} - x_{\mathrm{bg}})), (x_{\max} - x_{\mathrm{bg}}) / 2)$, where
    $x_{\mathrm{bg}}$ is the median of the border (after inverting a light background),
    $\nu$ the border's median absolute deviation,
    and $\rho = 0.05$ unless the border is even.

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
    ink = gray - floor  # in place from here: a photo has millions of pixels
    ink /= peak - floor
    return np.clip(ink, 0.0, 1.0, out=ink)
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-crop>>[init]
def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle that holds every pixel above 0.

    Args:
        ink: 2-D float array (height, width), background 0, some pixel above 0.

    Returns:
        A view of ``ink`` from its first to its last row and column with ink.
    """
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-resample>>[init]
def area_weights(n: int, n_new: int) -> np.ndarray:
    r"""The matrix that resamples n pixels to n_new by averaging areas, along one axis.

    Implements [area averaging][eq-area-average]: entry $(i, r)$ is the length of the
    overlap of $[i N / N', (i + 1) N / N')$ with $[r, r + 1)$, times $N' / N$.

    Args:
        n: $N$, pixels before, along one axis (>= 1).
        n_new: $N'$, pixels after (>= 1).

    Returns:
        float64 array of shape (n_new, n); every row sums to 1.
    """
    edges = np.arange(n_new + 1) * n / n_new  # new pixel i covers [edges[i], edges[i+1])
    old = np.arange(n)  # old pixel r covers [r, r + 1)
    starts = np.maximum(edges[:-1, None], old[None, :])
    stops = np.minimum(edges[1:, None], old[None, :] + 1)
    return np.maximum(stops - starts, 0.0) * n_new / n


def fit_in_box(crop: np.ndarray, box: int = BOX) -> np.ndarray:
    r"""Resize a crop so that its longer side is ``box`` pixels, keeping the aspect ratio.

    Computes $S = R^{(N_r \to N'_r)} C R^{(N_s \to N'_s)\top}$
    ([area averaging][eq-area-average]) with $\max(N'_r, N'_s) = $ ``box``.

    Args:
        crop: 2-D float array ($N_r$, $N_s$), the ink's bounding box.
        box: Side of the box.

    Returns:
        float64 array ($N'_r$, $N'_s$), the longer side ``box``, the shorter
            ``floor(box * min(N_r, N_s) / max(N_r, N_s) + 0.5)`` (at least 1).
    """
    rows, cols = crop.shape
    scale = box / max(rows, cols)
    rows_new = max(1, int(np.floor(rows * scale + 0.5)))
    cols_new = max(1, int(np.floor(cols * scale + 0.5)))
    return area_weights(rows, rows_new) @ crop @ area_weights(cols, cols_new).T
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-centre>>[init]
def centre_of_mass(S: np.ndarray) -> tuple[float, float]:
    r"""The brightness-weighted mean row and column of a picture.

    Implements [the centre of mass][eq-centre-of-mass]:
    $\bar{r} = \sum_{r,s} r S_{rs} / \sum_{r,s} S_{rs}$, and likewise $\bar{s}$.

    Args:
        S: 2-D float array (rows, columns), non-negative, not all zero.

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
        S: 2-D float array (rows, columns), both at most ``field``, not all zero.
        field: Side of the square field.
        centre: Target of the centre of mass, in index coordinates of the field.

    Returns:
        float64 array (field, field): zeros, with ``S`` at the whole-pixel offset
            ``floor(centre - r_bar + 0.5 + TIE)``, ``floor(centre - c_bar + 0.5 + TIE)``,
            clamped to keep ``S`` inside.
    """
    rows, cols = S.shape
    r_bar, c_bar = centre_of_mass(S)
    top = min(max(int(np.floor(centre - r_bar + 0.5 + TIE)), 0), field - rows)
    left = min(max(int(np.floor(centre - c_bar + 0.5 + TIE)), 0), field - cols)
    out = np.zeros((field, field))
    out[top : top + rows, left : left + cols] = S
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
        image: 2-D array (height, width): uint8 in 0..255 or floats in [0, 1]; dark ink
            on a light background or light on dark; at most ``MAX_IMAGE_PIXELS`` pixels
            and ``MAX_IMAGE_SIDE`` on a side.

    Returns:
        float64 array of shape (784,) in [0, 1], row by row like a column of
            ``as_columns`` (pixel (r, c) at 28 r + c); all zeros for a blank picture.

    Raises:
        TypeError, ValueError: ``image`` is not a 2-D array of bytes or of floats in
            [0, 1], or is larger than the limits.
    """
    ink = ink_image(to_gray(image))
    if not ink.any():
        return np.zeros(FIELD * FIELD)
    S = fit_in_box(crop_to_ink(ink))
    return place_by_centre_of_mass(S).reshape(FIELD * FIELD)
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-read-image>>[init]
def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a PNG, JPEG, GIF, BMP, TIFF, WebP or PBM/PGM/PPM picture as gray bytes.

    Args:
        path: The image file.

    Returns:
        uint8 array (height, width): the picture turned upright by its EXIF orientation,
            transparent parts on white, converted to gray with Pillow's ``L`` mode (16-bit
            gray divided by 257, floats in [0, 1] multiplied by 255).

    Raises:
        ImageFileError: the file is missing, not a regular file, not a picture in one of
            ``FORMATS``, damaged, larger than ``MAX_IMAGE_PIXELS`` or ``MAX_IMAGE_SIDE``
            (checked before decoding), or holds pixels without a known range (NaN, floats
            outside [0, 1], 32-bit integers). The message names the file.
    """
    from PIL import Image

    Image.init()  # registers every format this Pillow was built with
    formats = [name for name in FORMATS if name in Image.OPEN]
    with (
        open_regular(path, ImageFileError, "an image file") as stream,
        warnings.catch_warnings(),  # Pillow's warnings stay off the terminal
    ):
        warnings.filterwarnings("ignore", module="PIL")
        try:
            picture = Image.open(stream, formats=formats)
        except Image.DecompressionBombError:
            message = f"more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels"
            raise ImageFileError(f"{path}: {message}, refused before decoding") from None
        except Exception as error:  # Pillow's readers raise many kinds on a bad file
            message = f"not a picture this reader takes ({why(error)})"
            raise ImageFileError(f"{path}: {message}") from None
        with picture:
            width, height = picture.size
            try:
                check_image_size(height, width)
            except ValueError as error:
                raise ImageFileError(
                    f"{path}: {error}; refused before decoding"
                ) from None
            try:
                return gray_bytes(path, picture)
            except ImageFileError:
                raise
            except Exception as error:  # damage shows while the pixels are decoded
                raise ImageFileError(
                    f"{path}: cannot be decoded ({why(error)})"
                ) from None


def why(error: BaseException) -> str:
    """An exception in one short line: its type and its message."""
    message = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def gray_bytes(path: str | os.PathLike[str], picture) -> np.ndarray:
    """A picture's pixels as gray bytes (see ``read_image``), by its pixel format."""
    from PIL import Image, ImageOps

    mode = picture.mode
    sixteen = mode.startswith("I;16") or (mode == "I" and is_sixteen_bit(picture))
    picture = ImageOps.exif_transpose(picture)
    if mode == "F":
        values = np.asarray(picture, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ImageFileError(f"{path}: holds NaN or infinite pixels")
        if values.min() < 0 or values.max() > 1:
            found = f"from {values.min():g} to {values.max():g}"
            raise ImageFileError(f"{path}: float pixels {found}, not in [0, 1]")
        return np.round(values * 255).astype(np.uint8)
    if mode.startswith("I") and not sixteen:
        raise ImageFileError(
            f"{path}: 32-bit integer pixels, whose range is not known: save the "
            "picture with 8 or 16 bits a pixel"
        )
    if sixteen:
        values = np.asarray(picture, dtype=np.float64)
        if values.min() < 0 or values.max() > 65535:
            found = f"from {values.min():g} to {values.max():g}"
            raise ImageFileError(f"{path}: 16-bit pixels {found}, not in 0..65535")
        return np.round(values / 257).astype(np.uint8)
    if mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(paper, rgba)
    return np.asarray(picture.convert("L"), dtype=np.uint8).copy()


def is_sixteen_bit(picture) -> bool:
    """Whether a 32-bit integer ("I") picture holds 16-bit gray: always for PNG and
    PBM/PGM/PPM (Pillow's own 16-bit modes), for TIFF when its bits per sample say 16."""
    if picture.format in ("PNG", "PPM"):
        return True
    bits = getattr(picture, "tag_v2", {}).get(258)  # TIFF's BitsPerSample
    return picture.format == "TIFF" and bits in (16, (16,))
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-predict>>[init]
SHADES = ".:-=+*#%@"


@dataclass(frozen=True)
class Reading:
    """What a network reads in one picture (``read_digit``'s answer).

    Attributes:
        file: The picture's path, as given.
        x: float64 (784,): the input the network saw, ``preprocess_image`` of the picture.
        probabilities: (k,): the network's ``A2`` for that input.
    """

    file: str
    x: np.ndarray
    probabilities: np.ndarray

    @property
    def digit(self) -> int:
        """The most probable digit."""
        return int(np.argmax(self.probabilities))

    @property
    def blank(self) -> bool:
        """Whether the picture held no ink (then ``x`` is all zeros)."""
        return not self.x.any()


def check_reads_pictures(params: dict[str, np.ndarray], model: str) -> None:
    """Refuse a network that does not read 28 x 28 pixels.

    Args:
        params: ``W1`` (h, n), ... as ``load_params`` returns them.
        model: The network's file, for the message.

    Raises:
        ValueError: n is not 784.
    """
    n_in = params["W1"].shape[1]
    if n_in != FIELD * FIELD:
        message = f"the network reads {n_in} pixels, not {FIELD * FIELD}"
        raise ValueError(f"{model}: {message}")


def read_digit(params: dict[str, np.ndarray], path: str | os.PathLike[str]) -> Reading:
    """Read one picture, make it look like MNIST, and run the network on it.

    Args:
        params: A network that reads 784 pixels, as ``load_params`` returns it.
        path: The picture.

    Returns:
        The input the network saw and its probabilities.

    Raises:
        ValueError: the network does not read 784 pixels.
        ImageFileError: the picture cannot be read; the message names the file.
    """
    from .forward import forward_prop

    check_reads_pictures(params, "the network")
    gray = read_image(path)
    try:
        x = preprocess_image(gray)
    except (TypeError, ValueError) as error:
        raise ImageFileError(f"{path}: {error}") from None
    A2 = forward_prop(params, x.reshape(-1, 1).astype(params["W1"].dtype))["A2"][:, 0]
    return Reading(str(path), x, A2)


def show_input(x: np.ndarray) -> str:
    """The 28 x 28 input as text, two characters per pixel.

    Args:
        x: float array (784,) in [0, 1], row by row.

    Returns:
        28 lines of 56 characters, pixels from ``"."`` (below 1/9) to ``"@"`` (8/9 and up).
    """
    levels = np.minimum((x * len(SHADES)).astype(int), len(SHADES) - 1)
    levels = levels.reshape(FIELD, FIELD)
    return "\n".join("".join(SHADES[level] * 2 for level in row) for row in levels)
# ~/~ end
# ~/~ end