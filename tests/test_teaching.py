"""The teaching material of chapters 5 and 8 and the figures appendix.

- The computational graph of chapter 5 is drawn by ``booktools.figures.computational_graph``
  with every node and arrow the chapter describes, and the committed PNG is what the code
  draws today.
- The output-error figure draws exactly $-dZ^{[2]} = Y - A^{[2]}$.
- The table of every gradient (chapter 5), written by the build hook from
  booktools/registry.py, has one row per gradient of the registry, in its order, with
  the registry's shape, code name, loss and check; and each registered shape is the shape
  ``backward_prop`` returns.
- The figures drawn from the reference run and the numbers their alt texts state are those
  of a fresh run (slow: it trains the reference run). The trained network that chapters 5
  and 8 read, models/seed.npz, is checked against the same run by tests/test_model_io.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.image import imread
from matplotlib.patches import FancyArrowPatch

from booktools import figures
from booktools.registry import BACKWARD_QUANTITIES, EQUATION_CHECKS, GRADIENT_SHAPES
from mnist_math import backward_prop, forward_prop, init_params

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMG = DOCS / "img"
GRAPH_NODES_REQUIRED = {"X", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "L"}


def same_picture(drawn: Path, committed: Path) -> float:
    """Mean absolute difference of two PNGs' pixels (0 to 1); they must share a size."""
    new = imread(drawn)
    old = imread(committed)
    assert new.shape == old.shape, (
        f"{committed.name}: {old.shape} committed, {new.shape} drawn now"
    )
    return float(np.abs(new - old).mean())


# ---------------------------------------------------------------------------------------
# The computational graph


def test_the_graph_has_every_node_and_arrow() -> None:
    assert GRAPH_NODES_REQUIRED <= set(figures.GRAPH_NODES), "the nodes chapter 5 names"
    forward = set(figures.GRAPH_FORWARD)
    backward = {(start, end) for start, end, _label in figures.GRAPH_BACKWARD}
    assert backward == {
        (end, start) for start, end in forward if start not in ("X", "Y")
    }, "every forward arrow but those from the data (X, Y) has a backward arrow"
    figure = figures.computational_graph()
    (ax,) = figure.axes
    arrows = [patch for patch in ax.patches if isinstance(patch, FancyArrowPatch)]
    assert len(arrows) == len(figures.GRAPH_FORWARD) + len(figures.GRAPH_BACKWARD)
    texts = {text.get_text() for text in ax.texts}
    for _start, _end, label in figures.GRAPH_BACKWARD:
        assert label in texts, f"the backward arrow's label {label} is drawn"
    for _x, _y, label, _kind in figures.GRAPH_NODES.values():
        assert label in texts, f"the node {label} is drawn"
    assert figure.get_facecolor()[:3] == (1.0, 1.0, 1.0), (
        "white background, for both themes"
    )


def test_the_committed_graph_is_what_the_code_draws(tmp_path: Path) -> None:
    assert (
        figures.main(["--only", "computational-graph", "--out", str(tmp_path), "--quiet"])
        == 0
    )
    name = "computational-graph.png"
    difference = same_picture(tmp_path / name, IMG / name)
    assert difference < 0.005, (
        f"docs/img/{name} differs from what the code draws (mean pixel difference "
        f"{difference:.4f}): run `python -m booktools.figures --only computational-graph`"
    )


def test_the_output_error_figure_draws_minus_dz2() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    labels = np.array([5, 3])
    A2 = rng.dirichlet(np.ones(10), size=2).T  # (10, 2), columns sum to 1
    figure = figures.output_error(images, labels, A2)
    for row in range(2):
        probability_ax, push_ax = figure.axes[3 * row + 1], figure.axes[3 * row + 2]
        heights = np.array([bar.get_height() for bar in probability_ax.patches])
        pushes = np.array([bar.get_height() for bar in push_ax.patches])
        expected = -A2[:, row].copy()
        expected[labels[row]] += 1.0
        np.testing.assert_allclose(heights, A2[:, row], rtol=0, atol=1e-15)
        np.testing.assert_allclose(pushes, expected, rtol=0, atol=1e-15)
    assert np.allclose(A2.sum(axis=0), 1.0), "the made-up probabilities are probabilities"


# ---------------------------------------------------------------------------------------
# The table of every gradient


