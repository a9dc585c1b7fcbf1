"""
A 2-D map of MNIST: PCA against a deep autoencoder
==================================================

Fig. 3 of Hinton & Salakhutdinov (Science 2006): the first two principal components of MNIST
digits overlap in one cloud, while the 2-d code of a 784-1000-500-250-2 autoencoder separates
the classes. The paper pretrained the network with RBMs; here ReLU hidden units and Adam
train it from a random initialisation, on a subset so that it runs in under a minute
(``aekit reproduce hinton2006 mnist2d`` is the full protocol). Each panel gives the 5-nearest-
neighbour accuracy of its map on the test digits shown (classifier fitted on the training
codes), a number for how well the map keeps the classes apart.

Needs MNIST: the four IDX files in ``$AEKIT_DATA_DIR/mnist/``. Without them the script says so
and draws nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.baselines import PCABaseline
from aekit.data import load_dataset
from aekit.evaluate import knn_accuracy
from aekit.viz import code_scatter


def main(argv: list[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    try:
        data = load_dataset("mnist")
    except ValueError as err:  # the message says where it looked and how to point at the files
        print(f"skipped: {err}")
        return None
    n_train, n_test = (1000, 500) if args.quick else (10_000, 3000)
    # MNIST's files are grouped by class: take a random subset, not the first rows.
    rng = torch.Generator().manual_seed(0)
    train_idx = torch.randperm(len(data.x_train), generator=rng)[:n_train].numpy()
    test_idx = torch.randperm(len(data.x_test), generator=rng)[:n_test].numpy()
    x, y = data.x_train[train_idx], data.y_train[train_idx]
    x_test, y_test = data.x_test[test_idx], data.y_test[test_idx]

    torch.manual_seed(0)
    ae = Autoencoder(AutoencoderConfig(layers="784-1000-500-250-2", activation="relu"))
    train = TrainConfig(
        epochs=1 if args.quick else 12, batch_size=100, lr=3e-3, lr_schedule="cosine",
        val_fraction=0.0, progress=False,
    )  # fmt: skip
    Trainer(ae, train).fit(x)

    pca = PCABaseline(2).fit(x)
    codes = {"PCA": pca.transform(x_test), "autoencoder": ae.transform(x_test)}
    accuracy = {
        "PCA": knn_accuracy(pca.transform(x), y, codes_test=codes["PCA"], labels_test=y_test),
        "autoencoder": knn_accuracy(
            ae.transform(x), y, codes_test=codes["autoencoder"], labels_test=y_test
        ),
    }
    print("5-NN accuracy of the 2-D maps:", {k: round(v, 3) for k, v in accuracy.items()})
    fig = code_scatter(
        codes,
        y_test,
        titles={
            "PCA": "PCA, first two components",
            "autoencoder": "784-1000-500-250-2 autoencoder",
        },
        accuracies=accuracy,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "mnist_2d_map.png"
    fig.savefig(path, dpi=65, facecolor="white")
    return path


if __name__ == "__main__":
    main()
