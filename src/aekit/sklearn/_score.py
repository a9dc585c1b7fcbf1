"""Outlier scores of a data file from a saved detector or a trained model: what ``aekit score``
computes (the command only parses its arguments and prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from aekit.sklearn._outlier import outlier_offset
from aekit.sklearn._persistence import ESTIMATOR_FILE, load_estimator, load_model

__all__ = ["labels_path", "score_file"]


def labels_path(out: str | Path) -> Path:
    """Where :func:`score_file` writes the labels beside ``out``: ``NAME_labels.npy``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_labels.npy")


def _model_dir(run: Path) -> Path:
    """A saved model folder, or the ``model/`` of a run folder of ``aekit train``."""
    if (run / "config.json").is_file():
        return run
    if (run / "model" / "config.json").is_file():
        return run / "model"
    raise FileNotFoundError(
        f"{run} is neither a saved estimator (estimator.json), a saved model (config.json + "
        "model.safetensors) nor a run folder of `aekit train` with a final model"
    )


def _read_rows(data: str | Path) -> np.ndarray:
    from aekit.data.files import load_array

    x = load_array(Path(data))
    if x.ndim != 2:
        raise ValueError(f"{data} holds an array of shape {x.shape}; pass (n_samples, n_features)")
    # The same scaling as the loaders: raw pixel bytes become intensities in [0, 1].
    return np.asarray(x, dtype=np.float32) / np.float32(255.0 if x.dtype == np.uint8 else 1.0)


def score_file(
    run: str | Path,
    data: str | Path,
    out: str | Path,
    contamination: float | None = None,
) -> dict[str, Any]:
    """Score the rows of ``data`` and write scores and outlier labels.

    Parameters
    ----------
    run : str or Path
        A fitted detector saved with ``est.save`` (its ``score_samples`` and ``offset_`` are
        used), or a model saved by ``aekit train`` (a run folder or its ``model/``), scored by
        minus its reconstruction error.
    data : str or Path
        ``.npy``, ``.npz``, ``.csv``, ``.tsv`` or ``.txt`` matrix, one row per sample (uint8
        pixels are divided by 255, as the loaders do).
    out : str or Path
        ``.npy`` file for the scores (float64, higher is more normal, as scikit-learn's
        ``score_samples``); the labels (int8, ``-1`` outlier, ``+1`` inlier) go to
        :func:`labels_path` of it.
    contamination : float in (0, 0.5] or None
        Flag this fraction of the rows of ``data`` (the threshold is that quantile of their
        scores). None keeps a saved detector's own threshold ``offset_``, and for a model,
        which has none, uses "auto": Tukey's fence on the scores of ``data``.

    Returns
    -------
    summary : dict
        ``n_samples``, ``n_outliers``, ``offset`` (the threshold used), ``source`` and the
        two paths written.
    """
    if contamination is not None and not 0.0 < contamination <= 0.5:
        raise ValueError(
            f"contamination is the fraction of rows to flag, in (0, 0.5]; got {contamination}"
        )
    run = Path(run)
    x = _read_rows(data)
    if (run / ESTIMATOR_FILE).is_file():
        estimator = load_estimator(run)
        if not hasattr(estimator, "offset_"):
            raise ValueError(
                f"{run} holds a {type(estimator).__name__}, not an outlier detector; save an "
                "AutoencoderOutlierDetector, or pass the model folder of `aekit train`"
            )
        scores = np.asarray(estimator.score_samples(x), dtype=np.float64)
        offset = estimator.offset_
        source = type(estimator).__name__
    else:
        # A model of any registered family, taken by what it can do (Any: nn.Module's
        # __getattr__ hides the attributes from the type checker).
        model: Any = load_model(_model_dir(run)).eval()
        if not hasattr(model, "reconstruction_error"):
            raise ValueError(
                f"{run} holds a {type(model).__name__}, which has no reconstruction error to "
                "score by; pass an autoencoder"
            )
        width = model.config.layers[0]
        if x.shape[1] != width:
            raise ValueError(
                f"{data} has {x.shape[1]} columns but the model's input layer has {width}; "
                "pass data of the width it was trained on"
            )
        # The range training checks (a Bernoulli model's [0, 1]): scores outside it are noise.
        model.check_data(torch.from_numpy(np.asarray(x, dtype=np.float32)), str(data))
        scores = -np.asarray(model.reconstruction_error(x), dtype=np.float64)
        offset = outlier_offset(scores, "auto")
        source = f"{type(model).__name__} reconstruction error"
    if contamination is not None:
        offset = outlier_offset(scores, contamination)
    labels = np.where(scores < offset, -1, 1).astype(np.int8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, scores)
    np.save(labels_path(out), labels)
    return {
        "n_samples": int(len(scores)),
        "n_outliers": int((labels == -1).sum()),
        "offset": float(offset),
        "source": source,
        "scores": str(out),
        "labels": str(labels_path(out)),
    }
