"""``aekit ib``: the information bottleneck on discrete distributions."""

from __future__ import annotations

from pathlib import Path

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
from aekit.experiments.ib_curve import format_curve_summary, run_curve
from aekit.experiments.ib_examples import EXAMPLES as IB_EXAMPLES
from aekit.experiments.ib_examples import format_summary as format_ib_summary
from aekit.experiments.ib_examples import run_example as run_ib_example


@click.group(context_settings=CONTEXT_SETTINGS)
def ib() -> None:
    """Information bottleneck on discrete distributions: IB, deterministic IB and between."""


@ib.command(context_settings=CONTEXT_SETTINGS)
@click.argument("example_name", metavar="EXAMPLE", type=click.Choice(IB_EXAMPLES))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    show_default="runs/ib-EXAMPLE",
    help="Folder for results.json, information_plane.png and clusters.png.",
)
@click.option(
    "--beta",
    type=click.FloatRange(min=0),
    default=None,
    show_default="users 5, sequence 100",
    help="Trade-off of the headline fit: larger keeps more information about Y.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1),
    default=None,
    show_default="users 0 (DIB), sequence 1 (IB)",
    help="Weight of H(T|X) in H(T) - alpha H(T|X) - beta I(T;Y), for the fit and the sweep.",
)
@click.option(
    "--n-samples",
    type=click.IntRange(min=100),
    default=None,
    show_default="users 20000, sequence 50000",
    help="People (users) or steps of the hidden Markov chain (sequence) to generate.",
)
@click.option(
    "--restarts",
    "n_restarts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Starts per beta; the best objective is kept.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of everything."
)
@user_errors
def example(
    example_name: str,
    out_dir: str | None,
    beta: float | None,
    alpha: float | None,
    n_samples: int | None,
    n_restarts: int,
    seed: int,
) -> None:
    """Run one of the lecture's IB examples on generated data and write its figures.

    EXAMPLE is users (the deterministic IB of people's past behaviour and next purchase
    recovers planted communities) or sequence (the predictive IB of a hidden Markov chain's
    past window and next symbol, whose clusters recover the hidden state).
    """
    out = Path(out_dir or f"runs/ib-{example_name}")
    results = run_ib_example(
        example_name,
        out,
        beta=beta,
        alpha=alpha,
        n_samples=n_samples,
        n_restarts=n_restarts,
        seed=seed,
    )
    click.echo(format_ib_summary(results))
    click.echo(f"results: {(out / 'results.json').resolve()}")


@ib.command(context_settings=CONTEXT_SETTINGS)
@click.argument("joint", type=click.Path(dir_okay=False))
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Weight of H(T|X) in H(T) - alpha H(T|X) - beta I(T;Y): 1 is IB, 0 the deterministic IB.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    show_default="runs/ib-curve-JOINT",
    help="Folder for curve.json and information_plane.png.",
)
@click.option(
    "--restarts",
    "n_restarts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Starts per beta: the neighbouring points' solutions and RESTARTS - 1 random ones.",
)
@click.option(
    "--clusters",
    "n_clusters",
    type=click.IntRange(min=1),
    default=None,
    show_default="one per value of X",
    help="Most clusters an encoder may use.",
)
@click.option(
    "--gap",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Largest gap between neighbouring points, as a fraction of the range of I(X;T) "
    "(H(T) for alpha 0); gaps whose ends are optimal at one beta are reported instead.",
)
@click.option(
    "--coverage",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.99,
    show_default=True,
    help="The curve ends at its first point keeping this fraction of I(X;Y).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the starts."
)
@user_errors
def curve(
    joint: str,
    alpha: float,
    out_dir: str | None,
    n_restarts: int,
    n_clusters: int | None,
    gap: float,
    coverage: float,
    seed: int,
) -> None:
    """Trace the whole IB curve of a joint distribution p(x, y) stored in JOINT.

    JOINT is a .npy file (or .npz, .csv, .tsv, .txt) holding p(x, y): rows are values of X,
    columns values of Y, entries summing to 1. The betas are chosen automatically, from one
    cluster to 99% of I(X;Y); curve.json holds the points, the gaps and every solution found.
    """
    out = Path(out_dir or f"runs/ib-curve-{Path(joint).stem}")
    results = run_curve(
        joint,
        out,
        alpha=alpha,
        n_clusters=n_clusters,
        n_restarts=n_restarts,
        gap=gap,
        coverage=coverage,
        seed=seed,
    )
    click.echo(format_curve_summary(results))
    click.echo(f"results: {(out / 'curve.json').resolve()}")
