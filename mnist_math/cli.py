# ~/~ begin <<docs/engineering.md#mnist_math/cli.py>>[init]
"""The ``mnist-math`` command line: ``train`` (the main job), ``predict``, ``data``, ``figures``."""

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

# ~/~ begin <<docs/engineering.md#cli-parser>>[init]
def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def seed_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer 0 or larger, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer 0 or larger, got {text}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


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
        "train", help="train the seed's network and report test accuracy"
    )
    train.set_defaults(command_parser=train)
    add = train.add_argument
    add("--hidden", type=positive_int, default=10, help="hidden units (default 10)")
    add("--lr", type=positive_float, default=0.1, help="learning rate (default 0.1)")
    add("--iterations", type=positive_int, default=500, help="iterations (default 500)")
    add("--seed", type=seed_int, default=0, help="seed of the initial weights (default 0)")
    add("--dtype", choices=["float64", "float32"], default="float64")
    add("--backend", choices=["numpy", "torch"], default="numpy")
    add("--optimizer", choices=["sgd", "adam"], default=None,
        help="torch backend only (default sgd)")
    add("--batch-size", type=positive_int, default=None,
        help="torch backend only (default: the full batch)")
    add("--device", default=None, help="torch backend only: auto (default), cpu, cuda, mps")
    add("--data", default=None, help="an mnist.npz or a folder of IDX files")
    add("--no-progress", action="store_true", help="no progress bar")
    add("--save", default=None, metavar="MODEL.npz", help="save the trained network")

    predict = commands.add_parser(
        "predict", help="read digits in PNG or JPEG files with a saved network"
    )
    predict.add_argument("model", metavar="MODEL.npz", help="a network saved by `train --save`")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="pictures of one digit each")
    predict.add_argument(
        "--json", action="store_true", help="one JSON object per image and line"
    )
    predict.add_argument(
        "--show", action="store_true", help="print the 28x28 input the network sees"
    )

    data = commands.add_parser("data", help="fetch, verify and cache MNIST; say where it is")
    data.add_argument("--path", default=None, help="an mnist.npz or a folder of IDX files")
    data.add_argument("--refresh", action="store_true", help="ignore the cache and load again")

    for command in (train, predict, data):
        # Also accepted after the command; SUPPRESS keeps the top-level default otherwise.
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )

    commands.add_parser(
        "figures",
        help="redraw the book's figures (options: see `mnist-math figures --help`)",
        add_help=False,
    )
    return parser
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-checks>>[init]
TORCH_ONLY = {"optimizer": "--optimizer", "batch_size": "--batch-size", "device": "--device"}


def check_applicable(args: argparse.Namespace) -> None:
    """Refuse, as a usage error, an option that the chosen backend would ignore."""
    if args.backend != "torch":
        given = [flag for key, flag in TORCH_ONLY.items() if getattr(args, key) is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            args.command_parser.error(
                f"{', '.join(given)} {verb} only to --backend torch; "
                "add --backend torch or leave it out"
            )


def check_save_path(path: str | None) -> None:
    """Refuse, before any training, a ``--save`` path that could not be written.

    Raises:
        FileNotFoundError: its folder does not exist.
        IsADirectoryError: it names a folder.
    """
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"--save {path} is a folder: name a file such as model.npz")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"--save {path}: the folder {folder} does not exist; create it first"
        )


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


def training_bytes(n_hidden: int, m: int, n_in: int, itemsize: int) -> int:
    """Rough peak memory of a full-batch step: the data, six (h, m) arrays, four of W1."""
    return itemsize * (n_in * m + 6 * n_hidden * m + 4 * n_hidden * n_in)


