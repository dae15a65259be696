# ~/~ begin <<docs/engineering.md#mnist_math/cli.py>>[init]
"""The ``mnist-math`` command line: ``train`` (the main job), ``predict``, ``data``."""

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np


# ~/~ begin <<docs/engineering.md#cli-parser>>[init]
def number_type(
    convert: Callable[[str], float],
    accept: Callable[[float], bool],
    wanted: str,
    out_of_range: str | None = None,
) -> Callable[[str], float]:
    """An argparse type: text that ``convert`` reads as a number that ``accept`` takes.

    The messages say what was ``wanted`` (or ``out_of_range``, for a number refused).
    """

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if not accept(value):
            message = f"must be {out_of_range or wanted}, got {text}"
            raise argparse.ArgumentTypeError(message)
        return value

    return parse


positive_int = number_type(int, lambda value: value >= 1, "a positive integer")
seed_int = number_type(int, lambda value: value >= 0, "an integer 0 or larger")
positive_float = number_type(
    float,
    lambda value: value > 0 and np.isfinite(value),
    "a positive number",
    "a positive finite number",
)
warmup_fraction = number_type(float, lambda value: 0 <= value < 1, "a number in [0, 1)")


ENGINES = ("fast", "reference", "minibatch")
RECIPE_NAMES = ("best", "previous", "long")  # mnist_math.further.RECIPES' keys (tested)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnist-math",
        description="Train the book's MNIST network and report its test accuracy.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="train a network and report its test accuracy"
    )
    train.set_defaults(command_parser=train)
    add = train.add_argument
    add(
        "--engine",
        choices=ENGINES,
        default=None,
        help="fast (default), reference (chapter 7's loop) or minibatch (Going further)",
    )
    add(
        "--recipe",
        choices=RECIPE_NAMES,
        default=None,
        help="a recipe of Going further (best: 98%% in seconds); implies --engine minibatch",
    )
    add(
        "--warmup",
        type=warmup_fraction,
        default=None,
        help="minibatch: fraction of the steps warming up the rate (default: the recipe's)",
    )
    add(
        "--threads",
        type=positive_int,
        default=None,
        help="minibatch: BLAS threads (default: every core; the last digits depend on it)",
    )
    add(
        "--hidden",
        type=positive_int,
        default=None,
        help="hidden units (default 10, or the recipe's)",
    )
    add(
        "--lr",
        type=positive_float,
        default=None,
        help="learning rate (default 0.1, or the recipe's)",
    )
    add(
        "--iterations",
        type=positive_int,
        default=None,
        help="full-batch iterations (default 500): fast, reference, torch",
    )
    add(
        "--epochs",
        type=positive_int,
        default=None,
        help="passes over the data: minibatch only (default: the recipe's)",
    )
    add(
        "--batch-size",
        type=positive_int,
        default=None,
        help="examples per step: minibatch (default: the recipe's) and torch (default: all)",
    )
    add(
        "--optimizer",
        choices=["sgd", "momentum", "adam"],
        default=None,
        help="minibatch (default: the recipe's) and torch (default sgd)",
    )
    add(
        "--init",
        choices=["uniform", "he"],
        default=None,
        help="initial weights: uniform (the seed's, default) or he (a recipe's default)",
    )
    add("--seed", type=seed_int, default=None, help="random seed (default 0)")
    add(
        "--dtype",
        choices=["float64", "float32"],
        default=None,
        help="default float32 (fast, minibatch), float64 (reference, torch)",
    )
    add("--backend", choices=["numpy", "torch"], default="numpy")
    add("--device", default=None, help="torch only: auto (default), cpu, cuda, mps")
    add("--data", default=None, help="an mnist.npz or a folder of IDX files")
    add(
        "--save",
        default=None,
        metavar="MODEL",
        help="save the trained network (.npz, or .safetensors for PyTorch)",
    )
    add("--no-progress", action="store_true", help="no progress bar")

    predict = commands.add_parser(
        "predict", help="read digits in PNG or JPEG files with a saved network"
    )
    predict.add_argument(
        "model", metavar="MODEL", help="a network saved by `train --save`"
    )
    predict.add_argument(
        "images", nargs="+", metavar="IMAGE", help="pictures of one digit each"
    )
    predict.add_argument(
        "--json", action="store_true", help="one JSON object per image and line"
    )
    predict.add_argument(
        "--show", action="store_true", help="print the 28x28 input the network sees"
    )

    data = commands.add_parser(
        "data", help="fetch, verify and cache MNIST; say where it is"
    )
    data.add_argument(
        "--path", default=None, help="an mnist.npz or a folder of IDX files"
    )
    data.add_argument(
        "--refresh", action="store_true", help="ignore the cache and load again"
    )

    for command in (train, predict, data):
        # Also accepted after the command; SUPPRESS keeps the top-level default otherwise.
        command.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )

    practice = commands.add_parser(
        "practice", help="check the backward_prop you wrote in a file (Practice page)"
    )
    practice.add_argument(
        "file", metavar="FILE.py", help="defines backward_prop(params, cache, X, Y)"
    )
    practice.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parser
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-checks>>[init]
FLAGS = {
    "engine": "--engine",
    "recipe": "--recipe",
    "iterations": "--iterations",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "optimizer": "--optimizer",
    "warmup": "--warmup",
    "threads": "--threads",
    "device": "--device",
}
APPLIES_TO = {
    "engine": ("fast", "reference", "minibatch"),
    "recipe": ("minibatch",),
    "iterations": ("fast", "reference", "torch"),
    "epochs": ("minibatch",),
    "batch_size": ("minibatch", "torch"),
    "optimizer": ("minibatch", "torch"),
    "warmup": ("minibatch",),
    "threads": ("minibatch",),
    "device": ("torch",),
}
ENGINE_NAMES = {
    "fast": "the fast engine",
    "reference": "the reference engine",
    "minibatch": "the mini-batch engine",
    "torch": "the torch backend",
}


