"""The "Draw a digit" page (docs/play.md) in headless Chromium, against the book's Python.

The page's JavaScript (docs/assets/play.js) re-implements preprocess_image, forward_prop,
backward_prop and update_params in float64. On the weights the page uses (exported at build
time from models/*.npz) and on the same inputs:

- ``params()`` holds exactly the weights of the model file;
- ``forward`` equals ``forward_prop`` and ``backward`` equals ``backward_prop`` (m = 1) to
  1e-9 for 50 MNIST test images, every intermediate compared and its largest difference
  printed;
- ``preprocess`` equals ``preprocess_image`` to 1e-6 on the same raw arrays: redrawn MNIST
  pages, raw MNIST digits, the chapter's photo-like picture, odd sizes, blank pictures;
- ``teach`` is one ``update_params`` step, and ``reset`` restores the file's weights;
- a stroke drawn with real mouse events (and one with touch events) changes the bars, which
  then show forward_prop of preprocess_image of the drawing; "teach it" shows dZ2;
- the gradient bars use fixed scales (dZ2: 1; dZ1: 2 max|W2|, printed), so a network that is
  sure of the digit it is taught shows short bars, not full ones labelled +0.000;
- a network saved as .safetensors in models/ is offered on the page too;
- a screenshot of the page after drawing a digit is saved to test-artifacts/play/.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from site_harness import SiteServer

from mnist_math import (
    backward_prop,
    forward_prop,
    load_params,
    preprocess_image,
    update_params,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "play"
TOLERANCE = 1e-9  # float64 on both sides; only the order of the sums differs
PREPROCESS_TOLERANCE = 1e-6

pytestmark = pytest.mark.browser


def _open_page(chromium, site: Path):
    """The page of ``site``, served on 127.0.0.1, every request off the machine refused."""
    with SiteServer(site) as server:
        context = chromium.new_context(
            viewport={"width": 1280, "height": 1000}, has_touch=True
        )
        remote: list[str] = []

        def route(route_obj):
            url = route_obj.request.url
            if urllib.parse.urlsplit(url).hostname in (None, "127.0.0.1"):
                route_obj.continue_()
            else:
                remote.append(url)
                route_obj.abort()

        context.route("**/*", route)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.origin}/play/", wait_until="load")
        page.wait_for_selector("#play-app[data-ready='true']", timeout=10000)
        page.errors = errors
        page.remote = remote
        try:
            yield page
        finally:
            context.close()


@pytest.fixture(scope="module")
def play(chromium, built_site):
    """The page of the book as built from the repository."""
    yield from _open_page(chromium, built_site)


def _evaluate(page, function: str, arg=None):
    """``page.evaluate(function, arg)`` with the argument and the answer sent as one JSON
    string each. Playwright sends an array number by number, which was most of these
    tests' time (the preprocessing test took 6.9 s that way, 0.9 s this way). Floats
    survive exactly: JSON.stringify and Python's json both write the shortest text that
    reads back as the same double (test_params_are_the_model_files_weights compares bits)."""
    text = page.evaluate(
        f"(text) => JSON.stringify(({function})(JSON.parse(text)))", json.dumps(arg)
    )
    return json.loads(text)


def _model_files(page) -> dict[str, Path]:
    names = [model["name"] for model in page.evaluate("mnistMath.models()")]
    assert names, "the page offers no network"
    return {name: ROOT / "models" / f"{name}.npz" for name in names}


def _report(name: str, difference: float, tolerance: float) -> str:
    return f"{name:>4}: max |JS - Python| = {difference:.1e} {'OK' if difference <= tolerance else 'NOT OK'}"


def test_params_are_the_model_files_weights(play) -> None:
    for name, path in _model_files(play).items():
        play.evaluate("name => mnistMath.selectModel(name)", name)
        in_page = _evaluate(play, "() => mnistMath.params()")
        params, _meta = load_params(path)
        for key, array in params.items():
            assert np.array_equal(np.array(in_page[key]), array), (
                f"{name}: {key} differs from {path.name}"
            )


def test_forward_and_backward_match_python_on_mnist_images(play, mnist) -> None:
    """The seed network on 50 test images; a wider network (its dW1 alone is 200,000
    numbers per image, passed from the page as JSON, which is what takes the time) on
    the first 5."""
    for name, path in _model_files(play).items():
        images = 50 if name == "seed" else 5
        X = mnist.X_test[:, :images]
        Y = mnist.Y_test[:images]
        play.evaluate("name => mnistMath.selectModel(name)", name)
        params, _meta = load_params(path)
        params = {key: array.astype(np.float64) for key, array in params.items()}
        worst = dict.fromkeys(
            ["Z1", "A1", "Z2", "A2", "dZ2", "dW2", "db2", "dZ1", "dW1", "db1"], 0.0
        )
        for start in range(0, images, 25):
            stop = min(start + 25, images)
            columns = [X[:, j].tolist() for j in range(start, stop)]
            labels = [int(y) for y in Y[start:stop]]
            answers = _evaluate(
                play,
                "([xs, ys]) => xs.map((x, j) => [mnistMath.forward(x), mnistMath.backward(x, ys[j])])",
                [columns, labels],
            )
            for offset, (forward, backward) in enumerate(answers):
                j = start + offset
                x = X[:, j : j + 1]
                cache = forward_prop(params, x)
                grads = backward_prop(params, cache, x, Y[j : j + 1])
                for key in ("Z1", "A1", "Z2", "A2"):
                    difference = np.abs(np.array(forward[key]) - cache[key][:, 0]).max()
                    worst[key] = max(worst[key], difference)
                for key in ("dZ2", "db2", "dZ1", "db1"):
                    difference = np.abs(np.array(backward[key]) - grads[key][:, 0]).max()
                    worst[key] = max(worst[key], difference)
                for key in ("dW2", "dW1"):
                    difference = np.abs(np.array(backward[key]) - grads[key]).max()
                    worst[key] = max(worst[key], difference)
        print(f"\nmodel {name}, {images} MNIST test images:")
        print(
            "\n".join(
                _report(key, difference, TOLERANCE) for key, difference in worst.items()
            )
        )
        bad = {
            key: difference
            for key, difference in worst.items()
            if not difference <= TOLERANCE
        }
        assert not bad, f"{name}: the page's forward/backward differ from Python: {bad}"


def _redrawn_pages(x_test: np.ndarray, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    pages = []
    for digit in x_test[:count]:
        size = int(rng.integers(100, 261))
        top, left = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        big = Image.fromarray(255 - digit).resize((size, size), Image.BILINEAR)
        page = Image.new("L", (280, 280), 255)
        page.paste(big, (left, top))
        pages.append(np.asarray(page))
    return pages


def test_preprocess_matches_preprocess_image(play, mnist_raw) -> None:
    _train, (x_test, _y) = mnist_raw
    rng = np.random.default_rng(8)
    pictures = _redrawn_pages(x_test, 10)  # dark on light, clean borders
    pictures += [
        x_test[j] for j in range(20, 30)
    ]  # MNIST itself, some touching the border
    photo = np.asarray(Image.open(ROOT / "docs" / "img" / "handwritten-4.png"))
    pictures.append(photo)  # grain and uneven light: the noise floor and the margin
    noisy = np.clip(pictures[0] / 255 + 0.03 * rng.standard_normal((280, 280)), 0, 1)
    pictures.append(noisy)
    blank = len(pictures)
    pictures.append(np.full((40, 60), 200, dtype=np.uint8))  # blank
    pictures.append(
        np.asarray(Image.fromarray(x_test[41]).resize((5, 300)))
    )  # long and thin
    pictures.append(np.array([[0, 255], [0, 0]], dtype=np.uint8))  # tiny
    symmetric = np.zeros((30, 30))
    symmetric[5:25, 14:16] = 1.0  # centre of mass exactly halfway between two pixels
    pictures.append(symmetric)
    worst = 0.0
    for k, picture in enumerate(pictures):
        gray = picture / 255 if picture.dtype == np.uint8 else picture
        height, width = gray.shape
        in_page = np.array(
            _evaluate(
                play,
                "([g, w, h]) => mnistMath.preprocess(g, w, h)",
                [gray.ravel().tolist(), width, height],
            )
        )
        expected = preprocess_image(picture)
        difference = np.abs(in_page - expected).max()
        worst = max(worst, difference)
        assert difference <= PREPROCESS_TOLERANCE, (
            f"picture {k} ({height} x {width}): differs by {difference:.1e}"
        )
        assert expected.any() or k == blank, f"picture {k} came out blank"
    print(f"\npreprocess, {len(pictures)} pictures: max |JS - Python| = {worst:.1e}")


def test_teach_is_one_update_params_step_and_reset_restores(play, mnist) -> None:
    name, path = next(iter(_model_files(play).items()))
    play.evaluate("name => mnistMath.selectModel(name)", name)
    params, _meta = load_params(path)
    x = mnist.X_test[:, 3:4]
    label = 5
    result = _evaluate(
        play, "([x, y]) => mnistMath.teach(x, y, 0.1)", [x[:, 0].tolist(), label]
    )
    grads = backward_prop(params, forward_prop(params, x), x, np.array([label]))
    stepped = update_params(params, grads, 0.1)
    after = _evaluate(play, "() => mnistMath.params()")
    for key, array in stepped.items():
        difference = np.abs(np.array(after[key]) - array).max()
        assert difference <= TOLERANCE, (
            f"{key} after one step differs by {difference:.1e}"
        )
    A2_after = forward_prop(stepped, x)["A2"][:, 0]
    assert np.abs(np.array(result["after"]) - A2_after).max() <= TOLERANCE
    assert result["after"][label] > result["before"][label], (
        "a step towards 5 makes 5 likelier"
    )
    play.evaluate("mnistMath.reset()")
    restored = _evaluate(play, "() => mnistMath.params()")
    assert all(np.array_equal(np.array(restored[key]), params[key]) for key in params)


def _bars(page, container: str) -> np.ndarray:
    return np.array(
        page.evaluate(
            "(id) => Array.from(document.querySelectorAll(`#${id} [data-value]`), (b) => Number(b.dataset.value))",
            container,
        )
    )


def _pad_gray(page) -> np.ndarray:
    """The drawing as the page reads it: gray = (0.299 R + 0.587 G + 0.114 B) / 255."""
    rgba = _evaluate(
        page,
        """() => {
          const pad = document.getElementById("play-pad");
          const data = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
          return [Array.from(data), pad.width, pad.height];
        }""",
    )
    data, width, height = rgba
    pixels = np.array(data, dtype=np.float64).reshape(height, width, 4)
    return (
        0.299 * pixels[..., 0] + 0.587 * pixels[..., 1] + 0.114 * pixels[..., 2]
    ) / 255


SEVEN = [(60, 60), (215, 55), (195, 105), (165, 165), (135, 240)]
THREE = [
    (80, 60),
    (150, 40),
    (205, 75),
    (170, 130),
    (120, 140),
    (180, 150),
    (210, 205),
    (150, 245),
    (75, 225),
]


def _draw_with_mouse(page, points) -> None:
    box = page.locator("#play-pad").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()
    page.wait_for_timeout(100)


def _bars_follow_the_drawing(page) -> None:
    """The bars show forward_prop(preprocess_image(the drawing)) on the weights in use."""
    gray = _pad_gray(page)
    x = preprocess_image(gray).reshape(-1, 1)
    params = {
        key: np.array(value, dtype=np.float64)
        for key, value in _evaluate(page, "() => mnistMath.params()").items()
    }
    cache = forward_prop(params, x)
    assert np.abs(_bars(page, "play-output") - cache["A2"][:, 0]).max() <= TOLERANCE
    assert np.abs(_bars(page, "play-hidden") - cache["A1"][:, 0]).max() <= TOLERANCE
    digit = int(np.argmax(cache["A2"][:, 0]))
    assert page.inner_text("#play-digit") == str(digit)


def test_a_mouse_stroke_changes_the_bars(play) -> None:
    play.click("#play-clear")
    blank = _bars(play, "play-output")
    assert play.inner_text("#play-digit") == "?", "a clear pad shows no answer"
    _draw_with_mouse(play, SEVEN)
    drawn = _bars(play, "play-output")
    assert np.abs(drawn - blank).max() > 0.01, "drawing did not move the probability bars"
    seen = _evaluate(
        play,
        "() => Array.from(document.getElementById('play-seen').getContext('2d').getImageData(0, 0, 28, 28).data)",
    )
    assert max(seen) == 255, "the 28 x 28 input shows nothing"
    _bars_follow_the_drawing(play)
    print(
        f"\nthe mouse-drawn 7 reads as {play.inner_text('#play-digit')}: {play.inner_text('#play-status')}"
    )


def test_a_touch_stroke_draws_too(play) -> None:
    play.click("#play-clear")
    box = play.locator("#play-pad").bounding_box()
    cdp = play.context.new_cdp_session(play)

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send(
            "Input.dispatchTouchEvent",
            {
                "type": kind,
                "touchPoints": [
                    {"x": box["x"] + x, "y": box["y"] + y} for x, y in points
                ],
            },
        )

    touch("touchStart", [(140, 40)])
    for step in range(1, 21):
        touch("touchMove", [(140, 40 + 10 * step)])
    touch("touchEnd", [])
    play.wait_for_timeout(100)
    assert play.inner_text("#play-digit") != "?", "a finger stroke did not draw"
    _bars_follow_the_drawing(play)


def test_teach_it_shows_dz2_and_moves_the_probabilities(play) -> None:
    play.click("#play-clear")
    _draw_with_mouse(play, SEVEN)
    before = _bars(play, "play-output")
    x = preprocess_image(_pad_gray(play))
    play.click("#play-teach-digits button[data-label='1']")
    assert play.is_visible("#play-teach-result")
    dZ2 = _bars(play, "play-dz2")
    Y = np.zeros(10)
    Y[1] = 1
    assert np.abs(dZ2 - (before - Y)).max() <= TOLERANCE, "dZ2 = A2 - Y for the drawing"
    after = _bars(play, "play-output")
    assert after[1] > before[1], "teaching 1 made 1 likelier"
    cells = play.locator("#play-moved tr").nth(1).locator("td").all_inner_texts()
    assert (
        cells[0] == "1"
        and cells[1] == f"{100 * before[1]:.1f}%"
        and cells[2] == f"{100 * after[1]:.1f}%"
    )
    links = play.evaluate(
        "Array.from(document.querySelectorAll('#play-teach a'), (a) => a.getAttribute('href'))"
    )
    for anchor in ("eq-dz2", "eq-dw2", "eq-db2", "eq-dz1", "eq-dw1", "eq-db1"):
        assert f"../backward/#{anchor}" in links, f"no link to {anchor}"
    assert "../gradient-descent/#eq-update" in links
    assert x.any()
    play.click("#play-reset")


def _fills(page, container: str) -> np.ndarray:
    """The width of each bar's fill, in percent of its track."""
    return np.array(
        page.evaluate(
            "(id) => Array.from(document.querySelectorAll(`#${id} .play-bar__fill`), (f) => parseFloat(f.style.width))",
            container,
        )
    )


