"""Saving and loading a network (chapter 12, docs/handwriting.md; the appendix "Model files
and images", docs/model-files.md).

- ``save_params`` / ``load_params`` round-trip the four arrays bit for bit, in float64 and
  float32, in both containers (``.npz`` and safetensors), with the meta the caller gave
  plus the fields save_params fills in; the safetensors file is the library's own format
  (``safetensors.numpy.load_file`` reads it) and its ``W1`` loads into ``torch.nn.Linear``;
- saving is atomic: a failure while writing leaves the old file as it was and no temporary
  file behind; an existing file keeps its permissions; a save killed by SIGKILL or SIGTERM
  leaves a ``.NAME.*.partial`` that the next save, or a load an hour later, removes;
- a save refuses, before writing, a target that is a device (/dev/null), a FIFO, a folder,
  a read-only file, the data it must keep (by inode or by name), a meta too deep or too
  long, a network beyond MAX_PARAMETERS;
- every kind of bad file gives one ``ModelFileError`` whose message names the file and the
  problem, classified by checks of the file's own declarations: every byte of a small save
  changed in turn and the file cut at every length (both containers), and crafted files
  that declare gigabytes in a header, a 3 GB extra entry, 500,000 hidden units, a meta
  nested 10,000 deep or holding an integer of 5,000 digits, encrypted and bzip2 entries,
  duplicate entries, and more; each refusal within a second and a few MB;
- ``mnist-math train --save`` writes a file that loads, for both backends and both
  containers, with the command and the test accuracy in its meta;
- the committed models/*.npz are what scripts/train_play_models.py produces (slow).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_math import init_params, load_params, save_params
from mnist_math._files import TargetError
from mnist_math.cli import main
from mnist_math.model_io import (
    MAX_FILE_BYTES,
    MAX_META_BYTES,
    MAX_META_DEPTH,
    MAX_PARAMETERS,
    ModelFileError,
    check_save_target,
    params_checksum,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def saved(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    params = init_params(784, 10, 10, seed=3)
    path = save_params(
        tmp_path / "net.npz", params, meta={"trained_by": "a test", "test_accuracy": 0.5}
    )
    return path, params


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(784, 10, 10), (5, 3, 4)])
def test_round_trip_is_bit_for_bit(tmp_path, dtype, shape, suffix) -> None:
    params = init_params(*shape, seed=1, dtype=dtype)
    path = save_params(
        tmp_path / f"net{suffix}",
        params,
        meta={"note": "ünïcode ✓", "nested": {"a": [1, 2]}},
    )
    loaded, meta = load_params(path)
    for name, array in params.items():
        assert loaded[name].dtype == array.dtype, f"{name}: dtype {loaded[name].dtype}"
        assert np.array_equal(loaded[name], array), f"{name} changed on the way"
    assert meta["note"] == "ünïcode ✓" and meta["nested"] == {"a": [1, 2]}, meta
    assert meta["architecture"] == list(shape), meta["architecture"]
    assert meta["dtype"] == np.dtype(dtype).name
    assert meta["format"] == "mnist-math-params" and meta["format_version"] == 1
    assert meta["sha256"] == params_checksum(params)
    assert isinstance(meta["package_version"], str) and meta["package_version"]


def test_the_file_holds_no_pickle_and_plain_json(saved) -> None:
    path, _params = saved
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["W1", "W2", "b1", "b2", "meta"]
        assert all(archive[name].dtype != object for name in archive.files)
        meta = json.loads(str(archive["meta"]))
    assert meta["trained_by"] == "a test"


def test_saving_is_atomic(tmp_path, monkeypatch) -> None:
    path = save_params(tmp_path / "net.npz", init_params(seed=0))
    before = path.read_bytes()

    def broken_savez(stream, **arrays):
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_params(path, init_params(seed=1))
    assert path.read_bytes() == before, "a failed save damaged the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"], (
        "a temporary file was left behind"
    )


def test_saved_file_gets_ordinary_permissions(saved) -> None:
    path, _params = saved
    assert path.stat().st_mode & 0o044, (
        "the model file is readable only by its owner (mkstemp's mode)"
    )


@pytest.mark.parametrize(
    ("params_change", "error", "fragment"),
    [
        (lambda p: p.pop("b2"), ValueError, "missing b2"),
        (
            lambda p: p.update(W1=p["W1"][:, :783]),
            None,
            None,
        ),  # a 783-pixel network is valid
        (lambda p: p.update(b1=p["b1"][:5]), ValueError, "b1 must have 10 rows"),
        (
            lambda p: p.update(W2=p["W2"].astype(np.float32)),
            TypeError,
            "must share one dtype",
        ),
        (lambda p: p.update(W1=np.full_like(p["W1"], np.nan)), ValueError, "NaN"),
    ],
    ids=["missing", "783-pixels-is-fine", "wrong-shape", "mixed-dtypes", "nan"],
)
def test_save_refuses_bad_params(tmp_path, params_change, error, fragment) -> None:
    params = init_params(seed=0)
    params_change(params)
    if error is None:
        loaded, meta = load_params(save_params(tmp_path / "ok.npz", params))
        assert meta["architecture"] == [783, 10, 10] and loaded["W1"].shape == (10, 783)
        return
    with pytest.raises(error, match=fragment):
        save_params(tmp_path / "bad.npz", params)
    assert not list(tmp_path.iterdir()), "a refused save left a file"


def test_save_refuses_meta_that_is_not_json(tmp_path) -> None:
    with pytest.raises(ValueError, match="JSON-serialisable"):
        save_params(tmp_path / "net.npz", init_params(seed=0), meta={"when": object()})
    with pytest.raises(ValueError, match="JSON-serialisable"):
        save_params(
            tmp_path / "net.npz", init_params(seed=0), meta={"accuracy": float("nan")}
        )


# --------------------------------------------------------------------------
# Bad files: one ModelFileError each, naming the file and the problem


def _rewrite(path: Path, entries: dict[str, np.ndarray]) -> None:
    """Write ``entries`` as a plain .npz at ``path`` (a file changed after saving)."""
    with open(path, "wb") as stream:
        np.savez(stream, **entries)


def _entries(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def truncated_by_a_few_bytes(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:-7])


def flipped_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("W1.npy")
    # The local header is 30 bytes plus the name and the extra field; then the .npy's own
    # header (128 bytes) and the numbers: flip one byte in the middle of W1's numbers.
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 128 + 4000
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def rewritten_weights(path: Path) -> None:
    entries = _entries(path)
    entries["W2"] = entries["W2"] * 1.01
    _rewrite(path, entries)


def wrong_shape(path: Path) -> None:
    entries = _entries(path)
    entries["b1"] = entries["b1"][:7]
    _rewrite(path, entries)


def transposed(path: Path) -> None:
    entries = _entries(path)
    entries["W1"] = entries["W1"].T.copy()
    _rewrite(path, entries)


def with_nan(path: Path) -> None:
    entries = _entries(path)
    entries["b2"][3, 0] = np.nan
    _rewrite(path, entries)


def integer_weights(path: Path) -> None:
    entries = _entries(path)
    entries["W1"] = np.round(entries["W1"] * 100).astype(np.int64)
    _rewrite(path, entries)


def missing_array(path: Path) -> None:
    entries = _entries(path)
    del entries["W2"]
    _rewrite(path, entries)


def without_meta(path: Path) -> None:
    entries = _entries(path)
    del entries["meta"]
    _rewrite(path, entries)


def meta_not_json(path: Path) -> None:
    entries = _entries(path)
    entries["meta"] = np.array("{not json")
    _rewrite(path, entries)


def object_array_inside(path: Path) -> None:
    entries = _entries(path)
    entries["W1"] = np.array([{"a": 1}, None], dtype=object)
    with open(path, "wb") as stream:
        np.savez(stream, **entries)


def pickled(path: Path) -> None:
    params, _meta = load_params(path)
    path.write_bytes(pickle.dumps(params))


def single_npy(path: Path) -> None:
    params, _meta = load_params(path)
    with open(path, "wb") as stream:
        np.save(stream, params["W1"])


def png_image(path: Path) -> None:
    from PIL import Image

    Image.new("L", (28, 28), 255).save(path, format="PNG")


def jpeg_image(path: Path) -> None:
    from PIL import Image

    Image.new("L", (28, 28), 255).save(path, format="JPEG")


def text_file(path: Path) -> None:
    path.write_text("W1 = [[0.1, 0.2], ...]\n")


def empty(path: Path) -> None:
    path.write_bytes(b"")


BAD_FILES = [
    (truncated, "truncated or damaged"),
    (truncated_by_a_few_bytes, "truncated or damaged"),
    (flipped_byte, "Bad CRC-32"),
    (rewritten_weights, "do not match their checksum"),
    (wrong_shape, "b1 has shape (7, 1), a 784-10-10 network needs (10, 1)"),
    (transposed, "W1 has shape (784, 10), a 784-10-10 network needs (10, 784)"),
    (with_nan, "b2 contains NaN"),
    (integer_weights, "W1 is int64"),
    (missing_array, "missing W2"),
    (without_meta, "missing meta"),
    (meta_not_json, "meta is not valid JSON"),
    (object_array_inside, "pickled (object) arrays"),
    (pickled, "a pickle"),
    (single_npy, "a single .npy array"),
    (png_image, "a PNG image"),
    (jpeg_image, "a JPEG image"),
    (text_file, "not an .npz archive"),
    (empty, "an empty file"),
]


@pytest.mark.parametrize(
    ("damage", "fragment"), BAD_FILES, ids=[d.__name__ for d, _ in BAD_FILES]
)
def test_bad_file_gives_one_clear_error(saved, damage, fragment) -> None:
    path, _params = saved
    damage(path)
    with pytest.raises(ModelFileError) as caught:
        load_params(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), (
        f"the message does not start with the file: {message}"
    )
    assert fragment in message, f"expected {fragment!r} in: {message}"


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        load_params(tmp_path / "nowhere.npz")


def test_a_good_file_loads_after_the_damage_tests(saved) -> None:
    """The fixture's file is good: the errors above come from the damage, not the file."""
    path, params = saved
    loaded, meta = load_params(path)
    assert all(np.array_equal(loaded[name], params[name]) for name in params)
    assert meta["trained_by"] == "a test" and meta["test_accuracy"] == 0.5


