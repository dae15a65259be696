"""Finite-difference checks (chapter 13, mnist_math.gradcheck): of the backward pass, of the
central difference itself, and of the checker's ability to catch a wrong gradient."""

import numpy as np
import pytest

from mnist_math import backward_prop, init_params
from mnist_math.gradcheck import (
    ATOL,
    GRADCHECK_TOLERANCE,
    RTOL,
    assert_close,
    gradient_check,
    numerical_gradient,
)


def small_problem(n: int, h: int, k: int, m: int, seed: int):
    rng = np.random.default_rng(seed)
    params = init_params(n, h, k, seed=seed)
    X = rng.uniform(0.0, 1.0, size=(n, m))
    Y = rng.integers(0, k, size=m)
    return params, X, Y


# (a) Known functions: the error of a central difference is eps**2 / 6 * |f'''| plus
# round-off of about u * |f| / eps; with eps = 1e-5 both are below 1e-9 for these functions.
@pytest.mark.parametrize("name", ["sin", "cube", "quadratic"])
@pytest.mark.parametrize("shape", [(1,), (3, 2), (4, 1)])
def test_numerical_gradient_of_known_function(name: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape) + shape[0])
    x = rng.uniform(-2.0, 2.0, size=shape)
    A = rng.normal(size=(x.size, x.size))
    A = A + A.T
    functions = {
        "sin": (lambda v: float(np.sum(np.sin(v))), np.cos(x)),
        "cube": (lambda v: float(np.sum(v**3)), 3 * x**2),
        # f(v) = v^T A v / 2 with A symmetric has gradient A v.
        "quadratic": (
            lambda v: float(v.ravel() @ A @ v.ravel()) / 2,
            (A @ x.ravel()).reshape(shape),
        ),
    }
    f, exact = functions[name]
    before = x.copy()
    estimate = numerical_gradient(f, x)
    assert np.array_equal(x, before), "numerical_gradient must restore x"
    assert_close(
        f"eq-central-difference d{name}/dx", estimate, exact, rtol=1e-8, atol=1e-8
    )


def test_central_difference_error_is_quadratic_in_eps() -> None:
    """Halving eps divides the truncation error by about 4 (while round-off is negligible)."""
    x = np.array([0.7])
    errors = [
        abs(numerical_gradient(lambda v: float(np.sin(v[0])), x, eps)[0] - np.cos(0.7))
        for eps in (1e-2, 5e-3)
    ]
    assert 3.5 < errors[0] / errors[1] < 4.5, f"errors {errors}: expected a ratio of 4"


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([1.0, 2.0])

    def explode(v: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(explode, x)
    assert x.tolist() == [1.0, 2.0], "x must be restored"


def test_numerical_gradient_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        numerical_gradient(lambda v: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError):
        numerical_gradient(lambda v: 0.0, np.zeros(3), eps=0.0)


# (b) The backward pass on small networks. The threshold is the chapter's: round-off puts
# the relative error near 1e-10 with eps = 1e-5, a wrong formula near 1e-2 or above.
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "shape",
    [(4, 3, 2, 1), (7, 5, 3, 13), (12, 6, 10, 8)],
    ids=lambda s: "x".join(map(str, s)),
)
def test_gradient_check_backward_prop(
    shape: tuple[int, int, int, int], seed: int
) -> None:
    params, X, Y = small_problem(*shape, seed=seed)
    before = {name: value.copy() for name, value in params.items()}
    errors = gradient_check(params, X, Y)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    for name, error in errors.items():
        assert error < GRADCHECK_TOLERANCE, (
            f"d{name}: relative error {error:.3e} >= {GRADCHECK_TOLERANCE:g}"
        )
    for name in params:
        assert np.array_equal(params[name], before[name]), (
            f"gradient_check must not modify {name}"
        )


# (c) The check must catch wrong gradients.
def scaled(name: str, factor: float):
    def backward(params, cache, X, Y):
        grads = backward_prop(params, cache, X, Y)
        grads[name] = grads[name] * factor
        return grads

    return backward


