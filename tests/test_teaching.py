"""The teaching material of chapters 5 and 8 and the figures appendix.

- The computational graph of chapter 5 is drawn by ``booktools.figures.computational_graph``
  with every node and arrow the chapter describes; its backward arrows carry local
  derivatives only (an operator on the arriving gradient, never a 1/m or a sum over the
  examples), in letters of the size the page needs; and the committed PNG is what the code
  draws today.
- The output-error figure draws exactly $-dZ^{[2]} = Y - A^{[2]}$.
- The table of every gradient (chapter 5), which the chapter writes in its Markdown, is the
  table the build hook computes from booktools/registry.py: one row per gradient of the
  registry, in its order, with the registry's shape, code name, loss and check; and each
  registered shape is the shape ``backward_prop`` returns.
- Chapter 5 displays each backward formula at most twice (where it is derived, and in the
  table), and never shows the docstring's copy.
- The reusable rule for a linear layer (chapter 5's ``linear_backward``) returns the
  gradients of the loss whose dZ it is fed: autograd's mean-loss dZ gives autograd's dW.
- The figures drawn from the reference run and the numbers their alt texts state are those
  of a fresh run (slow: it trains the reference run). The trained network that chapters 5
  and 8 read, models/seed.npz, is checked against the same run by tests/test_model_io.py.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from matplotlib.image import imread
from matplotlib.patches import FancyArrowPatch

from booktools import figures, gradient_table
from booktools.blocks import fences, runnable_blocks
from booktools.registry import BACKWARD_QUANTITIES, EQUATION_CHECKS, GRADIENT_SHAPES
from mnist_math import backward_prop, forward_prop, init_params
from mnist_math.gradcheck import assert_close

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


def test_the_graph_arrows_carry_local_derivatives_only() -> None:
    for start, end, label in figures.GRAPH_BACKWARD:
        assert "\\cdot" in label, (
            f"{start} -> {end}: {label} is not an operator on the arriving gradient"
        )
        math = " ".join(re.findall(r"\$([^$]*)\$", label))
        assert not re.search(r"\\[td]?frac|/|\\sum|\bm\b", math), (
            f"{start} -> {end}: {label} holds a 1/m or a sum over examples, which belong to "
            "the mean over a batch, not to a local derivative"
        )


def test_the_graph_labels_are_drawn_large() -> None:
    figure = figures.computational_graph()
    (ax,) = figure.axes
    labels = {label for _start, _end, label in figures.GRAPH_BACKWARD}
    drawn = [text for text in ax.texts if text.get_text() in labels]
    assert len(drawn) == len(figures.GRAPH_BACKWARD)
    for text in drawn:
        assert text.get_fontsize() >= figures.GRAPH_FONT_SIZE, text.get_text()
    for text in ax.get_legend().get_texts():
        assert text.get_fontsize() >= figures.GRAPH_FONT_SIZE - 1, text.get_text()


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


def mkdocs_nav() -> list:
    """The nav of mkdocs.yml (the file's ``!!python/name`` tags, if any, are not needed)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)[
        "nav"
    ]


def written_gradient_table() -> str:
    table = gradient_table.written_table(
        (DOCS / "backward.md").read_text(encoding="utf-8")
    )
    assert table, "docs/backward.md writes the table between the gradient-table markers"
    return table


@pytest.fixture(scope="module")
def gradient_rows() -> list[list[str]]:
    """The rows of the table as chapter 5 writes it (and the notebook shows it)."""
    rows = [
        line for line in written_gradient_table().splitlines() if line.startswith("| [(")
    ]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_backward_chapter_writes_the_registry_table() -> None:
    hook = gradient_table.load_hook()
    hook.on_files(None, {"nav": mkdocs_nav(), "docs_dir": str(DOCS)})
    expected = hook._gradient_table("backward.md").strip()
    assert written_gradient_table() == expected, (
        "the table of every gradient in docs/backward.md is not the registry's: run "
        "`python -m booktools.gradient_table --update`"
    )


