"""Reading your own handwriting (docs/handwriting.md; the file readers in docs/model-files.md).

- each step of the preprocessing against an independent statement of what it should do:
  the ink normalisation by its invariances, and the chapter's conditions for them checked
  both ways (a gain and an offset keep the result exactly when the background stays on its
  side of 1/2 and the contrast on its side of MIN_CONTRAST; 1 - x unless the background is
  1/2), area averaging against the mean over a supersampled grid (and Pillow's BOX filter
  where it is exact), the centre of mass against ``np.average``, the clamp of the placement
  exactly where the chapter says;
- MNIST test digits redrawn as 280 x 280 dark-on-light pictures, scaled and shifted, come
  back close to the originals, and the seed network reads the same digit in 95% of them;
- ``read_image`` turns photos upright and lays transparent pictures on white; refuses a
  picture beyond the stated size from its header, before decoding, within a second and with
  no stray warning; reads float and 16-bit pictures right and refuses NaN, floats outside
  [0, 1] and 32-bit integers; names the file in every error Pillow raises; refuses folders
  and devices; ``preprocess_image`` at the size limit stays under 400 MB;
- ``read_digit`` returns a Reading or raises, printing nothing; ``mnist-math predict``
  prints, ``--json`` and ``--show`` as documented, reads a safetensors model as the .npz,
  reports a bad image without stopping, and the chapter's example prints what it shows;
- chapter 12 meets issue 22's proportions (at most 702 lines, at most 35% tangled code).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_math import (
    forward_prop,
    load_params,
    preprocess_image,
    read_image,
    save_params,
)
from mnist_math.cli import main
from mnist_math.data import as_columns
from mnist_math.handwriting import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    ImageFileError,
    area_weights,
    border_pixels,
    centre_of_mass,
    crop_to_ink,
    fit_in_box,
    ink_image,
    place_by_centre_of_mass,
    read_digit,
    to_gray,
)
from mnist_math.train import predict

ROOT = Path(__file__).resolve().parents[1]
SEED_MODEL = ROOT / "models" / "seed.npz"


# --------------------------------------------------------------------------
# Step by step


def test_to_gray_reads_bytes_and_floats_alike() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(7, 9), dtype=np.uint8)
    assert np.array_equal(to_gray(image), image / 255)
    assert np.array_equal(to_gray(image / 255), image / 255)
    for bad, error, fragment in [
        (image.astype(np.int32), TypeError, "uint8 bytes or floats"),
        (np.zeros((3, 4, 3)), ValueError, "2-D"),
        (np.zeros((0, 4), dtype=np.uint8), ValueError, "non-empty"),
        (np.full((3, 3), 1.5), ValueError, r"\[0, 1\]"),
        (np.full((3, 3), np.nan), ValueError, "NaN"),
        ([[0.0, 1.0]], TypeError, "NumPy array"),
    ]:
        with pytest.raises(error, match=fragment):
            to_gray(bad)


def _clean_digit(shape=(40, 30), background=0.1, ink=0.7) -> np.ndarray:
    """A synthetic clean picture: an even background and a stroke with soft edges."""
    picture = np.full(shape, background)
    picture[8:32, 12:17] = ink
    picture[8:32, 11] = (background + ink) / 2
    picture[8:32, 17] = background + 0.1 * (ink - background)
    return picture


def test_ink_image_is_invariant_to_brightness_contrast_and_polarity() -> None:
    """Eq. ink: background to 0, peak to 1, linear in between; the same for a x + b, 1 - x."""
    picture = _clean_digit()
    ink = ink_image(picture)
    assert np.all(ink[picture == 0.1] == 0), "the background goes to 0"
    assert np.all(ink[picture == 0.7] == 1), "the peak goes to 1"
    assert np.allclose(ink[8:32, 11], 0.5, atol=1e-12), (
        "halfway stays halfway (no margin: even border)"
    )
    assert np.allclose(ink[8:32, 17], 0.1, atol=1e-12), (
        "the faintest ink is kept on a clean picture"
    )
    # a > 0, the contrast stays above MIN_CONTRAST and the background below 1/2
    for a, b in [(0.5, 0.2), (1.2, -0.05), (0.4, 0.05)]:
        changed = ink_image(a * picture + b)
        assert np.abs(changed - ink).max() < 1e-12, f"ink changed under {a} x + {b}"
    assert np.abs(ink_image(1 - picture) - ink).max() < 1e-12, (
        "a light background is inverted"
    )


def test_ink_image_removes_noise_and_the_faintest_ink_of_a_noisy_picture() -> None:
    rng = np.random.default_rng(1)
    picture = _clean_digit(background=0.2, ink=0.8) + 0.02 * rng.standard_normal((40, 30))
    picture = np.clip(picture, 0, 1)
    ink = ink_image(picture)
    stroke = np.zeros((40, 30), dtype=bool)
    stroke[8:32, 11:18] = True
    assert np.all(ink[~stroke] == 0), (
        "15 median absolute deviations cover the grain of the paper"
    )
    assert np.all(ink[8:32, 12:17] > 0.6), "the stroke survives"
    assert np.all(ink[8:32, 17] == 0), (
        "on a noisy picture the faintest 5% of the contrast goes"
    )


def test_ink_image_of_a_blank_or_nearly_blank_picture_is_zero() -> None:
    assert not ink_image(np.full((20, 20), 0.9)).any()
    faint = np.full((20, 20), 0.9)
    faint[5:15, 9] = 0.75  # contrast 0.15 < MIN_CONTRAST
    assert not ink_image(faint).any()
    assert not preprocess_image(np.full((50, 80), 255, dtype=np.uint8)).any()


def test_ink_image_caps_the_floor_at_half_the_contrast() -> None:
    """On a badly lit page the noise estimate is large; the strokes still survive."""
    rows, cols = np.mgrid[0:60, 0:60]
    page = 0.9 - 0.5 * cols / 60  # from 0.9 to 0.4 across the page
    page[10:50, 28:32] = 0.05
    ink = ink_image(page)
    assert np.all(ink[10:50, 28:32] == 1), "the stroke is the brightest ink"
    assert ink[:, :20].max() == 0, "the well-lit half of the page is background"


@pytest.mark.parametrize(
    ("n", "n_new"), [(4, 3), (280, 20), (57, 20), (13, 20), (3, 1), (1, 5), (20, 20)]
)
def test_area_weights_average_the_covered_area(n, n_new) -> None:
    """Eq. area-average: R v is the mean of v over each new pixel's interval.

    The oracle repeats every old pixel n_new times, so that each new pixel covers exactly n
    of the fine samples: its value is their plain mean.
    """
    R = area_weights(n, n_new)
    assert R.shape == (n_new, n)
    assert np.allclose(R.sum(axis=1), 1.0, atol=1e-12), "each new pixel is an average"
    rng = np.random.default_rng(n * 100 + n_new)
    v = rng.uniform(0, 1, size=n)
    fine = np.repeat(v, n_new).reshape(n_new, n).mean(axis=1)
    assert np.abs(R @ v - fine).max() < 1e-12, (
        f"R v differs from the supersampled mean by {np.abs(R @ v - fine).max():.1e}"
    )


@pytest.mark.parametrize(("h", "w"), [(280, 280), (100, 60), (280, 140)])
def test_fit_in_box_matches_pillow_box_filter_at_whole_ratios(h, w) -> None:
    """Where every new pixel covers whole old pixels, Pillow's BOX resize is area averaging."""
    rng = np.random.default_rng(h + w)
    crop = rng.uniform(0, 1, size=(h, w))
    S = fit_in_box(crop)
    assert S.shape == (20 * h // max(h, w), 20 * w // max(h, w)), (
        "whole ratios by construction"
    )
    pillow = Image.fromarray(crop.astype(np.float32), mode="F").resize(
        (S.shape[1], S.shape[0]), Image.BOX
    )
    assert np.abs(S - np.asarray(pillow)).max() < 1e-5, "float32 Pillow vs float64 NumPy"
    assert abs(S.mean() - crop.mean()) < 1e-12, "area averaging keeps the mean brightness"