def choose_engine(args: argparse.Namespace) -> str:
    """The engine of ``mnist-math train``: ``fast``, ``reference``, ``minibatch`` or ``torch``."""
    if args.backend == "torch":
        return "torch"
    if args.engine is not None:
        return args.engine
    minibatch_only = (
        args.recipe,
        args.epochs,
        args.batch_size,
        args.optimizer,
        args.warmup,
        args.threads,
    )
    if any(value is not None for value in minibatch_only):
        return "minibatch"
    return "fast"


def check_applicable(args: argparse.Namespace) -> str:
    """Return the engine, after refusing (a usage error) every option it would ignore."""
    engine = choose_engine(args)
    ignored = [
        key
        for key in FLAGS
        if getattr(args, key) is not None and engine not in APPLIES_TO[key]
    ]
    if ignored:
        flags = ", ".join(FLAGS[key] for key in ignored)
        verb = "does" if len(ignored) == 1 else "do"
        users = " or ".join(ENGINE_NAMES[name] for name in APPLIES_TO[ignored[0]])
        args.command_parser.error(
            f"{flags} {verb} not apply to {ENGINE_NAMES[engine]} ({FLAGS[ignored[0]]} is "
            f"for {users}): leave it out or choose that engine"
        )
    return engine


def check_save_path(args: argparse.Namespace, settings: dict) -> None:
    """Refuse, before any training, a ``--save`` path that could not or should not be
    written: the data this run reads (``--data``, or the MNIST cache), a folder, a device,
    a FIFO, a read-only file, a folder that is missing or cannot be written, or a network
    too large for a model file.

    Raises:
        TargetError: the path cannot or must not be written.
        ValueError: the network would be too large to load back.
    """
    if args.save is None:
        return
    from .model_io import check_save_target
    from .sources import cache_path

    keep = [cache_path()]
    if args.data is not None:
        data = Path(args.data)
        keep.append(data)
        if data.is_dir():  # a folder of IDX files: each of them
            keep.extend(data.iterdir())
    architecture = [28 * 28, settings["n_hidden"], 10]
    check_save_target(args.save, keep=tuple(keep), architecture=architecture)


