"""
Samples from a deep belief net and a deep Boltzmann machine
===========================================================

Both stack layers of binary units, and both start from RBMs trained greedily, one layer on
the codes of the one below. They differ in what the stack means:

- a deep belief net (Hinton, Osindero & Teh, Neural Computation 2006) keeps the top two
  layers as an undirected RBM and turns the layers below into a directed, top-down generative
  model. To sample, run Gibbs sampling in the top RBM, then one pass down.
- a deep Boltzmann machine (Salakhutdinov & Hinton, AISTATS 2009) is undirected throughout:
  every hidden layer hears both neighbours, ``p(h1 | v, h2) = sigmoid(W1 v + W2^T h2 + c1)``.
  Its greedy pretraining doubles the inputs at the ends of the stack to make up for the
  missing neighbour; then all layers are trained jointly, with mean-field inference for the
  data's side of the gradient and persistent Gibbs chains for the model's side. To sample,
  Gibbs-sample all layers.

A 64-100-200 DBN and a 64-100-200 DBM on the 8x8 digits, each sampled by 1000 Gibbs sweeps
from random states. Left: training digits for comparison. The DBM's joint phase runs at a
learning rate of 0.001: at 0.005 (the MNIST benchmark's rate, where an epoch has about 40
times more updates) its samples on this small data set collapsed into one blurred digit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from matplotlib.figure import Figure

from aekit import TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.rbm import DBMConfig, DBNConfig
from aekit.train import pretrain_dbm, train_dbn
from aekit.viz.generative import tile_images


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    x = data.x_train
    epochs = 2 if args.quick else 100
    rbm_settings = {"epochs": epochs, "progress": False, "seed": 0}

    torch.manual_seed(0)
    dbn = train_dbn(DBNConfig(layers="64-100-200"), x, rbm_settings)

    torch.manual_seed(0)
    dbm = pretrain_dbm(DBMConfig(n_visible=64, n_hidden1=100, n_hidden2=200), x, rbm_settings)
    joint = TrainConfig(
        epochs=epochs, batch_size=100, optimizer="sgd", lr=0.001, momentum=0.9,
        initial_momentum=0.5, momentum_warmup_epochs=5, lr_schedule="cosine",
        val_fraction=0.0, progress=False,
    )  # fmt: skip
    Trainer(dbm, joint).fit(x)  # all layers together: mean field + persistent chains

    n_gibbs = 100 if args.quick else 1000
    panels = {
        "training digits": x[:64],
        f"DBN samples ({n_gibbs} Gibbs steps)": dbn.sample(64, n_gibbs=n_gibbs).numpy(),
        f"DBM samples ({n_gibbs} Gibbs sweeps)": dbm.sample(64, n_gibbs=n_gibbs).numpy(),
    }
    fig = Figure(figsize=(10.0, 3.9), dpi=80)
    for ax, (title, images) in zip(fig.subplots(1, 3), panels.items()):
        ax.imshow(tile_images(images, (8, 8), n_cols=8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.suptitle("Two deep generative models of 8x8 digits with layers 64-100-200")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "dbn_dbm_samples.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
