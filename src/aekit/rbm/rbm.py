"""Restricted Boltzmann machines trained by contrastive divergence, through the shared trainer.

References
----------
- G. E. Hinton, "Training Products of Experts by Minimizing Contrastive Divergence",
  Neural Computation 14, 2002 (CD-k).
- G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
  Networks", Science 313, 2006, and its supporting material (Gaussian visible units for faces,
  linear hidden units with unit-variance Gaussian noise for the code layer, the training
  settings of :meth:`RBM.suggested_train_settings`).
- T. Tieleman, "Training Restricted Boltzmann Machines using Approximations to the Likelihood
  Gradient", ICML 2008 (persistent CD).
- R. Salakhutdinov and I. Murray, "On the Quantitative Analysis of Deep Belief Networks",
  ICML 2008 (annealed importance sampling of log Z).
- R. Salakhutdinov and G. E. Hinton, "Replicated Softmax: an Undirected Topic Model",
  NIPS 2009 (softmax visible units for word counts; the constrained Poisson model of the
  2006 paper's document autoencoder has the same conditionals).

Energies (``W`` is ``(n_hidden, n_visible)``, ``b`` visible and ``c`` hidden biases)::

    binary v, binary h:     E = -b.v - c.h - h.W v
    Gaussian v, binary h:   E = ||v - b||^2 / 2 - c.h - h.W v       (unit variance)
    binary v, Gaussian h:   E = -b.v + ||h - c||^2 / 2 - h.W v       ("linear" hidden units)
    softmax v, binary h:    E = -b.v - D c.h - h.W v                  (replicated softmax)

where for softmax visible units ``v`` holds a document's word counts and ``D = sum_i v_i`` its
length: ``D`` softmax units share the weights, so the hidden units see ``W v + D c`` (the
bottom-up input grows with the document) and, given ``h``, the counts are
``Multinomial(D, softmax(b + W^T h))``. Each length ``D`` has its own partition function.

so the free energies ``F(v) = -log sum_h exp(-E(v, h))`` are::

    binary h:    F(v) = E_v(v) - sum_j softplus(c_j + W_j.v)     (D c_j for softmax v)
    Gaussian h:  F(v) = -b.v - ||c + W v||^2 / 2 + ||c||^2 / 2 - (n_hidden / 2) log(2 pi)

with ``E_v(v) = -b.v`` for binary and softmax, ``||v - b||^2 / 2`` for Gaussian visible units.

Training: the gradient of ``mean F(v_data) - mean F(v_neg)`` with ``v_neg`` held fixed is
exactly the CD update ``<v h>_data - <v h>_recon`` with the positive phase on hidden
probabilities (the gradient of F is ``-E[h | v] v^T``). ``RBM.loss`` hands that gradient to
autograd directly (a custom backward, no free energies evaluated), so an RBM is trained by the
same :class:`~aekit.train.Trainer` as every other model, with SGD and momentum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aekit.config import check_fields
from aekit.models.base import Model, apply_batched, check_documents
from aekit.registry import register_model

VISIBLE_UNITS = ("bernoulli", "gaussian", "softmax")
HIDDEN_UNITS = ("bernoulli", "gaussian")
# Learning rate of softmax visible units over word counts: their statistics are D times those
# of binary units (D ~ 100 words per document).
SOFTMAX_RBM_LR = 0.001
_LOG_2PI = math.log(2 * math.pi)


def bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary samples with means ``p``: ``uniform < p``.

    Same distribution as ``torch.bernoulli(p)`` but about 3x faster on CPU, where sampling is
    a sizeable part of a CD step (timings in docs/measurements.md).
    """
    u = torch.rand(p.shape, dtype=p.dtype, device=p.device, generator=generator)
    return torch.lt(u, p).to(p.dtype)


