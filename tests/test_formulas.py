"""Every labelled equation of chapters 2 to 7 and "Going further" against PyTorch, in float64.

Each test computes the same quantity twice, with the book's NumPy code and with torch
(autograd for the gradients), and compares them with ``mnist_math.gradcheck.assert_close``,
whose tolerances are set and justified in one place (docs/verification.md). The grouped
tests take their list of equations from booktools/registry.py, so an equation is
named once. Convention (chapter 5): ``dZ2`` and ``dZ1`` are gradients of the summed loss,
compared with m times the ``.grad`` of torch's mean loss; ``dW`` and ``db`` are gradients of
the mean loss, compared with ``.grad`` itself.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from booktools.registry import (  # noqa: E402
    BACKWARD_QUANTITIES,
    FORWARD_QUANTITIES,
    checked_by,
)
from mnist_math import (  # noqa: E402
    adam_update,
    backward_prop,
    cross_entropy,
    forward_prop,
    init_adam,
    init_momentum,
    init_params,
    momentum_update,
    one_hot,
    relu,
    relu_derivative,
    softmax,
    update_params,
)
from mnist_math.further import cosine_lr, minibatch_order, scheduled_lr  # noqa: E402
from mnist_math.gradcheck import assert_close  # noqa: E402

THIS_FILE = Path(__file__).name


@dataclass(frozen=True)
class Case:
    """A network and a batch: n inputs, h hidden units, k classes, m examples."""

    n: int
    h: int
    k: int
    m: int
    seed: int
    relu_zeros: bool = False

    @property
    def id(self) -> str:
        zeros = "-relu-zeros" if self.relu_zeros else ""
        return f"{self.n}x{self.h}x{self.k}-m{self.m}-seed{self.seed}{zeros}"


# m = 1 (where a lost 1/m is invisible), odd sizes where no two dimensions are equal (a
# wrong transpose fails), the real 784/10/10 (square W2: a wrong transpose still has the
# right shape), three seeds each; plus batches with ReLU inputs exactly at 0.
SHAPES = [(7, 5, 3, 1), (7, 5, 3, 13), (784, 10, 10, 1), (784, 10, 10, 64)]
CASES = [Case(*shape, seed=seed) for shape in SHAPES for seed in (0, 1, 2)] + [
    Case(7, 5, 3, 13, seed=3, relu_zeros=True),
    Case(784, 10, 10, 64, seed=3, relu_zeros=True),
]


def make_case(case: Case) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Seeded float64 parameters, inputs in [0, 1] and labels for ``case``.

    With ``relu_zeros`` the first two examples are all-zero images and the first three
    hidden biases are 0, so ``Z1[:3, :2]`` is exactly 0.0 (0 times anything plus 0): the
    kink of the ReLU, where the book and torch must both use the subgradient 0.
    """
    rng = np.random.default_rng(case.seed)
    params = init_params(case.n, case.h, case.k, seed=case.seed)
    X = rng.uniform(0.0, 1.0, size=(case.n, case.m))
    Y = rng.integers(0, case.k, size=case.m)
    if case.relu_zeros:
        X[:, :2] = 0.0
        params["b1"][:3] = 0.0
    return params, X, Y


@cache
def torch_reference(case: Case) -> dict[str, np.ndarray]:
    """The forward pass and the gradients of ``case``, computed by torch in float64.

    The forward pass is written in torch's row layout (``F.linear`` computes
    ``x @ W.T + b``) and transposed back, so that it shares no code with the book's.
    Gradients come from autograd on torch's *mean* cross-entropy; ``retain_grad`` keeps
    those of the intermediates Z1 and Z2, and the summed-loss ones are scaled by m here.
    """
    params, X, Y = make_case(case)
    leaves = {
        name: torch.tensor(value, requires_grad=True) for name, value in params.items()
    }
    rows = torch.tensor(X).T
    Z1 = F.linear(rows, leaves["W1"], leaves["b1"][:, 0]).T
    Z1.retain_grad()
    A1 = torch.relu(Z1)
    A1.retain_grad()
    Z2 = F.linear(A1.T, leaves["W2"], leaves["b2"][:, 0]).T
    Z2.retain_grad()
    A2 = torch.softmax(Z2, dim=0)
    loss = F.cross_entropy(Z2.T, torch.tensor(Y))
    loss.backward()
    scale = {"summed": case.m, "mean": 1}
    gradients = {
        "dZ2": Z2.grad,
        "dW2": leaves["W2"].grad,
        "db2": leaves["b2"].grad,
        "dA1": A1.grad,
        "dZ1": Z1.grad,
        "dW1": leaves["W1"].grad,
        "db1": leaves["b1"].grad,
    }
    reference = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2, "loss": loss}
    for quantity, loss_kind in BACKWARD_QUANTITIES.values():
        reference[quantity] = scale[loss_kind] * gradients[quantity]
    return {name: value.detach().numpy() for name, value in reference.items()}


