# ~/~ begin <<docs/handwriting.md#mnist_math/model_io.py>>[init]
"""Saving and loading a trained network: one ``.npz`` file, no pickles, checked on load.

Tangled from the book's chapter "12. Reading your own handwriting" (docs/handwriting.md).
"""

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from importlib import metadata
from pathlib import Path

import numpy as np

from ._checks import check_params

# ~/~ begin <<docs/handwriting.md#handwriting-model-format>>[init]
PARAM_NAMES = ("W1", "b1", "W2", "b2")
FORMAT = "mnist-math-params"
FORMAT_VERSION = 1
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
"""What reading a damaged archive can raise ; each becomes a ModelFileError."""


class ModelFileError(ValueError):
    """A model file is missing, damaged, of the wrong kind, or holds the wrong arrays.

    The message starts with the file's path and says what is wrong with it.
    """


def params_checksum(params: dict[str, np.ndarray]) -> str:
    """SHA-256 of the four arrays: their names, dtypes, shapes and little-endian bytes.

    Args:
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), all float32 or
            all float64.

    Returns:
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    for name in PARAM_NAMES:
        array = params[name]
        little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        digest.update(f"{name} {array.dtype.str[1:]} {array.shape}\n".encode("ascii"))
        digest.update(little.tobytes())
    return digest.hexdigest()


def package_version() -> str:
    """The installed version of mnist-math ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("mnist-math")
    except metadata.PackageNotFoundError:
        return "unknown"
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-save>>[init]
def save_params(
    path: str | os.PathLike[str],
    params: dict[str, np.ndarray],
    meta: dict | None = None,
) -> Path:
    """Save a trained network to one ``.npz`` file, atomically.

    The archive holds ``W1, b1, W2, b2`` and ``meta``, a JSON text: the caller's ``meta``
    (how the network was trained, its test accuracy, ...) with the fields ``format``,
    ``format_version``, ``architecture`` ([n, h, k]), ``dtype``, ``package_version`` and
    ``sha256`` (of the four arrays) filled in.

    Args:
        path: The file to write (the name is used as given; ``.npz`` is the convention).
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), all float32 or
            all float64, finite.
        meta: JSON-serialisable facts about the network (numbers, strings, lists, dicts).

    Returns:
        The path written.

    Raises:
        TypeError, ValueError: invalid parameters, or ``meta`` is not JSON-serialisable.
        OSError: the file could not be written (nothing is left behind).
    """
    params = check_params(params)
    dtypes = {params[name].dtype for name in PARAM_NAMES}
    if len(dtypes) != 1 or dtypes.pop() not in DTYPES:
        found = ", ".join(f"{name} {params[name].dtype}" for name in PARAM_NAMES)
        raise TypeError(
            f"the four arrays must all be float32 or all float64, got {found}"
        )
    if meta is not None and not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    full_meta = dict(meta or {})
    full_meta.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        architecture=[
            params["W1"].shape[1],
            params["W1"].shape[0],
            params["W2"].shape[0],
        ],
        dtype=str(params["W1"].dtype),
        package_version=package_version(),
        sha256=params_checksum(params),
    )
    try:
        text = json.dumps(full_meta, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"meta must be JSON-serialisable: {error}") from error
    target = Path(path)
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
    )
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, meta=np.array(text), **params)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)  # reading the umask means setting it; set it back at once
        os.umask(umask)
        os.chmod(
            temporary, 0o666 & ~umask
        )  # mkstemp's file is private; a new file is not
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
# ~/~ end

# ~/~ begin <<docs/handwriting.md#handwriting-load>>[init]
SWAPPED = "not a network (the model comes first: MODEL.npz IMAGE ...)"
MAGIC = {
    b"PK\x03\x04": "npz",
    b"PK\x05\x06": "npz",
    b"\x93NUMPY": "a single .npy array, not an .npz archive of a network",
    b"\x89PNG": f"a PNG image, {SWAPPED}",
    b"\xff\xd8\xff": f"a JPEG image, {SWAPPED}",
    b"\x80": "a pickle, which can run code when loaded: refused (use save_params)",
}