def test_fit_in_box_keeps_the_aspect_ratio_rounding_half_up() -> None:
    assert fit_in_box(np.ones((100, 30))).shape == (20, 6)
    assert fit_in_box(np.ones((40, 25))).shape == (
        20,
        13,
    )  # 12.5 rounds up, as Math.round
    assert fit_in_box(np.ones((300, 2))).shape == (20, 1)  # never below one pixel
    assert fit_in_box(np.ones((5, 4))).shape == (20, 16)  # small crops are enlarged


def test_centre_of_mass_and_placement() -> None:
    """Eq. centre-of-mass, and the placement nearest (14, 14) in whole pixels."""
    rng = np.random.default_rng(2)
    for shape in [(20, 13), (20, 20), (7, 20), (1, 1)]:
        S = rng.uniform(0, 1, size=shape) * (rng.uniform(size=shape) > 0.5)
        S[0, 0] += 0.1  # never all zero
        rows, cols = np.indices(shape)
        expected = (np.average(rows, weights=S), np.average(cols, weights=S))
        assert np.allclose(centre_of_mass(S), expected, atol=1e-12), (
            centre_of_mass(S),
            expected,
        )
        field = place_by_centre_of_mass(S)
        assert field.shape == (28, 28) and np.isclose(field.sum(), S.sum())
        r_bar, c_bar = centre_of_mass(field)
        assert abs(r_bar - 14) <= 0.5 + 1e-9 and abs(c_bar - 14) <= 0.5 + 1e-9, (
            r_bar,
            c_bar,
        )