def test_the_build_warns_about_a_stale_table(caplog) -> None:
    hook = gradient_table.load_hook()
    hook.on_files(None, {"nav": mkdocs_nav(), "docs_dir": str(DOCS)})
    page = SimpleNamespace(file=SimpleNamespace(src_uri="backward.md"))
    text = (DOCS / "backward.md").read_text(encoding="utf-8")
    stale = text.replace("`dW2`<br>$(k, h)$", "`dW2`<br>$(h, k)$", 1)
    assert stale != text, "the damage must apply"
    with caplog.at_level("WARNING"):
        hook.on_page_markdown(text, page, None, None)
    assert "table of every gradient" not in caplog.text
    with caplog.at_level("WARNING"):
        hook.on_page_markdown(stale, page, None, None)
    assert "table of every gradient differs" in caplog.text, (
        "a stale table is a warning (a strict-build failure)"
    )
    with pytest.raises(ValueError):
        gradient_table.written_table(text.replace("<!-- /gradient-table -->", "", 1))


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
    hook = gradient_table.load_hook()
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


# ---------------------------------------------------------------------------------------
# Chapter 5: each backward formula displayed at most twice


def normalised_tex(text: str) -> str:
    """TeX without the spellings that leave a formula unchanged.

    Spaces, thin spaces, alignment marks, ``\\displaystyle``/``\\textstyle``, delimiter
    sizes, ``\\tfrac``/``\\dfrac`` for ``\\frac``, ``^{\\top}`` for ``^\\top``, and the bounds
    of a sum over the examples (``\\sum_{j=1}^{m}``, ``\\sum_{j}`` and ``\\sum_j`` alike).
    """
    text = re.sub(
        r"\\(?:displaystyle|textstyle|left|right|[bB]igg?[lr]?)(?![A-Za-z])", "", text
    )
    text = re.sub(r"\\[,;:! ]", "", text)
    text = text.replace("&", "")
    text = re.sub(r"\\[td]frac", r"\\frac", text)
    text = re.sub(r"\s+", "", text)
    text = text.replace(r"^{\top}", r"^\top")
    return re.sub(r"\\sum_\{?j(?:=1)?\}?(?:\^\{?m\}?)?", r"\\sum_j", text)


def backward_formulas(chapter: str) -> dict[str, str]:
    """``{equation: its normalised formula}`` for the gradients chapter 5 labels."""
    formulas = {}
    blocks = re.findall(r"^\$\$\n(.*?)^\$\$$", chapter, re.S | re.M)
    for equation in BACKWARD_QUANTITIES:
        labelled = [block for block in blocks if f"\\label{{{equation}}}" in block]
        assert len(labelled) == 1, f"{equation} is labelled once in docs/backward.md"
        tex = labelled[0].replace(f"\\label{{{equation}}}", "").split("\\qquad")[0]
        formulas[equation] = normalised_tex(tex.strip().rstrip(","))
    return formulas


def displayed_too_often(chapter: str, most: int = 2) -> dict[str, int]:
    """The backward formulas that ``chapter`` shows more than ``most`` times (in display
    or inline math, tables or code), with their counts."""
    text = normalised_tex(chapter)
    counts = {
        equation: text.count(formula)
        for equation, formula in backward_formulas(chapter).items()
    }
    return {equation: count for equation, count in counts.items() if count > most}


def test_the_unsure_example_is_described_by_its_printed_numbers() -> None:
    """Chapter 5's real example: the sentence after the printed column of dZ2 quotes that
    column (the block runner checks the column against a fresh run)."""
    block = next(
        block
        for block in runnable_blocks(DOCS / "backward.md")
        if "dZ2_column" in block.code
    )
    printed = {
        int(c): (float(a), float(d))
        for c, a, d in re.findall(
            r"class (\d): a_c = ([\d.]+), dZ2 = ([+-][\d.]+)", block.output or ""
        )
    }
    assert sorted(printed) == list(range(10)), "the block prints all ten classes"
    label = int(re.search(r"label (\d)", block.output).group(1))
    wrong = sorted((c for c in printed if c != label), key=lambda c: -printed[c][0])
    first, second = wrong[:2]
    a_label = printed[label][0]
    chapter = " ".join((DOCS / "backward.md").read_text(encoding="utf-8").split())
    for stated in (
        f"reads this {label} correctly but without conviction: {a_label:.1%} for {label}, "
        f"{printed[first][0]:.1%} for {first}.",
        f"strength $1 - {a_label:.3f} = {-printed[label][1]:.3f}$",
        f"the logits of the {first} and the {second}",
        f"down with strengths {printed[first][1]:.3f} and {printed[second][1]:.3f};",
    ):
        assert stated in chapter, f"docs/backward.md should say {stated!r}"


