"""Deprecated: the old home of saving, loading and atomic files.

Its three jobs now have modules of their own: :mod:`aekit.atomic` (files written whole or not
at all), :mod:`aekit.config` (config dataclasses and their validation), :mod:`aekit.registry`
(model names) and :mod:`aekit.saving` (the saved-model folder). Importing a name from here still
works and warns once with the new place.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any

_MOVED = {
    "atomic_write_text": "aekit.atomic",
    "atomic_write_json": "aekit.atomic",
    "atomic_save_tensors": "aekit.atomic",
    "load_tensors": "aekit.atomic",
    "read_json": "aekit.atomic",
    "check_fields": "aekit.config",
    "config_from_dict": "aekit.config",
    "config_to_dict": "aekit.config",
    "MODELS": "aekit.registry",
    "register_model": "aekit.registry",
    "FORMAT": "aekit.saving",
    "FORMAT_VERSION": "aekit.saving",
    "save_model": "aekit.saving",
    "load_model": "aekit.saving",
    "read_model_config": "aekit.saving",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"aekit.io.{name} moved to {_MOVED[name]}.{name}; aekit.io will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'aekit.io' has no attribute {name!r}")
