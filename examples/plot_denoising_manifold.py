"""
A denoising autoencoder projects corrupted points back onto the data's manifold
===============================================================================

A denoising autoencoder (Vincent et al., JMLR 2010) sees a corrupted input x~ and is trained
to output the clean x. Data that lie near a low-dimensional manifold are pushed off it in
every direction by isotropic noise; the best reconstruction of x~ is the average clean point
that could have produced it, which lies back on the manifold. So the learned map acts as a
projection, and r(x) - x points towards the manifold from anywhere around it (Alain & Bengio,
JMLR 2014: for small noise it estimates the score, the gradient of the log-density).

2-D data on a spiral (a 1-D manifold) with a little thickness; Gaussian corruption with
standard deviation 0.15; an overcomplete 2-128-128 ReLU autoencoder (a bottleneck is not what
makes it denoise). Left: clean points (grey), corrupted test points (red) and where the
autoencoder sends them (blue), joined by lines. Right: the field r(x) - x where the
training noise reached.
The titles give the mean distance to the spiral before and after.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer

NOISE = 0.15


def spiral(t: np.ndarray) -> np.ndarray:
    """Points of the spiral at parameters ``t``, ``(len(t), 2)``."""
    return np.column_stack([t * np.cos(t), t * np.sin(t)]) / 6.0


def distance_to_spiral(points: np.ndarray) -> np.ndarray:
    """Distance of each point to a dense polyline of the spiral."""
    curve = spiral(np.linspace(1.0, 4 * np.pi, 4000))  # (4000, 2)
    return np.sqrt(((points[:, None, :] - curve[None]) ** 2).sum(-1)).min(1)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    t = rng.uniform(1.0, 4 * np.pi, 4000)
    x = (spiral(t) + rng.normal(scale=0.01, size=(len(t), 2))).astype(np.float32)

    torch.manual_seed(0)
    dae = Autoencoder(
        AutoencoderConfig(
            layers="2-128-128",
            activation="relu",
            likelihood="gaussian",  # squared error on real-valued points
            corruption="gaussian",
            corruption_level=NOISE,  # the noise's standard deviation; the target stays clean
        )
    )
    train = TrainConfig(
        epochs=5 if args.quick else 300, batch_size=128, lr=3e-3, lr_schedule="cosine",
        val_fraction=0.0, progress=False,
    )  # fmt: skip
    Trainer(dae, train).fit(x)

    clean = spiral(rng.uniform(1.0, 4 * np.pi, 150))
    corrupted = (clean + rng.normal(scale=NOISE, size=clean.shape)).astype(np.float32)
    denoised = dae.reconstruct(corrupted)
    before, after = distance_to_spiral(corrupted).mean(), distance_to_spiral(denoised).mean()
    print(f"mean distance to the spiral: corrupted {before:.3f}, denoised {after:.3f}")

    fig = Figure(figsize=(9.0, 4.4), dpi=80)
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    left.scatter(x[:, 0], x[:, 1], s=1, color="0.75")
    for a, b in zip(corrupted, denoised):
        left.plot([a[0], b[0]], [a[1], b[1]], color="0.4", linewidth=0.5)
    left.scatter(corrupted[:, 0], corrupted[:, 1], s=8, color="tab:red", label="corrupted x~")
    left.scatter(denoised[:, 0], denoised[:, 1], s=8, color="tab:blue", label="r(x~)")
    left.legend(fontsize=8, loc="lower left")
    left.set_title(f"mean distance to the spiral: {before:.3f} -> {after:.3f}", fontsize=9)

    # The field where the training noise reached (within about 2.5 sd of the spiral); farther
    # out the autoencoder never saw an input, and its arrows mean nothing.
    g = np.linspace(-2.4, 2.4, 41, dtype=np.float32)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # (1681, 2)
    grid = grid[distance_to_spiral(grid) < 2.5 * NOISE]
    step = dae.reconstruct(grid) - grid  # r(x) - x
    right.scatter(x[:, 0], x[:, 1], s=1, color="0.75")
    right.quiver(grid[:, 0], grid[:, 1], step[:, 0], step[:, 1], angles="xy", scale_units="xy",
                 scale=1.0, width=0.003, color="tab:blue")  # fmt: skip
    right.set_title("r(x) - x near the spiral: arrows point onto it", fontsize=9)
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.set_xlim(-2.4, 2.4)
        ax.set_ylim(-2.4, 2.4)
    fig.suptitle(f"Denoising autoencoder, Gaussian corruption (sd {NOISE}) of 2-D data")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "denoising_manifold.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
