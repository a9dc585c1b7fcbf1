"""Model cards: the README.md saved with every trained model, saying what it is and where it
came from.

The card follows Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019), cut to what
aekit knows for certain: the model and its config, the data it was trained on (name or file,
shape, and a SHA-256 fingerprint of sampled rows), the specification or command that trained it,
its final metrics beside PCA's at the same code size on the same held-out rows (the comparison
Hinton & Salakhutdinov 2006 make for every autoencoder), aekit's version, the training time
and the date. Its YAML header is the Hugging Face hub's model-card metadata, so the folder is
also a hub model repository (:mod:`aekit.hub`).

:func:`run_card` writes the card of a training run (the :class:`~aekit.train.Trainer` saves it
with the final weights); :func:`render_card` formats one from parts; :func:`read_card` finds
a model folder's card, or describes an older folder saved without one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from aekit import __version__

CARD_FILE = "README.md"
# Models whose reconstruct() returns rows in data space, comparable with PCA's. A document
# model reconstructs word distributions (compare it with LSA); a classifier has no decoder.
RECONSTRUCTS_DATA = ("autoencoder", "vae", "aae", "ib-autoencoder", "rbm")
# Held-out rows the model and PCA are scored on, at most (a seeded subset above); PCA's fit
# has its own cap, aekit.evaluate.pca_compare.MAX_PCA_ROWS.
PCA_EVAL_ROWS = 10_000
# Per-epoch keys that describe the run's speed or schedule, not the model.
_NOT_METRICS = ("epoch", "lr", "seconds", "samples_per_s")


# The training data --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """What a model was trained on: the data's name (a data set or a file), its shape, and
    its fingerprint, the SHA-256 of up to 64 evenly spaced rows as float32 (the one a run
    folder keeps to refuse a resume on other data:
    :func:`aekit.train.run_folder.data_fingerprint`)."""

    name: str | None
    shape: tuple[int, ...]
    fingerprint: str

    @classmethod
    def of(cls, x, name: str | None = None) -> TrainingData:
        from aekit.train.run_folder import data_fingerprint

        return cls.from_fingerprint(data_fingerprint(x), name)

    @classmethod
    def from_fingerprint(cls, fingerprint: dict[str, Any], name: str | None) -> TrainingData:
        """From :func:`~aekit.train.run_folder.data_fingerprint`'s dict."""
        shape = tuple(int(s) for s in fingerprint["shape"])
        return cls(name, shape, f"sha256:{fingerprint['sample_sha256']}")


