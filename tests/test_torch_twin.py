"""Tests of the PyTorch twin (chapter 10, docs/pytorch.md; module mnist_math.torch_twin).

The central test is whole-trajectory parity: from the same initial weights, in float64,
full-batch SGD in PyTorch and the NumPy ``gradient_descent`` take the same steps. The fast
tests use small synthetic data; the slow test trains on the real MNIST.
"""

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mnist_math import gradient_descent, init_params, predict  # noqa: E402
from mnist_math.torch_twin import (  # noqa: E402
    TwoLayerNet,
    minibatches,
    select_device,
    select_dtype,
    to_numpy_params,
    to_torch_model,
    train_torch,
)

PARAM_NAMES = ("W1", "b1", "W2", "b2")

# Tolerance of the parity tests. Both trainers evaluate the same formulas in float64 and
# differ only in the order of a few additions (autograd divides by m before the matrix
# product, chapter 5 after it), so each step adds relative errors of the order of the
# float64 epsilon, 2.2e-16; 20 steps at lr 0.1 stay near 1e-15. 1e-10 leaves five orders of
# magnitude of room, while any mistake in a gradient (a missing 1/m, a wrong transpose,
# the ReLU's derivative) makes the weights differ by about 1e-3 relative after one step.
PARITY_RTOL = 1e-10


def relative_difference(a: object, b: object) -> float:
    """Largest entry of |a - b|, relative to the largest entry of |b|."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def synthetic(m: int, *, n_in: int = 784, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable stand-in for MNIST: labels determined by noisy class templates.

    Returns ``X`` of shape ``(n_in, m)`` in [0, 1] (float64) and ``Y`` of shape ``(m,)`` (int64).
    """
    rng = np.random.default_rng(seed)
    templates = (rng.random((10, n_in)) < 0.2).astype(np.float64)
    Y = rng.integers(0, 10, size=m)
    X = np.clip(0.8 * templates[Y].T + 0.3 * rng.random((n_in, m)), 0.0, 1.0)
    return X, Y.astype(np.int64)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return synthetic(300)


# --------------------------------------------------------------------------------------
# Whole-trajectory parity with the NumPy trainer


@pytest.mark.parametrize(
    ("m", "n_hidden", "seed"),
    [(300, 10, 0), (301, 7, 1), (1, 10, 2), (64, 32, 3)],
    ids=["m300-h10", "m301-h7", "m1-h10", "m64-h32"],
)
def test_parity_with_numpy_trainer(m: int, n_hidden: int, seed: int) -> None:
    X, Y = synthetic(m, seed=seed)
    numpy_params, numpy_history = gradient_descent(
        X, Y, lr=0.1, iterations=20, n_hidden=n_hidden, seed=seed, record_every=1
    )
    torch_params, torch_history = train_torch(
        X,
        Y,
        lr=0.1,
        iterations=20,
        n_hidden=n_hidden,
        seed=seed,
        record_every=1,
        device="cpu",
    )
    for name in PARAM_NAMES:
        assert torch_params[name].dtype == np.float64, (
            f"{name} is {torch_params[name].dtype}"
        )
        assert torch_params[name].shape == numpy_params[name].shape, name
        difference = relative_difference(torch_params[name], numpy_params[name])
        assert difference < PARITY_RTOL, (
            f"{name} after 20 steps: relative diff. {difference:.2e}"
        )
    assert torch_history["iteration"] == numpy_history["iteration"] == list(range(20))
    difference = relative_difference(torch_history["loss"], numpy_history["loss"])
    assert difference < PARITY_RTOL, f"loss curve: relative difference {difference:.2e}"
    assert torch_history["accuracy"] == numpy_history["accuracy"], (
        "the accuracy curves differ"
    )


def test_parity_from_given_params(data) -> None:
    X, Y = data
    start = init_params(784, 12, 10, seed=5, scheme="he")
    copy = {name: value.copy() for name, value in start.items()}
    numpy_params, _ = gradient_descent(X, Y, lr=0.05, iterations=10, params=start)
    torch_params, _ = train_torch(
        X, Y, lr=0.05, iterations=10, params=start, device="cpu"
    )
    for name in PARAM_NAMES:
        assert np.array_equal(start[name], copy[name]), (
            f"train_torch modified params[{name!r}]"
        )
        difference = relative_difference(torch_params[name], numpy_params[name])
        assert difference < PARITY_RTOL, f"{name}: relative difference {difference:.2e}"