# --------------------------------------------------------------------------
# safetensors: the format other tools read


def test_safetensors_file_is_the_librarys_own_format(tmp_path) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    params = init_params(784, 10, 10, seed=2)
    path = save_params(tmp_path / "net.safetensors", params, meta={"note": "x"})
    tensors = load_file(path)
    assert sorted(tensors) == ["W1", "W2", "b1", "b2"], sorted(tensors)
    for name, array in params.items():
        assert tensors[name].dtype == array.dtype and np.array_equal(tensors[name], array)
    with safe_open(path, framework="numpy") as opened:
        meta = json.loads(opened.metadata()["meta"])
    assert meta["note"] == "x" and meta["sha256"] == params_checksum(params)
    npz_meta = load_params(save_params(tmp_path / "net.npz", params, meta={"note": "x"}))[
        1
    ]
    assert npz_meta == meta, "the same meta, checksum included, in both containers"


def test_safetensors_w1_loads_into_torch_linear(tmp_path) -> None:
    """TOOLING.md, "Weight files": a safetensors file's W1 is torch.nn.Linear's weight."""
    import torch
    from safetensors.torch import load_file

    from mnist_math import forward_prop

    params = init_params(784, 10, 10, seed=4)
    path = save_params(tmp_path / "net.safetensors", params)
    tensors = load_file(path)
    layer = torch.nn.Linear(784, 10, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(tensors["W1"])
        layer.bias.copy_(tensors["b1"][:, 0])
    x = np.random.default_rng(0).uniform(size=(784, 3))
    rows = layer(torch.from_numpy(x.T)).detach().numpy()  # Linear works on rows
    Z1 = forward_prop(params, x)["Z1"]
    assert np.abs(rows.T - Z1).max() < 1e-12, np.abs(rows.T - Z1).max()


# --------------------------------------------------------------------------
# Where a save may write


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path) -> None:
    path = save_params(tmp_path / "net.npz", init_params(seed=0))
    for mode in (0o640, 0o600, 0o664):
        os.chmod(path, mode)
        save_params(path, init_params(seed=1))
        assert stat.S_IMODE(path.stat().st_mode) == mode, oct(path.stat().st_mode)


