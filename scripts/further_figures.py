"""Measure the methods of the chapter "Going further" and draw its figures.

Every number of the chapter's tables comes from this script: it trains on the real MNIST
(float32, as the recipe does), writes Markdown tables into docs/generated/ (the chapter
includes them with pymdownx.snippets, so it shows exactly what was measured) and PNGs
into docs/img/. Run it from the repository root:

    python scripts/further_figures.py recipe     # RECIPES["best"], seeds 0-2: accuracy, time
    python scripts/further_figures.py ablation   # one change at a time: table and figure
    python scripts/further_figures.py time       # time to 84% and 97% test accuracy: table, figure
    python scripts/further_figures.py long       # RECIPES["long"], the longer run
    python scripts/further_figures.py all        # all four (about 10 minutes on 2 cores)

Times are wall-clock seconds of training on this machine and vary with its load: each
table says when and on what it was measured. Test-set evaluations made only for the
figures are left out of the times. The script runs NumPy's BLAS on one thread unless
OPENBLAS_NUM_THREADS is set (see the comment below).
"""

import os

# One BLAS thread unless the caller says otherwise (set before NumPy is imported). The
# float32 results depend on how the BLAS splits its work, so a fixed thread count makes
# the tables the same on every run; and while other programs share the two cores, a
# second BLAS thread mostly waits for them (an epoch of the recipe took about ten times
# longer with two threads than with one during this chapter's measurements). On an idle
# machine, OPENBLAS_NUM_THREADS=2 may be faster: measure both.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnist_math import (  # noqa: E402
    accuracy,
    backward_prop,
    forward_prop,
    gradient_descent,
    init_params,
    predict,
    train_minibatch,
    update_params,
)
from mnist_math.data import as_columns, load_mnist  # noqa: E402
from mnist_math.further import RECIPES, evaluate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the book's tooling (booktools), run as a script
from booktools.figures import NUMPY_COLOR, TEST_COLOR, TORCH_COLOR, book_style, save  # noqa: E402

THRESHOLDS = (0.84, 0.97)


# --------------------------------------------------------------------------------------
# Data and bookkeeping


def load_float32() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as float32 columns: X_train (784, 60000), Y_train, X_test (784, 10000), Y_test."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return (
        as_columns(x_train, dtype=np.float32),
        y_train.astype(np.int64),
        as_columns(x_test, dtype=np.float32),
        y_test.astype(np.int64),
    )