def case_ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


# ---------------------------------------------------------------------------------------
# Chapter 2: forward propagation


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
@pytest.mark.parametrize(
    "equation", checked_by(f"{THIS_FILE}::test_forward_matches_torch")
)
def test_forward_matches_torch(equation: str, case: Case) -> None:
    quantity = FORWARD_QUANTITIES[equation]
    params, X, _Y = make_case(case)
    cache = forward_prop(params, X)
    assert_close(
        f"{equation} {quantity} [{case.id}]",
        cache[quantity],
        torch_reference(case)[quantity],
    )


def test_relu_zero_cases_hit_the_kink() -> None:
    """The relu-zeros batches really put ReLU inputs exactly at 0 (else they test nothing)."""
    for case in CASES:
        if case.relu_zeros:
            params, X, _Y = make_case(case)
            Z1 = forward_prop(params, X)["Z1"]
            assert np.all(Z1[:3, :2] == 0.0), f"{case.id}: Z1[:3, :2] should be exactly 0"


# ---------------------------------------------------------------------------------------
# Chapter 3: activations

# Negatives, both zeros, positives, tiny and huge magnitudes, in a 2-D array.
SPECIAL = np.array(
    [
        [-1e300, -2.5, -1e-300, -0.0, 0.0, 1e-300, 2.5, 1e300],
        [-1.0, 0.0, 3.0, 0.0, -7.0, 0.0, 1e-8, -1e-8],
    ]
)