def _fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_refuses_targets_it_must_not_replace(tmp_path, suffix) -> None:
    params = init_params(5, 3, 4, seed=0)
    folder = tmp_path / "folder"
    folder.mkdir()
    read_only = save_params(tmp_path / f"kept{suffix}", params)
    os.chmod(read_only, 0o444)
    cases = [
        (Path("/dev/null"), "a character device, not a regular file"),
        (_fifo(tmp_path / f"pipe{suffix}"), "a FIFO (named pipe), not a regular file"),
        (folder, "a folder: name a file"),
        (read_only, "read-only: refusing to replace it"),
        (tmp_path / "missing" / f"net{suffix}", "the folder"),
    ]
    before = read_only.read_bytes()
    for target, fragment in cases:
        with pytest.raises(TargetError) as caught:
            save_params(target, params)
        assert str(caught.value).startswith(f"{target}: ") and fragment in str(
            caught.value
        )
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is still a device"
    assert stat.S_ISFIFO((tmp_path / f"pipe{suffix}").stat().st_mode), "still a FIFO"
    assert read_only.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_check_save_target_keeps_the_data_by_inode_and_by_name(tmp_path) -> None:
    data = tmp_path / "mnist.npz"
    data.write_bytes(b"PK\x03\x04 the training data")
    linked = tmp_path / "linked.npz"
    os.link(data, linked)
    symbolic = tmp_path / "symbolic.npz"
    symbolic.symlink_to(data)
    not_yet = tmp_path / "cache.npz"  # a cache the run will create
    for target in (data, linked, symbolic, tmp_path / "." / "cache.npz"):
        with pytest.raises(TargetError, match="which this run reads: refusing"):
            check_save_target(target, keep=(data, not_yet))
    assert check_save_target(tmp_path / "net.npz", keep=(data, not_yet)) == (
        tmp_path / "net.npz"
    )
    with pytest.raises(ValueError, match="16,777,216 a model file may hold"):
        check_save_target(tmp_path / "net.npz", architecture=[784, 30_000, 10])
    assert data.read_bytes() == b"PK\x03\x04 the training data"


