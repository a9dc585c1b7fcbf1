"""
Adversarial autoencoder codes against their prior
=================================================

An adversarial autoencoder (Makhzani et al., 2016) shapes its codes without a likelihood for
them: beside the reconstruction, a discriminator learns to tell codes of data from draws of a
chosen prior, and the encoder learns to fool it. Once the discriminator can no longer tell,
the aggregate distribution of the codes matches the prior, and decoding prior draws gives
data. Unlike a VAE, which needs the prior's density in closed form for its KL term, an AAE
needs only samples of it, so any prior will do, such as a ring of ten Gaussians (their
Fig. 2 and 4).

Two 64-256-256-2 AAEs on the 8x8 digits, one with the standard normal prior and one with a
ring of ten Gaussians. Each panel shows the prior's density (grey) and the test digits'
codes, coloured by class; the title gives the squared maximum mean discrepancy between codes
and prior draws (0 when the distributions match). The bottom row decodes prior draws.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import AAEConfig, AdversarialAutoencoder, TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.evaluate import mmd2
from aekit.viz.generative import tile_images


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    train = TrainConfig(
        epochs=3 if args.quick else 120, batch_size=64, lr=1e-3, val_fraction=0.0,
        progress=False,
    )  # fmt: skip
    fig = Figure(figsize=(9.0, 7.6), dpi=75)
    axes = fig.subplots(2, 2, height_ratios=[1.3, 1])
    for column, (prior, title) in enumerate(
        (("gaussian", "N(0, I) prior"), ("gaussian_ring", "ring of ten Gaussians"))
    ):
        torch.manual_seed(0)
        aae = AdversarialAutoencoder(
            AAEConfig(layers="64-256-256-2", prior=prior, discriminator_layers=[128, 128])
        )
        Trainer(aae, train).fit(data.x_train)  # reconstruction, discriminator, generator
        codes = aae.transform(data.x_test)  # (n_test, 2)
        draws = aae.sample_prior(20_000, torch.Generator().manual_seed(0)).numpy()
        distance = mmd2(codes, draws[: len(codes)])
        print(f"{title}: MMD^2(codes, prior) = {distance:.4f}")

        ax = axes[0, column]
        lo, hi = np.percentile(np.concatenate([codes, draws]), [0.5, 99.5], axis=0)
        extent = [[lo[0] - 0.5, hi[0] + 0.5], [lo[1] - 0.5, hi[1] + 0.5]]
        ax.hist2d(draws[:, 0], draws[:, 1], bins=70, range=extent, cmap="Greys")
        for cls in range(10):
            sel = data.y_test == cls
            ax.scatter(codes[sel, 0], codes[sel, 1], s=5, label=str(cls))
        ax.set_aspect("equal")
        ax.set_title(f"{title}: MMD^2 {distance:.4f}", fontsize=9)
        if column == 1:
            ax.legend(fontsize=7, markerscale=2, ncol=2, loc="upper right", framealpha=0.8)
        samples = aae.sample(48, seed=0)  # decoded prior draws, (48, 64)
        axes[1, column].imshow(
            tile_images(samples, (8, 8), n_cols=8), cmap="gray_r", vmin=0, vmax=1
        )
        axes[1, column].set_title("decoded prior draws", fontsize=9)
        axes[1, column].set_axis_off()
    fig.suptitle("Adversarial autoencoders with 2-d codes on 8x8 digits")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "aae_prior.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