def test_default_initialisation_is_numpys(data) -> None:
    X, Y = data
    # The first recorded loss is the loss of the initial weights, before any update.
    _, history = train_torch(X, Y, iterations=1, seed=4, device="cpu")
    _, numpy_history = gradient_descent(X, Y, iterations=1, seed=4)
    assert history["loss"][0] == pytest.approx(numpy_history["loss"][0], rel=1e-14)


# --------------------------------------------------------------------------------------
# Layout conversion


def test_round_trip_is_exact() -> None:
    params = init_params(784, 10, 10, seed=0)
    model = to_torch_model(params)
    assert tuple(model.linear1.weight.shape) == params["W1"].shape == (10, 784)
    assert tuple(model.linear1.bias.shape) == (10,)
    assert tuple(model.linear2.weight.shape) == params["W2"].shape == (10, 10)
    assert model.linear1.weight.dtype == torch.float64
    back = to_numpy_params(model)
    for name in PARAM_NAMES:
        assert back[name].shape == params[name].shape, name
        assert back[name].dtype == np.float64, name
        assert np.array_equal(back[name], params[name]), (
            f"{name} changed on the round trip"
        )


def test_returned_arrays_do_not_alias_the_model() -> None:
    model = to_torch_model(init_params(784, 10, 10, seed=0))
    back = to_numpy_params(model)
    before = back["W1"].copy()
    with torch.no_grad():
        model.linear1.weight.add_(1.0)
    assert np.array_equal(back["W1"], before), (
        "to_numpy_params returned a view of the weights"
    )


def test_float32_conversion() -> None:
    params = init_params(20, 5, 10, seed=1)
    model = to_torch_model(params, dtype="float32")
    assert model.linear2.bias.dtype == torch.float32
    back = to_numpy_params(model)
    assert back["W1"].dtype == np.float32
    assert np.array_equal(back["W1"], params["W1"].astype(np.float32))


def test_model_computes_the_books_forward_pass(data) -> None:
    from mnist_math import forward_prop

    X, _ = data
    params = init_params(784, 10, 10, seed=3)
    Z2_rows = to_torch_model(params)(torch.from_numpy(X.T)).detach().numpy()
    Z2 = forward_prop(params, X)["Z2"]
    difference = relative_difference(Z2_rows.T, Z2)
    assert difference < 1e-13, f"logits: relative difference {difference:.2e}"


def test_two_layer_net_shapes() -> None:
    model = TwoLayerNet(784, 16, 10, dtype=torch.float64)
    out = model(torch.zeros(3, 784, dtype=torch.float64))
    assert tuple(out.shape) == (3, 10)


# --------------------------------------------------------------------------------------
# Devices and dtypes


def test_auto_device_on_this_machine() -> None:
    device = select_device("auto")
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device == torch.device("cpu")