def test_save_refuses_what_load_would_refuse(tmp_path) -> None:
    deep: object = 1
    for _ in range(MAX_META_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match=f"more than {MAX_META_DEPTH} deep"):
        save_params(tmp_path / "net.npz", init_params(5, 3, 4), meta={"deep": deep})
    with pytest.raises(ValueError, match="characters of JSON, more than"):
        save_params(
            tmp_path / "net.npz",
            init_params(5, 3, 4),
            meta={"long": "x" * MAX_META_BYTES},
        )
    assert not list(tmp_path.iterdir()), "a refused save left a file"


# --------------------------------------------------------------------------
# Killed saves leave nothing that lasts

SLOW_SAVE = """
import sys, time
import numpy as np
from mnist_math import init_params, save_params

def slow(stream, **arrays):
    stream.write(b"PK\\x03\\x04 the first bytes of an archive")
    stream.flush()
    print("writing", flush=True)
    time.sleep(60)

np.savez = slow
save_params(sys.argv[1], init_params(5, 3, 4, seed=1))
"""


def _killed_save(target: Path, signal_number: int) -> Path:
    """Start a save of ``target`` in another process, kill it while it writes."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(target)],
        stdout=subprocess.PIPE,
        env=environment,
        text=True,
    )
    try:
        assert process.stdout.readline() == "writing\n"
        before = set(target.parent.glob(f".{target.name}.*.partial"))
        process.send_signal(signal_number)
        assert process.wait(timeout=30) == -signal_number
    finally:
        process.kill()
        process.wait()
    partials = sorted(target.parent.glob(f".{target.name}.*.partial"))
    assert len(partials) == len(before) == 1, partials
    # A file's time comes from the kernel's coarse clock, which ticks every few ms: a save
    # removes the files last modified before it began, so let one tick pass.
    time.sleep(0.05)
    return partials[0]


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGTERM])
def test_killed_saves_leave_nothing_that_lasts(tmp_path, signal_number) -> None:
    params = init_params(5, 3, 4, seed=0)
    target = save_params(tmp_path / "net.npz", params)
    leftover = _killed_save(target, signal_number)
    assert np.array_equal(load_params(target)[0]["W1"], params["W1"]), "target intact"
    assert leftover.exists(), "a load keeps a temporary file that may still be written"
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    load_params(target)
    assert not leftover.exists(), "a load removes a temporary file an hour old"
    leftover = _killed_save(target, signal_number)
    save_params(target, params)
    assert not leftover.exists(), "the next save removes the killed save's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


# --------------------------------------------------------------------------
# Damage anywhere: every byte changed, every length cut


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_every_changed_byte_and_every_cut_is_refused_or_harmless(
    tmp_path, suffix
) -> None:
    """A small save (5-3-4, float32) with each byte changed in turn, then cut at every
    length: each file either loads the very same arrays (the byte was a date, padding or
    a fact of the meta) or gives a ModelFileError naming the file; nothing else escapes."""
    params = init_params(5, 3, 4, seed=0, dtype=np.float32)
    original = save_params(tmp_path / f"net{suffix}", params).read_bytes()
    path = tmp_path / f"damaged{suffix}"
    outcomes = {"refused": 0, "harmless": 0}
    slowest = 0.0
    variants = []
    for offset in range(len(original)):
        changed = bytearray(original)
        changed[offset] ^= 0x55
        variants.append((f"byte {offset} changed", bytes(changed)))
    variants += [(f"cut to {n} bytes", original[:n]) for n in range(len(original))]
    for label, data in variants:
        path.write_bytes(data)
        start = time.perf_counter()
        try:
            loaded, _meta = load_params(path)
        except ModelFileError as error:
            assert str(error).startswith(f"{path}: "), f"{label}: {error}"
            outcomes["refused"] += 1
        else:
            for name in params:
                assert np.array_equal(loaded[name], params[name]), f"{label}: {name}"
            outcomes["harmless"] += 1
        slowest = max(slowest, time.perf_counter() - start)
    print(
        f"\n{suffix}, {len(original)} bytes: {outcomes}, slowest {slowest * 1e3:.1f} ms"
    )
    assert outcomes["refused"] > len(original), outcomes
    assert slowest < 1.0, f"one load took {slowest:.2f} s"


# --------------------------------------------------------------------------
# Crafted files: what a header declares is checked before anything is read


def _npy(descr: str, shape: tuple, data: bytes = b"", fortran: bool = False) -> bytes:
    """A .npy entry as NumPy writes it, declaring any dtype and shape."""
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return (
        b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data
    )


def _meta(architecture, dtype="float64", **extra) -> str:
    meta = {
        "format": "mnist-math-params",
        "format_version": 1,
        "architecture": architecture,
        "dtype": dtype,
        "sha256": "0" * 64,
        **extra,
    }
    return json.dumps(meta)


def _text_entry(text: str) -> bytes:
    data = np.array(text)
    return _npy(data.dtype.str, (), data.tobytes())


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Patch the zip's central directory: ``name`` declares ``size`` uncompressed bytes."""
    data = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        length = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + length] == name.encode():
            data[start + 24 : start + 28] = size.to_bytes(4, "little")
            return bytes(data)
        start += 4
    raise AssertionError(f"no entry {name}")


