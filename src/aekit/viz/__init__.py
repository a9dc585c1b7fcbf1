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
from aekit.viz.generative import (
    code_histograms,
    codes_over_prior,
    image_grid,
    interpolation_figure,
    latent_manifold,
    reconstruction_figure,
    sample_figure,
)
from aekit.viz.ib import cluster_assignments, information_plane
from aekit.viz.report import ReportImage, Section, render_report, write_report

__all__ = [
    "ReportImage",
    "Section",
    "cluster_assignments",
    "code_histograms",
    "code_scatter",
    "codes_over_prior",
    "error_bars",
    "figure_to_base64",
    "figure_to_png",
    "image_grid",
    "information_plane",
    "interpolation_figure",
    "latent_manifold",
    "learning_curves",
    "reconstruction_figure",
    "reconstruction_grid",
    "render_report",
    "sample_figure",
    "save_figure",
    "write_report",
]
