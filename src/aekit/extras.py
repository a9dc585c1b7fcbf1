"""Optional dependencies: import one of an extra's packages, or say which extra installs it.

The core of aekit stays light; ONNX export, experiment tracking and the hub's snapshots each
need packages that only their users install (``pip install 'aekit[onnx]'`` and so on). Each
feature asks for its modules through :func:`require` at the moment it needs them, so importing
aekit never does, and a missing one is a one-line error naming the extra, not a traceback.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


class MissingExtraError(ImportError, ValueError):
    """An optional dependency is not installed; the message names the extra that installs it.

    It is an ``ImportError`` (what Python code expects of a missing package) and a
    ``ValueError`` (what the command line turns into a one-line error).
    """


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``extra``.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"onnxruntime"``.
    extra : str
        The extra of aekit that installs it, e.g. ``"onnx"``.
    purpose : str
        What needs it, for the message (``"ONNX export"``).
    """
    try:
        return import_module(module)
    except ImportError as err:
        # The package may be present but broken (a missing shared library): say which.
        detail = "" if err.name == module.split(".")[0] else f" ({err})"
        raise MissingExtraError(
            f"{purpose} needs the {module.split('.')[0]} package, which is not installed"
            f"{detail}: pip install 'aekit[{extra}]'"
        ) from None
