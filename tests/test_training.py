"""The whole system on the real MNIST (chapter 13, "The whole system").

The slow test checks the seed's configuration, trained once per session by the ``seed_run``
fixture of tests/conftest.py (tests/test_fast.py compares the fast engine with the same run),
and asserts the seed's accuracy;
the quick one asserts that training is deterministic, bit for bit.
"""

import numpy as np
import pytest

from mnist_math import cross_entropy, forward_prop, gradient_descent, init_params
from mnist_math.data import as_columns


@pytest.mark.slow
def test_seed_configuration_reaches_the_seed_accuracy(seed_run) -> None:
    """Uniform init (seed 0), h = 10, lr 0.1, 500 full-batch iterations, float64: 83% to 88%.

    The seed reports 84.4%; the band allows for a different draw of the initial weights
    (the book draws them from ``np.random.default_rng(0)``) without letting a broken
    network (about 10%) or a different configuration (above 88% needs more iterations or
    a better initialisation) pass.
    """
    params, history = seed_run.params, seed_run.history
    elapsed = seed_run.seconds
    test_accuracy = seed_run.test_accuracy
    print(
        f"seed configuration: training loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}, "
        f"training accuracy {history['accuracy'][-1]:.2%}, test accuracy {test_accuracy:.2%}, "
        f"{elapsed:.1f} s"
    )
    assert all(params[name].dtype == np.float64 for name in params), "training in float64"
    assert history["iteration"][-1] == 499, "500 iterations, the last one recorded"
    assert history["loss"][-1] < 0.5 * history["loss"][0], (
        "the loss must fall substantially"
    )
    assert 0.83 <= test_accuracy <= 0.88, (
        f"test accuracy {test_accuracy:.2%} outside [83%, 88%]"
    )


def test_training_is_deterministic(mnist_raw) -> None:
    """Same seed, same data: identical weights and history, bit for bit (exact equality is
    the claim here, not a shortcut); another seed gives other weights."""
    (x_train, y_train), _test = mnist_raw
    X = as_columns(x_train[:2000])
    Y = y_train[:2000].astype(np.int64)
    first_params, first_history = gradient_descent(
        X, Y, iterations=30, seed=0, record_every=5
    )
    second_params, second_history = gradient_descent(
        X, Y, iterations=30, seed=0, record_every=5
    )
    other_params, _other_history = gradient_descent(
        X, Y, iterations=30, seed=1, record_every=5
    )
    for name in first_params:
        assert np.array_equal(first_params[name], second_params[name]), (
            f"{name} differs between two runs with seed 0"
        )
    assert first_history == second_history, (
        "histories differ between two runs with seed 0"
    )
    assert not np.array_equal(first_params["W1"], other_params["W1"]), (
        "seed 1 must give other weights"
    )
    start_loss = cross_entropy(forward_prop(init_params(seed=0), X)["A2"], Y)
    assert first_history["loss"][0] == start_loss, (
        "the history starts from init_params(seed=0)"
    )