def _set_flag(data: bytes, name: str, flag: int) -> bytes:
    data = bytearray(data)
    start = data.find(b"PK\x01\x02")
    while start >= 0:
        length = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + length] == name.encode():
            data[start + 8] |= flag
            return bytes(data)
        start = data.find(b"PK\x01\x02", start + 4)
    raise AssertionError(f"no entry {name}")


def _real_entries() -> dict[str, bytes]:
    """The entries of a real save of a 5-3-4 network."""
    saved = _saved_bytes(init_params(5, 3, 4, seed=0))
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _saved_bytes(params, suffix: str = ".npz") -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return save_params(Path(folder) / f"net{suffix}", params).read_bytes()


def _safetensors(header: dict, data: bytes = b"", length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    declared = len(text) if length is None else length
    return declared.to_bytes(8, "little") + text + data


def _params_entries(architecture, dtype="<f8") -> dict[str, bytes]:
    n, h, k = architecture
    shapes = {"W1": (h, n), "b1": (h, 1), "W2": (k, h), "b2": (k, 1)}
    return {f"{name}.npy": _npy(dtype, shape) for name, shape in shapes.items()}


def _huge_network() -> bytes:
    """A self-consistent meta and headers for 500,000 hidden units (3 GB of float64)."""
    architecture = [784, 500_000, 10]
    entries = {"meta.npy": _text_entry(_meta(architecture))}
    return _zip({**entries, **_params_entries(architecture)})


def _extra_entry_of_3_gb() -> bytes:
    entries = _real_entries()
    entries["extra.npy"] = _npy("<f8", (375_000_000,), b"\x00" * 64)
    return _declare_size(_zip(entries), "extra.npy", 3_000_000_000)


def _w1_declares_3_gb() -> bytes:
    return _declare_size(_zip(_real_entries()), "W1.npy", 3_000_000_000)


def _header_declares_huge_shape() -> bytes:
    entries = _real_entries()
    entries["W1.npy"] = _npy("<f8", (3, 500_000_000))
    return _zip(entries)


def _meta_nested(depth: int, opener: str = "[") -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    inner = (opener + ('"a":' if opener == "{" else "")) * depth + "1" + closer * depth
    text = _meta([5, 3, 4])[:-1] + ', "deep": ' + inner + "}"
    entries = _real_entries()
    entries["meta.npy"] = _text_entry(text)
    return _zip(entries)


def _meta_with_a_long_integer() -> bytes:
    entries = _real_entries()
    entries["meta.npy"] = _text_entry(
        _meta([5, 3, 4])[:-1] + ', "n": ' + "7" * 5000 + "}"
    )
    return _zip(entries)


def _meta_declares_huge_text() -> bytes:
    entries = _real_entries()
    entries["meta.npy"] = _npy("<U3000000", ())
    return _zip(entries)


def _npy_header_too_long() -> bytes:
    entries = _real_entries()
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), }" + " " * 60_000
    entries["W1.npy"] = (
        b"\x93NUMPY\x02\x00" + len(header + "\n").to_bytes(4, "little") + header.encode()
    )
    return _zip(entries)


