"""The deep variational information bottleneck classifier.

Reference
---------
A. A. Alemi, I. Fischer, J. V. Dillon and K. Murphy, "Deep Variational Information
Bottleneck", ICLR 2017 (arXiv:1612.00410).

The IB objective ``max I(Z;Y) - beta I(Z;X)`` is bounded (their Eq. 6) by

    J = mean_n E_{z ~ p(z|x_n)} [ -log q(y_n | z) ] + beta * KL( p(z|x_n) || r(z) )

with a Gaussian encoder ``p(z|x) = N(mu(x), diag sigma(x)^2)`` (their MNIST model: a
784-1024-1024 ReLU MLP whose last layer outputs ``2K`` numbers, ``K = 256``, with
``sigma = softplus(raw - 5)``), a logistic-regression decoder ``q(y|z) = softmax(W z + b)``
and ``r(z) = N(0, I)``. The expectation is estimated with the reparameterisation trick, one
sample per example in training; at test time the predictive distribution averages
``q(y|z)`` over 12 samples (Sec. 4.1).

The two terms are also the two axes of the information plane (Sec. 4.1.1), in nats:

    I(Z;X) <= mean_n KL(p(z|x_n) || r(z))            (the rate)
    I(Z;Y) >= H(Y) - mean_n E[-log q(y_n|z)]         (H(Y) of the labels' empirical law)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from aekit.config import check_fields, param
from aekit.latent import SCALE_PARAMETERIZATIONS, GaussianCode, gaussian_kl_standard, reparameterize
from aekit.models.base import (
    Model,
    as_float_tensor,
    check_input_width,
    check_labels,
    seeded_rng,
)
from aekit.nn import ACTIVATIONS, build_stack, check_activation, glorot_uniform_, parse_layers
from aekit.registry import register_model


def mixture_log_predictive(logits: torch.Tensor) -> torch.Tensor:
    """``log mean_s softmax(logits_s)`` over the leading sample axis: ``(S, B, C) -> (B, C)``."""
    return torch.logsumexp(F.log_softmax(logits, dim=-1), dim=0) - math.log(logits.shape[0])


VIB_INITS = ("pytorch", "glorot")


@dataclass
class VIBConfig:
    """Architecture and trade-off of a :class:`VIBClassifier`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from input to code, e.g. ``"784-1024-1024-256"`` (Alemi et al.'s
        MNIST model): the last width is the code size ``K``; the encoder's last layer outputs
        ``2K`` numbers (mean and scale).
    n_classes : int
        Classes of the labels the decoder predicts (at least 2).
    activation : str
        Hidden-layer activation.
    beta : float
        Price of information about the input: the KL term's weight (``1e-3`` in the paper's
        MNIST table).
    parameterization : {"softplus", "log_var"}
        How the encoder's second half becomes a scale (:mod:`aekit.latent`).
    n_train_samples, n_eval_samples : int
        Posterior samples per example for the training loss and for predictions.
    center_input : bool
        Feed ``2 x - 1`` to the encoder, so pixels in [0, 1] arrive zero-centred in [-1, 1]
        (the paper's public TensorFlow demo does this). Part of the model: a saved model
        takes the same raw inputs as it was trained on.
    init : {"pytorch", "glorot"}
        Initial weights: PyTorch's default, or Glorot-uniform with zero biases
        (:func:`aekit.nn.glorot_uniform_`, TensorFlow's default, which the demo used).
        Measured on MNIST with the paper's 200-epoch schedule: 1.33% test error with neither
        of these two options, 1.18% with both (``benchmarks/README.md``).
    """

    layers: list[int] = field(default_factory=lambda: [784, 1024, 1024, 256])
    n_classes: int = param(10, ge=2)
    activation: str = param("relu", choices=lambda: list(ACTIVATIONS))
    beta: float = param(1e-3, ge=0)
    parameterization: str = param("softplus", choices=SCALE_PARAMETERIZATIONS)
    n_train_samples: int = param(1, ge=1)
    n_eval_samples: int = param(12, ge=1)
    center_input: bool = False
    init: str = param("pytorch", choices=VIB_INITS)

    def __post_init__(self) -> None:
        check_fields(self)
        self.layers = parse_layers(self.layers)
        check_activation(self.activation)
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")
        if not (self.beta >= 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta}")
        if self.parameterization not in SCALE_PARAMETERIZATIONS:
            raise ValueError(
                f"unknown parameterization {self.parameterization!r}; choose one of "
                f"{list(SCALE_PARAMETERIZATIONS)}"
            )
        if self.init not in VIB_INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {list(VIB_INITS)}")
        for name in ("n_train_samples", "n_eval_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def code_dim(self) -> int:
        return self.layers[-1]


@register_model("vib")
class VIBClassifier(Model):
    """Stochastic Gaussian encoder + softmax decoder trained on the VIB bound.

    Examples
    --------
    >>> from aekit.models import VIBClassifier
    >>> vib = VIBClassifier(layers="64-32-8", n_classes=10, beta=1e-3)
    >>> loss, terms = vib.loss(torch.rand(5, 64), torch.tensor([0, 1, 2, 3, 4]))
    >>> sorted(terms)
    ['ce', 'kl']
    """

    config_class = VIBConfig
    monitor = "loss"
    takes_targets = True

    @classmethod
    def label_field(cls) -> str | None:
        return "n_classes"

    @classmethod
    def needs_labels(cls, config, conditional: bool = False) -> bool:
        return True

    def __init__(self, config: VIBConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = VIBConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        k = config.code_dim
        self.encoder = build_stack([*config.layers[:-1], 2 * k], config.activation, "linear")
        self.code = GaussianCode(k, config.parameterization)
        self.classifier = nn.Linear(k, config.n_classes)  # q(y|z): logistic regression
        if config.init == "glorot":
            glorot_uniform_(self)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu, log_var`` of ``p(z|x)``, each ``(batch, code_dim)``."""
        if self.config.center_input:
            x = 2 * x - 1
        return self.code(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior means, ``(batch, code_dim)``."""
        return self.posterior(x)[0]

    def log_predictive(self, x: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """``log mean_s q(y | z_s)``, ``z_s ~ p(z|x)``: ``(batch, n_classes)``."""
        mu, log_var = self.posterior(x)
        z = reparameterize(mu, log_var, n_samples or self.config.n_eval_samples)  # (S, B, K)
        return mixture_log_predictive(self.classifier(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities averaged over ``n_eval_samples`` posterior samples."""
        return self.log_predictive(x).exp()

    def loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The VIB bound ``J`` (module docstring) on a batch, and its two terms (nats)."""
        mu, log_var = self.posterior(x)
        s = self.config.n_train_samples
        z = reparameterize(mu, log_var, s)  # (S, batch, K)
        logits = self.classifier(z)  # (S, batch, n_classes)
        ce = F.cross_entropy(logits.flatten(0, 1), y.repeat(s))
        kl = gaussian_kl_standard(mu, log_var).mean()  # fp32 already: GaussianCode
        return ce + self.config.beta * kl, {"ce": ce, "kl": kl}

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Held-out metrics of the model as it predicts: error and cross-entropy of the
        12-sample averaged predictive ``-log mean_s q(y|z_s)``, the KL, and ``loss`` = that
        cross-entropy + beta * KL. The training loss averages ``-log q(y|z_s)`` over draws
        instead (the bound), which is larger by Jensen's inequality, so ``val_loss`` and
        ``train_loss`` are not the same quantity."""
        mu, log_var = self.posterior(x)
        z = reparameterize(mu, log_var, self.config.n_eval_samples)
        log_p = mixture_log_predictive(self.classifier(z))  # (batch, n_classes)
        ce = F.nll_loss(log_p, y)
        kl = gaussian_kl_standard(mu, log_var).mean()
        error = (log_p.argmax(-1) != y).float().mean()
        return {"loss": ce + self.config.beta * kl, "ce": ce, "kl": kl, "error": error}

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        check_input_width(x, self.config.layers[0], name)

    def check_targets(self, y: torch.Tensor, name: str = "y") -> None:
        check_labels(y, self.config.n_classes, name)

    # numpy conveniences ----------------------------------------------------------------------

    def transform(self, x, batch_size: int = 1024) -> np.ndarray:
        """Posterior means of an array, ``(n_samples, code_dim)``."""
        return self._apply_numpy(self.encode, x, batch_size)

    def predict_proba(
        self,
        x,
        n_samples: int | None = None,
        batch_size: int = 1024,
        seed: int | None = 0,
    ) -> np.ndarray:
        """Predictive class probabilities averaged over ``n_samples`` posterior draws.

        The draws come from a generator seeded with ``seed`` (the caller's RNG is left
        alone), so the same call gives the same answer; ``seed=None`` uses the global RNG.
        """
        with seeded_rng(seed, self.device):
            return self._apply_numpy(
                lambda xb: self.log_predictive(xb, n_samples).exp(), x, batch_size
            )

    def predict(
        self, x, n_samples: int | None = None, batch_size: int = 1024, seed: int | None = 0
    ) -> np.ndarray:
        """Most probable class of each row (seeded like :meth:`predict_proba`)."""
        return self.predict_proba(x, n_samples, batch_size, seed).argmax(1)

    @torch.no_grad()
    def information_bounds(self, x, y, batch_size: int = 1024) -> dict[str, float]:
        """The information-plane point of the model on ``(x, y)``, in nats.

        Returns ``izx_upper`` (mean KL, an upper bound on ``I(Z;X)``), ``izy_lower``
        (``H(Y) - E[-log q(y|z)]`` with one posterior sample, as in the paper's Fig. 1, a
        lower bound on ``I(Z;Y)``), ``h_y`` and ``error`` (of the averaged prediction).
        """
        yt = torch.as_tensor(np.asarray(y))
        if len(yt) != len(x):
            raise ValueError(f"got {len(x)} inputs and {len(yt)} labels; pass one label per row")
        check_labels(yt, self.config.n_classes, "y")
        check_input_width(as_float_tensor(x[:1]), self.config.layers[0], "x")
        was_training = self.training
        self.eval()
        try:
            counts = torch.bincount(yt, minlength=self.config.n_classes).double()
            p = counts[counts > 0] / counts.sum()
            h_y = float(-(p * p.log()).sum())
            kl_sum = ce_sum = err_sum = 0.0
            for start in range(0, len(yt), batch_size):
                xb = as_float_tensor(x[start : start + batch_size], self.device)
                yb = yt[start : start + batch_size].to(self.device)
                mu, log_var = self.posterior(xb)
                kl_sum += float(gaussian_kl_standard(mu, log_var).sum())
                z1 = reparameterize(mu, log_var)
                ce_sum += float(F.cross_entropy(self.classifier(z1), yb, reduction="sum"))
                z = reparameterize(mu, log_var, self.config.n_eval_samples)
                pred = mixture_log_predictive(self.classifier(z)).argmax(-1)
                err_sum += float((pred != yb).sum())
            n = len(yt)
            return {
                "izx_upper": kl_sum / n,
                "izy_lower": h_y - ce_sum / n,
                "h_y": h_y,
                "error": err_sum / n,
            }
        finally:
            self.train(was_training)
