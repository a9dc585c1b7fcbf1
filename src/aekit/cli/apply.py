"""``aekit encode``, ``reconstruct`` and ``evaluate``: a trained model applied to data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from aekit.atomic import atomic_write_text
from aekit.baselines import PCABaseline
from aekit.cli.common import (
    CONTEXT_SETTINGS,
    DATA_ARG_HELP,
    apply_to_file,
    check_rows,
    check_width,
    data_options,
    load_data,
    load_rows,
    load_saved_model,
    out_array_callback,
    parse_data_options,
    resolve_model_dir,
    user_errors,
    write_array,
)
from aekit.evaluate import mean_squared_error_per_sample
from aekit.models import VAE
from aekit.models.base import EncoderDecoder, seeded_rng
from aekit.train import TrainConfig, Trainer

_SPLIT_OPTION = click.option(
    "--split",
    type=click.Choice(["all", "train", "test"]),
    default="all",
    show_default=True,
    help="Which rows: 'all' is a file's rows in order (a named data set's train then test "
    "rows); 'train'/'test' are load_dataset's split.",
)


def _model_rows_inputs(fn: Callable) -> Callable:
    """MODEL_DIR, --data, the data options and --split: what encode and reconstruct read."""
    decorators: list[Callable[[Callable], Callable]] = [
        click.argument("model_dir", type=click.Path(exists=True, file_okay=False)),
        click.option(
            "--data", "data_name", required=True, metavar="NAME_OR_PATH", help=DATA_ARG_HELP
        ),
        data_options,
        _SPLIT_OPTION,
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _model_and_rows(model_dir, data_name, data_dir, data_option, split, needs: str):
    """The trained model's ``needs`` method, ready to apply to rows, and the rows, their width
    and range checked against the model. A ``.npy`` file's rows stay on disk (a memory map
    read a batch at a time). A conditional VAE gets each row's label from the data set."""
    model = load_saved_model(model_dir, (needs,))
    x, y = load_rows(data_name, data_dir, parse_data_options(data_option), split)
    check_width(x, model)
    check_rows(model, x)
    if not (isinstance(model, VAE) and model.config.n_classes):
        return getattr(model, needs), x, None
    if y is None:
        raise click.BadParameter(
            "a conditional VAE encodes and decodes with each row's label, and these rows "
            "have none; pass a labelled data set (mnist, digits, an .npz holding x and y)",
            param_hint="'--data'",
        )
    return getattr(model, needs), x, y


@click.command(context_settings=CONTEXT_SETTINGS)
@_model_rows_inputs
@click.option(
    "--out",
    "out_path",
    default=None,
    callback=out_array_callback,
    metavar="FILE",
    help="Output file, .npy or .csv. [default: CSV on stdout]",
)
@user_errors
def encode(model_dir, data_name, data_dir, data_option, split, out_path) -> None:
    """Write the codes of the data's rows under a trained model (one row per input row).

    MODEL_DIR is a run directory of `aekit train` (its model/ is used) or a saved model. A
    conditional VAE encodes each row with its label from the data set. A .npy file is streamed
    (memory-mapped, a batch at a time; --data-option mmap=false reads it whole), and a .npy
    output is written batch by batch.
    """
    transform, x, y = _model_and_rows(
        model_dir, data_name, data_dir, data_option, split, "transform"
    )
    codes = apply_to_file(transform, x, out_path, y)
    where = write_array(codes, out_path)
    if out_path is not None:
        click.echo(f"wrote {len(x)} codes of size {codes.shape[1]} to {where}")


