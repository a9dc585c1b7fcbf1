"""The variational autoencoder, its beta and conditional variants, and the importance-weighted
log-likelihood estimate.

References
----------
D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (arXiv:1312.6114).
Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016
(arXiv:1509.00519).

A Gaussian encoder ``q(z|x) = N(mu(x), diag exp(log_var(x)))``, a decoder ``p(x|z)`` from
:mod:`aekit.likelihoods` (Bernoulli or Gaussian) and the prior ``p(z) = N(0, I)``. Training
minimises the negative evidence lower bound (Kingma & Welling, Eq. 10), per sample

    -ELBO(x) = E_{z ~ q(z|x)} [ -log p(x|z) ]  +  KL( q(z|x) || N(0, I) )

with one reparameterised sample ``z = mu + sigma * eps`` for the first term and the KL in closed
form (their Appendix B, :func:`aekit.latent.gaussian_kl_standard`). Variants:

- beta-VAE (Higgins et al., ICLR 2017): the KL term weighted by ``beta``.
- KL warm-up (Bowman et al. 2016; Sønderby et al. 2016): the weight ramps linearly from 0 to
  ``beta`` over ``kl_warmup_steps`` optimizer steps, counted in a buffer saved with the weights.
- conditional VAE (Sohn et al., NeurIPS 2015): with ``n_classes > 0`` the one-hot label joins
  the input of the encoder, ``q(z|x, y)``, and of the decoder, ``p(x|z, y)``.
- dynamic binarization (Burda et al., Sec. 5.1, MNIST): each training batch is resampled as
  ``x ~ Bernoulli(x)``, so the model sees fresh binary images every epoch.

Evaluation. The ELBO is a lower bound on ``log p(x)``; Burda et al.'s (Eq. 8)

    L_k(x) = log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),     z_i ~ q(z|x)

is a tighter one: ``E L_1 = ELBO``, ``E L_k <= E L_{k+1}`` and ``L_k -> log p(x)`` as ``k``
grows (their Theorem 1). ``k = 5000`` is the paper's test log-likelihood estimate.

Default architecture: Burda et al.'s one-stochastic-layer MNIST model, 784-200-200-50 with tanh
hidden units in the encoder and, mirrored, in the decoder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from aekit.config import ConfigError, check_fields, param
from aekit.latent import (
    LOG_VAR_RANGE,
    GaussianCode,
    gaussian_kl_standard,
    gaussian_log_density,
    reparameterize,
)
from aekit.likelihoods import LIKELIHOODS, get_likelihood
from aekit.models.base import (
    EncoderDecoder,
    as_float_tensor,
    check_input_width,
    check_labels,
    seeded_rng,
)
from aekit.nn import ACTIVATIONS, build_stack, check_activation, parse_layers
from aekit.registry import register_model

VAE_LIKELIHOODS = ("bernoulli", "gaussian")

# Decoder rows (k samples x batch) per forward pass of the importance-weighted estimate, times
# the input width: 2^22 floats is a 16 MiB logits tensor, small enough for the CPU's cache
# hierarchy to matter less than the matmul and large enough that the per-call overhead vanishes.
IW_CHUNK_ELEMENTS = 1 << 22


@dataclass
class VAEConfig:
    """Architecture and objective of a :class:`VAE`.

    Parameters
    ----------
    layers : list of int or str
        Encoder widths from input to code, e.g. ``"784-200-200-50"`` (Burda et al.); the
        encoder's last layer outputs ``2 * code_dim`` numbers (``mu`` and ``log_var``) and the
        decoder mirrors the hidden widths.
    activation : str
        Hidden-layer activation of encoder and decoder.
    likelihood : {"bernoulli", "gaussian"}
        The decoder ``p(x|z)``: Bernoulli on logits for data in [0, 1], unit-variance Gaussian
        for real data.
    beta : float
        Weight of the KL term in the training loss (1 is the VAE; > 1 a beta-VAE).
    kl_warmup_steps : int
        The KL weight at optimizer step ``s`` is ``beta * min(1, s / kl_warmup_steps)``; 0
        means ``beta`` from the start.
    n_classes : int
        0 for a VAE; ``>= 2`` for a conditional VAE whose encoder and decoder also see the
        one-hot label.
    binarize : bool
        Dynamic binarization: in training mode every batch is resampled as ``Bernoulli(x)``
        (Bernoulli likelihood only). Evaluation uses the data as given.
    """

    layers: list[int] = field(default_factory=lambda: [784, 200, 200, 50])
    activation: str = param("tanh", choices=lambda: list(ACTIVATIONS))
    likelihood: str = param("bernoulli", choices=lambda: list(LIKELIHOODS))
    beta: float = param(1.0, ge=0)
    kl_warmup_steps: int = param(0, ge=0)
    n_classes: int = param(0, ge=0)
    binarize: bool = False

    def __post_init__(self) -> None:
        check_fields(self)
        self.layers = parse_layers(self.layers)
        check_activation(self.activation)
        if self.likelihood not in VAE_LIKELIHOODS:
            get_likelihood(self.likelihood)  # an unknown name gets the registry's message
            raise ValueError(
                f"the VAE's decoder supports likelihood in {list(VAE_LIKELIHOODS)}, got "
                f"{self.likelihood!r}; use 'bernoulli' for data in [0, 1] or 'gaussian' for "
                "real-valued data"
            )
        if not (isinstance(self.beta, int | float) and self.beta >= 0 and math.isfinite(self.beta)):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        for name in ("kl_warmup_steps", "n_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.n_classes == 1:
            raise ValueError(
                "n_classes=1 conditions on a constant; use n_classes=0 for a VAE or >= 2 for a "
                "conditional VAE"
            )
        if self.binarize and self.likelihood != "bernoulli":
            raise ConfigError(
                "",
                "{binarize} samples binary data for a Bernoulli decoder; use {bernoulli} or "
                "{no_binarize}",
                mentions={
                    "binarize": ("binarize", True),
                    "bernoulli": ("likelihood", "bernoulli"),
                    "no_binarize": ("binarize", False),
                },
            )

    @property
    def code_dim(self) -> int:
        return self.layers[-1]

    @property
    def n_features(self) -> int:
        return self.layers[0]


class NonFiniteKLError(FloatingPointError):
    """The KL term (or the code it comes from) became NaN or infinite."""


@register_model("vae")
class VAE(EncoderDecoder):
    """Variational autoencoder (Kingma & Welling 2014) with a Gaussian code.

    ``loss(x)`` is the negative ELBO with the KL weighted by the warm-up schedule;
    ``evaluate_batch(x)`` the held-out negative ELBO at KL weight 1 (``monitor = "nelbo"``).
    A conditional VAE (``n_classes > 0``) takes labels in every method: ``loss(x, y)``.

    Examples
    --------
    >>> from aekit.models import VAE
    >>> vae = VAE(layers="64-32-2", beta=1.0)
    >>> loss, terms = vae.loss(torch.rand(5, 64))
    >>> sorted(terms)
    ['kl', 'kl_weight', 'recon']
    >>> vae.sample(3, seed=0).shape
    (3, 64)
    """

    config_class = VAEConfig
    monitor = "nelbo"
    kl_step: torch.Tensor  # a buffer: optimizer steps taken, for the KL warm-up

    def __init__(self, config: VAEConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = VAEConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        d, k, c = config.n_features, config.code_dim, config.n_classes
        hidden = config.layers[1:-1]
        self.likelihood = get_likelihood(config.likelihood)
        self.encoder = build_stack([d + c, *hidden, 2 * k], config.activation, "linear")
        self.code = GaussianCode(k, "log_var")
        self.decoder = build_stack([k + c, *hidden[::-1], d], config.activation, "linear")
        # Optimizer steps taken, for the KL warm-up: a buffer, so checkpoints and resumed runs
        # continue the schedule exactly where it was.
        self.register_buffer("kl_step", torch.zeros((), dtype=torch.long))

    # Labels --------------------------------------------------------------------------------

    def _condition(self, y, n: int, device: torch.device) -> torch.Tensor | None:
        """One-hot labels ``(n, n_classes)`` for a conditional VAE, ``None`` for a plain one.

        Labels are validated on the CPU, where it is cheap; on an accelerator the per-batch
        host synchronisation would cost more than the check, and the trainer has validated
        the whole label array once (:meth:`check_targets`).
        """
        c = self.config.n_classes
        if c == 0:
            if y is not None:
                raise ValueError(
                    "this VAE is unconditional (n_classes=0) and takes no labels; drop y, or "
                    "build a conditional VAE with n_classes set to the number of classes"
                )
            return None
        if y is None:
            raise ValueError(
                f"this conditional VAE (n_classes={c}) needs labels: pass y, integer classes "
                f"0..{c - 1}, one per sample"
            )
        if isinstance(y, int | np.integer):
            y = torch.full((n,), int(y), dtype=torch.long)
        y = torch.as_tensor(y, device=device)
        if y.device.type == "cpu":
            check_labels(y, c, "y")
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels for {n} samples; pass one label per sample")
        return F.one_hot(y.long(), c).float()  # (n, n_classes)

    @staticmethod
    def _join(t: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        if onehot is None:
            return t
        return torch.cat([t, onehot.to(t.dtype).expand(*t.shape[:-1], -1)], dim=-1)

    # The model -----------------------------------------------------------------------------

    def posterior(self, x: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu, log_var`` of ``q(z|x[, y])``, each ``(batch, code_dim)``."""
        onehot = self._condition(y, len(x), x.device)
        return self.code(self.encoder(self._join(x, onehot)))

    def encode(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """The code: the posterior mean, ``(batch, code_dim)``."""
        return self.posterior(x, y)[0]

    def decoder_output(self, z: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        """The likelihood's natural parameter (logits or mean), ``(..., n_features)``."""
        return self.decoder(self._join(z, onehot))

    def decode(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """The decoder's mean ``E[x|z]`` (probabilities or means), ``(batch, n_features)``."""
        onehot = self._condition(y, z.shape[0], z.device)
        return self.likelihood.mean(self.decoder_output(z, onehot))

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        """Reconstruction of ``x`` through the posterior mean (no sampling)."""
        return self.decode(self.encode(x, y), y)

    @property
    def supports_lbfgs(self) -> bool:
        """With KL warm-up the schedule advances on every loss call, and L-BFGS's line
        search calls it several times per step, changing the objective under it"""
        return self.config.kl_warmup_steps == 0

    @property
    def takes_targets(self) -> bool:
        """A conditional VAE learns from labels (the trainer passes ``y_train``)."""
        return self.config.n_classes > 0

    @classmethod
    def label_field(cls) -> str | None:
        return "n_classes"

    @classmethod
    def needs_labels(cls, config, conditional: bool = False) -> bool:
        """A conditional VAE (``conditional``, or ``n_classes`` set) learns from labels."""
        n = config.get("n_classes", 0) if isinstance(config, dict) else config.n_classes
        return bool(conditional or n)

    def kl_weight(self) -> float:
        """The KL weight of the next training step: ``beta * min(1, step / kl_warmup_steps)``."""
        cfg = self.config
        if cfg.kl_warmup_steps == 0:
            return float(cfg.beta)
        return cfg.beta * min(1.0, int(self.kl_step) / cfg.kl_warmup_steps)

    def _terms(
        self, x: torch.Tensor, y
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample ``recon`` (one posterior sample), ``kl``, and ``mu, log_var``."""
        onehot = self._condition(y, len(x), x.device)
        mu, log_var = self.code(self.encoder(self._join(x, onehot)))
        z = reparameterize(mu, log_var)  # (batch, code_dim)
        recon = self.likelihood.nll(self.decoder_output(z, onehot), x)  # (batch,)
        kl = gaussian_kl_standard(mu.float(), log_var.float())  # (batch,)
        return recon, kl, mu, log_var

    def loss(self, x: torch.Tensor, y=None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``mean(recon + w * kl)`` on a batch, ``w`` the warm-up weight; terms in nats.

        In training mode each call is one optimizer step of the warm-up schedule, and with
        ``binarize`` the batch is resampled as ``Bernoulli(x)``.
        """
        cfg = self.config
        if self.training and cfg.binarize:
            x = torch.bernoulli(x)
        recon, kl, mu, log_var = self._terms(x, y)
        recon, kl = recon.mean(), kl.mean()
        if x.device.type == "cpu":
            # One scalar check per batch is free on the CPU; on an accelerator it would stall
            # the pipeline every batch, and the trainer's own periodic check stops the run.
            check_kl_finite(kl, mu, log_var)
        if cfg.kl_warmup_steps == 0:
            weight = torch.full((), float(cfg.beta), device=x.device)
        else:
            # Kept on the device: reading the step count back would synchronise every batch.
            ramp = self.kl_step.float() / cfg.kl_warmup_steps
            weight = cfg.beta * ramp.clamp(max=1.0)
        if self.training:
            self.kl_step += 1
        return recon + weight * kl, {"recon": recon, "kl": kl, "kl_weight": weight}

    @torch.no_grad()
    def evaluate_batch(self, x: torch.Tensor, y=None) -> dict[str, torch.Tensor]:
        """Held-out ``nelbo = recon + kl`` (KL at weight 1, one posterior sample), and terms."""
        recon, kl, mu, log_var = self._terms(x, y)
        check_kl_finite(kl, mu, log_var)
        return {"nelbo": (recon + kl).mean(), "recon": recon.mean(), "kl": kl.mean()}

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        check_input_width(x, self.config.n_features, name)
        self.likelihood.check_data(x)

    def check_targets(self, y: torch.Tensor, name: str = "y") -> None:
        if self.config.n_classes == 0:
            raise ValueError(
                f"this VAE is unconditional (n_classes=0) but {name} was given; train without "
                "targets, or build a conditional VAE with n_classes set"
            )
        check_labels(y, self.config.n_classes, name)

    # Log-likelihood bounds -----------------------------------------------------------------

    def _log_norm(self) -> float:
        """The constant the training loss drops: ``-D/2 log 2 pi`` for the Gaussian decoder."""
        if self.config.likelihood == "gaussian":
            return -0.5 * self.config.n_features * math.log(2 * math.pi)
        return 0.0

    def iw_bound(
        self, x: torch.Tensor, k: int, y=None, chunk_size: int | None = None
    ) -> torch.Tensor:
        """Burda et al.'s ``L_k(x)`` per sample (nats), ``(batch,)``, on tensors.

        ``log mean_i w_i`` with ``log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)`` is
        accumulated chunk by chunk with ``logaddexp``, so memory holds ``chunk_size`` samples
        of the ``k`` at a time and no ``w_i`` is ever exponentiated on its own.
        """
        onehot = self._condition(y, len(x), x.device)
        mu, log_var = self.code(self.encoder(self._join(x, onehot)))
        check_kl_finite(gaussian_kl_standard(mu, log_var), mu, log_var)
        if chunk_size is None:
            chunk_size = max(1, IW_CHUNK_ELEMENTS // (len(x) * self.config.n_features))
        zero = torch.zeros_like(mu)
        total = torch.full((len(x),), -math.inf, dtype=mu.dtype, device=mu.device)
        for start in range(0, k, chunk_size):
            s = min(chunk_size, k - start)
            z = reparameterize(mu, log_var, s)  # (s, batch, code_dim)
            output = self.decoder_output(z, onehot)  # (s, batch, n_features)
            log_px = -self.likelihood.nll(output, x.expand_as(output))  # (s, batch)
            log_w = log_px + gaussian_log_density(z, zero, zero)
            log_w = log_w - gaussian_log_density(z, mu, log_var)
            total = torch.logaddexp(total, torch.logsumexp(log_w, dim=0))
        return total - math.log(k) + self._log_norm()

    def _per_sample(self, fn, x, y, batch_size: int, seed: int | None) -> np.ndarray:
        """Apply ``fn(xb, yb)`` over ``x`` in batches, eval mode, seeded; ``(n_samples,)``."""
        xt = as_float_tensor(x)
        check_input_width(xt, self.config.n_features, "x")
        if len(xt) == 0:
            raise ValueError("got an empty array (0 samples); pass at least one sample")
        if y is not None and not isinstance(y, int | np.integer):
            y = torch.as_tensor(np.asarray(y))
        self._condition(y, len(xt), torch.device("cpu"))  # validates the labels once, here
        was_training = self.training
        self.eval()
        device = self.device
        out = []
        try:
            with torch.no_grad(), seeded_rng(seed, device):
                for start in range(0, len(xt), batch_size):
                    xb = xt[start : start + batch_size].to(device)
                    yb = y
                    if y is not None and not isinstance(y, int | np.integer):
                        yb = y[start : start + batch_size].to(device)
                    out.append(fn(xb, yb).double().cpu())
        finally:
            self.train(was_training)
        return torch.cat(out).numpy()

    def log_likelihood(
        self,
        x,
        k: int = 5000,
        y=None,
        batch_size: int = 100,
        chunk_size: int | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Importance-weighted estimate of ``log p(x)`` per sample, in nats (Burda et al.).

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features)
        k : int
            Importance samples per data point (5000 for the paper's reported figures); ``k=1``
            is a one-sample ELBO estimate.
        y : array-like of shape (n_samples,) or int, optional
            Labels, for a conditional VAE only.
        batch_size : int
            Data points per pass.
        chunk_size : int, optional
            Importance samples per decoder pass (default: about 4 M decoder outputs).
        seed : int, optional
            Seeds the posterior samples (torch's global RNG is restored afterwards).

        Returns
        -------
        ndarray of shape (n_samples,)
            ``L_k(x)``: a stochastic lower bound on ``log p(x)`` whose expectation rises with
            ``k``. For the Gaussian decoder it includes the ``-D/2 log 2 pi`` the loss drops.
        """
        if not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer (importance samples), got {k!r}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1 or None, got {chunk_size!r}")
        return self._per_sample(
            lambda xb, yb: self.iw_bound(xb, int(k), yb, chunk_size), x, y, batch_size, seed
        )

    def elbo(self, x, y=None, batch_size: int = 1000, seed: int | None = None) -> np.ndarray:
        """The evidence lower bound per sample, in nats: ``-(recon + kl)``, ``(n_samples,)``.

        The reconstruction term uses one posterior sample, the KL its closed form; for the
        Gaussian decoder the ``-D/2 log 2 pi`` constant is included, as in
        :meth:`log_likelihood`.
        """

        def fn(xb, yb):
            recon, kl, mu, log_var = self._terms(xb, yb)
            check_kl_finite(kl, mu, log_var)
            return -(recon + kl) + self._log_norm()

        return self._per_sample(fn, x, y, batch_size, seed)

    # Sampling and the numpy surface -------------------------------------------------------------

    @torch.no_grad()
    def sample(
        self,
        n: int,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        y=None,
    ) -> np.ndarray:
        """Decoded means of ``n`` codes drawn from the prior ``N(0, I)``, ``(n, n_features)``.

        The codes are drawn on the CPU from ``generator`` (or a fresh one seeded with
        ``seed``), so a seed gives the same samples on any device. A conditional VAE needs
        ``y``: one label for all samples or one per sample.
        """
        return self._decode_prior_draws(
            n,
            seed,
            generator,
            lambda m, g: torch.randn(m, self.config.code_dim, generator=g),
            lambda z: self.decode(z, y),
        )

    def _apply_labelled(self, fn, x, y, batch_size: int, out=None) -> np.ndarray:
        """``_apply_numpy`` for ``fn(xb, yb)``: the labels travel as extra columns."""
        if y is None:
            return self._apply_numpy(lambda xb: fn(xb, None), x, batch_size, out=out)
        yt = torch.as_tensor(np.asarray(y)) if not isinstance(y, int | np.integer) else y
        onehot = self._condition(yt, len(x), torch.device("cpu"))
        assert onehot is not None  # labels given: a plain VAE has refused them above
        joined = torch.cat([as_float_tensor(x), onehot], dim=1)
        w = joined.shape[1] - self.config.n_classes
        # Labels back from their one-hot columns: exact, since the columns hold 0.0 and 1.0.
        return self._apply_numpy(
            lambda xy: fn(xy[:, :w], xy[:, w:].argmax(1)), joined, batch_size, out=out
        )

    def transform(self, x, batch_size: int = 1024, out=None, y=None) -> np.ndarray:
        """Posterior means of an array, ``(n_samples, code_dim)`` (``out``: see
        :func:`~aekit.models.base.apply_batched`)."""
        return self._apply_labelled(self.encode, x, y, batch_size, out=out)

    def reconstruct(self, x, batch_size: int = 1024, out=None, y=None) -> np.ndarray:
        """Reconstructions through the posterior means, ``(n_samples, n_features)``."""
        return self._apply_labelled(self.forward, x, y, batch_size, out=out)

    def inverse_transform(self, z, batch_size: int = 1024, y=None) -> np.ndarray:
        """Decoded means of codes, ``(n_samples, n_features)``."""
        return self._apply_labelled(self.decode, z, y, batch_size)

    def reconstruction_error(self, x, batch_size: int = 1024, y=None) -> np.ndarray:
        """Per-sample squared error of the reconstruction through the posterior mean."""
        x_hat = self.reconstruct(x, batch_size, y=y)
        return ((x_hat - np.asarray(x, dtype=np.float32)) ** 2).sum(1)


def check_kl_finite(kl: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> None:
    """Raise :class:`NonFiniteKLError` naming the culprit if ``kl`` has NaN or inf.

    ``log_var`` is clamped to ``LOG_VAR_RANGE`` (:mod:`aekit.latent`), so an overflowing
    variance cannot do this; what is left is a non-finite encoder output (NaN passes a clamp,
    and an infinite ``mu`` makes ``mu^2`` infinite), i.e. diverged weights or bad inputs.
    """
    if bool(torch.isfinite(kl).all()):
        return
    bad_mu = int((~torch.isfinite(mu)).any(-1).sum())
    bad_lv = int((~torch.isfinite(log_var)).any(-1).sum())
    raise NonFiniteKLError(
        f"the KL term is NaN or infinite: {int((~torch.isfinite(kl)).sum())} of {kl.numel()} "
        f"samples have a non-finite KL ({bad_mu} with a non-finite mu, {bad_lv} with a NaN "
        f"log variance). log_var is clamped to {LOG_VAR_RANGE} (aekit.latent), so an "
        "overflowing variance is not the cause: the encoder's outputs are non-finite, from "
        "diverged weights or non-finite inputs. Lower the learning rate, use KL warm-up "
        "(kl_warmup_steps), or check the data for NaN/inf."
    )
