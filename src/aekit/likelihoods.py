"""Reconstruction terms by data type, shared by every model.

A decoder ends in a linear layer that outputs the *natural parameter* of the likelihood
(logits, mean, log-rate); the likelihood turns it into a per-sample negative log-likelihood
and into a reconstruction in data space. Working from natural parameters keeps the losses
numerically stable (``binary_cross_entropy_with_logits`` instead of ``log(sigmoid(.))``).

Constants that do not depend on the parameters are dropped, so a perfect Gaussian
reconstruction has loss 0 and a Poisson loss omits ``log x!``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from aekit.config import ConfigError


class Likelihood:
    """Base class: ``nll(output, x)`` per sample, ``mean(output)`` in data space."""

    name: str = ""

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of ``x`` summed over features, shape ``(batch,)``."""
        raise NotImplementedError

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """The reconstruction: the likelihood's mean given the decoder output."""
        raise NotImplementedError

    def check_data(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` when ``x`` is outside the likelihood's support."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Bernoulli(Likelihood):
    """Cross-entropy ``-sum_i x_i log p_i + (1 - x_i) log(1 - p_i)`` on logits.

    Targets may be grey levels in [0, 1] (as in Hinton & Salakhutdinov 2006), not only bits.
    """

    name = "bernoulli"

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(output)

    def check_data(self, x: torch.Tensor) -> None:
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            # A ConfigError, so that each door names the way out in its own words
            # (likelihood='gaussian' in Python, --likelihood gaussian on the command line).
            raise ConfigError(
                "",
                f"the Bernoulli likelihood needs data in [0, 1], got values in [{lo:.3g}, "
                f"{hi:.3g}]; scale the data to [0, 1] or use {{gaussian}}",
                mentions={"gaussian": ("likelihood", "gaussian")},
            )


class Gaussian(Likelihood):
    """Unit-variance Gaussian: ``0.5 * sum_i (x_i - mu_i)^2`` (half the squared error)."""

    name = "gaussian"

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (output - x).pow(2).sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return output


class Poisson(Likelihood):
    """Poisson counts on log-rates: ``sum_i exp(eta_i) - x_i eta_i`` (``log x!`` dropped)."""

    name = "poisson"

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (torch.exp(output) - x * output).sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.exp(output)

    def check_data(self, x: torch.Tensor) -> None:
        if float(x.min()) < 0.0:
            raise ValueError("the Poisson likelihood needs non-negative counts")


class Softmax(Likelihood):
    """Multinomial over features: ``-sum_i x_i log softmax(eta)_i``.

    With ``x`` a word distribution this is the document cross-entropy of Hinton &
    Salakhutdinov (2006); with counts it is the multinomial NLL up to a constant.
    """

    name = "softmax"

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return -(x * F.log_softmax(output, dim=-1)).sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return F.softmax(output, dim=-1)

    def check_data(self, x: torch.Tensor) -> None:
        if float(x.min()) < 0.0:
            raise ValueError("the softmax likelihood needs non-negative counts or probabilities")


LIKELIHOODS: dict[str, Likelihood] = {
    lik.name: lik for lik in (Bernoulli(), Gaussian(), Poisson(), Softmax())
}


def get_likelihood(name: str) -> Likelihood:
    """Look a likelihood up by name (``bernoulli``, ``gaussian``, ``poisson``, ``softmax``)."""
    try:
        return LIKELIHOODS[name]
    except KeyError:
        raise ValueError(
            f"unknown likelihood {name!r}; choose one of {sorted(LIKELIHOODS)}"
        ) from None