@click.command(context_settings=CONTEXT_SETTINGS)
@_model_rows_inputs
@click.option(
    "--out",
    "out_path",
    required=True,
    callback=out_array_callback,
    metavar="FILE",
    help="Output file, .npy or .csv.",
)
@user_errors
def reconstruct(model_dir, data_name, data_dir, data_option, split, out_path) -> None:
    """Write the model's reconstructions of the data's rows (same shape as the input).

    MODEL_DIR is a run directory of `aekit train` (its model/ is used) or a saved model. A
    conditional VAE reconstructs each row with its label from the data set. A .npy file is
    streamed (memory-mapped, a batch at a time; --data-option mmap=false reads it whole), and
    a .npy output is written batch by batch.
    """
    recon, x, y = _model_and_rows(model_dir, data_name, data_dir, data_option, split, "reconstruct")
    where = write_array(apply_to_file(recon, x, out_path, y), out_path)
    click.echo(f"wrote {len(x)} reconstructions to {where}")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--data", "data_name", required=True, metavar="NAME_OR_PATH", help=DATA_ARG_HELP)
@data_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the JSON here. [default: stdout]",
)
@user_errors
def evaluate(model_dir, data_name, data_dir, data_option, out_path) -> None:
    """Score a trained model on a data set's train and test rows, next to PCA at the same
    code size.

    \b
    Prints JSON: the model's numbers under its name, each once, per split (train_, test_):
      squared_error  squared error per sample (summed over features, mean over samples)
      recon          negative log-likelihood of the reconstruction per sample, in nats,
                     under the model's likelihood (one posterior draw for a VAE)
      nelbo, kl      VAE: the negative ELBO (recon + kl) and its KL term
      loss, ce, error, kl
                     VIB and IB autoencoder: the training objective, the label
                     cross-entropy, the classification error rate and the rate term
    and under "pca" the squared error of PCA fitted on the train rows with as many
    components as the code has units. MODEL_DIR is a run directory of `aekit train` or a
    saved model.
    """
    model = load_saved_model(model_dir, ("transform",))
    data = load_data(data_name, data_dir, parse_data_options(data_option))
    check_width(data.x_train, model)
    check_rows(model, data.x_train, data.x_test)
    numbers = {
        "model": str(resolve_model_dir(model_dir)),
        "data": data.name,
        "layers": "-".join(map(str, model.config.layers)),
        "likelihood": getattr(model.config, "likelihood", None),
        **_evaluate_numbers(model, data),
    }
    text = json.dumps(numbers, indent=2)
    if out_path is None:
        click.echo(text)
    else:
        atomic_write_text(out_path, text + "\n")
        click.echo(f"wrote {out_path}")


def _evaluate_numbers(model, data) -> dict[str, Any]:
    """The model's own held-out metrics, its squared error per sample when it reconstructs,
    and PCA's at the same code size, on the train and test rows."""
    labelled = bool(model.takes_targets)
    if labelled and (data.y_train is None or data.y_test is None):
        raise click.BadParameter(
            f"the {model.registered_name} model learns from labels, and {data.name} has none; "
            "evaluate it on a labelled data set",
            param_hint="'--data'",
        )
    scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
    reconstructs = isinstance(model, EncoderDecoder)
    # A conditional model encodes only with labels: ask for one row's code with its label.
    one_label = {"y": data.y_train[:1]} if isinstance(model, VAE) and labelled else {}
    code_size = model.transform(data.x_train[:1], **one_label).shape[1]
    pca = PCABaseline(code_size).fit(data.x_train) if reconstructs else None
    out: dict[str, Any] = {
        "code_size": code_size,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
    }
    ours: dict[str, float] = {}
    pca_out: dict[str, float] = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        if not len(x):
            continue
        with seeded_rng(0, model.device):  # a VAE's held-out ELBO draws one code per row
            metrics = scorer.evaluate(x, y=y if labelled else None)
        for key, value in metrics.items():
            ours[f"{split}_{key}"] = value
        if reconstructs and "squared_error" not in metrics:
            recon = model.reconstruct(x, y=y) if isinstance(model, VAE) and labelled else None
            recon = model.reconstruct(x) if recon is None else recon
            ours[f"{split}_squared_error"] = mean_squared_error_per_sample(x, recon)
        if pca is not None:
            pca_out[f"{split}_squared_error"] = mean_squared_error_per_sample(x, pca.reconstruct(x))
    out[model.registered_name] = ours
    if pca is not None:
        out["pca"] = pca_out
    return out