@dataclass
class RBMConfig:
    """Architecture and CD settings of an :class:`RBM`.

    Parameters
    ----------
    n_visible, n_hidden : int
        Units in the visible and the hidden layer.
    visible : {"bernoulli", "gaussian", "softmax"}
        Gaussian visible units have unit variance: standardize the data first. Softmax
        visible units model word counts (replicated softmax): the data are non-negative
        counts, one row per document.
    hidden : {"bernoulli", "gaussian"}
        ``gaussian`` are the paper's linear hidden units with unit-variance noise.
    cd_k : int
        Gibbs steps of the negative phase.
    persistent : bool
        Persistent CD: the negative chains carry over between updates (``n_chains`` of them).
    n_chains : int
        Negative chains of persistent CD.
    sample_visible : bool
        Sample the visible states in the negative phase instead of using their means (the
        paper uses means; persistent chains always sample them). Softmax units then draw
        ``D`` words from the multinomial.
    weight_decay : float
        Weight cost ``lambda`` (gradient ``lambda * W``; the paper's 0.0002).
    init_std : float
        Standard deviation of the initial weights.
    up_scale, down_scale : float
        Multiply ``W v`` when inferring the hidden units, and ``W^T h`` when reconstructing
        the visible ones: 2 and 1 for the bottom, 1 and 2 for the top RBM of a DBM's
        pretraining stack (Salakhutdinov & Hinton 2009). With ``up_scale != 1`` the CD
        surrogate's weight gradient is ``up_scale`` times the paper's update.
    """

    n_visible: int = 784
    n_hidden: int = 500
    visible: str = "bernoulli"
    hidden: str = "bernoulli"
    cd_k: int = 1
    persistent: bool = False
    n_chains: int = 100
    sample_visible: bool = False
    weight_decay: float = 0.0
    init_std: float = 0.1
    up_scale: float = 1.0
    down_scale: float = 1.0

    def __post_init__(self) -> None:
        check_fields(self)
        if self.n_visible < 1 or self.n_hidden < 1:
            raise ValueError("n_visible and n_hidden must be >= 1")
        if self.visible not in VISIBLE_UNITS:
            raise ValueError(f"unknown visible units {self.visible!r}; choose {VISIBLE_UNITS}")
        if self.hidden not in HIDDEN_UNITS:
            raise ValueError(f"unknown hidden units {self.hidden!r}; choose {HIDDEN_UNITS}")
        if self.visible == "gaussian" and self.hidden == "gaussian":
            raise ValueError(
                "Gaussian visible with Gaussian hidden units has no normalizable joint in "
                "general; make one of the two layers 'bernoulli'"
            )
        if self.visible == "softmax" and self.hidden != "bernoulli":
            raise ValueError(
                "softmax (word count) visible units are implemented with binary hidden units; "
                "use hidden='bernoulli' for the first layer of a document model"
            )
        if self.cd_k < 1 or self.n_chains < 1:
            raise ValueError("cd_k and n_chains must be >= 1")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")

    @property
    def layers(self) -> list[int]:
        return [self.n_visible, self.n_hidden]