def _kind_of(path: Path) -> str:
    with open(path, "rb") as stream:
        head = stream.read(8)
    if not head:
        return "an empty file"
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return f"not an .npz archive (it starts with the bytes {head!r})"


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    """Every entry of the archive, read without unpickling; damage is a ModelFileError."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ModelFileError(
                f"{path}: holds pickled (object) arrays, which can run code: refused"
            ) from error
        raise ModelFileError(f"{path}: damaged .npz archive: {error}") from error
    except zipfile.BadZipFile as error:
        if "CRC" in str(error):
            message = f"{path}: damaged: {error} (the bytes changed after saving)"
        else:
            message = f"{path}: truncated or damaged .npz archive: {error}"
        raise ModelFileError(message) from error
    except READ_ERRORS as error:
        message = f"{path}: truncated or damaged .npz archive: {error}"
        raise ModelFileError(message) from error


def _read_meta(path: Path, entry: np.ndarray) -> dict:
    if entry.dtype.kind != "U" or entry.ndim != 0:
        found = f"{entry.dtype} of shape {entry.shape}"
        raise ModelFileError(f"{path}: meta must be a JSON text, got {found}")
    try:
        meta = json.loads(str(entry))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: meta is not valid JSON: {error}") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: meta does not describe an {FORMAT} file")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        message = f"format version {version!r}, expected {FORMAT_VERSION}"
        raise ModelFileError(f"{path}: {message}")
    architecture = meta.get("architecture")
    if not (
        isinstance(architecture, list)
        and len(architecture) == 3
        and all(isinstance(size, int) and size >= 1 for size in architecture)
    ):
        message = f"meta's architecture must be [n, h, k], got {architecture!r}"
        raise ModelFileError(f"{path}: {message}")
    return meta


def load_params(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict]:
    """Load a network saved by ``save_params``, checking everything on the way.

    Args:
        path: The ``.npz`` file.

    Returns:
        The pair ``(params, meta)``: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2``
            (k, 1), as saved (float32 or float64), and the dict of facts stored with them.

    Raises:
        ModelFileError: the file is missing, empty, truncated, damaged or tampered with, is
            not an ``.npz`` archive (a pickle, a single ``.npy``, an image), or holds arrays
            with the wrong names, dtypes, shapes or non-finite numbers. The message names
            the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    kind = _kind_of(path)
    if kind != "npz":
        raise ModelFileError(f"{path}: {kind}")
    entries = _read_archive(path)
    expected = set(PARAM_NAMES) | {"meta"}
    if set(entries) != expected:
        missing = ", ".join(sorted(expected - set(entries))) or "nothing"
        extra = ", ".join(sorted(set(entries) - expected)) or "nothing"
        message = f"expected W1, b1, W2, b2 and meta; missing {missing}, extra {extra}"
        raise ModelFileError(f"{path}: {message}")
    meta = _read_meta(path, entries["meta"])
    params = {name: entries[name] for name in PARAM_NAMES}
    for name, array in params.items():
        if array.dtype.name != meta.get("dtype") or array.dtype not in DTYPES:
            message = f"{name} is {array.dtype}, the meta says {meta.get('dtype')}"
            raise ModelFileError(f"{path}: {message}")
    n, h, k = meta["architecture"]
    shapes = {"W1": (h, n), "b1": (h, 1), "W2": (k, h), "b2": (k, 1)}
    for name, shape in shapes.items():
        if params[name].shape != shape:
            found = params[name].shape
            message = f"{name} has shape {found}, a {n}-{h}-{k} network needs {shape}"
            raise ModelFileError(f"{path}: {message}")
    try:
        params = check_params(params)
    except ValueError as error:
        raise ModelFileError(f"{path}: {error}") from error
    if params_checksum(params) != meta.get("sha256"):
        message = "the arrays do not match their checksum (modified after saving)"
        raise ModelFileError(f"{path}: {message}")
    return params, meta
# ~/~ end
# ~/~ end