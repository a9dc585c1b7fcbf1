"""Figures of the information bottleneck: the information plane and cluster assignments.

The information plane of Tishby, Pereira & Bialek (1999) plots I(T;Y) against I(X;T) for the
solutions of a beta sweep; every point lies under I(T;Y) = I(X;Y) (T sees Y only through X)
and under the diagonal I(T;Y) = I(X;T) (data processing). Strouse & Schwab (2017) draw the
deterministic IB against H(T) instead, the cost it minimises. Like :mod:`aekit.viz.figures`,
every function returns a :class:`matplotlib.figure.Figure` built without ``pyplot``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from aekit.ib import IBCurve
from aekit.viz.figures import DPI, class_colours

__all__ = ["cluster_assignments", "information_plane"]

AXIS_LABELS = {"i_xt": "I(X;T)  [bits]", "h_t": "H(T)  [bits]"}


def information_plane(
    curves: IBCurve | Mapping[str, IBCurve],
    x: str = "i_xt",
    marks: Mapping[str, tuple[float, float]] | None = None,
    title: str | None = None,
) -> Figure:
    """IB curves in the information plane, and their I(T;Y) and cluster counts against beta.

    Parameters
    ----------
    curves : IBCurve or dict of str to IBCurve
        Sweeps of one p(x, y) (e.g. ``{"IB": ib_curve, "DIB": dib_curve}``).
    x : {"i_xt", "h_t"}, default "i_xt"
        Horizontal axis of the left panel: I(X;T) (the IB plane) or H(T) (the DIB plane).
    marks : dict of str to (float, float), optional
        Labelled points to circle in the plane, e.g. the solution at the chosen beta.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Left: I(T;Y) against ``x`` per curve (gaps the curve reports dotted), with the bounds
        I(T;Y) <= I(X;Y) and I(T;Y) <= I(X;T); right: I(T;Y) (solid) and the number of
        clusters (dashed, right axis) against beta on a log scale.
    """
    if isinstance(curves, IBCurve):
        curves = {"": curves}
    if not curves:
        raise ValueError("information_plane needs at least one curve")
    if x not in AXIS_LABELS:
        raise ValueError(f"x must be one of {sorted(AXIS_LABELS)}; got {x!r}")
    fig = Figure(figsize=(10.0, 4.0), dpi=DPI)
    plane, by_beta = fig.subplots(1, 2)
    clusters_axis = by_beta.twinx()
    colours = class_colours(max(len(curves), 3))
    i_xy = max(c.i_xy for c in curves.values())
    x_max = max(float(np.max(getattr(c, x))) for c in curves.values())
    gap_label: str | None = "gap: both ends optimal at one beta"
    for k, (name, curve) in enumerate(curves.items()):
        colour = colours[k]
        xs, ys = getattr(curve, x), curve.i_ty
        # A gap the curve reports (an edge of the hull: no beta puts a point inside it) is
        # drawn dotted; the runs of points between gaps solid.
        gaps = _gap_segments(curve, ys)
        starts = [0, *(i + 1 for i in gaps)]
        ends = [*(i + 1 for i in gaps), len(xs)]
        for run, (lo, hi) in enumerate(zip(starts, ends)):
            label = (name or None) if run == 0 else None
            plane.plot(xs[lo:hi], ys[lo:hi], "o-", color=colour, ms=3.5, lw=1.2, label=label)
        for i in gaps:
            plane.plot(xs[i : i + 2], ys[i : i + 2], ":", color=colour, lw=1.2, label=gap_label)
            gap_label = None
        by_beta.plot(curve.betas, ys, "-", color=colour, lw=1.4, label=name or None)
        clusters_axis.plot(curve.betas, curve.n_clusters, "--", color=colour, lw=1.0)
    x_hi = max(x_max, i_xy) * 1.05 or 1.0
    plane.axhline(i_xy, color="0.3", ls=":", lw=1.0)
    plane.text(x_hi, i_xy, "I(X;Y)", ha="right", va="bottom", fontsize=8, color="0.3")
    plane.plot([0, i_xy], [0, i_xy], color="0.6", ls="--", lw=0.8, label="I(T;Y) = I(X;T)")
    for label, (mx, my) in (marks or {}).items():
        plane.plot([mx], [my], "o", ms=11, mfc="none", mec="black", mew=1.2)
        plane.annotate(label, (mx, my), xytext=(6, -12), textcoords="offset points", fontsize=8)
    plane.set_xlim(0, x_hi)
    plane.set_ylim(0, i_xy * 1.12 or 1.0)
    plane.set_xlabel(AXIS_LABELS[x])
    plane.set_ylabel("I(T;Y)  [bits]")
    plane.set_title("information plane", fontsize=10)
    plane.legend(fontsize=8, loc="lower right")
    by_beta.set_xscale("log")
    by_beta.set_xlabel("beta")
    by_beta.set_ylabel("I(T;Y)  [bits]  (solid)")
    clusters_axis.set_ylabel("clusters  (dashed)")
    clusters_axis.set_yscale("log")
    by_beta.set_title("along the sweep", fontsize=10)
    for ax in (plane, by_beta, clusters_axis):
        ax.tick_params(labelsize=8)
    plane.grid(True, alpha=0.3)
    by_beta.grid(True, alpha=0.3, which="both")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _gap_segments(curve: IBCurve, i_ty: np.ndarray) -> list[int]:
    """Indices i whose segment to point i + 1 is one of the curve's reported gaps (matched by
    I(T;Y) at both ends, which does not depend on the plane's horizontal axis)."""
    out = []
    for g in curve.gaps:
        for i in range(len(i_ty) - 1):
            if np.isclose(i_ty[i], g["i_ty_left"], rtol=0, atol=1e-12) and np.isclose(
                i_ty[i + 1], g["i_ty_right"], rtol=0, atol=1e-12
            ):
                out.append(i)
                break
    return sorted(set(out))


