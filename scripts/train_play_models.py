"""Train the networks offered on the "Draw a digit" page and save them in models/.

Run from the repository root:

    python scripts/train_play_models.py              # every model of MODELS
    python scripts/train_play_models.py --only seed  # some of them

Each entry of MODELS is one network: its file name (models/NAME.npz), the title the page's
selector shows, and a call of one of the book's trainers on the 60,000 training images
(X_train of shape (784, 60000) in float64, Y_train of shape (60000,)). The trainer must
return (params, history) like gradient_descent, or the params alone. The file records,
in its meta, the exact command that produced it, the trainer call, and the training and
test accuracy. The site's build hook (docs/hooks/play_models.py) exports these files to
the page; nothing else writes them.

Adding a network to the page is one line in MODELS (and one run of this script).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's package, also when it is not installed

from mnist_math import accuracy, gradient_descent, predict, save_params  # noqa: E402
from mnist_math.data import as_columns, load_mnist  # noqa: E402
from mnist_math.further import RECIPES, train_minibatch  # noqa: E402

MODELS_DIR = ROOT / "models"


@dataclass(frozen=True)
class PlayModel:
    name: str
    title: str
    trainer: Callable


MODELS = [
    PlayModel(
        "seed",
        "Seed network, 784-10-10",
        partial(gradient_descent, lr=0.1, iterations=500, n_hidden=10, seed=0),
    ),
    PlayModel(
        "best",
        "Best recipe of chapter 11, 784-256-10",
        partial(train_minibatch, **RECIPES["best"], seed=0, threads=1),
    ),
]


def describe(trainer: Callable) -> str:
    """The trainer call as text, e.g. ``gradient_descent(X_train, Y_train, lr=0.1, ...)``."""
    if isinstance(trainer, partial):
        arguments = [repr(a) for a in trainer.args]
        arguments += [f"{key}={value!r}" for key, value in trainer.keywords.items()]
        name = f"{trainer.func.__module__}.{trainer.func.__qualname__}"
        return f"{name}(X_train, Y_train{''.join(', ' + a for a in arguments)})"
    return f"{trainer.__module__}.{trainer.__qualname__}(X_train, Y_train)"


def the_command(argv: list[str]) -> str:
    """The command line that ran this script, with the script's path relative to the root."""
    script = Path(argv[0]).resolve()
    try:
        shown = script.relative_to(ROOT).as_posix()
    except ValueError:
        shown = argv[0]
    return shlex.join(["python", shown, *argv[1:]])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [model.name for model in MODELS]
    parser.add_argument(
        "--only", nargs="+", choices=names, metavar="NAME", help=", ".join(names)
    )
    parser.add_argument(
        "--out", type=Path, default=MODELS_DIR, help="folder (default: models/)"
    )
    args = parser.parse_args(argv[1:])
    (x_train, y_train), (x_test, y_test) = load_mnist()
    X_train = as_columns(x_train)
    Y_train = y_train.astype(np.int64)
    X_test = as_columns(x_test)
    Y_test = y_test.astype(np.int64)
    args.out.mkdir(parents=True, exist_ok=True)
    for order, model in enumerate(MODELS):
        if args.only and model.name not in args.only:
            continue
        start = time.perf_counter()
        result = model.trainer(X_train, Y_train)
        params = result[0] if isinstance(result, tuple) else result
        seconds = time.perf_counter() - start
        meta = {
            "name": model.name,
            "title": model.title,
            "order": order,
            "command": the_command(argv),
            "trainer": describe(model.trainer),
            "train_accuracy": accuracy(predict(params, X_train), Y_train),
            "test_accuracy": accuracy(predict(params, X_test), Y_test),
        }
        path = save_params(args.out / f"{model.name}.npz", params, meta=meta)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(
            f"{model.name}: test accuracy {meta['test_accuracy']:.2%}, "
            f"trained in {seconds:.0f} s, saved to {shown}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