def test_gradient_bars_have_a_fixed_scale_so_a_sure_network_shows_short_bars(
    play,
) -> None:
    """Issue 23: scaled to their own maximum, dZ2 of +0.000 filled a whole bar. Teach the
    network its own answer until it is sure, then check that every bar's length is its
    value on the fixed scale: 1 for dZ2, 2 max|W2| (printed) for dZ1."""
    play.click("#play-clear")
    _draw_with_mouse(play, SEVEN)
    digit = int(play.inner_text("#play-digit"))
    play.select_option("#play-lr", "0.5")
    button = f"#play-teach-digits button[data-label='{digit}']"
    for _ in range(40):
        if _bars(play, "play-output")[digit] > 0.9999:
            break
        play.click(button)
    W2 = np.array(_evaluate(play, "() => mnistMath.params()")["W2"])
    play.click(button)
    dZ2 = _bars(play, "play-dz2")
    dZ1 = _bars(play, "play-dz1")
    assert np.abs(dZ2).max() < 1e-3, f"the network is not sure yet: {dZ2}"
    texts = play.locator("#play-dz2 .play-bar__value").all_inner_texts()
    assert {"+0.000", "-0.000"} & set(texts), texts
    # A style's width keeps about 6 significant digits: compare to that precision.
    assert np.allclose(
        _fills(play, "play-dz2"), 50 * np.abs(dZ2), rtol=1e-4, atol=1e-6
    ), "a dZ2 bar is half the track times |dZ2| (a full bar is 1)"
    assert _fills(play, "play-dz2").max() < 0.05, "short bars for small gradients"
    scale = 2 * np.abs(W2).max()
    shown = float(play.get_attribute("#play-dz1-scale", "data-scale"))
    assert abs(shown - scale) <= 1e-12 * scale, (shown, scale)
    label = play.inner_text("#play-dz1-scale")
    assert label.startswith("a full bar is ±"), label
    assert float(label.split("±")[1]) == float(f"{scale:.2g}"), (label, scale)
    assert np.abs(dZ1).max() <= scale, "2 max|W2| bounds dZ1"
    assert np.allclose(
        _fills(play, "play-dz1"), 50 * np.abs(dZ1) / scale, rtol=1e-4, atol=1e-6
    )
    assert "a full bar is ±1" in play.inner_text("#play-teach-result")
    play.select_option("#play-lr", "0.1")
    play.click("#play-reset")


