"""The worked example by hand (docs/worked-example.md): every number on the page is checked.

The chapter writes its numbers in display math. This file reads them back and checks them
three ways:

- **every equality holds**: each display is a chain ``LHS = part = part = ...``; every part
  written with numbers only (matrices, sums, products, fractions, exponentials, logarithms)
  is evaluated, and consecutive evaluated parts must agree to ``CHAIN_TOLERANCE``, the
  rounding of the 4-decimal numbers they are computed from;
- **every result is the library's and autograd's**: the inputs ($X$, $y$, the parameters)
  are read from the chapter, the forward and backward pass are recomputed with
  ``forward_prop``/``backward_prop`` and, independently, with torch autograd; the last part
  of each chain whose left-hand side names a quantity (``Z^{[1]}``, ``dW^{[2]}_{00}``,
  ``\\mathcal{L}``) must be that quantity rounded to 4 decimals, exactly;
- **no copied matrix has a typo**: a matrix of plain numbers that repeats a quantity inside a
  chain (``dZ^{[2]}`` inside the chain of ``dW^{[2]}``) must be that quantity's rounding,
  exactly, not merely close.

Finally the chapter's python blocks run in one namespace; each must print exactly the
``text`` block under it, and must use the inputs that the math shows.

The math is parsed by a small recursive-descent reader of the TeX the chapter uses
(``pmatrix``, ``\\frac``, ``\\cdot``, ``\\odot``, ``e^{...}``, ``\\log``, ``^{\\top}``,
juxtaposition as a product); a part with any other symbol (a letter, ``\\sum``) is a
formula, not a number, and is skipped. ``test_checker_catches`` damages a copy of the page
to show that each check bites.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from booktools.blocks import normalise  # the book's one normalisation of outputs
from mnist_math import backward_prop, cross_entropy, forward_prop, one_hot
from mnist_math.gradcheck import assert_close

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = ROOT / "docs" / "worked-example.md"
DIGITS = 4  # the chapter rounds every number to 4 decimal places
# Consecutive parts of a chain are computed from numbers rounded to 4 decimals; products
# and sums of up to three such numbers (factors of at most 1.5) differ from the exact
# value by at most a few 1e-4.
CHAIN_TOLERANCE = 3e-4
# A matrix of plain numbers this close to a quantity of the same shape is a copy of it.
COPY_DISTANCE = 1e-3

QUANTITIES = (
    "Z1",
    "A1",
    "Z2",
    "A2",
    "loss",
    "dZ2",
    "dW2",
    "db2",
    "dA1",
    "dZ1",
    "dW1",
    "db1",
)
INPUTS = ("X", "y", "Y", "W1", "b1", "W2", "b2")
NAME_RE = re.compile(r"^(d?)([ZAWb])\^\{\[(\d)\]\}(?:_\{(\d)(\d)\})?$")


# ---------------------------------------------------------------------------------------
# Reading the chapter's math


def display_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, TeX)`` of each ``$$ ... $$`` display outside code fences."""
    blocks = []
    fence = False
    start = None
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        if line.strip() == "$$":
            if start is None:
                start, body = number, []
            else:
                blocks.append((start, " ".join(body)))
                start = None
        elif start is not None:
            body.append(line)
    return blocks


TOKEN_RE = re.compile(
    r"\s+|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<begin>\\begin\{pmatrix\})|(?P<end>\\end\{pmatrix\})"
    r"|(?P<rowsep>\\\\)|(?P<spacing>\\[,;!]|\\(?:bigl|bigr|Bigl|Bigr|left|right)\b)"
    r"|(?P<command>\\[A-Za-z]+)|(?P<exp>e(?=\^))|(?P<symbol>[-+(){}^&])"
    r"|(?P<other>.)"
)
FRAC = {r"\frac", r"\tfrac", r"\dfrac"}
PRODUCT = {r"\cdot": "product", r"\times": "product", r"\odot": "entrywise"}


class NotNumeric(Exception):
    """The part is a formula (it names a quantity), not arithmetic on numbers."""


def tokens(tex: str) -> list[tuple[str, str]]:
    found = []
    for m in TOKEN_RE.finditer(tex):
        kind = m.lastgroup
        if kind is None or kind == "spacing":
            continue
        value = m.group(kind)
        if kind == "other" or (
            kind == "command" and value not in FRAC | set(PRODUCT) | {r"\log", r"\top"}
        ):
            raise NotNumeric(value)
        found.append((kind, value))
    return found