def _npy_header_damaged() -> bytes:
    entries = _real_entries()
    entries["W1.npy"] = entries["W1.npy"].replace(
        b"'shape': (3, 5)", b"'shape': (3, 5(", 1
    )
    return _zip(entries)


def _unknown_dtype() -> bytes:
    entries = _real_entries()
    entries["W1.npy"] = _npy("<f3", (3, 5), b"\x00" * 45)
    return _zip(entries)


def _bzip2() -> bytes:
    return _zip(_real_entries(), method=zipfile.ZIP_BZIP2)


def _encrypted() -> bytes:
    return _set_flag(_zip(_real_entries()), "W1.npy", 0x1)


def _duplicate() -> bytes:
    entries = _real_entries()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in [*entries.items(), ("W1.npy", entries["W1.npy"])]:
                archive.writestr(name, data)
    return buffer.getvalue()


def _safetensors_huge_header() -> bytes:
    return (2**40).to_bytes(8, "little") + b"{" + b" " * 100


def _safetensors_not_json() -> bytes:
    return _safetensors({})[:8] + b"{not json" + b" " * 7


def _safetensors_parts(architecture=(5, 3, 4), dtype="F64", **changes) -> dict:
    n, h, k = architecture
    shapes = {"W1": [h, n], "b1": [h, 1], "W2": [k, h], "b2": [k, 1]}
    header = {"__metadata__": {"meta": _meta(list(architecture))}}
    offset = 0
    for name, shape in shapes.items():
        size = int(np.prod(shape)) * 8
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + size],
        }
        offset += size
    header.update(changes)
    return header


def _safetensors_huge_network() -> bytes:
    return _safetensors(_safetensors_parts((784, 500_000, 10)))


def _safetensors_overlap() -> bytes:
    header = _safetensors_parts()
    header["b1"]["data_offsets"] = [0, 24]  # over W1's bytes
    return _safetensors(header, b"\x00" * 8 * (15 + 3 + 12 + 4))


def _safetensors_float16() -> bytes:
    header = _safetensors_parts()
    header["W1"]["dtype"] = "F16"
    return _safetensors(header, b"\x00" * 8 * (15 + 3 + 12 + 4))


def _safetensors_past_the_end() -> bytes:
    return _safetensors(_safetensors_parts(), b"\x00" * 16)


def _safetensors_without_metadata() -> bytes:
    header = _safetensors_parts()
    del header["__metadata__"]
    return _safetensors(header, b"\x00" * 8 * 34)


def _safetensors_meta_nested() -> bytes:
    header = _safetensors_parts()
    header["__metadata__"]["meta"] = "[" * 100_000 + "]" * 100_000
    return _safetensors(header, b"\x00" * 8 * 34)


def _larger_than_any_model(path: Path) -> None:
    with open(path, "wb") as stream:  # a sparse file: no disk space is used
        stream.truncate(MAX_FILE_BYTES + 1)


