"""Do the tests bite? Deliberate mistakes written into the chapters must fail them (chapter 13).

Each mutation replaces one line of a chapter's code by a mistake a learner makes. The slow
test copies docs/ to a temporary directory, applies the mutation *to the chapter text*,
tangles the copy with Entangled, and runs the test of tests/test_formulas.py that should
catch it against the mutated package in a fresh process (``-x``: the first failure is
enough). The mutation is caught when that run fails in the expected test, having imported
the copy's package. A control run of every such test on the unmutated copy must pass, so
that a broken setup cannot count as a catch. The score is printed at the end of the run
(tests/conftest.py).

The quick tests check that each mutation still matches its chapter exactly once and that
the chapter lists it, so the list cannot silently rot when a chapter changes.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMULA_TESTS = ("test_formulas.py", "conftest.py", "background_pool.py")


@dataclass(frozen=True)
class Mutation:
    id: str
    chapter: str  # relative to docs/
    old: str  # a whole line of the chapter's code, indentation included
    new: str
    caught_by: str  # the test function of test_formulas.py that must fail first


MUTATIONS = [
    Mutation(
        "dw1-without-1-over-m",
        "backward.md",
        "dW1 = 1 / m * (dZ1 @ X.T)\n",
        "dW1 = dZ1 @ X.T\n",
        "test_backward_matches_autograd",
    ),
    Mutation(
        "relu-derivative-ge",
        "activations.md",
        "    return (Z > 0).astype(Z.dtype)\n",
        "    return (Z >= 0).astype(Z.dtype)\n",
        "test_relu_derivative_matches_autograd",
    ),
    Mutation(
        "dw2-transposed",
        "backward.md",
        "dW2 = 1 / m * (dZ2 @ A1.T)\n",
        "dW2 = 1 / m * (A1 @ dZ2.T)\n",
        "test_backward_matches_autograd",
    ),
    Mutation(
        "dz1-w2-not-transposed",
        "backward.md",
        'dA1 = params["W2"].T @ dZ2\n',
        'dA1 = params["W2"] @ dZ2\n',
        "test_backward_matches_autograd",
    ),
    Mutation(
        "db2-wrong-axis",
        "backward.md",
        "db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)\n",
        "db2 = 1 / m * np.sum(dZ2, axis=0, keepdims=True)\n",
        "test_backward_matches_autograd",
    ),
    Mutation(
        "softmax-wrong-axis",
        "activations.md",
        "    return exps / exps.sum(axis=0, keepdims=True)\n",
        "    return exps / exps.sum(axis=1, keepdims=True)\n",
        "test_forward_matches_torch",
    ),
    Mutation(
        "cross-entropy-summed",
        "loss.md",
        "    return float(-np.sum(np.log(correct)) / m)\n",
        "    return float(-np.sum(np.log(correct)))\n",
        "test_cross_entropy_matches_torch",
    ),
    Mutation(
        "update-ascent",
        "gradient-descent.md",
        "        new_params[name] = params[name] - lr * gradient\n",
        "        new_params[name] = params[name] + lr * gradient\n",
        "test_update_matches_torch_sgd",
    ),
    Mutation(
        "minibatch-same-examples",
        "going-further.md",
        "            order.append(permutation[start : start + batch_size])\n",
        "            order.append(permutation[:batch_size])\n",
        "test_minibatch_gradient_is_unbiased",
    ),
    Mutation(
        "he-variance-one-over-n",
        "forward.md",
        '            "W1": rng.normal(0.0, np.sqrt(2.0 / n_in), size=shapes["W1"]),\n',
        '            "W1": rng.normal(0.0, np.sqrt(1.0 / n_in), size=shapes["W1"]),\n',
        "test_he_variance_matches_a_large_sample",
    ),
    Mutation(
        "momentum-ascent",
        "going-further.md",
        "    new_params[name] = params[name] - lr * velocity\n",
        "    new_params[name] = params[name] + lr * velocity\n",
        "test_momentum_matches_torch_sgd",
    ),
    Mutation(
        "adam-no-bias-correction",
        "going-further.md",
        "phi_hat = phi / (1 - beta1**t)\n",
        "phi_hat = phi\n",
        "test_adam_matches_torch",
    ),
    Mutation(
        "adam-eps-under-sqrt",
        "going-further.md",
        "new_params[name] = params[name] - lr * phi_hat / (np.sqrt(v_hat) + eps)\n",
        "new_params[name] = params[name] - lr * phi_hat / np.sqrt(v_hat + eps)\n",
        "test_adam_matches_torch",
    ),
    Mutation(
        "cosine-full-period",
        "going-further.md",
        "    return float(lr / 2 * (1 + np.cos(np.pi * step / total_steps)))\n",
        "    return float(lr / 2 * (1 + np.cos(2 * np.pi * step / total_steps)))\n",
        "test_cosine_schedule_matches_torch",
    ),
]


def mutate(text: str, mutation: Mutation) -> str:
    """Apply ``mutation`` to a chapter's text; it must match exactly once."""
    count = text.count(mutation.old)
    assert count == 1, (
        f"mutation {mutation.id}: {mutation.old.strip()!r} occurs {count} times in "
        f"docs/{mutation.chapter} (expected once): update tests/test_mutations.py to the chapter"
    )
    return text.replace(mutation.old, mutation.new)


