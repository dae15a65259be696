# ~/~ begin <<docs/going-further.md#mnist_math/further.py>>[init]
"""Going further: a validation split, mini-batches, momentum, Adam, schedules, a recipe.

Tangled from the book's chapter "11. Going further" (docs/going-further.md) and its
appendix "Going further: the machinery" (docs/further-machinery.md).
"""

# ~/~ begin <<docs/further-machinery.md#further-imports>>[init]
import os
from collections.abc import Callable, Mapping
from functools import partial

import numpy as np
from threadpoolctl import threadpool_limits

from ._checks import (
    PARAM_NAMES,
    check_count,
    check_fraction,
    check_labels,
    check_matrix,
    check_params,
    check_rate,
    check_same_dtype,
    check_seed,
)
from ._training import TrainingRun, check_training_inputs, starting_params
from .backward import backward_prop
from .forward import forward_prop
from .loss import cross_entropy
from .train import get_predictions, update_params

# Overflow inside a training step is caught by the divergence watch, not warned about.
QUIET = {"over": "ignore", "invalid": "ignore"}  # np.errstate of the training loop
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-split>>[init]
VALIDATION_SIZE = 10_000  # the last 10,000 training images: the validation split


def validation_split(
    X: np.ndarray, Y: np.ndarray, size: int = VALIDATION_SIZE
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    # ~/~ begin <<docs/further-machinery.md#further-split-doc>>[init]
    """Hold out the last ``size`` training examples: ``((X_fit, Y_fit), (X_val, Y_val))``.

    The split is fixed, not random, so that every run measures on the same images. The
    results are views of ``X`` and ``Y``, not copies.

    Args:
        X: Training inputs, shape (n, m), one example per column.
        Y: Training labels, shape (m,).
        size: Examples held out, ``1 .. m - 1``.

    Raises:
        ValueError: ``X`` and ``Y`` disagree on m, or ``size`` is out of range.
    """
    # ~/~ end
    m = X.shape[1]
    if Y.shape != (m,):
        raise ValueError(f"Y has shape {Y.shape}, X has {m} columns")
    size = check_count("size", size, at_most=m - 1)
    cut = m - size
    return (X[:, :cut], Y[:cut]), (X[:, cut:], Y[cut:])
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-batches>>[init]
SHUFFLE_STREAM = 1  # the shuffles' generator is seeded by (seed, SHUFFLE_STREAM)


def minibatch_order(
    m: int, batch_size: int, *, epochs: int, seed: int
) -> list[np.ndarray]:
    # ~/~ begin <<docs/further-machinery.md#further-batches-doc>>[init]
    """The mini-batches of a run: a fresh seeded shuffle of the m examples every epoch.

    Each epoch cuts a permutation of ``0 .. m-1`` into consecutive batches of
    ``batch_size`` (the last one shorter when ``batch_size`` does not divide ``m``), so
    each batch's gradient is an unbiased estimate of the full-batch gradient
    ([the mini-batch gradient][eq-minibatch-gradient]). With ``batch_size == m`` the one
    batch of each epoch is ``0 .. m-1`` in order.

    Args:
        m: Number of examples, at least 1.
        batch_size: Examples per batch $B$, ``1 .. m``.
        epochs: Number of passes over the data, at least 1.
        seed: An integer >= 0; the same seed gives the same batches.

    Returns:
        ``epochs * ceil(m / batch_size)`` int64 index arrays, in the order of the steps.

    Raises:
        ValueError: a count is not a positive integer, ``batch_size`` exceeds ``m``, or the
            seed is not an integer >= 0.
    """
    # ~/~ end
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

# ~/~ begin <<docs/further-machinery.md#further-momentum>>[init]
def momentum_update(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    state: dict[str, np.ndarray],
    lr: float,
    momentum: float = 0.9,
    *,
    validate: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    # ~/~ begin <<docs/further-machinery.md#further-momentum-doc>>[init]
    r"""One step of gradient descent with momentum, PyTorch's convention.

    Implements [the momentum update][eq-momentum]: $q \leftarrow \mu q + \nabla$,
    $\theta \leftarrow \theta - \alpha q$ for each parameter $\theta$ and its gradient
    $\nabla$, as ``torch.optim.SGD(lr=lr, momentum=momentum)`` does.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        grads: ``dW1, db1, dW2, db2`` with the shapes and dtype of the parameters (as
            returned by ``backward_prop``), finite.
        state: The velocity ``qW1, qb1, qW2, qb2`` from ``init_momentum`` or the previous
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
    # ~/~ end
    if validate:
        lr = check_rate("lr", lr)
        momentum = check_fraction("momentum", momentum)
        params = check_update_inputs(params, grads, state, ("q",))
    new_params = {}
    new_state = {}
    # ~/~ begin <<docs/going-further.md#further-momentum-step>>[init]
    for name in PARAM_NAMES:
        velocity = momentum * state["q" + name] + grads["d" + name]
        new_state["q" + name] = velocity
        new_params[name] = params[name] - lr * velocity
    # ~/~ end
    return new_params, new_state
# ~/~ end

# ~/~ begin <<docs/further-machinery.md#further-adam>>[init]
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
    # ~/~ begin <<docs/further-machinery.md#further-adam-doc>>[init]
    r"""One step of Adam, PyTorch's convention.

    Implements [the moments][eq-adam-moments], [the correction][eq-adam-bias-correction]
    and [the update][eq-adam-update] for each parameter $\theta$ with gradient $\nabla$:

    $$
    \begin{aligned}
    \phi &\leftarrow \beta_1 \phi + (1 - \beta_1) \nabla, &
    v &\leftarrow \beta_2 v + (1 - \beta_2) \nabla^2, \\
    \hat \phi &= \phi / (1 - \beta_1^t), & \hat v &= v / (1 - \beta_2^t), \\
    \theta &\leftarrow \theta - \alpha\, \hat \phi / (\sqrt{\hat v} + \delta), & &
    \end{aligned}
    $$

    as ``torch.optim.Adam(lr=lr, betas=(beta1, beta2), eps=eps)`` does ($\phi$ is its
    ``exp_avg``, $v$ its ``exp_avg_sq``).

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.
        grads: ``dW1, db1, dW2, db2`` with the shapes and dtype of the parameters, finite.
        state: From ``init_adam`` or the previous step: ``t`` (the number of steps taken, an
            integer >= 0), ``phiW1 ... phib2`` and ``vW1 ... vb2`` shaped like the
            parameters.
        lr: Learning rate $\alpha > 0$.
        beta1: Decay rate $\beta_1$ of the first moment, in [0, 1).
        beta2: Decay rate $\beta_2$ of the second moment, in [0, 1).
        eps: $\delta > 0$, added to $\sqrt{\hat v}$.
        validate: Check the arguments first; the trainer passes False.

    Returns:
        ``(new_params, new_state)``: new dicts of new arrays, ``new_state["t"]`` one more
            than ``state["t"]``; the arguments are not modified.

    Raises:
        TypeError: a value has the wrong type, or an array's dtype is not the parameters'.
        ValueError: a rate is out of range, the step count is not an integer >= 0, or an
            array is missing, has the wrong shape or holds NaN or infinity.
    """
    # ~/~ end
    # ~/~ begin <<docs/further-machinery.md#further-adam-checks>>[init]
    if validate:
        lr = check_rate("lr", lr)
        beta1 = check_fraction("beta1", beta1)
        beta2 = check_fraction("beta2", beta2)
        eps = check_rate("eps", eps)
        params = check_update_inputs(params, grads, state, ("phi", "v"))
        step = state.get("t")
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"state['t'] must be the integer step count, got {step!r}")
        if step < 0:
            raise ValueError(f"state['t'] must be 0 or more (steps taken), got {step}")
    # ~/~ end
    t = int(state["t"]) + 1
    new_params = {}
    new_state: dict[str, np.ndarray | int] = {"t": t}
    for name in PARAM_NAMES:
        gradient = grads["d" + name]
        # ~/~ begin <<docs/going-further.md#further-adam-moments>>[init]
        phi = beta1 * state["phi" + name] + (1 - beta1) * gradient
        v = beta2 * state["v" + name] + (1 - beta2) * gradient**2
        # ~/~ end
        # ~/~ begin <<docs/going-further.md#further-adam-correction>>[init]
        phi_hat = phi / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        # ~/~ end
        # ~/~ begin <<docs/going-further.md#further-adam-step>>[init]
        new_params[name] = params[name] - lr * phi_hat / (np.sqrt(v_hat) + eps)
        # ~/~ end
        new_state["phi" + name] = phi
        new_state["v" + name] = v
    return new_params, new_state
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-schedule>>[init]
def cosine_lr(lr: float, step: int, total_steps: int) -> float:
    # ~/~ begin <<docs/further-machinery.md#further-cosine-doc>>[init]
    r"""The learning rate of step ``step`` of ``total_steps`` under the cosine schedule.

    Implements [the cosine schedule][eq-cosine-schedule] without warm-up:
    $\alpha_t = \frac{\alpha}{2} \left(1 + \cos \frac{\pi t}{T}\right)$, as
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps)``.

    Args:
        lr: The initial learning rate $\alpha > 0$.
        step: The step $t$, counted from 0, in ``0 .. total_steps - 1``.
        total_steps: The number of steps $T$ of the run, at least 1.

    Raises:
        ValueError: ``step`` or ``total_steps`` is out of range, or ``lr`` is not positive.
    """
    # ~/~ end
    # ~/~ begin <<docs/further-machinery.md#further-schedule-checks>>[init]
    lr = check_rate("lr", lr)
    total_steps = check_count("total_steps", total_steps)
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an integer in 0..{total_steps - 1}, got {step!r}")
    if not 0 <= step < total_steps:
        raise ValueError(f"step must be an integer in 0..{total_steps - 1}, got {step}")
    # ~/~ end
    return float(lr / 2 * (1 + np.cos(np.pi * step / total_steps)))


def scheduled_lr(
    lr: float, step: int, total_steps: int, schedule: str, warmup_steps: int = 0
) -> float:
    # ~/~ begin <<docs/further-machinery.md#further-scheduled-doc>>[init]
    r"""The learning rate $\alpha_t$ of step ``step``: warm-up, then ``schedule``.

    Implements [the schedule][eq-cosine-schedule]: $\alpha (t + 1) / T_{\mathrm{w}}$ for
    the first ``warmup_steps`` steps, then ``cosine_lr`` over the remaining steps, or
    ``lr`` itself when ``schedule`` is ``"constant"``. The inputs are not checked (the
    trainer checked them).
    """
    # ~/~ end
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return lr
    return cosine_lr(lr, step - warmup_steps, total_steps - warmup_steps)
# ~/~ end

# ~/~ begin <<docs/further-machinery.md#further-train>>[init]
def train_minibatch(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_hidden: int = 256,
    batch_size: int = 128,
    epochs: int = 4,
    optimizer: str = "momentum",
    lr: float = 0.3,
    scheme: str = "he",
    seed: int = 0,
    schedule: str = "cosine",
    warmup: float = 0.2,
    momentum: float = 0.9,
    X_val: np.ndarray | None = None,
    Y_val: np.ndarray | None = None,
    params: dict[str, np.ndarray] | None = None,
    callback: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    progress: bool = False,
    threads: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    # ~/~ begin <<docs/further-machinery.md#further-train-doc>>[init]
    r"""Train the network by mini-batch gradient descent, with momentum or Adam.

    The defaults are the book's recipe, ``RECIPES["best"]``. Each epoch shuffles the
    examples (seeded, [the mini-batch gradient][eq-minibatch-gradient]) and takes one step
    per batch of ``batch_size``: ``update_params`` for ``"sgd"``, ``momentum_update`` or
    ``adam_update``, at the rate of [the schedule][eq-cosine-schedule]. The matrix products
    run on ``threads`` BLAS threads; the results are the same, to the bit, for the same
    seed and thread count, and differ in the last digits for another thread count.

    Args:
        X: Training inputs, shape (n, m), floats in [0, 1]; its dtype, float64 or float32,
            is the training dtype. The trainer copies it once into rows, unless ``X.T`` is
            already C-contiguous.
        Y: Training labels, shape (m,), integers in 0..9.
        n_hidden: Hidden units $h$ (ignored when ``params`` is given).
        batch_size: Examples per step $B$, ``1 .. m``; ``m`` gives full-batch steps.
        epochs: Passes over the training set.
        optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
        lr: Learning rate $\alpha$ (the peak rate of a schedule).
        scheme: ``init_params`` scheme, ``"he"`` or ``"uniform"``.
        seed: An integer >= 0, seed of the initial weights and of the shuffles.
        schedule: ``"constant"`` or ``"cosine"`` (over the steps after the warm-up).
        warmup: Fraction of the steps, in [0, 1), over which the rate rises linearly to
            ``lr``; the warm-up lasts ``round(warmup * steps)`` steps.
        momentum: Momentum coefficient $\mu$ in [0, 1) of ``"momentum"``.
        X_val: Validation inputs (n, m_val), to record the validation loss and accuracy
            after every epoch.
        Y_val: Validation labels (m_val,), given together with ``X_val``.
        params: Start from these parameters instead of ``init_params(...)``; converted once
            to ``X``'s dtype; not modified.
        callback: Called after every step as ``callback(steps_so_far, params)``.
        progress: Show a progress bar and one line per epoch.
        threads: BLAS threads for the matrix products, an integer >= 1; by default the
            number of cores this process may run on (``available_cores()``).

    Returns:
        The pair ``(params, history)``: the trained ``W1, b1, W2, b2`` (of ``X``'s dtype)
            and a dict of equal-length lists, one entry per epoch: ``epoch`` (1, 2, ...),
            ``iteration`` (optimizer steps so far), ``loss`` and ``accuracy`` (the means
            over the epoch's examples of the loss and the correct predictions of each batch,
            measured by the forward pass of its step, before its update), and ``val_loss``
            and ``val_accuracy`` (after the epoch) when ``X_val`` is given.

    Raises:
        TypeError, ValueError: invalid data, labels, parameters or settings.
        DivergenceError: a batch's loss, the gradients or the weights became NaN or
            infinite, or the first batch's loss ended far above where it started; the
            exception carries the last finite parameters.
    """
    # ~/~ end
    # ~/~ begin <<docs/further-machinery.md#further-train-checks>>[init]
    X, Y, lr, seed = check_training_inputs(
        X,
        Y,
        lr=lr,
        seed=seed,
        optimizer=optimizer,
        schedule=schedule,
        n_hidden=n_hidden,
        epochs=epochs,
    )
    m = X.shape[1]
    batch_size = check_count("batch_size", batch_size, at_most=m)
    momentum = check_fraction("momentum", momentum)
    warmup = check_fraction("warmup", warmup)
    threads = available_cores() if threads is None else check_count("threads", threads)
    if (X_val is None) != (Y_val is None):
        raise ValueError("pass X_val and Y_val together, or neither")
    if X_val is not None:
        X_val = check_matrix("X_val", X_val, rows=X.shape[0])
        X_val = X_val.astype(X.dtype, copy=False)
        Y_val = check_labels("Y_val", Y_val, n_classes=10, m=X_val.shape[1])
    # ~/~ end
    # ~/~ begin <<docs/further-machinery.md#further-train-setup>>[init]
    params = starting_params(params, X, n_hidden=n_hidden, seed=seed, scheme=scheme)
    full_batch = batch_size == m
    # (m, n): one image per row, its 784 pixels side by side in memory (no copy if X.T is)
    X_rows = None if full_batch else np.ascontiguousarray(X.T)
    order = minibatch_order(m, batch_size, epochs=epochs, seed=seed)
    steps_per_epoch = len(order) // epochs
    total_steps = len(order)
    warmup_steps = round(warmup * total_steps)
    if optimizer == "momentum":
        state = init_momentum(params)
        optimizer_step = partial(momentum_update, momentum=momentum, validate=False)
    elif optimizer == "adam":
        state = init_adam(params)
        optimizer_step = partial(adam_update, validate=False)
    columns = ("epoch", "iteration", "loss", "accuracy")
    if X_val is not None:
        columns += ("val_loss", "val_accuracy")
    epoch_loss = 0.0
    epoch_correct = 0
    # ~/~ end
    # ~/~ begin <<docs/going-further.md#further-train-loop>>[init]
    run = TrainingRun(total_steps, lr=lr, progress=progress, unit="step", columns=columns)
    with threadpool_limits(threads, user_api="blas"), run:
        for step in run.steps():
            index = order[step]
            X_batch = X if full_batch else X_rows[index].T
            Y_batch = Y if full_batch else Y[index]
            rate = scheduled_lr(lr, step, total_steps, schedule, warmup_steps)
            cache = forward_prop(params, X_batch, validate=False)
            grads = backward_prop(params, cache, X_batch, Y_batch, validate=False)
            # ~/~ begin <<docs/further-machinery.md#further-train-watch>>[init]
            loss_sum, correct = batch_record(cache["A2"], Y_batch)
            run.watch_loss(step, loss_sum / Y_batch.size, params)
            epoch_loss += loss_sum
            epoch_correct += correct
            # ~/~ end
            if optimizer == "sgd":
                params = run.step(step, update_params, params, grads, rate)
            else:  # momentum_update or adam_update, with the state they carry
                params, state = run.step(step, optimizer_step, params, grads, state, rate)
            # ~/~ begin <<docs/further-machinery.md#further-train-report>>[init]
            if callback is not None:
                callback(step + 1, params)
            # ~/~ end
            # ~/~ begin <<docs/further-machinery.md#further-train-record>>[init]
            if (step + 1) % steps_per_epoch == 0:  # the end of an epoch
                epoch = (step + 1) // steps_per_epoch
                line = f"epoch {epoch}/{epochs}: loss {epoch_loss / m:.4f}, "
                line += f"training accuracy {epoch_correct / m:.2%}"
                validation = {}
                if X_val is not None:
                    val_loss, val_accuracy = evaluate(params, X_val, Y_val)
                    validation = {"val_loss": val_loss, "val_accuracy": val_accuracy}
                    line += f", validation accuracy {val_accuracy:.2%}"
                loss, accuracy = epoch_loss / m, epoch_correct / m
                run.record(step + 1, loss, accuracy, params, final=False, epoch=epoch, **validation)
                run.note(line)
                epoch_loss = 0.0
                epoch_correct = 0
            # ~/~ end
        # ~/~ begin <<docs/further-machinery.md#further-train-final-check>>[init]
        first = order[0]
        X_first = X if full_batch else X_rows[first].T
        A2_first = forward_prop(params, X_first, validate=False)["A2"]
        final_loss = batch_record(A2_first, Y[first])[0] / first.size
        run.watch_loss(total_steps - 1, final_loss, params, final=True)
        # ~/~ end
    # ~/~ end
    return params, run.history
# ~/~ end

# ~/~ begin <<docs/going-further.md#further-recipes>>[init]
# Settings of train_minibatch, on float32 inputs. "best", the defaults, is the recipe;
# "previous" the recipe before the validation split; "long" Simard et al.'s width.
RECIPES = {
    "best": {
        "n_hidden": 256,
        "batch_size": 128,
        "epochs": 4,
        "optimizer": "momentum",
        "lr": 0.3,
        "scheme": "he",
        "schedule": "cosine",
        "warmup": 0.2,
        "momentum": 0.9,
    },
}
RECIPES["previous"] = {**RECIPES["best"], "epochs": 8, "lr": 0.2, "warmup": 0.0}
RECIPES["long"] = {**RECIPES["best"], "n_hidden": 800, "epochs": 20}
# ~/~ end

# ~/~ begin <<docs/further-machinery.md#further-machinery>>[init]
def init_momentum(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    r"""The velocity $q$ of momentum before the first step: zeros shaped like the parameters.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.

    Returns:
        A new dict ``{"qW1", "qb1", "qW2", "qb2"}`` of zero arrays with the shapes and the
            dtype of the parameters.

    Raises:
        TypeError, ValueError: ``params`` is not a valid parameter dict.
    """
    params = check_params(params)
    return {"q" + name: np.zeros_like(params[name]) for name in PARAM_NAMES}


def init_adam(params: dict[str, np.ndarray]) -> dict[str, np.ndarray | int]:
    r"""The state of Adam before the first step: ``t = 0`` and zero averages.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), one float dtype.

    Returns:
        A new dict with ``t`` (0), ``phiW1, phib1, phiW2, phib2`` (the first moment
            $\phi$) and ``vW1, vb1, vW2, vb2`` (the second moment $v$), zero arrays shaped
            like the parameters.

    Raises:
        TypeError, ValueError: ``params`` is not a valid parameter dict.
    """
    params = check_params(params)
    state: dict[str, np.ndarray | int] = {"t": 0}
    for name in PARAM_NAMES:
        state["phi" + name] = np.zeros_like(params[name])
        state["v" + name] = np.zeros_like(params[name])
    return state
# ~/~ end
# ~/~ begin <<docs/further-machinery.md#further-machinery>>[1]
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
# ~/~ begin <<docs/further-machinery.md#further-machinery>>[2]
def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def batch_record(A2: np.ndarray, Y: np.ndarray) -> tuple[float, int]:
    """The summed cross-entropy and the number of correct predictions of one batch.

    The sum of [the cross-entropy][eq-cross-entropy]'s terms, without ``cross_entropy``'s
    checks (the trainer checked its data once); a NaN probability gives a NaN loss.

    Args:
        A2: The batch's probabilities, shape (k, B).
        Y: The batch's labels, shape (B,), integers in ``0 .. k - 1``.

    Returns:
        ``(summed loss, correct predictions)``, a float and an int.
    """
    columns = np.arange(Y.size)
    probabilities = np.maximum(A2[Y, columns], np.finfo(A2.dtype).tiny)
    correct = int(np.count_nonzero(np.argmax(A2, axis=0) == Y))
    return -float(np.sum(np.log(probabilities))), correct
# ~/~ end
# ~/~ begin <<docs/further-machinery.md#further-machinery>>[3]
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
        with np.errstate(**QUIET):
            A2 = forward_prop(params, X_chunk, validate=False)["A2"]
        if not np.all(np.isfinite(A2)):
            return float("nan"), float(np.mean(get_predictions(A2) == Y_chunk))
        total_loss += cross_entropy(A2, Y_chunk) * X_chunk.shape[1]
        correct += int(np.sum(get_predictions(A2) == Y_chunk))
    return total_loss / m, correct / m
# ~/~ end
# ~/~ end