def data_name(metadata: dict[str, Any]) -> str | None:
    """The data's name in a run's metadata (``aekit train`` records it), if any."""
    data = metadata.get("data") or (metadata.get("spec") or {}).get("data")
    if not isinstance(data, dict) or not data.get("name"):
        return None
    options = data.get("options") or {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return f"{data['name']} ({shown})" if shown else str(data["name"])


# The comparison with PCA ---------------------------------------------------------------------


def _rows(x, n: int, seed: int) -> np.ndarray:
    """At most ``n`` rows of ``x`` (a seeded subset, in order) as a float32 array."""
    total = x.shape[0]
    idx = np.arange(total)
    if total > n:
        idx = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
    if isinstance(x, np.ndarray):
        return np.asarray(x[idx], dtype=np.float32)
    rows = x[torch.from_numpy(idx).to(getattr(x, "device", "cpu"))]
    if isinstance(rows, torch.Tensor):
        return rows.detach().cpu().float().numpy()
    return np.asarray(rows.toarray() if sp.issparse(rows) else rows, dtype=np.float32)


def pca_comparison(model, x_fit, x_eval) -> dict[str, Any] | None:
    """:func:`aekit.evaluate.compare_with_pca` on a run's rows: the squared error per sample of
    the model's reconstructions of ``x_eval`` and of PCA's, fitted on ``x_fit`` at the model's
    code size. ``x_fit`` and ``x_eval`` may be tensors or row sources on any device.

    None when the model does not reconstruct in data space (see :data:`RECONSTRUCTS_DATA`;
    a conditional VAE reconstructs from labels, which a card does not have), or when its code
    is as wide as the data (PCA would be exact).
    """
    if getattr(model, "registered_name", None) not in RECONSTRUCTS_DATA:
        return None
    if model.registered_name == "vae" and model.config.n_classes:
        return None
    from aekit.evaluate.pca_compare import MAX_PCA_ROWS, compare_with_pca

    held_out = _rows(x_eval, PCA_EVAL_ROWS, seed=1)
    result = compare_with_pca(model, _rows(x_fit, MAX_PCA_ROWS, seed=0), held_out)
    if result.pca_is_exact:
        return None
    return {
        "metric": "squared error per sample",
        "code_size": result.code_size,
        "n_components": result.n_components,
        "rows": len(held_out),
        "held_out": x_eval is not x_fit,
        "model": result.model_error,
        "pca": result.pca_error,
        "pca_fit_rows": result.n_fit_rows,
    }


# Rendering ---------------------------------------------------------------------------------


def _toml_tables(tables: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested dicts as TOML tables (what a --config file holds); None values are left out,
    as TOML has no null."""
    lines: list[str] = []
    scalars = {k: v for k, v in tables.items() if not isinstance(v, dict) and v is not None}
    if scalars and prefix:
        lines.append(f"[{prefix}]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in scalars.items()]
    for key, value in tables.items():
        if isinstance(value, dict) and value:
            sub = f"{prefix}.{key}" if prefix else key
            lines += ([""] if lines else []) + _toml_tables(value, sub)
    return lines


def _number(value: float) -> str:
    return f"{value:.6g}"


def render_card(
    model,
    *,
    data: TrainingData | None = None,
    command: str | None = None,
    spec: dict[str, Any] | None = None,
    train_config: Any = None,
    metrics: dict[str, float] | None = None,
    best_epoch: int | None = None,
    comparison: dict[str, Any] | None = None,
    seconds: float | None = None,
    date: datetime | None = None,
) -> str:
    """The model card as Markdown with the hub's YAML header (see the module docstring).

    Every part but ``model`` is optional; what is not given is left out of the card.
    """
    name = model.registered_name
    layers = getattr(model.config, "layers", None)
    title = f"{name} {'-'.join(map(str, layers))}" if layers else name
    date = date or datetime.now(UTC)
    out = [
        "---",
        "library_name: aekit",
        "tags:",
        "- aekit",
        f"- {name}",
        "- pytorch",
        "---",
        "",
        f"# {title}",
        "",
        f"`{type(model).__name__}` of [aekit](https://pypi.org/project/aekit/) "
        f"{__version__}, saved on {date:%Y-%m-%d}.",
    ]
    out += _data_section(data)
    out += _training_section(command, spec, train_config, seconds)
    out += _results_section(metrics, best_epoch, comparison)
    out += [
        "",
        "## Model",
        "",
        "```json",
        json.dumps({"model": name, "config": asdict(model.config)}, indent=2, default=str),
        "```",
        "",
        "## Use",
        "",
        "```python",
        "from aekit.hub import from_pretrained",
        "",
        'model = from_pretrained("path/to/this/folder")  # a local folder or a hub repo id',
        "codes = model.transform(x)",
        "```",
        "",
        f"Saved by aekit {__version__} on {date:%Y-%m-%d %H:%M} UTC. The weights are "
        "`model.safetensors`, the config `config.json`; nothing in the folder is pickled.",
        "",
    ]
    return "\n".join(out)


def _data_section(data: TrainingData | None) -> list[str]:
    if data is None:
        return []
    rows, *features = data.shape
    return [
        "",
        "## Training data",
        "",
        f"- data: {data.name or 'an array passed from Python'}",
        f"- shape: {rows:,} rows x {' x '.join(f'{f:,}' for f in features)} features",
        f"- fingerprint: `{data.fingerprint}` (SHA-256 of 64 evenly spaced rows as float32, "
        "`aekit.train.run_folder.data_fingerprint`)",
    ]


def _training_section(command, spec, train_config, seconds) -> list[str]:
    out = ["", "## How it was trained", ""]
    if spec:
        lead = f"Command: `{command}`, with" if command else "From"
        out += [f"{lead} this specification:", "", "```toml", *_toml_tables(spec), "```"]
    elif train_config is not None:
        lead = f"Command: `{command}`, with" if command else "Trained from Python with"
        out += [
            f"{lead} these settings of `aekit.train.Trainer`:",
            "",
            "```toml",
            *_toml_tables({"train": asdict(train_config)}),
            "```",
        ]
    elif command:
        out.append(f"Command: `{command}`.")
    if seconds is not None:
        out += ["", f"Training time: {seconds:.1f} s (the epochs' wall time, summed)."]
    return out if len(out) > 3 else []


def _results_section(metrics, best_epoch, comparison) -> list[str]:
    out = []
    if metrics:
        which = f" (epoch {best_epoch}, whose weights these are)" if best_epoch else ""
        out += ["", "## Results", "", f"Final metrics{which}:", "", "| metric | value |"]
        out.append("| --- | --- |")
        out += [f"| {k} | {_number(v)} |" for k, v in metrics.items() if k not in _NOT_METRICS]
    if comparison:
        rows = "held-out" if comparison["held_out"] else "training"
        out += [
            "",
            f"Against PCA with the same code size ({comparison['code_size']}), on "
            f"{comparison['rows']:,} {rows} rows ({comparison['metric']}, summed over "
            "features, averaged over rows):",
            "",
            "| model | squared error per sample |",
            "| --- | --- |",
            f"| this model | {_number(comparison['model'])} |",
            f"| PCA, {comparison['n_components']} components | {_number(comparison['pca'])} |",
        ]
    return out


# From a training run ------------------------------------------------------------------------


def run_card(trainer, x_fit, x_eval=None, fingerprint: dict[str, Any] | None = None) -> str:
    """The card of a finished :class:`~aekit.train.Trainer` run (the trainer saves it with
    the final weights).

    Parameters
    ----------
    trainer : Trainer
        After training: its model, configs, run metadata and history.
    x_fit, x_eval : array-like or row source
        The rows trained on and the held-out rows (None: none were held out), for the
        comparison with PCA.
    fingerprint : dict, optional
        :func:`~aekit.train.run_folder.data_fingerprint` of the data as given to ``fit``.
    """
    from aekit.train.tracking import epoch_metrics, final_record

    model = trainer.model
    metadata = trainer.run_metadata or {}
    records = trainer.history.records
    final = final_record(trainer) if records else {}
    data = None
    if fingerprint is not None:
        data = TrainingData.from_fingerprint(fingerprint, data_name(metadata))
    return render_card(
        model,
        data=data,
        command=metadata.get("command"),
        spec=metadata.get("spec"),
        train_config=trainer.config,
        metrics=epoch_metrics(final) if final else None,
        best_epoch=final.get("epoch") if final and final is not records[-1] else None,
        comparison=pca_comparison(model, x_fit, x_fit if x_eval is None else x_eval),
        seconds=sum(r.get("seconds", 0.0) for r in records) if records else None,
    )


# Reading ----------------------------------------------------------------------------------------


def read_card(path: str | Path) -> str:
    """The card of a saved model: a model folder, or a run folder holding ``model/``.

    A folder saved before cards existed gets one made from its config.json (its training is
    then unknown, which the card says).
    """
    from aekit.export import resolve_model_dir
    from aekit.saving import read_model_config

    folder = resolve_model_dir(path)
    card = folder / CARD_FILE
    if card.is_file():
        return card.read_text()
    cls, config = read_model_config(folder)
    return render_card(cls(config)) + (
        "\nThis folder was saved without a model card (before aekit wrote them, or by a "
        "caller that gave none): what it was trained on is not recorded.\n"
    )
