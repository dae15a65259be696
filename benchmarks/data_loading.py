"""How long loading MNIST takes, step by step (the appendix "Getting MNIST anywhere").

Run from the repository root: `python benchmarks/data_loading.py`. It reads the cache
(`load_mnist()` fills it first if needed), never writes to it, and writes its own files
to a temporary folder. Each time is the median of several runs; on a busy machine the
numbers vary from run to run, their ratios less so.
"""

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_math.data import KEYS, cache_path, load_mnist, read_npz, sha256_of, verify


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
    """Print the size of the cache and the time of each loading step."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    cache = cache_path()
    print(f"cache file (uncompressed .npz): {cache.stat().st_size / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as folder:
        compressed = Path(folder) / "mnist-compressed.npz"
        np.savez_compressed(compressed, **arrays)
        print(
            f"the same arrays compressed (np.savez_compressed): "
            f"{compressed.stat().st_size / 1e6:.1f} MB"
        )
        print(
            f"read the cache (read_npz, headers checked first): "
            f"{median_seconds(lambda: read_npz(cache)):.3f} s"
        )
        print(
            f"read the compressed file (np.load): "
            f"{median_seconds(lambda: read_compressed(compressed)):.3f} s"
        )
    print(
        f"sha256 of the four arrays: "
        f"{median_seconds(lambda: [sha256_of(a) for a in arrays.values()]):.3f} s"
    )
    print(
        f"verify (structure and sha256): "
        f"{median_seconds(lambda: verify(arrays, 'benchmark')):.3f} s"
    )
    print(f"load_mnist() from the cache: {median_seconds(load_mnist):.3f} s")
    test_csv = csv_bytes(x_test, y_test)

    def parse() -> np.ndarray:
        stream = io.BytesIO(test_csv)
        stream.readline()
        return np.loadtxt(stream, delimiter=",", dtype=np.uint8, ndmin=2)

    seconds = median_seconds(parse, repeat=3)
    print(
        f"parse the test set as CSV, as in the wheel ({len(test_csv) / 1e6:.1f} MB): "
        f"{seconds:.2f} s, {len(test_csv) / 1e6 / seconds:.0f} MB/s"
    )


if __name__ == "__main__":
    main()