def test_a_centre_halfway_between_pixels_rounds_up_in_both_languages() -> None:
    S = np.zeros((20, 3))
    S[:, 1] = 1.0  # centre of mass at row 9.5: 14 - 9.5 = 4.5 rounds to 5
    field = place_by_centre_of_mass(S)
    assert centre_of_mass(field)[0] == 14.5, (
        "a tie is sent up, by TIE, whatever the round-off"
    )


def test_border_pixels_are_each_border_pixel_once() -> None:
    picture = np.arange(20.0).reshape(4, 5)
    assert sorted(border_pixels(picture)) == sorted(
        [0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 5, 10, 9, 14]
    )
    assert sorted(border_pixels(picture[:2])) == sorted(range(10))


def test_crop_to_ink_is_the_bounding_box() -> None:
    ink = np.zeros((10, 12))
    ink[3, 4] = 0.2
    ink[7, 9] = 1.0
    assert crop_to_ink(ink).shape == (5, 6)


# --------------------------------------------------------------------------
# Step 1's claims: when a x + b and 1 - x give the same result (issue 23)


def _sweep_picture() -> np.ndarray:
    """A grainy picture, light strokes on a dark background (beta 0.3, contrast 0.4)."""
    rng = np.random.default_rng(3)
    picture = _clean_digit(background=0.3, ink=0.7) + 0.01 * rng.standard_normal((40, 30))
    return np.clip(picture, 0.25, 0.75)


def test_ink_image_is_the_same_for_a_x_plus_b_exactly_under_the_chapters_conditions() -> (
    None
):
    """Chapter 12, step 1: for a > 0 (pixels kept in [0, 1]), a x + b gives the same
    x-tilde, up to round-off, when the background stays on its side of 1/2 and the
    contrast on its side of MIN_CONTRAST; otherwise it differs. Checked both ways on a grid
    of a and b, for the picture and for its inverse (a light background)."""
    from mnist_math.handwriting import MIN_CONTRAST

    checked = {"same": 0, "different": 0}
    for picture in (_sweep_picture(), 1 - _sweep_picture()):
        reference = ink_image(picture)
        border = border_pixels(picture)
        beta = np.median(border)
        light = beta > 0.5
        contrast = (1 - picture.min()) - (1 - beta) if light else picture.max() - beta
        for a in np.linspace(0.05, 1.3, 26):
            for b in np.linspace(-0.6, 0.9, 31):
                changed = a * picture + b
                if changed.min() < 0 or changed.max() > 1:
                    continue  # not a picture any more
                beta_changed = np.median(border_pixels(changed))
                same_side = (beta_changed > 0.5) == light
                still_inked = (a * contrast >= MIN_CONTRAST) == (contrast >= MIN_CONTRAST)
                difference = np.abs(ink_image(changed) - reference).max()
                if same_side and still_inked:
                    assert difference < 1e-12, (a, b, difference)
                    checked["same"] += 1
                else:
                    assert difference > 0.5, (a, b, difference)
                    checked["different"] += 1
    print(f"\na x + b: {checked}")
    assert checked["same"] > 50 and checked["different"] > 50, checked


def test_one_minus_x_gives_the_same_result_unless_the_background_is_one_half() -> None:
    picture = _sweep_picture()
    assert np.abs(ink_image(1 - picture) - ink_image(picture)).max() < 1e-12
    half = _clean_digit(background=0.5, ink=0.9)
    assert np.median(border_pixels(half)) == 0.5
    assert np.abs(ink_image(1 - half) - ink_image(half)).max() > 0.5, (
        "at beta = 1/2 neither is inverted: x and 1 - x differ"
    )


