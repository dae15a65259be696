# ~/~ begin <<docs/practice.md#mnist_math/practice.py>>[init]
"""Practice: check a backward pass the reader wrote, and name the mistake.

Tangled from the book's page "Practice: write backpropagation yourself" (docs/practice.md).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from itertools import product
from pathlib import Path

import numpy as np

from . import _reader_code as reader
from .activations import relu_derivative, softmax
from .gradcheck import ATOL, RTOL


# ~/~ begin <<docs/practice.md#practice-problems>>[init]
@dataclass(frozen=True)
class Problem:
    """A network and batch named like ``"7 -> 5 -> 3, m = 4"``; ``values`` holds the
    parameters, ``X, Y, one_hot_Y, m``, the cache and the seven gradients, by name."""

    name: str
    values: dict


def make_problem(
    n: int, h: int, k: int, m: int, *, seed: int, logit_scale: float = 1.0
) -> Problem:
    """A seeded ``n -> h -> k`` network and ``m`` examples, with autograd's gradients.

    Column 0 of ``X`` is all zeros and ``b1[:2]`` is 0, so ``Z1[:2, 0]`` is exactly 0, the
    ReLU's kink. ``logit_scale`` multiplies ``W2`` and ``b2``. The gradients follow the
    book's convention: ``dZ2``, ``dA1`` and ``dZ1`` belong to the summed loss (m times
    autograd's gradients of the mean loss), ``dW`` and ``db`` to the mean loss.
    """
    import torch  # here, not at the top: importing the module stays quick

    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(h, n)),
        "b1": rng.normal(size=(h, 1)),
        "W2": logit_scale * rng.normal(size=(k, h)),
        "b2": logit_scale * rng.normal(size=(k, 1)),
    }
    params["b1"][:2] = 0.0
    X = rng.uniform(0.0, 1.0, size=(n, m))
    X[:, 0] = 0.0
    Y = rng.integers(0, k, size=m)
    leaves = {
        name: torch.tensor(value, requires_grad=True) for name, value in params.items()
    }
    Z1 = leaves["W1"] @ torch.tensor(X) + leaves["b1"]
    A1 = torch.relu(Z1)
    Z2 = leaves["W2"] @ A1 + leaves["b2"]
    for tensor in (Z1, A1, Z2):
        tensor.retain_grad()
    A2 = torch.softmax(Z2, dim=0)
    torch.nn.functional.cross_entropy(Z2.T, torch.tensor(Y)).backward()
    tensors = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    tensors.update(dZ2=m * Z2.grad, dA1=m * A1.grad, dZ1=m * Z1.grad)
    tensors.update({"d" + name: leaf.grad for name, leaf in leaves.items()})
    values = {name: tensor.detach().numpy() for name, tensor in tensors.items()}
    values.update(params, X=X, Y=Y, m=m, one_hot_Y=np.eye(k)[:, Y])
    large = f", logits near {logit_scale:g}" if logit_scale != 1.0 else ""
    return Problem(f"{n} -> {h} -> {k}, m = {m}{large}", values)


@cache
def problems(*, forward: bool = False) -> tuple[Problem, ...]:
    """The problems of every check: 7 -> 5 -> 3, where a transposition changes a shape,
    and 4 -> 4 -> 4, where every product runs and a slip that raised shows in the values;
    ``forward`` adds logits near 1000, where a softmax without its maximum overflows."""
    found = (make_problem(7, 5, 3, 4, seed=0), make_problem(4, 4, 4, 4, seed=1))
    if forward:
        found += (make_problem(7, 5, 3, 4, seed=2, logit_scale=1000.0),)
    return found
# ~/~ end

# ~/~ begin <<docs/practice.md#practice-steps>>[init]
@dataclass(frozen=True)
class Step:
    """One quantity of a pass: the values it is computed from, and its formula.

    Attributes:
        name: The quantity, ``"dW2"``; ``SLIPS[name]`` holds its classic slips.
        inputs: The arguments of its step function, in order.
        formula: The right line, a Python expression in the book's names.
        page: The chapter of its equation: ``page#eq-dw2`` links to it.
    """

    name: str
    inputs: tuple[str, ...]
    formula: str
    page: str = "backward.md"

    @property
    def link(self) -> str:
        """The anchor of its equation, ``backward.md#eq-dw2``."""
        return f"{self.page}#eq-{self.name.lower()}"


