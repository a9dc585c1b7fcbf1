"""An autoencoder designed by the information bottleneck: a code that reconstructs the input,
predicts a target, and pays for what it knows about the input.

The lecture's question, "can IB help design a better autoencoder?", turned into an objective.
The IB Lagrangian ``min I(Z;X) - gamma I(Z;Y)`` (Tishby, Pereira & Bialek 1999) keeps in ``Z``
only what predicts ``Y``; an autoencoder keeps everything needed to rebuild ``X``. With the
variational bounds of Alemi et al. (ICLR 2017) for the two IB terms, the per-sample loss is

    -log p(x | z)  +  label_weight * (-log q(y | z))  +  beta * KL(q(z|x) || N(0, I)),
    z ~ q(z|x) = N(mu(x), diag sigma(x)^2)

the first term the autoencoder's reconstruction (likelihoods.py), the second the VIB decoder's
bound on ``-I(Z;Y)`` (up to ``H(Y)``), the third the VIB/VAE rate bounding ``I(Z;X)``.
Special cases: ``label_weight = beta = 0`` is a plain deterministic autoencoder (the code is
``mu``); ``label_weight = 0, beta > 0`` is a beta-VAE; ``beta = 0`` an autoencoder with a
supervised head and no pressure on the rate.

What it buys, measured on MNIST against a plain autoencoder of the same code size, is in
``benchmarks/ib_autoencoder.py`` and its README row (accuracy of probes on the codes,
robustness of the codes to input noise, and the reconstruction error it costs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from aekit.config import check_fields, param
from aekit.latent import GaussianCode, gaussian_kl_standard, reparameterize
from aekit.likelihoods import LIKELIHOODS, get_likelihood
from aekit.models.base import EncoderDecoder, check_input_width, check_labels
from aekit.nn import ACTIVATIONS, build_stack, check_activation, mirror, parse_layers
from aekit.registry import register_model


@dataclass
class IBAutoencoderConfig:
    """Architecture and trade-offs of an :class:`IBAutoencoder`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from input to code, e.g. ``"784-512-256-16"``; the decoder mirrors it.
    n_classes : int
        Classes of the target the code must predict.
    activation : str
        Hidden-layer activation.
    likelihood : str
        Reconstruction term (``bernoulli`` for data in [0, 1], ``gaussian`` for real data).
    beta : float
        Weight of ``KL(q(z|x) || N(0, I))``, the price of information about the input. At 0
        the encoder is deterministic (the code is ``mu``).
    label_weight : float
        Weight of ``-log q(y|z)``: how much the code is asked to predict the target.
    """

    layers: list[int] = field(default_factory=lambda: [784, 512, 256, 16])
    n_classes: int = param(10, ge=2)
    activation: str = param("relu", choices=lambda: list(ACTIVATIONS))
    likelihood: str = param("bernoulli", choices=lambda: list(LIKELIHOODS))
    beta: float = param(1e-2, ge=0)
    label_weight: float = param(1.0, ge=0)

    def __post_init__(self) -> None:
        check_fields(self)
        self.layers = parse_layers(self.layers)
        check_activation(self.activation)
        get_likelihood(self.likelihood)
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")
        for name in ("beta", "label_weight"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")

    @property
    def code_dim(self) -> int:
        return self.layers[-1]

    @property
    def stochastic(self) -> bool:
        return self.beta > 0


@register_model("ib-autoencoder")
class IBAutoencoder(EncoderDecoder):
    """Autoencoder + target predictor on a Gaussian code, traded against the code's rate.

    Examples
    --------
    >>> from aekit.models import IBAutoencoder
    >>> ae = IBAutoencoder(layers="64-32-4", n_classes=10, beta=1e-2, label_weight=1.0)
    >>> loss, terms = ae.loss(torch.rand(5, 64), torch.tensor([0, 1, 2, 3, 4]))
    >>> sorted(terms)
    ['ce', 'kl', 'recon']
    """

    config_class = IBAutoencoderConfig
    monitor = "loss"
    takes_targets = True

    @classmethod
    def label_field(cls) -> str | None:
        return "n_classes"

    @classmethod
    def needs_labels(cls, config, conditional: bool = False) -> bool:
        return True

    def __init__(self, config: IBAutoencoderConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = IBAutoencoderConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        k = config.code_dim
        self.likelihood = get_likelihood(config.likelihood)
        self.encoder = build_stack([*config.layers[:-1], 2 * k], config.activation, "linear")
        self.code = GaussianCode(k, "log_var")
        self.decoder = build_stack(mirror(config.layers), config.activation, "linear")
        self.classifier = nn.Linear(k, config.n_classes)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu, log_var`` of ``q(z|x)``, each ``(batch, code_dim)``."""
        return self.code(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code: the posterior mean, ``(batch, code_dim)``."""
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x`` from its code (the mean, no sampling)."""
        return self.decode(self.encode(x))

    def loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The objective of the module docstring on a batch, and its three terms (nats)."""
        cfg = self.config
        mu, log_var = self.posterior(x)
        z = reparameterize(mu, log_var) if cfg.stochastic else mu  # (batch, code_dim)
        recon = self.likelihood.nll(self.decoder(z), x).mean()
        ce = F.cross_entropy(self.classifier(z), y)
        kl = gaussian_kl_standard(mu, log_var).mean()  # fp32 already: GaussianCode
        loss = recon
        if cfg.label_weight > 0:
            loss = loss + cfg.label_weight * ce
        if cfg.stochastic:
            loss = loss + cfg.beta * kl
        return loss, {"recon": recon, "ce": ce, "kl": kl}

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Held-out terms at the posterior mean, the objective, and the head's error."""
        cfg = self.config
        mu, log_var = self.posterior(x)
        output = self.decoder(mu)
        recon = self.likelihood.nll(output, x).mean()
        logits = self.classifier(mu)
        ce = F.cross_entropy(logits, y)
        kl = gaussian_kl_standard(mu, log_var).mean()
        loss = recon + cfg.label_weight * ce + (cfg.beta * kl if cfg.stochastic else 0.0)
        return {
            "loss": loss,
            "recon": recon,
            "squared_error": (self.likelihood.mean(output) - x).pow(2).sum(-1).mean(),
            "ce": ce,
            "kl": kl,
            "error": (logits.argmax(-1) != y).float().mean(),
        }

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        check_input_width(x, self.config.layers[0], name)
        self.likelihood.check_data(x)

    def check_targets(self, y: torch.Tensor, name: str = "y") -> None:
        check_labels(y, self.config.n_classes, name)

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """The head's most probable class for each row (from the posterior mean)."""
        logits = self._apply_numpy(lambda xb: self.classifier(self.encode(xb)), x, batch_size)
        return logits.argmax(1)
