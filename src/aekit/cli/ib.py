"""``aekit ib``: the information bottleneck on discrete distributions."""

from __future__ import annotations

from pathlib import Path

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
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
