# ~/~ begin <<docs/pytorch.md#mnist_math/torch_twin.py>>[init]
"""The PyTorch twin of the book's network ([chapter 10, "The PyTorch twin"][torch-twin]).

The same 784 -> h -> 10 network as the NumPy chapters, written with ``torch.nn``, trained
with autograd and ``torch.optim``, started from the same NumPy initial weights and handing
its weights back in the book's layout.
"""

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_count, check_params
from ._training import OPTIMIZERS as OPTIMIZERS  # the optimizers train_torch knows
from ._training import PARAM_NAMES, TrainingRun, check_training_inputs
from .forward import init_params


# ~/~ begin <<docs/pytorch.md#torch-model>>[init]
class TwoLayerNet(nn.Module):
    """The book's 784 -> h -> 10 network as a PyTorch module, one example per row.

    See [the same network, on rows][torch-layout]: ``linear1.weight`` is the book's ``W1``
    with the same ``(h, n_in)`` layout and ``linear1.bias`` is ``b1`` flattened to ``(h,)``;
    likewise ``linear2`` holds ``W2, b2``. The module returns the logits ``Z2`` (one row per
    example); the softmax of chapter 3 is applied inside the loss, ``F.cross_entropy``.

    Args:
        n_in: Number of inputs (784 pixels for MNIST).
        n_hidden: Number of hidden units h.
        n_out: Number of classes (10 digits).
        device: Where the weights live (``"cpu"``, ``"cuda"``, ``"mps"`` or a ``torch.device``).
        dtype: Floating-point type of the weights, ``torch.float64`` or ``torch.float32``.
    """

    def __init__(
        self,
        n_in: int = 784,
        n_hidden: int = 10,
        n_out: int = 10,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.linear1 = nn.Linear(n_in, n_hidden, device=device, dtype=dtype)
        self.linear2 = nn.Linear(n_hidden, n_out, device=device, dtype=dtype)

    def forward(self, X_rows: torch.Tensor) -> torch.Tensor:
        r"""Return the logits of a batch of examples.

        $$
        Z_1^\top = X^\top W_1^\top + b_1^\top, \quad A_1^\top = \mathrm{ReLU}(Z_1^\top), \quad
        Z_2^\top = A_1^\top W_2^\top + b_2^\top
        $$

        Args:
            X_rows: Inputs of shape ``(m, n_in)``, one example per row (the transpose of the
                book's ``X``), floating point of the module's dtype.

        Returns:
            The logits ``Z2`` of shape ``(m, n_out)``: the transpose of the book's ``Z2``.
        """
        Z1 = self.linear1(X_rows)
        A1 = torch.relu(Z1)
        Z2 = self.linear2(A1)
        return Z2
# ~/~ end

# ~/~ begin <<docs/pytorch.md#torch-to-model>>[init]
def to_torch_model(
    params: Mapping[str, np.ndarray],
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | str | None = None,
) -> TwoLayerNet:
    """Build a [`TwoLayerNet`][mnist_math.torch_twin.TwoLayerNet] holding the book's weights.

    The weights keep their ``(out, in)`` layout; the biases ``(out, 1)`` become ``(out,)``.

    Args:
        params: ``{"W1": (h, n_in), "b1": (h, 1), "W2": (n_out, h), "b2": (n_out, 1)}``,
            float arrays as returned by `init_params`.
        device: Device of the new module: ``"cpu"`` (the default), ``"cuda"``, ``"mps"``,
            ``"auto"`` or a ``torch.device`` (see `select_device`).
        dtype: ``"float64"``, ``"float32"`` or a torch dtype; by default the dtype of ``W1``.

    Returns:
        A new module whose ``linear1.weight`` equals ``W1``, ``linear1.bias`` equals
        ``b1[:, 0]``, and so on.

    Raises:
        TypeError: ``params`` is not a dict of real arrays.
        ValueError: a key is missing, the shapes do not chain, or the device or dtype is unknown.
        RuntimeError: the device is not available on this machine.
    """
    params = check_params(params)
    torch_device = select_device(device)
    if dtype is None:
        dtype = str(params["W1"].dtype)
    torch_dtype = select_dtype(dtype, torch_device)
    n_hidden, n_in = params["W1"].shape
    n_out = params["W2"].shape[0]
    model = TwoLayerNet(n_in, n_hidden, n_out, device=torch_device, dtype=torch_dtype)
    with torch.no_grad():
        for layer, W, b in ((model.linear1, "W1", "b1"), (model.linear2, "W2", "b2")):
            layer.weight.copy_(torch.as_tensor(params[W]))
            layer.bias.copy_(torch.as_tensor(params[b][:, 0]))
    return model
# ~/~ end

# ~/~ begin <<docs/pytorch.md#torch-to-numpy>>[init]
def to_numpy_params(model: TwoLayerNet) -> dict[str, np.ndarray]:
    """Return the weights of a model in the book's layout, as new NumPy arrays.

    Args:
        model: A module on any device, of any floating-point dtype.

    Returns:
        A dict of new NumPy arrays of the module's dtype (float64 or float32), on the CPU,
            keyed ``W1`` (h, n_in), ``b1`` (h, 1), ``W2`` (n_out, h) and ``b2`` (n_out, 1).
    """
    params = {}
    for layer, W, b in ((model.linear1, "W1", "b1"), (model.linear2, "W2", "b2")):
        params[W] = layer.weight.detach().cpu().numpy().copy()
        params[b] = layer.bias.detach().cpu().numpy().reshape(-1, 1).copy()
    return params
# ~/~ end

# ~/~ begin <<docs/engineering.md#torch-device>>[init]
DEVICE_NAMES = "'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'"


def select_device(name: torch.device | str = "auto") -> torch.device:
    """Return the torch device to train on.

    Args:
        name: ``"auto"`` picks CUDA if available, then MPS, then the CPU; ``"cpu"``,
            ``"cuda"``, ``"cuda:<index>"`` and ``"mps"`` ask for that device; a
            ``torch.device`` is checked the same way.

    Returns:
        The device, with an explicit index for CUDA (``cuda:0``).

    Raises:
        ValueError: ``name`` is not a device name.
        RuntimeError: the device exists in PyTorch but not on this machine.
    """
    if isinstance(name, str) and name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {name!r}: use {DEVICE_NAMES}") from error
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                reason = f"this PyTorch ({torch.__version__}) was built without CUDA"
            else:
                reason = "no CUDA GPU was found"
            raise RuntimeError(
                f"device {name!r} was requested but CUDA is not available: {reason}; "
                "use device='cpu' or 'auto'"
            )
        index = torch.cuda.current_device() if device.index is None else device.index
        count = torch.cuda.device_count()
        if index >= count:
            raise RuntimeError(
                f"device {name!r} was requested but there are {count} CUDA GPU(s)"
            )
        return torch.device("cuda", index)
    if device.type == "mps":
        if not torch.backends.mps.is_available():
            raise RuntimeError(
                f"device {name!r} was requested but MPS is not available (it needs an "
                "Apple-silicon Mac and a PyTorch built with MPS); use device='cpu' or 'auto'"
            )
        return device
    raise ValueError(f"unsupported device {name!r}: use {DEVICE_NAMES}")
# ~/~ end

# ~/~ begin <<docs/engineering.md#torch-dtype>>[init]
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def select_dtype(dtype: torch.dtype | str, device: torch.device) -> torch.dtype:
    """Return the torch floating-point type for ``dtype``, checked against ``device``.

    Args:
        dtype: ``"float64"``, ``"float32"``, or the matching torch dtype.
        device: The device the tensors will live on.

    Returns:
        ``torch.float64`` or ``torch.float32``.

    Raises:
        ValueError: another dtype, or float64 on MPS.
    """
    if isinstance(dtype, torch.dtype):
        torch_dtype = dtype
    elif isinstance(dtype, str) and dtype in DTYPES:
        torch_dtype = DTYPES[dtype]
    else:
        torch_dtype = None
    if torch_dtype not in DTYPES.values():
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if device.type == "mps" and torch_dtype == torch.float64:
        raise ValueError(
            "MPS does not support float64: use dtype='float32' on this device"
        )
    return torch_dtype
# ~/~ end

# ~/~ begin <<docs/pytorch.md#torch-minibatches>>[init]
def minibatches(
    m: int, batch_size: int, *, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Yield index tensors of mini-batches forever, reshuffling after each pass over the data.

    Args:
        m: Number of examples.
        batch_size: Examples per batch, ``1 .. m``; the last batch of a pass has
            ``m % batch_size`` examples when that is not zero.
        generator: A seeded CPU generator; the same seed gives the same batches everywhere.

    Yields:
        CPU ``int64`` tensors of shape ``(batch_size,)`` (or shorter at the end of a pass).
    """
    while True:
        permutation = torch.randperm(m, generator=generator)
        for start in range(0, m, batch_size):
            yield permutation[start : start + batch_size]
# ~/~ end

# ~/~ begin <<docs/pytorch.md#torch-train>>[init]
MOMENTUM = 0.9  # the coefficient of "momentum", momentum_update's default


def train_torch(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    lr: float = 0.1,
    iterations: int = 500,
    n_hidden: int = 10,
    seed: int = 0,
    optimizer: str = "sgd",
    batch_size: int | None = None,
    batch_order: Sequence[np.ndarray] | None = None,
    schedule: str = "constant",
    device: torch.device | str = "auto",
    dtype: torch.dtype | str | None = None,
    params: Mapping[str, np.ndarray] | None = None,
    record_every: int = 10,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Train the book's network with PyTorch autograd and ``torch.optim``.

    The twin of [`gradient_descent`][mnist_math.train.gradient_descent]: by default it starts
    from ``init_params(n_in, n_hidden, 10, seed=seed)`` and runs full-batch SGD, which gives
    the same weights as the NumPy trainer up to rounding. One iteration is one optimizer step;
    with ``batch_size`` it uses one mini-batch, drawn without replacement from a permutation
    of the examples that is redrawn (seeded by ``seed``) after every pass over the data.

    Args:
        X: Inputs of shape ``(n_in, m)``, one example per column, real numbers (the book's
            layout; they are transposed to rows on the device).
        Y: Labels of shape ``(m,)``, integers in ``0 .. 9``.
        lr: Learning rate, positive.
        iterations: Number of optimizer steps, at least 1.
        n_hidden: Hidden units h, used when ``params`` is not given.
        seed: Seed of the NumPy initial weights and of the mini-batch shuffling.
        optimizer: ``"sgd"`` (plain gradient descent, no momentum), ``"momentum"`` (SGD
            with momentum ``MOMENTUM`` = 0.9) or ``"adam"``.
        batch_size: Examples per step, ``1 .. m``; ``None`` (the default) uses all ``m``.
        batch_order: The examples of every step, one index array per iteration (at least
            ``iterations`` of them), such as ``minibatch_order(...)`` of "Going further",
            to follow the same batches as ``train_minibatch``; not with ``batch_size``.
        schedule: ``"constant"`` or ``"cosine"``: the learning rate decays over the
            ``iterations`` steps as ``torch.optim.lr_scheduler.CosineAnnealingLR``, the
            schedule of ``train_minibatch``.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
            ``"mps"`` or a ``torch.device``.
        dtype: ``"float64"`` or ``"float32"``; by default the dtype of ``X`` (float64 for
            integer inputs), so that the twin computes in the dtype it is given.
        params: Starting weights ``{"W1": (h, n_in), "b1": (h, 1), "W2": (10, h),
            "b2": (10, 1)}`` (not modified); by default drawn by ``init_params``.
        record_every: Record the loss and accuracy every that many iterations.
        progress: Show a progress bar with the iteration, loss and accuracy.

    Returns:
        ``(params, history)``, as ``gradient_descent`` returns them: the trained weights in
        the book's layout (NumPy arrays of the chosen dtype) and ``{"iteration": [...],
        "loss": [...], "accuracy": [...]}`` with the loss and training accuracy on all
        ``m`` examples *before* the update of iterations ``0, record_every,
        2 * record_every, ...`` and the last one. ``select_device(device)`` names the
        device used.

    Raises:
        TypeError: ``X``, ``Y``, ``params``, ``lr``, the seed or a count has the wrong type.
        ValueError: a shape, a label, a knob, the device name or the dtype is invalid.
        RuntimeError: the requested device is not available on this machine.
        DivergenceError: the loss or the weights became NaN or infinite, or the loss ended
            far above where it started; the exception carries the last finite parameters.
    """
    # ~/~ begin <<docs/engines.md#torch-train-checks>>[init]
    if params is not None:
        params = check_params(params)
        n_in = params["W1"].shape[1]
        n_out = params["W2"].shape[0]
    else:
        n_in = None
        n_out = 10
    X, Y, lr, seed = check_training_inputs(
        X,
        Y,
        lr=lr,
        seed=seed,
        rows=n_in,
        n_classes=n_out,
        optimizer=optimizer,
        schedule=schedule,
        iterations=iterations,
        n_hidden=n_hidden,
        record_every=record_every,
    )
    m = X.shape[1]
    if batch_size is not None:
        check_count("batch_size", batch_size, at_most=m)
    if batch_order is not None:
        if batch_size is not None:
            raise ValueError("pass batch_size or batch_order, not both")
        if len(batch_order) < iterations:
            raise ValueError(
                f"batch_order has {len(batch_order)} batches for {iterations} iterations"
            )
        for index in batch_order[:iterations]:
            index = np.asarray(index)
            if (
                not np.issubdtype(index.dtype, np.integer)
                or index.ndim != 1
                or index.size == 0
            ):
                raise ValueError(
                    "batch_order must hold non-empty 1-D arrays of example indices"
                )
            if index.min() < 0 or index.max() >= m:
                raise ValueError(f"batch_order holds an index outside 0..{m - 1}")
    # ~/~ end
    # ~/~ begin <<docs/pytorch.md#torch-train-setup>>[init]
    torch_device = select_device(device)
    torch_dtype = select_dtype(str(X.dtype) if dtype is None else dtype, torch_device)
    if params is None:
        numpy_dtype = np.float64 if torch_dtype == torch.float64 else np.float32
        params = init_params(X.shape[0], n_hidden, n_out, seed=seed, dtype=numpy_dtype)
    model = to_torch_model(params, device=torch_device, dtype=torch_dtype)
    X_rows = torch.as_tensor(X, dtype=torch_dtype, device=torch_device).T.contiguous()
    Y_rows = torch.as_tensor(Y, dtype=torch.int64, device=torch_device)
    if optimizer == "sgd":
        optim = torch.optim.SGD(model.parameters(), lr=lr)
    elif optimizer == "momentum":
        optim = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    else:
        optim = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = None
    if schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=iterations)
    if batch_order is not None:
        batches = (torch.as_tensor(np.asarray(index)) for index in batch_order)
    elif batch_size is None:
        batches = None
    else:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        batches = minibatches(m, batch_size, generator=generator)
    # ~/~ end
    # ~/~ begin <<docs/pytorch.md#torch-train-loop>>[init]
    last_finite = to_numpy_params(model)
    run = TrainingRun(iterations, lr=lr, record_every=record_every, progress=progress)
    with run:
        for iteration in run.steps():
            if batches is None:
                X_batch, Y_batch = X_rows, Y_rows
            else:
                index = next(batches).to(torch_device)
                X_batch, Y_batch = X_rows[index], Y_rows[index]
            Z2_rows = model(X_batch)
            loss = F.cross_entropy(Z2_rows, Y_batch)
            # ~/~ begin <<docs/engines.md#torch-train-record>>[init]
            if run.due(iteration):
                if batches is None:
                    all_logits, all_loss = Z2_rows.detach(), loss.detach()
                else:
                    with torch.no_grad():
                        all_logits = model(X_rows)
                        all_loss = F.cross_entropy(all_logits, Y_rows)
                correct = (all_logits.argmax(dim=1) == Y_rows).sum().item()
                run.record(iteration, all_loss.item(), correct / m, last_finite)
            elif not torch.isfinite(loss):
                run.watch(iteration, {"loss": loss.item()}, ("loss",), last_finite)
            # ~/~ end
            optim.zero_grad()
            loss.backward()
            optim.step()
            if scheduler is not None:
                scheduler.step()
            stepped = to_numpy_params(model)
            run.watch(iteration, stepped, PARAM_NAMES, last_finite)
            last_finite = stepped
    # ~/~ end
    return to_numpy_params(model), run.history
# ~/~ end
# ~/~ end