BACKWARD = (
    Step("dZ2", ("A2", "one_hot_Y"), "A2 - one_hot_Y"),
    Step("dW2", ("dZ2", "A1", "m"), "dZ2 @ A1.T / m"),
    Step("db2", ("dZ2", "m"), "np.sum(dZ2, axis=1, keepdims=True) / m"),
    Step("dA1", ("W2", "dZ2"), "W2.T @ dZ2"),
    Step("dZ1", ("dA1", "Z1"), "dA1 * relu_derivative(Z1)"),
    Step("dW1", ("dZ1", "X", "m"), "dZ1 @ X.T / m"),
    Step("db1", ("dZ1", "m"), "np.sum(dZ1, axis=1, keepdims=True) / m"),
)
STEPS = {step.name: step for step in BACKWARD}
AXIS = "is summed over the wrong axis or without keepdims=True"
EVERY = "sums every entry, not each row over the examples"
SLIPS = {  # quantity: (kind, the wrong line, what it does)
    "dZ2": [
        ("sign", "one_hot_Y - A2", "is true minus predicted"),
        ("scale", "(A2 - one_hot_Y) / m", "carries a 1/m, which belongs to dW and db"),
    ],
    "dW2": [("transpose", "dZ2 @ A1 / m", "multiplies by A1, not A1.T")],
    "db2": [
        ("bias-axis", "np.sum(dZ2, axis=0, keepdims=True) / m", AXIS),
        ("bias-axis", "np.sum(dZ2, axis=0) / m", AXIS),
        ("bias-axis", "np.sum(dZ2, axis=1) / m", AXIS),
        ("bias-axis", "np.sum(dZ2) / m", EVERY),
    ],
    "dA1": [("transpose", "W2 @ dZ2", "multiplies by W2, not W2.T")],
    "dZ1": [
        (
            "relu-mask",
            "dA1 * (Z1 >= 0)",
            "takes g'(0) = 1 where the book and torch take 0",
        ),
        ("relu-mask", "dA1", "leaves out g'(Z1)"),
        ("relu-mask", "dA1 * A1", "multiplies by A1 = g(Z1), not by g'(Z1)"),
        ("relu-mask", "dA1 * relu_derivative(Z2)", "takes g' of the wrong layer, Z2"),
        ("relu-mask", "W2.T @ (dZ2 * relu_derivative(Z1))", "applies g'(Z1) to dZ2"),
    ],
    "dW1": [("transpose", "dZ1 @ X / m", "multiplies by X, not X.T")],
    "db1": [
        ("bias-axis", "np.sum(dZ1, axis=0, keepdims=True) / m", AXIS),
        ("bias-axis", "np.sum(dZ1, axis=0) / m", AXIS),
        ("bias-axis", "np.sum(dZ1, axis=1) / m", AXIS),
        ("bias-axis", "np.sum(dZ1) / m", EVERY),
    ],
}
# ~/~ end
# ~/~ begin <<docs/practice.md#practice-steps>>[1]
FORWARD = (
    Step("Z1", ("W1", "X", "b1"), "W1 @ X + b1", page="forward.md"),
    Step("A1", ("Z1",), "np.maximum(Z1, 0.0)", page="forward.md"),
    Step("Z2", ("W2", "A1", "b2"), "W2 @ A1 + b2", page="forward.md"),
    Step("A2", ("Z2",), "softmax(Z2)", page="forward.md"),
)
SLIPS |= {
    "Z1": [("bias", "W1 @ X", "leaves out b1"), ("bias", "W1 @ X + b1.T", "adds b1.T")],
    "A1": [("relu", "Z1", "is Z1 itself: the ReLU is missing")],
    "Z2": [("bias", "W2 @ A1", "leaves out b2"), ("bias", "W2 @ A1 + b2.T", "adds b2.T")],
    "A2": [("axis", "softmax(Z2.T).T", "normalises the rows, not the columns")],
}
OVERFLOW = "overflows: subtract each column's maximum before exp, as chapter 3 does"
# ~/~ end

# ~/~ begin <<docs/practice.md#practice-identify>>[init]
TOLERANCE = "|yours - autograd| <= 1e-10 + 1e-10 |autograd|"  # gradcheck's ATOL, RTOL
NAMES = {"np": np, "relu_derivative": relu_derivative, "softmax": softmax}
SCALE = "is m = {m} times too {size} (dW and db carry one 1/m, dZ and dA none)"