CRAFTED = [
    (
        _huge_network,
        f"a 784-500000-10 network has 397,500,010 numbers, more than the {MAX_PARAMETERS:,}",
    ),
    (_extra_entry_of_3_gb, "extra extra"),
    (_w1_declares_3_gb, "W1 declares 2,999,999,872 bytes, needs 120"),
    (
        _header_declares_huge_shape,
        "W1 has shape (3, 500000000), a 5-3-4 network needs (3, 5)",
    ),
    (
        lambda: _meta_nested(10_000),
        f"meta nests lists and dicts more than {MAX_META_DEPTH} deep",
    ),
    (lambda: _meta_nested(10_000, "{"), "more than 32 deep"),
    (lambda: _meta_nested(MAX_META_DEPTH + 1), "more than 32 deep"),
    (_meta_with_a_long_integer, "meta is not valid JSON"),
    (_meta_declares_huge_text, "meta is 3,000,000 characters, more than 1,048,576"),
    (_npy_header_too_long, "bytes, more than 10,000"),
    (_npy_header_damaged, "W1 has a damaged .npy header"),
    (_unknown_dtype, "W1 has an unknown dtype '<f3'"),
    (_bzip2, "compressed with method 12, not deflate"),
    (_encrypted, "W1.npy is encrypted"),
    (_duplicate, "holds an entry twice"),
    (
        _safetensors_huge_header,
        "a safetensors header of 1,099,511,627,776 bytes, more than",
    ),
    (_safetensors_not_json, "damaged safetensors header"),
    (_safetensors_huge_network, "a 784-500000-10 network has 397,500,010 numbers"),
    (_safetensors_overlap, "byte ranges leave gaps or overlap"),
    (_safetensors_float16, "W1 is 'F16', the meta says float64"),
    (_safetensors_past_the_end, "the tensors end at byte"),
    (_safetensors_without_metadata, "a safetensors file without metadata"),
    (_safetensors_meta_nested, "more than 32 deep"),
]


@pytest.mark.parametrize(
    ("craft", "fragment"), CRAFTED, ids=[c.__name__.strip("_") for c, _ in CRAFTED]
)
def test_crafted_file_is_refused_within_a_second_and_a_few_mb(
    tmp_path, craft, fragment
) -> None:
    path = tmp_path / "crafted.model"
    path.write_bytes(craft())
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError) as caught:
            load_params(path)
        elapsed = time.perf_counter() - start
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and fragment in message, message
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert peak < 16 * 2**20, f"{peak / 2**20:.1f} MiB allocated"


def test_a_file_larger_than_any_model_is_refused_unread(tmp_path) -> None:
    path = tmp_path / "large.npz"
    _larger_than_any_model(path)
    with pytest.raises(ModelFileError, match=f"{MAX_FILE_BYTES + 1:,} bytes, more than"):
        load_params(path)


def test_not_a_regular_file_is_named_as_such(tmp_path) -> None:
    (tmp_path / "folder.npz").mkdir()
    cases = [
        (tmp_path / "folder.npz", "a folder, not a model file"),
        (Path("/dev/null"), "a character device, not a model file"),
        (_fifo(tmp_path / "pipe.npz"), "a FIFO (named pipe), not a model file"),
    ]
    for path, fragment in cases:  # a FIFO is refused from os.stat: open would block
        with pytest.raises(ModelFileError) as caught:
            load_params(path)
        assert str(caught.value) == f"{path}: {fragment}"


def test_fortran_ordered_arrays_round_trip(tmp_path) -> None:
    params = init_params(5, 3, 4, seed=0)
    params["W1"] = np.asfortranarray(params["W1"])
    loaded, _meta = load_params(save_params(tmp_path / "net.npz", params))
    assert np.array_equal(loaded["W1"], params["W1"]) and loaded["W1"].flags.c_contiguous


# --------------------------------------------------------------------------
# mnist-math train --save


