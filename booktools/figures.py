# ~/~ begin <<docs/figures.md#booktools/figures.py>>[init]
"""The figures of the book ([Appendix: How the figures are made][figures-appendix]).

One function per figure: each takes arrays (images, a training history, weights) and returns
a ``matplotlib.figure.Figure``; ``main()`` computes the arrays from MNIST and the book's
trainers and writes every PNG into ``docs/img/``. Run it with
``python -m booktools.figures [--out docs/img] [--only NAME ...]``.
"""

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from mnist_math.cli import positive_int
from mnist_math.data import as_columns, load_mnist
from mnist_math.forward import forward_prop, init_params
from mnist_math.train import accuracy, gradient_descent, predict

# ~/~ begin <<docs/figures.md#figures-style>>[init]
DPI = 110
STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}
NUMPY_COLOR = "#3f51b5"  # the site's indigo
TORCH_COLOR = "#ee4c2c"  # PyTorch's orange-red
TEST_COLOR = "#2e7d32"
BACKWARD_COLOR = "#d84315"  # gradients flowing back: a deep orange


def book_style():
    """The figures' shared Matplotlib settings, as a context manager."""
    return matplotlib.rc_context(STYLE)


def save(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG with the book's resolution and no timestamp.

    Args:
        figure: The figure to write.
        path: Where to write it; its folder must exist.

    Returns:
        The path written.
    """
    path = Path(path)
    figure.savefig(path, dpi=DPI, facecolor="white", metadata={"Software": None})
    return path
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-sample-digits>>[init]
def sample_digits(images: np.ndarray, labels: np.ndarray, per_digit: int = 2) -> Figure:
    """Draw the first ``per_digit`` images of each digit 0..9, one column per digit.

    Args:
        images: MNIST images, shape ``(m, 28, 28)``, uint8 (0 background, 255 ink).
        labels: Their labels, shape ``(m,)``, integers 0..9.
        per_digit: Rows of the grid: how many examples of each digit.

    Returns:
        The figure, ``per_digit`` rows by 10 columns of images.
    """
    with book_style():
        figure = Figure(figsize=(8.0, 0.95 * per_digit + 0.3), layout="constrained")
        axes = figure.subplots(per_digit, 10, squeeze=False)
        for digit in range(10):
            indices = np.flatnonzero(labels == digit)[:per_digit]
            for row in range(per_digit):
                ax = axes[row, digit]
                ax.set_axis_off()
                if row < len(indices):
                    ax.imshow(images[indices[row]], cmap="gray_r", vmin=0, vmax=255)
                    ax.set_title(f"{digit}", fontsize=9, pad=2)
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-training-curves>>[init]
def training_curves(
    history: Mapping[str, Sequence[float]], test_accuracy: float | None = None
) -> Figure:
    """Draw the loss and the training accuracy of a run against the iteration.

    Args:
        history: ``{"iteration": [...], "loss": [...], "accuracy": [...]}`` as returned by
            ``gradient_descent`` or ``train_torch``, accuracies in [0, 1].
        test_accuracy: Accuracy on the test set after training, in [0, 1], drawn as a
            dashed line; ``None`` to leave it out.

    Returns:
        The figure: loss on the left, accuracy (in %) on the right.
    """
    iterations = np.asarray(history["iteration"])
    with book_style():
        figure = Figure(figsize=(8.0, 3.0), layout="constrained")
        loss_ax, acc_ax = figure.subplots(1, 2)
        loss_ax.plot(iterations, history["loss"], color=NUMPY_COLOR)
        loss_ax.set_xlabel("iteration")
        loss_ax.set_ylabel("cross-entropy loss $L$")
        loss_ax.set_title("loss on the training set")
        training = 100 * np.asarray(history["accuracy"])
        acc_ax.plot(iterations, training, color=NUMPY_COLOR, label="training")
        if test_accuracy is not None:
            acc_ax.axhline(
                100 * test_accuracy,
                color=TEST_COLOR,
                linestyle="--",
                label=f"test, after training: {test_accuracy:.1%}",
            )
        acc_ax.set_xlabel("iteration")
        acc_ax.set_ylabel("accuracy (%)")
        acc_ax.set_ylim(0, 100)
        acc_ax.set_title("accuracy")
        acc_ax.legend(loc="lower right")
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-first-layer-weights>>[init]
def first_layer_weights(W1: np.ndarray, label: str = "weight") -> Figure:
    """Draw each row of ``W1`` as a 28 × 28 image, on one symmetric colour scale.

    Args:
        W1: First-layer weights, shape ``(h, 784)``, float; row i belongs to hidden unit i.
            (Or any array of that shape, such as the change of ``W1`` during training.)
        label: Label of the colour bar.

    Returns:
        The figure: one image per hidden unit (5 per row) and a shared colour bar.
    """
    W1 = np.asarray(W1)
    h = W1.shape[0]
    columns = min(h, 5)
    rows = -(-h // columns)
    limit = float(np.abs(W1).max()) or 1.0
    with book_style():
        figure = Figure(figsize=(1.45 * columns + 0.9, 1.55 * rows), layout="constrained")
        axes = figure.subplots(rows, columns, squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if i < h:
                image = ax.imshow(
                    W1[i].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit
                )
                ax.set_title(f"unit {i}", fontsize=9, pad=2)
        figure.colorbar(image, ax=axes, shrink=0.85, label=label)
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-numpy-vs-torch>>[init]
def numpy_vs_torch(
    numpy_history: Mapping[str, Sequence[float]],
    torch_history: Mapping[str, Sequence[float]],
) -> Figure:
    """Overlay the loss curves of the NumPy and PyTorch trainers and plot their difference.

    Args:
        numpy_history: History of ``gradient_descent`` (keys ``iteration``, ``loss``, ...).
        torch_history: History of ``train_torch`` recorded at the same iterations.

    Returns:
        The figure: both losses on top, ``|loss_numpy - loss_torch|`` (log scale) below.
    """
    iterations = np.asarray(numpy_history["iteration"])
    if list(iterations) != list(torch_history["iteration"]):
        raise ValueError("the two histories must be recorded at the same iterations")
    numpy_loss = np.asarray(numpy_history["loss"], dtype=np.float64)
    torch_loss = np.asarray(torch_history["loss"], dtype=np.float64)
    difference = np.abs(numpy_loss - torch_loss)
    # The spacing of float64 numbers near L: a difference of a few of these is rounding.
    rounding_step = np.spacing(numpy_loss)
    # Equal losses cannot sit on a log scale: draw them on the floor, marked apart.
    floor = 0.1 * float(rounding_step.min())
    equal = difference == 0
    with book_style():
        figure = Figure(figsize=(8.0, 4.6), layout="constrained")
        loss_ax, diff_ax = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
        loss_ax.plot(
            iterations,
            numpy_loss,
            color=NUMPY_COLOR,
            linewidth=3.0,
            alpha=0.6,
            label="NumPy, gradients by hand",
        )
        loss_ax.plot(
            iterations,
            torch_loss,
            color=TORCH_COLOR,
            linewidth=1.2,
            linestyle="--",
            label="PyTorch, autograd",
        )
        loss_ax.set_ylabel("cross-entropy loss $L$")
        loss_ax.set_title("the same training, twice")
        loss_ax.legend(loc="upper right")
        diff_ax.set_yscale("log")
        diff_ax.plot(
            iterations,
            rounding_step,
            color="0.6",
            linestyle=":",
            label="one float64 rounding step of $L$",
        )
        diff_ax.plot(
            iterations[~equal],
            difference[~equal],
            ".",
            color="0.2",
            markersize=3,
            label="|NumPy loss - PyTorch loss|",
        )
        if equal.any():
            diff_ax.plot(
                iterations[equal],
                np.full(equal.sum(), floor),
                "|",
                color=TEST_COLOR,
                markersize=6,
                label="exactly equal",
            )
        top = max(1e3 * float(rounding_step.max()), 10 * float(difference.max()))
        diff_ax.set_ylim(0.5 * floor, top)
        diff_ax.set_xlabel("iteration")
        diff_ax.set_ylabel("difference")
        diff_ax.legend(loc="upper right", fontsize=8, ncols=3)
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-computational-graph>>[init]
# name: (x, y, label, kind); kind picks the fill: data, parameter or computed value.
GRAPH_NODES = {
    "X": (0.0, 0.0, "$x$", "data"),
    "W1": (2.6, 2.1, "$W^{[1]}$", "parameter"),
    "b1": (2.6, -2.1, "$b^{[1]}$", "parameter"),
    "Z1": (2.6, 0.0, "$z^{[1]}$", "value"),
    "A1": (5.4, 0.0, "$a^{[1]}$", "value"),
    "W2": (8.2, 2.1, "$W^{[2]}$", "parameter"),
    "b2": (8.2, -2.1, "$b^{[2]}$", "parameter"),
    "Z2": (8.2, 0.0, "$z^{[2]}$", "value"),
    "A2": (11.0, 0.0, "$a^{[2]}$", "value"),
    "Y": (13.6, 2.1, r"$\chi$", "data"),
    "L": (13.6, 0.0, r"$\ell$", "value"),
}
GRAPH_FORWARD = (
    ("X", "Z1"),
    ("W1", "Z1"),
    ("b1", "Z1"),
    ("Z1", "A1"),
    ("A1", "Z2"),
    ("W2", "Z2"),
    ("b2", "Z2"),
    ("Z2", "A2"),
    ("A2", "L"),
    ("Y", "L"),
)
# (from, to, local derivative): what the forward step does to the gradient that arrives
# along the arrow, written as a dot.
GRAPH_BACKWARD = (
    ("L", "A2", r"$\cdot\,(-\chi \oslash a^{[2]})$"),
    ("A2", "Z2", r"$J^{\top} \cdot$"),
    ("Z2", "A1", r"$W^{[2]\top} \cdot$"),
    ("A1", "Z1", r"$\cdot \odot g'(z^{[1]})$"),
    ("Z2", "W2", r"$\cdot\; a^{[1]\top}$"),
    ("Z2", "b2", r"$\cdot$ as is"),
    ("Z1", "W1", r"$\cdot\; x^{\top}$"),
    ("Z1", "b1", r"$\cdot$ as is"),
)
GRAPH_FONT_SIZE = 14  # points: at the page's width, the size of the caption's text
GRAPH_NODE_FONT_SIZE = 16


def computational_graph() -> Figure:
    """Draw one example through the network as a computational graph, forward and back.

    Nodes are ``GRAPH_NODES``; black arrows (``GRAPH_FORWARD``) compute values, orange
    arrows (``GRAPH_BACKWARD``) carry the gradient back, labelled with the local
    derivative that each applies to the gradient arriving along it.

    Returns:
        The figure, one axes without frame.
    """
    fill = {"data": "0.88", "parameter": "#c5cae9", "value": "white"}
    offset = 0.17  # forward and backward arrows run side by side, this far apart
    with book_style():
        figure = Figure(figsize=(7.6, 4.1), layout="constrained")
        ax = figure.subplots()
        ax.set_axis_off()
        ax.set_xlim(-0.6, 14.3)
        ax.set_ylim(-2.9, 2.6)
        for x, y, label, kind in GRAPH_NODES.values():
            box = {
                "boxstyle": "round,pad=0.3",
                "facecolor": fill[kind],
                "edgecolor": "0.15",
            }
            ax.text(
                x,
                y,
                label,
                ha="center",
                va="center",
                fontsize=GRAPH_NODE_FONT_SIZE,
                zorder=3,
                bbox=box,
            )

        def arrow(start: str, end: str, color: str, shift: float) -> tuple[float, float]:
            x0, y0 = GRAPH_NODES[start][:2]
            x1, y1 = GRAPH_NODES[end][:2]
            dx, dy = (0.0, shift) if y0 == y1 else (shift, 0.0)
            patch = FancyArrowPatch(
                (x0 + dx, y0 + dy),
                (x1 + dx, y1 + dy),
                arrowstyle="-|>",
                mutation_scale=14,
                color=color,
                linewidth=1.4,
                shrinkA=19,
                shrinkB=19,
                zorder=2,
            )
            ax.add_patch(patch)
            return (x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy

        for start, end in GRAPH_FORWARD:
            arrow(start, end, "0.15", offset)
        for start, end, label in GRAPH_BACKWARD:
            x, y = arrow(start, end, BACKWARD_COLOR, -offset)
            if GRAPH_NODES[start][1] == GRAPH_NODES[end][1]:
                ax.text(
                    x,
                    y - 0.2,
                    label,
                    color=BACKWARD_COLOR,
                    ha="center",
                    va="top",
                    fontsize=GRAPH_FONT_SIZE,
                )
            else:
                ax.text(
                    x - 0.15,
                    y,
                    label,
                    color=BACKWARD_COLOR,
                    ha="right",
                    va="center",
                    fontsize=GRAPH_FONT_SIZE,
                )
        legend = [
            Line2D([], [], color="0.15", label="forward: compute a value"),
            Line2D(
                [],
                [],
                color=BACKWARD_COLOR,
                label=r"backward: pass the gradient ($\cdot$) on",
            ),
        ]
        ax.legend(
            handles=legend,
            loc="lower center",
            bbox_to_anchor=(0.5, -0.06),
            ncols=2,
            fontsize=GRAPH_FONT_SIZE - 1,
            handlelength=1.5,
            columnspacing=1.2,
        )
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-output-error>>[init]
def output_error(images: np.ndarray, labels: np.ndarray, A2: np.ndarray) -> Figure:
    r"""Draw, for a few examples, the predicted probabilities and minus the output error.

    Args:
        images: The examples as images, shape ``(rows, 28, 28)``, uint8 (0 background).
        labels: Their labels $y$, one per image, integers ``0 .. k - 1``.
        A2: The network's probabilities for them, shape ``(k, rows)``, float, one column per
            example.

    Returns:
        The figure: one row per example with the image, the bars of $a_c$, and the bars of
            $-dZ^{[2]}_c = \chi_c - a_c$ ($\chi$ the one-hot label), the true class in
            indigo.
    """
    labels = np.asarray(labels)
    A2 = np.asarray(A2)
    k, r = A2.shape
    classes = np.arange(k)
    with book_style():
        figure = Figure(figsize=(8.0, 2.1 * r + 0.2), layout="constrained")
        axes = figure.subplots(r, 3, squeeze=False, width_ratios=[1, 3, 3])
        for row in range(r):
            image_ax, probability_ax, push_ax = axes[row]
            y = int(labels[row])
            push = -A2[:, row]
            push[y] += 1.0  # -dZ2 = Y - A2, one column
            image_ax.imshow(images[row], cmap="gray_r", vmin=0, vmax=255)
            image_ax.set_axis_off()
            image_ax.set_title(f"label {y}", fontsize=9)
            others = [NUMPY_COLOR if c == y else "0.6" for c in classes]
            probability_ax.bar(classes, A2[:, row], color=others)
            probability_ax.set_ylim(0, 1)
            probability_ax.set_xticks(classes)
            probability_ax.set_ylabel("probability $a_c$")
            pushed = [NUMPY_COLOR if c == y else BACKWARD_COLOR for c in classes]
            push_ax.bar(classes, push, color=pushed)
            push_ax.axhline(0, color="0.2", linewidth=0.8)
            push_ax.set_ylim(-1, 1)
            push_ax.set_xticks(classes)
            push_ax.set_ylabel(r"$-dZ^{[2]}_{c} = \chi_c - a_c$")
            for c in classes:
                if abs(push[c]) >= 0.05:
                    up = push[c] > 0
                    push_ax.text(
                        c,
                        push[c] + (0.04 if up else -0.04),
                        f"{push[c]:+.2f}",
                        ha="center",
                        va="bottom" if up else "top",
                        fontsize=7,
                    )
            if row == 0:
                probability_ax.set_title("what the network predicts")
                push_ax.set_title("where the loss pushes each logit")
        for ax in axes[-1, 1:]:
            ax.set_xlabel("class $c$")
    return figure
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-runs>>[init]
def reference_runs(
    iterations: int = 500, *, torch: bool = True, progress: bool = False
) -> dict:
    """Train the reference network with NumPy (and PyTorch) on the full MNIST.

    Args:
        iterations: Full-batch gradient-descent iterations (the book's reference is 500).
        torch: Also train the PyTorch twin from the same initial weights.
        progress: Show progress bars.

    Returns:
        A dict with keys ``images``, ``labels``, ``initial``, ``params``, ``history`` and
            ``test_accuracy`` (and, with ``torch``, ``torch_history``) holding the training
            images ``(60000, 28, 28)`` uint8 and labels, the initial and trained NumPy
            weights, the NumPy history and the test accuracy in [0, 1].
    """
    (x_train, y_train), (x_test, y_test) = load_mnist(progress=progress)
    X = as_columns(x_train)
    Y = y_train.astype(np.int64)
    initial = init_params(X.shape[0], 10, 10, seed=0)
    params, history = gradient_descent(
        X,
        Y,
        lr=0.1,
        iterations=iterations,
        params=initial,
        record_every=1,
        progress=progress,
    )
    test_accuracy = accuracy(predict(params, as_columns(x_test)), y_test.astype(np.int64))
    runs = {
        "images": x_train,
        "labels": y_train,
        "initial": initial,
        "params": params,
        "history": history,
        "test_accuracy": test_accuracy,
    }
    if torch:
        from mnist_math.torch_twin import train_torch  # PyTorch is slow to import

        _, torch_history = train_torch(
            X,
            Y,
            lr=0.1,
            iterations=iterations,
            params=initial,
            device="cpu",
            dtype="float64",
            record_every=1,
            progress=progress,
        )
        runs["torch_history"] = torch_history
    return runs
# ~/~ end

# ~/~ begin <<docs/figures.md#figures-main>>[init]
FIGURES = (
    "sample-digits",
    "training-curves",
    "first-layer-weights",
    "first-layer-change",
    "numpy-vs-torch",
    "computational-graph",
    "output-error",
)
NO_TRAINING = ("sample-digits", "computational-graph")


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the book's figures: ``python -m booktools.figures [--out docs/img]``.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status, 0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m booktools.figures",
        description="Draw the book's figures into PNG files.",
    )
    parser.add_argument(
        "--out", default="docs/img", help="folder of the PNGs (default: docs/img)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=FIGURES,
        metavar="NAME",
        help=f"draw only these figures: {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--iterations",
        type=positive_int,
        default=500,
        help="training iterations of the reference runs (default: 500)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    wanted = args.only or list(FIGURES)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file, not a folder: name a folder for the PNGs")
    needs_training = any(name not in NO_TRAINING for name in wanted)
    runs: dict = {}
    if needs_training:
        with_torch = "numpy-vs-torch" in wanted
        runs = reference_runs(args.iterations, torch=with_torch, progress=not args.quiet)
    elif "sample-digits" in wanted:
        (runs["images"], runs["labels"]), _ = load_mnist(progress=not args.quiet)
    out.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        print(save(draw(name, runs), out / f"{name}.png"))
    return 0


def draw(name: str, runs: Mapping) -> Figure:
    """Draw the figure called ``name`` from the output of ``reference_runs``.

    Args:
        name: One of ``FIGURES``.
        runs: What ``reference_runs`` returns (for ``sample-digits`` the keys ``images``
            and ``labels`` suffice; ``computational-graph`` needs nothing).

    Returns:
        The figure.
    """
    if name == "sample-digits":
        return sample_digits(runs["images"], runs["labels"])
    if name == "training-curves":
        return training_curves(runs["history"], runs["test_accuracy"])
    if name == "first-layer-weights":
        return first_layer_weights(runs["params"]["W1"])
    if name == "first-layer-change":
        change = runs["params"]["W1"] - runs["initial"]["W1"]
        return first_layer_weights(change, label="change since initialisation")
    if name == "computational-graph":
        return computational_graph()
    if name == "output-error":
        # The first training image, and the first one the trained network gets wrong.
        images = runs["images"]
        labels = runs["labels"]
        A2 = forward_prop(runs["params"], as_columns(images))["A2"]
        wrong = np.flatnonzero(A2.argmax(axis=0) != labels)
        shown = [0, int(wrong[0])]
        return output_error(images[shown], labels[shown], A2[:, shown])
    if name == "numpy-vs-torch":
        return numpy_vs_torch(runs["history"], runs["torch_history"])
    raise ValueError(f"no figure called {name!r}: choose one of {', '.join(FIGURES)}")
# ~/~ end

if __name__ == "__main__":
    sys.exit(main())
# ~/~ end