def test_auto_falls_back_to_cpu(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device("auto") == torch.device("cpu")
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(torch.device("cpu")) == torch.device("cpu")


def test_cuda_unavailable_says_so(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        select_device("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        train_torch(*synthetic(5), iterations=1, device="cuda")


def test_mps_unavailable_says_so(monkeypatch) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS is not available"):
        select_device("mps")


@pytest.mark.parametrize("name", ["gpu", "tpu0", "", "cuda:x"])
def test_unknown_device_names(name: str) -> None:
    with pytest.raises(ValueError, match="device"):
        select_device(name)


def test_dtypes() -> None:
    cpu = torch.device("cpu")
    assert select_dtype("float64", cpu) == torch.float64
    assert select_dtype(torch.float32, cpu) == torch.float32
    with pytest.raises(ValueError, match="float64"):
        select_dtype("float16", cpu)
    with pytest.raises(ValueError, match="float64"):
        select_dtype(torch.int64, cpu)
    with pytest.raises(ValueError, match="MPS does not support float64"):
        select_dtype("float64", torch.device("mps"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(data) -> None:
    X, Y = data
    cpu_params, cpu_history = train_torch(X, Y, iterations=20, device="cpu")
    cuda_params, cuda_history = train_torch(X, Y, iterations=20, device="cuda")
    assert str(select_device("cuda")).startswith("cuda:")
    for name in PARAM_NAMES:
        assert isinstance(cuda_params[name], np.ndarray)
        difference = relative_difference(cuda_params[name], cpu_params[name])
        assert difference < PARITY_RTOL, (
            f"{name}: cuda vs cpu relative difference {difference:.2e}"
        )
    assert relative_difference(cuda_history["loss"], cpu_history["loss"]) < PARITY_RTOL


# --------------------------------------------------------------------------------------
# Optimizers, mini-batches and the history


def test_adam_reduces_the_loss(data) -> None:
    X, Y = data
    _, history = train_torch(
        X, Y, lr=0.01, iterations=30, optimizer="adam", record_every=5
    )
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]


def test_minibatches_reduce_the_loss_and_are_reproducible(data) -> None:
    X, Y = data
    params, history = train_torch(X, Y, lr=0.1, iterations=40, batch_size=32, seed=1)
    again, history_again = train_torch(X, Y, lr=0.1, iterations=40, batch_size=32, seed=1)
    other, _ = train_torch(X, Y, lr=0.1, iterations=40, batch_size=32, seed=2)
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    assert history == history_again
    for name in PARAM_NAMES:
        assert np.array_equal(params[name], again[name]), f"{name} not reproducible"
    assert not np.array_equal(params["W1"], other["W1"]), (
        "the seed does not change the batches"
    )


def test_full_size_batch_matches_full_batch(data) -> None:
    X, Y = data
    full, _ = train_torch(X, Y, iterations=5)
    shuffled, _ = train_torch(X, Y, iterations=5, batch_size=X.shape[1])
    for name in PARAM_NAMES:
        # The same examples in another order: the gradients differ only by rounding.
        assert relative_difference(shuffled[name], full[name]) < PARITY_RTOL, name


def test_minibatches_cover_every_example_once_per_pass() -> None:
    generator = torch.Generator().manual_seed(0)
    batches = minibatches(10, 4, generator=generator)
    first_pass = [next(batches) for _ in range(3)]
    assert [len(b) for b in first_pass] == [4, 4, 2]
    assert sorted(torch.cat(first_pass).tolist()) == list(range(10))
    assert len(next(batches)) == 4, "a new pass starts after the short batch"


def test_history_format(data) -> None:
    X, Y = data
    _, history = train_torch(X, Y, iterations=25, record_every=10)
    assert set(history) == {"iteration", "loss", "accuracy"}
    assert history["iteration"] == [0, 10, 20, 24]
    assert all(
        isinstance(value, float) for value in history["loss"] + history["accuracy"]
    )
    assert all(0.0 <= value <= 1.0 for value in history["accuracy"])
    _, history = train_torch(X, Y, iterations=1)
    assert history["iteration"] == [0]


def test_float32_training(data) -> None:
    X, Y = data
    params, history = train_torch(X.astype(np.float32), Y, iterations=20, dtype="float32")
    assert all(params[name].dtype == np.float32 for name in PARAM_NAMES)
    numpy_params, _ = gradient_descent(X, Y, iterations=20)
    difference = relative_difference(params["W2"], numpy_params["W2"])
    assert difference < 1e-4, f"float32 drifted from float64 by {difference:.2e}"


def test_progress_bar(data, capsys) -> None:
    X, Y = data
    train_torch(X, Y, iterations=3, record_every=1, progress=True)
    err = capsys.readouterr().err
    assert "loss=" in err and "acc=" in err, err


# --------------------------------------------------------------------------------------
# Input validation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"optimizer": "rmsprop"},
            ValueError,
            "optimizer must be one of sgd, momentum, adam",
        ),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 1000}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"iterations": 0}, ValueError, "iterations"),
        ({"iterations": 1.5}, TypeError, "iterations"),
        ({"n_hidden": 0}, ValueError, "n_hidden"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"lr": 0}, ValueError, "lr"),
        ({"lr": -0.1}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"lr": "0.1"}, TypeError, "lr must be a positive number"),
        ({"lr": True}, TypeError, "lr must be a positive number"),
        ({"seed": -1}, ValueError, "seed must be an integer 0 or larger"),
        ({"seed": True}, TypeError, "seed must be an integer 0 or larger"),
        ({"dtype": "float16"}, ValueError, "dtype"),
        ({"device": "gpu"}, ValueError, "device"),
    ],
)
def test_invalid_knobs(data, kwargs, error, match) -> None:
    X, Y = data
    with pytest.raises(error, match=match):
        train_torch(X, Y, iterations=kwargs.pop("iterations", 1), **kwargs)