def test_ink_image_leaves_its_input_alone() -> None:
    picture = _clean_digit()
    before = picture.copy()
    ink_image(picture)
    assert np.array_equal(picture, before), "the in-place steps work on a copy"


@pytest.mark.parametrize("h", [20, 13])
def test_placement_is_clamped_exactly_when_the_chapter_says(h) -> None:
    """Chapter 12, step 4: the offset floor(14 - r_bar + 1/2) needs clamping into
    0 .. 28 - h only when r_bar <= 5.5 or r_bar > 14.5 (for h = 20)."""
    for r_bar_target in np.linspace(0.2, h - 1.2, 97):
        S = np.zeros((h, 3))
        low = int(np.floor(r_bar_target))
        S[low, 1] = low + 1 - r_bar_target  # two rows whose mean row is r_bar_target
        S[low + 1, 1] = r_bar_target - low
        r_bar, _ = centre_of_mass(S)
        free = int(np.floor(14 - r_bar + 0.5 + 1e-9))
        clamped = not (0 <= free <= 28 - h)
        if h == 20:
            assert clamped == (r_bar <= 5.5 + 1e-9 or r_bar > 14.5 + 1e-9), r_bar
        top = int(np.flatnonzero(place_by_centre_of_mass(S).any(axis=1))[0]) - low
        assert top == min(max(free, 0), 28 - h), (r_bar, top, free)


# --------------------------------------------------------------------------
# Hostile pictures: sizes checked before decoding, formats read right or refused