def available_memory() -> int | None:
    """Bytes of memory this process could still use, or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def training_bytes(n_hidden: int, m: int, n_in: int, itemsize: int, engine: str) -> int:
    """Rough peak memory of training: the data, six (h, columns) arrays of the examples a
    step works on at once (all m, a chunk or a batch), and four copies of W1."""
    at_once = {"fast": min(m, 1024), "minibatch": min(m, 1024)}.get(engine, m)
    copies_of_X = 2 if engine == "minibatch" else 1  # the mini-batch engine keeps rows
    return itemsize * (
        copies_of_X * n_in * m + 6 * n_hidden * at_once + 4 * n_hidden * n_in
    )


def check_fits(n_hidden: int, m: int, n_in: int, itemsize: int, engine: str) -> None:
    """Refuse a network whose training would need more memory than the machine has.

    Raises:
        MemoryError: with the size the run would need and the size available.
    """
    needed = training_bytes(n_hidden, m, n_in, itemsize, engine)
    available = available_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"--hidden {n_hidden} would need about {needed / 2**30:,.1f} GiB of memory to "
            f"train on {m:,} images, and this machine has {available / 2**30:,.1f} GiB "
            "available: use fewer hidden units"
        )
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-train>>[init]
def settings_of(args: argparse.Namespace, engine: str) -> dict:
    """The settings of the run: the given options, the engine's defaults for the rest."""
    if engine == "minibatch":
        from .further import RECIPES

        recipe = dict(RECIPES[args.recipe or "best"])
    else:
        recipe = {"n_hidden": 10, "lr": 0.1, "scheme": "uniform"}
    given = {
        "n_hidden": args.hidden,
        "lr": args.lr,
        "scheme": args.init,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "warmup": args.warmup,
    }
    settings = {
        **recipe,
        **{key: value for key, value in given.items() if value is not None},
    }
    settings["seed"] = 0 if args.seed is None else args.seed
    if engine == "minibatch":
        from .further import available_cores

        settings["threads"] = args.threads or available_cores()
    else:
        settings["iterations"] = 500 if args.iterations is None else args.iterations
    if engine == "torch":
        settings["optimizer"] = args.optimizer or "sgd"
        settings["batch_size"] = args.batch_size
    default_dtype = "float32" if engine in ("fast", "minibatch") else "float64"
    settings["dtype"] = args.dtype or default_dtype
    return settings


def describe(engine: str, settings: dict, m: int, recipe: str | None) -> str:
    """The first line of ``mnist-math train``: the engine and every setting."""
    network = f"784 -> {settings['n_hidden']} -> 10 on {m:,} images"
    common = (
        f"lr {settings['lr']:g}, {settings['scheme']} init, seed {settings['seed']}, "
        f"{settings['dtype']}"
    )
    if engine == "minibatch":
        from .further import RECIPES

        name = recipe or "best"
        unchanged = all(settings[key] == value for key, value in RECIPES[name].items())
        how = "the mini-batch engine (train_minibatch)"
        if unchanged:
            how += f", recipe {name}"
        threads = settings["threads"]
        steps = (
            f"{settings['epochs']} epoch{'s' if settings['epochs'] != 1 else ''} of batches "
            f"of {settings['batch_size']}, "
            f"{settings['optimizer']}, {settings['schedule']} schedule, "
            f"warm-up {settings['warmup']:g}, {threads} thread{'s' if threads != 1 else ''}"
        )
    else:
        batch = settings.get("batch_size")
        per_step = "full-batch" if batch is None else f"batches of {batch}"
        steps = f"{settings['iterations']} {per_step} iterations"
        if engine == "torch":
            steps += f", {settings['optimizer']}"
        how = {
            "fast": "the fast engine (train_fast: chunks on every core)",
            "reference": "the reference engine (gradient_descent, chapter 7)",
            "torch": "the PyTorch twin (train_torch)",
        }[engine]
    return f"Training {network} with {how}: {steps}, {common}"