def machine_note() -> str:
    """One line saying when and on what the numbers were measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} CPU cores "
        f"({platform.machine()}), NumPy {np.__version__}, BLAS threads {threads}, "
        f"load average {load:.1f} at the start; times vary with the machine and its load."
    )


def write_table(name: str, lines: list[str], out: Path) -> None:
    """Print a Markdown table and write it to ``out / name``."""
    text = "\n".join(lines) + "\n"
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {out / name}")


def describe(settings: dict) -> str:
    """Short text of a train_minibatch configuration, for a table cell."""
    optimizer = {"sgd": "SGD", "momentum": "momentum 0.9", "adam": "Adam"}[
        settings["optimizer"]
    ]
    schedule = ", cosine" if settings.get("schedule") == "cosine" else ""
    return (
        f"h {settings['n_hidden']}, {settings['scheme']}, b {settings['batch_size']}, "
        f"{optimizer} α {settings['lr']:g}{schedule}, {settings['epochs']} epochs"
    )


class Clock:
    """Training time with the figures' evaluations left out, and the test-accuracy curve.

    ``observe(step, params)`` is a ``train_minibatch`` callback: at the chosen steps it
    measures the test accuracy, stopping the clock meanwhile.
    """

    def __init__(self, X_test: np.ndarray, Y_test: np.ndarray, steps: set[int]) -> None:
        self.X_test = X_test
        self.Y_test = Y_test
        self.steps = steps
        self.paused = 0.0
        self.points: list[tuple[float, float]] = []
        self.at_step: list[int] = []
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def observe(self, step: int, params: dict[str, np.ndarray]) -> None:
        if step not in self.steps:
            return
        now = self.elapsed()
        pause = time.perf_counter()
        test_accuracy = accuracy(predict(params, self.X_test), self.Y_test)
        self.points.append((now, test_accuracy))
        self.at_step.append(step)
        self.paused += time.perf_counter() - pause


def observed_steps(total: int, every: int) -> set[int]:
    """Steps 1, 2, 4, 8, ... and every ``every``-th step up to ``total``, and the last."""
    steps = {2**k for k in range(int(np.log2(total)) + 1)}
    steps |= set(range(every, total + 1, every))
    steps.add(total)
    return steps


def run_seed(X, Y, progress: bool) -> tuple[dict, float]:
    """The seed's run, chapter 7's gradient_descent: h 10, uniform, α 0.1, 500 iterations."""
    start = time.perf_counter()
    params, _ = gradient_descent(
        X, Y, lr=0.1, iterations=500, n_hidden=10, seed=0, progress=progress
    )
    return params, time.perf_counter() - start


def run_minibatch(X, Y, settings: dict, **kwargs) -> tuple[dict | None, dict, float]:
    """``train_minibatch(X, Y, **settings)`` timed; ``(None, ...)`` if it diverged."""
    from mnist_math._checks import DivergenceError

    start = time.perf_counter()
    try:
        params, history = train_minibatch(X, Y, **settings, **kwargs)
    except DivergenceError as error:
        print(f"diverged: {error}")
        return None, {}, time.perf_counter() - start
    return params, history, time.perf_counter() - start


# --------------------------------------------------------------------------------------
# recipe


def recipe(out_md: Path, out_img: Path, quiet: bool) -> None:
    X, Y, X_test, Y_test = load_float32()
    lines = [
        f"_{machine_note()}_",
        "",
        "| seed | test accuracy | training accuracy | training loss | training time |",
        "|---|---|---|---|---|",
    ]
    for seed in (0, 1, 2):
        params, history, elapsed = run_minibatch(
            X, Y, RECIPES["best"], seed=seed, progress=not quiet
        )
        test_accuracy = accuracy(predict(params, X_test), Y_test)
        lines.append(
            f"| {seed} | {test_accuracy:.2%} | {history['accuracy'][-1]:.2%} | "
            f"{history['loss'][-1]:.4f} | {elapsed:.1f} s |"
        )
        print(lines[-1])
    start = time.perf_counter()
    evaluate(params, X, Y)
    recording = time.perf_counter() - start
    lines += [
        "",
        f"Of each training time, the recording of the history took about "
        f"{RECIPES['best']['epochs'] * recording:.1f} s: {RECIPES['best']['epochs']} "
        f"evaluations of the 60,000 training images, one after each epoch, of "
        f"{recording:.2f} s each.",
    ]
    write_table("recipe.md", lines, out_md)


# --------------------------------------------------------------------------------------
# ablation


def ablation_rows() -> list[tuple[str, str, dict | None]]:
    """(block, change, settings) for every row; settings None is the seed's own run."""
    best = RECIPES["best"]
    mini = {
        "n_hidden": 10,
        "batch_size": 128,
        "epochs": 8,
        "optimizer": "sgd",
        "lr": 0.1,
        "scheme": "uniform",
        "schedule": "constant",
    }
    he = {**mini, "scheme": "he"}
    momentum = {**he, "optimizer": "momentum"}
    wide = {**momentum, "n_hidden": 256}
    cosine = {**wide, "schedule": "cosine"}
    return [
        ("from the seed", "the seed: full batch, 500 iterations", None),
        ("from the seed", "mini-batches of 128, 8 epochs", mini),
        ("from the seed", "+ He initialisation", he),
        ("from the seed", "+ momentum 0.9", momentum),
        ("from the seed", "+ 256 hidden units", wide),
        ("from the seed", "+ cosine schedule", cosine),
        ("from the seed", "+ α 0.2: the recipe", dict(best)),
        ("from the recipe", "the seed's uniform weights", {**best, "scheme": "uniform"}),
        ("from the recipe", "plain SGD, no momentum", {**best, "optimizer": "sgd"}),
        ("from the recipe", "Adam, α 0.001", {**best, "optimizer": "adam", "lr": 0.001}),
        ("from the recipe", "10 hidden units", {**best, "n_hidden": 10}),
        ("from the recipe", "constant learning rate", {**best, "schedule": "constant"}),
        ("from the recipe", "batches of 32", {**best, "batch_size": 32}),
        ("from the recipe", "batches of 1024", {**best, "batch_size": 1024}),
    ]


