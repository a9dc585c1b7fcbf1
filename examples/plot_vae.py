"""
Samples and the latent manifold of a variational autoencoder
============================================================

A variational autoencoder (Kingma & Welling, ICLR 2014) is a generative model
``p(x) = integral p(x|z) p(z) dz`` with the prior ``p(z) = N(0, I)`` and a decoder network for
``p(x|z)``; an encoder ``q(z|x) = N(mu(x), diag sigma^2(x))`` makes training possible. Both
are trained together by maximising the evidence lower bound,
``E_q[log p(x|z)] - KL(q(z|x) || p(z))``, with one reparameterised sample
``z = mu + sigma * eps`` for the first term and the KL in closed form. The KL term pulls the
codes towards the prior, so decoding draws from the prior gives new data.

A 64-256-256-2 VAE (tanh units, Bernoulli decoder) on the 8x8 digits. Left: the decoder's
means at 64 draws from the prior. Middle: the decoded manifold (Kingma & Welling's Fig. 4):
decoded means on a 12 x 12 grid of the prior's quantiles, so equal areas of the picture hold
equal prior mass. Right: the test digits' posterior means, coloured by class, over the prior's
one- and two-sigma circles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import VAE, TrainConfig, Trainer, VAEConfig
from aekit.data import load_dataset
from aekit.viz.generative import manifold_codes, tile_images


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    torch.manual_seed(0)
    vae = VAE(VAEConfig(layers="64-256-256-2", activation="tanh", likelihood="bernoulli"))
    train = TrainConfig(
        epochs=3 if args.quick else 300, batch_size=64, lr=1e-3, val_fraction=0.0,
        progress=False,
    )  # fmt: skip
    Trainer(vae, train).fit(data.x_train)
    nll = -vae.elbo(data.x_test, seed=0).mean()
    print(f"test negative ELBO: {nll:.2f} nats per image")

    n = 12
    samples = vae.sample(64, seed=0)  # (64, 64): decoder means at prior draws
    manifold = vae.inverse_transform(manifold_codes(n).astype(np.float32))  # (n * n, 64)
    codes = vae.transform(data.x_test)  # posterior means, (n_test, 2)

    fig = Figure(figsize=(11.0, 3.9), dpi=75)
    sample_ax, manifold_ax, code_ax = fig.subplots(1, 3, width_ratios=[1, 1, 1.15])
    sample_ax.imshow(tile_images(samples, (8, 8), n_cols=8), cmap="gray_r", vmin=0, vmax=1)
    sample_ax.set_title("samples: decoded prior draws", fontsize=9)
    manifold_ax.imshow(tile_images(manifold, (8, 8), n_cols=n), cmap="gray_r", vmin=0, vmax=1)
    manifold_ax.set_title("decoded manifold over the prior's quantiles", fontsize=9)
    for ax in (sample_ax, manifold_ax):
        ax.set_axis_off()
    for cls in range(10):
        sel = data.y_test == cls
        code_ax.scatter(codes[sel, 0], codes[sel, 1], s=5, label=str(cls))
    angle = np.linspace(0, 2 * np.pi, 200)
    for radius in (1, 2):
        code_ax.plot(radius * np.cos(angle), radius * np.sin(angle), "k:", linewidth=1)
    code_ax.set_aspect("equal")
    code_ax.legend(fontsize=7, markerscale=2, ncol=2, loc="upper right", framealpha=0.8)
    code_ax.set_title("test codes (posterior means) over N(0, I)", fontsize=9)
    fig.suptitle("A VAE with a 2-d code on 8x8 digits")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "vae.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
