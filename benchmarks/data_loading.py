"""How long loading MNIST takes, step by step (the appendix "Getting MNIST anywhere").

Run from the repository root: `python benchmarks/data_loading.py`. It reads the cache
(`load_mnist()` fills it first if needed), never writes to it, and writes its own files
to a temporary folder. Each time is the median of several runs; on a busy machine the
numbers vary from run to run, their ratios less so. Writes the appendix's table,
docs/generated/data-loading.md, and the numbers its prose states, data-loading.json.
"""

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_math.data import load_mnist
from mnist_math.sources import KEYS, cache_path, read_npz, sha256_of, verify

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the book's tooling, for a script run from the repository
from booktools import machine, numbers  # noqa: E402

GENERATED = ROOT / "docs" / "generated"


def median_seconds(work: Callable[[], object], repeat: int = 5) -> float:
    """Median wall-clock time of `work()` over `repeat` runs, after one warm-up run."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def read_compressed(path: Path) -> dict[str, np.ndarray]:
    """Read the four arrays of a compressed .npz with np.load (plain arrays only)."""
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in KEYS}


def csv_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The wheel's CSV layout: a header line, then the label and 784 pixels per line."""
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    table = np.column_stack([labels, images.reshape(len(images), -1)])
    lines = [header] + [",".join(map(str, row)) for row in table.tolist()]
    return ("\n".join(lines) + "\n").encode("ascii")


def main() -> None:
    """Time each loading step; print and write the appendix's table and its numbers."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    cache = cache_path()
    size = cache.stat().st_size / 1e6
    with tempfile.TemporaryDirectory() as folder:
        compressed = Path(folder) / "mnist-compressed.npz"
        np.savez_compressed(compressed, **arrays)
        compressed_size = compressed.stat().st_size / 1e6
        read = median_seconds(lambda: read_npz(cache))
        read_compressed_s = median_seconds(lambda: read_compressed(compressed))
    hashing = median_seconds(lambda: [sha256_of(a) for a in arrays.values()])
    verifying = median_seconds(lambda: verify(arrays, "benchmark"))
    warm = median_seconds(load_mnist)
    test_csv = csv_bytes(x_test, y_test)

    def parse() -> np.ndarray:
        stream = io.BytesIO(test_csv)
        stream.readline()
        return np.loadtxt(stream, delimiter=",", dtype=np.uint8, ndmin=2)

    parsing = median_seconds(parse, repeat=3)
    rows = [
        ("the cache file (uncompressed .npz)", f"{size:.1f} MB"),
        (
            "the same arrays compressed (`np.savez_compressed`)",
            f"{compressed_size:.1f} MB",
        ),
        ("read the cache (`read_npz`, headers checked first)", f"{read:.3f} s"),
        ("read the compressed file (`np.load`)", f"{read_compressed_s:.3f} s"),
        ("sha256 of the four arrays", f"{hashing:.3f} s"),
        ("`verify` (structure and sha256)", f"{verifying:.3f} s"),
        ("`load_mnist()` from the cache", f"{warm:.3f} s"),
        (
            f"parse the test set as CSV, as in the wheel ({len(test_csv) / 1e6:.1f} MB)",
            f"{parsing:.2f} s ({len(test_csv) / 1e6 / parsing:.0f} MB/s)",
        ),
    ]
    lines = ["| step | size or median time |", "|---|---|"]
    lines += [f"| {step} | {value} |" for step, value in rows]
    lines += ["", machine.describe()]
    text = "\n".join(lines) + "\n"
    print(text)
    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "data-loading.md").write_text(text, encoding="utf-8")
    numbers.write_numbers(
        "data-loading",
        {
            "disk_ratio": f"{size / compressed_size:.1f}",
            "read_ratio": f"{read_compressed_s / read:.1f}",
            "hash_vs_read": f"{hashing / read:.1f}",
            "warm_load": f"{warm:.2f} s",
        },
    )
    print(f"wrote {GENERATED / 'data-loading.md'} and data-loading.json")


if __name__ == "__main__":
    main()
