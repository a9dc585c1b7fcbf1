"""Retrieval figures in the layout of Hinton & Salakhutdinov (Science 2006), Fig. 4A.

The fraction of retrieved documents in the same class as the query, against the number
retrieved on a log axis, one line per method; and the matching precision-recall curves.
Curves are any objects with ``n_retrieved``, ``precision`` and ``recall`` arrays (as
:class:`aekit.evaluate.retrieval.RetrievalCurve`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from aekit.viz.figures import DPI

__all__ = ["precision_recall_figure", "retrieval_curves_figure"]

# Fixed styles so a method looks the same in every figure of a report.
_STYLES = ["-", "--", "-.", ":"]


def _style(index: int) -> dict[str, Any]:
    return {"linestyle": _STYLES[(index // 10) % len(_STYLES)], "linewidth": 1.6}


def _plot(curves: Mapping[str, Any], x: str, y: str, size, title: str | None, xlabel, ylabel):
    """One line per method of ``curve.<y>`` against ``curve.<x>``, log x axis."""
    if not curves:
        raise ValueError("no curves to plot; pass {'method name': RetrievalCurve, ...}")
    fig = Figure(figsize=size, dpi=DPI)
    ax = fig.add_subplot()
    for i, (name, curve) in enumerate(curves.items()):
        ax.plot(
            np.asarray(getattr(curve, x)), np.asarray(getattr(curve, y)), label=name, **_style(i)
        )
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, None)
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig, ax


def _finish(fig: Figure, ax) -> Figure:
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def retrieval_curves_figure(
    curves: Mapping[str, Any], title: str | None = None, chance: float | None = None
) -> Figure:
    """Precision against the number of documents retrieved (log axis), one line per method.

    Parameters
    ----------
    curves : dict of str to curve
        Method name -> curve with ``n_retrieved`` and ``precision`` arrays.
    chance : float, optional
        Precision of a random ranking (the mean share of same-class documents), drawn dotted.
    """
    fig, ax = _plot(
        curves,
        "n_retrieved",
        "precision",
        (6.4, 4.4),
        title,
        "number of retrieved documents",
        "fraction in the query's class",
    )
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="random ranking")
    return _finish(fig, ax)


def precision_recall_figure(curves: Mapping[str, Any], title: str | None = None) -> Figure:
    """Mean precision against mean recall as the number retrieved grows, one line per method."""
    fig, ax = _plot(curves, "recall", "precision", (5.2, 4.4), title, "recall", "precision")
    return _finish(fig, ax)