def _png_header(width: int, height: int, bit_depth: int = 8, extra: bytes = b"") -> bytes:
    """A PNG whose header declares any size (gray), with one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + extra
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + info


def _ztxt_bomb() -> bytes:
    text = b"Comment\x00\x00" + zlib.compress(b"\x00" * 4_000_000, 9)
    chunk = len(text).to_bytes(4, "big") + b"zTXt" + text
    chunk += zlib.crc32(b"zTXt" + text).to_bytes(4, "big")
    return _png_header(28, 28, extra=chunk)


HUGE_PICTURES = [
    ("tall.png", lambda: _png_header(1, 89_478_485), "1 x 89,478,485 pixels"),
    ("deep.png", lambda: _png_header(13_000, 13_000, 16), "13,000 x 13,000 pixels"),
    ("square.png", lambda: _png_header(10_000, 10_000), "10,000 x 10,000 pixels"),
    ("wide.bmp", lambda: _bmp_header(20_000, 1), "20,000 x 1 pixels"),
    ("bomb.png", lambda: _png_header(20_000, 20_000), "more than 178,956,970 pixels"),
]


@pytest.mark.parametrize(
    ("name", "craft", "fragment"), HUGE_PICTURES, ids=[n for n, _, _ in HUGE_PICTURES]
)
def test_a_huge_picture_is_refused_before_decoding(
    tmp_path, capfd, name, craft, fragment
) -> None:
    path = tmp_path / name
    path.write_bytes(craft())
    assert path.stat().st_size < 100, "the appendix: less than a hundred bytes"
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageFileError) as error:
            read_image(path)
    elapsed = time.perf_counter() - start
    message = str(error.value)
    assert message.startswith(f"{path}: ") and fragment in message, message
    assert "refused before decoding" in message, message
    assert not caught and not capfd.readouterr().err, "no stray warning"
    assert elapsed < 1.0, f"{elapsed:.2f} s"


def test_the_size_limits_are_stated_in_the_message(tmp_path) -> None:
    path = tmp_path / "tall.png"
    path.write_bytes(_png_header(1, 89_478_485))
    with pytest.raises(
        ImageFileError, match=f"{MAX_IMAGE_PIXELS:,} pixels, {MAX_IMAGE_SIDE:,}"
    ):
        read_image(path)
    with pytest.raises(ValueError, match="16,385 x 1 pixels"):
        preprocess_image(np.zeros((1, MAX_IMAGE_SIDE + 1), dtype=np.uint8))
    with pytest.raises(ValueError, match="4,097 x 4,096 pixels"):
        preprocess_image(np.zeros((4096, 4097)))


def test_a_thin_picture_at_the_limit_is_quick() -> None:
    """No Python loop per pixel: area_weights is built from whole arrays."""
    picture = np.full((1, MAX_IMAGE_SIDE), 230, dtype=np.uint8)
    picture[0, 100:16_000] = 20
    start = time.perf_counter()
    x = preprocess_image(picture)
    assert time.perf_counter() - start < 1.0 and x.any()
    start = time.perf_counter()
    R = area_weights(MAX_IMAGE_SIDE, 20)
    assert time.perf_counter() - start < 0.5 and np.allclose(R.sum(axis=1), 1.0)


def test_a_picture_at_the_limit_takes_less_than_400_mb() -> None:
    """The appendix's figure: preprocess_image of a 4,096 x 4,096 photo-like picture."""
    script = (
        "import resource, numpy as np\n"
        "from mnist_math import preprocess_image\n"
        "picture = np.full((4096, 4096), 230, dtype=np.uint8)\n"
        "picture[1000:3000, 2000:2100] = 30\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "assert preprocess_image(picture).any()\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert result.returncode == 0, result.stderr
    grown = int(result.stdout)
    print(f"\npreprocess_image at the limit: +{grown} MB")
    assert grown < 400, f"{grown} MB"


def _tiff(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(
        path
    )
    return path


def test_unusual_pixel_formats_are_read_right_or_refused(tmp_path) -> None:
    fractions = np.linspace(0, 1, 12 * 10).astype(np.float32).reshape(12, 10)
    read = read_image(_tiff(tmp_path / "float.tif", fractions))
    assert np.array_equal(
        read, np.round(fractions.astype(np.float64) * 255).astype(np.uint8)
    )
    sixteen = np.linspace(0, 65535, 12 * 10).astype(np.uint16).reshape(12, 10)
    for name in ("deep.tif", "deep.pgm"):
        read = read_image(_tiff(tmp_path / name, sixteen))
        assert np.array_equal(read, np.round(sixteen / 257).astype(np.uint8)), name
    with_nan = fractions.copy()
    with_nan[3, 4] = np.nan
    refused = [
        (_tiff(tmp_path / "nan.tif", with_nan), "holds NaN or infinite pixels"),
        (
            _tiff(tmp_path / "bright.tif", fractions * 255),
            "float pixels from 0 to 255, not in [0, 1]",
        ),
        (
            _tiff(
                tmp_path / "int32.tif",
                (np.arange(120) * 30_000_000).astype(np.int32).reshape(12, 10),
            ),
            "32-bit integer pixels, whose range is not known",
        ),
    ]
    for path, fragment in refused:
        with pytest.raises(ImageFileError) as caught:
            read_image(path)
        assert str(caught.value).startswith(f"{path}: ") and fragment in str(caught.value)


def test_every_error_from_pillow_names_the_file(tmp_path) -> None:
    cases = {
        "header.ppm": (b"P5\n2 x\n255\n\x00\x00", "invalid literal for int()"),
        "text.png": (_ztxt_bomb(), "not a picture this reader takes"),
        "cut.png": (_png_header(28, 28)[:40], "not a picture this reader takes"),
        "drawing.eps": (
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
            "not a picture",
        ),
    }
    for name, (data, fragment) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageFileError) as caught:
            read_image(tmp_path / name)
        message = str(caught.value)
        assert message.startswith(f"{tmp_path / name}: ") and fragment in message, message
        assert "\n" not in message
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ImageFileError, match="folder.png: a folder, not an image file"):
        read_image(tmp_path / "folder.png")
    with pytest.raises(
        ImageFileError, match="null: a character device, not an image file"
    ):
        read_image("/dev/null")


# --------------------------------------------------------------------------
# The whole pipeline


def _page(
    digit: np.ndarray, size: int, top: int, left: int, resample=Image.NEAREST
) -> np.ndarray:
    """An MNIST digit redrawn dark on a white 280 x 280 page, ``size`` pixels high."""
    big = Image.fromarray(255 - digit).resize((size, size), resample)
    page = Image.new("L", (280, 280), 255)
    page.paste(big, (left, top))
    return np.asarray(page)


def test_preprocess_image_is_the_same_for_both_polarities_places_and_dtypes(
    mnist_raw,
) -> None:
    _train, (x_test, _y) = mnist_raw
    digit = x_test[5]
    first = preprocess_image(_page(digit, 140, 10, 20))
    assert first.shape == (784,) and first.dtype == np.float64
    assert first.min() >= 0 and first.max() == 1
    assert np.array_equal(preprocess_image(_page(digit, 140, 130, 135)), first), (
        "another place"
    )
    # 1 - v / 255 and (255 - v) / 255 may differ in the last bit
    assert (
        np.abs(preprocess_image(255 - _page(digit, 140, 10, 20)) - first).max() < 1e-12
    ), "light on dark"
    assert np.array_equal(preprocess_image(_page(digit, 140, 10, 20) / 255), first), (
        "floats"
    )
    wide = np.full((300, 500), 255, dtype=np.uint8)
    wide[:280, :280] = _page(digit, 140, 10, 20)
    assert np.array_equal(preprocess_image(wide), first), "a picture of another size"


