# ~/~ begin <<docs/model-files.md#mnist_math/model_io.py>>[init]
"""Saving and loading a trained network: ``.npz`` or ``.safetensors``, never a pickle.

Tangled from the book's "Appendix: Model files and images" (docs/model-files.md); chapter
12, "Reading your own handwriting" (docs/handwriting.md), shows how to use it.
"""

import hashlib
import json
import math
import os
import re
import struct
import time
import zipfile
import zlib
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._checks import PARAM_NAMES, check_params
from ._files import (
    STALE_SECONDS,
    TargetError,
    atomic_write,
    check_target,
    open_regular,
    remove_stale_partials,
)

# ~/~ begin <<docs/model-files.md#model-files-format>>[init]
FORMAT = "mnist-math-params"
FORMAT_VERSION = 1
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
SAFETENSORS_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
"""The safetensors names of the two dtypes; its numbers are little-endian."""


class ModelFileError(ValueError):
    """A model file is missing, damaged, of the wrong kind, too large, or holds the wrong
    arrays.

    The message starts with the file's path and says what is wrong with it.
    """


def params_checksum(params: dict[str, np.ndarray]) -> str:
    """SHA-256 of the four arrays: their names, dtypes, shapes and little-endian bytes.

    It catches arrays changed by accident after saving, not a deliberate edit: whoever
    changes an array can recompute it.

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
        digest.update(little)
    return digest.hexdigest()


def package_version() -> str:
    """The installed version of mnist-math ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("mnist-math")
    except metadata.PackageNotFoundError:
        return "unknown"


def expected_shapes(architecture: list[int]) -> dict[str, tuple[int, int]]:
    """The shapes of ``W1, b1, W2, b2`` for an [n, h, k] network."""
    n, h, k = architecture
    return {"W1": (h, n), "b1": (h, 1), "W2": (k, h), "b2": (k, 1)}
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-limits>>[init]
MAX_PARAMETERS = 2**24
"""At most this many numbers in W1, b1, W2, b2 together: 16,777,216 (128 MiB in float64).

The widest network of the book, 784-800-10 (the ``long`` recipe), has 636,010; a 784-h-10
network reaches the limit at h = 21,103.
"""

MAX_META_BYTES = 2**20
"""At most this many characters in the meta's JSON text (1 MiB)."""

MAX_META_DEPTH = 32
"""At most this many levels of lists and dicts inside one another in the meta."""

MAX_HEADER_BYTES = MAX_META_BYTES + 2**16
"""At most this many bytes in a safetensors header (the meta and four tensor entries)."""

MAX_NPY_HEADER = 10_000
"""At most this many bytes in the header of one .npy entry (NumPy's own limit)."""

MAX_FILE_BYTES = 8 * MAX_PARAMETERS + 4 * MAX_META_BYTES + 2**20
"""No larger file is read: the arrays, the meta as .npz stores it (4 bytes a character)
and a MiB for the zip's own records."""


def parameter_count(architecture: list[int]) -> int:
    """How many numbers an [n, h, k] network has: h n + h + k h + k."""
    shapes = expected_shapes(architecture)
    return sum(math.prod(shape) for shape in shapes.values())
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-meta>>[init]
def meta_depth(value: object) -> int:
    """How many levels of lists and dicts nest in ``value``, counted up to
    ``MAX_META_DEPTH + 1`` without recursion (0 for a number or a string)."""
    depth = 0
    level = [value]
    while depth <= MAX_META_DEPTH:
        containers = [item for item in level if isinstance(item, dict | list | tuple)]
        if not containers:
            break
        depth += 1
        level = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def meta_text(params: dict[str, np.ndarray], meta: dict | None) -> str:
    """The JSON text saved with ``params``: the caller's ``meta`` and the book's fields."""
    if meta is not None and not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    if meta_depth(meta) > MAX_META_DEPTH:
        raise ValueError(f"meta nests lists and dicts more than {MAX_META_DEPTH} deep")
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
    if len(text) > MAX_META_BYTES:
        raise ValueError(
            f"meta is {len(text):,} characters of JSON, more than {MAX_META_BYTES:,}"
        )
    return text