def test_invalid_data(data) -> None:
    X, Y = data
    with pytest.raises(ValueError, match="2-D"):
        train_torch(X[:, 0], Y[:1], iterations=1)
    with pytest.raises(ValueError, match="columns"):
        train_torch(X, Y[:-1], iterations=1)
    with pytest.raises(TypeError, match="integer labels"):
        train_torch(X, Y.astype(np.float64), iterations=1)
    with pytest.raises(ValueError, match="0..9"):
        train_torch(X, np.full_like(Y, 10), iterations=1)
    with pytest.raises(TypeError, match="NumPy array"):
        train_torch(X.tolist(), Y, iterations=1)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_torch(bad, Y, iterations=1)


def test_transposed_X_is_refused(data) -> None:
    X, Y = data
    params = init_params(784, 10, 10, seed=0)
    with pytest.raises(ValueError, match="784 rows"):
        train_torch(np.ascontiguousarray(X.T), Y, iterations=1, params=params)


def test_invalid_params(data) -> None:
    X, Y = data
    params = init_params(784, 10, 10, seed=0)
    with pytest.raises(ValueError, match="missing b2"):
        train_torch(
            X, Y, iterations=1, params={k: v for k, v in params.items() if k != "b2"}
        )
    with pytest.raises(ValueError, match="rows"):
        train_torch(X[:100], Y, iterations=1, params=params)
    with pytest.raises(TypeError, match="dict"):
        to_torch_model([params["W1"]])


# --------------------------------------------------------------------------------------
# The command line, with a small stand-in for MNIST


def test_cli_torch_backend(monkeypatch, capsys) -> None:
    data_module = pytest.importorskip("mnist_math.data")
    from mnist_math.cli import main

    rng = np.random.default_rng(0)
    X, Y = synthetic(240, seed=7)
    images = np.round(X.T.reshape(-1, 28, 28) * 255).astype(np.uint8)
    labels = Y.astype(np.uint8)

    def fake_load_mnist(path=None, *, progress=False, refresh=False):
        order = rng.permutation(240)
        train, test = order[:200], order[200:]
        return (images[train], labels[train]), (images[test], labels[test])

    monkeypatch.setattr(data_module, "load_mnist", fake_load_mnist)
    argv = [
        "train",
        "--backend",
        "torch",
        "--iterations",
        "5",
        "--device",
        "cpu",
        "--no-progress",
    ]
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    assert "Device: cpu" in out, out
    assert "Test accuracy:" in out, out


# --------------------------------------------------------------------------------------
# The real MNIST


def seed_configuration_in_torch() -> tuple[str, dict, float, float]:
    """The seed's configuration (500 full-batch SGD iterations, lr 0.1, seed 0) in float32
    with ``train_torch``: ``(device, history, test accuracy, seconds)``."""
    from mnist_math.data import as_columns, load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    X_train = as_columns(x_train, dtype=np.float32)
    X_test = as_columns(x_test, dtype=np.float32)
    start = time.perf_counter()
    device = select_device("auto")
    params, history = train_torch(
        X_train, y_train.astype(np.int64), lr=0.1, iterations=500, seed=0, dtype="float32"
    )
    elapsed = time.perf_counter() - start
    predictions = predict(params, X_test)
    return str(device), history, float(np.mean(predictions == y_test)), elapsed


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The training on the real MNIST runs in the background from the session's start
    (tests/conftest.py)."""
    wanted = any(item.originalname == "test_accuracy_on_mnist" for item in items)
    return [(1, "torch twin", seed_configuration_in_torch, ())] if wanted else []


@pytest.mark.slow
def test_accuracy_on_mnist(background) -> None:
    """The seed's configuration (500 full-batch SGD iterations, lr 0.1, seed 0) in float32."""
    device, history, test_accuracy, elapsed = background.result("torch twin")
    print(
        f"torch ({device}, float32): final training loss {history['loss'][-1]:.4f}, "
        f"test accuracy {test_accuracy:.2%}, {elapsed:.1f} s"
    )
    assert history["loss"][-1] < history["loss"][0]
    assert 0.83 <= test_accuracy <= 0.88, f"test accuracy {test_accuracy:.2%}"
