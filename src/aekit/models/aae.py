"""Adversarial autoencoders: a deterministic autoencoder whose codes a discriminator matches
to a prior.

Reference
---------
A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey, "Adversarial Autoencoders",
ICLR 2016 workshop (arXiv:1511.05644).

Training alternates, on every minibatch, three phases (their Sec. 2), each with its own
optimizer (:class:`aekit.train.Trainer` runs ``training_phases`` in order):

1. ``reconstruction``: encoder and decoder minimise ``-log p(x | decoder(encoder(x)))``;
2. ``discriminator``: ``D`` learns to tell prior samples ``z ~ p(z)`` (label 1) from codes
   ``encoder(x)`` (label 0), by binary cross-entropy on logits;
3. ``generator``: the encoder changes its codes to make ``D`` call them prior samples
   (the non-saturating loss ``-log D(encoder(x))``).

Unsupervised clustering (their Sec. 6): with ``n_clusters > 0`` the encoder outputs a
softmax over ``n_clusters`` classes ``y`` and a continuous style ``z``; the decoder rebuilds
``x`` from ``[y, z]``; one discriminator matches ``y`` to one-hot samples of a uniform
categorical, another ``z`` to the prior. The cluster of ``x`` is ``argmax y``. Train it with
``TrainConfig(adam_betas=(0.5, 0.999))`` (``aekit train`` does unless the config file sets
``adam_betas``): with the default beta1 of 0.9 the adversarial game
overshoots, clusters go unused, and the MNIST 16-cluster error was 43% against 30.5% (see
``benchmarks/README.md``; ``cluster_balance=1`` helped too). Keep the style small: a style
with room for the digit's identity competes with the cluster head for it (2-d: 24.5%; 5-d:
30.5%).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from aekit.config import check_fields, param
from aekit.likelihoods import LIKELIHOODS, get_likelihood
from aekit.models.base import EncoderDecoder, check_input_width
from aekit.nn import ACTIVATIONS, Stack, build_stack, check_activation, parse_layers
from aekit.priors import PRIORS, PriorSampler, make_prior
from aekit.registry import register_model

PHASES = ("reconstruction", "discriminator", "generator")


@dataclass
class AAEConfig:
    """Architecture, prior and phase learning rates of an :class:`AdversarialAutoencoder`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from input to code, e.g. ``"784-1000-1000-8"``; the decoder mirrors
        them (with ``n_clusters`` more inputs in the clustering variant).
    activation : str
        Hidden-layer activation of encoder, decoder and discriminators.
    likelihood : str
        Reconstruction term.
    discriminator_layers : list of int
        Hidden widths of each discriminator (input: the code; output: one logit).
    prior : str
        ``gaussian``, ``gaussian_ring`` or ``swiss_roll`` (:mod:`aekit.priors`; the last two
        need a 2-d code), or ``custom`` for a sampler passed to the model.
    n_clusters : int
        0 for the plain AAE; ``> 0`` for the unsupervised clustering variant.
    cluster_balance : float or None
        Clustering variant only; not in Makhzani et al. Weight of ``KL(mean_batch y ||
        uniform)`` added to the generator phase; None (the default) means 1 with clusters and
        0 without. The per-sample discriminator cannot see how the batch spreads over
        clusters, and the cheapest way for the encoder to make its softmax look one-hot is to
        raise one logit's bias for every input: every image then lands in one cluster and the
        softmax saturates, so no gradient leads out (seen on MNIST and sklearn's digits).
        The batch-marginal entropy term of CatGAN (Springenberg, ICLR 2016) removes that
        shortcut: on 10,000 MNIST images (20 epochs, adversarial phases at 0.1x the learning
        rate) 12 of 16 clusters were in use with it, 7 without; with the faster settings of
        ``benchmarks/aae.py`` a run without it put every image in one cluster.
    reconstruction_lr_scale, adversarial_lr_scale : float
        Multipliers on the trainer's learning rate: the reconstruction phase, and the
        discriminator and generator phases.
    """

    layers: list[int] = field(default_factory=lambda: [784, 1000, 1000, 8])
    activation: str = param("relu", choices=lambda: list(ACTIVATIONS))
    likelihood: str = param("bernoulli", choices=lambda: list(LIKELIHOODS))
    discriminator_layers: list[int] = field(default_factory=lambda: [1000, 1000])
    prior: str = param("gaussian", choices=lambda: ["custom", *sorted(PRIORS)])
    n_clusters: int = param(0, ge=0)
    cluster_balance: float | None = param(None, ge=0)
    reconstruction_lr_scale: float = param(1.0, gt=0)
    adversarial_lr_scale: float = param(1.0, gt=0)

    def __post_init__(self) -> None:
        check_fields(self)
        self.layers = parse_layers(self.layers)
        # "1000-1000" or 8 from a config file: the one layer-spec parser reads it.
        try:
            self.discriminator_layers = parse_layers(
                self.discriminator_layers, min_widths=1, what="discriminator_layers"
            )
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"discriminator_layers must be a list of widths like [1000, 1000] or "
                f"'1000-1000', got {self.discriminator_layers!r} ({err})"
            ) from None
        check_activation(self.activation)
        get_likelihood(self.likelihood)
        if self.prior != "custom":
            make_prior(self.prior, self.code_dim)  # validates the name and the dimension
        if self.cluster_balance is None:
            self.cluster_balance = 1.0 if self.n_clusters else 0.0
        if isinstance(self.cluster_balance, bool) or not isinstance(self.cluster_balance, Real):
            raise TypeError(f"cluster_balance must be a number, got {self.cluster_balance!r}")
        if not self.cluster_balance >= 0:
            raise ValueError(f"cluster_balance must be >= 0, got {self.cluster_balance}")
        if self.n_clusters < 0 or self.n_clusters == 1:
            raise ValueError(f"n_clusters must be 0 (no clustering) or >= 2, got {self.n_clusters}")
        for name in ("reconstruction_lr_scale", "adversarial_lr_scale"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    @property
    def code_dim(self) -> int:
        """The continuous code's (the style's, with clusters) size."""
        return self.layers[-1]


def discriminator(n_in: int, hidden: list[int], activation: str) -> Stack:
    return build_stack([n_in, *hidden, 1], activation, "linear")


@register_model("aae")
class AdversarialAutoencoder(EncoderDecoder):
    """An autoencoder regularised by adversarial matching of its codes to a prior.

    Parameters
    ----------
    config : AAEConfig
    prior_sampler : callable, optional
        ``prior(n, generator) -> (n, code_dim)`` tensor; needed when ``config.prior`` is
        ``"custom"`` (a callable cannot be saved: pass it again after loading).

    Examples
    --------
    >>> from aekit.models import AdversarialAutoencoder
    >>> aae = AdversarialAutoencoder(
    ...     layers="64-32-2", discriminator_layers=[16], prior="gaussian_ring"
    ... )
    >>> aae.encode(torch.rand(5, 64)).shape
    torch.Size([5, 2])
    """

    config_class = AAEConfig
    monitor = "recon"

    def __init__(
        self, config: AAEConfig | None = None, prior_sampler: PriorSampler | None = None, **kwargs
    ) -> None:
        super().__init__()
        if config is None:
            config = AAEConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        if config.prior == "custom" and prior_sampler is None:
            raise ValueError(
                "prior='custom' needs prior_sampler=callable(n, generator) -> (n, code_dim); "
                f"or use a built-in prior: {sorted(PRIORS)}"
            )
        self.config = config
        self.prior_sampler = prior_sampler or make_prior(config.prior, config.code_dim)
        k, d = config.n_clusters, config.code_dim
        self.likelihood = get_likelihood(config.likelihood)
        self.encoder = build_stack([*config.layers[:-1], k + d], config.activation, "linear")
        dec_sizes = [k + d, *reversed(config.layers[:-1])]
        self.decoder = build_stack(dec_sizes, config.activation, "linear")
        self.discriminator = discriminator(d, config.discriminator_layers, config.activation)
        if k:
            self.cluster_discriminator = discriminator(
                k, config.discriminator_layers, config.activation
            )

    @classmethod
    def suggested_train_settings(cls, config: AAEConfig) -> dict:
        """Adam's beta1 at 0.5 for the clustering variant (module docstring)."""
        return {"adam_betas": (0.5, 0.999)} if config.n_clusters else {}

    # Forward paths ---------------------------------------------------------------------------

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder's input: the code, or ``[softmax y, style z]`` with clusters."""
        h = self.encoder(x)
        k = self.config.n_clusters
        if not k:
            return h
        return torch.cat([torch.softmax(h[:, :k], -1), h[:, k:]], -1)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decoder(code))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws of the decoder's input from the priors: ``(n, n_clusters + code_dim)``."""
        z = self.prior_sampler(n, generator).to(self.device)  # (n, code_dim)
        k = self.config.n_clusters
        if not k:
            return z
        y = torch.randint(k, (n,), generator=generator).to(self.device)
        return torch.cat([F.one_hot(y, k).to(z.dtype), z], -1)

    @torch.no_grad()
    def sample(
        self, n: int, seed: int | None = None, generator: torch.Generator | None = None
    ) -> np.ndarray:
        """``n`` samples in data space, ``(n, n_features)``: the decoder's means at prior
        draws made on the CPU from ``generator`` (or one seeded with ``seed``)."""
        return self._decode_prior_draws(n, seed, generator, self.sample_prior, self.decode)

    # Training phases -------------------------------------------------------------------------

    def training_phases(self) -> dict[str, tuple[list[nn.Parameter], float]]:
        """Parameters and learning-rate multiplier of each phase, in the order they run."""
        cfg = self.config
        discriminators = list(self.discriminator.parameters())
        if cfg.n_clusters:
            discriminators += list(self.cluster_discriminator.parameters())
        return {
            "reconstruction": (
                [*self.encoder.parameters(), *self.decoder.parameters()],
                cfg.reconstruction_lr_scale,
            ),
            "discriminator": (discriminators, cfg.adversarial_lr_scale),
            "generator": (list(self.encoder.parameters()), cfg.adversarial_lr_scale),
        }

    def _discriminators(self, code: torch.Tensor, prior: torch.Tensor | None = None):
        """Triples of (discriminator, its part of the code, that part of ``prior`` or None)."""
        k = self.config.n_clusters
        parts = (
            [(self.cluster_discriminator, slice(0, k)), (self.discriminator, slice(k, None))]
            if k
            else [(self.discriminator, slice(None))]
        )
        return [(d, code[:, p], None if prior is None else prior[:, p]) for d, p in parts]

    def phase_loss(
        self, phase: str, x: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of one phase on a batch (module docstring)."""
        if phase == "reconstruction":
            recon = self.likelihood.nll(self.decoder(self.encode(x)), x).mean()
            return recon, {"recon": recon}
        if phase == "discriminator":
            with torch.no_grad():  # the encoder is not trained in this phase
                code = self.encode(x)
            loss = x.new_zeros(())
            prior = self.sample_prior(len(code)).to(code.dtype)
            for d, fake, real in self._discriminators(code, prior):
                real_logit, fake_logit = d(real), d(fake)  # (batch, 1) each
                loss = (
                    loss
                    + F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                    + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
                )
            return loss, {"discriminator": loss}
        if phase == "generator":
            code = self.encode(x)
            loss = x.new_zeros(())
            # No prior draw here: the generator only needs D's verdict on the codes.
            for d, fake, _ in self._discriminators(code):
                fake_logit = d(fake)
                # Non-saturating: -log D(E(x)), strong gradients while D still wins.
                loss = loss + F.binary_cross_entropy_with_logits(
                    fake_logit, torch.ones_like(fake_logit)
                )
            terms = {"generator": loss}
            k, weight = self.config.n_clusters, self.config.cluster_balance
            assert weight is not None  # the config's __post_init__ turned None into a number
            if k and weight > 0:
                y_bar = code[:, :k].mean(0)  # (n_clusters,): the batch's use of each cluster
                balance = (y_bar * torch.log(y_bar.clamp_min(1e-12) * k)).sum()
                terms["cluster_balance"] = balance
                loss = loss + weight * balance
            return loss, terms
        raise ValueError(f"unknown phase {phase!r}; the phases are {PHASES}")

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The reconstruction phase's loss (what a single-objective caller can minimise)."""
        return self.phase_loss("reconstruction", x)

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        output = self.decoder(self.encode(x))
        return {
            "recon": self.likelihood.nll(output, x).mean(),
            "squared_error": (self.likelihood.mean(output) - x).pow(2).sum(-1).mean(),
        }

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        check_input_width(x, self.config.layers[0], name)
        self.likelihood.check_data(x)

    # numpy conveniences (transform, reconstruct, ...: EncoderDecoder) ------------------------

    def cluster(self, x, batch_size: int = 1024) -> np.ndarray:
        """Cluster index ``argmax y`` of each row (clustering variant only)."""
        k = self.config.n_clusters
        if not k:
            raise ValueError("this AAE has no cluster head; build it with n_clusters >= 2")
        return self._apply_numpy(lambda xb: self.encoder(xb)[:, :k], x, batch_size).argmax(1)

    def style(self, x, batch_size: int = 1024) -> np.ndarray:
        """The continuous code (the style ``z`` in the clustering variant)."""
        k = self.config.n_clusters
        return self._apply_numpy(lambda xb: self.encoder(xb)[:, k:], x, batch_size)