def _close(actual: np.ndarray, expected: np.ndarray | None) -> bool:
    """The same shape, and within the tolerance entry by entry."""
    if expected is None or actual.shape != expected.shape:
        return False
    return bool(np.all(np.abs(actual - expected) <= ATOL + RTOL * np.abs(expected)))


def _evaluate(formula: str, v: dict) -> np.ndarray | None:
    """``formula`` computed from the values ``v``, or None where its shapes do not fit."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(eval(formula, NAMES, v), dtype=np.float64)
    except (ValueError, TypeError, IndexError):
        return None


def _options(step: Step) -> list:
    """The right line of ``step`` and each of its slips, with the mistakes each means."""
    slips = [([(kind, what)], wrong) for kind, wrong, what in SLIPS.get(step.name, [])]
    return [([], step.formula)] + slips


def _changes(value: np.ndarray, m: int):
    """``value`` times m or 1/m, of the other sign, transposed: (mistakes, result)."""
    for factor, sign, transpose in product((1, m, 1 / m), (1, -1), (False, True)):
        mistakes = []
        if factor != 1:
            size = "large" if factor == m else "small"
            mistakes.append(("scale", SCALE.format(m=m, size=size)))
        if sign < 0:
            mistakes.append(("sign", "has the wrong sign"))
        if transpose:
            mistakes.append(("transpose", "holds the transpose of the right values"))
        yield mistakes, sign * factor * (value.T if transpose else value)


def identify(step: Step, actual: np.ndarray, v: dict) -> list | None:
    """The fewest known mistakes that turn the values ``v`` into ``actual``.

    Args:
        step: The quantity and its formula.
        actual: The learner's value, a float64 array of any shape.
        v: The values the step is computed from (a problem's, or the learner's own).

    Returns:
        ``[]`` when ``actual`` is right, a list of ``(kind, what)`` pairs, or None when no
            known mistake gives ``actual``.
    """
    best = None
    right, *slips = _options(step)
    for mistakes, formula in [*slips, right]:  # on a tie, a slip's words say more
        value = _evaluate(formula, v)
        if value is None:
            continue
        for changed, candidate in _changes(value, v["m"]):
            fewer = best is None or len(mistakes) + len(changed) < len(best)
            if fewer and _close(actual, candidate):
                best = mistakes + changed
    if best is None and step.name == "dZ1":
        right_value = _evaluate(step.formula, v)
        away = v["Z1"] != 0
        if right_value is not None and actual.shape == right_value.shape:
            if _close(actual[away], right_value[away]):
                best = [("relu-mask", "differs from the right values only where Z1 = 0")]
    return best
# ~/~ end

# ~/~ begin <<docs/practice.md#practice-diagnose>>[init]
MISSING = object()


def _unusable(value: object) -> str | None:
    """Why ``value`` cannot be compared at all, or None when it can."""
    if value is MISSING:
        return "is missing from the returned dict"
    if value is None:
        return "is not written yet (None)"
    if not isinstance(value, (np.ndarray, np.generic)):
        return f"is a {type(value).__name__}, not a NumPy array"
    if value.dtype != np.float64:
        return f"has dtype {value.dtype}, not float64 like the inputs"
    if not np.all(np.isfinite(value)):
        return "contains NaN or infinity"
    return None


def _explain(steps: tuple[Step, ...], runs: list, supposed: dict) -> dict | None:
    """Each quantity's mistakes on every run, the quantities the function did not return
    being computed by the ``supposed`` lines; None if one of those lines cannot run."""
    found: dict[str, list | None] = {}
    for problem, outputs in runs:
        v = dict(problem.values)
        for step in steps:
            right = _evaluate(step.formula, v)
            if step.name in supposed:
                slips, formula = supposed[step.name]
                v[step.name] = _evaluate(formula, v)
                if v[step.name] is None:
                    return None
                found[step.name] = slips
                continue
            actual = outputs.get(step.name, MISSING)
            v[step.name] = right
            if _unusable(actual) is not None:
                continue
            actual = np.asarray(actual)
            mistakes = identify(step, actual, v)
            before = found.get(step.name, [])
            if mistakes is None or before is None:
                found[step.name] = None
            else:
                seen = {kind for kind, _ in before}
                found[step.name] = before + [m for m in mistakes if m[0] not in seen]
            if right is None or actual.shape == right.shape:
                v[step.name] = actual  # the next steps start from the learner's value
    return found


def _diagnose(steps: tuple[Step, ...], runs: list, returned: set[str]) -> dict:
    """The explanation of the runs with the fewest mistakes."""
    hidden = [step for step in steps if step.name not in returned]
    options = [_options(step) for step in hidden]
    best, best_cost = {}, None
    for choice in product(*options):
        supposed = {step.name: option for step, option in zip(hidden, choice)}
        found = _explain(steps, runs, supposed)
        if found is None:
            continue
        cost = sum(
            100 if mistakes is None else len(mistakes) for mistakes in found.values()
        )
        if best_cost is None or cost < best_cost:
            best, best_cost = found, cost
    return best
# ~/~ end

# ~/~ begin <<docs/practice.md#practice-report>>[init]
@dataclass
class Report:
    """What a check found; ``print(report)`` shows it.

    Attributes:
        lines: For each quantity the function returned, ``"ok, max difference 2.2e-16"``
            or what is wrong with it.
        mistakes: ``(quantity, kind)`` pairs, the quantity being the one where the
            mistake was made. Kinds: ``"transpose"``, ``"scale"``, ``"relu-mask"``,
            ``"sign"``, ``"bias-axis"``, ``"shape"`` and ``"unknown"``; a forward pass
            adds ``"bias"``, ``"relu"``, ``"axis"`` and ``"overflow"``.
        hints: One sentence per mistake, ending with the equation to revisit; then,
            if some quantities are wrong only through those mistakes, one naming them.
        errors: Where the function raised, in the learner's code, with the shapes there.
    """

    lines: dict[str, str] = field(default_factory=dict)
    mistakes: list[tuple[str, str]] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every quantity has the right shape, dtype and values, and nothing raised."""
        every_line = all(line.startswith("ok") for line in self.lines.values())
        return every_line and not self.mistakes and not self.errors

    def __str__(self) -> str:
        lines = [f"{name}  {line}" for name, line in self.lines.items()]
        return "\n".join(self.errors + lines + [f"- {hint}" for hint in self.hints])


