"""Saving and loading a network ("Reading your own handwriting", docs/handwriting.md).

- ``save_params`` / ``load_params`` round-trip the four arrays bit for bit, in float64 and
  float32, with the meta the caller gave plus the fields save_params fills in;
- saving is atomic: a failure while writing leaves the old file as it was and no temporary
  file behind;
- every kind of bad file gives one ``ModelFileError`` whose message names the file and the
  problem: missing, empty, truncated, a flipped byte, arrays rewritten after saving, wrong
  shapes, NaN, wrong dtypes, a pickle, an object array inside the archive, a single ``.npy``,
  an image, a plain ``.npz`` without meta;
- ``mnist-math train --save`` writes a file that loads, for both backends, with the command
  and the test accuracy in its meta;
- the committed models/*.npz are what scripts/train_play_models.py produces (slow).
"""

from __future__ import annotations

import importlib.util
import io
import json
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_math import init_params, load_params, save_params
from mnist_math.cli import main
from mnist_math.model_io import ModelFileError, params_checksum

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def saved(tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    params = init_params(784, 10, 10, seed=3)
    path = save_params(
        tmp_path / "net.npz", params, meta={"trained_by": "a test", "test_accuracy": 0.5}
    )
    return path, params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(784, 10, 10), (5, 3, 4)])
def test_round_trip_is_bit_for_bit(tmp_path, dtype, shape) -> None:
    params = init_params(*shape, seed=1, dtype=dtype)
    path = save_params(
        tmp_path / "net.npz", params, meta={"note": "ünïcode ✓", "nested": {"a": [1, 2]}}
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
# mnist-math train --save


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_save_writes_a_loadable_network(tmp_path, capsys, backend) -> None:
    path = tmp_path / f"{backend}.npz"
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


@pytest.mark.slow
def test_committed_models_are_what_the_script_trains(tmp_path, request) -> None:
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
    others = [model.name for model in script.MODELS if model.name != "seed"]
    if others:
        arguments = ["train_play_models.py", "--out", str(tmp_path), "--only", *others]
        assert script.main(arguments) == 0
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
            fresh, fresh_meta = load_params(tmp_path / f"{model.name}.npz")
        for name in committed:
            difference = np.abs(committed[name] - fresh[name]).max()
            assert difference <= 1e-6, (
                f"{model.name}: {name} differs by {difference:.2e} from a fresh run"
            )
        assert abs(committed_meta["test_accuracy"] - fresh_meta["test_accuracy"]) <= 2e-4
        assert committed_meta["trainer"] == fresh_meta["trainer"]