def read_meta(path: Path, text: str) -> dict:
    """The meta of a file, checked: JSON, its size, its nesting and the book's fields."""
    if len(text) > MAX_META_BYTES:
        size = f"{len(text):,} characters"
        raise ModelFileError(f"{path}: meta is {size}, more than {MAX_META_BYTES:,}")
    try:
        meta = json.loads(text)
    except RecursionError:
        meta = None  # nested too deeply for Python's reader: refused just below
        depth = MAX_META_DEPTH + 1
    except ValueError as error:  # JSONDecodeError, or an integer of 4,300+ digits
        raise ModelFileError(f"{path}: meta is not valid JSON: {error}") from None
    else:
        depth = meta_depth(meta)
    if depth > MAX_META_DEPTH:
        message = f"meta nests lists and dicts more than {MAX_META_DEPTH} deep"
        raise ModelFileError(f"{path}: {message}")
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
        and all(type(size) is int and size >= 1 for size in architecture)
    ):
        found = repr(architecture)[:80]
        message = f"meta's architecture must be [n, h, k], got {found}"
        raise ModelFileError(f"{path}: {message}")
    count = parameter_count(architecture)
    if count > MAX_PARAMETERS:
        n, h, k = architecture
        message = (
            f"a {n}-{h}-{k} network has {count:,} numbers, more than the "
            f"{MAX_PARAMETERS:,} this loader reads: refused before reading them"
        )
        raise ModelFileError(f"{path}: {message}")
    if meta.get("dtype") not in ("float32", "float64"):
        found = repr(meta.get("dtype"))[:80]
        message = f"meta's dtype must be 'float32' or 'float64', got {found}"
        raise ModelFileError(f"{path}: {message}")
    return meta
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-save>>[init]
def save_params(
    path: str | os.PathLike[str],
    params: dict[str, np.ndarray],
    meta: dict | None = None,
) -> Path:
    """Save a trained network to one file, atomically: ``.npz``, or safetensors.

    The file holds ``W1, b1, W2, b2`` and ``meta``, a JSON text: the caller's ``meta`` (how
    the network was trained, its test accuracy, ...) with the fields ``format``,
    ``format_version``, ``architecture`` ([n, h, k]), ``dtype``, ``package_version`` and
    ``sha256`` (of the four arrays) filled in. A name ending in ``.safetensors`` gives a
    safetensors file (tensors ``W1, b1, W2, b2``, the meta in its metadata under
    ``"meta"``); any other name an ``.npz`` archive.

    Args:
        path: The file to write. An existing file is replaced and keeps its permissions.
        params: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2`` (k, 1), all float32 or
            all float64, finite, at most ``MAX_PARAMETERS`` numbers in all.
        meta: JSON-serialisable facts about the network (numbers, strings, lists, dicts),
            nested at most ``MAX_META_DEPTH`` deep.

    Returns:
        The path written.

    Raises:
        TypeError, ValueError: invalid parameters, too many of them, or a ``meta`` that is
            not JSON-serialisable, too deep or too long.
        TargetError: ``path`` is not a regular file (a folder, a FIFO, a device), is
            read-only, or its folder is missing or cannot be written.
        OSError: the file could not be written (nothing is left behind).
    """
    params = check_params(params)
    dtypes = {params[name].dtype for name in PARAM_NAMES}
    if len(dtypes) != 1 or dtypes.pop() not in DTYPES:
        found = ", ".join(f"{name} {params[name].dtype}" for name in PARAM_NAMES)
        raise TypeError(
            f"the four arrays must all be float32 or all float64, got {found}"
        )
    count = sum(params[name].size for name in PARAM_NAMES)
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"the network has {count:,} numbers, more than the {MAX_PARAMETERS:,} "
            "that load_params reads"
        )
    text = meta_text(params, meta)
    if Path(path).suffix == ".safetensors":
        write = safetensors_writer(params, text)
    else:
        write = npz_writer(params, text)
    return atomic_write(path, write)


