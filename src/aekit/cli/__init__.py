"""The ``aekit`` command line, one module per command group.

Each command is argument handling and printing over one library call; the checks live in the
library and reach the user as one line (:mod:`aekit.cli.common`). A bad value exits with code 2,
a failure while running with 1, an interrupt with 130; never a traceback.
"""

from __future__ import annotations

import click

from aekit import __version__
from aekit.cli import apply, demo, documents, explore, export, generate, ib, reproduce, show, train
from aekit.cli import score as score_command
from aekit.cli.common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="aekit")
def main() -> None:
    """Autoencoders and their relatives on PyTorch: train, use and compare them with PCA.

    Start with `aekit demo`, which trains deep autoencoders and PCA on built-in data and
    writes an HTML report.
    """


# One line per command or group; a new command is a module here and a line below.
main.add_command(demo.demo)
main.add_command(train.train)
main.add_command(train.resume)
main.add_command(apply.encode)
main.add_command(apply.reconstruct)
main.add_command(apply.evaluate)
main.add_command(generate.sample)
main.add_command(generate.report)
main.add_command(reproduce.reproduce)
main.add_command(documents.retrieve)
main.add_command(ib.ib)
main.add_command(explore.explore)
main.add_command(export.export)
main.add_command(show.show)
main.add_command(score_command.score)

__all__ = ["main"]
