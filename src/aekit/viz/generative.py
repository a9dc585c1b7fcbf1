"""Figures of generative autoencoders: samples, reconstructions, the latent manifold, interpolation.

After Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014): Fig. 4 shows, for a 2-D
latent space, the decoder's means at codes on a grid of the prior's quantiles ("linearly spaced
coordinates on the unit square were transformed through the inverse CDF of the Gaussian"), and
Fig. 5 samples from the prior.

The functions take any model with the numpy surface of :class:`aekit.models.base.EncoderDecoder`
(``transform`` = batched ``encode``, ``inverse_transform`` = batched ``decode``, ``reconstruct``),
so the VAE and the adversarial autoencoder share them. Like :mod:`aekit.viz.figures`, each
returns a :class:`matplotlib.figure.Figure` built without ``pyplot``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm

from aekit.viz.figures import DPI, reconstruction_grid

__all__ = [
    "code_histograms",
    "codes_over_prior",
    "image_grid",
    "interpolation_codes",
    "interpolation_figure",
    "latent_manifold",
    "manifold_codes",
    "reconstruction_figure",
    "sample_figure",
    "tile_images",
]


def _shape(image_shape: Sequence[int], n_features: int) -> tuple[int, int]:
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 2 or shape[0] * shape[1] != n_features:
        raise ValueError(
            f"image_shape {tuple(image_shape)} does not hold {n_features} pixels; pass "
            "(height, width) with height * width equal to the number of features"
        )
    return shape


def tile_images(
    images: np.ndarray, image_shape: Sequence[int], n_cols: int, pad: int = 1
) -> np.ndarray:
    """Tile flattened images row-major into one 2-D array, ``pad`` blank pixels between them.

    Parameters
    ----------
    images : ndarray of shape (n_images, n_pixels)
    image_shape : (height, width)
    n_cols : int
        Images per row; the last row is padded with blanks.

    Returns
    -------
    ndarray of shape (n_rows * (height + pad) - pad, n_cols * (width + pad) - pad)
        Blank pixels are NaN, which ``imshow`` leaves transparent.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or len(images) == 0:
        raise ValueError(
            f"images must be a non-empty (n_images, n_pixels) array, got {images.shape}"
        )
    if n_cols < 1:
        raise ValueError(f"n_cols must be >= 1, got {n_cols}")
    h, w = _shape(image_shape, images.shape[1])
    n_rows = -(-len(images) // n_cols)
    out = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img.reshape(
            h, w
        )
    return out


def image_grid(
    images: np.ndarray,
    image_shape: Sequence[int],
    n_cols: int | None = None,
    title: str | None = None,
    cell_inches: float = 0.42,
) -> Figure:
    """Flattened images as one mosaic (black ink on white, grey levels in [0, 1]).

    Parameters
    ----------
    images : ndarray of shape (n_images, n_pixels)
    image_shape : (height, width)
    n_cols : int, optional
        Images per row (default: the square root of the count, rounded up).
    title : str, optional

    Returns
    -------
    Figure
        One axes holding the mosaic.
    """
    images = np.asarray(images)
    if n_cols is None:
        n_cols = int(np.ceil(np.sqrt(max(len(images), 1))))
    mosaic = tile_images(images, image_shape, n_cols)
    n_rows = -(-len(images) // n_cols)
    fig = Figure(
        figsize=(cell_inches * n_cols + 0.2, cell_inches * n_rows + (0.45 if title else 0.2)),
        dpi=DPI,
    )
    ax = fig.add_axes((0.02, 0.02, 0.96, 1 - (0.4 if title else 0.1) / fig.get_figheight()))
    ax.imshow(mosaic, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def sample_figure(
    samples: np.ndarray, image_shape: Sequence[int], title: str = "samples from the prior"
) -> Figure:
    """Samples from a generative model (e.g. ``vae.sample(64, seed=0)``) as an image mosaic."""
    return image_grid(samples, image_shape, title=title)


def reconstruction_figure(
    model, x: np.ndarray, image_shape: Sequence[int], n: int = 10, title: str | None = None
) -> Figure:
    """Test images above their reconstructions by ``model`` (``model.reconstruct``).

    Returns
    -------
    Figure
        Two rows of ``n`` images (:func:`aekit.viz.figures.reconstruction_grid`).
    """
    x = np.asarray(x)[:n]
    rows = {"data": x, "reconstruction": model.reconstruct(x)}
    return reconstruction_grid(rows, image_shape, n=n, title=title)


def manifold_codes(n: int = 20) -> np.ndarray:
    """Codes on an ``n x n`` grid of the standard normal's quantiles, ``(n * n, 2)``.

    The quantile levels ``(i + 0.5) / n`` are evenly spaced in (0, 1) and never reach 0 or 1,
    where ``norm.ppf`` is infinite. Row-major in image order: the first row of the mosaic is the
    largest ``z_2`` (so the picture reads like a coordinate plane), ``z_1`` grows along a row.
    """
    if n < 2:
        raise ValueError(f"the manifold grid needs n >= 2 points per axis, got {n}")
    q = norm.ppf((np.arange(n) + 0.5) / n)  # (n,) increasing
    z1, z2 = np.meshgrid(q, q[::-1])  # rows: z2 decreasing; columns: z1 increasing
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def latent_manifold(
    model,
    image_shape: Sequence[int],
    n: int = 20,
    title: str | None = "decoded manifold over the prior's quantiles",
) -> Figure:
    """Kingma & Welling's Fig. 4: decoded means over a grid of a 2-D prior's quantiles.

    Parameters
    ----------
    model : EncoderDecoder
        Its code must be 2-D; ``model.inverse_transform`` decodes the grid.
    image_shape : (height, width)
    n : int
        Grid points per axis.

    Returns
    -------
    Figure
        An ``n x n`` mosaic; horizontal is ``z_1``, vertical ``z_2`` (up is larger).
    """
    code_dim = getattr(getattr(model, "config", None), "code_dim", 2)
    if code_dim != 2:
        raise ValueError(
            f"the latent manifold needs a 2-D code, but this model's code_dim is {code_dim}; "
            "train a model whose layer spec ends in 2 (e.g. '784-200-200-2')"
        )
    decoded = model.inverse_transform(manifold_codes(n).astype(np.float32))
    return image_grid(decoded, image_shape, n_cols=n, title=title, cell_inches=0.3)


def interpolation_codes(z_start: np.ndarray, z_end: np.ndarray, n_steps: int) -> np.ndarray:
    """Codes on the segments from ``z_start[i]`` to ``z_end[i]``: ``(n_pairs * n_steps, code_dim)``.

    Row-major: pair ``i``'s ``n_steps`` codes, endpoints included, then pair ``i + 1``'s.
    """
    t = np.linspace(0.0, 1.0, n_steps)[None, :, None]  # (1, n_steps, 1)
    z = (1 - t) * z_start[:, None, :] + t * z_end[:, None, :]  # (pairs, n_steps, code_dim)
    return z.reshape(-1, z_start.shape[1])


def interpolation_figure(
    model,
    x_start: np.ndarray,
    x_end: np.ndarray,
    image_shape: Sequence[int],
    n_steps: int = 10,
    title: str | None = "interpolation between posterior means",
) -> Figure:
    """Rows of decoded codes on the line between two images' codes (the posterior means).

    Parameters
    ----------
    model : EncoderDecoder
        ``transform`` gives the codes, ``inverse_transform`` decodes them.
    x_start, x_end : ndarray of shape (n_pairs, n_pixels) or (n_pixels,)
        The images at the two ends of each row.
    n_steps : int
        Decoded codes per row, the two ends included.

    Returns
    -------
    Figure
        One row per pair: the start image, ``n_steps`` decodings, the end image.
    """
    x_start, x_end = np.atleast_2d(x_start), np.atleast_2d(x_end)
    if x_start.shape != x_end.shape:
        raise ValueError(
            f"x_start {x_start.shape} and x_end {x_end.shape} must pair up image by image; pass "
            "arrays of the same shape"
        )
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2 (the two ends), got {n_steps}")
    z = interpolation_codes(model.transform(x_start), model.transform(x_end), n_steps)
    decoded = model.inverse_transform(z.astype(np.float32)).reshape(len(x_start), n_steps, -1)
    rows = np.concatenate([x_start[:, None], decoded, x_end[:, None]], axis=1)
    return image_grid(
        rows.reshape(-1, rows.shape[-1]), image_shape, n_cols=n_steps + 2, title=title
    )


def codes_over_prior(
    codes: np.ndarray,
    labels: np.ndarray | None,
    prior_samples: np.ndarray,
    title: str | None = "codes over the prior's density",
    max_points: int = 5000,
    seed: int = 0,
) -> Figure:
    """Makhzani et al.'s Fig. 2 layout: 2-D codes of data, coloured by label, over the prior.

    The prior's density is drawn as a grey 2-D histogram of ``prior_samples`` (any sampler
    works, no density formula needed); the codes go on top, one colour per class.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, 2)
    labels : ndarray of shape (n_samples,) or None
    prior_samples : ndarray of shape (n_prior, 2)
    max_points : int
        At most this many codes are drawn (a seeded random subset).
    """
    codes, prior_samples = np.asarray(codes), np.asarray(prior_samples)
    if codes.ndim != 2 or codes.shape[1] != 2 or prior_samples.ndim != 2:
        raise ValueError(
            f"codes_over_prior draws 2-D codes, got codes {codes.shape} and prior samples "
            f"{prior_samples.shape}; use code_histograms for other code sizes"
        )
    if labels is not None and len(labels) != len(codes):
        raise ValueError(f"{len(labels)} labels for {len(codes)} codes; pass one per code")
    rng = np.random.default_rng(seed)
    keep = rng.permutation(len(codes))[:max_points]
    fig = Figure(figsize=(5.2, 4.6), dpi=DPI)
    ax = fig.add_subplot()
    both = np.concatenate([codes, prior_samples])
    lo, hi = np.percentile(both, [0.5, 99.5], axis=0)
    pad = 0.1 * (hi - lo)
    extent = [[lo[0] - pad[0], hi[0] + pad[0]], [lo[1] - pad[1], hi[1] + pad[1]]]
    ax.hist2d(prior_samples[:, 0], prior_samples[:, 1], bins=80, range=extent, cmap="Greys")
    if labels is None:
        ax.scatter(codes[keep, 0], codes[keep, 1], s=3, alpha=0.6, color="tab:blue")
    else:
        labels = np.asarray(labels)
        for cls in np.unique(labels):
            sel = keep[labels[keep] == cls]
            ax.scatter(codes[sel, 0], codes[sel, 1], s=3, alpha=0.7, label=str(cls))
        ax.legend(markerscale=4, fontsize=7, loc="upper right", ncol=2, framealpha=0.8)
    ax.set_xlim(*extent[0])
    ax.set_ylim(*extent[1])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def code_histograms(
    codes: np.ndarray,
    prior_samples: np.ndarray | None = None,
    max_dims: int = 8,
    title: str | None = "code histograms",
) -> Figure:
    """One histogram per code unit (the first ``max_dims``), with the prior's beside it.

    How far each unit's aggregate distribution is from the prior, at any code size.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be (n_samples, code_dim), got {codes.shape}")
    d = min(codes.shape[1], max_dims)
    n_cols = min(d, 4)
    n_rows = -(-d // n_cols)
    fig = Figure(figsize=(2.4 * n_cols, 1.9 * n_rows + 0.4), dpi=DPI)
    for j in range(d):
        ax = fig.add_subplot(n_rows, n_cols, j + 1)
        values = [codes[:, j]] + (
            [np.asarray(prior_samples)[:, j]] if prior_samples is not None else []
        )
        lo = min(float(np.percentile(v, 0.5)) for v in values)
        hi = max(float(np.percentile(v, 99.5)) for v in values)
        bins = np.linspace(lo, hi, 40)
        # matplotlib's stubs omit the arrays hist's bins take (a sequence of edges)
        ax.hist(codes[:, j], bins=bins, density=True, alpha=0.6, label="codes")  # type: ignore[arg-type]
        if prior_samples is not None:
            ax.hist(
                np.asarray(prior_samples)[:, j],
                bins=bins,  # type: ignore[arg-type]
                density=True,
                histtype="step",
                color="k",
                label="prior",
            )
        ax.set_title(f"$z_{{{j + 1}}}$", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    fig.axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
