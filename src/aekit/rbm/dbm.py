"""Deep Boltzmann machines with two hidden layers (Salakhutdinov & Hinton, AISTATS 2009,
"Deep Boltzmann Machines"), with the AIS estimate of Salakhutdinov & Murray (ICML 2008).

Energy of binary ``v``, ``h1``, ``h2`` (``W1`` is ``(n_h1, n_v)``, ``W2`` is ``(n_h2, n_h1)``)::

    E(v, h1, h2) = -b.v - c1.h1 - c2.h2 - h1.W1 v - h2.W2 h1

Learning (the paper's Algorithm 1): the data-dependent expectations come from mean-field
``q(h1) q(h2)`` (fixed-point updates ``mu1 = sigmoid(W1 v + W2^T mu2 + c1)``,
``mu2 = sigmoid(W2 mu1 + c2)``), the model's from persistent Gibbs chains. The gradient of
``mean E(v, mu) - mean E(chains)`` with the states held fixed is exactly that update, so the
shared :class:`~aekit.train.Trainer` trains a DBM like any other model.

Pretraining (Section 3.1 of the paper): the bottom RBM sees its visible layer twice when it
infers ``h1`` (``up_scale=2``); the top RBM sees its hidden layer twice when it reconstructs
``h1`` (``down_scale=2``), so that the doubled inputs of the stack match what each layer of
the DBM receives from both neighbours. :func:`aekit.train.pretrain_dbm` does this.

Evaluation: ``h1`` separates ``v`` from ``h2``, so both sum out in closed form and
``log p*(h1) = c1.h1 + sum softplus(b + W1^T h1) + sum softplus(c2 + W2 h1)``. AIS anneals that
marginal from the uniform distribution (``beta = 0``) to the DBM; exact enumeration of ``h1``
checks it on small models. The test log-likelihood is bounded below by the mean-field
variational bound ``E_q[-E(v, h)] + H(q) - log Z``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aekit.models.base import Model, apply_batched
from aekit.rbm.rbm import bernoulli
from aekit.registry import register_model


@dataclass
class DBMConfig:
    """Sizes and training settings of a two-hidden-layer :class:`DBM`.

    Parameters
    ----------
    n_visible, n_hidden1, n_hidden2 : int
        Units in the visible layer and the two hidden layers.
    n_chains : int
        Persistent Gibbs chains for the negative phase.
    mean_field_steps : int
        Fixed-point iterations of the mean-field positive phase.
    gibbs_steps : int
        Gibbs sweeps of the chains per parameter update.
    weight_decay : float
        Weight cost on ``W1`` and ``W2``.
    """

    n_visible: int = 784
    n_hidden1: int = 500
    n_hidden2: int = 1000
    n_chains: int = 100
    mean_field_steps: int = 10
    gibbs_steps: int = 1
    weight_decay: float = 0.0002

    def __post_init__(self) -> None:
        for name in ("n_visible", "n_hidden1", "n_hidden2", "n_chains", "mean_field_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.gibbs_steps < 1:
            raise ValueError("gibbs_steps must be >= 1")
        if self.weight_decay < 0:
            raise ValueError("weight_decay must be >= 0")


@register_model("dbm")
class DBM(Model):
    """A two-hidden-layer deep Boltzmann machine of binary units."""

    config_class = DBMConfig
    # loss() is an energy gap with states held fixed: its value is not the objective.
    supports_lbfgs = False
    # Buffers: the persistent chains, (0, width) until training starts them.
    chain_v: torch.Tensor
    chain_h1: torch.Tensor
    chain_h2: torch.Tensor

    def __init__(self, config: DBMConfig | None = None, **kwargs) -> None:
        super().__init__()
        if config is None:
            config = DBMConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a config or keyword arguments, not both")
        self.config = config
        c = config
        self.w1 = nn.Parameter(torch.randn(c.n_hidden1, c.n_visible) * 0.01)
        self.w2 = nn.Parameter(torch.randn(c.n_hidden2, c.n_hidden1) * 0.01)
        self.b = nn.Parameter(torch.zeros(c.n_visible))
        self.c1 = nn.Parameter(torch.zeros(c.n_hidden1))
        self.c2 = nn.Parameter(torch.zeros(c.n_hidden2))
        # Persistent chains (v, h1, h2), saved with the model so a resumed run continues them.
        self.register_buffer("chain_v", torch.zeros(0, c.n_visible))
        self.register_buffer("chain_h1", torch.zeros(0, c.n_hidden1))
        self.register_buffer("chain_h2", torch.zeros(0, c.n_hidden2))

    # Conditionals ------------------------------------------------------------------------------

    def p_h1(self, v: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(F.linear(v, self.w1, self.c1) + h2 @ self.w2)  # (batch, n_h1)

    def p_v(self, h1: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(h1 @ self.w1 + self.b)  # (batch, n_v)

    def p_h2(self, h1: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(F.linear(h1, self.w2, self.c2))  # (batch, n_h2)

    def energy(self, v: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        """``E(v, h1, h2)`` (also of mean-field states), shape ``(batch,)``."""
        return -(
            v @ self.b
            + h1 @ self.c1
            + h2 @ self.c2
            + (F.linear(v, self.w1) * h1).sum(-1)
            + (F.linear(h1, self.w2) * h2).sum(-1)
        )

    @torch.no_grad()
    def mean_field(self, v: torch.Tensor, steps: int | None = None):
        """Mean-field ``(mu1, mu2)`` for ``v``, started from the doubled bottom-up pass."""
        steps = steps or self.config.mean_field_steps
        # The pretraining RBM's doubled bottom-up input (bias not doubled).
        mu1 = torch.sigmoid(2 * F.linear(v, self.w1) + self.c1)
        mu2 = self.p_h2(mu1)
        for _ in range(steps):
            mu1 = self.p_h1(v, mu2)
            mu2 = self.p_h2(mu1)
        return mu1, mu2

    @torch.no_grad()
    def gibbs(self, v, h1, h2, steps: int = 1):
        """Alternating Gibbs sweeps: ``h1`` given its neighbours, then ``v`` and ``h2``."""
        for _ in range(steps):
            h1 = bernoulli(self.p_h1(v, h2))
            v = bernoulli(self.p_v(h1))
            h2 = bernoulli(self.p_h2(h1))
        return v, h1, h2

    # Training ----------------------------------------------------------------------------------

    def check_data(self, x: torch.Tensor, name: str = "data") -> None:
        n = self.config.n_visible
        if x.ndim != 2 or x.shape[1] != n:
            raise ValueError(f"{name} has shape {tuple(x.shape)}; the DBM has {n} visible units")
        if float(x.min()) < 0 or float(x.max()) > 1:
            raise ValueError(f"{name} must lie in [0, 1] for the DBM's binary visible units")

    def loss(self, v: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Surrogate whose gradient is the mean-field / persistent-chain DBM update."""
        cfg = self.config
        mu1, mu2 = self.mean_field(v)
        with torch.no_grad():
            if self.chain_v.shape[0] != cfg.n_chains:
                idx = torch.randint(len(v), (cfg.n_chains,), device=v.device)
                self.chain_v = bernoulli(v[idx])
                up = torch.sigmoid(2 * F.linear(self.chain_v, self.w1) + self.c1)
                self.chain_h1 = bernoulli(up)
                self.chain_h2 = bernoulli(self.p_h2(self.chain_h1))
            self.chain_v, self.chain_h1, self.chain_h2 = self.gibbs(
                self.chain_v, self.chain_h1, self.chain_h2, cfg.gibbs_steps
            )
        gap = (
            self.energy(v, mu1, mu2).mean()
            - self.energy(self.chain_v, self.chain_h1, self.chain_h2).mean()
        )
        loss = gap
        if cfg.weight_decay > 0:
            loss = loss + 0.5 * cfg.weight_decay * (self.w1.pow(2).sum() + self.w2.pow(2).sum())
        with torch.no_grad():
            recon = (self.p_v(mu1) - v).pow(2).sum(-1).mean()
        return loss, {"energy_gap": gap.detach(), "recon": recon}

    @torch.no_grad()
    def evaluate_batch(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        """Squared error of the mean-field reconstruction ``E[v | mu1]``."""
        mu1, _ = self.mean_field(v)
        return {"recon": (self.p_v(mu1) - v).pow(2).sum(-1).mean()}

    # Partition function and likelihood --------------------------------------------------------

    def _log_p_star_h1(self, h1: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
        """log of the unnormalized marginal of ``h1`` at inverse temperature ``beta``."""
        w1, w2 = self.w1.double(), self.w2.double()
        b, c1, c2 = self.b.double(), self.c1.double(), self.c2.double()
        return (
            beta * (h1 @ c1)
            + F.softplus(beta * (h1 @ w1 + b)).sum(-1)
            + F.softplus(beta * F.linear(h1, w2, c2)).sum(-1)
        )

    @torch.no_grad()
    def log_partition_exact(self, max_units: int = 22) -> float:
        """``log Z`` by enumerating ``h1`` (at most ``max_units`` units)."""
        n = self.config.n_hidden1
        if n > max_units:
            raise ValueError(f"exact log Z enumerates h1: {n} units is more than {max_units}")
        dev = self.w1.device
        codes = torch.arange(2**n, device=dev).unsqueeze(1)
        h1 = ((codes >> torch.arange(n, device=dev)) & 1).double()
        return float(torch.logsumexp(self._log_p_star_h1(h1), 0))

    @torch.no_grad()
    def log_partition_ais(
        self, n_betas: int = 20000, n_runs: int = 100, seed: int = 0
    ) -> tuple[float, float]:
        """AIS estimate of ``log Z`` and its standard error (delta method).

        The base distribution (``beta = 0``) is uniform over all units:
        ``log Z_0 = (n_v + n_h1 + n_h2) log 2``.
        """
        cfg = self.config
        gen = torch.Generator(device=self.w1.device).manual_seed(seed)
        w1, w2 = self.w1.double(), self.w2.double()
        b, c1, c2 = self.b.double(), self.c1.double(), self.c2.double()
        betas = torch.linspace(0, 1, n_betas, dtype=torch.float64)
        h1 = bernoulli(torch.full((n_runs, cfg.n_hidden1), 0.5, dtype=torch.float64), generator=gen)
        log_w = torch.zeros(n_runs, dtype=torch.float64)
        for k in range(1, n_betas):
            beta_prev, beta = betas[k - 1], betas[k]
            log_w += self._log_p_star_h1(h1, beta) - self._log_p_star_h1(h1, beta_prev)
            # A Gibbs sweep that leaves the beta-tempered joint invariant.
            v = bernoulli(torch.sigmoid(beta * (h1 @ w1 + b)), generator=gen)
            h2 = bernoulli(torch.sigmoid(beta * F.linear(h1, w2, c2)), generator=gen)
            h1 = bernoulli(torch.sigmoid(beta * (F.linear(v, w1, c1) + h2 @ w2)), generator=gen)
        log_z0 = (cfg.n_visible + cfg.n_hidden1 + cfg.n_hidden2) * math.log(2)
        log_mean_w = float(torch.logsumexp(log_w, 0)) - math.log(n_runs)
        w = torch.exp(log_w - log_w.max())
        sd = float(w.std() / (w.mean() * math.sqrt(n_runs)))
        return log_z0 + log_mean_w, sd

    @torch.no_grad()
    def variational_lower_bound(self, v: torch.Tensor, log_z: float) -> torch.Tensor:
        """Mean-field lower bound on ``log p(v)`` per sample: ``-E(v, mu) + H(q) - log Z``."""
        mu1, mu2 = self.mean_field(v)

        def entropy(mu: torch.Tensor) -> torch.Tensor:
            mu = mu.double().clamp(1e-12, 1 - 1e-12)
            return -(mu * mu.log() + (1 - mu) * (1 - mu).log()).sum(-1)

        return -self.energy(v, mu1, mu2).double() + entropy(mu1) + entropy(mu2) - log_z

    @torch.no_grad()
    def log_prob_exact(self, v: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(v)`` by enumerating ``h1`` (small models only), per sample."""
        n = self.config.n_hidden1
        dev = self.w1.device
        codes = torch.arange(2**n, device=dev).unsqueeze(1)
        h1 = ((codes >> torch.arange(n, device=dev)) & 1).double()  # (2^n, n_h1)
        v = v.double()
        # sum over h2 in closed form: logsumexp over h1 of b.v + c1.h1 + h1.W1 v + softplus terms
        terms = (
            (v @ self.b.double())[:, None]
            + (h1 @ self.c1.double())[None]
            + F.linear(v, self.w1.double()) @ h1.T
            + F.softplus(F.linear(h1, self.w2.double(), self.c2.double())).sum(-1)[None]
        )  # (batch, 2^n)
        return torch.logsumexp(terms, 1) - self.log_partition_exact()

    # numpy conveniences ------------------------------------------------------------------------

    def transform(self, x, batch_size: int = 4096) -> np.ndarray:
        """Mean-field top-layer codes ``mu2`` of an array."""
        return apply_batched(lambda v: self.mean_field(v)[1], x, batch_size, self.device)

    @torch.no_grad()
    def sample(self, n_samples: int, n_gibbs: int = 1000, seed: int = 0) -> torch.Tensor:
        """Visible means after ``n_gibbs`` Gibbs sweeps from random states (seeded)."""
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            c = self.config
            v = bernoulli(torch.full((n_samples, c.n_visible), 0.5, device=self.device))
            h2 = bernoulli(torch.full((n_samples, c.n_hidden2), 0.5, device=self.device))
            h1 = bernoulli(self.p_h1(v, h2))
            v, h1, h2 = self.gibbs(v, h1, h2, n_gibbs)
            return self.p_v(h1)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        # The chains change shape once training starts; resize before loading.
        for name in ("chain_v", "chain_h1", "chain_h2"):
            if name in state_dict:
                current = getattr(self, name)
                shape = state_dict[name].shape
                setattr(self, name, torch.empty(shape, dtype=current.dtype, device=current.device))
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