def _compare(step: Step, runs: list) -> tuple[str, tuple[str, str]]:
    """The report's line for one quantity, and its mistake if no known mistake explains
    it: not comparable at all, a wrong shape, or unknown."""
    if not runs:
        return "not computed: the function raised", ("unknown", "was not computed")
    worst, right = 0.0, True
    for problem, outputs in runs:
        actual = outputs.get(step.name, MISSING)
        why = _unusable(actual)
        if why == "contains NaN or infinity":
            mistake = ("overflow", OVERFLOW) if step.name == "A2" else ("unknown", why)
            return f"{why} ({problem.name})", mistake
        if why is not None:
            return why, ("unknown", why)
        expected = problem.values[step.name]
        if np.shape(actual) != expected.shape:
            what = f"has shape {np.shape(actual)}, expected {expected.shape}"
            return f"{what} ({problem.name})", ("shape", what)
        worst = max(worst, float(np.max(np.abs(actual - expected))))
        right = right and _close(np.asarray(actual), expected)
    unknown = ("unknown", "has wrong values that match no mistake the checker knows")
    return f"{'ok, ' if right else ''}max difference {worst:.1e}", unknown


def _report(steps: tuple[Step, ...], required: set, runs: list, errors: dict) -> Report:
    """Compare, diagnose and word the report of a check."""
    given = {name for _, outputs in runs for name in outputs}
    returned = {step.name for step in steps if step.name in required | given}
    found = _diagnose(steps, runs, returned)
    report = Report(errors=reader.render_errors(errors))
    follow = []
    for step in steps:
        mistakes = found.get(step.name, [])
        if step.name in returned:
            report.lines[step.name], fallback = _compare(step, runs)
            broken = any(
                _unusable(outputs.get(step.name, MISSING)) for _, outputs in runs
            )
            if runs and (broken or mistakes is None):
                mistakes = [fallback]
            elif not (mistakes or report.lines[step.name].startswith("ok")):
                follow.append(step.name)
        for kind, what in mistakes:
            report.mistakes.append((step.name, kind))
            report.hints.append(
                f"{step.name} ({kind}): {step.name} {what}; revisit {step.link}"
            )
    if follow and report.mistakes:
        report.hints.append(f"{', '.join(follow)}: wrong only through the mistakes above")
    return report
# ~/~ end