def cluster_assignments(
    encoder: np.ndarray,
    groups: Sequence[int] | np.ndarray | None = None,
    group_name: str = "true group",
    weights: Sequence[float] | np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """The encoder q(t|x) as an image, rows of X grouped by a reference labelling.

    Parameters
    ----------
    encoder : ndarray of shape (n_x, n_clusters)
        ``q(t|x)``, rows summing to 1.
    groups : array-like of shape (n_x,), optional
        A reference label per value of X (e.g. the planted community), drawn as a colour strip
        beside the image; rows are sorted by it, then by their most probable cluster.
    group_name : str, default "true group"
        Label of that strip.
    weights : array-like of shape (n_x,), optional
        p(x); when given, clusters are ordered by their mass ``q(t)`` and shown with it.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        A (n_x, n_clusters) image of q(t|x) in [0, 1], and the group strip on its left.
    """
    encoder = np.asarray(encoder, dtype=np.float64)
    if encoder.ndim != 2 or encoder.size == 0:
        raise ValueError(
            f"encoder must be a non-empty (n_x, n_clusters) array of q(t|x); got {encoder.shape}"
        )
    n_x, n_t = encoder.shape
    mass = None if weights is None else np.asarray(weights, dtype=np.float64) @ encoder
    cols = np.argsort(-mass, kind="stable") if mass is not None else np.arange(n_t)
    encoder = encoder[:, cols]
    labels = np.argmax(encoder, axis=1)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n_x,):
            raise ValueError(
                f"groups must hold one label per row of encoder ({n_x}); got shape {groups.shape}"
            )
        rows = np.lexsort((labels, groups))
    else:
        rows = np.argsort(labels, kind="stable")
    fig = Figure(figsize=(min(3.0 + 0.25 * n_t, 11.0), 4.6), dpi=DPI)
    if groups is not None:
        strip, image = fig.subplots(
            1, 2, gridspec_kw={"width_ratios": [1, max(6, min(n_t, 40))]}, sharey=True
        )
        _group_strip(strip, groups[rows], group_name)
    else:
        image = fig.subplots(1, 1)
        image.set_ylabel("values of X (sorted)")
    shown = image.imshow(
        encoder[rows], aspect="auto", interpolation="nearest", cmap="Greys", vmin=0, vmax=1
    )
    image.set_xlabel("cluster t" + (" (by mass q(t))" if mass is not None else ""))
    if n_t <= 30:
        image.set_xticks(range(n_t))
        if mass is not None:
            image.set_xticklabels([f"{m:.2f}" for m in mass[cols]], rotation=90)
    image.tick_params(labelsize=7)
    fig.colorbar(shown, ax=image, label="q(t|x)", fraction=0.05)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _group_strip(strip, groups: np.ndarray, group_name: str) -> None:
    """Draw ``groups`` (one reference label per sorted row) as a strip of class colours."""
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max()) + 1
    strip.imshow(
        codes[:, None],
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(class_colours(n_groups)[:n_groups]),
        vmin=-0.5,
        vmax=n_groups - 0.5,
    )
    strip.set_xticks([])
    strip.set_xlabel("\n".join(group_name.split()), fontsize=7)
    strip.set_ylabel("values of X (sorted)")
    strip.tick_params(labelsize=8)
