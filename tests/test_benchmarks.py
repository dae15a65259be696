"""The benchmarks of chapter 9 write every table and number the book quotes from them.

``benchmarks/speed.py`` and ``benchmarks/precision.py`` take minutes and want a quiet
machine, so the test suite does not run them. It runs their ``report`` functions, which
turn measurements into the tables (docs/generated/*.md) and the numbers of the sentences
(docs/generated/*.json), on made-up measurements, and checks that every table a page
includes and every number a page quotes is one the script writes, and that every table
names the machine it was measured on.
"""

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from booktools.numbers import MARKER_RE, load_numbers

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "fast.md", ROOT / "docs" / "engines.md"]
FOOTER = "Measured on a made-up machine"


def load(name: str):
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quoted(prefix: str) -> tuple[set[str], set[str]]:
    """The keys ``prefix.*`` the pages quote and the ``prefix*.md`` tables they include."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    keys = {
        match["key"].split(".", 1)[1]
        for match in MARKER_RE.finditer(text)
        if match["key"].startswith(prefix + ".")
    }
    tables = set(re.findall(rf'--8<-- "docs/generated/({prefix}[^"]*)"', text))
    return keys, tables


def test_speed_report_writes_what_the_chapter_quotes() -> None:
    pytest.importorskip("torch")  # speed.py times the torch twin too
    speed = load("speed")
    labels = ("seed", "reference64", "reference32", "fast64", "fast32_1", "fast32")
    table = {label: (label, "float32", "2 threads", None) for label in labels}
    table["torch32"] = ("torch", "float32", "torch: 2", None)
    wall = {label: 20.0 + index for index, label in enumerate(table)}
    wall.update(chunk128=33.0, chunk1024=22.0, chunk8192=27.0)
    work = {label: 40.0 + index for index, label in enumerate(table)}
    measured = {
        "wall": wall,
        "work": work,
        "points": {
            "read1": 0.008,
            "read": 0.004,
            "skinny1": 0.02,
            "skinny": 0.014,
            "square1": 0.14,
            "square": 0.07,
            "square_flop": 2 * 2048**3,
            "skinny_flop": 2 * 10 * 784 * 60000,
            "bytes": 784 * 60000 * 4,
        },
        "dw1": {
            "plain_float32": 20.5,
            "transposed_float32": 18.3,
            "plain_float64": 44.4,
            "transposed_float64": 37.4,
        },
        "memory": {"seed": 43.8e6, "reference32": 47.0e6, "fast32": 0.9e6},
    }
    data = {
        "X32": SimpleNamespace(nbytes=784 * 60000 * 4),
        "X64": SimpleNamespace(nbytes=784 * 60000 * 8),
    }
    tables, numbers = speed.report(table, measured, data, (128, 1024, 8192), FOOTER)
    keys, included = quoted("speed")
    assert keys <= set(numbers), f"quoted but not written: {sorted(keys - set(numbers))}"
    assert included <= set(tables), f"included but not written: {included - set(tables)}"
    for name, text in tables.items():
        assert FOOTER in text, f"{name} does not name the machine"
    assert numbers["x_fast32"] == f"{20.0 / 25.0:.2f}×"
    assert numbers["float32_work"] == f"{41.0 / 42.0:.2f}×"
    assert numbers["seed_cores"] == f"{40.0 / 20.0:.2f}×"
    assert "| float64 | 44.4 | 37.4 | yes |" in tables["speed-dw1.md"]


def test_precision_report_writes_what_the_chapter_quotes() -> None:
    precision = load("precision")
    rng = np.random.default_rng(0)
    weights = {
        name: rng.uniform(-0.5, 0.5, (10, 10)) for name in ("W1", "b1", "W2", "b2")
    }

    def off_by(scale: float) -> dict:
        return {
            t: {name: value + scale * t for name, value in weights.items()}
            for t in precision.CHECKPOINTS
        }

    results = {
        "reference": {"snapshots": off_by(0.0), "loss": 0.5, "accuracy": 0.8542},
        "fast64": {"snapshots": off_by(1e-18), "loss": 0.5, "accuracy": 0.8542},
        "fast32": {"snapshots": off_by(1e-9), "loss": 0.5, "accuracy": 0.8541},
    }
    for result in results.values():
        result["seconds"] = 10.0
    tables, numbers = precision.report(results, FOOTER)
    keys, included = quoted("precision")
    assert keys <= set(numbers), f"quoted but not written: {sorted(keys - set(numbers))}"
    assert included <= set(tables), f"included but not written: {included - set(tables)}"
    for name, text in tables.items():
        assert FOOTER in text, f"{name} does not name the machine"
    assert numbers["gap_fast32"] == "0.01"
    # float32 off by 1e-9 * t against tau = 2 (t + 1) u max|theta|: largest ratio at t = 500
    assert numbers["drift_max_dtype"] == "float32"
    assert numbers["drift_max_at"] == "500"


def test_the_speed_words_hold_on_a_quiet_measurement() -> None:
    """Chapter 9's sentences quote the measurements through markers, and also say what they
    mean in words ("faster in both dtypes", "most of the difference"). When the benchmarks
    are rerun, the numbers follow by themselves; this test fails if the words no longer
    do, so that the sentence is rewritten rather than left wrong."""
    numbers = load_numbers()
    if numbers["speed.quiet"] != "yes":
        pytest.skip(
            "docs/generated/speed.json was measured on a busy machine (load average "
            f"{numbers['speed.load_before']} before the run): its wall-clock times cannot "
            "confirm chapter 9's words; rerun `python benchmarks/speed.py` on a quiet one"
        )

    def value(key: str) -> float:
        return float(numbers[key].rstrip("×%"))

    v = value
    # Each claim holds when its first number is below its second.
    claims = [
        # "W1 @ X ... most of a product's time goes into moving X"
        ("W1 @ X runs below half the nominal peak", v("speed.skinny_share"), 50),
        ("the chunks save work", v("speed.work_fast32"), v("speed.work_reference32")),
        (
            "the transposed dW1 form is faster in float32",
            v("speed.dw1_transposed_float32"),
            v("speed.dw1_plain_float32"),
        ),
        (
            "the transposed dW1 form is faster in float64",
            v("speed.dw1_transposed_float64"),
            v("speed.dw1_plain_float64"),
        ),
        (
            "the reference does the seed's work in about the same time (10%)",
            abs(v("speed.work_reference64") / v("speed.work_seed") - 1),
            0.1,
        ),
        # of the factors of the speed-up, float32's is more than half of it (in logs)
        (
            "float32 makes most of the difference",
            v("speed.x_fast32"),
            v("speed.float32_work") ** 2,
        ),
        # both engines turn a core's work into less wall-clock time, and within 15% of
        # each other ("about as well")
        ("the seed's BLAS uses the second core", 1.3, v("speed.seed_cores")),
        ("train_fast's threads use the second core", 1.3, v("speed.fast_cores")),
        (
            "train_fast's threads use it about as well as the seed's BLAS",
            abs(v("speed.fast_cores") / v("speed.seed_cores") - 1),
            0.15,
        ),
        (
            "train_fast reads X far below the read rate (a third of it at most)",
            v("speed.fast_gbs"),
            v("speed.read_gbs") / 3,
        ),
        ("the torch twin is slower", v("speed.ms_fast32"), v("speed.ms_torch32")),
    ]
    broken = [claim for claim, low, high in claims if not low < high]
    assert not broken, (
        "docs/generated/*.json contradicts chapter 9's words: "
        + "; ".join(broken)
        + " (rewrite the sentence, or rerun the benchmark on a quiet machine)"
    )


def test_the_precision_words_hold_on_the_committed_measurements() -> None:
    """The drift and the accuracies do not depend on the machine's load: chapter 9's words
    about them are checked against whatever precision.py last wrote."""
    numbers = load_numbers()
    drift_at_20 = max(
        float(numbers["precision.drift_fast32_20"]),
        float(numbers["precision.drift_fast64_20"]),
    )
    assert drift_at_20 < 1, (
        "the tolerance no longer holds at 20 iterations, where tests/test_fast.py uses it"
    )
    gap = float(numbers["precision.gap_fast32"])
    assert gap <= 0.3, f"float32 is {gap} points from the reference's test accuracy"
