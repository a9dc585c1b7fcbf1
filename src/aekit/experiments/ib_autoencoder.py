"""Can the information bottleneck design a better autoencoder? A measured comparison.

Autoencoders of one architecture and code size, trained on the same data with the same
optimizer, differing only in their objective (:mod:`aekit.models.ib_autoencoder`):

- ``plain AE``: reconstruction only (:class:`aekit.models.Autoencoder`);
- ``beta-VAE``: reconstruction + beta * rate (no target), the bottleneck without relevance;
- ``AE + labels``: reconstruction + label_weight * cross-entropy, no pressure on the rate;
- ``IB-AE``: reconstruction + label_weight * cross-entropy + beta * rate, the full IB design.

and measured on held-out data for what a user would want from codes: class information that
a k-NN or a linear probe can read, codes that stay put when the input is noisy (k-NN accuracy
on noisy test inputs; the codes' displacement relative to their spread), and the
reconstruction error the extra terms cost.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from aekit.data import Dataset
from aekit.evaluate import (
    code_sensitivity,
    knn_accuracy,
    linear_probe_accuracy,
    mean_squared_error_per_sample,
)
from aekit.models import Autoencoder, AutoencoderConfig, IBAutoencoder, IBAutoencoderConfig
from aekit.train import TrainConfig, Trainer


@dataclass
class IBStudySettings:
    """What the comparison trains and how it perturbs the inputs."""

    layers: list[int] = field(default_factory=lambda: [784, 512, 256, 16])
    activation: str = "relu"
    likelihood: str = "bernoulli"
    label_weight: float = 10.0
    betas: tuple[float, ...] = (0.1, 1.0)
    vae_beta: float = 1.0
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    noise_std: float = 0.3
    n_probe_train: int = 10_000
    seed: int = 0


def variants(s: IBStudySettings) -> dict[str, dict[str, float] | None]:
    """Name -> IB-AE weights (``None``: the plain :class:`Autoencoder`)."""
    out: dict[str, dict[str, float] | None] = {
        "plain AE": None,
        f"beta-VAE (beta={s.vae_beta:g})": {"beta": s.vae_beta, "label_weight": 0.0},
        "AE + labels": {"beta": 0.0, "label_weight": s.label_weight},
    }
    for beta in s.betas:
        out[f"IB-AE (beta={beta:g})"] = {"beta": beta, "label_weight": s.label_weight}
    return out


def build(s: IBStudySettings, weights: dict[str, float] | None, n_classes: int):
    if weights is None:
        return Autoencoder(
            AutoencoderConfig(layers=s.layers, activation=s.activation, likelihood=s.likelihood)
        )
    return IBAutoencoder(
        IBAutoencoderConfig(
            layers=s.layers,
            activation=s.activation,
            likelihood=s.likelihood,
            n_classes=n_classes,
            **weights,
        )
    )


def noisy(x: np.ndarray, std: float, seed: int) -> np.ndarray:
    """``x`` plus Gaussian noise, clipped back into the data's range ([0, 1] images)."""
    rng = np.random.default_rng(seed)
    out = x + rng.normal(scale=std, size=x.shape).astype(x.dtype)
    lo, hi = float(x.min()), float(x.max())
    return np.clip(out, lo, hi)


def evaluate_codes(model, ds: Dataset, s: IBStudySettings) -> dict[str, float]:
    """Probe accuracies, noise robustness and reconstruction error on the test set."""
    if ds.y_train is None or ds.y_test is None:
        raise ValueError(f"{ds.name} has no labels; the codes are probed by predicting them")
    rng = np.random.default_rng(s.seed)
    n_probe = min(s.n_probe_train, len(ds.x_train))
    probe_idx = rng.choice(len(ds.x_train), n_probe, replace=False)
    z_train = model.transform(ds.x_train[probe_idx])
    y_train = ds.y_train[probe_idx]
    z_test = model.transform(ds.x_test)
    x_noisy = noisy(ds.x_test, s.noise_std, s.seed + 1)
    z_noisy = model.transform(x_noisy)
    return {
        "test_squared_error": mean_squared_error_per_sample(
            ds.x_test, model.reconstruct(ds.x_test)
        ),
        "knn_accuracy": knn_accuracy(z_train, y_train, codes_test=z_test, labels_test=ds.y_test),
        "linear_probe_accuracy": linear_probe_accuracy(z_train, y_train, z_test, ds.y_test),
        "knn_accuracy_noisy_input": knn_accuracy(
            z_train, y_train, codes_test=z_noisy, labels_test=ds.y_test
        ),
        "code_sensitivity_to_noise": code_sensitivity(z_test, z_noisy),
    }


def run_study(
    ds: Dataset, settings: IBStudySettings | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train every variant on ``ds`` (which must carry labels) and measure each.

    Returns ``{"settings": ..., "results": {name: metrics}}``; ``metrics`` also holds the
    training time and, for models with a label head, its test error.
    """
    s = settings or IBStudySettings()
    if ds.y_train is None or ds.y_test is None:
        raise ValueError(f"{ds.name} has no labels; the IB autoencoder needs a target to predict")
    n_classes = int(max(ds.y_train.max(), ds.y_test.max())) + 1
    results: dict[str, dict[str, float]] = {}
    for name, weights in variants(s).items():
        torch.manual_seed(s.seed)
        model = build(s, weights, n_classes)
        cfg = TrainConfig(
            epochs=s.epochs,
            batch_size=s.batch_size,
            lr=s.lr,
            val_fraction=0.0,
            seed=s.seed,
            progress=progress,
        )
        supervised = isinstance(model, IBAutoencoder)
        t0 = time.perf_counter()
        Trainer(model, cfg).fit(ds.x_train, y_train=ds.y_train if supervised else None)
        metrics = {"train_seconds": time.perf_counter() - t0, **evaluate_codes(model, ds, s)}
        if supervised and model.config.label_weight > 0:
            metrics["head_error"] = float((model.predict(ds.x_test) != ds.y_test).mean())
        results[name] = metrics
    return {"settings": asdict(s), "results": results}
