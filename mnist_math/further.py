# ~/~ begin <<docs/going-further.md#mnist_math/further.py>>[init]
"""Going further: mini-batches, momentum, Adam, a cosine schedule and a recipe for 98%.

Tangled from the book's chapter "11. Going further" (docs/going-further.md).
"""

from collections.abc import Callable, Mapping

import numpy as np
from tqdm.auto import tqdm

from ._checks import (
    PARAM_NAMES,
    check_count,
    check_finite,
    check_fraction,
    check_labels,
    check_loss,
    check_matrix,
    check_params,
    check_rate,
    check_same_dtype,
    check_seed,
    warn_if_not_pixels,
)
from .backward import backward_prop
from .forward import forward_prop
from .loss import cross_entropy
from .train import GRADIENT_NAMES, get_predictions, starting_params, update_params

# ~/~ begin <<docs/going-further.md#further-batches>>[init]
SHUFFLE_STREAM = 1  # the shuffles' generator is seeded by (seed, SHUFFLE_STREAM)


def minibatch_order(
    m: int, batch_size: int, *, epochs: int, seed: int
) -> list[np.ndarray]:
    """The mini-batches of a run: a fresh seeded shuffle of the m examples every epoch.

    Each epoch draws a permutation of ``0 .. m-1`` and cuts it into consecutive batches of
    ``batch_size`` (the last one shorter when ``batch_size`` does not divide ``m``), so
    each batch is a uniformly random subset and its gradient is an unbiased estimate of the
    full-batch gradient ([the mini-batch gradient][eq-minibatch-gradient]). With
    ``batch_size == m`` the one batch of each epoch is ``0 .. m-1`` in order.

    Args:
        m: Number of examples, at least 1.
        batch_size: Examples per batch $b$, ``1 .. m``.
        epochs: Number of passes over the data, at least 1.
        seed: An integer >= 0; the same seed gives the same batches.

    Returns:
        A list of ``epochs * ceil(m / batch_size)`` index arrays, int64, in the order of the
            steps; epoch ``e`` (from 0) is the slice ``[e * n, (e + 1) * n)`` with
            ``n = ceil(m / batch_size)``.

    Raises:
        ValueError: a count is not a positive integer, ``batch_size`` exceeds ``m``, or the
            seed is not an integer >= 0.
    """
    m = check_count("m", m)
    batch_size = check_count("batch_size", batch_size, at_most=m)
    epochs = check_count("epochs", epochs)
    seed = check_seed(seed)
    if batch_size == m:
        return [np.arange(m) for _ in range(epochs)]
    rng = np.random.default_rng((seed, SHUFFLE_STREAM))
    order = []
    for _ in range(epochs):
        permutation = rng.permutation(m)
        for start in range(0, m, batch_size):
            order.append(permutation[start : start + batch_size])
    return order
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-update-checks>>[init]
def check_update_inputs(
    params: object, grads: object, state: object, prefixes: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Check the arguments of an optimizer update; return the checked parameters.

    Every ``"d" + name`` of ``grads`` and every ``prefix + name`` of ``state`` (for each
    name ``W1, b1, W2, b2`` and each prefix) must be a finite array with the shape and the
    dtype of ``params[name]``.

    Raises:
        TypeError: ``grads`` or ``state`` is not a dict, or an array has another dtype.
        ValueError: an array is missing, has the wrong shape or holds NaN or infinity.
    """
    params = check_params(params)
    for label, source in (("grads", grads), ("state", state)):
        if not isinstance(source, Mapping):
            kind = type(source).__name__
            raise TypeError(f"{label} must be a dict of arrays, got {kind}")
    for name in PARAM_NAMES:
        keys = [("grads", grads, "d" + name)]
        keys += [("state", state, prefix + name) for prefix in prefixes]
        for label, source, key in keys:
            if key not in source:
                raise ValueError(
                    f"{label} has no {key!r}: pass the dict the book returns"
                )
            value = check_matrix(key, source[key])
            shape = params[name].shape
            if value.shape != shape:
                raise ValueError(f"{key} has shape {value.shape}, {name} has {shape}")
            check_same_dtype(key, value, params[name].dtype)
    return params
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-momentum>>[init]
def init_momentum(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The velocity of momentum before the first step: zeros shaped like the parameters.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.

    Returns:
        A new dict ``{"vW1", "vb1", "vW2", "vb2"}`` of zero arrays with the shapes and the
            dtype of the parameters.

    Raises:
        TypeError, ValueError: ``params`` is not a valid parameter dict.
    """
    params = check_params(params)
    return {"v" + name: np.zeros_like(params[name]) for name in PARAM_NAMES}


def momentum_update(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    state: dict[str, np.ndarray],
    lr: float,
    momentum: float = 0.9,
    *,
    validate: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""One step of gradient descent with momentum, PyTorch's convention.

    Implements [the momentum update][eq-momentum]: $v \leftarrow \mu v + g$,
    $\theta \leftarrow \theta - \alpha v$ for each parameter $\theta$ and its gradient $g$,
    as ``torch.optim.SGD(lr=lr, momentum=momentum)`` does.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        grads: ``dW1, db1, dW2, db2`` with the shapes and dtype of the parameters (as
            returned by ``backward_prop``), finite.
        state: The velocity ``vW1, vb1, vW2, vb2`` from ``init_momentum`` or the previous
            step, shapes and dtype of the parameters.
        lr: Learning rate $\alpha > 0$.
        momentum: Momentum coefficient $\mu$ in [0, 1); 0 gives plain gradient descent.
        validate: Check the arguments first; the trainer, which checks its data once,
            passes False.

    Returns:
        ``(new_params, new_state)``: new dicts of new arrays of the parameters' dtype; the
            arguments are not modified.

    Raises:
        TypeError: a value has the wrong type, or an array's dtype is not the parameters'.
        ValueError: ``lr`` or ``momentum`` is out of range, or an array is missing, has the
            wrong shape or holds NaN or infinity.
    """
    if validate:
        lr = check_rate("lr", lr)
        momentum = check_fraction("momentum", momentum)
        params = check_update_inputs(params, grads, state, ("v",))
    new_params = {}
    new_state = {}
    for name in PARAM_NAMES:
        velocity = momentum * state["v" + name] + grads["d" + name]
        new_state["v" + name] = velocity
        new_params[name] = params[name] - lr * velocity
    return new_params, new_state
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-adam>>[init]
def init_adam(params: dict[str, np.ndarray]) -> dict[str, np.ndarray | int]:
    """The state of Adam before the first step: ``t = 0`` and zero averages.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.

    Returns:
        A new dict with ``t`` (0), and ``vW1, vb1, vW2, vb2`` (the velocity) and ``sW1,
            sb1, sW2, sb2`` (the mean square), zero arrays shaped like the parameters.

    Raises:
        TypeError, ValueError: ``params`` is not a valid parameter dict.
    """
    params = check_params(params)
    state: dict[str, np.ndarray | int] = {"t": 0}
    for name in PARAM_NAMES:
        state["v" + name] = np.zeros_like(params[name])
        state["s" + name] = np.zeros_like(params[name])
    return state


def adam_update(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    state: dict[str, np.ndarray | int],
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    *,
    validate: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | int]]:
    r"""One step of Adam, PyTorch's convention.

    Implements [the moments][eq-adam-moments], [the correction][eq-adam-bias-correction]
    and [the update][eq-adam-update] for each parameter $\theta$ with gradient $g$:

    $$
    \begin{aligned}
    v &\leftarrow \beta_1 v + (1 - \beta_1) g, &
    s &\leftarrow \beta_2 s + (1 - \beta_2) g^2, \\
    \hat v &= v / (1 - \beta_1^t), & \hat s &= s / (1 - \beta_2^t), \\
    \theta &\leftarrow \theta - \alpha\, \hat v / (\sqrt{\hat s} + \epsilon), & &
    \end{aligned}
    $$

    as ``torch.optim.Adam(lr=lr, betas=(beta1, beta2), eps=eps)`` does.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        grads: ``dW1, db1, dW2, db2`` with the shapes and dtype of the parameters, finite.
        state: From ``init_adam`` or the previous step: ``t`` (the number of steps taken, an
            integer >= 0), ``vW1 ... vb2`` and ``sW1 ... sb2`` shaped like the parameters.
        lr: Learning rate $\alpha > 0$.
        beta1: Decay rate $\beta_1$ of the velocity, in [0, 1).
        beta2: Decay rate $\beta_2$ of the mean square, in [0, 1).
        eps: $\epsilon > 0$, added to $\sqrt{\hat s}$.
        validate: Check the arguments first; the trainer passes False.

    Returns:
        ``(new_params, new_state)``: new dicts of new arrays, ``new_state["t"]`` one more
            than ``state["t"]``; the arguments are not modified.

    Raises:
        TypeError: a value has the wrong type, or an array's dtype is not the parameters'.
        ValueError: a rate is out of range, the step count is not an integer >= 0, or an
            array is missing, has the wrong shape or holds NaN or infinity.
    """
    if validate:
        lr = check_rate("lr", lr)
        beta1 = check_fraction("beta1", beta1)
        beta2 = check_fraction("beta2", beta2)
        eps = check_rate("eps", eps)
        params = check_update_inputs(params, grads, state, ("v", "s"))
        step = state.get("t")
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"state['t'] must be the integer step count, got {step!r}")
        if step < 0:
            raise ValueError(f"state['t'] must be 0 or more (steps taken), got {step}")
    t = int(state["t"]) + 1
    new_params = {}
    new_state: dict[str, np.ndarray | int] = {"t": t}
    for name in PARAM_NAMES:
        g = grads["d" + name]
        # ~/~ begin <<docs/going-further.md#further-adam-moments>>[init]
        v = beta1 * state["v" + name] + (1 - beta1) * g
        s = beta2 * state["s" + name] + (1 - beta2) * g**2
        # ~/~ end
        # ~/~ begin <<docs/going-further.md#further-adam-correction>>[init]
        v_hat = v / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        # ~/~ end
        # ~/~ begin <<docs/going-further.md#further-adam-step>>[init]
        new_params[name] = params[name] - lr * v_hat / (np.sqrt(s_hat) + eps)
        # ~/~ end
        new_state["v" + name] = v
        new_state["s" + name] = s
    return new_params, new_state
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-schedule>>[init]
SCHEDULES = ("constant", "cosine")


def cosine_lr(lr: float, step: int, total_steps: int) -> float:
    r"""The learning rate of step ``step`` of ``total_steps`` under the cosine schedule.

    Implements [the cosine schedule][eq-cosine-schedule]:
    $\alpha_t = \frac{\alpha}{2} \left(1 + \cos \frac{\pi t}{T}\right)$, as
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps)``.

    Args:
        lr: The initial learning rate $\alpha > 0$.
        step: The step $t$, counted from 0, in ``0 .. total_steps - 1``.
        total_steps: The number of steps $T$ of the run, at least 1.

    Returns:
        The learning rate $\alpha_t$, a float in (0, lr].

    Raises:
        ValueError: ``step`` or ``total_steps`` is out of range, or ``lr`` is not positive.
    """
    lr = check_rate("lr", lr)
    total_steps = check_count("total_steps", total_steps)
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an integer in 0..{total_steps - 1}, got {step!r}")
    if not 0 <= step < total_steps:
        raise ValueError(f"step must be an integer in 0..{total_steps - 1}, got {step}")
    return float(lr / 2 * (1 + np.cos(np.pi * step / total_steps)))
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-evaluate>>[init]
EVALUATION_CHUNK = 10_000  # columns per forward pass when measuring loss and accuracy


def evaluate(
    params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> tuple[float, float]:
    """The mean cross-entropy loss and the accuracy of ``params`` on all columns of ``X``.

    Works through ``X`` in chunks of ``EVALUATION_CHUNK`` columns and adds up; the inputs
    are not checked (the trainer checked them).

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1) of ``X``'s dtype.
        X: Inputs, shape (n, m).
        Y: Labels, shape (m,), integers in ``0 .. k - 1``.

    Returns:
        ``(loss, accuracy)``, two floats; the loss is NaN when the network's outputs are
            not finite (diverged weights).
    """
    m = X.shape[1]
    total_loss = 0.0
    correct = 0
    for start in range(0, m, EVALUATION_CHUNK):
        X_chunk = X[:, start : start + EVALUATION_CHUNK]
        Y_chunk = Y[start : start + EVALUATION_CHUNK]
        with np.errstate(over="ignore", invalid="ignore"):
            A2 = forward_prop(params, X_chunk, validate=False)["A2"]
        if not np.all(np.isfinite(A2)):
            return float("nan"), float(np.mean(get_predictions(A2) == Y_chunk))
        total_loss += cross_entropy(A2, Y_chunk) * X_chunk.shape[1]
        correct += int(np.sum(get_predictions(A2) == Y_chunk))
    return total_loss / m, correct / m
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-train>>[init]
OPTIMIZERS = ("sgd", "momentum", "adam")


def train_minibatch(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_hidden: int = 256,
    batch_size: int = 128,
    epochs: int = 8,
    optimizer: str = "momentum",
    lr: float = 0.2,
    scheme: str = "he",
    seed: int = 0,
    schedule: str = "cosine",
    momentum: float = 0.9,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    params: dict[str, np.ndarray] | None = None,
    callback: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    r"""Train the network by mini-batch gradient descent, with momentum or Adam.

    The defaults are the book's best recipe, ``RECIPES["best"]``. Each epoch shuffles the
    examples (seeded, [the mini-batch gradient][eq-minibatch-gradient]) and takes one step
    per batch of ``batch_size``: ``update_params`` for ``"sgd"``, ``momentum_update`` or
    ``adam_update``, at the rate of the schedule.

    Args:
        X: Training inputs, shape (n, m), floats in [0, 1]; its dtype, float64 or float32,
            is the training dtype.
        Y: Training labels, shape (m,), integers in 0..9.
        n_hidden: Hidden units $h$ (ignored when ``params`` is given).
        batch_size: Examples per step $b$, ``1 .. m``; ``m`` gives full-batch steps.
        epochs: Passes over the training set.
        optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
        lr: Learning rate $\alpha$ (the initial one under the cosine schedule).
        scheme: ``init_params`` scheme, ``"he"`` or ``"uniform"``.
        seed: An integer >= 0, seed of the initial weights and of the shuffles.
        schedule: ``"constant"`` or ``"cosine"`` (over all the steps of the run).
        momentum: Momentum coefficient $\mu$ in [0, 1) of ``"momentum"``.
        X_test: Test inputs (n, m_test), to record the test accuracy after every epoch.
        Y_test: Test labels (m_test,), given together with ``X_test``.
        params: Start from these parameters instead of ``init_params(...)``; converted once
            to ``X``'s dtype; not modified.
        callback: Called after every step as ``callback(steps_so_far, params)``.
        progress: Show a progress bar and one line per epoch.

    Returns:
        The pair ``(params, history)``: the trained ``W1, b1, W2, b2`` (of ``X``'s dtype)
            and a dict of equal-length lists, one entry per epoch, measured after it:
            ``epoch`` (1, 2, ...), ``iteration`` (optimizer steps so far), ``loss`` and
            ``accuracy`` on the whole training set, and ``test_accuracy`` when ``X_test``
            is given.

    Raises:
        TypeError, ValueError: invalid data, labels, parameters or settings.
        DivergenceError: the loss or the weights became NaN or infinite, or the loss ended
            far above where it started; the exception carries the last finite parameters.
    """
    # ~/~ begin <<docs/going-further.md#further-train-checks>>[init]
    X = check_matrix("X", X)
    m = X.shape[1]
    Y = check_labels("Y", Y, n_classes=10, m=m)
    check_count("n_hidden", n_hidden)
    batch_size = check_count("batch_size", batch_size, at_most=m)
    epochs = check_count("epochs", epochs)
    lr = check_rate("lr", lr)
    seed = check_seed(seed)
    momentum = check_fraction("momentum", momentum)
    if optimizer not in OPTIMIZERS:
        known = ", ".join(OPTIMIZERS)
        raise ValueError(f"optimizer must be one of {known}, got {optimizer!r}")
    if schedule not in SCHEDULES:
        known = ", ".join(SCHEDULES)
        raise ValueError(f"schedule must be one of {known}, got {schedule!r}")
    if (X_test is None) != (Y_test is None):
        raise ValueError("pass X_test and Y_test together, or neither")
    if X_test is not None:
        X_test = check_matrix("X_test", X_test, rows=X.shape[0])
        X_test = X_test.astype(X.dtype, copy=False)
        Y_test = check_labels("Y_test", Y_test, n_classes=10, m=X_test.shape[1])
    warn_if_not_pixels(X)
    # ~/~ end
    # ~/~ begin <<docs/going-further.md#further-train-setup>>[init]
    params = starting_params(params, X, n_hidden=n_hidden, seed=seed, scheme=scheme)
    full_batch = batch_size == m
    # (m, n): one image per row, its 784 pixels side by side in memory
    X_rows = None if full_batch else np.ascontiguousarray(X.T)
    order = minibatch_order(m, batch_size, epochs=epochs, seed=seed)
    steps_per_epoch = len(order) // epochs
    total_steps = len(order)
    if optimizer == "momentum":
        state = init_momentum(params)
    elif optimizer == "adam":
        state = init_adam(params)
    history: dict[str, list] = {"epoch": [], "iteration": [], "loss": [], "accuracy": []}
    if X_test is not None:
        history["test_accuracy"] = []
    # ~/~ end
    # ~/~ begin <<docs/going-further.md#further-train-loop>>[init]
    first_loss = None
    bar = tqdm(total=total_steps, desc="training", unit="step", disable=not progress)
    for epoch in range(1, epochs + 1):
        for step in range((epoch - 1) * steps_per_epoch, epoch * steps_per_epoch):
            index = order[step]
            X_batch = X if full_batch else X_rows[index].T
            Y_batch = Y if full_batch else Y[index]
            rate = cosine_lr(lr, step, total_steps) if schedule == "cosine" else lr
            # Overflow is caught by the divergence checks below, not reported as warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                cache = forward_prop(params, X_batch, validate=False)
                if first_loss is None:
                    check_finite(cache, ("A2",), iteration=step, lr=lr, params=params)
                    first_loss = cross_entropy(cache["A2"], Y_batch)
                grads = backward_prop(params, cache, X_batch, Y_batch, validate=False)
                check_finite(grads, GRADIENT_NAMES, iteration=step, lr=lr, params=params)
                if optimizer == "sgd":
                    new_params = update_params(params, grads, rate)
                elif optimizer == "momentum":
                    new_params, state = momentum_update(
                        params, grads, state, rate, momentum, validate=False
                    )
                else:
                    new_params, state = adam_update(
                        params, grads, state, rate, validate=False
                    )
                check_finite(new_params, PARAM_NAMES, iteration=step, lr=lr, params=params)
            params = new_params
            if callback is not None:
                callback(step + 1, params)
            bar.update()
        # ~/~ begin <<docs/going-further.md#further-train-record>>[init]
        loss, train_accuracy = evaluate(params, X, Y)
        final = epoch == epochs
        check_loss(loss, first_loss=first_loss, iteration=step, lr=lr, params=params, final=final)
        history["epoch"].append(epoch)
        history["iteration"].append(step + 1)
        history["loss"].append(loss)
        history["accuracy"].append(train_accuracy)
        line = f"epoch {epoch}/{epochs}: loss {loss:.4f}, "
        line += f"training accuracy {train_accuracy:.2%}"
        if X_test is not None:
            test_accuracy = evaluate(params, X_test, Y_test)[1]
            history["test_accuracy"].append(test_accuracy)
            line += f", test accuracy {test_accuracy:.2%}"
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{train_accuracy:.2%}")
        if progress:
            bar.write(line)
        # ~/~ end
    bar.close()
    # ~/~ end
    return params, history
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-recipes>>[init]
# Settings of train_minibatch; train on float32 inputs. "best" is the defaults'
# recipe (>= 98% test accuracy in seconds), "long" the longer run of the chapter.
RECIPES = {
    "best": {
        "n_hidden": 256,
        "batch_size": 128,
        "epochs": 8,
        "optimizer": "momentum",
        "lr": 0.2,
        "scheme": "he",
        "schedule": "cosine",
        "momentum": 0.9,
    },
    "long": {
        "n_hidden": 800,
        "batch_size": 128,
        "epochs": 20,
        "optimizer": "momentum",
        "lr": 0.2,
        "scheme": "he",
        "schedule": "cosine",
        "momentum": 0.9,
    },
}
# ~/~ end
# ~/~ end