def relu_ge_backward(params, cache, X, Y):
    """dZ1 with slope 1 at Z1 == 0 (the `>=` mistake) pushed through dW1 and db1."""
    grads = backward_prop(params, cache, X, Y)
    m = Y.size
    dZ1 = (params["W2"].T @ grads["dZ2"]) * (cache["Z1"] >= 0)
    grads["dW1"] = dZ1 @ X.T / m
    grads["db1"] = dZ1.sum(axis=1, keepdims=True) / m
    return grads


def transposed_w2_backward(params, cache, X, Y):
    """dZ1 from W2 instead of W2^T: needs h == k to have the right shape."""
    grads = backward_prop(params, cache, X, Y)
    m = Y.size
    dZ1 = (params["W2"] @ grads["dZ2"]) * (cache["Z1"] > 0)
    grads["dW1"] = dZ1 @ X.T / m
    grads["db1"] = dZ1.sum(axis=1, keepdims=True) / m
    return grads


@pytest.mark.parametrize(
    "mistake, backward, wrong",
    [
        ("dW1 without 1/m", scaled("dW1", 13.0), "W1"),
        ("db2 with the wrong sign", scaled("db2", -1.0), "b2"),
        ("dW2 twice too large", scaled("dW2", 2.0), "W2"),
        ("W2 not transposed in dZ1", transposed_w2_backward, "W1"),
    ],
)
def test_gradient_check_detects_wrong_gradient(
    mistake: str, backward, wrong: str
) -> None:
    params, X, Y = small_problem(9, 4, 4, 13, seed=0)
    errors = gradient_check(params, X, Y, backward=backward)
    assert errors[wrong] > 1e-2, (
        f"{mistake}: relative error of d{wrong} only {errors[wrong]:.3e}"
    )
    assert errors[wrong] > 1e4 * GRADCHECK_TOLERANCE, (
        f"{mistake} must fail the check by a wide margin"
    )


def test_finite_differences_are_blind_at_the_kink() -> None:
    """At ReLU inputs exactly 0, finite differences cannot judge the subgradient.

    With all-zero images and zero biases, Z1 has exact zeros. Nudging b1 up or down moves
    them to different sides of the kink, so the estimate averages the two one-sided slopes
    and disagrees with the right gradient (subgradient 0) and the `>=` one (subgradient 1)
    alike. This is the chapter's "Kinks" warning, and why the exact zeros are checked
    against autograd instead (test_formulas.py, the relu-zeros cases).
    """
    params, X, Y = small_problem(7, 5, 3, 13, seed=3)
    X[:, :4] = 0.0
    params["b1"][:] = 0.0
    right = gradient_check(params, X, Y)
    wrong = gradient_check(params, X, Y, backward=relu_ge_backward)
    assert right["b1"] > 0.1 and wrong["b1"] > 0.1, (
        f"right {right['b1']:.2e}, wrong {wrong['b1']:.2e}"
    )
    assert right["W2"] < GRADCHECK_TOLERANCE, "away from the kink the check still works"


def test_gradient_check_rejects_a_wrong_shape() -> None:
    params, X, Y = small_problem(7, 5, 3, 13, seed=0)

    def wrong_axis(params, cache, X, Y):
        grads = backward_prop(params, cache, X, Y)
        grads["db2"] = grads["dZ2"].mean(axis=0, keepdims=True)
        return grads

    with pytest.raises(ValueError, match="db2"):
        gradient_check(params, X, Y, backward=wrong_axis)


# (d) The comparison helper that every test uses.
def test_assert_close_names_the_quantity_and_the_difference() -> None:
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = expected.copy()
    actual[1, 0] += 1e-3
    with pytest.raises(
        AssertionError,
        match=r"dW9: max \|difference\| = 1\.000e-03.*worst entry \(1, 0\)",
    ):
        assert_close("dW9", actual, expected)
    assert (
        assert_close("dW9", expected + 0.5 * RTOL * expected, expected)
        <= ATOL + RTOL * 4.0
    )


@pytest.mark.parametrize(
    "actual, expected, message",
    [
        (np.zeros((1, 3)), np.zeros((3, 1)), "shape"),
        (np.zeros(3, dtype=np.float32), np.zeros(3), "dtype"),
        (np.array([np.nan]), np.array([0.0]), "NaN"),
    ],
)
def test_assert_close_refuses_shape_dtype_and_nan(actual, expected, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_close("x", actual, expected)
