"""Priors on code space: distributions an adversarial autoencoder's codes are matched to.

Makhzani et al., "Adversarial Autoencoders" (ICLR 2016 workshop, arXiv:1511.05644), Fig. 2 and
Sec. 2: any distribution one can sample from can be imposed on the codes; they show a
standard Gaussian, a mixture of 10 two-dimensional Gaussians arranged on a ring, and a swiss
roll. Each prior here is a sampler ``prior(n, generator) -> (n, code_dim)``; any callable with
that signature can stand in for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

PriorSampler = Callable[[int, torch.Generator | None], torch.Tensor]


class StandardGaussian:
    """``N(0, I)`` in ``dim`` dimensions."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def __call__(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.dim, generator=generator)


class GaussianRing:
    """A mixture of ``n_components`` equally weighted 2-D Gaussians on a circle.

    Component ``k`` sits at angle ``2 pi k / n_components`` and ``radius`` from the origin and
    is stretched along the radius (standard deviations ``radial_std`` and ``tangential_std``),
    the shape of Makhzani et al.'s Fig. 2 (their exact widths are not given).
    """

    dim = 2

    def __init__(
        self,
        n_components: int = 10,
        radius: float = 4.0,
        radial_std: float = 0.5,
        tangential_std: float = 0.1,
    ) -> None:
        self.n_components = n_components
        self.radius = radius
        self.radial_std = radial_std
        self.tangential_std = tangential_std

    def sample_with_components(
        self, n: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples ``(n, 2)`` and the component each came from ``(n,)``."""
        k = torch.randint(self.n_components, (n,), generator=generator)
        angle = 2 * math.pi * k.double() / self.n_components
        radial = self.radius + self.radial_std * torch.randn(n, generator=generator).double()
        tangential = self.tangential_std * torch.randn(n, generator=generator).double()
        cos, sin = torch.cos(angle), torch.sin(angle)
        x = radial * cos - tangential * sin
        y = radial * sin + tangential * cos
        return torch.stack([x, y], 1).float(), k

    def __call__(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_with_components(n, generator)[0]


class SwissRoll:
    """A 2-D swiss roll: ``r (cos r, sin r) / scale`` with ``r = turns * 2 pi * sqrt(u)``,
    ``u ~ U(0, 1)`` (uniform density along the spiral's area), plus isotropic noise."""

    dim = 2

    def __init__(self, turns: float = 1.5, scale: float = 2.0, noise: float = 0.1) -> None:
        self.turns = turns
        self.scale = scale
        self.noise = noise

    def __call__(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand(n, generator=generator).double()
        r = self.turns * 2 * math.pi * torch.sqrt(u)
        pts = torch.stack([r * torch.cos(r), r * torch.sin(r)], 1) / self.scale
        pts = pts + self.noise * torch.randn(n, 2, generator=generator).double()
        return pts.float()


PRIORS: dict[str, Callable[[int], PriorSampler]] = {
    "gaussian": StandardGaussian,
    "gaussian_ring": lambda dim: GaussianRing(),
    "swiss_roll": lambda dim: SwissRoll(),
}
TWO_D_ONLY = ("gaussian_ring", "swiss_roll")


def make_prior(name: str, dim: int) -> PriorSampler:
    """The registered prior ``name`` on a ``dim``-dimensional code space."""
    if name not in PRIORS:
        raise ValueError(
            f"unknown prior {name!r}; choose one of {sorted(PRIORS)} or pass a callable "
            "prior(n, generator) -> (n, code_dim) tensor"
        )
    if name in TWO_D_ONLY and dim != 2:
        raise ValueError(f"the {name} prior lives in 2-D; set the code size to 2 (got {dim})")
    return PRIORS[name](dim)
