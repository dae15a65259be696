"""The command line's engines: which trainer `mnist-math train` runs, with which settings,
and what its first line says (Engineering notes, "The command line").

The choice of engine and the settings are checked without training (``choose_engine``,
``settings_of``, ``describe``); two short real runs check the first line and ``--save``.
"""

import numpy as np
import pytest

from mnist_math import cli
from mnist_math.further import RECIPES, available_cores
from mnist_math.model_io import load_params


def parse(*words: str):
    return cli.build_parser().parse_args(["train", *words])


@pytest.mark.parametrize(
    ("words", "engine"),
    [
        ((), "fast"),
        (("--engine", "reference"), "reference"),
        (("--recipe", "best"), "minibatch"),
        (("--epochs", "2"), "minibatch"),
        (("--batch-size", "64"), "minibatch"),
        (("--optimizer", "adam"), "minibatch"),
        (("--warmup", "0.1"), "minibatch"),
        (("--threads", "1"), "minibatch"),
        (("--backend", "torch"), "torch"),
        (("--backend", "torch", "--batch-size", "64"), "torch"),
    ],
)
def test_the_engine_follows_the_options(words, engine) -> None:
    assert cli.check_applicable(parse(*words)) == engine


def test_recipe_names_are_the_recipes() -> None:
    assert tuple(sorted(cli.RECIPE_NAMES)) == tuple(sorted(RECIPES))


def test_engine_defaults() -> None:
    fast = cli.settings_of(parse(), "fast")
    assert fast == {
        "n_hidden": 10,
        "lr": 0.1,
        "scheme": "uniform",
        "seed": 0,
        "iterations": 500,
        "dtype": "float32",
    }, "the seed's run, in float32"
    assert (
        cli.settings_of(parse("--engine", "reference"), "reference")["dtype"] == "float64"
    )
    best = cli.settings_of(parse("--recipe", "best"), "minibatch")
    cores = available_cores()
    expected = {**RECIPES["best"], "seed": 0, "dtype": "float32", "threads": cores}
    assert best == expected, "the recipe, whole, on every core"
    one = cli.settings_of(parse("--recipe", "best", "--threads", "1"), "minibatch")
    assert one["threads"] == 1, "--threads sets the BLAS threads"
    tweaked = cli.settings_of(
        parse("--recipe", "best", "--hidden", "64", "--init", "uniform"), "minibatch"
    )
    assert tweaked["n_hidden"] == 64 and tweaked["scheme"] == "uniform", (
        "a flag overrides the recipe"
    )
    assert tweaked["epochs"] == RECIPES["best"]["epochs"], "the rest stays the recipe's"


def test_the_first_line_names_the_engine_and_the_recipe() -> None:
    best = cli.settings_of(parse("--recipe", "best"), "minibatch")
    line = cli.describe("minibatch", {**best, "threads": 2}, 60000, "best")
    epochs = RECIPES["best"]["epochs"]
    assert (
        f"mini-batch engine (train_minibatch), recipe best: {epochs} epochs of batches "
        "of 128" in line
    ), line
    assert ", 2 threads," in line, "the first line names the thread count"
    changed = {**best, "n_hidden": 64}
    assert "recipe best" not in cli.describe("minibatch", changed, 60000, "best"), (
        "a run that overrides the recipe does not claim to be it"
    )


def test_default_run_says_fast_engine_first_and_saves(tmp_path, capsys) -> None:
    model = tmp_path / "model.npz"
    assert (
        cli.main(["train", "--iterations", "3", "--no-progress", "--save", str(model)])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "Training 784 -> 10 -> 10 on 60,000 images with the fast engine"
    ), lines[0]
    assert any(line.startswith("Test accuracy: ") for line in lines)
    params, meta = load_params(model)
    assert params["W1"].dtype == np.float32, (
        "the fast engine trains in float32 by default"
    )
    assert meta["engine"] == "fast"
    assert meta["command"] == (
        "mnist-math train --backend numpy --engine fast --hidden 10 --lr 0.1 --iterations 3 "
        "--init uniform --seed 0 --dtype float32"
    ), "every setting spelled out"


def test_minibatch_run_with_flags(capsys) -> None:
    words = [
        "train",
        "--epochs",
        "1",
        "--hidden",
        "32",
        "--batch-size",
        "512",
        "--no-progress",
    ]
    assert cli.main(words) == 0
    out = capsys.readouterr().out
    assert "mini-batch engine (train_minibatch): 1 epoch of batches of 512" in out, out
    assert f"{available_cores()} thread" in out.splitlines()[0], "every core by default"
    accuracy = float(out.split("Test accuracy: ")[1].split("%")[0])
    assert accuracy > 80.0, "one epoch of mini-batches already reads most digits"