@dataclass
class Evaluation:
    value: np.ndarray
    literals: list[np.ndarray] = field(default_factory=list)  # matrices of plain numbers


class Parser:
    """Evaluate the arithmetic subset of TeX the chapter writes (see the module docstring)."""

    def __init__(self, tex: str) -> None:
        self.tokens = tokens(tex)
        self.position = 0
        self.literals: list[np.ndarray] = []

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise SyntaxError(f"expected {value!r}, found {token!r}")
        self.position += 1
        return token

    def evaluate(self) -> Evaluation:
        value = self.expression()
        if self.peek() is not None:
            raise SyntaxError(f"unexpected {self.peek()!r}")
        return Evaluation(np.asarray(value, dtype=np.float64), self.literals)

    def expression(self):
        value = self.term()
        while self.peek() is not None and self.peek()[1] in "+-":
            sign = self.take()[1]
            right = self.term()
            value = value + right if sign == "+" else value - right
        return value

    def starts_factor(self) -> bool:
        token = self.peek()
        if token is None:
            return False
        kind, value = token
        return (
            kind in ("number", "begin", "exp")
            or value in ("(", "{", r"\log")
            or value in FRAC
        )

    def term(self):
        value = self.factor()
        while True:
            token = self.peek()
            if token is not None and token[1] in PRODUCT:
                self.take()
                value = value * self.factor()
            elif self.starts_factor():
                right = self.factor()
                both_matrices = np.ndim(value) == 2 and np.ndim(right) == 2
                value = value @ right if both_matrices else value * right
            else:
                return value

    def factor(self):
        if self.peek() is not None and self.peek()[1] == "-":
            self.take()
            return -self.factor()
        value = self.primary()
        while self.peek() is not None and self.peek()[1] == "^":
            self.take()
            if self.peek() == ("symbol", "{"):
                self.take("{")
                self.take(r"\top")
                self.take("}")
            else:
                self.take(r"\top")
            value = np.transpose(value)
        return value

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            return float(value)
        if value in ("(", "{"):
            inner = self.expression()
            self.take(")" if value == "(" else "}")
            return inner
        if value in FRAC:
            numerator = self.group()
            denominator = self.group()
            return numerator / denominator
        if kind == "exp":
            self.take("^")
            return np.exp(self.group())
        if value == r"\log":
            return np.log(self.factor())
        if kind == "begin":
            return self.matrix()
        raise SyntaxError(f"unexpected {value!r}")

    def group(self):
        self.take("{")
        inner = self.expression()
        self.take("}")
        return inner

    def matrix(self) -> np.ndarray:
        rows: list[list[float]] = [[]]
        plain = True
        while True:
            start = self.position
            rows[-1].append(float(self.expression()))
            entry = [token[0] for token in self.tokens[start : self.position]]
            plain = plain and entry in (["number"], ["symbol", "number"])
            kind, value = self.take()
            if kind == "end":
                break
            if kind == "rowsep":
                rows.append([])
            elif value != "&":
                raise SyntaxError(f"unexpected {value!r} in a matrix")
        if len({len(row) for row in rows}) != 1:
            raise SyntaxError("the rows of a matrix differ in length")
        matrix = np.array(rows)
        if plain:
            self.literals.append(matrix)
        return matrix


@dataclass
class Chain:
    line: int
    name: str | None  # the quantity the left-hand side names, e.g. "dW2" or "Z1[0,0]"
    parts: list[str]
    values: list[Evaluation | None]  # None: a formula, not numbers


def quantity_name(tex: str) -> str | None:
    """``"dW2"`` for ``dW^{[2]}``, ``"Z1[0,1]"`` for ``Z^{[1]}_{01}``, inputs and the loss.

    The chapter counts every index from 0, as NumPy does: ``Z^{[1]}_{01}`` is ``Z1[0, 1]``.
    """
    tex = tex.strip()
    simple = {"X": "X", "y": "y", "Y": "Y", r"\mathcal{L}": "loss"}
    if tex in simple:
        return simple[tex]
    m = NAME_RE.match(tex)
    if m is None:
        return None
    d, letter, layer, row, column = m.groups()
    name = f"{d}{letter}{layer}"
    if row is not None:
        name += f"[{int(row)},{int(column)}]"
    return name


