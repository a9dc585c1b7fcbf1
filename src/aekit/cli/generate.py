"""``aekit sample`` and ``aekit report``: draws from a generative model and its HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from aekit.cli.common import (
    CONTEXT_SETTINGS,
    DATA_ARG_HELP,
    check_rows,
    check_width,
    data_options,
    image_shape_option,
    load_data,
    load_saved_model,
    parse_data_options,
    user_errors,
    write_array,
)
from aekit.experiments.generative import write_generative_report
from aekit.models import VAE
from aekit.nn import physical_memory
from aekit.viz.figures import save_figure
from aekit.viz.generative import sample_figure

#: The most images a sample grid shows; more are written to a .npy.
MAX_GRID = 10_000


def _check_fits(model, n_samples: int) -> None:
    """Refuse a draw whose decoded samples (and the decoder's widest layer, alongside)
    would not fit in this machine's memory, before drawing."""
    widths = list(model.config.layers)
    need, have = n_samples * (widths[0] + 2 * max(widths)) * 4, physical_memory()
    if have and need > have // 2:
        raise click.BadParameter(
            f"{n_samples} samples of {widths[0]} features need about {need / 2**30:.3g} GiB "
            f"and this machine has {have / 2**30:.3g} GiB; draw fewer (several runs with "
            "different --seed give more)",
            param_hint="'--n'",
        )


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--n", "n_samples", type=click.IntRange(min=1), default=64, show_default=True,
    help="How many samples to draw.",
)  # fmt: skip
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="A .png image grid (square inputs, or --image-shape) or a .npy array; never "
    "written into the model's folder unless named. [default: ./samples.png for images, else "
    "./samples.npy]",
)
@click.option(
    "--image-shape",
    default=None,
    metavar="HxW",
    help="Height x width of one sample's image, e.g. 28x28. [default: square inputs]",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the draws."
)
@click.option(
    "--label",
    type=click.IntRange(min=0),
    default=None,
    help="Conditional VAE: the class to draw. [default: every class in turn]",
)
@user_errors
def sample(model_dir, n_samples, out_path, image_shape, seed, label) -> None:
    """Draw samples from a trained generative model (vae, aae) and save them.

    The samples are the decoder's means at codes drawn from the model's prior, reproducible
    from --seed. MODEL_DIR is a run directory of `aekit train` or a saved model.
    """
    model = load_saved_model(model_dir, ("sample",))
    n_features = model.config.layers[0]
    shape = image_shape_option(image_shape, n_features)
    if out_path is None:  # the current folder: a model's folder holds the model alone
        out_path = "samples.png" if shape is not None else "samples.npy"
    suffix = Path(out_path).suffix.lower()
    if suffix not in (".png", ".npy"):
        raise click.BadParameter(
            f"{out_path} must end in .png (an image grid) or .npy (the array)",
            param_hint="'--out'",
        )
    if suffix == ".png" and shape is None:
        raise click.BadParameter(
            f"the model's {n_features} features are not a square image; pass --image-shape "
            "HxW or write a .npy",
            param_hint="'--out'",
        )
    if suffix == ".png" and n_samples > MAX_GRID:
        raise click.BadParameter(
            f"a grid of {n_samples} images is too many to see (at most {MAX_GRID}); draw fewer "
            "or write the samples to a .npy",
            param_hint="'--n'",
        )
    _check_fits(model, n_samples)
    kwargs: dict[str, Any] = {"seed": seed}
    n_classes = getattr(model.config, "n_classes", 0)
    if isinstance(model, VAE) and n_classes:
        kwargs["y"] = (
            np.full(n_samples, label) if label is not None else np.arange(n_samples) % n_classes
        )
    elif label is not None:
        raise click.BadParameter(
            "--label needs a conditional VAE (trained with --conditional)", param_hint="'--label'"
        )
    x = np.asarray(model.sample(n_samples, **kwargs))  # (n, n_features)
    if suffix == ".npy":
        write_array(x, out_path)
        click.echo(f"wrote {n_samples} samples of {n_features} features to {out_path}")
        return
    assert shape is not None  # a .png without an image shape was refused above
    save_figure(sample_figure(x, shape, title=f"{n_samples} samples (seed {seed})"), out_path)
    click.echo(f"wrote a grid of {n_samples} samples to {out_path}")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--data", "data_name", required=True, metavar="NAME_OR_PATH", help=DATA_ARG_HELP)
@data_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The HTML file; never written into the model's folder unless named. "
    "[default: ./report.html]",
)
@click.option(
    "--iw-samples",
    type=click.IntRange(min=0),
    default=500,
    show_default=True,
    help="VAE: importance samples of the log-likelihood estimate (0 skips it).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the draws."
)
@user_errors
def report(model_dir, data_name, data_dir, data_option, out_path, iw_samples, seed) -> None:
    """Write an HTML report of a trained generative model (vae, aae) on a data set's test rows.

    Samples, reconstructions, code histograms against the prior, for 2-d codes the codes over
    the prior's density and the decoded manifold, and a table of held-out metrics (MMD of the
    codes to the prior; for a VAE the importance-weighted log-likelihood).
    """
    model = load_saved_model(model_dir, ("sample",))
    data = load_data(data_name, data_dir, parse_data_options(data_option))
    check_width(data.x_train, model)
    check_rows(model, data.x_train, data.x_test)
    path = Path(out_path or "report.html")  # not beside the model: its folder is the model's
    write_generative_report(model, data, path, iw_samples=iw_samples, seed=seed)
    click.echo(f"wrote {path}")
