"""Shared fixtures of the test suite: the real MNIST, loaded once per session.

The real data come from ``mnist_math.data.load_mnist()`` (the user's cache,
``~/.cache/mnist-math/mnist.npz`` or ``$MNIST_MATH_CACHE``; downloaded if the cache is cold).
Tests that need them ask for the ``mnist_raw`` or ``mnist`` fixture; ``seed_run`` is the
reference training run of the seed's configuration, shared by the tests that need it.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass(frozen=True)
class MNIST:
    """The real MNIST in the book's layout: X float64 (784, m) in [0, 1], Y int64 (m,)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


@pytest.fixture(scope="session")
def mnist_raw() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``load_mnist()`` as it returns: uint8 images (m, 28, 28) and uint8 labels, once per session."""
    from mnist_math.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def mnist(mnist_raw) -> MNIST:
    """The whole real MNIST as columns, float64 (about 440 MB), converted once per session."""
    from mnist_math.data import as_columns

    (x_train, y_train), (x_test, y_test) = mnist_raw
    return MNIST(
        X_train=as_columns(x_train),
        Y_train=y_train.astype(np.int64),
        X_test=as_columns(x_test),
        Y_test=y_test.astype(np.int64),
    )


@dataclass(frozen=True)
class SeedRun:
    """The reference run of the seed's configuration: trained weights, history, test accuracy."""

    params: dict
    history: dict
    test_accuracy: float
    seconds: float


def train_seed_run() -> SeedRun:
    """Chapter 7's ``gradient_descent`` on the full MNIST with the seed's configuration
    (uniform init, seed 0, h = 10, lr 0.1, 500 full-batch iterations, float64)."""
    from mnist_math import accuracy, gradient_descent, predict
    from mnist_math.data import as_columns, load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    start = time.perf_counter()
    params, history = gradient_descent(
        as_columns(x_train), y_train.astype(np.int64), lr=0.1, iterations=500, seed=0
    )
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(predict(params, as_columns(x_test)), y_test.astype(np.int64))
    return SeedRun(
        params=params, history=history, test_accuracy=test_accuracy, seconds=seconds
    )


@pytest.fixture(scope="session")
def seed_run(background) -> SeedRun:
    """The seed's configuration trained once per session, in the background (below):
    tests/test_training.py checks it, and tests/test_fast.py, tests/test_model_io.py and
    tests/test_teaching.py compare with it. ``seconds`` is the background's time."""
    return background.result("seed_run")


# --------------------------------------------------------------------------------------
# Slow work started in the background when the session starts
#
# The trainings on the full MNIST, the site builds, the notebooks, the mutation runs, the
# pasted book and the wheel's build need no test's result: the session starts them at once,
# in a pool of two processes that the kernel runs only on a core nothing else wants
# (SCHED_IDLE, inherited by their subprocesses), each with one BLAS thread. The quick tests
# run first, on one core, while the pool uses the other; the tests that check the slow
# work (``slow``) run last (pytest_collection_modifyitems), and find most of it done.
#
# A test module lists its work in ``background_work(items, tmp_path_factory)``, returning
# ``[(order, key, function, args), ...]`` (order 0 first: 0 the site builds the browser
# tests need early, 1 the trainings, the longest work, 2 the rest, 3 the many short runs
# that fill the end); its tests collect each result with ``background.result(key)``. The
# session prints how long the tests waited for it; MNIST_MATH_BACKGROUND_LOG=file writes
# when each piece started and ended.


def pytest_collection_modifyitems(items) -> None:
    """The quick tests first, then the ``slow`` ones, which check the background's work
    (stable: files and tests keep their order within each part)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)


@pytest.fixture(scope="session", autouse=True)
def background(request, tmp_path_factory):
    """Start the background work of the session's tests (see above); close it at the end."""
    items = request.session.items
    needed = set().union(*(item.fixturenames for item in items))
    tasks = []
    if needed & {"built_site", "damaged_site"} and _can_build():
        from site_harness import build_damaged_copy, build_site

        if "built_site" in needed:
            site = tmp_path_factory.mktemp("site") / "site"
            tasks.append((0, "built_site", build_site, (site,)))
        if "damaged_site" in needed:
            book = tmp_path_factory.mktemp("damaged") / "book"
            tasks.append((0, "damaged_site", build_damaged_copy, (book,)))
    if "seed_run" in needed:
        tasks.append((1, "seed_run", train_seed_run, ()))
    modules = {item.module: None for item in items}
    for module in modules:
        if hasattr(module, "background_work"):
            wanted = [item for item in items if item.module is module]
            tasks += module.background_work(wanted, tmp_path_factory)
    from background_pool import Background

    work = Background(tasks)
    try:
        yield work
    finally:
        work.close()
        request.config.stash[BACKGROUND_SUMMARY] = work.summary()


BACKGROUND_SUMMARY = pytest.StashKey[str | None]()


def _can_build() -> bool:
    """Are the build's inputs there? If not, the site fixtures fail and say what is missing."""
    from site_harness import ROOT, _require_build_inputs

    try:
        _require_build_inputs(ROOT)
    except pytest.fail.Exception:
        return False
    return True


# The book as a reader gets it (tests/test_site.py, tests/test_play.py): built once per
# session with `mkdocs build --strict`, and one headless Chromium for every browser test.
# tests/site_harness.py is imported inside the fixtures: tests/test_mutations.py runs the
# formula tests with a copy of this file and tests/background_pool.py alone.


@pytest.fixture(scope="session")
def built_site(background) -> Path:
    from site_harness import ROOT, _require_build_inputs

    _require_build_inputs(ROOT)
    site, seconds, result = background.result("built_site")
    if result.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed ({seconds:.1f} s):\n{result.stdout}\n{result.stderr}"
        )
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return site


@pytest.fixture(scope="session")
def damaged_site(background):
    """A damaged copy of the book, built once with --strict: ``(site, build result)``
    (tests/site_harness.py, ``build_damaged_copy``, says what is damaged)."""
    from site_harness import ROOT, _require_build_inputs

    _require_build_inputs(ROOT)
    site, result = background.result("damaged_site")
    assert (site / "index.html").exists(), (
        f"the damaged copy wrote no site:\n{result.stdout}\n{result.stderr}"
    )
    return site, result


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (Debian's) for every browser test of the session."""
    from site_harness import CHROMIUM, CHROMIUM_ARGS

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Python Playwright is missing: pip install -e '.[dev]' (the README's test command)."
        )
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package with "
            "`sudo apt-get install -y chromium` (the README's test command does); "
            "`playwright install` is not needed."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the mutation score when tests/test_mutations.py ran (chapter 13, "Do the tests
    bite?"), and what the background work took."""
    background = terminalreporter.config.stash.get(BACKGROUND_SUMMARY, None)
    if background:
        terminalreporter.write_sep("-", background)
    outcomes = []
    for key in ("passed", "failed"):
        for report in terminalreporter.stats.get(key, []):
            properties = dict(getattr(report, "user_properties", []))
            if getattr(report, "when", None) == "call" and "mutation" in properties:
                outcomes.append((properties["mutation"], properties.get("caught", False)))
    if outcomes:
        caught = sum(1 for _name, was_caught in outcomes if was_caught)
        missed = [name for name, was_caught in outcomes if not was_caught]
        line = f"mutation score: {caught}/{len(outcomes)} deliberate mistakes in the chapters caught"
        terminalreporter.write_sep(
            "-", line + (f"; missed: {', '.join(missed)}" if missed else "")
        )