def test_chapter_5_displays_each_backward_formula_at_most_twice() -> None:
    chapter = (DOCS / "backward.md").read_text(encoding="utf-8")
    too_often = displayed_too_often(chapter)
    assert not too_often, (
        f"docs/backward.md displays these backward formulas more than twice (where they "
        f"are derived and in the table of every gradient): {too_often}"
    )
    shown_here = [fence.info for fence in fences(DOCS / "backward.md")]
    assert not any("#backward-prop-docstring" in info for info in shown_here), (
        "the docstring's copy of the formulas is defined on an appendix page"
    )


def test_a_third_copy_of_a_formula_is_caught() -> None:
    """The docstring's copy, in its own spelling (aligned, \\tfrac, \\textstyle\\sum_j),
    pasted into the chapter, is counted as a third display of every formula."""
    chapter = (DOCS / "backward.md").read_text(encoding="utf-8")
    appendix = (DOCS / "engineering.md").read_text(encoding="utf-8")
    (docstring,) = [
        fence.body
        for fence in fences(DOCS / "engineering.md")
        if "#backward-prop-docstring" in fence.info
    ]
    assert "$$" in docstring and appendix
    damaged = chapter + "\n```python\n" + docstring + "\n```\n"
    assert set(displayed_too_often(damaged)) == set(BACKWARD_QUANTITIES)


# ---------------------------------------------------------------------------------------
# Chapter 5: the rule for a linear layer is right for the dZ it is fed


def chapter_function(page: str, name: str):
    """The function ``name`` that a runnable block of docs/<page> defines, run on its own."""
    for block in runnable_blocks(DOCS / page):
        for node in ast.parse(block.code).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                module = ast.Module(body=[node], type_ignores=[])
                namespace: dict[str, object] = {"np": np}
                exec(compile(module, f"docs/{page}:{block.line}", "exec"), namespace)
                return namespace[name]
    raise AssertionError(f"docs/{page} defines no function {name}")


@pytest.mark.parametrize("n, h, k, m", [(7, 5, 3, 13), (784, 10, 10, 64), (7, 5, 3, 1)])
def test_linear_backward_fed_autograds_mean_loss_dz(
    n: int, h: int, k: int, m: int
) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    linear_backward = chapter_function("backward.md", "linear_backward")
    rng = np.random.default_rng(m)
    params = init_params(n, h, k, seed=m)
    X = rng.uniform(0.0, 1.0, size=(n, m))
    Y = rng.integers(0, k, size=m)
    leaves = {
        name: torch.tensor(value, requires_grad=True) for name, value in params.items()
    }
    Z1 = leaves["W1"] @ torch.tensor(X) + leaves["b1"]
    Z1.retain_grad()
    A1 = torch.relu(Z1)
    A1.retain_grad()
    Z2 = leaves["W2"] @ A1 + leaves["b2"]
    Z2.retain_grad()
    F.cross_entropy(Z2.T, torch.tensor(Y)).backward()  # the mean loss
    dW2, db2, dA1 = linear_backward(Z2.grad.numpy(), A1.detach().numpy(), params["W2"])
    assert_close("dW2 from autograd's dZ2", dW2, leaves["W2"].grad.numpy())
    assert_close("db2 from autograd's dZ2", db2, leaves["b2"].grad.numpy())
    assert_close("dA1 from autograd's dZ2", dA1, A1.grad.numpy())
    dW1, db1, _ = linear_backward(Z1.grad.numpy(), X, params["W1"])
    assert_close("dW1 from autograd's dZ1", dW1, leaves["W1"].grad.numpy())
    assert_close("db1 from autograd's dZ1", db1, leaves["b1"].grad.numpy())
    # Fed the seed's per-example dZ2, the same rule gives the summed loss: m times the mean.
    cache = forward_prop(params, X)
    grads = backward_prop(params, cache, X, Y)
    dW2_summed, _, dA1_summed = linear_backward(grads["dZ2"], cache["A1"], params["W2"])
    assert_close("dW2 from the seed's dZ2, / m", dW2_summed / m, grads["dW2"])
    assert_close("dA1 from the seed's dZ2", dA1_summed, grads["dA1"])