@pytest.mark.parametrize(
    ("backend", "suffix"),
    [("numpy", ".npz"), ("torch", ".npz"), ("numpy", ".safetensors")],
)
def test_train_save_writes_a_loadable_network(tmp_path, capsys, backend, suffix) -> None:
    path = tmp_path / f"{backend}{suffix}"
    argv = ["train", "--iterations", "2", "--hidden", "7", "--seed", "5", "--no-progress"]
    status = main([*argv, "--backend", backend, "--save", str(path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"Saved the network to {path}" in out, out
    params, meta = load_params(path)
    assert params["W1"].shape == (7, 784) and meta["architecture"] == [784, 7, 10]
    assert meta["command"].startswith(f"mnist-math train --backend {backend} "), meta[
        "command"
    ]
    assert "--hidden 7 --lr 0.1 --iterations 2" in meta["command"], meta["command"]
    assert "--init uniform --seed 5" in meta["command"], meta["command"]
    printed = float(out.split("Test accuracy: ")[1].split("%")[0]) / 100
    assert abs(meta["test_accuracy"] - printed) <= 0.00005, (
        meta["test_accuracy"],
        printed,
    )


def test_train_save_reports_an_unwritable_path(tmp_path, capsys) -> None:
    target = str(tmp_path / "no" / "dir.npz")
    assert main(["train", "--iterations", "1", "--no-progress", "--save", target]) == 1
    out, err = capsys.readouterr()
    assert "does not exist" in err and err.startswith("mnist-math: error: "), err
    assert "Training" not in out, "refused before training, not after"


# --------------------------------------------------------------------------
# The committed networks of the "Draw a digit" page


def _script():
    spec = importlib.util.spec_from_file_location(
        "train_play_models", ROOT / "scripts" / "train_play_models.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_listed_model_is_committed_and_loads() -> None:
    script = _script()
    for order, model in enumerate(script.MODELS):
        params, meta = load_params(ROOT / "models" / f"{model.name}.npz")
        assert (
            meta["name"] == model.name
            and meta["title"] == model.title
            and meta["order"] == order
        )
        assert meta["trainer"] == script.describe(model.trainer), (
            "the file was made by another call"
        )
        assert meta["command"].startswith("python scripts/train_play_models.py"), meta[
            "command"
        ]
    committed = sorted(p.stem for p in (ROOT / "models").glob("*.npz"))
    assert committed == sorted(m.name for m in script.MODELS), (
        "models/ holds files MODELS does not list"
    )


def train_the_other_models(out: Path) -> Path:
    """Train every model of scripts/train_play_models.py but the seed network into ``out``
    (the seed network is the session's ``seed_run``)."""
    script = _script()
    others = [model.name for model in script.MODELS if model.name != "seed"]
    if others:
        arguments = ["train_play_models.py", "--out", str(out), "--only", *others]
        assert script.main(arguments) == 0, "scripts/train_play_models.py failed"
    return out


def background_work(items, tmp_path_factory) -> list[tuple]:
    """The models' training runs in the background from the session's start
    (tests/conftest.py)."""
    wanted = any(
        item.originalname == "test_committed_models_are_what_the_script_trains"
        for item in items
    )
    if not wanted:
        return []
    return [
        (1, "play models", train_the_other_models, (tmp_path_factory.mktemp("models"),))
    ]


@pytest.mark.slow
def test_committed_models_are_what_the_script_trains(background, request) -> None:
    """Retrain every model of scripts/train_play_models.py and compare with models/*.npz.

    Full-batch training is deterministic for a fixed seed on one machine; across BLAS builds
    the last bits of a sum may differ and grow a little over 500 iterations, hence the
    tolerance of 1e-6 on the weights (they are of order 0.1 to 1).
    """
    script = _script()
    # The seed network is the session's reference run (tests/conftest.py, seed_run): the
    # same call, trained once for every test that needs it.
    seed_call = (
        "mnist_math.train.gradient_descent(X_train, Y_train, lr=0.1, iterations=500, "
    )
    seed_call += "n_hidden=10, seed=0)"
    trained = background.result("play models")
    for model in script.MODELS:
        committed, committed_meta = load_params(ROOT / "models" / f"{model.name}.npz")
        if model.name == "seed":
            assert script.describe(model.trainer) == seed_call, (
                "seed_run trains this call"
            )
            seed_run = request.getfixturevalue("seed_run")
            fresh = seed_run.params
            fresh_meta = {"test_accuracy": seed_run.test_accuracy, "trainer": seed_call}
        else:
            fresh, fresh_meta = load_params(trained / f"{model.name}.npz")
        for name in committed:
            difference = np.abs(committed[name] - fresh[name]).max()
            assert difference <= 1e-6, (
                f"{model.name}: {name} differs by {difference:.2e} from a fresh run"
            )
        assert abs(committed_meta["test_accuracy"] - fresh_meta["test_accuracy"]) <= 2e-4
        assert committed_meta["trainer"] == fresh_meta["trainer"]