def activation_inputs(seed: int) -> np.ndarray:
    """Random normal entries with a sprinkling of exact zeros, shape (10, 13)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(0.0, 3.0, size=(10, 13))
    Z[rng.random(Z.shape) < 0.2] = 0.0
    return Z


@pytest.mark.parametrize("seed", [None, 0, 1], ids=["special-values", "seed0", "seed1"])
def test_relu_matches_torch(seed: int | None) -> None:
    Z = SPECIAL if seed is None else activation_inputs(seed)
    assert_close(
        f"eq-relu relu [seed {seed}]", relu(Z), torch.relu(torch.tensor(Z)).numpy()
    )


@pytest.mark.parametrize("seed", [None, 0, 1], ids=["special-values", "seed0", "seed1"])
def test_relu_derivative_matches_autograd(seed: int | None) -> None:
    Z = SPECIAL if seed is None else activation_inputs(seed)
    assert np.any(Z == 0.0), "the inputs must include exact zeros"
    leaf = torch.tensor(Z, requires_grad=True)
    torch.relu(leaf).sum().backward()
    derivative = relu_derivative(Z)
    assert_close(f"eq-relu-derivative g'(Z) [seed {seed}]", derivative, leaf.grad.numpy())
    assert np.all(derivative[Z == 0.0] == 0.0), "g'(0) must be 0, torch's subgradient"


HUGE_LOGITS = np.array(
    [
        [1e4, -1e4, 1e4, 0.0],
        [1e4 - 1.0, 1e4, -1e4, 0.0],
        [-1e4, 0.0, 1e4, 1e4],
    ]
)


SOFTMAX_INPUTS = {
    "m1": np.random.default_rng(1).normal(0.0, 1.0, size=(10, 1)),
    "m13-scale3": np.random.default_rng(13).normal(0.0, 3.0, size=(10, 13)),
    "m64-scale30": np.random.default_rng(64).normal(0.0, 30.0, size=(10, 64)),
    "logits-1e4": HUGE_LOGITS,
}


@pytest.mark.parametrize("inputs", list(SOFTMAX_INPUTS))
def test_softmax_matches_torch(inputs: str) -> None:
    Z = SOFTMAX_INPUTS[inputs]
    A = softmax(Z)
    assert np.all(np.isfinite(A)) and np.all(A >= 0.0), (
        f"softmax [{inputs}] must be finite and non-negative"
    )
    assert_close(f"eq-softmax column sums [{inputs}]", A.sum(axis=0), np.ones(Z.shape[1]))
    assert_close(
        f"eq-softmax softmax [{inputs}]", A, torch.softmax(torch.tensor(Z), dim=0).numpy()
    )


# ---------------------------------------------------------------------------------------
# Chapter 4: the loss


@pytest.mark.parametrize("k, m", [(10, 1), (10, 13), (3, 13), (10, 64)])
def test_one_hot_matches_torch(k: int, m: int) -> None:
    Y = np.random.default_rng(m + k).integers(0, k, size=m)
    expected = F.one_hot(torch.tensor(Y), k).T.to(torch.float64).numpy()
    assert_close(f"eq-one-hot one_hot [k {k}, m {m}]", one_hot(Y, k), expected)


@pytest.mark.parametrize(
    "k, m, scale", [(10, 1, 1.0), (10, 13, 3.0), (3, 13, 10.0), (10, 64, 30.0)]
)
def test_cross_entropy_matches_torch(k: int, m: int, scale: float) -> None:
    rng = np.random.default_rng(m + k)
    Z2 = rng.normal(0.0, scale, size=(k, m))
    Y = rng.integers(0, k, size=m)
    loss = cross_entropy(softmax(Z2), Y)
    assert isinstance(loss, float), "cross_entropy returns a Python float"
    expected = F.cross_entropy(torch.tensor(Z2).T, torch.tensor(Y)).item()
    assert_close(
        f"eq-cross-entropy loss [k {k}, m {m}, scale {scale}]",
        np.float64(loss),
        np.float64(expected),
    )

    # Logits of 1e4: where the right class wins, torch and the book agree (loss about 0);
    # where its probability underflows to 0.0, torch's fused log-softmax gives the exact
    # 1e4-sized loss, the book's clipped logarithm a finite 708 per such example.
    A2 = softmax(HUGE_LOGITS)
    right = cross_entropy(A2, HUGE_LOGITS.argmax(axis=0))
    wrong = cross_entropy(A2, HUGE_LOGITS.argmin(axis=0))
    assert np.isfinite(right) and np.isfinite(wrong), (
        "cross-entropy must stay finite at probability 0"
    )
    assert wrong > 700.0, (
        "a probability that underflowed to 0 costs about 708 (log of the smallest normal)"
    )
    expected = F.cross_entropy(
        torch.tensor(HUGE_LOGITS).T, torch.tensor(HUGE_LOGITS.argmax(axis=0))
    ).item()
    assert_close(
        "eq-cross-entropy loss [logits 1e4, right labels]",
        np.float64(right),
        np.float64(expected),
    )


# ---------------------------------------------------------------------------------------
# Chapter 5: backward propagation


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
@pytest.mark.parametrize(
    "equation", checked_by(f"{THIS_FILE}::test_backward_matches_autograd")
)
def test_backward_matches_autograd(equation: str, case: Case) -> None:
    quantity, loss_kind = BACKWARD_QUANTITIES[equation]
    params, X, Y = make_case(case)
    grads = backward_prop(params, forward_prop(params, X), X, Y)
    name = f"{equation} {quantity} (gradient of the {loss_kind} loss) [{case.id}]"
    assert_close(name, grads[quantity], torch_reference(case)[quantity])


# ---------------------------------------------------------------------------------------
# Chapter 7: gradient descent


@pytest.mark.parametrize("lr", [0.1, 1e-3])
@pytest.mark.parametrize(
    "case", [CASES[4], CASES[-1]], ids=case_ids([CASES[4], CASES[-1]])
)
def test_update_matches_torch_sgd(case: Case, lr: float) -> None:
    params, X, Y = make_case(case)
    grads = backward_prop(params, forward_prop(params, X), X, Y)
    before = {name: value.copy() for name, value in params.items()}
    updated = update_params(params, grads, lr)
    tensors = {
        name: torch.nn.Parameter(torch.tensor(value)) for name, value in params.items()
    }
    for name, tensor in tensors.items():
        tensor.grad = torch.tensor(grads["d" + name])
    torch.optim.SGD(list(tensors.values()), lr=lr).step()
    for name, tensor in tensors.items():
        assert_close(
            f"eq-update {name} [{case.id}, lr {lr}]",
            updated[name],
            tensor.detach().numpy(),
        )
        assert np.array_equal(params[name], before[name]), (
            f"update_params must not modify params[{name!r}]"
        )


# ---------------------------------------------------------------------------------------
# Going further: mini-batches, He initialisation, momentum, Adam, the cosine schedule

# The optimizers are compared at 1e-12, relative to the largest entry of each array: an
# update is elementwise, so the book and torch differ by one or two roundings per operation
# (about 1e-16 relative), while a wrong sign, a lost bias correction or a misplaced epsilon
# changes the steps by 1e-4 of their size or more. The scale is the array's largest entry
# because an entry near 0 by cancellation (a velocity whose old value and new gradient
# nearly cancel) cannot be compared relative to itself.
OPTIMIZER_RTOL = 1e-12
OPTIMIZER_STEPS = 6


def assert_relatively_close(name: str, actual: np.ndarray, expected: np.ndarray) -> None:
    """``assert_close`` at OPTIMIZER_RTOL relative to the largest entry of ``expected``."""
    __tracebackhide__ = True
    scale = float(np.max(np.abs(expected)))
    assert_close(name, actual, expected, rtol=OPTIMIZER_RTOL, atol=OPTIMIZER_RTOL * scale)


@pytest.mark.parametrize(
    "case", [CASES[4], CASES[-1]], ids=case_ids([CASES[4], CASES[-1]])
)
def test_minibatch_gradient_is_unbiased(case: Case) -> None:
    """One epoch's batches average to the full gradient, and each example is used once.

    Averaging over the batches of a shuffle is averaging over equally likely subsets: with
    b dividing m, the mean of the epoch's batch gradients is the expectation of
    eq-minibatch-gradient, and must equal the full-batch gradient up to round-off.
    """
    params, X, Y = make_case(case)
    m = case.m
    full = backward_prop(params, forward_prop(params, X), X, Y)
    batch_size = 1 if m == 13 else 16
    epochs = 3
    order = minibatch_order(m, batch_size, epochs=epochs, seed=case.seed)
    steps_per_epoch = m // batch_size
    assert len(order) == epochs * steps_per_epoch
    for epoch in range(epochs):
        batches = order[epoch * steps_per_epoch : (epoch + 1) * steps_per_epoch]
        assert sorted(np.concatenate(batches).tolist()) == list(range(m)), (
            "one use per epoch"
        )
        sums = {name: np.zeros_like(full[name]) for name in ("dW1", "db1", "dW2", "db2")}
        for index in batches:
            cache = forward_prop(params, X[:, index])
            grads = backward_prop(params, cache, X[:, index], Y[index])
            for name in sums:
                sums[name] += grads[name]
        for name, total in sums.items():
            mean = total / steps_per_epoch
            label = f"eq-minibatch-gradient mean batch {name} [{case.id}, epoch {epoch}]"
            assert_close(label, mean, full[name])
    first_epochs = [tuple(order[e * steps_per_epoch].tolist()) for e in range(epochs)]
    assert len(set(first_epochs)) == epochs, "every epoch draws a new shuffle"


def test_he_variance_matches_a_large_sample() -> None:
    """eq-he-variance: the drawn weights have variance 2 / fan-in, and it keeps Var(Z).

    Statistical checks with fixed seeds, at 5 standard errors: for a sample of N normal
    numbers of variance v the sample variance has standard error v * sqrt(2 / (N - 1)),
    and a sample mean has standard error (sample standard deviation) / sqrt(N).
    """
    n_in, n_hidden = 784, 1000
    params = init_params(n_in, n_hidden, 10, seed=0, scheme="he")
    for name, fan_in in (("W1", n_in), ("W2", n_hidden)):
        sample = params[name].ravel()
        expected = 2.0 / fan_in
        error = expected * np.sqrt(2.0 / (sample.size - 1))
        assert abs(sample.var() - expected) < 5 * error, (
            f"Var({name}) = {sample.var():.6g}, He's 2/{fan_in} = {expected:.6g} "
            f"(standard error {error:.2g})"
        )
        assert abs(sample.mean()) < 5 * np.sqrt(expected / sample.size), (
            f"{name} has mean 0"
        )
    for name in ("b1", "b2"):
        assert np.all(params[name] == 0.0), f"He's {name} starts at 0"
    # The premise: E[relu(z)^2] = Var(z) / 2 for z symmetric around 0.
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, size=2_000_000)
    squares = np.maximum(z, 0.0) ** 2
    error = squares.std() / np.sqrt(z.size)
    assert abs(squares.mean() - 4.0 / 2) < 5 * error, (
        f"E[relu(z)^2] = {squares.mean():.5f}"
    )
    # The conclusion: with W of variance 2/n, a ReLU layer keeps the mean square of Z. One
    # draw of W is off by about 1% (the sums of its rows meet the positive mean of the ReLU
    # outputs), so the ratio is averaged over 60 independent layers and compared at 5 of
    # its standard errors, estimated from the spread of the 60 ratios.
    n, m = 256, 512
    ratios = []
    for trial in range(60):
        Z_in = rng.normal(0.0, 1.0, size=(n, m))
        W = init_params(n, n, 10, seed=10 + trial, scheme="he")["W1"]
        Z_out = W @ np.maximum(Z_in, 0.0)
        ratios.append(np.mean(Z_out**2) / np.mean(Z_in**2))
    error = np.std(ratios) / np.sqrt(len(ratios))
    assert abs(np.mean(ratios) - 1.0) < 5 * error, (
        f"a He layer scales the mean square of Z by {np.mean(ratios):.4f} (standard error {error:.2g})"
    )


def optimizer_case(case: Case) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``make_case`` with He weights, so that the steps move from a sensible start."""
    _params, X, Y = make_case(case)
    params = init_params(case.n, case.h, case.k, seed=case.seed, scheme="he")
    return params, X, Y


