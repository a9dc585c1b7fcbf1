"""
RBM filters and samples, trained by contrastive divergence
==========================================================

A restricted Boltzmann machine defines ``p(v, h) ~ exp(b.v + c.h + h.W v)`` over binary
visible units v and hidden units h, with no connection inside a layer, so ``p(h | v)`` and
``p(v | h)`` factorise and Gibbs sampling alternates whole layers. The log-likelihood gradient
is ``<v h>_data - <v h>_model``; contrastive divergence (Hinton, Neural Computation 2002)
replaces the model's expectation by a chain started at the data and run for only k steps
(CD-k). More steps give a less biased gradient at k times the sampling cost.

Two 64-100 RBMs on the 8x8 digits, trained with CD-1 and CD-10 and the settings of Hinton &
Salakhutdinov (2006): batches of 100, learning rate 0.1, momentum 0.5 then 0.9, weight cost
0.0002. Left: the CD-1 RBM's filters (each hidden unit's weights). Right: Gibbs chains of
each RBM started at test digits (first column), shown after 1, 10, 100 and 1000 steps: the
visible means ``p(v | h)``. A well-trained RBM keeps producing digits as the chain wanders.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from aekit import Trainer
from aekit.data import load_dataset
from aekit.experiments.recipes import hinton2006_train_config
from aekit.rbm import RBM, RBMConfig
from aekit.viz.generative import tile_images

SHOWN_STEPS = (1, 10, 100, 1000)


@torch.no_grad()
def gibbs_chain(rbm: RBM, v0: np.ndarray, steps: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Visible means after each number of Gibbs steps in ``steps``: ``(len(steps), n, n_v)``."""
    torch.manual_seed(seed)
    v = torch.from_numpy(v0)
    shown = []
    for step in range(1, max(steps) + 1):
        mean = rbm.visible_mean(rbm.sample_hidden(rbm.hidden_mean(v)))  # p(v | h)
        v = rbm.sample_visible(mean)
        if step in steps:
            shown.append(mean.numpy())
    return np.stack(shown)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, rougher figure")
    parser.add_argument("--out", type=Path, default=Path("gallery-output"), help="output folder")
    args = parser.parse_args(argv)

    data = load_dataset("digits")
    rbms = {}
    for k in (1, 10):
        torch.manual_seed(0)
        rbm = RBM(RBMConfig(n_visible=64, n_hidden=100, cd_k=k, weight_decay=2e-4))
        rbm.init_visible_bias(data.x_train)  # log-odds of each pixel's mean
        train = hinton2006_train_config(epochs=3 if args.quick else 150, progress=False)
        Trainer(rbm, train).fit(data.x_train)
        rbms[f"CD-{k}"] = rbm

    start = data.x_test[:8]
    fig = Figure(figsize=(10.0, 4.4), dpi=80)
    filter_ax, *chain_axes = fig.subplots(1, 3, width_ratios=[1.2, 1, 1])
    w = rbms["CD-1"].weight.detach().numpy()  # (n_hidden, n_visible)
    lo, hi = w.min(1, keepdims=True), w.max(1, keepdims=True)
    filter_ax.imshow(tile_images((w - lo) / (hi - lo), (8, 8), n_cols=10), cmap="gray")
    filter_ax.set_title("CD-1 filters", fontsize=9)
    filter_ax.set_axis_off()
    for ax, (name, rbm) in zip(chain_axes, rbms.items()):
        chains = gibbs_chain(rbm, start, SHOWN_STEPS)  # (steps, 8, 64)
        columns = np.concatenate([start[None], chains])  # (1 + steps, 8, 64)
        rows = columns.transpose(1, 0, 2).reshape(-1, 64)  # one chain per row
        ax.imshow(tile_images(rows, (8, 8), n_cols=len(columns)), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{name} chains: start, " + ", ".join(map(str, SHOWN_STEPS)), fontsize=9)
        ax.set_axis_off()
    fig.suptitle("A 64-100 RBM on 8x8 digits")
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "rbm_cd.png"
    fig.savefig(path)
    return path


if __name__ == "__main__":
    main()