@register_model("rbm")
class RBM(Model):
    """A restricted Boltzmann machine; a plain ``nn.Module`` trained by :class:`Trainer`.

    It also serves as a pretrained layer for unrolling (``encoder_weight`` and friends).
    """

    config_class = RBMConfig
    # loss() returns the reconstruction error but its gradient is the CD update.
    supports_lbfgs = False
    chains: torch.Tensor  # a buffer: PCD's negative chains, (0, n_visible) until PCD starts

    def __init__(self, config: RBMConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = RBMConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        self.weight = nn.Parameter(torch.randn(config.n_hidden, config.n_visible) * config.init_std)
        self.visible_bias = nn.Parameter(torch.zeros(config.n_visible))
        self.hidden_bias = nn.Parameter(torch.zeros(config.n_hidden))
        # Persistent chains are state, saved with the weights so a resumed run continues them.
        self.register_buffer("chains", torch.zeros(0, config.n_visible))

    @classmethod
    def suggested_train_settings(cls, config: RBMConfig) -> dict:
        """The training settings of Hinton & Salakhutdinov (2006) for ``config``'s unit types.

        Minibatches of 100, SGD with learning rate 0.1, or 0.001 when the RBM has Gaussian
        visible or linear (Gaussian) hidden units, and :data:`SOFTMAX_RBM_LR` for softmax
        visible units; momentum 0.5 for 5 epochs, then 0.9; 50 epochs; no validation split.
        CD-k and the weight cost 0.0002 are settings of :class:`RBMConfig`. Every RBM stack
        trains its layers with these (:func:`aekit.train.fit_rbm_layer`).
        """
        lr = 0.001 if "gaussian" in (config.hidden, config.visible) else 0.1
        if config.visible == "softmax":
            lr = SOFTMAX_RBM_LR
        return {
            "epochs": 50,
            "batch_size": 100,
            "optimizer": "sgd",
            "lr": lr,
            "momentum": 0.9,
            "initial_momentum": 0.5,
            "momentum_warmup_epochs": 5,
            "val_fraction": 0.0,
        }

    @torch.no_grad()
    def init_visible_bias(self, x) -> RBM:
        """Start the visible biases at the data's marginals (Hinton's "practical guide",
        Sec. 8.1): log-odds ``log p_i / (1 - p_i)`` of binary units, log word frequencies of
        softmax units, the means of Gaussian units. ``x`` may be a numpy array, a tensor or a
        scipy sparse matrix; returns ``self``."""
        total = np.asarray(x.sum(0), dtype=np.float64).ravel()
        n = x.shape[0]
        if self.config.visible == "softmax":
            freq = (total + 1.0) / (total.sum() + len(total))  # add-one: no word at -inf
            bias = np.log(freq)
        elif self.config.visible == "bernoulli":
            p = np.clip(total / n, 1e-3, 1 - 1e-3)
            bias = np.log(p / (1 - p))
        else:
            bias = total / n
        self.visible_bias.copy_(torch.as_tensor(bias, dtype=self.visible_bias.dtype))
        return self

    # Conditionals ------------------------------------------------------------------------------

    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        return _hidden_input(
            v, self.weight, self.hidden_bias, self.config.visible, self.config.up_scale
        )  # (batch, n_hidden)

    def hidden_mean(self, v: torch.Tensor) -> torch.Tensor:
        """``E[h | v]``: probabilities, or the Gaussian means of linear units."""
        x = self.hidden_input(v)
        return torch.sigmoid(x) if self.config.hidden == "bernoulli" else x

    def sample_hidden(self, mean: torch.Tensor) -> torch.Tensor:
        if self.config.hidden == "bernoulli":
            return bernoulli(mean)
        return mean + torch.randn_like(mean)

    def visible_mean(self, h: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """``E[v | h]``; softmax units need the documents' ``length`` ``(batch, 1)``."""
        w = self.weight if self.config.down_scale == 1.0 else self.config.down_scale * self.weight
        x = F.linear(h, w.t(), self.visible_bias)  # (batch, n_visible)
        if self.config.visible == "bernoulli":
            return torch.sigmoid(x)
        if self.config.visible == "softmax":
            if length is None:
                raise ValueError("softmax visible units need the document lengths (length=...)")
            return length * torch.softmax(x, dim=-1)
        return x

    def sample_visible(self, mean: torch.Tensor) -> torch.Tensor:
        if self.config.visible == "bernoulli":
            return bernoulli(mean)
        if self.config.visible == "softmax":
            return sample_counts(mean)
        return mean + torch.randn_like(mean)

    # Energies ----------------------------------------------------------------------------------

    def _visible_energy(self, v: torch.Tensor) -> torch.Tensor:
        return _visible_energy(v, self.visible_bias, self.config.visible)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h)``, shape ``(batch,)``."""
        interaction = self.config.up_scale * F.linear(v, self.weight) * h
        if self.config.hidden == "bernoulli":
            hidden = -(h @ self.hidden_bias)
            if self.config.visible == "softmax":
                hidden = hidden * v.sum(-1)
        else:
            hidden = 0.5 * (h - self.hidden_bias).pow(2).sum(-1)
        return self._visible_energy(v) + hidden - interaction.sum(-1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -log sum_h exp(-E(v, h))`` (an integral for Gaussian h), shape ``(batch,)``."""
        cfg = self.config
        return free_energy(
            v,
            self.weight,
            self.visible_bias,
            self.hidden_bias,
            cfg.visible,
            cfg.hidden,
            self.hidden_input(v),
        )

    # Training ----------------------------------------------------------------------------------

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        """Raise ``ValueError`` unless ``x`` fits the visible layer (width, range)."""
        n = self.config.n_visible
        if x.ndim != 2 or x.shape[1] != n:
            raise ValueError(f"{name} has shape {tuple(x.shape)}; the RBM has {n} visible units")
        if self.config.visible == "softmax":
            check_documents(x, name)
        if self.config.visible == "bernoulli":
            # One pass over an in-memory tensor; row sources (sparse, memory-mapped) stream
            # their own min and max.
            if isinstance(x, torch.Tensor):
                lo, hi = (float(v) for v in torch.aminmax(x))
            else:
                lo, hi = float(x.min()), float(x.max())
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"{name} has values in [{lo:.3g}, {hi:.3g}] but binary visible units need "
                    "[0, 1]; scale the data or use visible='gaussian' on standardized data"
                )

    @torch.no_grad()
    def negative_phase(
        self, v0: torch.Tensor, ph0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Negative samples and the one-step reconstruction of ``v0``.

        CD-k starts the chain at the data: sampled hidden states, visible means (or samples),
        k times. PCD continues its persistent chains instead. ``ph0``, the hidden means of
        ``v0``, may be passed in when the caller already has them.
        """
        cfg = self.config
        if ph0 is None:
            ph0 = self.hidden_mean(v0)
        # Softmax chains keep each document's length: every step redraws its D words.
        length = v0.sum(-1, keepdim=True) if cfg.visible == "softmax" else None
        recon = self.visible_mean(self.sample_hidden(ph0), length)
        if cfg.persistent:
            if self.chains.shape[0] != cfg.n_chains:
                idx = torch.randint(len(v0), (cfg.n_chains,), device=v0.device)
                self.chains = v0[idx].clone()
            v = self.chains
            chain_length = v.sum(-1, keepdim=True) if cfg.visible == "softmax" else None
            for _ in range(cfg.cd_k):
                h = self.sample_hidden(self.hidden_mean(v))
                v = self.sample_visible(self.visible_mean(h, chain_length))
            self.chains = v
            return v, recon
        v = recon
        for _ in range(cfg.cd_k - 1):
            v = self.sample_visible(v) if cfg.sample_visible else v
            v = self.visible_mean(self.sample_hidden(self.hidden_mean(v)), length)
        if cfg.sample_visible:
            v = self.sample_visible(v)
        return v, recon

    def loss(self, v0: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The one-step reconstruction error, whose gradient is defined as the CD-k estimate.

        The value is what Hinton's code prints (squared error of the reconstruction from
        sampled hidden states); :class:`_ContrastiveDivergence` gives its backward pass the
        CD update, which equals the gradient of ``mean F(v_data) - mean F(v_neg)`` (see the
        module docstring) without evaluating free energies: 5 matmuls per step and no
        softplus, against autograd's extra elementwise passes through the free energy.
        """
        cfg = self.config
        with torch.no_grad():
            ph0 = self.hidden_mean(v0)  # (batch, n_hidden)
            v_neg, recon = self.negative_phase(v0, ph0)
            ph_neg = self.hidden_mean(v_neg)
            recon_err = (recon - v0).pow(2).sum(-1).mean()
            # Replicated softmax: the hidden bias enters the energy D times (dF/dc = -D E[h|v]).
            if cfg.visible == "softmax":
                hb0, hb_neg = ph0 * v0.sum(-1, keepdim=True), ph_neg * v_neg.sum(-1, keepdim=True)
            else:
                hb0, hb_neg = ph0, ph_neg
        # The weight cost's gradient (weight_decay * W) is added inside the backward pass.
        loss = _ContrastiveDivergence.apply(
            self.weight,
            self.visible_bias,
            self.hidden_bias,
            v0,
            ph0,
            v_neg,
            ph_neg,
            hb0,
            hb_neg,
            recon_err,
            cfg.up_scale,
            cfg.weight_decay,
        )
        return loss, {"recon": recon_err}

    @torch.no_grad()
    def evaluate_batch(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        """Mean-field reconstruction error (``v -> E[h|v] -> E[v|h]``) and mean free energy."""
        length = v.sum(-1, keepdim=True) if self.config.visible == "softmax" else None
        recon = self.visible_mean(self.hidden_mean(v), length)
        return {
            "recon": (recon - v).pow(2).sum(-1).mean(),
            "free_energy": self.free_energy(v).mean(),
        }

    # Likelihoods -------------------------------------------------------------------------------

    def _check_proper(self, what: str) -> None:
        if self.config.up_scale != 1.0 or self.config.down_scale != 1.0:
            raise ValueError(
                f"{what} needs a proper RBM; with up_scale/down_scale != 1 (a DBM pretraining "
                "layer) the conditionals do not come from one energy function"
            )

    @torch.no_grad()
    def log_partition_exact(self, max_units: int = 22, length: int | None = None) -> float:
        """``log Z`` by enumerating the smaller binary layer (at most ``max_units`` units).

        Softmax visible units have one partition function per document length: pass
        ``length`` (``D``). It sums over the ``n_visible^D`` ordered word sequences, so
        ``p(counts) = D! / prod_i v_i! * exp(-F(v)) / Z_D``.
        """
        self._check_proper("log_partition_exact")
        cfg = self.config
        W = self.weight.double()
        b, c = self.visible_bias.double(), self.hidden_bias.double()
        if cfg.visible == "softmax":
            if length is None or int(length) < 1:
                raise ValueError("softmax visible units: pass the document length (length=D)")
            if cfg.n_hidden > max_units:
                raise ValueError(f"exact log Z needs at most {max_units} hidden units")
            h = _all_binary(cfg.n_hidden, W.device)  # (2^n_hidden, n_hidden)
            # sum over sequences of exp(b.v + h.W v) = (sum_k exp(b_k + (W^T h)_k))^D
            log_words = torch.logsumexp(F.linear(h, W.t(), b), -1)  # (2^n_hidden,)
            return float(torch.logsumexp(length * (h @ c + log_words), 0))
        if length is not None:
            raise ValueError("length is only for softmax visible units")
        if cfg.hidden == "bernoulli" and cfg.n_hidden <= max_units:
            h = _all_binary(cfg.n_hidden, W.device)  # (2^n_hidden, n_hidden)
            vis_in = F.linear(h, W.t(), b)  # (2^n_hidden, n_visible)
            if cfg.visible == "bernoulli":
                neg_fh = h @ c + F.softplus(vis_in).sum(-1)
            else:  # integrate the Gaussian visible units out
                neg_fh = (
                    h @ c
                    + 0.5 * vis_in.pow(2).sum(-1)
                    - 0.5 * b.pow(2).sum()
                    + 0.5 * cfg.n_visible * _LOG_2PI
                )
            return float(torch.logsumexp(neg_fh, 0))
        if cfg.visible == "bernoulli" and cfg.n_visible <= max_units:
            v = _all_binary(cfg.n_visible, W.device)
            fe = free_energy(v, W, b, c, cfg.visible, cfg.hidden)
            return float(torch.logsumexp(-fe, 0))
        raise ValueError(
            f"exact log Z needs a binary layer of at most {max_units} units; "
            "use log_partition_ais for larger models"
        )

    @torch.no_grad()
    def log_partition_ais(
        self,
        n_betas: int = 10000,
        n_runs: int = 100,
        base_visible_bias: torch.Tensor | None = None,
        seed: int = 0,
    ) -> tuple[float, float]:
        """Annealed importance sampling estimate of ``log Z`` (Salakhutdinov & Murray 2008).

        The base model has no weights and visible biases ``base_visible_bias`` (pass the data's
        log-odds for a good start; zeros by default). Intermediate models scale the weights
        and hidden biases by ``beta``. Binary visible and binary hidden units only.

        Returns
        -------
        log_z : float
        log_z_sd : float
            Standard error of ``log Z`` from the spread of the importance weights (delta method).
        """
        self._check_proper("log_partition_ais")
        cfg = self.config
        if cfg.visible != "bernoulli" or cfg.hidden != "bernoulli":
            raise ValueError("AIS is implemented for binary visible and binary hidden units")
        gen = torch.Generator(device=self.weight.device).manual_seed(seed)
        W = self.weight.double()
        b, c = self.visible_bias.double(), self.hidden_bias.double()
        b_a = torch.zeros_like(b) if base_visible_bias is None else base_visible_bias.double()
        betas = torch.linspace(0, 1, n_betas, dtype=torch.float64).tolist()

        def log_unnorm(v: torch.Tensor, beta: float) -> torch.Tensor:
            # log p*_beta(v), base hidden units included (softplus(0) = log 2 each at beta=0).
            return v @ ((1 - beta) * b_a + beta * b) + F.softplus(beta * F.linear(v, W, c)).sum(-1)

        v = bernoulli(torch.sigmoid(b_a).expand(n_runs, -1), generator=gen)
        log_w = torch.zeros(n_runs, dtype=torch.float64, device=W.device)
        for k in range(1, n_betas):
            beta_prev, beta = betas[k - 1], betas[k]
            log_w += log_unnorm(v, beta) - log_unnorm(v, beta_prev)
            h = bernoulli(torch.sigmoid(beta * F.linear(v, W, c)), generator=gen)
            v = bernoulli(
                torch.sigmoid((1 - beta) * b_a + beta * F.linear(h, W.t(), b)), generator=gen
            )
        log_z_base = float(F.softplus(b_a).sum()) + cfg.n_hidden * math.log(2)
        log_mean_w = float(torch.logsumexp(log_w, 0)) - math.log(n_runs)
        w = torch.exp(log_w - log_w.max())
        sd = float(w.std() / (w.mean() * math.sqrt(n_runs)))
        return log_z_base + log_mean_w, sd

    @torch.no_grad()
    def pseudo_log_likelihood(self, v: torch.Tensor, exact: bool = True) -> torch.Tensor:
        """Pseudo-log-likelihood ``sum_i log p(v_i | v_-i)`` of binary ``v``, per sample.

        ``exact=False`` is the one-random-flip estimate ``n_visible * log p(v_i | v_-i)`` that
        scikit-learn's ``BernoulliRBM.score_samples`` uses.
        """
        self._check_proper("pseudo_log_likelihood")
        if self.config.visible != "bernoulli":  # softmax counts have no single-bit flips
            raise ValueError("pseudo-likelihood is defined here for binary visible units")
        fe = self.free_energy(v)
        if not exact:
            bit = torch.randint(v.shape[1], (v.shape[0],), device=v.device)  # one per row
            flipped = v.clone()
            rows = torch.arange(v.shape[0], device=v.device)
            flipped[rows, bit] = 1 - flipped[rows, bit]
            return v.shape[1] * F.logsigmoid(self.free_energy(flipped) - fe)
        # Flipping bit i moves the hidden input by (1 - 2 v_i) W[:, i]: no matmul per bit.
        x = self.hidden_input(v)  # (batch, n_hidden)
        if self.config.hidden == "bernoulli":
            hidden_term = F.softplus(x).sum(-1)
        else:
            hidden_term = 0.5 * x.pow(2).sum(-1)
        total = torch.zeros_like(fe)
        for i in range(v.shape[1]):
            sign = 1 - 2 * v[:, i]  # (batch,)
            x_f = x + sign[:, None] * self.weight[:, i]
            if self.config.hidden == "bernoulli":
                flipped_term = F.softplus(x_f).sum(-1)
            else:
                flipped_term = 0.5 * x_f.pow(2).sum(-1)
            delta = -self.visible_bias[i] * sign - flipped_term + hidden_term  # F(flip) - F(v)
            total += F.logsigmoid(delta)
        return total

    # numpy conveniences and unrolling ------------------------------------------------------------

    def transform(self, x, batch_size: int = 4096) -> np.ndarray:
        """Hidden means ``E[h | v]`` of an array: the codes fed to the next layer."""
        return apply_batched(self.hidden_mean, x, batch_size, self.device)

    def reconstruct(self, x, batch_size: int = 4096) -> np.ndarray:
        """Mean-field reconstructions ``E[v | E[h | v]]``."""
        softmax = self.config.visible == "softmax"

        def recon(v: torch.Tensor) -> torch.Tensor:
            return self.visible_mean(
                self.hidden_mean(v), v.sum(-1, keepdim=True) if softmax else None
            )

        return apply_batched(recon, x, batch_size, self.device)

    @property
    def encoder_weight(self) -> np.ndarray:
        return self.weight.detach().cpu().numpy()

    @property
    def encoder_bias(self) -> np.ndarray:
        return self.hidden_bias.detach().cpu().numpy()

    @property
    def decoder_weight(self) -> np.ndarray:
        return self.weight.detach().cpu().numpy().T

    @property
    def decoder_bias(self) -> np.ndarray:
        return self.visible_bias.detach().cpu().numpy()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        # The chains buffer changes shape once PCD starts; resize before loading.
        if "chains" in state_dict:
            shape = state_dict["chains"].shape
            self.chains = torch.empty(shape, dtype=self.chains.dtype, device=self.chains.device)
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


class _ContrastiveDivergence(torch.autograd.Function):
    """Returns ``value``; its backward pass is the CD gradient for ``W``, ``b`` and ``c``
    (plus ``decay * W``, the weight cost).

    For every unit type here, ``d/dtheta [F(v0) - F(v_neg)]`` averaged over the batch is
    ``dW = s (<ph_neg^T v_neg> - <ph0^T v0>)``, ``db = <v_neg> - <v0>``,
    ``dc = <hb_neg> - <hb0>``, each ``<.>`` the mean over that phase's rows, ``ph`` the hidden
    means, ``hb`` the hidden bias's statistics (``ph``, or ``D ph`` for replicated softmax) and
    ``s`` the up-scale.
    """

    @staticmethod
    def forward(
        ctx,
        weight,
        visible_bias,
        hidden_bias,
        v0,
        ph0,
        v_neg,
        ph_neg,
        hb0,
        hb_neg,
        value,
        scale,
        decay,
    ):
        ctx.save_for_backward(weight, v0, ph0, v_neg, ph_neg, hb0, hb_neg)
        ctx.scale, ctx.decay = scale, decay
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        weight, v0, ph0, v_neg, ph_neg, hb0, hb_neg = ctx.saved_tensors
        # Each phase is averaged over its own rows (PCD has n_chains negative samples).
        n0, n_neg = v0.shape[0], v_neg.shape[0]
        if grad.device.type == "cpu":
            # Reading a CPU scalar is free, so the upstream gradient and the weight cost fold
            # into the two products' coefficients: no elementwise pass over W (5% of a step).
            g = float(grad)
            d_weight = torch.addmm(
                weight, ph_neg.t(), v_neg, beta=g * ctx.decay, alpha=g * ctx.scale / n_neg
            )  # (n_hidden, n_visible)
            d_weight.addmm_(ph0.t(), v0, alpha=-g * ctx.scale / n0)
        else:  # on a GPU, float(grad) would wait for the device every step
            d_weight = torch.addmm(
                ph_neg.t() @ v_neg, ph0.t(), v0, beta=ctx.scale / n_neg, alpha=-ctx.scale / n0
            )
            if ctx.decay:
                d_weight.add_(weight, alpha=ctx.decay)
            d_weight.mul_(grad)
        d_visible = (v_neg.mean(0) - v0.mean(0)) * grad
        d_hidden = (hb_neg.mean(0) - hb0.mean(0)) * grad
        return (d_weight, d_visible, d_hidden, *([None] * 9))


def _hidden_input(
    v: torch.Tensor,
    weight: torch.Tensor,
    hidden_bias: torch.Tensor,
    visible: str = "bernoulli",
    up_scale: float = 1.0,
) -> torch.Tensor:
    """Total input ``s W v + c`` of the hidden units (``s W v + D c`` for softmax visible
    units, ``D`` the document length), shape ``(batch, n_hidden)``."""
    if visible == "softmax":
        wv = F.linear(v, weight)
        if up_scale != 1.0:
            wv = up_scale * wv
        return torch.addcmul(wv, v.sum(-1, keepdim=True), hidden_bias)
    if up_scale != 1.0:
        return up_scale * F.linear(v, weight) + hidden_bias
    return F.linear(v, weight, hidden_bias)


def sample_counts(mean: torch.Tensor) -> torch.Tensor:
    """Draw each row's ``D = round(sum(mean))`` words from ``Multinomial(D, mean / D)``.

    All rows draw ``max D`` words at once and the draws past a row's own length are dropped,
    so a batch costs one ``torch.multinomial`` call.
    """
    length = mean.sum(-1).round().long()  # (batch,)
    n_max = int(length.max()) if len(length) else 0
    counts = torch.zeros_like(mean)
    if n_max == 0:
        return counts
    words = torch.multinomial(mean.clamp_min(0) + 1e-30, n_max, replacement=True)  # (batch, n_max)
    keep = torch.arange(n_max, device=mean.device) < length[:, None]
    return counts.scatter_add_(1, words, keep.to(mean.dtype))


def _visible_energy(v: torch.Tensor, b: torch.Tensor, visible: str) -> torch.Tensor:
    if visible in ("bernoulli", "softmax"):
        return -(v @ b)
    return 0.5 * (v - b).pow(2).sum(-1)


def free_energy(
    v: torch.Tensor,
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    visible: str = "bernoulli",
    hidden: str = "bernoulli",
    hidden_input: torch.Tensor | None = None,
) -> torch.Tensor:
    """Free energy of ``v`` (see the module docstring), shape ``(batch,)``.

    ``hidden_input`` (``v W^T + c``, see :meth:`RBM.hidden_input`) may be passed in when already
    computed.
    """
    if hidden_input is None:
        x = _hidden_input(v, weight, hidden_bias, visible)
    else:
        x = hidden_input
    if hidden == "bernoulli":
        return _visible_energy(v, visible_bias, visible) - F.softplus(x).sum(-1)
    return (
        -(v @ visible_bias)
        - 0.5 * x.pow(2).sum(-1)
        + 0.5 * hidden_bias.pow(2).sum()
        - 0.5 * weight.shape[0] * _LOG_2PI
    )


def _all_binary(n: int, device) -> torch.Tensor:
    """All ``2^n`` binary vectors of length ``n``, shape ``(2^n, n)``, float64."""
    codes = torch.arange(2**n, device=device).unsqueeze(1)
    return ((codes >> torch.arange(n, device=device)) & 1).double()