def entangled_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("entangled")
    found = str(beside_python) if beside_python.exists() else shutil.which("entangled")
    assert found, "the entangled command is not installed (pip install entangled-cli)"
    return [found, "tangle"]


def tangled_copy(destination: Path, mutation: Mutation | None) -> Path:
    """Copy the chapters and the formula tests to ``destination``, mutate, tangle there."""
    shutil.copytree(
        ROOT / "docs",
        destination / "docs",
        ignore=shutil.ignore_patterns(
            "img", "assets", "hooks", "__pycache__", "*.png", "*.py"
        ),
    )
    for name in ("entangled.toml", "pyproject.toml"):
        shutil.copy2(ROOT / name, destination / name)
    (destination / "tests").mkdir()
    for name in FORMULA_TESTS:
        shutil.copy2(ROOT / "tests" / name, destination / "tests" / name)
    shutil.copytree(  # the registry the formula tests read
        ROOT / "booktools",
        destination / "booktools",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    if mutation is not None:
        chapter = destination / "docs" / mutation.chapter
        chapter.write_text(
            mutate(chapter.read_text(encoding="utf-8"), mutation), encoding="utf-8"
        )
    result = subprocess.run(
        entangled_command(), cwd=destination, capture_output=True, text=True, timeout=120
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0 and "ERROR" not in log and "Missing" not in log, (
        f"tangle failed:\n{log}"
    )
    if mutation is not None:
        package = "".join(
            path.read_text(encoding="utf-8")
            for path in (destination / "mnist_math").glob("*.py")
        )
        assert mutation.new.strip() in package, (
            f"{mutation.id}: the mutated line did not reach the package"
        )
    return destination


# A run is a fresh process with the copy first on its path. Starting Python and importing
# NumPy, PyTorch and pytest was two thirds of a run's time: one "zygote" process imports them
# once and forks a child per run, which imports the copy's package and runs pytest.
ZYGOTE = r"""
import json, os, signal, sys
import numpy, pytest, torch  # what every run imports, imported once before the forks

for line in sys.stdin:
    copy, log, arguments = json.loads(line)
    child = os.fork()
    if child == 0:
        signal.alarm(300)  # a run that hangs is killed, and reported by its status
        sys.dont_write_bytecode = True
        os.chdir(copy)
        sys.path.insert(0, copy)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        status = int(pytest.main(arguments))
        package = sys.modules.get("mnist_math")
        print("mnist_math imported from", getattr(package, "__file__", None))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    _pid, status = os.waitpid(child, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


@dataclass(frozen=True)
class FormulaRun:
    """One run of formula tests in a copy: pytest's exit status and output, and the file of
    the ``mnist_math`` it imported."""

    returncode: int
    stdout: str
    imported: str


class FormulaRuns:
    """Run formula tests in tangled copies, each run a fresh child of one zygote."""

    def __enter__(self) -> "FormulaRuns":
        self.zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        return self

    def run(self, copy: Path, tests: list[str]) -> FormulaRun:
        """Run the named test functions of the copy's tests/test_formulas.py (only the
        tests that should catch a mutation run: the others cannot change the verdict)."""
        log = copy / "pytest.log"
        arguments = [f"tests/test_formulas.py::{name}" for name in tests]
        arguments += ["-x", "-q", "-p", "no:cacheprovider"]
        self.zygote.stdin.write(json.dumps([str(copy), str(log), arguments]) + "\n")
        self.zygote.stdin.flush()
        status = self.zygote.stdout.readline()
        assert status, f"the zygote process died (exit status {self.zygote.poll()})"
        output = log.read_text(encoding="utf-8")
        last = output.rstrip().rpartition("\n")[2]
        return FormulaRun(
            int(status), output, last.removeprefix("mnist_math imported from ")
        )

    def __exit__(self, *exc) -> None:
        self.zygote.stdin.close()
        self.zygote.wait(timeout=60)


def run_mutations(
    folder: Path, mutations: list[Mutation], control: bool
) -> dict[str, tuple[Path, FormulaRun]]:
    """Tangle a copy per mutation (and an unmutated one for the control) under ``folder``
    and run the tests that should catch it: ``{id or "control": (copy, run)}``."""
    results = {}
    with FormulaRuns() as runs:
        if control:
            copy = tangled_copy(folder / "control", None)
            catchers = sorted({mutation.caught_by for mutation in MUTATIONS})
            results["control"] = (copy, runs.run(copy, catchers))
        for mutation in mutations:
            copy = tangled_copy(folder / mutation.id, mutation)
            results[mutation.id] = (copy, runs.run(copy, [mutation.caught_by]))
    return results


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The control and the mutations this session's tests ask for, tangled and run in the
    background from the session's start (tests/conftest.py)."""
    mutations = [
        item.callspec.params["mutation"]
        for item in items
        if item.originalname == "test_mutation_is_caught"
    ]
    control = any(item.originalname == "test_unmutated_copy_passes" for item in items)
    if not mutations and not control:
        return []
    folder = tmp_path_factory.mktemp("mutations")
    return [(2, "mutations", run_mutations, (folder, mutations, control))]


@pytest.mark.parametrize(
    "mutation", MUTATIONS, ids=[mutation.id for mutation in MUTATIONS]
)
def test_mutation_matches_its_chapter_once(mutation: Mutation) -> None:
    mutate((ROOT / "docs" / mutation.chapter).read_text(encoding="utf-8"), mutation)


def test_chapter_lists_every_mutation() -> None:
    chapter = (ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    unlisted = [
        mutation.id for mutation in MUTATIONS if f"`{mutation.id}`" not in chapter
    ]
    assert not unlisted, f"docs/verification.md does not list the mutations {unlisted}"


@pytest.mark.slow
def test_unmutated_copy_passes(background) -> None:
    """The control: the same setup without a mutation passes, and imports the copy."""
    copy, result = background.result("mutations")["control"]
    assert Path(result.imported).resolve().is_relative_to(copy.resolve()), (
        f"the run imported mnist_math from {result.imported}, not from the tangled copy"
    )
    assert result.returncode == 0, (
        f"the unmutated copy fails its formula tests:\n{result.stdout[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "mutation", MUTATIONS, ids=[mutation.id for mutation in MUTATIONS]
)
def test_mutation_is_caught(mutation: Mutation, background, record_property) -> None:
    record_property("mutation", mutation.id)
    copy, result = background.result("mutations")[mutation.id]
    assert Path(result.imported).resolve().is_relative_to(copy.resolve()), (
        f"the run imported mnist_math from {result.imported}, not from the mutated copy"
    )
    failed = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("FAILED", "ERROR"))
    ]
    caught = result.returncode == 1 and any(
        f"::{mutation.caught_by}[" in line or f"::{mutation.caught_by} " in line
        for line in failed
    )
    record_property("caught", caught)
    assert result.returncode == 1, (
        f"mutation {mutation.id} ({mutation.new.strip()!r} in docs/{mutation.chapter}) was not caught: "
        f"pytest exited {result.returncode}\n{result.stdout[-3000:]}"
    )
    assert caught, (
        f"mutation {mutation.id} was caught, but not first by {mutation.caught_by}: {failed}"
    )
