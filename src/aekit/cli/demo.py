"""``aekit demo``: deep autoencoders against PCA on built-in data, with a report."""

from __future__ import annotations

from pathlib import Path

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
from aekit.experiments.demo import PRESETS, format_summary, run_demo


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="aekit-demo",
    show_default=True,
    help="Folder for report.html, the figures (PNG), results.json and the models.",
)
@click.option(
    "--quick",
    is_flag=True,
    default=False,
    show_default=True,
    help="Less data and fewer epochs: under a minute instead of a few. [default: off]",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of everything."
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show progress bars and stage lines on stderr.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="CPU threads for torch while the demo runs; its small networks gain little from "
    "more, and lose a lot on a busy machine.",
)
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default=None,
    hidden=True,
    help="Internal: pick a preset by name; 'tiny' is for tests.",
)
@user_errors
def demo(
    out_dir: str, quick: bool, seed: int, progress: bool, threads: int, preset: str | None
) -> None:
    """Deep autoencoders vs PCA on generated curves and the bundled digits, with a report.

    Trains an autoencoder and fits PCA at the same code size on each data set (code size 6
    on the curves, 2 on the digits), then writes report.html (self-contained), the figures
    as PNG files and results.json into --out, and prints a summary table.
    """
    results = run_demo(
        out_dir, quick=quick, seed=seed, progress=progress, preset=preset, threads=threads
    )
    click.echo(format_summary(results))
    click.echo(f"report: {Path(results['report']).resolve()}")
