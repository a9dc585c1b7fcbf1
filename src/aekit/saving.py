"""The saved-model folder: ``config.json`` + ``model.safetensors``, and nothing is unpickled.

``config.json`` holds ``{"format": "aekit", "format_version": 1, "model": NAME, "config":
{...}}``; loading looks ``NAME`` up in :mod:`aekit.registry`, builds the config (which validates
every field) and checks the weights' shapes against the model's from the safetensors header
before any weight is read. Every saver of aekit (models, estimators, experiments) writes this
one format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from aekit.atomic import (
    atomic_save_tensors,
    atomic_write_json,
    atomic_write_text,
    load_tensors,
    read_json,
    read_tensor_shapes,
)
from aekit.config import config_from_dict, config_to_dict
from aekit.registry import MODELS, model_class

if TYPE_CHECKING:  # for annotations only: this module imports no model at run time
    from aekit.models.base import Model

FORMAT = "aekit"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"


def save_model(
    model: torch.nn.Module,
    path: str | Path,
    extra: dict[str, Any] | None = None,
    card: str | None = None,
) -> Path:
    """Save a registered model to directory ``path`` (``config.json`` + ``model.safetensors``).

    ``extra`` adds JSON-ready keys to config.json beside the model's (e.g. an estimator's
    fitted state); ``card`` is written as the folder's README.md (a model card). The weights are
    written before the config, each atomically, so a folder whose config parses always has
    weights that match it; the card comes last.
    """
    name = getattr(model, "registered_name", None)
    if name is None or MODELS.get(name) is not type(model):
        raise TypeError(f"{type(model).__name__} is not a registered aekit model")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(path / WEIGHTS_FILE, model.state_dict())
    meta = {
        **(extra or {}),
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": name,
        "config": config_to_dict(model.config),
    }
    atomic_write_json(path / CONFIG_FILE, meta)
    if card is not None:
        atomic_write_text(path / CARD_FILE, card)
    return path


def read_meta(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The folder's config.json, checked to be aekit's: ``(config path, its dict)``."""
    path = Path(path)
    cfg_path = path / CONFIG_FILE if path.is_dir() else path
    if not cfg_path.is_file():
        raise FileNotFoundError(
            f"no saved aekit model at {path}: expected a directory with config.json and "
            "model.safetensors (written by save_model or `aekit train --out DIR`)"
        )
    meta = read_json(cfg_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{cfg_path} is not an aekit model config (no 'format': 'aekit')")
    return cfg_path, meta


def read_model_config(path: str | Path) -> tuple[type, Any]:
    """Read ``config.json`` in ``path``: the model class and its config object."""
    cfg_path, meta = read_meta(path)
    name = meta.get("model")
    try:
        cls = model_class(name) if isinstance(name, str) else None
    except ValueError:
        cls = None
    if cls is None:
        raise ValueError(f"{cfg_path} names model {name!r}; known models: {sorted(MODELS)}")
    if not isinstance(meta.get("config"), dict):
        raise ValueError(
            f"{cfg_path} has no 'config' table for its {name} model; save the model again"
        )
    return cls, config_from_dict(cls.config_class, meta["config"])


def _check_shapes(path: Path, model: torch.nn.Module) -> None:
    """Compare the weights' shapes in the file's header with the model's, before loading."""
    stored = read_tensor_shapes(path / WEIGHTS_FILE)
    names = set(model.state_dict())
    missing = sorted(names - set(stored))
    unexpected = sorted(set(stored) - names)
    if missing or unexpected:
        raise ValueError(
            f"weights in {path} do not match the config: missing {missing}, unexpected "
            f"{unexpected}; save the model again"
        )
    # The parameters' shapes follow from the config; a buffer may change shape as the model
    # trains (an RBM's persistent chains) and its module resizes it when loading.
    expected = {k: tuple(v.shape) for k, v in model.named_parameters()}
    wrong = [k for k in expected if expected[k] != stored[k]]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f"the weights in {path} do not fit its config.json: size mismatch for {k}, "
            f"{stored[k]} in model.safetensors but {expected[k]} in the model the config "
            "describes; save the model again"
        )


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> Model:
    """Load a model saved by :func:`save_model`."""
    path = Path(path)
    cls, config = read_model_config(path)
    check_size = getattr(cls, "check_size", None)
    if check_size is not None:  # refuse a config that asks for more memory than there is
        check_size(config)
    try:  # the shapes the config asks for, built on the meta device: no memory allocated
        with torch.device("meta"):
            skeleton = cls(config)
    except (RuntimeError, NotImplementedError):  # a model that cannot be built there
        skeleton = None
    if skeleton is not None:
        _check_shapes(path, skeleton)  # against the file's header, before allocating
    model = cls(config)
    if skeleton is None:
        _check_shapes(path, model)
    state = load_tensors(path / WEIGHTS_FILE)
    model.load_state_dict(state, strict=True)
    return model.to(map_location)
