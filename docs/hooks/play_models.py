"""MkDocs hook: export the trained networks of models/ to the "Draw a digit" page.

``scripts/train_play_models.py`` trains the networks with the book's own trainers and saves
them with ``mnist_math.save_params`` (the meta records the command that made each file).
At build time this hook reads every ``models/*.npz`` and ``models/*.safetensors`` with
``mnist_math.load_params``, which checks the file, and writes ``assets/play-models.js`` into
the site:

    window.MNIST_MATH_MODELS = [{"name": ..., "title": ..., "meta": {...},
                                 "params": {"W1": [[...]], "b1": [[...]], ...}}, ...];

JSON writes each float64 with the shortest text that reads back as the same number, so the
page computes with exactly the weights of the file. A missing or unreadable model is a
warning, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.play_models")

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
ASSET = "assets/play-models.js"
HEADER = (
    "// Generated at build time by docs/hooks/play_models.py from models/*.npz and "
    "models/*.safetensors "
    "(made by scripts/train_play_models.py); do not edit.\n"
)


def export_models(folder: Path) -> list[dict]:
    """Every model file of ``folder``, checked, as plain JSON-ready dicts in page order."""
    from mnist_math.model_io import ModelFileError, load_params

    models = []
    paths = [*folder.glob("*.npz"), *folder.glob("*.safetensors")]
    for path in sorted(paths):
        try:
            params, meta = load_params(path)
        except ModelFileError as error:
            log.warning(f"play page: {error}")
            continue
        models.append(
            {
                "name": meta.get("name", path.stem),
                "title": meta.get("title", path.stem),
                "meta": meta,
                "params": {
                    name: array.astype(float).tolist() for name, array in params.items()
                },
            }
        )
    models.sort(
        key=lambda model: (model["meta"].get("order", len(models)), model["name"])
    )
    return models


def models_script(models: list[dict]) -> str:
    """The JavaScript asset that hands the models to docs/assets/play.js."""
    return (
        HEADER
        + "window.MNIST_MATH_MODELS = "
        + json.dumps(models, allow_nan=False)
        + ";\n"
    )


def on_files(files, config):
    models = export_models(MODELS)
    if not models:
        log.warning(
            f"play page: no trained network in {MODELS}: run `python scripts/train_play_models.py`"
        )
    files.append(File.generated(config, ASSET, content=models_script(models)))
    return files