def npz_writer(params: dict[str, np.ndarray], text: str):
    """The writer of an ``.npz`` archive: ``meta`` and the four arrays."""

    def write(stream: BinaryIO) -> None:
        np.savez(stream, meta=np.array(text), **params)

    return write


def safetensors_writer(params: dict[str, np.ndarray], text: str):
    """The writer of a safetensors file: four little-endian tensors, the meta as metadata."""
    from safetensors.numpy import save

    tensors = {}
    for name in PARAM_NAMES:
        array = params[name]
        tensors[name] = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    data = save(tensors, metadata={"meta": text})

    def write(stream: BinaryIO) -> None:
        stream.write(data)

    return write


def check_save_target(
    path: str | os.PathLike[str],
    *,
    keep: tuple[str | os.PathLike[str], ...] = (),
    architecture: list[int] | None = None,
) -> Path:
    """Refuse, before any training, a path that ``save_params`` could not or should not
    write.

    Args:
        path: Where the network is to be saved.
        keep: Files that must not be replaced, such as the training data and the MNIST
            cache: the same file by inode (a hard link or a symbolic link included) or,
            for one that does not exist yet, by name.
        architecture: [n, h, k] of the network to be saved, to refuse one that
            ``load_params`` would not read.

    Returns:
        ``path`` as a Path.

    Raises:
        TargetError: see ``atomic_write``; or ``path`` is one of ``keep``.
        ValueError: the network would have more than ``MAX_PARAMETERS`` numbers.
    """
    target = check_target(path)
    for other in keep:
        if same_file(target, Path(other)):
            raise TargetError(
                f"{target}: the same file as {other}, which this run reads: refusing "
                "to replace it; save the network elsewhere"
            )
    if architecture is not None and parameter_count(architecture) > MAX_PARAMETERS:
        n, h, k = architecture
        raise ValueError(
            f"a {n}-{h}-{k} network has {parameter_count(architecture):,} numbers, more "
            f"than the {MAX_PARAMETERS:,} a model file may hold: use fewer hidden units"
        )
    return target


def same_file(first: Path, second: Path) -> bool:
    """Whether two paths name one file: by inode when both exist, else by full path."""
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):
        try:
            return first.resolve() == second.resolve()
        except (OSError, RuntimeError):  # a symbolic-link loop
            return False
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-npz>>[init]
NPY_MAGIC = b"\x93NUMPY"
NPY_HEADER = re.compile(
    r"\{'descr': '(?P<descr>[<>|=][a-zA-Z][0-9]{0,10})', "
    r"'fortran_order': (?P<fortran>True|False), "
    r"'shape': \((?P<shape>(?:[0-9]{1,15}, )*(?:[0-9]{1,15},?)?)\), \}"
)
"""The header of a .npy entry, exactly as NumPy writes it (padding aside)."""

ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
"""What ``zipfile`` raises on a damaged archive (after the checks of this module)."""

NPZ_ENTRIES = ("meta", *PARAM_NAMES)


def read_exactly(path: Path, name: str, stream: BinaryIO, size: int) -> bytearray:
    """Read ``size`` bytes of ``name`` from ``stream``, 1 MiB at a time."""
    data = bytearray(size)
    view = memoryview(data)
    count = 0
    while count < size:
        chunk = stream.read(min(2**20, size - count))
        if not chunk:
            message = f"{name} holds {count:,} bytes, {size:,} were declared"
            raise ModelFileError(f"{path}: truncated: {message}")
        view[count : count + len(chunk)] = chunk
        count += len(chunk)
    return data