def run_train(args: argparse.Namespace) -> int:
    from .data import as_columns, load_mnist
    from .train import accuracy, predict

    engine = check_applicable(args)
    settings = settings_of(args, engine)
    check_save_path(args, settings)
    if engine == "torch":
        try:
            from .torch_twin import select_device
        except ImportError as error:
            raise RuntimeError(
                f"the torch backend needs PyTorch ({error}): pip install torch"
            ) from error
        device = select_device(args.device or "auto")  # before the data: fail fast
    dtype = np.dtype(settings["dtype"])
    (x_train, y_train), (x_test, y_test) = load_mnist(
        path=args.data, progress=not args.no_progress
    )
    X_train = as_columns(x_train, dtype=dtype)
    X_test = as_columns(x_test, dtype=dtype)
    Y_train = y_train.astype(np.int64)
    Y_test = y_test.astype(np.int64)
    n_in, m = X_train.shape
    check_fits(settings["n_hidden"], m, n_in, dtype.itemsize, engine)
    print(describe(engine, settings, m, args.recipe))
    if engine == "torch":
        print(f"Device: {device}")
    progress = not args.no_progress
    start = time.perf_counter()
    if engine == "fast":
        from .fast import train_fast

        params, history = train_fast(
            X_train, Y_train, **_full_batch(settings), progress=progress
        )
    elif engine == "reference":
        from .train import gradient_descent

        params, history = gradient_descent(
            X_train, Y_train, **_full_batch(settings), progress=progress
        )
    elif engine == "minibatch":
        from .further import train_minibatch

        params, history = train_minibatch(
            X_train,
            Y_train,
            **{key: value for key, value in settings.items() if key != "dtype"},
            progress=progress,
        )
    else:
        from .forward import init_params
        from .torch_twin import train_torch

        start_params = init_params(
            n_in,
            settings["n_hidden"],
            10,
            seed=settings["seed"],
            scheme=settings["scheme"],
            dtype=dtype,
        )
        params, history = train_torch(
            X_train,
            Y_train,
            lr=settings["lr"],
            iterations=settings["iterations"],
            seed=settings["seed"],
            optimizer=settings["optimizer"],
            batch_size=settings["batch_size"],
            device=device,
            params=start_params,
            progress=progress,
        )
    elapsed = time.perf_counter() - start
    train_acc = accuracy(predict(params, X_train), Y_train)
    test_acc = accuracy(predict(params, X_test), Y_test)
    when = "over the last epoch" if engine == "minibatch" else "at the last iteration"
    print(f"Training loss {when}: {history['loss'][-1]:.4f}")
    print(f"Training accuracy: {train_acc:.2%}")
    print(f"Test accuracy: {test_acc:.2%}")
    print(f"Time: {elapsed:.1f} s")
    if args.save is not None:
        from .model_io import save_params

        meta = {
            "command": train_command(args, engine, settings),
            "engine": engine,
            "settings": settings,
            "test_accuracy": test_acc,
            "train_accuracy": train_acc,
        }
        print(f"Saved the network to {save_params(args.save, params, meta=meta)}")
    return 0


def _full_batch(settings: dict) -> dict:
    """The settings a full-batch NumPy trainer takes."""
    keys = ("lr", "iterations", "n_hidden", "seed", "scheme")
    return {key: settings[key] for key in keys}


def train_command(args: argparse.Namespace, engine: str, settings: dict) -> str:
    """The ``mnist-math train`` command that repeats this run, every setting spelled out
    (``--save`` records it, so that a later change of a default cannot change its meaning).
    """
    words = ["mnist-math", "train", "--backend", args.backend]
    if engine != "torch":
        words += ["--engine", engine]
    if engine == "minibatch":
        words += ["--recipe", args.recipe or "best"]
    words += ["--hidden", settings["n_hidden"], "--lr", f"{settings['lr']:g}"]
    if engine == "minibatch":
        words += ["--epochs", settings["epochs"]]
    else:
        words += ["--iterations", settings["iterations"]]
    if settings.get("batch_size") is not None:
        words += ["--batch-size", settings["batch_size"]]
    if engine in ("minibatch", "torch"):
        words += ["--optimizer", settings["optimizer"]]
    if engine == "minibatch":
        words += ["--warmup", f"{settings['warmup']:g}", "--threads", settings["threads"]]
    words += ["--init", settings["scheme"], "--seed", settings["seed"]]
    words += ["--dtype", settings["dtype"]]
    if engine == "torch":
        words += ["--device", args.device or "auto"]
    return " ".join(str(word) for word in words)
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-predict>>[init]
def run_predict(args: argparse.Namespace) -> int:
    """``mnist-math predict MODEL IMAGE [IMAGE ...] [--json] [--show]``.

    Args:
        args: ``model`` (a path), ``images`` (paths), ``json`` and ``show`` (bools).

    Returns:
        The exit status: 0, or 1 when an image could not be read.

    Raises:
        ModelFileError: the model file cannot be loaded.
        ValueError: the network does not read 28 x 28 pixels.
    """
    from .handwriting import ImageFileError, check_reads_pictures, read_digit
    from .model_io import load_params

    params, _meta = load_params(args.model)
    check_reads_pictures(params, args.model)
    status = 0
    for name in args.images:
        try:
            reading = read_digit(params, name)
        except ImageFileError as error:
            print(f"mnist-math: error: {error}", file=sys.stderr)
            status = 1
            continue
        print_reading(reading, as_json=args.json, show=args.show)
    return status