def _best_cosine(p: np.ndarray, original: np.ndarray) -> float:
    """Cosine similarity of two 28 x 28 pictures, the second shifted by at most one pixel."""
    p = p.reshape(28, 28)
    original = original.reshape(28, 28)
    best = -1.0
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            shifted = np.roll(np.roll(original, dr, axis=0), dc, axis=1)
            cosine = (p * shifted).sum() / (np.linalg.norm(p) * np.linalg.norm(shifted))
            best = max(best, cosine)
    return best


def test_mnist_digits_redrawn_off_centre_come_back(mnist_raw) -> None:
    """200 test digits, each redrawn 100 to 260 pixels high at a random place of a white
    280 x 280 page, dark on light, go through preprocess_image.

    Measure of "close": the cosine similarity with the original, allowing a shift of at most
    one pixel (the centring rounds to whole pixels, so a centre near a half pixel can round
    the other way after resampling). Two different test digits of the same class score
    about 0.5 (printed); we require at least 0.98 for every digit. And the seed network (models/seed.npz)
    must read the same digit in the redrawn picture as in the original for >= 95% of them.
    """
    _train, (x_test, _y) = mnist_raw
    rng = np.random.default_rng(0)
    originals = as_columns(x_test[:200])
    redrawn = []
    for digit in x_test[:200]:
        size = int(rng.integers(100, 261))
        top, left = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        redrawn.append(preprocess_image(_page(digit, size, top, left)))
    P = np.stack(redrawn, axis=1)
    cosines = np.array([_best_cosine(P[:, j], originals[:, j]) for j in range(200)])
    params, _meta = load_params(SEED_MODEL)
    agreement = np.mean(predict(params, P) == predict(params, originals))
    # The yardstick: how alike two different digits of the same class are.
    unit = originals / np.linalg.norm(originals, axis=0)
    same_class = (_y[:200, None] == _y[None, :200]) & ~np.eye(200, dtype=bool)
    yardstick = (unit.T @ unit)[same_class].mean()
    print(
        f"redrawn digits: mean |difference| {np.abs(P - originals).mean():.4f}, cosine after "
        f"<= 1 px shift: min {cosines.min():.4f}, mean {cosines.mean():.4f} (two different "
        f"digits of one class: {yardstick:.2f} on average); same prediction {agreement:.1%}"
    )
    assert yardstick < 0.8, "the yardstick: different digits are far less alike than 0.98"
    assert cosines.min() >= 0.98, (
        f"digit {cosines.argmin()} came back with cosine {cosines.min():.3f}"
    )
    assert agreement >= 0.95, (
        f"the seed network agrees on only {agreement:.1%} of the redrawn digits"
    )
    # Chapter 12 quotes these figures: its sentence states what this run measures.
    chapter = " ".join(
        (ROOT / "docs" / "handwriting.md").read_text(encoding="utf-8").split()
    )
    for stated in (
        f"(the lowest is {cosines.min():.4f};",
        f"score {yardstick:.2f} on average)",
        f"reads the same digit in {agreement:.1%} of them",
    ):
        assert stated in chapter, f"docs/handwriting.md should say {stated!r}"


# --------------------------------------------------------------------------
# Files and the command line


def test_read_image_lays_transparency_on_white_and_turns_photos_upright(tmp_path) -> None:
    transparent = Image.new("RGBA", (30, 40), (0, 0, 0, 0))
    transparent.paste((0, 0, 0, 255), (10, 5, 14, 35))  # a black "1" on nothing
    transparent.save(tmp_path / "transparent.png")
    gray = read_image(tmp_path / "transparent.png")
    assert gray.dtype == np.uint8 and gray.shape == (40, 30)
    assert gray[0, 0] == 255 and gray[20, 12] == 0, "transparent parts become white paper"

    upright = Image.new("L", (30, 60), 255)
    upright.paste(0, (5, 5, 10, 55))  # a tall bar on the left
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    sideways.convert("RGB").save(tmp_path / "photo.jpg", exif=exif, quality=95)
    photo = read_image(tmp_path / "photo.jpg")
    assert photo.shape == (60, 30), f"the photo was not turned upright: {photo.shape}"


