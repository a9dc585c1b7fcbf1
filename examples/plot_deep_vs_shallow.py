"""
Deep against shallow autoencoders at the same code size
=======================================================

Hinton & Salakhutdinov (Science 2006) compressed images of curves to 6 numbers: their deep
784-400-200-100-50-25-6 autoencoder reconstructed them far better than PCA or a shallow
network with the same code. Each curve is drawn from three control points (six numbers), so a
6-d code can hold everything, but only through a non-linear map that one layer cannot make.

Codes of size 6 on 5,000 generated curves: PCA, a shallow autoencoder (784-6, one
non-linear layer each way), a deep one (784-256-64-6) and the paper's seven-layer encoder
(784-400-200-100-50-25-6), both deep ones with ReLU hidden units trained by Adam from a random
initialisation for the same 30 epochs. Rows: test images, then each method's reconstructions,
with its test error (squared error summed over the pixels, averaged over the test images: the
paper's measure). The shallow network does no better than PCA; the deep one halves PCA's
error. The seven-layer one, from a random start, stalls near PCA: gradients fade through
that many layers, which is why the paper pretrained them as RBMs
(``aekit reproduce hinton2006 curves`` does, and reaches a tenth of PCA's error).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.baselines import PCABaseline
from aekit.data import load_dataset
from aekit.evaluate import mean_squared_error_per_sample
from aekit.viz import reconstruction_grid


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    n_train = 500 if args.quick else 5000
    data = load_dataset("curves", n_train=n_train, n_test=500)
    x, x_test = data.x_train, data.x_test

    deep = {"activation": "relu", "likelihood": "bernoulli"}
    models = {
        "shallow": AutoencoderConfig(layers="784-6", likelihood="bernoulli"),
        "deep": AutoencoderConfig(layers="784-256-64-6", **deep),
        "7 layers": AutoencoderConfig(layers="784-400-200-100-50-25-6", **deep),
    }
    rows = {"data": x_test}
    errors = {}
    pca = PCABaseline(6).fit(x)
    rows["PCA-6"] = pca.reconstruct(x_test)
    for name, config in models.items():
        torch.manual_seed(0)
        ae = Autoencoder(config)
        train = TrainConfig(
            epochs=2 if args.quick else 30, batch_size=100, lr=3e-3, lr_schedule="cosine",
            val_fraction=0.0, progress=False,
        )  # fmt: skip
        Trainer(ae, train).fit(x)
        rows[name] = ae.reconstruct(x_test)
    for name in list(rows)[1:]:
        errors[name] = mean_squared_error_per_sample(x_test, rows[name])
    print("test errors:", {k: round(v, 2) for k, v in errors.items()})

    fig = reconstruction_grid(
        rows,
        data.image_shape,
        n=10,
        errors=errors,
        title="Curves, code size 6: PCA, shallow 784-6, deep 784-256-64-6, 7 layers",
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "deep_vs_shallow.png"
    fig.savefig(path, dpi=80, facecolor="white")
    return path


if __name__ == "__main__":
    main()
