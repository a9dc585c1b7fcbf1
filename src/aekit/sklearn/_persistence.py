"""Saving fitted estimators without pickle.

A fitted estimator is a folder in the one format of every saved aekit model --
``config.json`` + ``model.safetensors`` for its network (:func:`aekit.saving.save_model`) --
plus ``estimator.json``: the estimator's class (looked up among :mod:`aekit.sklearn`'s public
names, never imported by path), its parameters and its fitted state (numbers, strings and
arrays as JSON lists, which round-trip float64 exactly). An ensemble (the outlier detectors)
keeps ``estimator.json`` at the top and one such folder per member, ``member-0/``, ...

Nothing is unpickled, so a folder from someone else can at worst hold wrong numbers, never
run code. Pickling a fitted estimator works too (``pickle``, ``joblib``), but unpickling
executes whatever the file says: never unpickle a file you did not write yourself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aekit.atomic import atomic_write_json, read_json
from aekit.saving import load_model, save_model
from aekit.train.trainer import resolve_device

__all__ = ["EstimatorSaveMixin", "load_estimator", "save_estimator"]

ESTIMATOR_FILE = "estimator.json"
ESTIMATOR_FORMAT = "aekit-estimator"
ESTIMATOR_FORMAT_VERSION = 1
# Fitted attributes that are rebuilt from the network or not kept: the network itself, the
# ensemble's members (saved as folders) and the trainer's history (per-epoch records; the
# curves that matter are kept as loss_curve_ and validation_loss_curve_).
_NOT_STATE = {"model_", "estimators_", "history_"}


def _encode(value: Any, what: str) -> Any:
    """A JSON-ready form of a parameter or fitted attribute."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"ndarray": [_encode(v, what) for v in value.tolist()], "dtype": "object"}
        return {"ndarray": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, what) for v in value]}
    if isinstance(value, list):
        return [_encode(v, what) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"{what} is a {type(value).__name__}, which an estimator folder cannot hold (numbers, "
        "strings, tuples, lists and arrays only); set it to a plain value before saving"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "ndarray" in value:
        if value["dtype"] == "object":
            return np.asarray([_decode(v) for v in value["ndarray"]], dtype=object)
        array = np.asarray(value["ndarray"], dtype=np.dtype(value["dtype"]))
        return array.reshape(value["shape"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _estimator_document(est) -> dict[str, Any]:
    params = est.get_params(deep=False)
    if not isinstance(params.get("random_state"), int | type(None)):
        # A RandomState instance has already been consumed by fit; the folder keeps the
        # fitted state, so only a refit would read it again.
        params["random_state"] = None
    state = {
        name: _encode(value, f"{type(est).__name__}.{name}")
        for name, value in vars(est).items()
        if name.endswith("_") and not name.startswith("_") and name not in _NOT_STATE
    }
    return {
        "format": ESTIMATOR_FORMAT,
        "format_version": ESTIMATOR_FORMAT_VERSION,
        "estimator": type(est).__name__,
        "params": {k: _encode(v, f"parameter {k}") for k, v in params.items()},
        "state": state,
    }


def save_estimator(est, path: str | Path) -> Path:
    """Save a fitted estimator to folder ``path``; see the module docstring for the layout.

    Parameters
    ----------
    est : estimator from :mod:`aekit.sklearn`, fitted
    path : str or Path
        Folder to write (created; files of the same names are replaced).

    Returns
    -------
    path : Path
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    path = Path(path)
    doc = _estimator_document(est)
    if hasattr(est, "estimators_"):
        doc["members"] = []
        for k, member in enumerate(est.estimators_):
            save_estimator(member, path / f"member-{k}")
            doc["members"].append(f"member-{k}")
    else:
        save_model(est.model_, path)
    path.mkdir(parents=True, exist_ok=True)
    # Written last: a folder whose estimator.json parses has all its networks.
    atomic_write_json(path / ESTIMATOR_FILE, doc)
    return path


def load_estimator(path: str | Path):
    """Load an estimator saved by :func:`save_estimator` (or ``est.save``); never unpickles.

    Parameters
    ----------
    path : str or Path
        The folder.

    Returns
    -------
    estimator
        Fitted, giving the same outputs as the one saved.

    Raises
    ------
    FileNotFoundError
        If ``path`` holds no ``estimator.json``.
    ValueError
        If the file is not an aekit estimator or names an unknown estimator class.
    """
    import aekit.sklearn as public

    path = Path(path)
    file = path / ESTIMATOR_FILE
    if not file.is_file():
        raise FileNotFoundError(
            f"{path} holds no {ESTIMATOR_FILE}; pass a folder written by est.save(path)"
        )
    doc = read_json(file)
    if not isinstance(doc, dict) or doc.get("format") != ESTIMATOR_FORMAT:
        raise ValueError(f"{file} is not an aekit estimator file (format {ESTIMATOR_FORMAT!r})")
    name = doc.get("estimator")
    known = {n for n in public.__all__ if isinstance(getattr(public, n), type)}
    if name not in known:
        raise ValueError(
            f"{file} names estimator {name!r}, which aekit.sklearn does not have; known: "
            f"{sorted(known)} (was it saved by a newer aekit?)"
        )
    est = getattr(public, name)(**{k: _decode(v) for k, v in doc["params"].items()})
    for attr, value in doc["state"].items():
        setattr(est, attr, _decode(value))
    if "members" in doc:
        est.estimators_ = [load_estimator(path / m) for m in doc["members"]]
    else:
        device = resolve_device(getattr(est, "device", "cpu"))
        est.model_ = load_model(path, map_location=device).eval()
    return est


class EstimatorSaveMixin:
    """``est.save(path)``: the fitted estimator as a folder, loaded by :func:`load_estimator`."""

    def save(self, path: str | Path) -> Path:
        """Save the fitted estimator to folder ``path`` (networks as safetensors, state as
        JSON; never pickle). Load it with :func:`aekit.sklearn.load_estimator`.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        path : Path
        """
        return save_estimator(self, path)