def test_read_image_scales_16_bit_gray_to_bytes(tmp_path) -> None:
    sixteen = np.linspace(0, 65535, 12 * 10).astype(np.uint16).reshape(12, 10)
    Image.fromarray(sixteen).save(tmp_path / "deep.png")
    gray = read_image(tmp_path / "deep.png")
    assert gray.dtype == np.uint8
    assert np.array_equal(gray, np.round(sixteen / 257).astype(np.uint8)), (
        "16 bits to 8 by 257"
    )


def test_read_image_names_the_file_it_cannot_read(tmp_path) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png: not a picture this reader takes"):
        read_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="missing.png: no such file"):
        read_image(tmp_path / "missing.png")


def _write_pages(mnist_raw, folder: Path) -> list[tuple[Path, int]]:
    _train, (x_test, y_test) = mnist_raw
    files = []
    for j, (size, suffix) in enumerate([(150, ".png"), (200, ".jpg"), (120, ".png")]):
        path = folder / f"digit{j}{suffix}"
        Image.fromarray(_page(x_test[j], size, 40, 60)).convert("RGB").save(
            path, quality=95
        )
        files.append((path, int(y_test[j])))
    return files


def test_predict_prints_digit_and_probabilities(mnist_raw, tmp_path, capsys) -> None:
    files = _write_pages(mnist_raw, tmp_path)
    status = main(["predict", str(SEED_MODEL), *(str(path) for path, _label in files)])
    out = capsys.readouterr().out
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 3 * len(files), out
    params, _meta = load_params(SEED_MODEL)
    for k, (path, _label) in enumerate(files):
        x = preprocess_image(read_image(path))
        A2 = forward_prop(params, x.reshape(-1, 1))["A2"][:, 0]
        digit = int(np.argmax(A2))
        assert lines[3 * k] == f"{path}: {digit}  ({A2[digit]:.1%})", lines[3 * k]
        shown = [
            float(v)
            for v in re.findall(r"\d: +([\d.]+)%", lines[3 * k + 1] + lines[3 * k + 2])
        ]
        assert np.allclose(shown, 100 * A2, atol=0.006), (shown, A2)


