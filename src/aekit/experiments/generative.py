"""The report's generative section: what a trained VAE or adversarial autoencoder has learnt.

For a model that can ``sample`` (:class:`aekit.models.VAE`,
:class:`aekit.models.AdversarialAutoencoder`) and a data set, one
:class:`aekit.viz.report.Section` with

- a table: held-out metrics from the model's own ``evaluate_batch`` (ELBO terms, reconstruction
  NLL), the squared error per sample, the MMD^2 between the test codes and prior draws, and for
  a VAE the importance-weighted log-likelihood estimate (Burda et al. 2016);
- figures: samples from the prior, test reconstructions, code histograms against the prior,
  and for a 2-D code the codes over the prior's density coloured by label (Makhzani et al.'s
  Fig. 2) and, for a Gaussian prior, the decoded manifold over the prior's quantiles (Kingma &
  Welling's Fig. 4); an interpolation between test images.

A VAE whose codes have collapsed (the posterior equal to the prior, so the decoder ignores
the code: Bowman et al., CoNLL 2016) is named in the section's first paragraph and as a
:class:`PosteriorCollapseWarning`: a held-out KL under :data:`COLLAPSED_KL` nats, or no active
unit (a unit is active when its posterior mean varies over the data by more than 0.01; Burda
et al., ICLR 2016), with the remedies aekit offers, KL warm-up and a smaller beta.

``aekit report MODEL --data NAME`` writes it as a page; ``write_generative_report`` from Python.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aekit.data import Dataset
from aekit.evaluate import mean_squared_error_per_sample, mmd2
from aekit.models import VAE, AdversarialAutoencoder
from aekit.models.base import seeded_rng
from aekit.train import TrainConfig, Trainer
from aekit.viz.generative import (
    code_histograms,
    codes_over_prior,
    interpolation_figure,
    latent_manifold,
    reconstruction_figure,
    sample_figure,
)
from aekit.viz.report import ReportImage, Section, write_report

#: A held-out KL(q(z|x) || p(z)) under this many nats per sample: the codes carry almost nothing.
COLLAPSED_KL = 1.0
#: A code unit is active when its posterior mean's variance over the data exceeds this
#: (Burda, Grosse & Salakhutdinov, ICLR 2016, section 5.2).
ACTIVE_UNIT_VARIANCE = 0.01


class PosteriorCollapseWarning(UserWarning):
    """A VAE's codes carry (almost) no information about its inputs."""


def active_units(mu: np.ndarray, threshold: float = ACTIVE_UNIT_VARIANCE) -> np.ndarray:
    """Which code units are active: ``Var_x(E[z_u | x]) > threshold`` over the rows whose
    posterior means are ``mu`` (``(n_rows, code_dim)``); a boolean mask per unit."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or len(mu) < 2:
        raise ValueError(f"active_units needs posterior means of 2 rows or more, got {mu.shape}")
    return mu.var(axis=0) > threshold


def collapse_message(kl: float, n_active: int, code_dim: int) -> str | None:
    """What to tell the user about a VAE with held-out KL ``kl`` (nats per sample) and
    ``n_active`` of ``code_dim`` active units, or None when the codes have not collapsed."""
    if kl >= COLLAPSED_KL and n_active > 0:
        return None
    return (
        f"The codes have collapsed: the held-out KL(q(z|x) || p(z)) is {kl:.3g} nats per sample "
        f"and {n_active} of {code_dim} code units are active (posterior means that vary over the "
        f"data by more than {ACTIVE_UNIT_VARIANCE}), so the decoder draws its outputs with "
        "little regard to the code. Retrain with KL warm-up (kl_warmup_steps, e.g. 10000: "
        "--kl-warmup-steps in aekit train), which lets the code carry information before the "
        "KL term weighs in, or a smaller beta (e.g. 0.5)."
    )


def prior_draws(model, n: int, seed: int = 0) -> np.ndarray:
    """``n`` codes from the model's prior, ``(n, code_dim)`` (the style part for clusters)."""
    g = torch.Generator().manual_seed(seed)
    if isinstance(model, AdversarialAutoencoder):
        return model.prior_sampler(n, g).numpy()
    return torch.randn(n, model.config.code_dim, generator=g).numpy()


def continuous_codes(model, x: np.ndarray) -> np.ndarray:
    """The continuous codes matched to the prior: posterior means, or the AAE's style."""
    if isinstance(model, AdversarialAutoencoder):
        return model.style(x)
    return model.transform(x)


