"""``aekit explore``: one self-contained HTML page of what a model learned (aekit.viz.explore)."""

from __future__ import annotations

import click

from aekit.cli.common import (
    CONTEXT_SETTINGS,
    DATA_ARG_HELP,
    apply_options,
    config_field_options,
    data_options,
    parse_data_options,
    user_errors,
)
from aekit.viz.explore import ExplorerConfig, explore_saved

EXPLORER_OPTIONS = config_field_options({"explore": ExplorerConfig})


def _explorer_options(fn):
    return apply_options(fn, EXPLORER_OPTIONS)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("run", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--data",
    "data_name",
    required=True,
    metavar="NAME_OR_FILE",
    help=f"{DATA_ARG_HELP} For a document model: a text corpus (the 20news-bydate archive, a "
    "folder of class folders, or a CSV).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default="explore.html",
    show_default=True,
    help="The page to write.",
)
@click.option(
    "--split",
    type=click.Choice(["test", "train", "all"]),
    default="test",
    show_default=True,
    help="Which rows of the data set to map (20 Newsgroups: its test or train half).",
)
@data_options
@_explorer_options
@user_errors
def explore(run, data_name, out_path, split, data_dir, data_option, **settings) -> None:
    """Write one HTML page to explore a trained model's codes, opened from disk, offline.

    RUN is a saved model or a run folder (`aekit train`'s, or `aekit reproduce hinton2006`'s).
    The page maps the data's codes in 2-D, coloured by label (the code itself when it has two
    numbers, else PCA; --projection tsne or umap); hovering a point shows its input and
    reconstruction (or a document's words, group and nearest documents); clicking two points
    shows the decoded path between their codes. 2-D codes add the decoded manifold, VAEs and
    AAEs draws from the prior, RBMs and DBNs their filters.
    """
    config = ExplorerConfig(**{k: v for k, v in settings.items() if v is not None})
    path = explore_saved(
        run,
        data_name,
        out_path,
        config,
        data_dir=data_dir,
        data_options=parse_data_options(data_option),
        split=split,
    )
    click.echo(f"explorer: {path.resolve()} ({path.stat().st_size / 1e6:.1f} MB)")
