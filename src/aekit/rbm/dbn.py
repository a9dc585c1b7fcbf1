"""Deep belief networks: a greedy stack of RBMs (Hinton, Osindero & Teh, Neural Computation
18, 2006, "A Fast Learning Algorithm for Deep Belief Nets").

The top two layers form an undirected RBM; the layers below are directed, top-down, with the
generative weights of the RBMs that trained them. Codes come from the up pass (mean-field
hidden means, layer by layer); samples from Gibbs sampling in the top RBM followed by one
down pass. Training is :func:`aekit.train.train_dbn` (greedy, one RBM per layer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import torch
from torch import nn

from aekit.models.base import Model, apply_batched
from aekit.nn import parse_layers
from aekit.rbm.rbm import HIDDEN_UNITS, RBM, VISIBLE_UNITS, RBMConfig, bernoulli
from aekit.registry import register_model


@dataclass
class DBNConfig:
    """Layer widths and unit types of a :class:`DBN`.

    Parameters
    ----------
    layers : list of int or str
        Widths from the data up, e.g. ``"784-500-500-2000"``.
    visible : {"bernoulli", "gaussian"}
        Units of the data layer.
    top_hidden : {"bernoulli", "gaussian"}
        Units of the top layer (``gaussian`` for a linear code, as in the 2006 autoencoder).
    cd_k, weight_decay : int, float
        CD steps and weight cost of every RBM.
    """

    layers: list[int] = field(default_factory=lambda: [784, 500, 500])
    visible: str = "bernoulli"
    top_hidden: str = "bernoulli"
    cd_k: int = 1
    weight_decay: float = 0.0002

    def __post_init__(self) -> None:
        self.layers = parse_layers(self.layers)
        if self.visible not in VISIBLE_UNITS:
            raise ValueError(f"unknown visible units {self.visible!r}; choose {VISIBLE_UNITS}")
        if self.top_hidden not in HIDDEN_UNITS:
            raise ValueError(f"unknown hidden units {self.top_hidden!r}; choose {HIDDEN_UNITS}")

    def rbm_configs(self) -> list[RBMConfig]:
        """One RBM per pair of adjacent layers, bottom to top."""
        n = len(self.layers) - 1
        return [
            RBMConfig(
                n_visible=self.layers[k],
                n_hidden=self.layers[k + 1],
                visible=self.visible if k == 0 else "bernoulli",
                hidden=self.top_hidden if k == n - 1 else "bernoulli",
                cd_k=self.cd_k,
                weight_decay=self.weight_decay,
            )
            for k in range(n)
        ]


@register_model("dbn")
class DBN(Model):
    """A stack of RBMs; ``rbms[k]`` models layer ``k`` (visible) and ``k + 1`` (hidden)."""

    config_class = DBNConfig

    def __init__(self, config: DBNConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = DBNConfig(**kwargs)
        self.config = config
        self.rbms = nn.ModuleList(RBM(c) for c in config.rbm_configs())

    def rbm_layers(self) -> list[RBM]:
        """``self.rbms`` as ``RBM``s, bottom to top (iterating an ``nn.ModuleList`` yields plain
        ``nn.Module``)."""
        return [cast(RBM, rbm) for rbm in self.rbms]

    def up_pass(self, v: torch.Tensor) -> torch.Tensor:
        """Top-layer codes: hidden means, layer by layer."""
        for rbm in self.rbm_layers():
            v = rbm.hidden_mean(v)
        return v

    @torch.no_grad()
    def sample(
        self, n_samples: int, n_gibbs: int = 1000, seed: int = 0, init: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Samples: ``n_gibbs`` alternating Gibbs steps in the top RBM, then a down pass.

        ``init`` (data, ``(n_samples, n_visible)``) starts the chains from its sampled up pass
        to the top RBM's visible layer; otherwise they start from random bits. Returns the
        data layer's means, shape ``(n_samples, layers[0])``.
        """
        if n_gibbs < 1:
            raise ValueError("n_gibbs must be >= 1")
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            *below, top = self.rbm_layers()
            if init is not None:
                v = init.to(self.device)
                for rbm in below:
                    v = rbm.sample_hidden(rbm.hidden_mean(v))
            else:
                shape = (n_samples, top.config.n_visible)
                v = bernoulli(torch.full(shape, 0.5, device=self.device))
            for _ in range(n_gibbs - 1):
                v = top.sample_visible(top.visible_mean(top.sample_hidden(top.hidden_mean(v))))
            v = top.visible_mean(top.sample_hidden(top.hidden_mean(v)))
            # Down through the directed layers, sampling every binary layer above the data.
            for rbm in reversed(below):
                v = rbm.visible_mean(bernoulli(v))
            return v

    def transform(self, x, batch_size: int = 4096) -> np.ndarray:
        """Up-pass codes of an array."""
        return apply_batched(self.up_pass, x, batch_size, self.device)

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        self.rbm_layers()[0].check_data(x, name)