def split_top_level(tex: str, separator: str) -> list[str]:
    """Split at ``separator`` outside braces and matrices."""
    parts, depth, current, i = [], 0, [], 0
    while i < len(tex):
        if tex.startswith(r"\begin{pmatrix}", i):
            depth += 1
        elif tex.startswith(r"\end{pmatrix}", i):
            depth -= 1
        elif tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
        if depth == 0 and tex.startswith(separator, i):
            parts.append("".join(current))
            current = []
            i += len(separator)
            continue
        current.append(tex[i])
        i += 1
    parts.append("".join(current))
    return parts


def chains(text: str) -> list[Chain]:
    found = []
    for line, tex in display_blocks(text):
        for piece in split_top_level(tex, r"\qquad"):
            parts = [
                part.strip().rstrip(",.").strip() for part in split_top_level(piece, "=")
            ]
            if len(parts) < 2:
                continue
            values: list[Evaluation | None] = []
            for part in parts:
                try:
                    values.append(Parser(part).evaluate())
                except NotNumeric:
                    values.append(None)
            found.append(Chain(line, quantity_name(parts[0]), parts, values))
    return found


# ---------------------------------------------------------------------------------------
# The references: the library, and autograd


def shown_inputs(all_chains: list[Chain]) -> dict[str, np.ndarray]:
    inputs = {}
    for chain in all_chains:
        if chain.name in INPUTS and chain.values[-1] is not None:
            inputs[chain.name] = chain.values[-1].value
    missing = sorted(set(INPUTS) - set(inputs))
    assert not missing, f"the chapter does not show the inputs {missing}"
    return inputs