def test_screenshot_after_drawing_a_digit(play) -> None:
    play.click("#play-clear")
    _draw_with_mouse(play, THREE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "draw-a-digit.png"
    play.locator("#play-app").screenshot(path=str(path))
    print(
        f"\nscreenshot of the page after drawing a 3: {path} ({play.inner_text('#play-status')})"
    )
    assert path.stat().st_size > 10_000
    assert not play.errors, f"JavaScript errors: {play.errors}"
    unexpected = [url for url in play.remote if "api.github.com" not in url]
    assert not unexpected, f"requests left the machine: {unexpected}"


# --------------------------------------------------------------------------
# Another network on the page: what adding one to scripts/train_play_models.py gives


@pytest.fixture(scope="module")
def two_networks(chromium, damaged_site):
    """The play page of the damaged copy of the book (tests/site_harness.py), whose models/
    also holds a wider network (h = 40, untrained, saved as safetensors)."""
    site, _result = damaged_site
    yield from _open_page(chromium, site)


def test_a_second_wider_network_is_offered_and_selectable(two_networks) -> None:
    page = two_networks
    options = page.locator("#play-model option").all_inner_texts()
    committed = len(list((ROOT / "models").glob("*.npz")))
    committed += len(list((ROOT / "models").glob("*.safetensors")))
    assert len(options) == committed + 1, options
    assert options[-1].startswith("A wide untrained network"), options
    page.select_option("#play-model", "wide")
    assert page.evaluate("mnistMath.current()") == "wide"
    assert "init_params(784, 40, 10" in page.inner_text("#play-model-facts")
    _draw_with_mouse(page, SEVEN)
    assert len(_bars(page, "play-hidden")) == 40, "one cell per hidden unit"
    _bars_follow_the_drawing(page)
    page.click("#play-teach-digits button[data-label='7']")
    assert len(_bars(page, "play-dz1")) == 40
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wide-network.png"), full_page=True)
    page.select_option("#play-model", "seed")
    assert len(_bars(page, "play-hidden")) == 10, "back to the seed network's ten units"
    _bars_follow_the_drawing(page)
    assert not page.errors, page.errors