def ablation_figure(results: list[tuple[str, str, float | None, float]]) -> Figure:
    """Horizontal bars: the test accuracy of each row, annotated with its training time."""
    labels = [change for _block, change, _acc, _time in results]
    with book_style():
        figure = Figure(figsize=(8.0, 0.32 * len(results) + 1.0), layout="constrained")
        ax = figure.subplots()
        positions = np.arange(len(results))[::-1]
        for position, (block, _change, acc, elapsed) in zip(
            positions, results, strict=True
        ):
            color = NUMPY_COLOR if block == "from the seed" else TORCH_COLOR
            value = 100 * acc if acc is not None else 0.0
            ax.barh(position, value, color=color, height=0.7)
            text = f"{value:.2f}%  ({elapsed:.1f} s)" if acc is not None else "diverged"
            ax.text(max(value, 80.0) + 0.1, position, text, va="center", fontsize=8)
        ax.set_yticks(positions, labels)
        ax.set_xlim(80, 101.5)
        ax.set_xlabel("test accuracy (%)")
        ax.axvline(98.0, color=TEST_COLOR, linestyle="--", linewidth=1)
        ax.set_title("one change at a time: from the seed (blue), from the recipe (red)")
        ax.grid(axis="y", visible=False)
    return figure


def ablation(out_md: Path, out_img: Path, quiet: bool) -> None:
    X, Y, X_test, Y_test = load_float32()
    note = machine_note()
    results = []
    for block, change, settings in ablation_rows():
        print(f"--- {change}")
        if settings is None:
            params, elapsed = run_seed(X, Y, progress=not quiet)
        else:
            params, _history, elapsed = run_minibatch(
                X, Y, settings, seed=0, progress=not quiet
            )
        acc = None if params is None else accuracy(predict(params, X_test), Y_test)
        results.append((block, change, acc, elapsed))
        print(f"{change}: test accuracy {acc}, {elapsed:.1f} s")
    lines = [
        f"_{note}_",
        "",
        "| | change (one at a time) | settings | test accuracy | training time |",
        "|---|---|---|---|---|",
    ]
    rows = ablation_rows()
    for number, ((_block, change, acc, elapsed), (_b, _c, settings)) in enumerate(
        zip(results, rows, strict=True)
    ):
        if settings is None:
            text = "h 10, uniform, full batch, SGD α 0.1, 500 iterations"
        else:
            text = describe(settings)
        score = f"{acc:.2%}" if acc is not None else "diverged"
        lines.append(f"| {number} | {change} | {text} | {score} | {elapsed:.1f} s |")
    write_table("ablation.md", lines, out_md)
    print(save(ablation_figure(results), out_img / "further-ablation.png"))


# --------------------------------------------------------------------------------------
# time to accuracy


def full_batch_curve(X, Y, X_test, Y_test, iterations: int = 500) -> Clock:
    """The seed's full-batch descent, chapter 7's loop without its recording, timed."""
    params = init_params(X.shape[0], 10, 10, seed=0, dtype=X.dtype)
    clock = Clock(X_test, Y_test, observed_steps(iterations, 5))
    for iteration in range(1, iterations + 1):
        cache = forward_prop(params, X, validate=False)
        grads = backward_prop(params, cache, X, Y, validate=False)
        params = update_params(params, grads, 0.1)
        clock.observe(iteration, params)
    return clock


def time_methods() -> list[tuple[str, dict | None]]:
    best = RECIPES["best"]
    sgd = {
        "n_hidden": 10,
        "batch_size": 128,
        "epochs": 8,
        "optimizer": "sgd",
        "lr": 0.1,
        "scheme": "uniform",
        "schedule": "constant",
    }
    return [
        ("seed: full-batch gradient descent, h 10", None),
        ("mini-batch SGD, h 10", sgd),
        ("+ He, momentum, h 10", {**sgd, "scheme": "he", "optimizer": "momentum"}),
        ("the recipe, h 256", dict(best)),
        (
            "the recipe with Adam α 0.001, h 256",
            {**best, "optimizer": "adam", "lr": 0.001},
        ),
    ]


def first_time(clock: Clock, threshold: float) -> tuple[float, int] | None:
    """Training time and step at which the test accuracy first reached ``threshold``."""
    for (elapsed, test_accuracy), step in zip(clock.points, clock.at_step, strict=True):
        if test_accuracy >= threshold:
            return elapsed, step
    return None


