"""Figures in the spirit of Hinton & Salakhutdinov (Science 2006).

G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
Networks", Science 313:504-507, 2006: Fig. 2A shows test images above their reconstructions by
a deep autoencoder and by PCA at the same code size; Fig. 3 shows 2-D codes of MNIST digits
from PCA and from an autoencoder, coloured by class.

Every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``: no global
figure registry, no GUI backend, nothing to close, and safe in a server or a test. PNGs are
rendered by the Agg canvas that ``Figure.savefig`` picks for the ``png`` format.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

__all__ = [
    "class_colours",
    "code_scatter",
    "error_bars",
    "figure_to_base64",
    "figure_to_png",
    "learning_curves",
    "reconstruction_grid",
    "save_figure",
]

DPI = 110


def _check_rows(rows: Mapping[str, np.ndarray], image_shape: Sequence[int]) -> int:
    if not rows:
        raise ValueError("reconstruction_grid needs at least one row, e.g. {'data': x}")
    n_pixels = int(np.prod(image_shape))
    lengths = set()
    for name, x in rows.items():
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != n_pixels:
            raise ValueError(
                f"row {name!r} has shape {x.shape}; expected (n_images, {n_pixels}) to show as "
                f"{tuple(image_shape)} images"
            )
        lengths.add(len(x))
    return min(lengths)


def reconstruction_grid(
    rows: Mapping[str, np.ndarray],
    image_shape: Sequence[int],
    n: int = 10,
    title: str | None = None,
    errors: Mapping[str, float] | None = None,
) -> Figure:
    """Images side by side: one row per source (data, then each method's reconstructions).

    Parameters
    ----------
    rows : dict of str to ndarray of shape (n_images, n_pixels)
        Row label -> flattened images; row ``k`` column ``j`` shows image ``j`` of row ``k``,
        so pass reconstructions of the same images in the same order.
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n : int
        Images per row (fewer if a row has fewer).
    title : str, optional
    errors : dict of str to float, optional
        Per-row error to print beside the row label (e.g. the test squared error).

    Returns
    -------
    Figure
        ``len(rows) * n`` axes, each one image in grey levels (black ink on white, as in the
        paper), all on the same [0, 1]-ish scale of their row's data.
    """
    n = min(n, _check_rows(rows, image_shape))
    if n < 1:
        raise ValueError("reconstruction_grid needs n >= 1 and non-empty rows")
    shape = tuple(int(s) for s in image_shape)
    n_rows = len(rows)
    cell = 0.85
    fig = Figure(figsize=(cell * n + 1.4, cell * n_rows + (0.5 if title else 0.15)), dpi=DPI)
    axes = fig.subplots(n_rows, n, squeeze=False, gridspec_kw={"wspace": 0.04, "hspace": 0.08})
    # One grey scale for the whole figure, taken from the data row, so a faint reconstruction
    # looks faint rather than being stretched to full contrast.
    first = np.asarray(next(iter(rows.values())))[:n]
    lo, hi = float(min(first.min(), 0.0)), float(max(first.max(), 1e-12))
    for r, (name, x) in enumerate(rows.items()):
        x = np.asarray(x)
        for j in range(n):
            ax = axes[r, j]
            ax.imshow(x[j].reshape(shape), cmap="gray_r", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#bbbbbb")
        label = name if errors is None or name not in errors else f"{name}\n({errors[name]:.2f})"
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(
        left=1.3 / fig.get_figwidth(),
        right=0.99,
        bottom=0.02,
        top=1 - (0.45 if title else 0.05) / fig.get_figheight(),
    )
    return fig


def code_scatter(
    codes_by_method: Mapping[str, np.ndarray],
    labels: np.ndarray,
    titles: Mapping[str, str] | None = None,
    accuracies: Mapping[str, float] | None = None,
    class_names: Sequence[str] | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> Figure:
    """2-D codes, one panel per method, each point coloured by its class.

    Parameters
    ----------
    codes_by_method : dict of str to ndarray of shape (n_samples, 2)
        Method name -> 2-D codes of the same samples.
    labels : ndarray of shape (n_samples,)
        Integer class of each sample.
    titles : dict of str to str, optional
        Panel titles (default: the method names).
    accuracies : dict of str to float, optional
        kNN accuracy of each map, shown in its title.
    class_names : sequence of str, optional
        Legend entries by class index (default: the class numbers).
    max_points : int
        At most this many points are drawn (a seeded random subset, the same for every
        panel), so dense maps stay readable.

    Returns
    -------
    Figure
        One axes per method, sharing a legend of classes.
    """
    labels = _check_codes_2d(codes_by_method, labels)
    idx = np.arange(len(labels))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(idx), max_points, replace=False))
    classes = np.unique(labels)
    k = len(codes_by_method)
    # The legend sits right of the panels; long class names (newsgroups) need a wider margin.
    names = [str(class_names[int(c)]) if class_names is not None else str(c) for c in classes]
    margin = max(1.3, 0.6 + 0.07 * max(len(n) for n in names))
    fig = Figure(figsize=(4.6 * k + margin, 4.6), dpi=DPI)
    axes = fig.subplots(1, k, squeeze=False)[0]
    handles = []
    for ax, (name, z) in zip(axes, codes_by_method.items()):
        title = titles[name] if titles and name in titles else name
        if accuracies and name in accuracies:
            title = f"{title}\nkNN accuracy {accuracies[name]:.1%}"
        handles = _scatter_by_class(ax, np.asarray(z)[idx], labels[idx], classes, class_names)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("code unit 1")
        ax.set_ylabel("code unit 2")
        ax.tick_params(labelsize=8)
    fig.legend(
        handles=handles,
        title="class",
        loc="center right",
        fontsize=8,
        markerscale=2.5,
        frameon=False,
    )
    fig.subplots_adjust(
        left=0.06,
        right=1 - (margin - 0.05) / fig.get_figwidth(),
        wspace=0.28,
        bottom=0.12,
        top=0.86,
    )
    return fig


def _check_codes_2d(codes_by_method: Mapping[str, np.ndarray], labels) -> np.ndarray:
    """The labels as an array, once every method's codes are one 2-D point per label."""
    if not codes_by_method:
        raise ValueError("code_scatter needs at least one method's codes")
    labels = np.asarray(labels)
    for name, z in codes_by_method.items():
        z = np.asarray(z)
        if z.ndim != 2 or z.shape[1] != 2 or len(z) != len(labels):
            raise ValueError(
                f"codes of {name!r} have shape {z.shape}; expected ({len(labels)}, 2) — one "
                "2-D code per label"
            )
    return labels


def _scatter_by_class(ax, z: np.ndarray, labels: np.ndarray, classes, class_names) -> list:
    """Draw the points ``z`` on ``ax``, one colour per class; returns the legend handles."""
    colours = class_colours(len(classes))
    handles = []
    for ci, c in enumerate(classes):
        m = labels == c
        handles.append(
            ax.scatter(
                z[m, 0],
                z[m, 1],
                s=7,
                color=colours[ci],
                alpha=0.75,
                linewidths=0,
                label=class_names[int(c)] if class_names is not None else str(c),
            )
        )
    return handles


def class_colours(n: int) -> list:
    """``n`` distinct colours for classes (matplotlib's tab10, or tab20 above ten classes,
    repeating past twenty), as RGBA tuples."""
    from matplotlib import colormaps

    name = "tab10" if n <= 10 else "tab20"
    cmap = colormaps[name]
    return [cmap(i % cmap.N) for i in range(n)]


def learning_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    train_key: str = "train_recon",
    val_key: str = "val_recon",
    ylabel: str = "reconstruction loss per sample (NLL)",
    log_y: bool = True,
) -> Figure:
    """Training and validation loss per epoch, one panel per run.

    Parameters
    ----------
    histories : dict of str to list of dict
        Run name -> the per-epoch records of :class:`aekit.train.History` (``.records``).
    train_key, val_key : str
        Record keys to plot. ``train_recon`` is the reconstruction term alone, on the same
        scale as ``val_recon``; records without it fall back to ``train_loss`` (which
        includes any penalties).

    Returns
    -------
    Figure
        One axes per run.
    """
    if not histories:
        raise ValueError("learning_curves needs at least one run's records")
    k = len(histories)
    fig = Figure(figsize=(4.4 * k, 3.4), dpi=DPI)
    axes = fig.subplots(1, k, squeeze=False)[0]
    for ax, (name, records) in zip(axes, histories.items()):
        if not records:
            raise ValueError(f"run {name!r} has no epoch records to plot")
        epochs = [r["epoch"] for r in records]
        tkey = train_key if all(train_key in r for r in records) else "train_loss"
        # Markers show single epochs on short runs; on long ones they would merge into a smear.
        ms = 3 if len(records) <= 40 else 0
        ax.plot(epochs, [r[tkey] for r in records], marker="o", ms=ms, label="train")
        if all(val_key in r for r in records):
            ax.plot(epochs, [r[val_key] for r in records], marker="s", ms=ms, label="validation")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel, fontsize=9)
        if log_y:
            ax.set_yscale("log")
            # Plain numbers rather than 6x10^1; label the minor ticks too when the curves
            # span less than a decade, or there would be no label at all.
            plain = FuncFormatter(lambda v, _: f"{v:.3g}")
            ax.yaxis.set_major_formatter(plain)
            lo, hi = ax.get_ylim()
            ax.yaxis.set_minor_formatter(plain if hi < 10 * lo else NullFormatter())
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def error_bars(
    errors: Mapping[str, Mapping[str, float]],
    ylabel: str = "test squared error per image",
    title: str | None = None,
) -> Figure:
    """Grouped bars: one group per data set, one bar per method, value printed on each bar.

    Parameters
    ----------
    errors : dict of str to dict of str to float
        Data set -> method -> error, e.g. ``{"curves": {"autoencoder": 3.1, "PCA": 20.2}}``.

    Returns
    -------
    Figure
        One axes per data set (each on its own scale, since errors of different data sets
        are not comparable).
    """
    if not errors:
        raise ValueError("error_bars needs at least one data set")
    k = len(errors)
    fig = Figure(figsize=(3.2 * k + 0.6, 3.3), dpi=DPI)
    axes = fig.subplots(1, k, squeeze=False)[0]
    colours = class_colours(10)
    for ax, (dataset, by_method) in zip(axes, errors.items()):
        names = list(by_method)
        values = [float(by_method[m]) for m in names]
        bars = ax.bar(names, values, color=[colours[i % 10] for i in range(len(names))])
        ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
        ax.set_title(dataset, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_ylim(0, max(values) * 1.18 if max(values) > 0 else 1)
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def figure_to_png(fig: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, facecolor="white")
    return buf.getvalue()


def figure_to_base64(fig: Figure, dpi: int | None = None) -> str:
    """The figure as a base64 PNG string, ready for ``<img src="data:image/png;base64,...">``."""
    return base64.b64encode(figure_to_png(fig, dpi)).decode("ascii")


def save_figure(fig: Figure, path: str | Path, dpi: int | None = None) -> Path:
    """Write the figure as a PNG file (parent folders are created); returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; give a path ending in .png, not {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_to_png(fig, dpi))
    return path
