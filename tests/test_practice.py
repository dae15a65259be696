"""The practice checker (docs/practice.md): it passes right code and names each classic slip.

* The book's own ``backward_prop`` and ``forward_prop`` pass, whole and step by step.
* Each classic slip, planted in a copy of the book's ``backward_prop`` (the tangled
  mnist_math/backward.py with one line replaced, as tests/test_mutations.py plants them in
  the chapters), is named with the quantity where it is made and its kind, both when the
  copy returns all seven gradients and when it returns only the four of the parameters.
* Nonsense (random arrays, None, a missing key, NaN, another dtype, not an array, an
  exception) is reported and never named as a known mistake.
* An exception in the reader's code is reported with the reader's line and the shapes there.
* ``mnist-math practice FILE.py``: exit 0, 1 or 2, one line on standard error when the file
  cannot be checked, and the output the chapter shows for its example file.

The problems are tiny (at most 7 -> 5 -> 3 with 4 examples): every check here takes
milliseconds, and the subprocesses run under a timeout.
"""

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from booktools.blocks import normalise
from booktools.proportions import MAX_SHARE, measure

pytest.importorskip("torch")

from mnist_math import backward_prop, forward_prop, relu_derivative  # noqa: E402
from mnist_math.gradcheck import assert_close  # noqa: E402
from mnist_math.practice import (  # noqa: E402
    BACKWARD,
    FORWARD,
    SLIPS,
    check_backward,
    check_dA1,
    check_db1,
    check_db2,
    check_dW1,
    check_dW2,
    check_dZ1,
    check_dZ2,
    check_forward,
    check_step,
    problems,
)

ROOT = Path(__file__).resolve().parents[1]

KNOWN = {"transpose", "scale", "relu-mask", "sign", "bias-axis"}
FOUR = ("dW1", "db1", "dW2", "db2")


# --------------------------------------------------------------------------------------
# The problems


def test_the_problems_show_what_the_checks_need() -> None:
    first, square = problems()
    v = first.values
    n, m = v["X"].shape
    h, k = v["W1"].shape[0], v["W2"].shape[0]
    assert len({n, h, k, m}) == 4, "7 -> 5 -> 3 with m = 4: no two sizes equal"
    assert (
        len({value for value in square.values["X"].shape + square.values["W2"].shape})
        == 1
    )
    for problem in (first, square):
        Z1 = problem.values["Z1"]
        assert np.sum(Z1 == 0.0) >= 2, f"{problem.name}: ReLU inputs exactly 0"
        assert np.any(Z1 < 0) and np.any(Z1 > 0), (
            f"{problem.name}: both sides of the kink"
        )
        for name in ("X", "W1", "W2", "dZ2", "dW1", "dW2"):
            assert problem.values[name].dtype == np.float64, name


@pytest.mark.parametrize("index", [0, 1], ids=["7-5-3", "4-4-4"])
def test_the_problems_gradients_are_the_books_convention(index: int) -> None:
    """Autograd's gradients, scaled to the book's convention, equal backward_prop's."""
    v = problems()[index].values
    params = {name: v[name] for name in ("W1", "b1", "W2", "b2")}
    cache = forward_prop(params, v["X"])
    grads = backward_prop(params, cache, v["X"], v["Y"])
    for name in ("Z1", "A1", "Z2", "A2"):
        assert_close(name, cache[name], v[name])
    for name, value in grads.items():
        assert_close(name, value, v[name])


@pytest.mark.parametrize("step", BACKWARD + FORWARD, ids=lambda step: step.name)
def test_every_hint_links_to_a_labelled_equation(step) -> None:
    page, anchor = step.link.split("#")
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert f"\\label{{{anchor}}}" in text, f"{step.link} is not an equation of {page}"


# --------------------------------------------------------------------------------------
# Right code passes


def four_of(fn):
    def only_four(params, cache, X, Y):
        grads = fn(params, cache, X, Y)
        return {name: grads[name] for name in FOUR}

    only_four.__name__ = fn.__name__
    return only_four


