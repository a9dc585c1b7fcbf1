"""Saving and loading: safetensors weights plus a JSON config, written atomically.

A saved model is a directory holding ``config.json`` (``{"format": "aekit", "model": NAME,
"config": {...}}``) and ``model.safetensors``. Loading looks ``NAME`` up in the model registry
and never unpickles anything.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

FORMAT = "aekit"
FORMAT_VERSION = 1

MODELS: dict[str, type] = {}


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def register_model(name: str):
    """Class decorator: make a model loadable by ``name`` from its saved config."""

    def deco(cls):
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {MODELS[name]}")
        MODELS[name] = cls
        cls.registered_name = name
        return cls

    return deco


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same directory, then rename over ``path``.

    A crash leaves either the old file or the new one, never a torn one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; give it the permissions a plain open() would have.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    _atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_save_tensors(path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
    """Save a flat dict of tensors as safetensors, atomically (tensors made contiguous)."""
    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic_write(Path(path), lambda tmp: save_file(flat, tmp))


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file (no pickle involved)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    try:
        return load_file(str(path))
    except SafetensorError as exc:
        raise ValueError(
            f"{path} is not a readable safetensors file ({exc}): it is truncated or corrupt; "
            "save or train the model again"
        ) from None


def read_json(path: str | Path, fix: str = "") -> Any:
    """Parse a JSON file; a corrupt one is a ValueError that names it (and ``fix``, the way
    out, when the caller knows one)."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path} is not valid JSON ({exc}); it is truncated or corrupt"
            + (f": {fix}" if fix else "")
        ) from None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as a JSON-ready dict."""
    assert is_dataclass(config)
    return asdict(config)


def check_flags(config: Any) -> None:
    """Raise ``TypeError`` unless every ``bool`` field of dataclass ``config`` holds a bool.

    Config files (TOML, JSON) make ``tied = "no"`` easy to write, and a non-empty string is
    truthy: without this it would silently mean ``True``."""
    for f in fields(config):
        value = getattr(config, f.name)
        if f.type not in (bool, "bool") or isinstance(value, bool):
            continue
        if not isinstance(value, np.bool_):
            raise TypeError(
                f"{type(config).__name__}.{f.name} must be true or false, got {value!r}"
            )
        object.__setattr__(config, f.name, bool(value))  # JSON-ready, also when frozen


def config_from_dict(cls: type, data: dict[str, Any]):
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys with a clear message."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; known keys: {sorted(names)}")
    return cls(**data)


def save_model(model: torch.nn.Module, path: str | Path) -> Path:
    """Save a registered model to directory ``path`` (``config.json`` + ``model.safetensors``).

    The weights are written before the config, each atomically, so a directory whose config
    parses always has weights that match it.
    """
    name = getattr(model, "registered_name", None)
    if name is None:
        raise TypeError(f"{type(model).__name__} is not a registered aekit model")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(path / "model.safetensors", model.state_dict())
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": name,
        "config": config_to_dict(model.config),
    }
    atomic_write_json(path / "config.json", meta)
    return path


def read_model_config(path: str | Path) -> tuple[type, Any]:
    """Read ``config.json`` in ``path``: the model class and its config object."""
    path = Path(path)
    cfg_path = path / "config.json" if path.is_dir() else path
    if not cfg_path.is_file():
        raise FileNotFoundError(
            f"no saved aekit model at {path}: expected a directory with config.json and "
            "model.safetensors (written by save_model or `aekit train --out DIR`)"
        )
    meta = read_json(cfg_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{cfg_path} is not an aekit model config (no 'format': 'aekit')")
    name = meta.get("model")
    if name not in MODELS:
        raise ValueError(f"{cfg_path} names model {name!r}; known models: {sorted(MODELS)}")
    cls = MODELS[name]
    if not isinstance(meta.get("config"), dict):
        raise ValueError(
            f"{cfg_path} has no 'config' table for its {name} model; save the model again"
        )
    return cls, config_from_dict(cls.config_class, meta["config"])


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> torch.nn.Module:
    """Load a model saved by :func:`save_model`."""
    # Importing the models package registers every built-in model name.
    import aekit.models
    import aekit.rbm  # noqa: F401

    cls, config = read_model_config(path)
    model = cls(config)
    state = load_tensors(Path(path) / "model.safetensors")
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that differ from the config's
        raise ValueError(
            f"the weights in {path} do not fit its config.json: {' '.join(str(exc).split())[:400]}"
        ) from None
    if missing or unexpected:
        raise ValueError(
            f"weights in {path} do not match the config: missing {missing}, unexpected {unexpected}"
        )
    return model.to(map_location)
