"""The one list of model names: ``@register_model(NAME)`` on a class makes it loadable by name.

This module sits below every model (models import the decorator from it) and imports none of
them at module level; :func:`model_class` imports the built-in families on first use, so a name
saved in a config.json resolves whichever module the caller imported first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: this module imports no model at run time
    from aekit.models.base import Model

MODELS: dict[str, type[Model]] = {}

# The packages whose import registers every built-in model.
_BUILTIN_PACKAGES = ("aekit.models", "aekit.rbm")


def register_model(name: str):
    """Class decorator: make a model loadable by ``name`` from its saved config."""

    def deco(cls):
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {MODELS[name]}")
        MODELS[name] = cls
        cls.registered_name = name
        return cls

    return deco


def _load_builtins() -> None:
    for package in _BUILTIN_PACKAGES:
        import_module(package)


def model_names() -> list[str]:
    """Every registered model name, built-ins included, sorted."""
    _load_builtins()
    return sorted(MODELS)


def model_class(name: str) -> type[Model]:
    """The class registered as ``name``; a ValueError lists the known names."""
    _load_builtins()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {sorted(MODELS)}")
    return MODELS[name]


def is_registered(model: object) -> bool:
    """Whether ``model``'s own class (not merely a parent) is registered, so it can be saved
    and loaded back by name."""
    name = getattr(type(model), "registered_name", None)
    return name is not None and MODELS.get(name) is type(model)
