"""``aekit train`` and ``aekit resume``: a run specification from flags and a TOML file, built
and trained by :mod:`aekit.spec`, the same calls a Python user makes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from aekit.cli.common import (
    CONTEXT_SETTINGS,
    EXIT_INTERRUPTED,
    THREADS_OPTION,
    apply_options,
    config_field_options,
    data_options,
    load_data,
    parse_data_options,
    setting_error,
    user_errors,
)
from aekit.cli.report import report_training
from aekit.config import ConfigError
from aekit.recipes import describe_recipe
from aekit.registry import model_class
from aekit.spec import PRETRAIN, RECIPES, TRAINABLE, DataSpec, RunSpec
from aekit.spec import resume as resume_run
from aekit.train import TrainConfig, is_main_process, shutdown_distributed
from aekit.train.run_folder import RunFolder
from aekit.train.tracking import LOGGERS, make_logger

# Flags every model has a field for; the rest are each model's own.
_MODEL_CONFIGS = {name: model_class(name).config_class for name in TRAINABLE}
# The class count comes from the data's labels, the image shape from the data set.
_SKIP = ("n_classes", "image_shape")
MODEL_OPTIONS = config_field_options(_MODEL_CONFIGS, skip=_SKIP)
TRAIN_OPTIONS = config_field_options({"train": TrainConfig}, skip=_SKIP)
MODEL_FIELDS = {n for cls in _MODEL_CONFIGS.values() for n in cls.__dataclass_fields__} - set(_SKIP)
TRAIN_FIELDS = set(TrainConfig.__dataclass_fields__) - set(_SKIP)

TRAIN_EPILOG = """\b
Every option may also come from --config FILE.toml, e.g.
    [data]
    name = "curves"
    n_train = 2000
    [model]
    name = "autoencoder"      # or vae, aae, vib, ib-autoencoder
    layers = "auto-256-6"
    activation = "relu"
    [train]
    epochs = 10
    lr = 2e-3
"""


def _spec_options(fn):
    return apply_options(
        fn,
        [
            click.option(
                "--model",
                "model_name",
                default=None,
                metavar="[" + "|".join(TRAINABLE) + "]",
                help="What to train: a (deep, sparse, denoising, contractive) autoencoder, a "
                "VAE, an adversarial autoencoder, a VIB classifier or an IB autoencoder (the "
                "last two learn from the data's labels). Options of other models are refused. "
                "[default: autoencoder]",
            ),
            *MODEL_OPTIONS,
            click.option(
                "--conditional/--no-conditional",
                default=None,
                help="vae: a conditional VAE on the data's labels. [default: off]",
            ),
            click.option(
                "--pretrain",
                default=None,
                metavar="[" + "|".join(PRETRAIN) + "]",
                help="Greedy layer-wise pretraining before fine-tuning: 'ae' stacks one "
                "(denoising, with --corruption) autoencoder per layer; 'rbm' one RBM per layer "
                "with the settings of Hinton & Salakhutdinov 2006 (CD-1, --epochs per RBM; "
                "needs logistic hidden units); both then unroll into the deep autoencoder. "
                "[default: none]",
            ),
            *TRAIN_OPTIONS,
            click.option(
                "--recipe",
                default=None,
                type=click.Choice(RECIPES),
                help="autoencoder: 'auto' fills in what the flags leave open from aekit's "
                "default recipe for the data (ELU units, a one-cycle Adam schedule, a length and "
                "a code size for the data's size and width, bf16 where the CPU has it; printed "
                "at the start); 'none' keeps the model's and TrainConfig's own defaults, the "
                "lecture's settings. [default: auto]",
            ),
            THREADS_OPTION,
        ],
    )


def spec_from_command_line(
    params: dict[str, Any], config_file: str | None, data_name: str | None, data_dir, data_option
) -> RunSpec:
    """The run specification: the --config file's tables, then the flags given on top."""
    spec = RunSpec.from_toml(config_file) if config_file else RunSpec()
    data: DataSpec | None
    if data_name is not None or data_option or data_dir is not None:
        base = spec.data or DataSpec(data_name or "?")
        data = DataSpec(
            data_name if data_name is not None else base.name,
            data_dir if data_dir is not None else base.data_dir,
            {**base.options, **parse_data_options(data_option)},
        ).resolved()
        if data.name == "?":
            raise click.UsageError("no data: pass --data NAME_OR_PATH or set name in [data]")
    else:
        data = spec.data
    if data is None:
        raise click.UsageError(
            "no data: pass --data NAME_OR_PATH or set name in [data] of --config"
        )
    given = {k: v for k, v in params.items() if v is not None}
    return RunSpec(
        data=data,
        model=given.get("model_name", spec.model),
        model_config={**spec.model_config, **{k: given[k] for k in MODEL_FIELDS if k in given}},
        train={**spec.train, **{k: given[k] for k in TRAIN_FIELDS if k in given}},
        pretrain=given.get("pretrain", spec.pretrain),
        conditional=given.get("conditional", spec.conditional),
        threads=given.get("threads", spec.threads),
        recipe=given.get("recipe", spec.recipe),
        command="aekit train",
    )


def _interrupted(ctx: click.Context, run_dir: Path) -> None:
    if not is_main_process():  # under torchrun, rank 0 speaks for the run
        ctx.exit(EXIT_INTERRUPTED)
    latest = run_dir / "latest.json"
    if latest.is_file():
        info = json.loads(latest.read_text())
        click.echo(
            f"interrupted: the checkpoint of epoch {info.get('epoch', 0) + 1} is kept in "
            f"{run_dir / info['checkpoint']}; continue with: aekit resume {run_dir}",
            err=True,
        )
    else:
        click.echo(
            f"interrupted before the first epoch finished: nothing to resume in {run_dir}; "
            "run the train command again",
            err=True,
        )
    ctx.exit(EXIT_INTERRUPTED)


