"""Draw the photo-like example digit of the chapter "Reading your own handwriting".

Run from the repository root:

    python scripts/draw_example_digit.py      # writes docs/img/handwritten-4.png

A thick dark-grey pen stroke (a 4) on light-grey paper that is lit unevenly and has some
grain, 600 x 800 pixels, drawn with Pillow from a fixed seed: a stand-in for a phone photo
of a digit written on paper. tests/test_handwriting.py redraws it and checks that the
committed file holds the same pixels, then runs the chapter's `mnist-math predict` command
on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "img" / "handwritten-4.png"
WIDTH, HEIGHT = 600, 800


def draw_example() -> Image.Image:
    """The example picture: a handwritten-looking 4, dark on light-grey paper."""
    pen = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(pen)
    # Down and across: the open 4, then its long vertical stroke.
    draw.line([(250, 190), (190, 470), (420, 455)], fill=255, width=52, joint="curve")
    draw.line([(360, 250), (345, 650)], fill=255, width=52, joint="curve")
    for x, y in [(250, 190), (190, 470), (420, 455), (360, 250), (345, 650)]:
        draw.ellipse([x - 26, y - 26, x + 26, y + 26], fill=255)  # round pen ends
    ink = np.asarray(pen.filter(ImageFilter.GaussianBlur(2.5)), dtype=np.float64) / 255
    rng = np.random.default_rng(4)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    paper = 0.86 - 0.08 * cols / WIDTH - 0.04 * rows / HEIGHT  # light from the top left
    paper = paper + 0.015 * rng.standard_normal((HEIGHT, WIDTH))  # grain
    picture = paper * (1 - 0.75 * ink)  # the pen darkens the paper
    return Image.fromarray(np.round(255 * np.clip(picture, 0, 1)).astype(np.uint8))


def main() -> int:
    draw_example().save(EXAMPLE)
    print(f"wrote {EXAMPLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