def generative_section(
    model,
    data: Dataset,
    n_samples: int = 64,
    iw_samples: int = 500,
    max_eval: int = 2000,
    seed: int = 0,
) -> Section:
    """The generative section for ``model`` on ``data``'s test split (see module docstring).

    ``max_eval`` test rows (a seeded subset) go into the MMD and the log-likelihood estimate,
    which cost ``O(n^2)`` and ``O(n * iw_samples)``.
    """
    if not hasattr(model, "sample"):
        raise TypeError(
            f"a {type(model).__name__} cannot sample; the generative section needs a VAE or an "
            "adversarial autoencoder"
        )
    if getattr(model.config, "n_classes", 0) and isinstance(model, VAE):
        raise ValueError(
            "the generative report covers unconditional models; sample a conditional VAE "
            "with `aekit sample --label`"
        )
    x = data.x_test if len(data.x_test) else data.x_train
    labels = data.y_test if len(data.x_test) else data.y_train
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(x))[:max_eval]
    metrics, codes = _metrics(model, x, pick, iw_samples, seed)
    collapse = None
    if isinstance(model, VAE) and len(codes) >= 2:
        n_active = int(active_units(codes).sum())
        metrics["active code units (Burda et al. 2016)"] = f"{n_active} of {codes.shape[1]}"
        collapse = collapse_message(metrics["test kl"], n_active, codes.shape[1])
        if collapse is not None:
            warnings.warn(collapse, PosteriorCollapseWarning, stacklevel=2)
    table = [{"measure": k, "value": v} for k, v in metrics.items()]
    images = _figures(model, x, labels, pick, codes, data.image_shape, n_samples, seed)
    name = type(model).__name__
    text = (
        f"A {name} with layers {'-'.join(map(str, model.config.layers))} on {data.name} "
        f"({len(x)} test rows; MMD and log-likelihood on {len(pick)} of them)."
    )
    paragraphs = [text] if collapse is None else [collapse, text]
    return Section(title=f"Generative: {name}", text=paragraphs, table=table, images=images)


def _metrics(
    model, x: np.ndarray, pick: np.ndarray, iw_samples: int, seed: int
) -> tuple[dict[str, Any], np.ndarray]:
    """The held-out measures of the section's table, and the test rows' continuous codes.
    The rows ``pick`` go into the MMD and the log-likelihood estimate."""
    x_eval = x[pick]
    scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
    with seeded_rng(seed, model.device):  # a VAE's held-out ELBO draws one z per row
        metrics: dict[str, Any] = {f"test {k}": v for k, v in scorer.evaluate(x).items()}
    metrics["test squared error per sample"] = mean_squared_error_per_sample(
        x, model.reconstruct(x)
    )
    codes = continuous_codes(model, x)
    prior = prior_draws(model, len(x_eval), seed + 1)
    metrics["MMD^2(codes, prior)"] = mmd2(codes[pick], prior)
    if isinstance(model, VAE) and iw_samples > 0:
        ll = model.log_likelihood(x_eval, k=iw_samples, seed=seed)
        metrics[f"test log-likelihood, IWAE k={iw_samples} (nats)"] = float(ll.mean())
    return metrics, codes


def _figures(
    model,
    x: np.ndarray,
    labels: np.ndarray | None,
    pick: np.ndarray,
    codes: np.ndarray,
    shape: tuple[int, int] | None,
    n_samples: int,
    seed: int,
) -> list[ReportImage]:
    """Samples, reconstructions, the 2-D code map and manifold, code histograms and an
    interpolation, as far as the model and the data's image shape allow."""
    images: list[ReportImage] = []
    if shape is not None:
        images.append(
            ReportImage(
                sample_figure(model.sample(n_samples, seed=seed), shape),
                f"{n_samples} samples: decoder means at prior draws (seed {seed})",
            )
        )
        # Random rows: some data sets (this project's MNIST copy) are sorted by class.
        images.append(
            ReportImage(reconstruction_figure(model, x[pick[:10]], shape), "test reconstructions")
        )
    if codes.shape[1] == 2:
        images.append(
            ReportImage(
                codes_over_prior(codes, labels, prior_draws(model, 20_000, seed + 2)),
                "test codes (coloured by label) over the prior's density",
            )
        )
        gaussian_prior = not isinstance(model, AdversarialAutoencoder) or (
            model.config.prior == "gaussian" and not model.config.n_clusters
        )
        if shape is not None and gaussian_prior:
            images.append(
                ReportImage(
                    latent_manifold(model, shape), "decoded manifold over the prior's quantiles"
                )
            )
    images.append(
        ReportImage(
            code_histograms(codes, prior_draws(model, len(codes), seed + 3)),
            "each code unit's histogram over the test set, against the prior",
        )
    )
    if shape is not None and not getattr(model.config, "n_clusters", 0):
        images.append(
            ReportImage(
                interpolation_figure(model, x[pick[10:14]], x[pick[14:18]], shape),
                "interpolation between test images' codes",
            )
        )
    return images


def write_generative_report(
    model, data: Dataset, path: str | Path, title: str | None = None, **kwargs
) -> Path:
    """Write ``generative_section(model, data, **kwargs)`` as a self-contained HTML page."""
    section = generative_section(model, data, **kwargs)
    return write_report(path, title or f"aekit: {type(model).__name__} on {data.name}", [section])