def _finish(run, history, seconds: float, run_dir: Path, compare_pca: bool = True) -> None:
    """Report a finished run; under torchrun only rank 0 does, the others just leave."""
    main_rank = is_main_process()
    shutdown_distributed()
    if main_rank:
        report_training(run, history, seconds, run_dir, compare_pca=compare_pca)


@click.command(context_settings=CONTEXT_SETTINGS, epilog=TRAIN_EPILOG)
@click.option(
    "--data",
    "data_name",
    default=None,
    metavar="NAME_OR_PATH",
    help="A data set name (mnist, fashion-mnist, digits, curves) or a .npy/.npz/.csv file. "
    "[default: the config file's [data] name; one of the two is required]",
)
@data_options
@_spec_options
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML file with [data] (name, data_dir, loader options; paths relative to the "
    "file), [model] (name, conditional and the model config's fields) and [train] "
    "(TrainConfig's fields, pretrain, threads) tables; flags override it. [default: none]",
)
@click.option(
    "--out",
    "run_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Run directory for checkpoints, metrics.jsonl and the final model (RUN_DIR/model).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    default=False,
    help="Start afresh even if --out already holds a run (else use `aekit resume`). [default: off]",
)
@click.option(
    "--log",
    "log_to",
    type=click.Choice(LOGGERS),
    default=None,
    help="Also log the run to TensorBoard (RUN_DIR/tensorboard) or MLflow (its default store, "
    "$MLFLOW_TRACKING_URI); needs aekit[tensorboard] or aekit[mlflow]. [default: none]",
)
@click.option(
    "--compare-pca/--no-compare-pca",
    default=True,
    show_default=True,
    help="At the end, fit PCA with as many components as the code has units on the training "
    "rows and print its test error beside the model's (a small part of the run's time).",
)
@click.pass_context
@user_errors
def train(
    ctx,
    data_name,
    data_dir,
    data_option,
    config_file,
    run_dir,
    overwrite,
    log_to,
    compare_pca,
    **params,
):
    """Train a model (--model: autoencoder, vae, aae, vib, ib-autoencoder) on a data set or
    a data file; save it in RUN_DIR/model.

    An autoencoder prints the train and test error (squared error summed over features,
    averaged over samples); the other models print their own held-out metrics. vib and
    ib-autoencoder (and vae --conditional) learn from the data's labels. Ctrl-C keeps the last
    finished epoch's checkpoint: continue with `aekit resume RUN_DIR`.
    """
    try:
        spec = spec_from_command_line(params, config_file, data_name, data_dir, data_option)
    except (ValueError, TypeError, OSError) as err:
        raise setting_error(err) from None
    if not run_dir.strip():  # Path("") is the current folder: never train into it unasked
        raise click.BadParameter(
            "is empty; name the run's folder, e.g. runs/first", param_hint="'--out'"
        )
    run_path = Path(run_dir)
    callbacks = [make_logger(log_to, run_path)] if log_to else []
    if RunFolder(run_path).holds_run() and not overwrite:
        raise click.UsageError(
            f"{run_path} already holds a run; continue it with `aekit resume {run_path}` or "
            "pass --overwrite to start afresh"
        )
    # With --overwrite the old run stays whole until the new one has finished its first epoch:
    # the trainer builds it beside the old one and swaps them then.
    t0 = time.perf_counter()
    assert spec.data is not None
    data = load_data(spec.data.name, spec.data.data_dir, spec.data.options)
    try:
        run = spec.build(data, started=t0)
    except ConfigError as err:  # settings that do not fit the data: a usage error
        raise setting_error(err) from None
    if run.recipe:
        click.echo(describe_recipe(run.recipe))
    for key, value in run.suggested.items():
        click.echo(f"{key} = {value}: what this {spec.model} trains best with (its docs)")
    try:
        history = run.fit(run_path, callbacks=callbacks)
    except KeyboardInterrupt:
        _interrupted(ctx, run_path)
        return
    _finish(run, history, time.perf_counter() - t0, run_path, compare_pca)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--device",
    default=None,
    help="Override the run's device ('auto', 'cpu', 'cuda[:N]'). [default: the run's]",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar. [default: the run's setting]",
)
@THREADS_OPTION
@click.option(
    "--force-data",
    is_flag=True,
    default=False,
    help="Resume even though the data differs from the data the run trained on (its shape or "
    "a hash of a sample of its rows changed). [default: off]",
)
@click.pass_context
@user_errors
def resume(ctx, run_dir: str, device, progress, threads, force_data: bool):
    """Continue an interrupted `aekit train` run from its last checkpoint.

    Rebuilds the run from the specification saved in RUN_DIR/run.json, reloads its data and
    trains the remaining epochs; the result is the same as if the run had never stopped.
    """
    run_path = Path(run_dir)
    if not (run_path / "run.json").is_file():
        raise click.BadParameter(
            f"{run_path} is not an aekit run directory (no run.json); pass the --out directory "
            "of an `aekit train` run",
            param_hint="'RUN_DIR'",
        )
    if not (run_path / "latest.json").is_file():
        click.echo(
            f"{run_path} stopped before its first checkpoint: starting the run again from its "
            "saved specification",
            err=True,
        )
    overrides = {k: v for k, v in (("device", device), ("progress", progress)) if v is not None}
    t0 = time.perf_counter()
    try:
        run, history = resume_run(run_path, overrides, threads=threads, force_data=force_data)
    except KeyboardInterrupt:
        _interrupted(ctx, run_path)
        return
    _finish(run, history, time.perf_counter() - t0, run_path)