def library(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    params = {name: inputs[name] for name in ("W1", "b1", "W2", "b2")}
    labels = inputs["y"].reshape(-1).astype(np.int64)
    cache = forward_prop(params, inputs["X"])
    grads = backward_prop(params, cache, inputs["X"], labels)
    values = {**inputs, **cache, **grads}
    values["Y"] = one_hot(labels, inputs["W2"].shape[0])
    values["loss"] = np.float64(cross_entropy(cache["A2"], labels))
    return values


def autograd(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Forward in torch's own row layout (``F.linear``), gradients by autograd."""
    F = torch.nn.functional
    leaves = {
        name: torch.tensor(inputs[name], requires_grad=True)
        for name in ("W1", "b1", "W2", "b2")
    }
    labels = torch.tensor(inputs["y"].reshape(-1).astype(np.int64))
    rows = torch.tensor(inputs["X"]).T
    Z1 = F.linear(rows, leaves["W1"], leaves["b1"][:, 0])
    Z1.retain_grad()
    A1 = torch.relu(Z1)
    A1.retain_grad()
    Z2 = F.linear(A1, leaves["W2"], leaves["b2"][:, 0])
    Z2.retain_grad()
    loss = F.cross_entropy(Z2, labels)
    loss.backward()
    m = rows.shape[0]
    values = {
        "Z1": Z1.T,
        "A1": A1.T,
        "Z2": Z2.T,
        "A2": torch.softmax(Z2, dim=1).T,
        "loss": loss,
        "dZ2": m * Z2.grad.T,
        "dW2": leaves["W2"].grad,
        "db2": leaves["b2"].grad,
        "dA1": m * A1.grad.T,
        "dZ1": m * Z1.grad.T,
        "dW1": leaves["W1"].grad,
        "db1": leaves["b1"].grad,
    }
    return {name: value.detach().numpy() for name, value in values.items()}


def rounded(value: np.ndarray) -> np.ndarray:
    """``value`` correctly rounded to ``DIGITS`` decimals, entry by entry, as the page prints
    it (``np.round`` multiplies and divides, and can miss the nearest float)."""
    value = np.asarray(value, dtype=np.float64)
    entries = [float(f"{entry:.{DIGITS}f}") for entry in value.reshape(-1)]
    return np.array(entries).reshape(value.shape)


def reference(name: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """The value a chain name refers to: a whole quantity, or one entry (``"Z1[0,0]"``)."""
    m = re.match(r"^(\w+)(?:\[(\d+),(\d+)\])?$", name)
    quantity, row, column = m.groups()
    value = np.asarray(values[quantity])
    if row is not None:
        value = value[int(row), int(column)]
    if quantity == "y":
        value = value.reshape(1, -1)
    return value


# ---------------------------------------------------------------------------------------
# The checks, as functions that list problems (so that test_checker_catches can use them)


def chain_problems(all_chains: list[Chain]) -> list[str]:
    problems = []
    for chain in all_chains:
        numeric = [
            (part, value)
            for part, value in zip(chain.parts, chain.values)
            if value is not None
        ]
        for (left_tex, left), (right_tex, right) in zip(numeric, numeric[1:]):
            if left.value.shape != right.value.shape:
                problems.append(
                    f"line {chain.line}: {left_tex!r} and {right_tex!r} differ in shape"
                )
            elif not np.allclose(left.value, right.value, rtol=0, atol=CHAIN_TOLERANCE):
                difference = float(np.abs(left.value - right.value).max())
                problems.append(
                    f"line {chain.line}: {left_tex!r} = {right_tex!r} is off by {difference:.1e}"
                )
    return problems


def result_problems(all_chains: list[Chain], values: dict[str, np.ndarray]) -> list[str]:
    problems = []
    for chain in all_chains:
        if chain.name is None:
            continue
        if chain.name.split("[")[0] not in values:
            problems.append(f"line {chain.line}: {chain.parts[0]!r} names no quantity")
            continue
        shown = chain.values[-1]
        if shown is None:
            problems.append(
                f"line {chain.line}: the chain of {chain.name} ends in a formula"
            )
            continue
        expected = rounded(reference(chain.name, values))
        if shown.value.shape != expected.shape or not np.array_equal(
            shown.value, expected
        ):
            problems.append(
                f"line {chain.line}: {chain.name} is shown as {shown.value.tolist()}, "
                f"rounded it is {expected.tolist()}"
            )
    return problems


def copy_problems(all_chains: list[Chain], values: dict[str, np.ndarray]) -> list[str]:
    problems = []
    for chain in all_chains:
        for evaluation in chain.values:
            if evaluation is None:
                continue
            for literal in evaluation.literals:
                for name in INPUTS + QUANTITIES:
                    expected = rounded(values[name])
                    if name == "y":
                        expected = expected.reshape(1, -1)
                    if expected.shape != literal.shape:
                        continue
                    distance = float(np.abs(literal - expected).max())
                    if 0 < distance < COPY_DISTANCE:
                        problems.append(
                            f"line {chain.line}: {literal.tolist()} is a copy of {name} with "
                            f"a typo (rounded, {name} is {expected.tolist()})"
                        )
    return problems


def missing_quantities(all_chains: list[Chain]) -> list[str]:
    shown = {chain.name for chain in all_chains}
    return [name for name in INPUTS + QUANTITIES if name not in shown]


# ---------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def page() -> list[Chain]:
    return chains(CHAPTER.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def values(page: list[Chain]) -> dict[str, np.ndarray]:
    return library(shown_inputs(page))


def test_output_normalisation() -> None:
    assert normalise("difference 1.1e-16, loss 0.9298") == normalise(
        "difference 0.0e+00, loss 0.9298"
    )
    assert normalise("loss 0.9298") != normalise("loss 0.9299")
    assert normalise("difference 1.1e-16") != normalise("difference 1.1e-06")


def test_the_reader_knows_the_chapters_math() -> None:
    tex = r"\frac{1}{2} \begin{pmatrix} 1 & -1 \\ 0.5 & 1 \end{pmatrix}^{\top} \begin{pmatrix} 2 \\ 1 \end{pmatrix}"
    assert Parser(tex).evaluate().value.tolist() == [[1.25], [-0.5]]
    assert math.isclose(
        float(Parser(r"-\frac{1}{2} \bigl(\log 1 + e^{0}\bigr)").evaluate().value), -0.5
    )
    assert float(Parser(r"1 \cdot 1 + (-1) \cdot 2 + 0.5").evaluate().value) == -0.5
    with pytest.raises(NotNumeric):
        Parser(r"W^{[1]} X + b^{[1]}").evaluate()
    assert quantity_name(r"dW^{[2]}_{01}") == "dW2[0,1]"
    assert quantity_name(r"\mathcal{L}") == "loss"


def test_every_quantity_is_shown(page: list[Chain]) -> None:
    missing = missing_quantities(page)
    assert not missing, (
        f"docs/worked-example.md does not show {missing} as a whole matrix"
    )


def test_the_library_agrees_with_autograd(
    page: list[Chain], values: dict[str, np.ndarray]
) -> None:
    by_torch = autograd(shown_inputs(page))
    for name in QUANTITIES:
        assert_close(
            f"worked example {name}", np.asarray(values[name]), np.asarray(by_torch[name])
        )


def test_no_result_is_within_rounding_of_a_tie(values: dict[str, np.ndarray]) -> None:
    """Rounding to 4 decimals is stable: no value sits within 1e-9 of a rounding tie, so a
    BLAS that sums in another order cannot flip a printed digit."""
    for name in QUANTITIES:
        scaled = np.abs(np.asarray(values[name], dtype=np.float64)) * 10**DIGITS
        distance = np.abs(scaled - np.floor(scaled) - 0.5).min()
        assert distance > 1e-5, (
            f"{name} has an entry within {distance:.1e} of a rounding tie"
        )


def test_every_equality_holds(page: list[Chain]) -> None:
    problems = chain_problems(page)
    assert not problems, "\n".join(problems)


def test_every_result_is_the_library_rounded(
    page: list[Chain], values: dict[str, np.ndarray]
) -> None:
    problems = result_problems(page, values)
    assert not problems, "\n".join(problems)


def test_every_repeated_matrix_is_exact(
    page: list[Chain], values: dict[str, np.ndarray]
) -> None:
    problems = copy_problems(page, values)
    assert not problems, "\n".join(problems)


def fenced_blocks(text: str) -> list[tuple[int, str, str, int]]:
    """``(first line, info string, content, last line)`` of every fenced block, in order."""
    blocks = []
    opened = None
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if opened is None and line.startswith("```"):
            opened, body = (number, line[3:].strip()), []
        elif opened is not None and line.strip() == "```":
            blocks.append(
                (opened[0], opened[1], "".join(f"{row}\n" for row in body), number)
            )
            opened = None
        elif opened is not None:
            body.append(line)
    return blocks


def code_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, python source, the text block right under it or None)``."""
    lines = text.splitlines()
    fences = fenced_blocks(text)
    found = []
    for i, (line, info, source, last) in enumerate(fences):
        if info != "python":
            continue
        shown = None
        if i + 1 < len(fences):
            next_line, next_info, next_source, _ = fences[i + 1]
            between = lines[last : next_line - 1]
            if next_info == "text" and all(not row.strip() for row in between):
                shown = next_source
        found.append((line, source, shown))
    return found


def test_the_code_prints_what_the_page_shows(
    page: list[Chain], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "worked_example"}
    for line, source, shown in code_blocks(CHAPTER.read_text(encoding="utf-8")):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(source, f"{CHAPTER.name}:{line}", "exec"), namespace)
        assert normalise(printed.getvalue()) == normalise(shown or ""), (
            f"the block at docs/worked-example.md:{line} prints\n{printed.getvalue()}"
            f"but the page shows\n{shown}"
        )
    inputs = shown_inputs(page)
    assert np.array_equal(namespace["X"], inputs["X"]), (
        "the code's X is the X of the math"
    )
    assert np.array_equal(namespace["labels"], inputs["y"].reshape(-1)), (
        "the code's labels are y"
    )
    for name in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(namespace["params"][name], inputs[name]), (
            f"the code's {name} is the math's"
        )


@pytest.mark.parametrize(
    "old, new, check",
    [
        # a typo in a result (dA1)
        (
            "= \\begin{pmatrix} 0.3315 & 0.6914 \\\\ -0.1220 & 0.8457 \\end{pmatrix}\n",
            "= \\begin{pmatrix} 0.3316 & 0.6914 \\\\ -0.1220 & 0.8457 \\end{pmatrix}\n",
            "result",
        ),
        # a hand computation that does not add up
        ("1 \\cdot 1 + 0 = -0.5", "1 \\cdot 1 + 0 = -1.5", "chain"),
        # a repeated matrix with a typo in its last digit (dZ2 inside the chain of dW2)
        (
            "\\frac{1}{2} \\begin{pmatrix} 0.1220 & -0.8457",
            "\\frac{1}{2} \\begin{pmatrix} 0.1221 & -0.8457",
            "copy",
        ),
        # a quantity left out
        ("db^{[1]} = \\frac{1}{m}", "db^{[0]} = \\frac{1}{m}", "missing"),
    ],
    ids=["result", "chain", "copy", "missing"],
)
def test_checker_catches(
    old: str, new: str, check: str, values: dict[str, np.ndarray]
) -> None:
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the damage {old!r} must match the chapter once"
    damaged = chains(text.replace(old, new))
    problems = {
        "result": lambda: result_problems(damaged, values),
        "chain": lambda: chain_problems(damaged),
        "copy": lambda: copy_problems(damaged, values),
        "missing": lambda: missing_quantities(damaged),
    }[check]()
    assert problems, f"the {check} check missed a damage: {old!r} -> {new!r}"


# ---------------------------------------------------------------------------------------
# The classic slips: each must change a number the page prints

SLIPS = {
    # name: what the slip writes instead of the book's line
    "dW2 without the transpose of A1": "dW2 = 1 / m * (dZ2 @ A1)",
    "dW2 transposed": "dW2 = 1 / m * (A1 @ dZ2.T)",
    "dW1 without the transpose of X": "dW1 = 1 / m * (dZ1 @ X)",
    "dW1 transposed": "dW1 = 1 / m * (X @ dZ1.T)",
    "dA1 without the transpose of W2": "dA1 = W2 @ dZ2",
    "lost 1/m": "dW = dZ @ A_prev.T, db = sum(dZ)",
    "ReLU mask at 0 (>=)": "dZ1 = dA1 * (Z1 >= 0)",
    "sign of dZ2": "dZ2 = Y - A2",
    "db2 summed over the examples' axis": "db2 = 1 / m * np.sum(dZ2, axis=0, keepdims=True)",
    "db1 summed over the examples' axis": "db1 = 1 / m * np.sum(dZ1, axis=0, keepdims=True)",
}


def backward_with(
    inputs: dict[str, np.ndarray], slip: str | None
) -> dict[str, np.ndarray]:
    """The page's quantities computed from its inputs, with one slip planted (or none).

    The forward pass is the library's; the backward pass is chapter 5's seven lines,
    written out here so that one of them can be replaced by ``SLIPS[slip]``.
    """
    params = {name: inputs[name] for name in ("W1", "b1", "W2", "b2")}
    X = inputs["X"]
    labels = inputs["y"].reshape(-1).astype(np.int64)
    cache = forward_prop(params, X)
    Z1, A1, A2 = cache["Z1"], cache["A1"], cache["A2"]
    Y = one_hot(labels, params["W2"].shape[0])
    m = X.shape[1]
    scale = 1.0 if slip == "lost 1/m" else 1 / m
    dZ2 = Y - A2 if slip == "sign of dZ2" else A2 - Y
    if slip == "dW2 without the transpose of A1":
        dW2 = scale * (dZ2 @ A1)
    elif slip == "dW2 transposed":
        dW2 = scale * (A1 @ dZ2.T)
    else:
        dW2 = scale * (dZ2 @ A1.T)
    bias_axis2 = 0 if slip == "db2 summed over the examples' axis" else 1
    db2 = scale * np.sum(dZ2, axis=bias_axis2, keepdims=True)
    if slip == "dA1 without the transpose of W2":
        dA1 = params["W2"] @ dZ2
    else:
        dA1 = params["W2"].T @ dZ2
    mask = Z1 >= 0 if slip == "ReLU mask at 0 (>=)" else Z1 > 0
    dZ1 = dA1 * mask
    if slip == "dW1 without the transpose of X":
        dW1 = scale * (dZ1 @ X)
    elif slip == "dW1 transposed":
        dW1 = scale * (X @ dZ1.T)
    else:
        dW1 = scale * (dZ1 @ X.T)
    bias_axis1 = 0 if slip == "db1 summed over the examples' axis" else 1
    db1 = scale * np.sum(dZ1, axis=bias_axis1, keepdims=True)
    values = {**inputs, **cache, "Y": Y}
    values["loss"] = np.float64(cross_entropy(A2, labels))
    values.update(dZ2=dZ2, dW2=dW2, db2=db2, dA1=dA1, dZ1=dZ1, dW1=dW1, db1=db1)
    return values


def test_the_slip_free_backward_is_the_library(
    page: list[Chain], values: dict[str, np.ndarray]
) -> None:
    """The control: without a slip, the written-out backward pass is ``backward_prop``,
    and the page agrees with it (so a slip's disagreement is the slip's doing)."""
    planted = backward_with(shown_inputs(page), None)
    for name in QUANTITIES:
        assert_close(f"slip-free {name}", planted[name], np.asarray(values[name]))
    assert not result_problems(page, planted)


@pytest.mark.parametrize("slip", list(SLIPS))
def test_every_classic_slip_changes_a_printed_number(
    page: list[Chain], slip: str
) -> None:
    try:
        slipped = backward_with(shown_inputs(page), slip)
    except ValueError as error:  # NumPy refuses the product: the reader sees it at once
        assert "mismatch" in str(error) or "shapes" in str(error), error
        return
    problems = result_problems(page, slipped)
    assert problems, (
        f"the slip {slip!r} ({SLIPS[slip]}) reproduces every number of "
        "docs/worked-example.md: choose numbers that catch it"
    )