@pytest.mark.parametrize(
    ("lr", "momentum"),
    [(0.1, 0.9), (0.05, 0.5), (0.3, 0.0)],
    ids=["mu0.9", "mu0.5", "mu0"],
)
@pytest.mark.parametrize(
    "case", [CASES[4], CASES[-1]], ids=case_ids([CASES[4], CASES[-1]])
)
def test_momentum_matches_torch_sgd(case: Case, lr: float, momentum: float) -> None:
    params, X, Y = optimizer_case(case)
    tensors = {
        name: torch.nn.Parameter(torch.tensor(value)) for name, value in params.items()
    }
    sgd = torch.optim.SGD(list(tensors.values()), lr=lr, momentum=momentum)
    state = init_momentum(params)
    for step in range(1, OPTIMIZER_STEPS + 1):
        grads = backward_prop(params, forward_prop(params, X), X, Y)
        before = {name: value.copy() for name, value in params.items()}
        params, state = momentum_update(params, grads, state, lr, momentum)
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads["d" + name])
        sgd.step()
        for name, tensor in tensors.items():
            label = f"eq-momentum {name} [{case.id}, lr {lr}, mu {momentum}, step {step}]"
            assert_relatively_close(label, params[name], tensor.detach().numpy())
            if momentum > 0:
                buffer = sgd.state[tensor]["momentum_buffer"].numpy()
                assert_relatively_close(f"{label} velocity", state["q" + name], buffer)
            assert not np.array_equal(params[name], before[name]) or name.startswith(
                "b"
            ), f"{name} did not move at step {step}"


