"""``aekit show RUN``: the model card of a trained model."""

from __future__ import annotations

import click

from aekit.card import read_card
from aekit.cli.common import CONTEXT_SETTINGS, user_errors


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("run", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@user_errors
def show(run: str) -> None:
    """Print the model card (RUN/model/README.md) of a run folder of `aekit train`, or of a
    saved model folder: the model, its data, how it was trained, its metrics beside PCA's."""
    click.echo(read_card(run), nl=False)
