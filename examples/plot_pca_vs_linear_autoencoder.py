"""
PCA and a linear autoencoder span the same subspace
===================================================

An autoencoder with a linear encoder, a linear decoder and squared error, trained to its
minimum, spans the principal subspace of the data (Baldi & Hornik, Neural Networks 2, 1989),
but not with the principal components as its basis: any invertible mix of them reconstructs
equally well, so the decoder's columns are a rotated, rescaled basis of the same subspace.

We train a 64-6 linear autoencoder on scikit-learn's 8x8 digits with full-batch L-BFGS and
watch the principal angles between its decoder's column space and the span of the first six
principal components fall towards zero. The decoder's directions are read through the public
API only: decoding the code 0 and the unit codes e_1 ... e_6 gives the bias and the bias plus
each column. Top rows: the principal components, then the decoder's directions (both as
8x8 images); right: the principal angles during training, and the test errors. The largest
angle levels off near 0.2 degrees: the sixth and seventh eigenvalues of the digits' covariance
are close (0.227 and 0.202), so the loss barely changes along that rotation, and float32
L-BFGS resolves it no further. The two test errors agree to the third digit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.linalg import subspace_angles

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.baselines import PCABaseline
from aekit.data import load_dataset
from aekit.evaluate import mean_squared_error_per_sample

CODE_SIZE = 6


def decoder_directions(ae: Autoencoder, code_size: int) -> np.ndarray:
    """The decoder's columns, ``(code_size, n_features)``: decode(e_j) - decode(0)."""
    codes = np.vstack([np.zeros(code_size), np.eye(code_size)]).astype(np.float32)
    decoded = ae.inverse_transform(codes)  # (code_size + 1, n_features)
    return decoded[1:] - decoded[0]


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    x, x_test = data.x_train, data.x_test
    pca = PCABaseline(CODE_SIZE).fit(x)
    components = pca.pca_.components_  # (6, 64), orthonormal rows

    torch.manual_seed(0)
    ae = Autoencoder(
        AutoencoderConfig(
            layers=[64, CODE_SIZE],
            activation="linear",
            code_activation="linear",
            likelihood="gaussian",  # squared error
        )
    )

    # Full-batch L-BFGS: the linear autoencoder's loss is smooth, and a line search finds
    # its minimum in a few hundred steps where Adam would need thousands.
    def principal_angles() -> np.ndarray:  # degrees, largest first
        return np.degrees(subspace_angles(decoder_directions(ae, CODE_SIZE).T, components.T))

    train = TrainConfig(
        epochs=8 if args.quick else 30, batch_size=len(x), optimizer="lbfgs", lr=1.0,
        lbfgs_iters=10, val_fraction=0.0, progress=False,
    )  # fmt: skip
    steps, angles = [0], [principal_angles()]

    def record(trainer: Trainer, epoch_record: dict) -> None:  # after every epoch
        steps.append(steps[-1] + train.lbfgs_iters)
        angles.append(principal_angles())

    Trainer(ae, train, callbacks=[record]).fit(x)
    angles = np.array(angles)  # (stages + 1, 6), largest angle first

    errors = {
        "PCA-6": mean_squared_error_per_sample(x_test, pca.reconstruct(x_test)),
        "linear AE-6": mean_squared_error_per_sample(x_test, ae.reconstruct(x_test)),
    }
    print(f"largest principal angle: {angles[-1, 0]:.3f} degrees; test errors: {errors}")

    fig = Figure(figsize=(9.0, 3.6), dpi=90)
    left, right = fig.subfigures(1, 2, width_ratios=[1.3, 1])
    directions = decoder_directions(ae, CODE_SIZE)
    image_axes = left.subplots(2, CODE_SIZE)
    for row, (name, basis) in enumerate([("PCA", components), ("AE", directions)]):
        for j, ax in enumerate(image_axes[row]):
            limit = np.abs(basis[j]).max()
            ax.imshow(basis[j].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_xticks([])
            ax.set_yticks([])
        image_axes[row, 0].set_ylabel(name)
    left.subplots_adjust(top=0.78, bottom=0.12, hspace=0.08)
    left.suptitle("principal components / decoder directions", fontsize=9, y=0.86)
    ax = right.subplots()
    ax.semilogy(steps, np.maximum(angles[:, 0], 1e-4), marker="o", label="largest angle")
    ax.semilogy(steps, np.maximum(angles[:, -1], 1e-4), marker=".", label="smallest angle")
    ax.set_xlabel("L-BFGS steps")
    ax.set_ylabel("principal angle to PCA-6 [degrees]")
    ax.set_title(
        f"test error: PCA {errors['PCA-6']:.3f}, AE {errors['linear AE-6']:.3f}", fontsize=9
    )
    ax.legend(fontsize=8)
    right.subplots_adjust(left=0.2, bottom=0.16, top=0.86)
    fig.suptitle("Same subspace, different basis: PCA-6 and a 64-6 linear autoencoder")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "pca_vs_linear_autoencoder.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
