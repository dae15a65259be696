"""The training loop's machinery (docs/training-machinery.md; module mnist_math._training).

What every trainer does around its steps, written once: the checks before the first step,
the record of a run and its divergence watch. The trainers' own tests (tests/test_contracts.py,
tests/test_training.py, tests/test_cli_errors.py) check the behaviour through
``gradient_descent``; here each piece is checked on its own, including what only another
engine uses (named columns, an explicit final record, an update that returns a state).
"""

import warnings

import numpy as np
import pytest

import mnist_math
from mnist_math import DivergenceError, gradient_descent, init_params
from mnist_math._checks import InputRangeWarning
from mnist_math._training import (
    GRADIENT_NAMES,
    OPTIMIZERS,
    PARAM_NAMES,
    SCAN_COLUMNS,
    SCHEDULES,
    TrainingRun,
    check_choice,
    check_inputs,
    check_training_inputs,
    starting_params,
)


def data(m: int = 20, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=(784, m)), rng.integers(0, 10, size=m)


def test_divergence_error_is_exported() -> None:
    from mnist_math._checks import DivergenceError as private

    assert mnist_math.DivergenceError is private
    assert "DivergenceError" in mnist_math.__all__


def test_the_names_have_one_home() -> None:
    from mnist_math import _checks, train

    assert PARAM_NAMES is _checks.PARAM_NAMES
    assert GRADIENT_NAMES == tuple("d" + name for name in PARAM_NAMES)
    # fast.py and further.py import these from mnist_math.train
    assert train.GRADIENT_NAMES is GRADIENT_NAMES
    assert train.starting_params is starting_params
    assert OPTIMIZERS == ("sgd", "momentum", "adam")
    assert SCHEDULES == ("constant", "cosine")