def npy_header(
    path: Path, name: str, entry: BinaryIO
) -> tuple[np.dtype, tuple, bool, int]:
    """The dtype, shape, Fortran order and header length of a .npy entry."""
    start = read_exactly(path, name, entry, 8)
    if start[:6] != NPY_MAGIC or start[6] not in (1, 2, 3):
        raise ModelFileError(f"{path}: {name} is not a .npy array")
    width = 2 if start[6] == 1 else 4
    length = int.from_bytes(read_exactly(path, name, entry, width), "little")
    if length > MAX_NPY_HEADER:
        message = (
            f"{name}'s .npy header is {length:,} bytes, more than {MAX_NPY_HEADER:,}"
        )
        raise ModelFileError(f"{path}: {message}")
    raw = read_exactly(path, name, entry, length)
    text = raw.decode("latin-1" if start[6] < 3 else "utf-8", errors="replace")
    match = NPY_HEADER.fullmatch(text.rstrip(" \n"))
    if match is None:
        raise ModelFileError(f"{path}: {name} has a damaged .npy header")
    try:
        dtype = np.dtype(match["descr"])
    except (TypeError, ValueError, OverflowError):
        message = f"{name} has an unknown dtype {match['descr']!r}"
        raise ModelFileError(f"{path}: {message}") from None
    shape = tuple(int(size) for size in match["shape"].split(",") if size.strip())
    return dtype, shape, match["fortran"] == "True", 8 + width + length


def check_array(
    path: Path, name: str, found: np.dtype, shape: tuple, meta: dict
) -> tuple[int, ...]:
    """Check an array's declared dtype and shape against the meta; its expected shape."""
    if found.hasobject:
        message = f"{name} holds pickled (object) arrays, which can run code: refused"
        raise ModelFileError(f"{path}: {message}")
    if found.kind != "f" or found.newbyteorder("=") != np.dtype(meta["dtype"]):
        message = f"{name} is {found.name}, the meta says {meta['dtype']}"
        raise ModelFileError(f"{path}: {message}")
    expected = expected_shapes(meta["architecture"])[name]
    if tuple(shape) != expected:
        n, h, k = meta["architecture"]
        message = (
            f"{name} has shape {tuple(shape)}, a {n}-{h}-{k} network needs {expected}"
        )
        raise ModelFileError(f"{path}: {message}")
    return expected


def read_npz(path: Path, stream: BinaryIO) -> tuple[dict, dict[str, np.ndarray]]:
    """The meta and the four arrays of an .npz archive, every size checked first."""
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = check_entries(path, archive)
            meta = read_meta(path, read_npz_meta(path, archive, entries["meta"]))
            params = {
                name: read_npz_array(path, archive, entries[name], name, meta)
                for name in PARAM_NAMES
            }
    except ModelFileError:
        raise
    except ZIP_ERRORS as error:
        why = " ".join(str(error).split())[:200] or type(error).__name__
        raise ModelFileError(
            f"{path}: truncated or damaged .npz archive: {why}"
        ) from None
    return meta, params


def check_names(path: Path, found: list[str], expected: tuple[str, ...]) -> None:
    """Raise ``ModelFileError`` unless ``found`` holds exactly the names ``expected``."""
    missing = ", ".join(name for name in expected if name not in found) or "nothing"
    extra = ", ".join(sorted(set(found) - set(expected)))[:200] or "nothing"
    if missing != "nothing" or extra != "nothing":
        wanted = ", ".join(expected[:-1]) + " and " + expected[-1]
        message = f"expected {wanted}; missing {missing}, extra {extra}"
        raise ModelFileError(f"{path}: {message}")


