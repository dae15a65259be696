"""Library contracts: every function keeps its dtype and refuses what it cannot use.

Two halves. The dtype tests run each function of chapters 2 to 7 (and the PyTorch twin) in
float32 and in float64 and assert the dtype of every array it returns: float32 stays
float32, nothing is promoted on the way. The refusal tests feed each function an input it
must refuse and assert the exception type and a fragment of the message, which must say
what to pass instead.
"""

import warnings

import numpy as np
import pytest

from mnist_math import (
    accuracy,
    backward_prop,
    cross_entropy,
    forward_prop,
    get_predictions,
    gradient_descent,
    init_params,
    one_hot,
    predict,
    relu,
    relu_derivative,
    softmax,
    update_params,
)
from mnist_math._checks import (
    DivergenceError,
    InputRangeWarning,
    check_count,
    check_fraction,
    check_rate,
    check_seed,
)

DTYPES = (np.float32, np.float64)


def batch(m: int = 12, *, n: int = 784, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n, m)).astype(dtype)
    Y = rng.integers(0, 10, size=m)
    return X, Y


# --------------------------------------------------------------------------------------
# dtype: float32 stays float32, float64 stays float64


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_every_function_keeps_its_dtype(dtype) -> None:
    X, Y = batch(dtype=dtype)
    params = init_params(seed=0, dtype=dtype)
    assert {name: array.dtype for name, array in params.items()} == dict.fromkeys(
        ("W1", "b1", "W2", "b2"), np.dtype(dtype)
    ), "init_params"
    assert one_hot(Y, dtype=dtype).dtype == dtype, "one_hot"
    assert relu(X).dtype == dtype and relu_derivative(X).dtype == dtype, "relu"
    assert softmax(X[:10]).dtype == dtype, "softmax"
    cache = forward_prop(params, X)
    for name, array in cache.items():
        assert array.dtype == dtype, f"forward_prop's {name} is {array.dtype}"
    grads = backward_prop(params, cache, X, Y)
    for name, array in grads.items():
        assert array.dtype == dtype, f"backward_prop's {name} is {array.dtype}"
    stepped = update_params(params, grads, 0.1)
    for name, array in stepped.items():
        assert array.dtype == dtype, f"update_params's {name} is {array.dtype}"
    assert isinstance(cross_entropy(cache["A2"], Y), float), (
        "cross_entropy returns a float"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_gradient_descent_trains_in_the_dtype_of_X(dtype) -> None:
    X, Y = batch(64, dtype=dtype)
    params, history = gradient_descent(X, Y, iterations=3, record_every=1)
    for name, array in params.items():
        assert array.dtype == dtype, f"gradient_descent returned {name} as {array.dtype}"
    assert history["loss"][-1] < history["loss"][0], "the loss falls"


def test_gradient_descent_converts_given_params_once() -> None:
    X, Y = batch(32, dtype=np.float32)
    start = init_params(seed=0)  # float64
    params, _ = gradient_descent(X, Y, iterations=2, params=start)
    assert all(array.dtype == np.float32 for array in params.values()), (
        "converted to float32"
    )
    assert start["W1"].dtype == np.float64, "the given params are not modified"


def test_float32_and_float64_training_agree_to_float32_precision() -> None:
    X, Y = batch(64)
    params64, _ = gradient_descent(X, Y, iterations=5)
    params32, _ = gradient_descent(X.astype(np.float32), Y, iterations=5)
    for name in params64:
        difference = np.max(np.abs(params32[name] - params64[name]))
        assert difference < 1e-5, (
            f"{name}: float32 and float64 differ by {difference:.1e}"
        )
        assert difference > 0, f"{name}: float32 training must really compute in float32"


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_torch_twin_keeps_the_dtype_of_X(dtype) -> None:
    pytest.importorskip("torch")
    from mnist_math.torch_twin import train_torch

    X, Y = batch(32, dtype=dtype)
    params, _ = train_torch(X, Y, iterations=2, device="cpu")
    for name, array in params.items():
        assert array.dtype == dtype, f"train_torch returned {name} as {array.dtype}"


def test_predict_converts_X_to_the_models_dtype() -> None:
    X, _ = batch(8, dtype=np.float32)
    params = init_params(seed=0)
    assert np.array_equal(predict(params, X), predict(params, X.astype(np.float64)))


# --------------------------------------------------------------------------------------
# Refusals: (call, exception type, fragment of the message)


def _params():
    return init_params(seed=0)


def _forward():
    X, Y = batch(6)
    params = _params()
    return params, forward_prop(params, X), X, Y


def _grads(**changes):
    params, cache, X, Y = _forward()
    grads = backward_prop(params, cache, X, Y)
    grads.update(changes)
    return params, grads


def _call_cross_entropy_of_logits():
    params, cache, _, Y = _forward()
    cross_entropy(cache["Z2"], Y)


def _call_cross_entropy_not_summing_to_one():
    _, cache, _, Y = _forward()
    cross_entropy(cache["A2"] * 0.9, Y)


def _call_backward_with_empty_cache():
    params, _, X, Y = _forward()
    backward_prop(params, {}, X, Y)


def _call_backward_with_cache_of_other_batch():
    params, _, X, Y = _forward()
    other = forward_prop(params, X[:, :3])
    backward_prop(params, other, X, Y)


def _call_backward_on_empty_batch():
    params = _params()
    X = np.zeros((784, 0))
    backward_prop(params, forward_prop(params, X[:, :1]), X, np.zeros(0, dtype=np.int64))


def _call_update(lr=0.1, **changes):
    params, grads = _grads(**changes)
    update_params(params, grads, lr)


def _nan_gradient():
    params, grads = _grads()
    dW1 = grads["dW1"].copy()
    dW1[0, 0] = np.nan
    return dW1


def _call_forward_with_mixed_dtypes():
    X, _ = batch(4, dtype=np.float32)
    forward_prop(_params(), X)


def _call_with_mixed_param_dtypes():
    params = _params()
    params["W2"] = params["W2"].astype(np.float32)
    forward_prop(params, batch(4)[0])


def _call_get_predictions_transposed():
    _, cache, _, _ = _forward()
    get_predictions(cache["A2"].T)


REFUSALS = {
    "init_params seed=True": (
        lambda: init_params(seed=True),
        TypeError,
        "seed must be an integer 0 or larger",
    ),
    "init_params seed=-1": (
        lambda: init_params(seed=-1),
        ValueError,
        "seed must be an integer 0 or larger",
    ),
    "init_params seed=1.5": (
        lambda: init_params(seed=1.5),
        TypeError,
        "seed must be an integer",
    ),
    "init_params int dtype": (
        lambda: init_params(dtype=np.int64),
        TypeError,
        "floating-point type",
    ),
    "one_hot int dtype": (
        lambda: one_hot(np.array([1]), dtype=np.int64),
        TypeError,
        "floating-point",
    ),
    "gradient_descent seed=-1": (
        lambda: gradient_descent(*batch(4), seed=-1),
        ValueError,
        "seed must be",
    ),
    "gradient_descent lr=True": (
        lambda: gradient_descent(*batch(4), lr=True),
        TypeError,
        "lr must be a positive number",
    ),
    "gradient_descent lr='0.1'": (
        lambda: gradient_descent(*batch(4), lr="0.1"),
        TypeError,
        "such as 0.1",
    ),
    "gradient_descent empty": (
        lambda: gradient_descent(np.zeros((784, 0)), np.zeros(0, dtype=np.int64)),
        ValueError,
        "pass at least one example",
    ),
    "cross_entropy of logits": (
        _call_cross_entropy_of_logits,
        ValueError,
        "pass softmax(Z2), not the logits Z2",
    ),
    "cross_entropy not summing to 1": (
        _call_cross_entropy_not_summing_to_one,
        ValueError,
        "sums to 0.9",
    ),
    "cross_entropy empty": (
        lambda: cross_entropy(np.zeros((10, 0)), np.zeros(0, dtype=np.int64)),
        ValueError,
        "empty",
    ),
    "softmax empty": (
        lambda: softmax(np.zeros((10, 0))),
        ValueError,
        "pass at least one example",
    ),
    "backward_prop empty cache": (
        _call_backward_with_empty_cache,
        ValueError,
        "cache has no 'Z1'",
    ),
    "backward_prop cache of another batch": (
        _call_backward_with_cache_of_other_batch,
        ValueError,
        "must come from forward_prop on the same params and X",
    ),
    "backward_prop empty batch": (_call_backward_on_empty_batch, ValueError, "empty"),
    "accuracy empty": (lambda: accuracy(np.zeros(0), np.zeros(0)), ValueError, "empty"),
    "update_params lr=True": (
        lambda: _call_update(lr=True),
        TypeError,
        "lr must be a positive number",
    ),
    "update_params lr='fast'": (
        lambda: _call_update(lr="fast"),
        TypeError,
        "lr must be a positive number",
    ),
    "update_params lr=0": (lambda: _call_update(lr=0), ValueError, "positive finite"),
    "update_params NaN gradient": (
        lambda: _call_update(dW1=_nan_gradient()),
        ValueError,
        "dW1 contains NaN",
    ),
    "update_params missing gradient": (
        lambda: update_params(_params(), {"dW1": np.zeros((10, 784))}, 0.1),
        ValueError,
        "grads has no 'db1'",
    ),
    "update_params float64 gradient on float32": (
        lambda: update_params(init_params(dtype=np.float32), _grads()[1], 0.1),
        TypeError,
        "the parameters are float32",
    ),
    "forward_prop float32 X, float64 params": (
        _call_forward_with_mixed_dtypes,
        TypeError,
        "X.astype(np.float64)",
    ),
    "params of mixed dtypes": (
        _call_with_mixed_param_dtypes,
        TypeError,
        "must share one dtype",
    ),
    "get_predictions of A2.T": (
        _call_get_predictions_transposed,
        ValueError,
        "must have 10 rows",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal(case: str) -> None:
    call, error, fragment = REFUSALS[case]
    with pytest.raises(error) as raised:
        call()
    assert fragment in str(raised.value), (
        f"{case}: message {str(raised.value)!r} lacks {fragment!r}"
    )


def test_trainers_warn_about_raw_bytes() -> None:
    X, Y = batch(16)
    with pytest.warns(
        InputRangeWarning, match=r"outside \[0, 1\].*divides the bytes by 255"
    ):
        gradient_descent(X * 255, Y, iterations=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        gradient_descent(X, Y, iterations=1)  # pixels in [0, 1]: no warning


# --------------------------------------------------------------------------------------
# Divergence


def test_overflow_stops_with_the_last_finite_parameters() -> None:
    X, Y = batch(64, dtype=np.float32)  # 1e100 * dW overflows float32 at once
    with pytest.raises(DivergenceError) as raised:
        gradient_descent(X, Y, lr=1e100, iterations=20)
    error = raised.value
    assert "overflowed to infinity or NaN at iteration" in str(error)
    assert "try a smaller one, such as 0.1" in str(error)
    assert all(np.all(np.isfinite(array)) for array in error.params.values()), (
        "finite params"
    )
    assert set(error.params) == {"W1", "b1", "W2", "b2"}


def test_a_loss_that_rises_is_divergence() -> None:
    X, Y = batch(200)
    with pytest.raises(
        DivergenceError, match=r"the loss rose from .* instead of falling"
    ) as raised:
        gradient_descent(X, Y, lr=1e6, iterations=30)
    assert raised.value.iteration == 29, "reported at the last iteration"
    assert raised.value.loss > 2 * 2.0, "the loss it reports is the high one"


def test_a_falling_loss_is_not_divergence() -> None:
    X, Y = batch(200)
    _, history = gradient_descent(X, Y, lr=0.1, iterations=30)
    assert history["loss"][-1] < history["loss"][0]


def test_torch_twin_divergence() -> None:
    pytest.importorskip("torch")
    from mnist_math.torch_twin import train_torch

    X, Y = batch(64)
    with pytest.raises(DivergenceError, match="too large") as raised:
        train_torch(X, Y, lr=1e100, iterations=20, device="cpu")
    assert all(np.all(np.isfinite(array)) for array in raised.value.params.values())
    with pytest.raises(DivergenceError, match="the loss rose from"):
        train_torch(X, Y, lr=1e6, iterations=30, device="cpu")


# --------------------------------------------------------------------------------------
# The scalar checks agree on what kind of mistake raises what


@pytest.mark.parametrize(
    ("check", "wrong_kind", "out_of_range"),
    [
        (lambda value: check_count("iterations", value), [1.5, "3", True, None], [0, -2]),
        (lambda value: check_count("b", value, at_most=9), [2.0, "3", False], [0, 10]),
        (check_seed, [1.5, "0", True, None], [-1]),
        (lambda value: check_rate("lr", value), ["0.1", True, None], [0, -0.1, np.inf]),
        (lambda value: check_fraction("mu", value), ["0.9", True, None], [1, -0.1]),
    ],
    ids=["count", "count-at-most", "seed", "rate", "fraction"],
)
def test_a_value_of_the_wrong_kind_is_a_type_error(
    check, wrong_kind, out_of_range
) -> None:
    """A value of the wrong type (a float count, a string, a bool) raises TypeError in every
    scalar check; a number of the right type but out of range raises ValueError."""
    for value in wrong_kind:
        with pytest.raises(TypeError):
            check(value)
    for value in out_of_range:
        with pytest.raises(ValueError):
            check(value)