# ~/~ begin <<docs/practice.md#practice-checks>>[init]
def check_backward(fn: Callable) -> Report:
    """Check a backward pass written like ``backward_prop``, and name its mistakes.

    ``fn(params, cache, X, Y)`` runs on two float64 problems, 7 -> 5 -> 3 and 4 -> 4 -> 4,
    m = 4 each, with ReLU inputs exactly 0. It returns a dict with ``dW1``, ``db1``,
    ``dW2`` and ``db2``; ``dZ2``, ``dA1`` and ``dZ1`` are checked too when it returns them.
    Each is compared with PyTorch autograd in the book's convention (chapter 5). An entry
    passes when |yours - autograd| <= 1e-10 + 1e-10 |autograd| (``gradcheck.ATOL`` and
    ``RTOL``, chapter 13); the shape and the dtype, float64, must be autograd's.

    Args:
        fn: The backward pass, with ``backward_prop``'s signature.

    Returns:
        The report. An exception in ``fn`` is reported with the line that raised it and
            the shapes of the arrays on that line, not with a traceback.
    """
    runs, errors = [], {}
    for problem in problems():
        v = problem.values
        params = {name: v[name] for name in ("W1", "b1", "W2", "b2")}
        cache = {name: v[name] for name in ("Z1", "A1", "Z2", "A2")}
        outputs = reader.call(fn, (params, cache, v["X"], v["Y"]), problem.name, errors)
        if outputs is reader.RAISED:
            continue
        if not isinstance(outputs, Mapping):
            what = f"{reader.name_of(fn)} returned {type(outputs).__name__}, not a dict"
            body = '    return a dict such as {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}'
            errors.setdefault((what, "", body), []).append(problem.name)
            outputs = {}
        runs.append((problem, outputs))
    return _report(BACKWARD, {"dW1", "db1", "dW2", "db2"}, runs, errors)


def check_step(name: str, fn: Callable) -> Report:
    """Check one step of the backward pass, with the tolerance of ``check_backward``.

    Args:
        name: The quantity, ``"dZ2"``, ``"dW2"``, ``"db2"``, ``"dA1"``, ``"dZ1"``,
            ``"dW1"`` or ``"db1"``.
        fn: Its step function, called with the right values of ``STEPS[name].inputs``,
            in order, and returning the quantity.

    Returns:
        The report on the one quantity.
    """
    step = STEPS[name]
    runs, errors = [], {}
    for problem in problems():
        args = tuple(problem.values[key] for key in step.inputs)
        output = reader.call(fn, args, problem.name, errors)
        if output is not reader.RAISED:
            runs.append((problem, {name: output}))
    return _report((step,), {name}, runs, errors)


# One check per step, each called with a step function of the signature beside it.
check_dZ2 = partial(check_step, "dZ2")  # fn(A2, one_hot_Y) -> dZ2 (k, m)
check_dW2 = partial(check_step, "dW2")  # fn(dZ2, A1, m) -> dW2 (k, h)
check_db2 = partial(check_step, "db2")  # fn(dZ2, m) -> db2 (k, 1)
check_dA1 = partial(check_step, "dA1")  # fn(W2, dZ2) -> dA1 (h, m)
check_dZ1 = partial(check_step, "dZ1")  # fn(dA1, Z1) -> dZ1 (h, m)
check_dW1 = partial(check_step, "dW1")  # fn(dZ1, X, m) -> dW1 (h, n)
check_db1 = partial(check_step, "db1")  # fn(dZ1, m) -> db1 (h, 1)


def check_forward(fn: Callable) -> Report:
    """Check a forward pass written like ``forward_prop``, ``fn(params, X)`` returning the
    cache ``Z1, A1, Z2, A2``, on the problems of ``check_backward`` and one with logits near
    1000, with the same tolerance."""
    runs, errors = [], {}
    for problem in problems(forward=True):
        v = problem.values
        params = {name: v[name] for name in ("W1", "b1", "W2", "b2")}
        outputs = reader.call(fn, (params, v["X"]), problem.name, errors)
        if outputs is not reader.RAISED:
            runs.append((problem, outputs if isinstance(outputs, Mapping) else {}))
    return _report(FORWARD, {"Z1", "A1", "Z2", "A2"}, runs, errors)
# ~/~ end
# ~/~ begin <<docs/practice.md#practice-checks>>[1]
PracticeFileError = reader.PracticeFileError


def check_file(path: str | Path) -> Report:
    """Check the ``backward_prop`` that the Python file ``path`` defines.

    Raises:
        PracticeFileError: the file does not exist, does not import, or defines no
            ``backward_prop``.
    """
    return check_backward(reader.load_function(Path(path), "backward_prop"))
# ~/~ end
# ~/~ end