@pytest.mark.parametrize(
    "changes, error, fragment",
    [
        ({"iterations": 0}, ValueError, "iterations must be a positive integer, got 0"),
        ({"record_every": True}, TypeError, "record_every must be a positive integer"),
        ({"epochs": 2.5}, TypeError, "epochs must be a positive integer"),
        ({"lr": -0.1}, ValueError, "lr must be a positive finite number"),
        ({"lr": "fast"}, TypeError, "lr must be a positive number"),
        ({"seed": -1}, ValueError, "seed must be an integer 0 or larger"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of sgd, momentum"),
        ({"optimizer": ["sgd"]}, TypeError, "optimizer must be one of"),
        ({"schedule": "linear"}, ValueError, "schedule must be one of constant, cosine"),
        ({"rows": 783}, ValueError, "X must have 783 rows"),
        ({"n_classes": 5}, ValueError, "Y must lie in 0..4"),
    ],
)
def test_check_training_inputs_names_the_wrong_argument(changes, error, fragment) -> None:
    X, Y = data()
    Y[0] = 9  # so that n_classes=5 is wrong
    arguments = {"lr": 0.1, "seed": 0, "iterations": 5, "record_every": 1}
    arguments.update(changes)
    with pytest.raises(error, match=fragment):
        check_training_inputs(X, Y, **arguments)


def test_check_training_inputs_returns_what_the_trainer_uses() -> None:
    X, Y = data()
    checked_X, checked_Y, lr, seed = check_training_inputs(
        X, Y, lr=np.float32(0.5), seed=np.int64(3), iterations=2, optimizer="adam"
    )
    assert checked_X is X, "a float X is not copied"
    assert checked_Y is Y
    assert type(lr) is float and lr == 0.5
    assert type(seed) is int and seed == 3
    integers = check_training_inputs(
        np.ones((784, 2), dtype=np.int64), Y[:2], lr=1, seed=0
    )
    assert integers[0].dtype == np.float64, "integer inputs are converted once"


def test_check_inputs_scans_every_block_of_columns() -> None:
    m = 2 * SCAN_COLUMNS + 3
    X = np.zeros((3, m), dtype=np.float32)
    assert check_inputs(X) is X
    X[1, m - 1] = np.inf  # in the last, short block
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        check_inputs(X)
    X[1, m - 1] = 0.0
    X[2, SCAN_COLUMNS] = np.nan  # first column of the second block
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        check_inputs(X)
    with pytest.raises(TypeError, match="X must be a NumPy array"):
        check_inputs([[0.0]])
    with pytest.raises(ValueError, match="X must be 2-D"):
        check_inputs(np.zeros(5))


def test_check_choice() -> None:
    assert check_choice("optimizer", "sgd", OPTIMIZERS) == "sgd"
    with pytest.raises(
        ValueError, match=r"optimizer must be one of sgd, momentum, adam, "
    ):
        check_choice("optimizer", "SGD", OPTIMIZERS)
    with pytest.raises(TypeError, match=r"optimizer must be one of .*got 1"):
        check_choice("optimizer", 1, OPTIMIZERS)


def test_the_pixel_warning_names_the_line_that_called_the_trainer() -> None:
    X, Y = data(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputRangeWarning)
        gradient_descent(X * 255, Y, iterations=1)  # the line the warning must name
    [warning] = [w for w in caught if issubclass(w.category, InputRangeWarning)]
    assert warning.filename == __file__, f"the warning names {warning.filename}"


def test_starting_params_converts_without_touching_the_callers_arrays() -> None:
    X, _ = data()
    given = init_params(seed=4)
    started = starting_params(
        given, X.astype(np.float32), n_hidden=3, seed=9, scheme="he"
    )
    assert all(started[name].dtype == np.float32 for name in PARAM_NAMES)
    assert all(given[name].dtype == np.float64 for name in PARAM_NAMES), "not modified"
    drawn = starting_params(None, X, n_hidden=3, seed=9, scheme="he")
    expected = init_params(784, 3, 10, seed=9, scheme="he")
    assert all(np.array_equal(drawn[name], expected[name]) for name in PARAM_NAMES)
    with pytest.raises(ValueError, match="W1 has 784 columns but X has 5 rows"):
        starting_params(given, np.zeros((5, 2)), n_hidden=3, seed=0, scheme="uniform")


def test_due_is_every_record_every_and_the_last() -> None:
    run = TrainingRun(7, lr=0.1, record_every=3)
    assert [i for i in range(7) if run.due(i)] == [0, 3, 6]
    run = TrainingRun(8, lr=0.1, record_every=3)
    assert [i for i in range(8) if run.due(i)] == [0, 3, 6, 7]
    assert list(run.steps()) == list(range(8))


def test_record_keeps_the_history_and_the_first_loss() -> None:
    params = init_params(seed=0)
    columns = ("epoch", "iteration", "loss", "accuracy")
    with TrainingRun(10, lr=0.1, columns=columns) as run:
        run.record(5, 2.0, 0.25, params, final=False, epoch=1)
        run.record(10, 1.5, 0.5, params, final=True, epoch=2)
    assert run.history == {
        "epoch": [1, 2],
        "iteration": [5, 10],
        "loss": [2.0, 1.5],
        "accuracy": [0.25, 0.5],
    }
    assert run.first_loss == 2.0


def test_record_output_measures_loss_and_accuracy() -> None:
    params = init_params(seed=0)
    A2 = np.array([[0.7, 0.1], [0.3, 0.9]])
    Y = np.array([0, 0])
    with TrainingRun(1, lr=0.1) as run:
        run.record_output(0, A2, Y, params)
    assert run.history["loss"] == [pytest.approx((-np.log(0.7) - np.log(0.1)) / 2)]
    assert run.history["accuracy"] == [0.5]


def test_a_loss_that_ends_far_above_the_first_is_divergence() -> None:
    params = init_params(seed=0)
    run = TrainingRun(3, lr=2.0)
    run.record(0, 2.0, 0.1, params)
    run.record(1, 50.0, 0.1, params)  # not final: only a NaN or an infinity stops it here
    with pytest.raises(DivergenceError, match="the loss rose from 2 to 60") as raised:
        run.record(2, 60.0, 0.1, params)
    assert raised.value.iteration == 2 and raised.value.loss == 60.0
    assert raised.value.params is params
    assert run.history["loss"] == [2.0, 50.0], "the diverged record is not kept"
    fine = TrainingRun(2, lr=0.1)
    fine.record(0, 2.0, 0.1, params)
    fine.record(1, 2.9, 0.1, params)  # higher, but not twice and one nat above


def test_a_nan_loss_or_nan_probabilities_stop_the_run() -> None:
    params = init_params(seed=0)
    run = TrainingRun(5, lr=0.1)
    with pytest.raises(DivergenceError, match="the loss is nan at iteration 0"):
        run.record(0, float("nan"), 0.1, params)
    A2 = np.full((10, 2), np.nan)
    with pytest.raises(DivergenceError, match="A2 overflowed to infinity or NaN"):
        run.record_output(1, A2, np.array([0, 1]), params)


def test_step_watches_the_gradients_before_and_the_parameters_after() -> None:
    from mnist_math import update_params

    params = init_params(seed=0)
    grads = {"d" + name: np.ones_like(params[name]) for name in PARAM_NAMES}
    run = TrainingRun(2, lr=0.1)
    stepped = run.step(0, update_params, params, grads, 0.5)
    assert np.array_equal(stepped["W1"], params["W1"] - 0.5)
    bad = dict(grads, db2=np.full_like(params["b2"], np.inf))
    # a DivergenceError, not the ValueError update_params raises on such a gradient
    with pytest.raises(DivergenceError, match="db2 overflowed") as raised:
        run.step(1, update_params, params, bad, 0.5)
    assert raised.value.params is params
    large = {name: 10 * gradient for name, gradient in grads.items()}
    # finite gradients, but 1e308 * 10 overflows: the new W1 is the first to be infinite
    with run, pytest.raises(DivergenceError, match="W1 overflowed") as raised:
        run.step(1, update_params, params, large, 1e308)
    assert raised.value.params is params, "the last finite parameters"


def test_step_passes_on_an_optimizers_state() -> None:
    params = init_params(seed=0)
    grads = {"d" + name: np.zeros_like(params[name]) for name in PARAM_NAMES}

    def with_state(params, grads, state, rate):
        return params, state + 1

    run = TrainingRun(1, lr=0.1)
    new_params, state = run.step(0, with_state, params, grads, 41, 0.1)
    assert new_params is params and state == 42


def test_the_run_silences_overflow_only_inside_and_closes_the_bar() -> None:
    before = np.geterr()
    run = TrainingRun(3, lr=0.1, progress=True)
    assert not run.bar.disable, "a progress bar is shown"
    with pytest.raises(RuntimeError, match="stop"), run:
        assert np.geterr()["over"] == "ignore" and np.geterr()["invalid"] == "ignore"
        raise RuntimeError("stop")
    assert np.geterr() == before, "NumPy's error state is restored after an error too"
    assert run.bar.disable, "the bar is closed (tqdm disables a closed bar)"


def test_gradient_descent_diverges_through_the_watch() -> None:
    X, Y = data(64)
    with pytest.raises(DivergenceError, match="overflowed to infinity or NaN") as raised:
        gradient_descent(X.astype(np.float32), Y, lr=1e100, iterations=20)
    assert all(np.all(np.isfinite(array)) for array in raised.value.params.values())