def load_hook():
    spec = importlib.util.spec_from_file_location("book_hook", DOCS / "hooks" / "book.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["book_hook"] = module
    spec.loader.exec_module(module)
    return module


def mkdocs_nav() -> list:
    """The nav of mkdocs.yml (the file's ``!!python/name`` tags, if any, are not needed)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)[
        "nav"
    ]


@pytest.fixture(scope="module")
def gradient_rows() -> list[list[str]]:
    hook = load_hook()
    hook.on_files(None, {"nav": mkdocs_nav(), "docs_dir": str(DOCS)})
    table = hook._gradient_table("backward.md")
    rows = [line for line in table.splitlines() if line.startswith("| [(")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_backward_chapter_holds_the_table() -> None:
    lines = (DOCS / "backward.md").read_text(encoding="utf-8").splitlines()
    assert "<!-- gradient-table -->" in [line.strip() for line in lines]


def test_gradient_table_rows_match_the_registry(gradient_rows: list[list[str]]) -> None:
    assert len(gradient_rows) == len(BACKWARD_QUANTITIES), "one row per gradient"
    chapter = (DOCS / "backward.md").read_text(encoding="utf-8")
    for row, (equation, (quantity, loss)) in zip(
        gradient_rows, BACKWARD_QUANTITIES.items()
    ):
        number, formula, code_and_shape, check = row
        code, shape = code_and_shape.split("<br>")
        assert f"(backward.md#{equation})" in number, (
            f"{equation}: the row links its equation"
        )
        blocks = re.findall(r"^\$\$\n(.*?)^\$\$$", chapter, re.S | re.M)
        labelled = [block for block in blocks if f"\\label{{{equation}}}" in block]
        assert len(labelled) == 1, f"{equation} is labelled once in docs/backward.md"
        tex = labelled[0].replace(f"\\label{{{equation}}}", "")
        matrix_form = (
            tex.split("\\qquad")[0].strip().rstrip(",")
        )  # before an entrywise form
        assert f"$\\displaystyle {' '.join(matrix_form.split())}$" == formula, (
            f"{equation}: the chapter's formula"
        )
        assert shape == f"${GRADIENT_SHAPES[equation]}$", (
            f"{equation}: the registry's shape"
        )
        assert code == f"`{quantity}`", f"{equation}: the code name"
        assert f"({loss})<br>" in check, f"{equation}: the {loss} loss"
        file, function = EQUATION_CHECKS[equation][0].split("::")
        assert f"[`{function}`]" in check and f"({file})" in check, (
            f"{equation}: its check"
        )
        assert f"verification.md#check-{equation}" in check, (
            f"{equation}: links the check"
        )


def test_gradient_table_warns_about_a_missing_shape(
    monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    hook = load_hook()
    hook.on_files(None, {"nav": mkdocs_nav(), "docs_dir": str(DOCS)})
    monkeypatch.delitem(hook.BOOK.gradient_shapes, "eq-dw1")
    with caplog.at_level("WARNING"):
        table = hook._gradient_table("backward.md")
    assert "eq-dw1" in caplog.text, (
        "a gradient without a shape is a warning (a strict-build failure)"
    )
    assert "backward.md#eq-dw1" not in table


@pytest.mark.parametrize("n, h, k, m", [(7, 5, 3, 13), (784, 10, 10, 2)])
def test_registered_shapes_are_the_gradients_shapes(
    n: int, h: int, k: int, m: int
) -> None:
    rng = np.random.default_rng(0)
    params = init_params(n, h, k, seed=0)
    X = rng.uniform(0.0, 1.0, size=(n, m))
    Y = rng.integers(0, k, size=m)
    grads = backward_prop(params, forward_prop(params, X), X, Y)
    sizes = {"n": n, "h": h, "k": k, "m": m, "1": 1}
    for equation, (quantity, _loss) in BACKWARD_QUANTITIES.items():
        names = re.fullmatch(r"\((\w+), (\w+)\)", GRADIENT_SHAPES[equation]).groups()
        expected = tuple(sizes[name] for name in names)
        assert grads[quantity].shape == expected, (
            f"{quantity}: {grads[quantity].shape} != {expected}"
        )


# ---------------------------------------------------------------------------------------
# The saved reference network and the numbers drawn from it


def alt_texts(image: str) -> dict[str, str]:
    """``{chapter: alt text}`` of every ``![...](img/<image>)`` in docs/*.md."""
    found = {}
    pattern = re.compile(r"!\[([^\]]*)\]\(img/" + re.escape(image) + r"\)")
    for path in sorted(DOCS.glob("*.md")):
        for alt in pattern.findall(path.read_text(encoding="utf-8")):
            found[path.name] = alt
    return found


def test_the_training_curves_are_described_alike() -> None:
    alts = alt_texts("training-curves.png")
    assert {"index.md", "training.md", "figures.md"} <= set(alts), alts
    assert len(set(alts.values())) == 1, f"the alt texts of one figure disagree: {alts}"


@pytest.fixture(scope="module")
def reference_run(seed_run, mnist_raw) -> dict:
    """The reference run of chapter 8 in the layout ``booktools.figures`` uses, from the
    session's one training of the seed configuration (tests/conftest.py, ``seed_run``):
    the same call as ``figures.reference_runs``, recorded every 10 iterations instead of
    every one, which changes none of the numbers compared here (the first and the last)."""
    (x_train, y_train), _ = mnist_raw
    return {
        "images": x_train,
        "labels": y_train,
        "initial": init_params(seed=0),
        "params": seed_run.params,
        "history": seed_run.history,
        "test_accuracy": seed_run.test_accuracy,
    }


@pytest.mark.slow
def test_the_figures_numbers_are_the_reference_runs(
    reference_run: dict, tmp_path: Path
) -> None:
    history = reference_run["history"]
    alt = alt_texts("training-curves.png")["training.md"]
    stated = [
        f"{history['loss'][0]:.2f}",
        f"{history['loss'][-1]:.2f}",
        f"{history['accuracy'][-1]:.1%}",
        f"{reference_run['test_accuracy']:.1%}",
    ]
    for number in stated:
        assert number in alt, (
            f"the alt text of the training curves should state {number}: {alt}"
        )
    path = figures.save(
        figures.draw("output-error", reference_run), tmp_path / "output-error.png"
    )
    difference = same_picture(path, IMG / "output-error.png")
    assert difference < 0.005, (
        f"docs/img/output-error.png differs from the reference run's (mean pixel difference "
        f"{difference:.4f}): run `python -m booktools.figures --only output-error`"
    )


# ---------------------------------------------------------------------------------------
# The figures command (python -m booktools.figures): usage errors before any work


def run_figures(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "booktools.figures", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_figures_refuses_zero_iterations(tmp_path: Path) -> None:
    result = run_figures("--iterations", "0", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "must be a positive integer" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_figures_out_naming_a_file_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    result = run_figures("--out", "taken", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "is a file, not a folder" in result.stderr, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"], (
        "nothing created"
    )
