"""Figures and the self-contained HTML report (matplotlib, Agg only; nothing is shown)."""

from aekit.viz.figures import (
    code_scatter,
    error_bars,
    figure_to_base64,
    figure_to_png,
    learning_curves,
    reconstruction_grid,
    save_figure,
)
from aekit.viz.report import ReportImage, Section, render_report, write_report

__all__ = [
    "ReportImage",
    "Section",
    "code_scatter",
    "error_bars",
    "figure_to_base64",
    "figure_to_png",
    "learning_curves",
    "reconstruction_grid",
    "render_report",
    "save_figure",
    "write_report",
]