def test_predict_json_and_show(mnist_raw, tmp_path, capsys) -> None:
    files = _write_pages(mnist_raw, tmp_path)
    status = main(
        ["predict", str(SEED_MODEL), "--json", *(str(path) for path, _label in files)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and len(lines) == len(files)
    params, _meta = load_params(SEED_MODEL)
    correct = 0
    for line, (path, label) in zip(lines, files):
        record = json.loads(line)
        assert record["file"] == str(path)
        probabilities = np.array(record["probabilities"])
        x = preprocess_image(read_image(path))
        expected = forward_prop(params, x.reshape(-1, 1))["A2"][:, 0]
        assert np.array_equal(probabilities, expected), (
            "JSON keeps every digit of a float"
        )
        assert record["digit"] == int(np.argmax(probabilities)) and "blank" not in record
        correct += record["digit"] == label
    assert correct >= 2, "the seed network should read at least 2 of these 3 clear digits"

    status = main(["predict", str(SEED_MODEL), "--show", str(files[0][0])])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and len(lines) == 3 + 28
    picture = lines[3:]
    assert all(len(row) == 56 and set(row) <= set(".:-=+*#%@") for row in picture)
    x = preprocess_image(read_image(files[0][0])).reshape(28, 28)
    assert [row[::2] for row in picture] == [
        "".join(".:-=+*#%@"[min(int(v * 9), 8)] for v in row) for row in x
    ], "--show draws the input the network saw"

    status = main(["predict", str(SEED_MODEL), "--json", "--show", str(files[0][0])])
    record = json.loads(capsys.readouterr().out)
    assert record["input"] == picture, "--json --show puts the picture in the object"


def test_predict_reports_a_blank_picture(tmp_path, capsys) -> None:
    Image.new("L", (64, 64), 250).save(tmp_path / "blank.png")
    status = main(["predict", str(SEED_MODEL), "--json", str(tmp_path / "blank.png")])
    record = json.loads(capsys.readouterr().out)
    assert status == 0 and record["blank"] is True


def test_predict_goes_on_after_a_bad_image_and_fails_on_a_bad_model(
    mnist_raw, tmp_path, capsys
) -> None:
    files = _write_pages(mnist_raw, tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG but not really")
    status = main(
        ["predict", str(SEED_MODEL), str(tmp_path / "broken.png"), str(files[0][0])]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert "broken.png: not a picture this reader takes" in captured.err
    assert captured.out.startswith(f"{files[0][0]}: "), "the good image is still read"

    status = main(
        ["predict", str(files[0][0]), str(files[1][0])]
    )  # the image given as model
    captured = capsys.readouterr()
    assert status == 1 and "a PNG image, not a network" in captured.err, captured.err


def _chapter_example() -> tuple[list[str], str]:
    """The chapter's ```bash `mnist-math predict ...` block and the ```text block after it."""
    text = (ROOT / "docs" / "handwriting.md").read_text(encoding="utf-8")
    match = re.search(
        r"```bash\n(mnist-math predict [^\n]*)\n```\n\n```text\n(.*?)```", text, re.S
    )
    assert match, (
        "docs/handwriting.md has no `mnist-math predict` example followed by its output"
    )
    return match.group(1).split()[1:], match.group(2)


def test_the_chapters_predict_example_prints_what_the_chapter_shows(
    capsys, monkeypatch
) -> None:
    argv, expected = _chapter_example()
    monkeypatch.chdir(ROOT)
    assert main(argv) == 0
    assert capsys.readouterr().out == expected


def test_the_example_picture_is_what_the_script_draws() -> None:
    spec = importlib.util.spec_from_file_location(
        "draw_example_digit", ROOT / "scripts" / "draw_example_digit.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    committed = np.asarray(Image.open(module.EXAMPLE))
    assert np.array_equal(committed, np.asarray(module.draw_example())), (
        "docs/img/handwritten-4.png is not what scripts/draw_example_digit.py draws: rerun it"
    )


def test_predict_reads_a_safetensors_model_as_it_reads_the_npz(
    mnist_raw, tmp_path, capsys
) -> None:
    files = [str(path) for path, _label in _write_pages(mnist_raw, tmp_path)]
    params, meta = load_params(SEED_MODEL)
    tensors = save_params(tmp_path / "seed.safetensors", params, meta)
    assert main(["predict", str(SEED_MODEL), "--json", *files]) == 0
    from_npz = capsys.readouterr().out
    assert main(["predict", str(tensors), "--json", *files]) == 0
    assert capsys.readouterr().out == from_npz


def test_read_digit_returns_and_raises_and_prints_nothing(
    mnist_raw, tmp_path, capsys
) -> None:
    """The library side of predict: a Reading, or an ImageFileError naming the file."""
    (path, _label), *_ = _write_pages(mnist_raw, tmp_path)
    params, _meta = load_params(SEED_MODEL)
    reading = read_digit(params, path)
    expected = forward_prop(params, preprocess_image(read_image(path)).reshape(-1, 1))
    assert np.array_equal(reading.probabilities, expected["A2"][:, 0])
    assert reading.digit == int(np.argmax(reading.probabilities)) and not reading.blank
    (tmp_path / "broken.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(
        ImageFileError, match="broken.png: not a picture this reader takes"
    ):
        read_digit(params, tmp_path / "broken.png")
    small = {"W1": params["W1"][:, :100], **{k: params[k] for k in ("b1", "W2", "b2")}}
    with pytest.raises(ValueError, match="the network reads 100 pixels, not 784"):
        read_digit(small, path)
    assert capsys.readouterr() == ("", ""), "library functions print nothing"


def test_chapter_12_teaches_and_the_appendix_engineers() -> None:
    """Issue 22's targets for chapter 12, measured as booktools.proportions measures every
    chapter: at most 60% of its 1,170 lines before, at most 35% of them in tangled code;
    the model files and image readers live in docs/model-files.md."""
    from booktools.proportions import MAX_LINES, MAX_SHARE, measure

    page = measure(ROOT / "docs" / "handwriting.md", "12. Reading your own handwriting")
    print(
        f"\nchapter 12: {page.lines} lines, {page.tangled} in tangled code ({page.share:.1%})"
    )
    assert page.lines <= MAX_LINES["handwriting.md"] == 702, page.lines
    assert page.share <= MAX_SHARE == 0.35, f"{page.share:.1%}"
    appendix = (ROOT / "docs" / "model-files.md").read_text(encoding="utf-8")
    for fragment in ("file=mnist_math/model_io.py", "#model-files-read-image"):
        assert fragment in appendix, fragment