@pytest.mark.parametrize(
    ("lr", "beta1", "beta2", "eps"),
    [(1e-3, 0.9, 0.999, 1e-8), (0.01, 0.8, 0.99, 1e-6), (0.1, 0.0, 0.5, 1e-3)],
    ids=["defaults", "betas0.8-0.99", "beta1-0"],
)
@pytest.mark.parametrize(
    "case", [CASES[4], CASES[-1]], ids=case_ids([CASES[4], CASES[-1]])
)
def test_adam_matches_torch(
    case: Case, lr: float, beta1: float, beta2: float, eps: float
) -> None:
    params, X, Y = optimizer_case(case)
    tensors = {
        name: torch.nn.Parameter(torch.tensor(value)) for name, value in params.items()
    }
    adam = torch.optim.Adam(list(tensors.values()), lr=lr, betas=(beta1, beta2), eps=eps)
    state = init_adam(params)
    for step in range(1, OPTIMIZER_STEPS + 1):
        grads = backward_prop(params, forward_prop(params, X), X, Y)
        params, state = adam_update(params, grads, state, lr, beta1, beta2, eps)
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads["d" + name])
        adam.step()
        assert state["t"] == step, f"the step count is {state['t']} after {step} steps"
        for name, tensor in tensors.items():
            label = (
                f"[{case.id}, lr {lr}, betas ({beta1}, {beta2}), eps {eps}, step {step}]"
            )
            torch_state = adam.state[tensor]
            assert_relatively_close(
                f"eq-adam-update {name} {label}", params[name], tensor.detach().numpy()
            )
            assert_relatively_close(
                f"eq-adam-moments phi{name} {label}",
                state["phi" + name],
                torch_state["exp_avg"].numpy(),
            )
            assert_relatively_close(
                f"eq-adam-moments v{name} {label}",
                state["v" + name],
                torch_state["exp_avg_sq"].numpy(),
            )


