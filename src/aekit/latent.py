"""Stochastic Gaussian codes: the encoder head, reparameterised sampling and the analytic KL.

Shared by every model whose code is a distribution rather than a point: the deep variational
information bottleneck (Alemi et al., ICLR 2017), the IB autoencoder and the VAE (Kingma &
Welling, ICLR 2014). The encoder's last layer outputs ``2 * code_dim`` numbers per sample; this
module turns them into ``q(z|x) = N(mu, diag(exp(log_var)))``.

Two parameterisations of the scale:

- ``"log_var"`` (Kingma & Welling): the second half is ``log sigma^2``, clamped to
  ``LOG_VAR_RANGE``. Without the clamp one overflowing unit (``exp(log_var) = inf``) turns the
  KL term into ``inf - inf = NaN`` and the run dies; ``exp(20)`` is a variance of 4.9e8, far
  beyond any useful posterior, and ``exp(-30)`` a standard deviation of 3e-7, below float32
  resolution of a unit-scale code. Gradients stop at the bounds, which pulls nothing back, but
  the bounds are never near a trained posterior.
- ``"softplus"`` (Alemi et al., Sec. 4.1): ``sigma = softplus(raw - 5)``, which starts every
  posterior narrow (sigma ~ 0.007) and keeps sigma positive without an exponential.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_VAR_RANGE = (-30.0, 20.0)
SCALE_PARAMETERIZATIONS = ("log_var", "softplus")


def gaussian_kl_standard(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(log_var)) || N(0, I))`` in nats, summed over the last axis.

    ``0.5 * sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1)`` (Kingma & Welling, Appendix B).
    Shape ``(batch,)`` for inputs ``(batch, code_dim)``.
    """
    return 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1.0).sum(-1)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``log N(z; mu, diag exp(log_var))`` summed over the last axis (nats)."""
    return -0.5 * ((z - mu).pow(2) * torch.exp(-log_var) + log_var + math.log(2 * math.pi)).sum(-1)


def reparameterize(
    mu: torch.Tensor, log_var: torch.Tensor, n_samples: int | None = None
) -> torch.Tensor:
    """Draw ``z = mu + sigma * eps``; with ``n_samples`` the result gains a leading axis.

    Returns ``(batch, code_dim)`` or ``(n_samples, batch, code_dim)``.
    """
    std = torch.exp(0.5 * log_var)
    shape = mu.shape if n_samples is None else (n_samples, *mu.shape)
    return mu + std * torch.randn(shape, dtype=mu.dtype, device=mu.device)


class GaussianCode(nn.Module):
    """Split an encoder's ``(batch, 2 * code_dim)`` output into ``mu`` and ``log_var``.

    Parameters
    ----------
    code_dim : int
    parameterization : {"log_var", "softplus"}
        See the module docstring.
    softplus_offset : float
        The ``5`` of ``softplus(raw - 5)``.
    """

    def __init__(
        self, code_dim: int, parameterization: str = "log_var", softplus_offset: float = 5.0
    ) -> None:
        super().__init__()
        if parameterization not in SCALE_PARAMETERIZATIONS:
            raise ValueError(
                f"unknown scale parameterization {parameterization!r}; choose one of "
                f"{list(SCALE_PARAMETERIZATIONS)}"
            )
        self.code_dim = code_dim
        self.parameterization = parameterization
        self.softplus_offset = softplus_offset

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # In fp32 even under bf16 autocast: bf16's 8-bit mantissa puts mu + sigma * eps on a
        # 2^-7 grid at |mu| ~ 1, which swallows a narrow posterior's noise, and the KL terms
        # cancel badly at that precision. The decoder recasts the sample.
        h = h.float()
        mu, raw = h[..., : self.code_dim], h[..., self.code_dim :]  # (batch, code_dim) each
        if self.parameterization == "softplus":
            # + tiny: softplus underflows to 0 for raw << 0, and log(0) would be -inf.
            std = F.softplus(raw - self.softplus_offset) + 1e-8
            log_var = 2.0 * torch.log(std)
        else:
            log_var = raw.clamp(*LOG_VAR_RANGE)
        return mu, log_var