def print_reading(reading, *, as_json: bool, show: bool) -> None:
    """Print a ``Reading``: a line and ten probabilities, or one JSON object."""
    from .handwriting import show_input

    A2 = reading.probabilities
    digit = reading.digit
    if as_json:
        record = {
            "file": reading.file,
            "digit": digit,
            "probabilities": [float(p) for p in A2],
        }
        if reading.blank:
            record["blank"] = True
        if show:
            record["input"] = show_input(reading.x).split("\n")
        print(json.dumps(record))
        return
    note = "  (no ink found: the picture looks blank)" if reading.blank else ""
    print(f"{reading.file}: {digit}  ({A2[digit]:.1%}){note}")
    for half in (range(0, 5), range(5, 10)):
        print("  " + "  ".join(f"{c}: {A2[c]:6.2%}" for c in half))
    if show:
        print(show_input(reading.x))
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-main>>[init]
# What the library raises for bad input or an unusable machine, with a message a user can
# act on: a bad value, file or device name (ValueError, and its subclasses ModelFileError
# and MnistDataError), a file that cannot be read or written (OSError), a diverging run, no
# data or no such device (RuntimeError: DivergenceError, MnistUnavailableError,
# select_device), too large a network (MemoryError).
USER_ERRORS = (ValueError, OSError, RuntimeError, MemoryError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "practice":
            return practice_command(args.file)
        if args.command == "train":
            return run_train(args)
        if args.command == "predict":
            return run_predict(args)
        from .sources import report

        print("\n".join(report(path=args.path, refresh=args.refresh)))
        return 0
    except KeyboardInterrupt:
        print("mnist-math: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        return report_error(error, args.debug)
    except Exception as error:  # a bug: still one line, and the way to the traceback
        return report_error(error, args.debug, unexpected=True)


def practice_command(path: str) -> int:
    """``mnist-math practice FILE.py``: print the report on the file's ``backward_prop``.

    Returns:
        The exit status: 0 when it passes, 1 when it does not, 2 when the file cannot be
            checked (one line on standard error says why).
    """
    from .practice import TOLERANCE, PracticeFileError, check_file  # imports torch

    try:
        report = check_file(path)
    except PracticeFileError as error:
        print(f"mnist-math: error: {error}", file=sys.stderr)
        return 2
    print(f"Checking {path}: backward_prop against PyTorch autograd, {TOLERANCE}")
    print(report)
    verdict = "passes" if report.passed else "does not pass yet"
    print(f"{path}: backward_prop {verdict}")
    return 0 if report.passed else 1


def report_error(error: BaseException, debug: bool, *, unexpected: bool = False) -> int:
    """Print ``error`` as one line on stderr (or its traceback with ``--debug``); return 1."""
    if debug:
        traceback.print_exception(error)
        return 1
    message = " ".join(str(error).split()) or type(error).__name__
    if unexpected:
        message = (
            f"unexpected {type(error).__name__}: {message} "
            "(rerun with --debug for the traceback)"
        )
    print(f"mnist-math: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
# ~/~ end
# ~/~ end