def time_figure(curves: list[tuple[str, Clock]]) -> Figure:
    colors = ["#000000", "#9e9e9e", NUMPY_COLOR, TORCH_COLOR, TEST_COLOR]
    with book_style():
        figure = Figure(figsize=(8.0, 4.0), layout="constrained")
        ax = figure.subplots()
        for (label, clock), color in zip(curves, colors, strict=True):
            times = [elapsed for elapsed, _ in clock.points]
            accuracies = [100 * acc for _, acc in clock.points]
            ax.plot(times, accuracies, color=color, label=label, marker=".", markersize=3)
        ax.set_xscale("log")
        for threshold in THRESHOLDS:
            ax.axhline(100 * threshold, color="#616161", linestyle="--", linewidth=1)
            ax.text(
                0.01,
                100 * threshold + 0.5,
                f"{threshold:.0%}",
                fontsize=8,
                transform=ax.get_yaxis_transform(),
            )
        ax.set_ylim(50, 100)
        ax.set_xlabel("training time (s, logarithmic)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("test accuracy during training")
        ax.legend(loc="lower right")
    return figure


def time_to_accuracy(out_md: Path, out_img: Path, quiet: bool) -> None:
    X, Y, X_test, Y_test = load_float32()
    note = machine_note()
    curves = []
    for label, settings in time_methods():
        print(f"--- {label}")
        if settings is None:
            clock = full_batch_curve(X, Y, X_test, Y_test)
        else:
            steps = settings["epochs"] * int(np.ceil(X.shape[1] / settings["batch_size"]))
            clock = Clock(X_test, Y_test, observed_steps(steps, 20))
            train_minibatch(
                X, Y, **settings, seed=0, callback=clock.observe, progress=not quiet
            )
        curves.append((label, clock))
    lines = [
        f"_{note} The test accuracy is measured after steps 1, 2, 4, 8, ... and every 20 "
        "steps (every 5 for the full batch), so a mark is passed at most that many steps "
        "before the step shown. The mini-batch times include the trainer's own evaluation "
        "of the training set after every epoch._",
        "",
        "| method | 84% reached after | 97% reached after | final test accuracy | training time |",
        "|---|---|---|---|---|",
    ]
    for label, clock in curves:
        cells = []
        for threshold in THRESHOLDS:
            reached = first_time(clock, threshold)
            if reached is None:
                cells.append("not reached")
            else:
                cells.append(f"{reached[0]:.2f} s (step {reached[1]})")
        final_time, final_accuracy = clock.points[-1]
        lines.append(
            f"| {label} | {cells[0]} | {cells[1]} | {final_accuracy:.2%} | {final_time:.1f} s |"
        )
    write_table("time-to-accuracy.md", lines, out_md)
    print(save(time_figure(curves), out_img / "further-time-to-accuracy.png"))


# --------------------------------------------------------------------------------------
# the longer run


def long_run(out_md: Path, out_img: Path, quiet: bool) -> None:
    X, Y, X_test, Y_test = load_float32()
    note = machine_note()
    settings = RECIPES["long"]
    params, history, elapsed = run_minibatch(
        X, Y, settings, seed=0, X_test=X_test, Y_test=Y_test, progress=not quiet
    )
    lines = [
        f"_{note} The time includes the test-set evaluation after every epoch._",
        "",
        f'`RECIPES["long"]`: {describe(settings)}, seed 0, float32.',
        "",
        "| epoch | training loss | training accuracy | test accuracy |",
        "|---|---|---|---|",
    ]
    for epoch, loss, train_accuracy, test_accuracy in zip(
        history["epoch"],
        history["loss"],
        history["accuracy"],
        history["test_accuracy"],
        strict=True,
    ):
        lines.append(
            f"| {epoch} | {loss:.4f} | {train_accuracy:.2%} | {test_accuracy:.2%} |"
        )
    final = accuracy(predict(params, X_test), Y_test)
    lines += [
        "",
        f"Final test accuracy **{final:.2%}** after {elapsed:.0f} s of training.",
    ]
    write_table("long-run.md", lines, out_md)


# --------------------------------------------------------------------------------------


COMMANDS: dict[str, Callable[[Path, Path, bool], None]] = {
    "recipe": recipe,
    "ablation": ablation,
    "time": time_to_accuracy,
    "long": long_run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=[*COMMANDS, "all"], help="which measurement to run"
    )
    parser.add_argument(
        "--md", default=str(ROOT / "docs" / "generated"), help="tables' folder"
    )
    parser.add_argument(
        "--img", default=str(ROOT / "docs" / "img"), help="figures' folder"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    names = list(COMMANDS) if args.what == "all" else [args.what]
    for name in names:
        COMMANDS[name](Path(args.md), Path(args.img), args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