def check_entries(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name: exactly meta, W1, b1, W2, b2, readable as declared."""
    infos = archive.infolist()
    names = [info.filename.removesuffix(".npy") for info in infos]
    if len(set(names)) != len(names):
        raise ModelFileError(f"{path}: the archive holds an entry twice")
    check_names(path, names, (*PARAM_NAMES, "meta"))
    for info in infos:
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path}: {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            method = info.compress_type
            message = f"{info.filename} is compressed with method {method}, not deflate"
            raise ModelFileError(f"{path}: {message}")
    return dict(zip(names, infos))


def read_npz_meta(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """The meta entry's text: a 0-d array of Unicode, its size checked before reading."""
    with archive.open(info) as entry:
        dtype, shape, _, header = npy_header(path, "meta", entry)
        if dtype.kind != "U" or shape != ():
            found = f"{dtype} of shape {shape}"
            raise ModelFileError(f"{path}: meta must be a JSON text, got {found}")
        if dtype.itemsize // 4 > MAX_META_BYTES:
            size = f"{dtype.itemsize // 4:,} characters"
            raise ModelFileError(f"{path}: meta is {size}, more than {MAX_META_BYTES:,}")
        if info.file_size != header + dtype.itemsize:
            raise ModelFileError(f"{path}: meta's size does not match its header")
        raw = read_exactly(path, "meta", entry, dtype.itemsize)
        if entry.read(1):
            raise ModelFileError(f"{path}: meta is longer than its header says")
    codec = "utf-32-be" if dtype.str[0] == ">" else "utf-32-le"
    try:
        return raw.decode(codec).rstrip("\x00")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: meta is not text") from None


def read_npz_array(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, meta: dict
) -> np.ndarray:
    """One array: header checked against the meta, then exactly its bytes."""
    with archive.open(info) as entry:
        found, shape, fortran, header = npy_header(path, name, entry)
        shape = check_array(path, name, found, shape, meta)
        size = math.prod(shape) * found.itemsize
        if info.file_size != header + size:
            message = f"{name} declares {info.file_size - header:,} bytes, needs {size:,}"
            raise ModelFileError(f"{path}: {message}")
        buffer = np.frombuffer(read_exactly(path, name, entry, size), dtype=found)
        if entry.read(1):  # also where zipfile checks the entry's CRC-32
            raise ModelFileError(f"{path}: {name} is longer than its header says")
    array = buffer.reshape(shape, order="F" if fortran else "C")
    return np.ascontiguousarray(array, dtype=found.newbyteorder("="))
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-safetensors>>[init]
def read_safetensors(
    path: Path, stream: BinaryIO, size: int
) -> tuple[dict, dict[str, np.ndarray]]:
    """The meta and the four tensors of a safetensors file, every size checked first."""
    length = int.from_bytes(read_exactly(path, "the header", stream, 8), "little")
    if length > MAX_HEADER_BYTES:
        message = (
            f"a safetensors header of {length:,} bytes, more than {MAX_HEADER_BYTES:,}"
        )
        raise ModelFileError(f"{path}: {message}")
    if 8 + length > size:
        raise ModelFileError(f"{path}: truncated: the header runs past the end")
    try:
        header = json.loads(read_exactly(path, "the header", stream, length).decode())
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
        raise ModelFileError(f"{path}: damaged safetensors header") from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise ModelFileError(f"{path}: a safetensors file without metadata")
    text = header.pop("__metadata__").get("meta")
    if not isinstance(text, str):
        raise ModelFileError(f"{path}: a safetensors file without an {FORMAT} meta")
    check_names(path, list(header), PARAM_NAMES)
    meta = read_meta(path, text)
    spans = sorted(tensor_span(path, name, header[name], meta) for name in PARAM_NAMES)
    end = 0
    for begin, stop, _name, _dtype in spans:
        if begin != end:
            raise ModelFileError(
                f"{path}: the tensors' byte ranges leave gaps or overlap"
            )
        end = stop
    if 8 + length + end != size:
        message = f"the tensors end at byte {8 + length + end:,}, the file at {size:,}"
        raise ModelFileError(f"{path}: {message}")
    params = {}
    for begin, stop, name, dtype in spans:
        stream.seek(8 + length + begin)
        raw = read_exactly(path, name, stream, stop - begin)
        shape = expected_shapes(meta["architecture"])[name]
        array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        params[name] = np.ascontiguousarray(array, dtype=dtype.newbyteorder("="))
    return meta, params


def tensor_span(
    path: Path, name: str, entry: object, meta: dict
) -> tuple[int, int, str, np.dtype]:
    """A tensor's byte range, checked against its dtype, its shape and the meta."""
    keys = {"dtype", "shape", "data_offsets"}
    if not isinstance(entry, dict) or set(entry) != keys:
        raise ModelFileError(f"{path}: {name}'s entry in the header is damaged")
    dtype = (
        SAFETENSORS_DTYPES.get(entry["dtype"])
        if isinstance(entry["dtype"], str)
        else None
    )
    if dtype is None:
        found = repr(entry["dtype"])[:40]
        raise ModelFileError(f"{path}: {name} is {found}, the meta says {meta['dtype']}")
    shape = entry["shape"]
    offsets = entry["data_offsets"]
    numbers = isinstance(shape, list) and isinstance(offsets, list) and len(offsets) == 2
    if not numbers or not all(type(v) is int and v >= 0 for v in [*shape, *offsets]):
        raise ModelFileError(f"{path}: {name}'s shape or byte range is damaged")
    expected = check_array(path, name, dtype, tuple(shape), meta)
    begin, stop = offsets
    if stop - begin != math.prod(expected) * dtype.itemsize:
        message = f"{name}'s byte range holds {stop - begin:,} bytes, not its size"
        raise ModelFileError(f"{path}: {message}")
    return begin, stop, name, dtype
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-load>>[init]
SWAPPED = "not a network (the model comes first: MODEL.npz IMAGE ...)"
MAGIC = {
    b"PK\x03\x04": "npz",
    b"PK\x05\x06": "npz",
    b"\x93NUMPY": "a single .npy array, not an .npz archive of a network",
    b"\x89PNG": f"a PNG image, {SWAPPED}",
    b"\xff\xd8\xff": f"a JPEG image, {SWAPPED}",
    b"\x80": "a pickle, which can run code when loaded: refused (use save_params)",
}


def kind_of_model(head: bytes) -> str:
    """What a file is, from its first 9 bytes: "npz", "safetensors", or why not."""
    if not head:
        return "an empty file"
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return (
        "not an .npz archive nor a safetensors file "
        f"(it starts with the bytes {head[:8]!r})"
    )


def load_params(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict]:
    """Load a network saved by ``save_params``, checking everything on the way.

    Args:
        path: The ``.npz`` or safetensors file (told apart by their first bytes).

    Returns:
        The pair ``(params, meta)``: ``W1`` (h, n), ``b1`` (h, 1), ``W2`` (k, h), ``b2``
            (k, 1), as saved (float32 or float64), and the dict of facts stored with them.

    Raises:
        ModelFileError: the file is missing, not a regular file (a folder, a FIFO),
            empty, truncated or damaged, larger than the limits (``MAX_FILE_BYTES``,
            ``MAX_PARAMETERS``, ``MAX_META_BYTES``, ``MAX_META_DEPTH``), not a model file
            (a pickle, a single ``.npy``, an image), or holds arrays with the wrong names,
            dtypes, shapes, non-finite numbers, or a checksum that does not match. The
            message names the file and the problem.
    """
    path = Path(path)
    remove_stale_partials(path, before_ns=time.time_ns() - STALE_SECONDS * 10**9)
    with open_regular(path, ModelFileError, "a model file") as stream:
        try:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_FILE_BYTES:
                message = (
                    f"{size:,} bytes, more than the {MAX_FILE_BYTES:,} of a model file"
                )
                raise ModelFileError(f"{path}: {message}")
            kind = kind_of_model(stream.read(9))
            stream.seek(0)
            if kind == "npz":
                meta, params = read_npz(path, stream)
            elif kind == "safetensors":
                meta, params = read_safetensors(path, stream, size)
            else:
                raise ModelFileError(f"{path}: {kind}")
        except OSError as error:  # the disk failed while reading
            raise ModelFileError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        params = check_params(params)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: {error}") from None
    if params_checksum(params) != meta.get("sha256"):
        message = "the arrays do not match their checksum (changed after saving)"
        raise ModelFileError(f"{path}: {message}")
    return params, meta
# ~/~ end
# ~/~ end