def test_the_books_backward_prop_passes() -> None:
    report = check_backward(backward_prop)
    assert report.passed and report.mistakes == [] and report.errors == [], str(report)
    assert list(report.lines) == ["dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]
    for name, line in report.lines.items():
        assert line.startswith("ok, max difference "), f"{name}: {line}"
    assert check_backward(four_of(backward_prop)).passed


def test_the_books_forward_prop_passes() -> None:
    report = check_forward(forward_prop)
    assert report.passed, str(report)
    assert list(report.lines) == ["Z1", "A1", "Z2", "A2"]


RIGHT_STEPS = {
    check_dZ2: lambda A2, one_hot_Y: A2 - one_hot_Y,
    check_dW2: lambda dZ2, A1, m: 1 / m * (dZ2 @ A1.T),
    check_db2: lambda dZ2, m: np.mean(dZ2, axis=1, keepdims=True),
    check_dA1: lambda W2, dZ2: W2.T @ dZ2,
    check_dZ1: lambda dA1, Z1: dA1 * relu_derivative(Z1),
    check_dW1: lambda dZ1, X, m: (X @ dZ1.T).T / m,
    check_db1: lambda dZ1, m: dZ1.sum(axis=1, keepdims=True) / m,
}


@pytest.mark.parametrize("check", RIGHT_STEPS, ids=lambda check: check.args[0])
def test_a_right_step_passes(check) -> None:
    report = check(RIGHT_STEPS[check])
    assert report.passed, str(report)


def test_a_step_check_fails_on_another_steps_answer() -> None:
    report = check_dW2(lambda dZ2, A1, m: dZ2)  # dZ2 itself, (k, m), is no dW2
    assert not report.passed
    assert report.mistakes == [("dW2", "shape")], report.mistakes


# --------------------------------------------------------------------------------------
# Classic slips, planted in a copy of the book's backward_prop


def planted(old: str, new: str):
    """The book's backward_prop (mnist_math/backward.py) with the line ``old`` replaced."""
    source = (ROOT / "mnist_math" / "backward.py").read_text(encoding="utf-8")
    assert source.count(old) == 1, f"{old!r} must occur once in mnist_math/backward.py"
    source = source.replace(old, new).replace("from .", "from mnist_math.")
    namespace: dict = {"__name__": "planted_backward"}
    exec(compile(source, "<planted backward.py>", "exec"), namespace)
    return namespace["backward_prop"]


DW1 = "dW1 = 1 / m * (dZ1 @ X.T)"
DW2 = "dW2 = 1 / m * (dZ2 @ A1.T)"
DB1 = "db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)"
DB2 = "db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)"
DZ1 = 'dZ1 = dA1 * relu_derivative(cache["Z1"], validate=validate)'
SLIPPED = {
    "dW1-without-transpose": (DW1, "dW1 = 1 / m * (dZ1 @ X)", ("dW1", "transpose")),
    "dW1-transposed": (DW1, "dW1 = 1 / m * (X @ dZ1.T)", ("dW1", "transpose")),
    "dW2-without-transpose": (DW2, "dW2 = 1 / m * (dZ2 @ A1)", ("dW2", "transpose")),
    "dW2-transposed": (DW2, "dW2 = 1 / m * (A1 @ dZ2.T)", ("dW2", "transpose")),
    "dA1-W2-not-transposed": (
        'dA1 = params["W2"].T @ dZ2',
        'dA1 = params["W2"] @ dZ2',
        ("dA1", "transpose"),
    ),
    "dW1-lost-1/m": (DW1, "dW1 = dZ1 @ X.T", ("dW1", "scale")),
    "dW2-lost-1/m": (DW2, "dW2 = dZ2 @ A1.T", ("dW2", "scale")),
    "db1-lost-1/m": (DB1, "db1 = np.sum(dZ1, axis=1, keepdims=True)", ("db1", "scale")),
    "db2-lost-1/m": (DB2, "db2 = np.sum(dZ2, axis=1, keepdims=True)", ("db2", "scale")),
    "dW1-doubled-1/m": (DW1, "dW1 = 1 / m / m * (dZ1 @ X.T)", ("dW1", "scale")),
    "dW2-doubled-1/m": (DW2, "dW2 = 1 / m / m * (dZ2 @ A1.T)", ("dW2", "scale")),
    "db1-doubled-1/m": (DB1, DB1.replace("1 / m", "1 / m**2"), ("db1", "scale")),
    "db2-doubled-1/m": (DB2, DB2.replace("1 / m", "1 / m**2"), ("db2", "scale")),
    "relu-mask-ge": (DZ1, 'dZ1 = dA1 * (cache["Z1"] >= 0)', ("dZ1", "relu-mask")),
    "relu-mask-of-Z2": (
        DZ1,
        'dZ1 = dA1 * relu_derivative(cache["Z2"])',
        ("dZ1", "relu-mask"),
    ),
    "relu-mask-before-the-product": (
        DZ1,
        'dZ1 = params["W2"].T @ (dZ2 * relu_derivative(cache["Z1"]))',
        ("dZ1", "relu-mask"),
    ),
    "dZ2-sign": ("dZ2 = A2 - one_hot_Y", "dZ2 = one_hot_Y - A2", ("dZ2", "sign")),
    "db1-axis-0": (DB1, DB1.replace("axis=1", "axis=0"), ("db1", "bias-axis")),
    "db2-axis-0": (DB2, DB2.replace("axis=1", "axis=0"), ("db2", "bias-axis")),
    "db1-no-keepdims": (DB1, DB1.replace(", keepdims=True", ""), ("db1", "bias-axis")),
    "db2-no-keepdims": (DB2, DB2.replace(", keepdims=True", ""), ("db2", "bias-axis")),
}


@pytest.mark.parametrize("returned", ["seven", "four"])
@pytest.mark.parametrize("slip", SLIPPED, ids=list(SLIPPED))
def test_each_classic_slip_is_named(slip: str, returned: str) -> None:
    old, new, expected = SLIPPED[slip]
    fn = planted(old, new)
    report = check_backward(fn if returned == "seven" else four_of(fn))
    assert not report.passed, f"{slip} passed:\n{report}"
    assert report.mistakes == [expected], f"{slip}: {report.mistakes}\n{report}"
    quantity, kind = expected
    hint = report.hints[0]
    assert hint.startswith(f"{quantity} ({kind}): ") and f"#eq-{quantity.lower()}" in hint


def test_the_planted_copy_is_the_books_code_when_nothing_is_replaced() -> None:
    """The control: the copy with a line replaced by itself passes."""
    assert check_backward(planted(DW1, DW1)).passed


STEP_SLIPS = {
    "dZ2-sign": (check_dZ2, lambda A2, one_hot_Y: one_hot_Y - A2, ("dZ2", "sign")),
    "dZ2-mean-loss": (
        check_dZ2,
        lambda A2, one_hot_Y: (A2 - one_hot_Y) / A2.shape[1],
        ("dZ2", "scale"),
    ),
    "dW2-transposed": (
        check_dW2,
        lambda dZ2, A1, m: A1 @ dZ2.T / m,
        ("dW2", "transpose"),
    ),
    "db2-axis-0": (
        check_db2,
        lambda dZ2, m: np.sum(dZ2, axis=0, keepdims=True) / m,
        ("db2", "bias-axis"),
    ),
    "dA1-W2-not-transposed": (check_dA1, lambda W2, dZ2: W2 @ dZ2, ("dA1", "transpose")),
    "dZ1-heaviside-half": (
        check_dZ1,
        lambda dA1, Z1: dA1 * np.heaviside(Z1, 0.5),
        ("dZ1", "relu-mask"),
    ),
    "dZ1-no-mask": (check_dZ1, lambda dA1, Z1: dA1, ("dZ1", "relu-mask")),
    "dW1-lost-1/m-and-transposed": (
        check_dW1,
        lambda dZ1, X, m: X @ dZ1.T,
        ("dW1", "scale"),
    ),
    "db1-no-keepdims": (
        check_db1,
        lambda dZ1, m: np.sum(dZ1, axis=1) / m,
        ("db1", "bias-axis"),
    ),
}


@pytest.mark.parametrize("slip", STEP_SLIPS)
def test_each_step_slip_is_named(slip: str) -> None:
    check, fn, expected = STEP_SLIPS[slip]
    report = check(fn)
    assert not report.passed, str(report)
    assert expected in report.mistakes, f"{slip}: {report.mistakes}"
    assert {kind for _, kind in report.mistakes} <= KNOWN, report.mistakes


def test_two_slips_in_one_line_are_both_named() -> None:
    report = check_dW1(lambda dZ1, X, m: X @ dZ1.T)
    assert sorted(report.mistakes) == [("dW1", "scale"), ("dW1", "transpose")]


def test_a_slip_in_the_forward_pass_is_named() -> None:
    def naive_softmax(params, X):
        Z1 = params["W1"] @ X + params["b1"]
        A1 = np.maximum(Z1, 0.0)
        Z2 = params["W2"] @ A1 + params["b2"]
        exps = np.exp(Z2)
        return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": exps / exps.sum(axis=0)}

    def no_bias_rows_softmax(params, X):
        Z1 = params["W1"] @ X
        A1 = np.maximum(Z1, 0.0)
        Z2 = params["W2"] @ A1 + params["b2"]
        exps = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        return {
            "Z1": Z1,
            "A1": A1,
            "Z2": Z2,
            "A2": exps / exps.sum(axis=1, keepdims=True),
        }

    assert check_forward(naive_softmax).mistakes == [("A2", "overflow")]
    assert check_forward(no_bias_rows_softmax).mistakes == [
        ("Z1", "bias"),
        ("A2", "axis"),
    ]


def test_nonsense_in_the_forward_pass_is_not_a_known_mistake() -> None:
    report = check_forward(lambda params, X: {"Z1": None, "A1": np.ones(3)})
    assert not report.passed
    assert {kind for _, kind in report.mistakes} <= {"shape", "unknown"}, report.mistakes
    assert [name for name, _ in report.mistakes] == ["Z1", "A1", "Z2", "A2"]


# --------------------------------------------------------------------------------------
# Nonsense is reported, never named as a known mistake


def right_grads(params, cache, X, Y):
    return backward_prop(params, cache, X, Y)


def random_right_shapes(params, cache, X, Y):
    rng = np.random.default_rng(int(X.shape[0]))
    return {"d" + name: rng.normal(size=params[name].shape) for name in params}


def random_wrong_shapes(params, cache, X, Y):
    rng = np.random.default_rng(1)
    return {name: rng.normal(size=(2, 2)) for name in FOUR}


def zeros_of_right_shapes(params, cache, X, Y):
    return {"d" + name: np.zeros_like(params[name]) for name in params}


def returns_none(params, cache, X, Y):
    return None


def missing_db1(params, cache, X, Y):
    grads = right_grads(params, cache, X, Y)
    del grads["db1"]
    return grads


def nan_in_dW2(params, cache, X, Y):
    grads = right_grads(params, cache, X, Y)
    grads["dW2"][0, 0] = np.nan
    return grads


def float32_dW1(params, cache, X, Y):
    grads = right_grads(params, cache, X, Y)
    grads["dW1"] = grads["dW1"].astype(np.float32)
    return grads


def list_and_none(params, cache, X, Y):
    grads = right_grads(params, cache, X, Y)
    grads["db2"] = grads["db2"].tolist()
    grads["dW2"] = None
    return grads


def torch_tensor(params, cache, X, Y):
    import torch

    grads = right_grads(params, cache, X, Y)
    grads["db1"] = torch.tensor(grads["db1"])
    return grads


def undefined_name(params, cache, X, Y):
    return {"dW1": dW1_typo}  # noqa: F821 - the slip under test


NONSENSE = {
    "random right shapes": (random_right_shapes, set(FOUR)),
    "random wrong shapes": (random_wrong_shapes, set(FOUR)),
    "zeros": (zeros_of_right_shapes, set(FOUR)),
    "None": (returns_none, set(FOUR)),
    "a missing key": (missing_db1, {"db1"}),
    "NaN": (nan_in_dW2, {"dW2"}),
    "float32": (float32_dW1, {"dW1"}),
    "a list and None": (list_and_none, {"dW2", "db2"}),
    "a torch tensor": (torch_tensor, {"db1"}),
}


@pytest.mark.parametrize("case", NONSENSE)
def test_nonsense_is_reported_and_never_a_known_mistake(case: str) -> None:
    fn, wrong = NONSENSE[case]
    report = check_backward(fn)
    assert not report.passed, f"{case} passed:\n{report}"
    named = {quantity for quantity, _ in report.mistakes}
    kinds = {kind for _, kind in report.mistakes}
    assert named == wrong, f"{case}: {report.mistakes}"
    assert kinds <= {"shape", "unknown"}, f"{case} was named a known mistake: {report}"
    for quantity in wrong:
        assert not report.lines[quantity].startswith("ok"), report.lines[quantity]
    assert "Traceback" not in str(report)


def test_a_function_that_always_raises_is_reported_without_a_diagnosis() -> None:
    report = check_backward(undefined_name)
    assert not report.passed and report.mistakes == []
    assert len(report.errors) == 1, "the same exception on both problems is shown once"
    error = report.errors[0]
    assert "undefined_name raised NameError on the 7 -> 5 -> 3, m = 4 and " in error
    assert 'return {"dW1": dW1_typo}' in error and "dW1_typo" in error
    assert set(report.lines.values()) == {"not computed: the function raised"}


def test_a_step_that_writes_into_its_arguments_spoils_nothing() -> None:
    def in_place(A2, one_hot_Y):
        A2 -= one_hot_Y
        return A2

    before = {name: np.copy(value) for name, value in problems()[0].values.items()}
    assert check_dZ2(in_place).passed
    for name, value in problems()[0].values.items():
        assert np.array_equal(np.asarray(value), np.asarray(before[name])), name


# --------------------------------------------------------------------------------------
# An exception in the reader's code names the reader's line


SLIP_FILE = """\
import numpy as np

from mnist_math import one_hot, relu_derivative


def backward_prop(params, cache, X, Y):
    m = X.shape[1]
    dZ2 = cache["A2"] - one_hot(Y, cache["A2"].shape[0])
    dW2 = 1 / m * (dZ2 @ cache["A1"].T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = params["W2"] @ dZ2
    dZ1 = dA1 * relu_derivative(cache["Z1"])
    dW1 = 1 / m * (dZ1 @ X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
"""


def test_an_exception_names_the_readers_line_and_the_shapes(tmp_path: Path) -> None:
    from mnist_math._reader_code import load_function

    path = tmp_path / "mine.py"
    path.write_text(SLIP_FILE, encoding="utf-8")
    report = check_backward(load_function(path, "backward_prop"))
    assert report.mistakes == [("dA1", "transpose")], "named from the square problem"
    (error,) = report.errors
    head, line, shapes, message = error.splitlines()
    assert head == (
        "backward_prop raised ValueError on the 7 -> 5 -> 3, m = 4 problem, "
        f"at line 11 of {path}:"
    )
    assert line.strip() == 'dA1 = params["W2"] @ dZ2'
    assert shapes.strip() == 'where params["W2"] (3, 5), dZ2 (3, 4)'
    assert message.strip().startswith("ValueError: matmul")
    assert "practice.py" not in error and "Traceback" not in error


def test_in_a_pasted_block_the_line_counts_from_the_def() -> None:
    source = "def pasted(W2, dZ2):\n    dA1 = W2 @ dZ2\n    return dA1\n"
    namespace: dict = {}
    exec(compile(source, "<pasted>", "exec"), namespace)
    report = check_dA1(namespace["pasted"])
    assert "at line 2 of pasted:" in report.errors[0], report.errors[0]
    assert report.mistakes == [("dA1", "transpose")]


# --------------------------------------------------------------------------------------
# The command line


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "mnist_math.cli", "practice", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_passes_the_books_backward_prop(tmp_path: Path) -> None:
    path = tmp_path / "books.py"
    path.write_text(
        "from mnist_math import backward_prop  # noqa: F401\n", encoding="utf-8"
    )
    result = run_cli(str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"{path}: backward_prop passes"
    assert result.stderr == ""


def test_the_command_shows_what_the_chapter_shows() -> None:
    """The chapter's console block for docs/examples/backward_slip.py is this run's output."""
    chapter = (ROOT / "docs" / "practice.md").read_text(encoding="utf-8")
    command = "$ mnist-math practice docs/examples/backward_slip.py\n"
    shown = chapter.split(command, 1)[1].split("```", 1)[0]
    result = run_cli("docs/examples/backward_slip.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert normalise(result.stdout) == normalise(shown), result.stdout
    assert "(dZ1, 'relu-mask')" not in result.stdout
    assert "- dZ1 (relu-mask): " in result.stdout


BAD_FILES = {
    "missing": (None, "does not exist"),
    "syntax error": ("def backward_prop(:\n", "does not import: SyntaxError at line 1"),
    "import error": (
        "import no_such_module_here\n",
        "does not import: ModuleNotFoundError at line 1",
    ),
    "top-level exception": (
        "x = 1\nraise RuntimeError('boom')\n",
        "RuntimeError at line 2",
    ),
    "no backward_prop": (
        "def forward_prop():\n    pass\n",
        "defines no function backward_prop",
    ),
    "not a function": ("backward_prop = 3\n", "defines no function backward_prop"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_file_that_cannot_be_checked_is_one_line_and_exit_2(
    case: str, tmp_path: Path
) -> None:
    text, fragment = BAD_FILES[case]
    path = tmp_path / "mine.py"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    result = run_cli(str(path))
    assert result.returncode == 2, f"exit {result.returncode}:\n{result.stderr}"
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mnist-math: error: {path} "), lines[0]
    assert fragment in lines[0], lines[0]


def test_a_file_that_is_not_python_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("backward_prop = None\n", encoding="utf-8")
    result = run_cli(str(path))
    assert result.returncode == 2 and "is not a Python file" in result.stderr


def test_the_command_imports_the_files_neighbours(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "from mnist_math import backward_prop as book\n", encoding="utf-8"
    )
    path = tmp_path / "mine.py"
    path.write_text(
        textwrap.dedent(
            """\
            from helpers import book


            def backward_prop(params, cache, X, Y):
                return book(params, cache, X, Y)
            """
        ),
        encoding="utf-8",
    )
    result = run_cli(str(path), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------
# The chapter


def test_every_slip_of_the_table_is_named_by_its_step_check() -> None:
    """Each line of SLIPS that a step function can write from its inputs is named."""
    for step in BACKWARD:
        for kind, wrong, _ in SLIPS[step.name]:
            names = set(re.findall(r"[A-Za-z_]\w*", wrong)) - {"np", "sum", "axis"}
            names -= {"keepdims", "True", "relu_derivative", "T"}
            if not names <= set(step.inputs):
                continue  # needs a value the step function is not given (Z2, A1, W2)
            arguments = ", ".join(step.inputs)
            namespace = {"np": np, "relu_derivative": relu_derivative}
            exec(f"def slip({arguments}):\n    return {wrong}\n", namespace)
            report = check_step(step.name, namespace["slip"])
            assert (step.name, kind) in report.mistakes, f"{wrong}: {report.mistakes}"


def test_checks_are_quick() -> None:
    """A whole check of a four-gradient pass, with its 36 suppositions, stays well under a
    second on these tiny problems (measured: about 0.05 s)."""
    problems()  # built once (imports torch)
    fn = four_of(planted(DZ1, 'dZ1 = dA1 * (cache["Z1"] >= 0)'))
    start = time.perf_counter()
    check_backward(fn)
    assert time.perf_counter() - start < 5.0


def test_the_practice_page_is_mostly_practice() -> None:
    """At most 35% of the page's lines are the tangled module; the rest is for the reader."""
    page = measure(ROOT / "docs" / "practice.md", "Practice")
    assert page.share <= MAX_SHARE, f"{page.tangled} of {page.lines} lines are tangled"