def check_fits(n_hidden: int, m: int, n_in: int, itemsize: int) -> None:
    """Refuse a network whose training would need more memory than the machine has.

    Raises:
        MemoryError: with the size the run would need and the size available.
    """
    needed = training_bytes(n_hidden, m, n_in, itemsize)
    available = available_memory()
    if available is not None and needed > available:
        raise MemoryError(
            f"--hidden {n_hidden} would need about {needed / 2**30:,.1f} GiB of memory to "
            f"train on {m:,} images, and this machine has {available / 2**30:,.1f} GiB "
            "available: use fewer hidden units"
        )
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-train>>[init]
def run_train(args: argparse.Namespace) -> int:
    from .data import as_columns, load_mnist
    from .train import accuracy, gradient_descent, predict

    check_save_path(args.save)
    if args.backend == "torch":
        try:
            from .torch_twin import select_device, train_torch
        except ImportError as error:
            raise RuntimeError(
                f"the torch backend needs PyTorch ({error}): pip install torch"
            ) from error
        device = select_device(args.device or "auto")  # before the data: fail fast
    dtype = np.dtype(args.dtype)
    (x_train, y_train), (x_test, y_test) = load_mnist(
        path=args.data, progress=not args.no_progress
    )
    X_train = as_columns(x_train, dtype=dtype)
    X_test = as_columns(x_test, dtype=dtype)
    Y_train = y_train.astype(np.int64)
    Y_test = y_test.astype(np.int64)
    check_fits(args.hidden, X_train.shape[1], X_train.shape[0], dtype.itemsize)
    print(
        f"Training 784 -> {args.hidden} -> 10 on {X_train.shape[1]:,} images: "
        f"{args.iterations} iterations, lr {args.lr}, seed {args.seed}, {args.dtype}, "
        f"backend {args.backend}"
    )
    knobs = {
        "lr": args.lr,
        "iterations": args.iterations,
        "n_hidden": args.hidden,
        "seed": args.seed,
        "progress": not args.no_progress,
    }
    start = time.perf_counter()
    if args.backend == "numpy":
        params, history = gradient_descent(X_train, Y_train, **knobs)
    else:
        print(f"Device: {device}")
        params, history = train_torch(
            X_train,
            Y_train,
            optimizer=args.optimizer or "sgd",
            batch_size=args.batch_size,
            device=device,
            dtype=args.dtype,
            **knobs,
        )
    elapsed = time.perf_counter() - start
    train_acc = accuracy(predict(params, X_train), Y_train)
    test_acc = accuracy(predict(params, X_test), Y_test)
    print(f"Training loss at the last iteration: {history['loss'][-1]:.4f}")
    print(f"Training accuracy: {train_acc:.2%}")
    print(f"Test accuracy: {test_acc:.2%}")
    print(f"Time: {elapsed:.1f} s")
    if args.save is not None:
        from .model_io import save_params

        meta = {
            "command": train_command(args),
            "test_accuracy": test_acc,
            "train_accuracy": train_acc,
        }
        print(f"Saved the network to {save_params(args.save, params, meta=meta)}")
    return 0


def train_command(args: argparse.Namespace) -> str:
    """The ``mnist-math train`` command that repeats this run (recorded by ``--save``)."""
    words = ["mnist-math", "train", "--hidden", args.hidden, "--lr", args.lr]
    words += ["--iterations", args.iterations, "--seed", args.seed, "--dtype", args.dtype]
    words += ["--backend", args.backend]
    if args.backend == "torch":
        words += ["--optimizer", args.optimizer or "sgd", "--device", args.device or "auto"]
        if args.batch_size is not None:
            words += ["--batch-size", args.batch_size]
    return " ".join(str(word) for word in words)
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-main>>[init]
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if "--debug" in rest:
        rest.remove("--debug")
        args.debug = True
    try:
        if args.command == "figures":
            from .figures import main as figures_main  # matplotlib is slow to import

            return figures_main(rest)
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "train":
            check_applicable(args)
            return run_train(args)
        if args.command == "predict":
            from .handwriting import run_predict

            return run_predict(args)
        from .data import report

        return report(path=args.path, refresh=args.refresh)
    except KeyboardInterrupt:
        print("mnist-math: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, RuntimeError, MemoryError) as error:
        return report_error(error, args.debug)
    except Exception as error:  # a bug: still one line, and the way to the traceback
        return report_error(error, args.debug, unexpected=True)


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