@pytest.mark.parametrize("total_steps", [1, 7, 50])
@pytest.mark.parametrize("lr", [0.2, 1e-3])
def test_cosine_schedule_matches_torch(lr: float, total_steps: int) -> None:
    parameter = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    rates = []
    for step in range(total_steps):
        rates.append(cosine_lr(lr, step, total_steps))
        expected = optimizer.param_groups[0]["lr"]
        name = f"eq-cosine-schedule alpha_{step} [lr {lr}, T {total_steps}]"
        assert_close(
            name, np.float64(rates[-1]), np.float64(expected), rtol=1e-12, atol=0.0
        )
        optimizer.step()
        scheduler.step()
    assert rates[0] == lr, "the schedule starts at the learning rate"
    assert all(a > b for a, b in zip(rates, rates[1:])), "and decreases at every step"


@pytest.mark.parametrize(("total_steps", "warmup_steps"), [(10, 2), (50, 7), (12, 1)])
@pytest.mark.parametrize("lr", [0.2, 1e-3])
def test_warmup_schedule_matches_torch(
    lr: float, total_steps: int, warmup_steps: int
) -> None:
    """eq-cosine-schedule with a warm-up: torch's LinearLR for the first T_w steps (factor
    (t + 1) / T_w), then CosineAnnealingLR over the other T - T_w, joined by SequentialLR."""
    parameter = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    warm = torch.optim.lr_scheduler.LinearLR(
        optimizer,
        start_factor=1 / warmup_steps,
        end_factor=1.0,
        total_iters=max(warmup_steps - 1, 1),
    )
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=total_steps - warmup_steps
    )
    scheduler = torch.optim.lr_scheduler.SequentialLR(
        optimizer, [warm, cosine], milestones=[warmup_steps]
    )
    for step in range(total_steps):
        ours = scheduled_lr(lr, step, total_steps, "cosine", warmup_steps)
        expected = optimizer.param_groups[0]["lr"]
        name = f"eq-cosine-schedule warm-up alpha_{step} [lr {lr}, T {total_steps}, T_w {warmup_steps}]"
        assert_close(name, np.float64(ours), np.float64(expected), rtol=1e-12, atol=0.0)
        optimizer.step()
        scheduler.step()
    assert scheduled_lr(lr, warmup_steps - 1, total_steps, "cosine", warmup_steps) == lr
    assert scheduled_lr(lr, 0, total_steps, "constant", 0) == lr, "constant: lr itself"
