"""
Sparse autoencoder features and their mean activations
======================================================

A sparse autoencoder (Ng, CS294A lecture notes, 2011) may have more hidden units than it
needs, because a penalty keeps each unit's mean activation rho_hat_j near a small target
rho: ``beta * sum_j KL(rho || rho_hat_j)``, the Kullback-Leibler divergence between two
Bernoulli distributions with means rho and rho_hat_j. Each unit then fires for few inputs and
learns a part (a stroke) rather than a blend of everything.

We train two 64-100 autoencoders with logistic hidden units and a little weight decay on the
8x8 digits, one with the KL penalty (rho = 0.05, beta = 3) and one without. Left and middle:
each hidden unit's weights as an 8x8 image (its filter, scaled to its own range). Right: the
hidden units' mean activations over the test images. Without the penalty most units sit near
0.5, all of them busy with every input; with it their means crowd around rho = 0.05 and the
filters become local blobs and strokes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.viz.generative import tile_images

RHO = 0.05


def filters(ae: Autoencoder) -> np.ndarray:
    """Each hidden unit's input weights, scaled to [0, 1] unit by unit: ``(n_hidden, 64)``."""
    w = ae.encoder.weights()[0].detach().numpy()  # (n_hidden, n_visible)
    lo, hi = w.min(1, keepdims=True), w.max(1, keepdims=True)
    return (w - lo) / (hi - lo)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    train = TrainConfig(
        epochs=5 if args.quick else 150, batch_size=64, lr=3e-3, val_fraction=0.0,
        progress=False,
    )  # fmt: skip
    models = {}
    for name, sparsity_weight in (("sparse (KL, rho = 0.05)", 3.0), ("no sparsity penalty", 0.0)):
        torch.manual_seed(0)
        ae = Autoencoder(
            AutoencoderConfig(
                layers="64-100",
                code_activation="logistic",  # the one hidden layer is the code
                likelihood="bernoulli",
                sparsity_weight=sparsity_weight,
                sparsity_target=RHO,
                weight_decay=3e-3,
            )
        )
        Trainer(ae, train).fit(data.x_train)
        models[name] = ae

    fig = Figure(figsize=(9.5, 3.4), dpi=70)
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.3])
    for ax, (name, ae) in zip(axes, models.items()):
        ax.imshow(tile_images(filters(ae), (8, 8), n_cols=10), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"filters, {name}", fontsize=9)
        ax.set_axis_off()
    ax = axes[2]
    bins = np.linspace(0, 1, 41)
    for name, ae in models.items():
        mean_activation = ae.transform(data.x_test).mean(0)  # (n_hidden,): rho_hat_j
        ax.hist(mean_activation, bins=bins, alpha=0.6, label=name)
        print(f"{name}: median mean activation {np.median(mean_activation):.3f}")
    ax.axvline(RHO, color="k", linestyle="--", linewidth=1, label="target rho = 0.05")
    ax.set_xlabel("mean activation of a hidden unit (test images)")
    ax.set_ylabel("hidden units")
    ax.legend(fontsize=8)
    fig.suptitle("A sparse autoencoder with 100 hidden units on 8x8 digits")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "sparse_autoencoder.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
