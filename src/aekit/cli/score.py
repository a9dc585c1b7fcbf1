"""``aekit score RUN --data FILE --out scores.npy``: outlier scores and labels of a data file."""

from __future__ import annotations

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
from aekit.sklearn import score_file


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("run", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Rows to score: .npy, .npz, .csv, .tsv or .txt, one sample per row.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Scores (.npy, float64, higher = more normal); labels go beside it as NAME_labels.npy.",
)
@click.option(
    "--contamination",
    type=click.FloatRange(0.0, 0.5, min_open=True),
    default=None,
    help="Flag this fraction of the rows. Default: a saved detector's own threshold, or "
    "Tukey's fence on the scores for a model of `aekit train`.",
)
@user_errors
def score(run: str, data: str, out: str, contamination: float | None) -> None:
    """Score every row of --data for outliers with RUN: a detector saved by
    AutoencoderOutlierDetector.save, or a model of `aekit train` (scored by minus its
    reconstruction error). Writes the scores and the labels (-1 outlier, +1 inlier)."""
    summary = score_file(run, data, out, contamination)
    click.echo(
        f"{summary['n_outliers']} of {summary['n_samples']} rows flagged as outliers "
        f"(threshold {summary['offset']:.6g} on the score, {summary['source']})"
    )
    click.echo(f"scores: {summary['scores']}")
    click.echo(f"labels: {summary['labels']}")
