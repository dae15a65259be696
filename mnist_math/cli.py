# ~/~ begin <<docs/engineering.md#mnist_math/cli.py>>[init]
"""The ``mnist-math`` command line: ``train`` (the main job), ``data`` and ``predict``."""

import argparse
import sys
import time

import numpy as np

# ~/~ begin <<docs/engineering.md#cli-parser>>[init]
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnist-math",
        description="Train the book's MNIST network and report its test accuracy.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the seed's network and report test accuracy")
    train.add_argument("--hidden", type=positive_int, default=10, help="hidden units (default 10)")
    train.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default 0.1)")
    train.add_argument("--iterations", type=positive_int, default=500, help="iterations (default 500)")
    train.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    train.add_argument("--backend", choices=["numpy", "torch"], default="numpy")
    train.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd", help="torch backend only")
    train.add_argument("--batch-size", type=positive_int, default=None, help="torch backend only (default: full batch)")
    train.add_argument("--device", default="auto", help="torch backend only: auto, cpu, cuda, mps")
    train.add_argument("--data", default=None, help="an mnist.npz or a folder of IDX files")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--save", default=None, metavar="MODEL.npz", help="save the trained network")

    predict = commands.add_parser("predict", help="read digits in PNG or JPEG files with a saved network")
    predict.add_argument("model", metavar="MODEL.npz", help="a network saved by `train --save`")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="pictures of one digit each")
    predict.add_argument("--json", action="store_true", help="one JSON object per image and line")
    predict.add_argument("--show", action="store_true", help="print the 28x28 input the network sees")

    data = commands.add_parser("data", help="fetch, verify and cache MNIST; say where it is")
    data.add_argument("--path", default=None, help="an mnist.npz or a folder of IDX files")
    data.add_argument("--refresh", action="store_true", help="ignore the cache and load again")

    commands.add_parser(
        "figures",
        help="redraw the book's figures (options: see `mnist-math figures --help`)",
        add_help=False,
    )
    return parser
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-train>>[init]
def run_train(args: argparse.Namespace) -> int:
    from .data import as_columns, load_mnist
    from .train import accuracy, gradient_descent, predict

    dtype = np.dtype(args.dtype)
    (x_train, y_train), (x_test, y_test) = load_mnist(path=args.data, progress=not args.no_progress)
    X_train = as_columns(x_train, dtype=dtype)
    X_test = as_columns(x_test, dtype=dtype)
    Y_train = y_train.astype(np.int64)
    Y_test = y_test.astype(np.int64)
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
        from .torch_twin import train_torch

        params, history, device = train_torch(
            X_train,
            Y_train,
            optimizer=args.optimizer,
            batch_size=args.batch_size,
            device=args.device,
            dtype=args.dtype,
            **knobs,
        )
        print(f"Device: {device}")
    elapsed = time.perf_counter() - start
    train_acc = accuracy(predict(params, X_train), Y_train)
    test_acc = accuracy(predict(params, X_test), Y_test)
    print(f"Training loss at the last iteration: {history['loss'][-1]:.4f}")
    print(f"Training accuracy: {train_acc:.2%}")
    print(f"Test accuracy: {test_acc:.2%}")
    print(f"Time: {elapsed:.1f} s")
    if args.save is not None:
        from .model_io import save_params

        meta = {"command": train_command(args), "test_accuracy": test_acc, "train_accuracy": train_acc}
        print(f"Saved the network to {save_params(args.save, params, meta=meta)}")
    return 0


def train_command(args: argparse.Namespace) -> str:
    """The ``mnist-math train`` command that repeats this run (recorded by ``--save``)."""
    words = ["mnist-math", "train", "--hidden", args.hidden, "--lr", args.lr]
    words += ["--iterations", args.iterations, "--seed", args.seed, "--dtype", args.dtype]
    words += ["--backend", args.backend]
    if args.backend == "torch":
        words += ["--optimizer", args.optimizer, "--device", args.device]
        if args.batch_size is not None:
            words += ["--batch-size", args.batch_size]
    return " ".join(str(word) for word in words)
# ~/~ end

# ~/~ begin <<docs/engineering.md#cli-main>>[init]
def main(argv: list[str] | None = None) -> int:
    args, rest = build_parser().parse_known_args(argv)
    try:
        if args.command == "figures":
            from .figures import main as figures_main  # matplotlib is slow to import

            return figures_main(rest)
        if rest:
            build_parser().error(f"unrecognized arguments: {' '.join(rest)}")
        if args.command == "train":
            return run_train(args)
        if args.command == "predict":
            from .handwriting import run_predict

            return run_predict(args)
        from .data import report

        return report(path=args.path, refresh=args.refresh)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
# ~/~ end
# ~/~ end