"""The ``aekit`` command line: ``demo``, ``train``, ``resume``, ``encode``, ``reconstruct``,
``evaluate``.

This module only wires the library together and checks what the user typed: every number it
prints comes from :mod:`aekit.train`, :mod:`aekit.evaluate` or :mod:`aekit.baselines`. A bad
value is reported as one line through click (exit code 2 for a bad option, 1 for a failure
while running), never as a traceback.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from click.core import ParameterSource

from aekit import __version__
from aekit.baselines import PCABaseline
from aekit.data import (
    BagOfWords,
    check_nonempty,
    list_datasets,
    load_array,
    load_corpus,
    load_dataset,
    strip_header,
)
from aekit.evaluate import mean_squared_error_per_sample, search
from aekit.experiments.demo import PRESETS, format_summary, run_demo
from aekit.experiments.documents import run_documents
from aekit.experiments.generative import write_generative_report
from aekit.experiments.hinton2006 import EXPERIMENTS as HINTON2006
from aekit.experiments.hinton2006 import run_experiment as run_hinton2006
from aekit.experiments.ib_examples import EXAMPLES as IB_EXAMPLES
from aekit.experiments.ib_examples import format_summary as format_ib_summary
from aekit.experiments.ib_examples import run_example as run_ib_example
from aekit.io import atomic_write_text, config_from_dict, load_model
from aekit.likelihoods import LIKELIHOODS
from aekit.models import (
    VAE,
    AAEConfig,
    AdversarialAutoencoder,
    Autoencoder,
    AutoencoderConfig,
    DocumentAutoencoder,
    IBAutoencoder,
    IBAutoencoderConfig,
    VAEConfig,
    VIBClassifier,
    VIBConfig,
)
from aekit.models.autoencoder import CONTRACTIVE_METHODS
from aekit.nn import ACTIVATIONS, parse_layers
from aekit.priors import PRIORS
from aekit.regularizers import CORRUPTIONS
from aekit.train import (
    NonFiniteLossError,
    PeerFailedError,
    TrainConfig,
    Trainer,
    is_main_process,
    load_run,
    pretrain_stacked,
    rbm_pretrainer,
    shutdown_distributed,
    train_config_from_dict,
)
from aekit.train.trainer import OPTIMIZERS, SCHEDULES
from aekit.viz.figures import save_figure
from aekit.viz.generative import sample_figure

# Choices come from the library's own registries, so a new activation or likelihood shows up
# here without touching this file.
ACTIVATION_CHOICES = list(ACTIVATIONS)
LIKELIHOOD_CHOICES = list(LIKELIHOODS)
CORRUPTION_CHOICES = ["none", *CORRUPTIONS]
CONTRACTIVE_CHOICES = list(CONTRACTIVE_METHODS)
OPTIMIZER_CHOICES = list(OPTIMIZERS)
SCHEDULE_CHOICES = list(SCHEDULES)
PRETRAIN_CHOICES = ["none", "ae", "rbm"]
# `aekit train --model NAME`: the class, its config, and whether it learns from labels
# ("labels": always; "optional": a conditional VAE when --conditional).
MODELS: dict[str, tuple[type, type, str]] = {
    "autoencoder": (Autoencoder, AutoencoderConfig, "no"),
    "vae": (VAE, VAEConfig, "optional"),
    "aae": (AdversarialAutoencoder, AAEConfig, "no"),
    "vib": (VIBClassifier, VIBConfig, "labels"),
    "ib-autoencoder": (IBAutoencoder, IBAutoencoderConfig, "labels"),
}
PRIOR_CHOICES = sorted(PRIORS)
ARRAY_SUFFIXES = (".npy", ".csv")
EXIT_INTERRUPTED = 130

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _one_line(err: BaseException | str) -> str:
    text = str(err).strip() or type(err).__name__
    # A FileNotFoundError from the OS stringifies as "[Errno 2] ...": keep only the message.
    if isinstance(err, OSError) and err.strerror and err.filename:
        text = f"{err.strerror}: {err.filename}"
    return " ".join(text.split())


def _user_errors(fn: Callable) -> Callable:
    """Turn the library's input errors into one-line click errors (exit code 1)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except (
            ValueError,
            TypeError,
            OSError,  # a missing file, a path through a file, a directory where a file goes
            NonFiniteLossError,
            PeerFailedError,  # another torchrun rank failed; its own error is printed too
        ) as err:
            raise click.ClickException(_one_line(err)) from None
        except FloatingPointError as err:  # a model's own non-finite check (e.g. the VAE's KL)
            raise click.ClickException(_one_line(err)) from None

    return wrapper


# Layer specs -------------------------------------------------------------------------------


def _parse_layer_spec(text: str) -> list[int | None]:
    """``"auto-500-30"`` -> ``[None, 500, 30]``; raises ValueError with the fix."""
    parts = [p.strip() for p in str(text).replace(",", "-").split("-")]
    auto = parts[0].lower() == "auto"
    if auto and len(parts) < 2:
        raise ValueError("layer spec 'auto' needs at least a code width, e.g. 'auto-30'")
    # Validate with the library's parser; 'auto' stands in as width 1 until the data is known.
    sizes = parse_layers("-".join(["1", *parts[1:]]) if auto else str(text))
    return [None, *sizes[1:]] if auto else list(sizes)


def _layers_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        _parse_layer_spec(value)
    except (ValueError, TypeError) as err:
        raise click.BadParameter(_one_line(err), ctx, param) from None
    return value


def _resolve_layers(spec: str | list, n_features: int) -> list[int]:
    """Fill an ``auto`` first width with the data's width and check that they agree."""
    layers = _parse_layer_spec("-".join(map(str, spec)) if isinstance(spec, list) else spec)
    if layers[0] is None:
        return [n_features, *layers[1:]]  # type: ignore[list-item]
    if layers[0] != n_features:
        rest = "-".join(str(w) for w in layers[1:])
        raise click.BadParameter(
            f"the layer spec starts at width {layers[0]} but the data has {n_features} "
            f"features; write {n_features}-{rest} or auto-{rest}",
            param_hint="'--layers'",
        )
    return layers  # type: ignore[return-value]


# Data ----------------------------------------------------------------------------------------


def _parse_data_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{pair!r} is not KEY=VALUE, e.g. n_train=2000", param_hint="'--data-option'"
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # a bare word is a string
        options[key.strip()] = value
    return options


def _is_dataset_name(name: str) -> bool:
    if not isinstance(name, str):  # e.g. name = 5 in a config file's [data] table
        raise click.BadParameter(
            f"the data name must be a string (a data set's name or a path), got {name!r}",
            param_hint="'--data'",
        )
    return name.strip().lower().replace("_", "-") in list_datasets()


def _data_spec(name: str, data_dir: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """The data arguments as stored in run.json: paths made absolute so resume finds them."""
    if not _is_dataset_name(name) and Path(name).expanduser().exists():
        name = str(Path(name).expanduser().resolve())
    return {
        "name": name,
        "data_dir": str(Path(data_dir).expanduser().resolve()) if data_dir else None,
        "options": options,
    }


def _load_data(spec: dict[str, Any], hint: str = "'--data'"):
    try:
        return load_dataset(spec["name"], data_dir=spec.get("data_dir"), **spec.get("options", {}))
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise click.BadParameter(_one_line(err), param_hint=hint) from None


def _load_rows(
    name: str, data_dir: str | None, options: dict[str, Any], split: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows to encode or reconstruct, as float32, and their labels when the data has them.

    A file with ``--split all`` is read whole and in order (so output row i is input row i);
    otherwise the data set's train/test split is used, ``all`` meaning train then test.
    """
    if split == "all" and not _is_dataset_name(name) and Path(name).expanduser().is_file():
        try:
            x = load_array(Path(name).expanduser())
        except (ValueError, TypeError, FileNotFoundError) as err:
            raise click.BadParameter(_one_line(err), param_hint="'--data'") from None
        # The same scaling as load_dataset: raw pixel bytes become intensities in [0, 1].
        scale = np.float32(255.0 if x.dtype == np.uint8 else 1.0)
        return np.asarray(x, dtype=np.float32) / scale, None
    ds = _load_data(_data_spec(name, data_dir, options))
    if split == "train":
        return ds.x_train, ds.y_train
    if split == "test":
        return ds.x_test, ds.y_test
    labels = None if ds.y_train is None else np.concatenate([ds.y_train, ds.y_test])
    return np.concatenate([ds.x_train, ds.x_test]), labels


def _check_width(x: np.ndarray, model, what: str = "'--data'") -> None:
    n_in = model.config.layers[0]
    if x.shape[1] != n_in:
        raise click.BadParameter(
            f"the data has {x.shape[1]} features but the model's input layer has {n_in}; "
            "pass data of the width the model was trained on",
            param_hint=what,
        )


# Models ----------------------------------------------------------------------------------------


def _resolve_model_dir(path: str) -> Path:
    """A saved model dir, or a run dir whose ``model/`` holds the final model."""
    p = Path(path)
    if (p / "config.json").is_file():
        return p
    if (p / "model" / "config.json").is_file():
        return p / "model"
    if (p / "run.json").is_file():
        raise click.BadParameter(
            f"the run in {p} has no final model yet (was it interrupted?); finish it with "
            f"`aekit resume {p}`",
            param_hint="'MODEL_DIR'",
        )
    raise click.BadParameter(
        f"{p} is neither a saved model (config.json + model.safetensors) nor a run directory "
        "of `aekit train`",
        param_hint="'MODEL_DIR'",
    )


def _load_model(path: str, needs: tuple[str, ...] = ("transform", "reconstruct")):
    """The saved model, refused with a clear message when it lacks a method the command uses."""
    model_dir = _resolve_model_dir(path)
    try:
        model = load_model(model_dir)
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise click.BadParameter(_one_line(err), param_hint="'MODEL_DIR'") from None
    missing = [name for name in needs if not hasattr(model, name)]
    if missing:
        raise click.BadParameter(
            f"{model_dir} holds a {type(model).__name__}, which cannot {missing[0]}; this "
            "command needs a model that can",
            param_hint="'MODEL_DIR'",
        )
    return model.eval()


def _apply_to_file(method: Callable, x, path: str | None) -> np.ndarray:
    """``method(x)``, written batch by batch straight into ``path`` when it is a ``.npy`` and
    the method takes ``out=`` (the returned memmap is then already the file)."""
    if path is not None and Path(path).suffix.lower() == ".npy":
        if "out" in inspect.signature(method).parameters:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            return method(x, out=path)
    return method(x)


def _write_array(x: np.ndarray, path: str | None) -> str:
    """Write to ``.npy`` or ``.csv``; without a path, CSV to stdout. A memmap already backed
    by ``path`` (see :func:`_apply_to_file`) is left as written."""
    if isinstance(x, np.memmap) and path is not None and x.filename is not None:
        if Path(x.filename).resolve() == Path(path).resolve():
            return str(Path(path))
    if path is None:
        np.savetxt(sys.stdout, x, delimiter=",", fmt="%.7g")
        return "stdout"
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".npy":
        np.save(p, x)
    else:
        np.savetxt(p, x, delimiter=",", fmt="%.7g")
    return str(p)


def _out_array_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is not None and Path(value).suffix.lower() not in ARRAY_SUFFIXES:
        raise click.BadParameter(
            f"{value!r} should end in {' or '.join(ARRAY_SUFFIXES)}", ctx, param
        )
    return value


# Options shared by commands ------------------------------------------------------------------


def _data_options(fn: Callable) -> Callable:
    for decorator in reversed(
        [
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False),
                default=None,
                help="Folder of the reference data sets (mnist/, fashion-mnist/). "
                "[default: $AEKIT_DATA_DIR]",
            ),
            click.option(
                "--data-option",
                "data_option",
                multiple=True,
                metavar="KEY=VALUE",
                help="Keyword argument for the data loader, repeatable, e.g. n_train=2000 "
                "(curves), test_size=0.2 (digits), test_fraction=0.1 (files). [default: none]",
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


# The flags of `aekit train` are AutoencoderConfig's and TrainConfig's fields of these names,
# with the dataclasses' defaults (the layer spec's default takes the data's input width).
MODEL_FLAGS = (
    "layers", "activation", "code_activation", "likelihood", "tied", "weight_decay",
    "sparsity_weight", "sparsity_target", "contractive_weight", "contractive_method",
    "contractive_projections", "corruption", "corruption_level",
)  # fmt: skip
TRAIN_FLAGS = (
    "epochs", "batch_size", "optimizer", "lr", "lr_schedule", "val_fraction", "patience",
    "seed", "ema_decay", "augment_shift", "augment_prob", "device", "bf16", "progress",
)  # fmt: skip
# Flags of the other models; None means "that model's own default".
OTHER_MODEL_FLAGS = (
    "beta", "kl_warmup_steps", "binarize", "prior", "n_clusters", "discriminator_layers",
    "label_weight",
)  # fmt: skip
MODEL_DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(AutoencoderConfig) if f.name in MODEL_FLAGS},
    "layers": "auto-256-32",
}
TRAIN_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in fields(TrainConfig) if f.name in TRAIN_FLAGS
}
OTHER_MODEL_DEFAULTS: dict[str, Any] = dict.fromkeys(OTHER_MODEL_FLAGS)
# Settings of `aekit train` beyond TrainConfig's fields, also accepted in the [train] table.
EXTRA_TRAIN_KEYS = ("pretrain", "threads")
# Keys of the [model] table beyond the configs' fields.
EXTRA_MODEL_KEYS = ("name", "conditional")


_THREADS_OPTION = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="torch's choice",
    help="CPU threads for torch. On a shared machine 1 can be several times faster than "
    "more, because threads of small layers wait for each other.",
)


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def _model_train_options(fn: Callable) -> Callable:
    M, T = MODEL_DEFAULTS, TRAIN_DEFAULTS
    options = [
        click.option(
            "--model",
            "model_name",
            type=click.Choice(list(MODELS)),
            default="autoencoder",
            show_default=True,
            help="What to train: a (deep, sparse, denoising, contractive) autoencoder, a VAE, "
            "an adversarial autoencoder, a VIB classifier or an IB autoencoder (the last two "
            "learn from the data's labels). Options of other models are refused.",
        ),
        click.option(
            "--layers",
            default=M["layers"],
            show_default=True,
            callback=_layers_callback,
            help="Encoder widths from input to code, dash-separated; the decoder mirrors "
            "them. The first may be 'auto' to take the data's width.",
        ),
        click.option(
            "--activation",
            type=click.Choice(ACTIVATION_CHOICES),
            default=M["activation"],
            show_default=True,
            help="Hidden-layer activation.",
        ),
        click.option(
            "--code-activation",
            type=click.Choice(ACTIVATION_CHOICES),
            default=M["code_activation"],
            show_default=True,
            help="Code-layer activation (linear as in Hinton & Salakhutdinov 2006).",
        ),
        click.option(
            "--likelihood",
            type=click.Choice(LIKELIHOOD_CHOICES),
            default=M["likelihood"],
            show_default=True,
            help="Reconstruction term: bernoulli for data in [0, 1], gaussian (squared error) "
            "for real values, poisson or softmax for counts.",
        ),
        click.option(
            "--tied/--untied",
            default=M["tied"],
            show_default=True,
            help="Tie the decoder's weights to the encoder's transposes.",
        ),
        click.option(
            "--weight-decay",
            type=click.FloatRange(min=0),
            default=M["weight_decay"],
            show_default=True,
            help="L2 penalty lambda/2 * sum ||W||^2 on the weights.",
        ),
        click.option(
            "--sparsity-weight",
            type=click.FloatRange(min=0),
            default=M["sparsity_weight"],
            show_default=True,
            help="Weight of the KL sparsity penalty (needs logistic units).",
        ),
        click.option(
            "--sparsity-target",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=M["sparsity_target"],
            show_default=True,
            help="Target mean activation rho of the sparsity penalty, in (0, 1).",
        ),
        click.option(
            "--contractive-weight",
            type=click.FloatRange(min=0),
            default=M["contractive_weight"],
            show_default=True,
            help="Weight of the contractive penalty ||J_encoder(x)||_F^2.",
        ),
        click.option(
            "--contractive-method",
            type=click.Choice(CONTRACTIVE_CHOICES),
            default=M["contractive_method"],
            show_default=True,
            help="How the contractive penalty is computed (auto picks per architecture).",
        ),
        click.option(
            "--contractive-projections",
            type=click.IntRange(min=1),
            default=M["contractive_projections"],
            show_default=True,
            help="Random projections per step for --contractive-method projection.",
        ),
        click.option(
            "--corruption",
            type=click.Choice(CORRUPTION_CHOICES),
            default=M["corruption"],
            show_default=True,
            help="Input corruption during training (denoising autoencoder).",
        ),
        click.option(
            "--corruption-level",
            type=click.FloatRange(min=0),
            default=M["corruption_level"],
            show_default=True,
            help="Masking / salt-and-pepper probability, or the Gaussian noise's std.",
        ),
        click.option(
            "--beta",
            type=click.FloatRange(min=0),
            default=None,
            help="vae, vib, ib-autoencoder: weight of the KL term (the rate). [default: the "
            "model's: 1 for vae, 1e-3 for vib, 1e-2 for ib-autoencoder]",
        ),
        click.option(
            "--kl-warmup-steps",
            type=click.IntRange(min=0),
            default=None,
            help="vae: ramp the KL weight from 0 to beta over this many steps. [default: 0]",
        ),
        click.option(
            "--binarize/--no-binarize",
            default=None,
            help="vae: resample every training batch as Bernoulli(x) (dynamic binarization). "
            "[default: off]",
        ),
        click.option(
            "--conditional",
            is_flag=True,
            default=False,
            help="vae: a conditional VAE on the data's labels. [default: off]",
        ),
        click.option(
            "--prior",
            type=click.Choice(PRIOR_CHOICES),
            default=None,
            help="aae: the prior the codes are matched to (gaussian_ring and swiss_roll need a "
            "2-d code). [default: gaussian]",
        ),
        click.option(
            "--n-clusters",
            type=click.IntRange(min=0),
            default=None,
            help="aae: unsupervised clustering into this many clusters (0: none). [default: 0]",
        ),
        click.option(
            "--discriminator-layers",
            default=None,
            help="aae: hidden widths of the discriminator, dash-separated. [default: 1000-1000]",
        ),
        click.option(
            "--label-weight",
            type=click.FloatRange(min=0),
            default=None,
            help="ib-autoencoder: weight of the label term -log q(y|z). [default: 1]",
        ),
        click.option(
            "--ema-decay",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=None,
            help="Train with a moving average of the weights (Polyak averaging) of this decay; "
            "the average is the final model. [default: none]",
        ),
        click.option(
            "--pretrain",
            type=click.Choice(PRETRAIN_CHOICES),
            default="none",
            show_default=True,
            help="Greedy layer-wise pretraining before fine-tuning: 'ae' stacks one "
            "(denoising, with --corruption) autoencoder per layer; 'rbm' one RBM per layer "
            "with the settings of Hinton & Salakhutdinov 2006 (CD-1, --epochs per RBM; needs "
            "logistic hidden units); both then unroll into the deep autoencoder.",
        ),
        click.option(
            "--epochs",
            type=click.IntRange(min=1),
            default=T["epochs"],
            show_default=True,
            help="Passes over the training set.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=T["batch_size"],
            show_default=True,
            help="Minibatch size.",
        ),
        click.option(
            "--optimizer",
            type=click.Choice(OPTIMIZER_CHOICES),
            default=T["optimizer"],
            show_default=True,
            help="Optimizer (sgd uses momentum 0.9).",
        ),
        click.option(
            "--lr",
            type=click.FloatRange(min=0, min_open=True),
            default=T["lr"],
            show_default=True,
            help="Base learning rate.",
        ),
        click.option(
            "--lr-schedule",
            type=click.Choice(SCHEDULE_CHOICES),
            default=T["lr_schedule"],
            show_default=True,
            help="Per-epoch learning-rate schedule.",
        ),
        click.option(
            "--val-fraction",
            type=click.FloatRange(0, 1, max_open=True),
            default=T["val_fraction"],
            show_default=True,
            help="Fraction of the training data held out for validation and early stopping.",
        ),
        click.option(
            "--patience",
            type=click.IntRange(min=1),
            default=T["patience"],
            show_default="none",
            help="Stop after this many epochs without a validation improvement; none trains "
            "every epoch.",
        ),
        click.option(
            "--seed",
            type=click.IntRange(min=0),
            default=T["seed"],
            show_default=True,
            help="Seed of the initialisation, the validation split, shuffling and corruption.",
        ),
        click.option(
            "--device",
            default=T["device"],
            show_default=True,
            help="'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'.",
        ),
        click.option(
            "--augment-shift",
            type=click.IntRange(min=0),
            default=T["augment_shift"],
            show_default=True,
            help="Image data: move training images by up to this many pixels each way (random, "
            "zero-filled; input and target alike). 0 is off.",
        ),
        click.option(
            "--augment-prob",
            type=click.FloatRange(0, 1, min_open=True),
            default=T["augment_prob"],
            show_default=True,
            help="Share of each batch's images that --augment-shift moves.",
        ),
        click.option(
            "--bf16/--no-bf16",
            default=T["bf16"],
            show_default=True,
            help="bfloat16 autocast for the forward pass.",
        ),
        click.option(
            "--progress/--no-progress",
            default=T["progress"],
            show_default=True,
            help="Show a progress bar.",
        ),
        _THREADS_OPTION,
    ]
    for decorator in reversed(options):
        fn = decorator(fn)
    return fn


# Config files ------------------------------------------------------------------------------


def _read_config_file(path: str) -> dict[str, dict[str, Any]]:
    """Read a TOML file of ``[data]``, ``[model]`` and ``[train]`` tables, checking the keys."""
    hint = "'--config'"
    try:
        data = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as err:
        raise click.BadParameter(
            f"{path} is not valid TOML: {_one_line(err)}", param_hint=hint
        ) from None
    except OSError as err:
        raise click.BadParameter(_one_line(err), param_hint=hint) from None
    known = {
        "model": {f.name for _, cfg, _ in MODELS.values() for f in fields(cfg)}
        | set(EXTRA_MODEL_KEYS),
        "train": {f.name for f in fields(TrainConfig)} | set(EXTRA_TRAIN_KEYS),
    }
    unknown_tables = sorted(set(data) - {"data", "model", "train"})
    if unknown_tables:
        raise click.BadParameter(
            f"{path} has unknown tables or keys {unknown_tables}; use [data], [model], [train]",
            param_hint=hint,
        )
    for table, value in data.items():
        if not isinstance(value, dict):
            raise click.BadParameter(f"{path}: '{table}' must be a table", param_hint=hint)
        if table in known:
            unknown = sorted(set(value) - known[table])
            if unknown:
                raise click.BadParameter(
                    f"{path}: unknown [{table}] keys {unknown}; known keys: {sorted(known[table])}",
                    param_hint=hint,
                )
    return {t: dict(data.get(t, {})) for t in ("data", "model", "train")}


def _merge(ctx: click.Context, names, table: dict[str, Any]) -> dict[str, Any]:
    """Flags given on the command line win over the file, which wins over the defaults."""
    out = {}
    for name in names:
        source = ctx.get_parameter_source(name)
        from_user = source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
        out[name] = table[name] if name in table and not from_user else ctx.params[name]
    return out


def _from_user(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _other_model_kwargs(
    ctx: click.Context, model_name: str, table: dict[str, Any], n_features: int
) -> dict[str, Any]:
    """Config fields of a non-autoencoder model from flags given and the [model] table; any
    flag or key that model does not have is refused, so nothing is silently ignored."""
    config_cls = MODELS[model_name][1]
    known = {f.name for f in fields(config_cls)}
    out: dict[str, Any] = {}
    for name in (*MODEL_FLAGS, *OTHER_MODEL_FLAGS):
        if _from_user(ctx, name):
            value = ctx.params[name]
        elif name in table:
            value = table[name]
        else:
            continue
        if name not in known:
            flags = sorted(k for k in (*MODEL_FLAGS, *OTHER_MODEL_FLAGS) if k in known)
            raise click.UsageError(
                f"{_flag(name)} does not apply to --model {model_name}; its options are "
                f"{', '.join(map(_flag, flags))} (and in a --config [model] table: "
                f"{', '.join(sorted(known - set(flags)))})"
            )
        out[name] = value
    unknown = sorted(set(table) - known - set(out))
    if unknown:
        raise click.UsageError(
            f"[model] keys {unknown} do not apply to --model {model_name}; its keys are "
            f"{sorted(known)}"
        )
    if "layers" in out:
        out["layers"] = _resolve_layers(out["layers"], n_features)
    else:  # the model's own default architecture, on the data's width
        default = config_cls().layers
        out["layers"] = [n_features, *default[1:]]
    # Width lists such as --discriminator-layers 1000-1000 are parsed by the model's config.
    return out


def _labels_for(model_name: str, conditional: bool, data) -> np.ndarray | None:
    """The training labels the model learns from, or None; a clear error when missing."""
    mode = MODELS[model_name][2]
    if conditional and mode != "optional":
        raise click.UsageError(f"--conditional applies to --model vae, not {model_name}")
    if mode == "labels" or (mode == "optional" and conditional):
        if data.y_train is None:
            raise click.BadParameter(
                f"--model {model_name}{' --conditional' if conditional else ''} learns from "
                f"labels, and {data.name} has none; use a labelled data set (mnist, digits, "
                "an .npz holding arrays x and y) or another model",
                param_hint="'--data'",
            )
        return data.y_train
    return None


# Interrupts ----------------------------------------------------------------------------------


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


def _finish_training(*args) -> None:
    """Report a finished run; under torchrun only rank 0 does, the others just leave."""
    main_rank = is_main_process()
    shutdown_distributed()
    if main_rank:
        _report_training(*args)


def _report_training(
    model, history, data, seconds: float, run_dir: Path, labelled: bool = False
) -> None:
    layers = "-".join(map(str, model.config.layers))
    best = f", best epoch {history.best_epoch}" if history.best_epoch is not None else ""
    click.echo(
        f"trained a {layers} {model.registered_name} on {data.name} for "
        f"{len(history.records)} epochs in {seconds:.1f} s{best}"
    )
    if not isinstance(model, Autoencoder):
        # Each model's own held-out metrics (ELBO terms, error, reconstruction NLL, ...).
        if len(data.x_test):
            scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
            metrics = scorer.evaluate(data.x_test, y=data.y_test if labelled else None)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            click.echo(f"test: {shown}")
        click.echo(f"model saved to {run_dir / 'model'}")
        return
    train_err = mean_squared_error_per_sample(data.x_train, model.reconstruct(data.x_train))
    click.echo(f"train error (squared error per sample): {train_err:.4f}")
    if len(data.x_test):
        test_err = mean_squared_error_per_sample(data.x_test, model.reconstruct(data.x_test))
        click.echo(f"test error  (squared error per sample): {test_err:.4f}")
    click.echo(f"model saved to {run_dir / 'model'}")


# Commands ----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="aekit")
def main() -> None:
    """Autoencoders and their relatives on PyTorch: train, use and compare them with PCA.

    Start with `aekit demo`, which trains deep autoencoders and PCA on built-in data and
    writes an HTML report.
    """


@main.command(context_settings=CONTEXT_SETTINGS)
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
@_user_errors
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


@main.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data",
    "data_name",
    default=None,
    metavar="NAME_OR_PATH",
    help="A data set name (mnist, fashion-mnist, digits, curves) or a .npy/.npz/.csv file. "
    "[default: the config file's [data] name; one of the two is required]",
)
@_data_options
@_model_train_options
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML file with [data] (name, data_dir, loader options; paths relative to the "
    "file), [model] and [train] tables using the field names of AutoencoderConfig and "
    "TrainConfig (plus pretrain, threads); flags override it. [default: none]",
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
    show_default=True,
    help="Start afresh even if --out already holds a run (else use `aekit resume`). [default: off]",
)
@click.pass_context
@_user_errors
def train(
    ctx: click.Context, data_name, data_dir, data_option, config_file, run_dir, overwrite, **_
):
    """Train a model (--model: autoencoder, vae, aae, vib, ib-autoencoder) on a data set or
    a data file; save it in RUN_DIR/model.

    Every option may also come from --config FILE.toml, e.g.

    \b
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

    An autoencoder prints the train and test error (squared error summed over features,
    averaged over samples); the other models print their own held-out metrics. vib and
    ib-autoencoder (and vae --conditional) learn from the data's labels. Ctrl-C keeps the last
    finished epoch's checkpoint: continue with `aekit resume RUN_DIR`.
    """
    tables = (
        _read_config_file(config_file) if config_file else {"data": {}, "model": {}, "train": {}}
    )
    file_data = dict(tables["data"])
    file_name, file_dir = file_data.pop("name", None), file_data.pop("data_dir", None)
    if config_file:
        # Paths written in a config file are relative to that file, so it can travel with
        # its data.
        here = Path(config_file).parent
        if isinstance(file_name, str) and not _is_dataset_name(file_name):
            file_name = str(here / Path(file_name).expanduser())
        if isinstance(file_dir, str):
            file_dir = str(here / Path(file_dir).expanduser())
    name = data_name or file_name
    if not name:
        raise click.UsageError(
            "no data: pass --data NAME_OR_PATH or set name in [data] of --config"
        )
    options = {**file_data, **_parse_data_options(data_option)}
    spec = _data_spec(name, data_dir or file_dir, options)

    run_path = Path(run_dir)
    if (run_path / "run.json").is_file() and not overwrite:
        raise click.UsageError(
            f"{run_path} already holds a run; continue it with `aekit resume {run_path}` or "
            "pass --overwrite to start afresh"
        )
    model_table = dict(tables["model"])
    file_model = model_table.pop("name", None)
    conditional = bool(ctx.params["conditional"] or model_table.pop("conditional", False))
    model_name = ctx.params["model_name"] if _from_user(ctx, "model_name") else file_model
    model_name = model_name or "autoencoder"
    if model_name not in MODELS:
        raise click.BadParameter(
            f"unknown model {model_name!r}; choose one of {list(MODELS)}", param_hint="'--model'"
        )
    train_kwargs = _merge(ctx, TRAIN_DEFAULTS, tables["train"])
    # TrainConfig fields without a flag (lr_gamma, adam_betas, image_shape, ...) come from the
    # file alone.
    train_fields = {f.name for f in fields(TrainConfig)}
    for key, value in tables["train"].items():
        if key in train_fields and key not in train_kwargs:
            train_kwargs[key] = value
    extra = _merge(ctx, EXTRA_TRAIN_KEYS, tables["train"])
    pretrain = extra["pretrain"]
    if extra["threads"] is not None and (
        isinstance(extra["threads"], bool)
        or not isinstance(extra["threads"], int)
        or extra["threads"] < 1
    ):
        raise click.BadParameter(
            f"threads must be a positive integer, got {extra['threads']!r}",
            param_hint="'--threads'",
        )
    if pretrain not in PRETRAIN_CHOICES:
        raise click.BadParameter(
            f"unknown pretrain {pretrain!r}; choose one of {PRETRAIN_CHOICES}",
            param_hint="'--pretrain'",
        )
    if pretrain != "none" and model_name != "autoencoder":
        raise click.UsageError(f"--pretrain applies to --model autoencoder, not {model_name}")
    if model_name == "autoencoder":
        for name in OTHER_MODEL_FLAGS:
            if _from_user(ctx, name) or name in model_table:
                raise click.UsageError(
                    f"{_flag(name)} does not apply to --model autoencoder; pick the model it "
                    "belongs to with --model"
                )

    data = _load_data(spec)
    labels = _labels_for(model_name, conditional, data)
    model_cls, config_cls, _ = MODELS[model_name]
    if model_name == "autoencoder":
        model_kwargs = _merge(ctx, MODEL_DEFAULTS, model_table)
        model_kwargs["layers"] = _resolve_layers(model_kwargs["layers"], data.n_features)
    else:
        model_kwargs = _other_model_kwargs(ctx, model_name, model_table, data.n_features)
    if labels is not None and "n_classes" in {f.name for f in fields(config_cls)}:
        model_kwargs.setdefault("n_classes", int(labels.max()) + 1)
    model_config = config_cls(**model_kwargs)
    for key, value in model_cls.suggested_train_settings(model_config).items():
        if key not in train_kwargs:  # the config file's value wins
            train_kwargs[key] = value
            click.echo(f"{key} = {value}: what this {model_name} trains best with (its docs)")
    if train_kwargs["augment_shift"] and train_kwargs.get("image_shape") is None:
        if data.image_shape is None:
            raise click.UsageError(
                "--augment-shift moves images, but this data has no image shape; set "
                "image_shape = [height, width] in the config's [train] table"
            )
        train_kwargs["image_shape"] = data.image_shape
    train_config = TrainConfig(**train_kwargs)
    metadata = {
        "command": "aekit train",
        "aekit_version": __version__,
        "data": spec,
        "pretrain": pretrain,
        "labels": labels is not None,
    }

    # With --overwrite the old run stays as it is until the trainer opens the new one (after the
    # device, the optimizer and the data have passed its checks); it clears the old checkpoints
    # and model then, so a rejected run never costs the previous one.

    _set_threads(extra["threads"])
    torch.manual_seed(train_config.seed)  # the initialisation; the trainer seeds the rest
    t0 = time.perf_counter()
    try:
        if pretrain == "ae":
            model = pretrain_stacked(model_config, data.x_train, train_config)
        elif pretrain == "rbm":
            overrides = {
                "epochs": train_config.epochs,
                "seed": train_config.seed,
                "progress": train_config.progress,
                "device": train_config.device,
            }
            model = pretrain_stacked(
                model_config,
                data.x_train,
                pretrainer=rbm_pretrainer(model_config, train_overrides=overrides),
            )
        else:
            model = model_cls(model_config)
        trainer = Trainer(model, train_config, run_dir=run_path, run_metadata=metadata)
        history = trainer.fit(data.x_train, y_train=labels)
    except KeyboardInterrupt:
        _interrupted(ctx, run_path)
        return
    _finish_training(model, history, data, time.perf_counter() - t0, run_path, labels is not None)


@main.command(context_settings=CONTEXT_SETTINGS)
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
@_THREADS_OPTION
@click.pass_context
@_user_errors
def resume(
    ctx: click.Context,
    run_dir: str,
    device: str | None,
    progress: bool | None,
    threads: int | None,
) -> None:
    """Continue an interrupted `aekit train` run from its last checkpoint.

    Reloads the data named in RUN_DIR/run.json and trains the remaining epochs; the result is
    the same as if the run had never stopped.
    """
    from dataclasses import replace

    run_path = Path(run_dir)
    try:
        run = load_run(run_path)
    except FileNotFoundError as err:
        raise click.BadParameter(_one_line(err), param_hint="'RUN_DIR'") from None
    if run.get("model") not in MODELS:
        raise click.BadParameter(
            f"{run_path} holds a {run.get('model')!r} run; `aekit resume` continues runs of "
            f"`aekit train` ({', '.join(MODELS)})",
            param_hint="'RUN_DIR'",
        )
    metadata = run.get("metadata") or {}
    if "data" not in metadata:
        raise click.BadParameter(
            f"{run_path}/run.json does not say which data it was trained on (not made by "
            "`aekit train`); resume it from Python with Trainer(...).fit(x, resume=True)",
            param_hint="'RUN_DIR'",
        )
    if not (run_path / "latest.json").is_file():
        raise click.BadParameter(
            f"{run_path} has no checkpoint (it stopped before its first epoch ended); start it "
            "again with `aekit train`",
            param_hint="'RUN_DIR'",
        )
    model_cls, config_cls, _ = MODELS[run["model"]]
    model_config = config_from_dict(config_cls, run["model_config"])
    train_config = train_config_from_dict(run["train_config"])
    overrides = {k: v for k, v in (("device", device), ("progress", progress)) if v is not None}
    train_config = replace(train_config, **overrides)
    data = _load_data(metadata["data"], hint="'RUN_DIR' (its recorded data)")
    _set_threads(threads)
    model = model_cls(model_config)
    labels = data.y_train if metadata.get("labels") else None
    trainer = Trainer(model, train_config, run_dir=run_path, run_metadata=metadata)
    t0 = time.perf_counter()
    try:
        history = trainer.fit(data.x_train, resume=True, y_train=labels)
    except KeyboardInterrupt:
        _interrupted(ctx, run_path)
        return
    _finish_training(model, history, data, time.perf_counter() - t0, run_path, labels is not None)


_DATA_ARG_HELP = "A .npy/.npz/.csv file, or a data set name."
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
    decorators = [
        click.argument("model_dir", type=click.Path(exists=True, file_okay=False)),
        click.option(
            "--data", "data_name", required=True, metavar="NAME_OR_PATH", help=_DATA_ARG_HELP
        ),
        _data_options,
        _SPLIT_OPTION,
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _model_and_rows(model_dir, data_name, data_dir, data_option, split, needs: str):
    """The trained model's ``needs`` method, ready to apply to rows, and the rows, their width
    checked against the model. A conditional VAE gets each row's label from the data set."""
    model = _load_model(model_dir, (needs,))
    x, y = _load_rows(data_name, data_dir, _parse_data_options(data_option), split)
    _check_width(x, model)
    method = getattr(model, needs)
    if isinstance(model, VAE) and model.config.n_classes:
        if y is None:
            raise click.BadParameter(
                "a conditional VAE encodes and decodes with each row's label, and these rows "
                "have none; pass a labelled data set (mnist, digits, an .npz holding x and y)",
                param_hint="'--data'",
            )
        method = functools.partial(method, y=y)
    return method, x


@main.command(context_settings=CONTEXT_SETTINGS)
@_model_rows_inputs
@click.option(
    "--out",
    "out_path",
    default=None,
    callback=_out_array_callback,
    metavar="FILE",
    help="Output file, .npy or .csv. [default: CSV on stdout]",
)
@_user_errors
def encode(model_dir, data_name, data_dir, data_option, split, out_path) -> None:
    """Write the codes of the data's rows under a trained model (one row per input row).

    MODEL_DIR is a run directory of `aekit train` (its model/ is used) or a saved model. A
    conditional VAE encodes each row with its label from the data set.
    """
    transform, x = _model_and_rows(model_dir, data_name, data_dir, data_option, split, "transform")
    codes = _apply_to_file(transform, x, out_path)
    where = _write_array(codes, out_path)
    if out_path is not None:
        click.echo(f"wrote {len(x)} codes of size {codes.shape[1]} to {where}")


@main.command(context_settings=CONTEXT_SETTINGS)
@_model_rows_inputs
@click.option(
    "--out",
    "out_path",
    required=True,
    callback=_out_array_callback,
    metavar="FILE",
    help="Output file, .npy or .csv.",
)
@_user_errors
def reconstruct(model_dir, data_name, data_dir, data_option, split, out_path) -> None:
    """Write the model's reconstructions of the data's rows (same shape as the input).

    MODEL_DIR is a run directory of `aekit train` (its model/ is used) or a saved model. A
    conditional VAE reconstructs each row with its label from the data set.
    """
    recon, x = _model_and_rows(model_dir, data_name, data_dir, data_option, split, "reconstruct")
    where = _write_array(_apply_to_file(recon, x, out_path), out_path)
    click.echo(f"wrote {len(x)} reconstructions to {where}")


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--data", "data_name", required=True, metavar="NAME_OR_PATH", help=_DATA_ARG_HELP)
@_data_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the JSON here. [default: stdout]",
)
@_user_errors
def evaluate(model_dir, data_name, data_dir, data_option, out_path) -> None:
    """Score a trained model on a data set's test rows, next to PCA at the same code size.

    Reports, as JSON, the squared error per sample (summed over features, averaged over
    samples) and the negative log-likelihood per sample on the train and test rows, and the
    squared error of PCA fitted on the train rows with as many components as the code has
    units. MODEL_DIR is a run directory of `aekit train` or a saved model.
    """
    model = _load_model(model_dir, ("transform",))
    data = _load_data(_data_spec(data_name, data_dir, _parse_data_options(data_option)))
    _check_width(data.x_train, model)
    numbers = {
        "model": str(_resolve_model_dir(model_dir)),
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
    labelled = bool(getattr(model, "takes_targets", False))
    if labelled and (data.y_train is None or data.y_test is None):
        raise click.BadParameter(
            f"the {model.registered_name} model learns from labels, and {data.name} has none; "
            "evaluate it on a labelled data set",
            param_hint="'--data'",
        )
    scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
    reconstructs = hasattr(model, "reconstruct")
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
        metrics = scorer.evaluate(x, y=y if labelled else None)
        for key, value in metrics.items():
            ours[f"{split}_{key}"] = value
        if reconstructs:
            recon = model.reconstruct(x, y=y) if isinstance(model, VAE) and labelled else None
            recon = model.reconstruct(x) if recon is None else recon
            ours[f"{split}_squared_error"] = mean_squared_error_per_sample(x, recon)
            if "recon" in metrics:  # JSON has no NaN: leave the key out instead
                ours.setdefault(f"{split}_nll", metrics["recon"])
        if pca is not None:
            pca_out[f"{split}_squared_error"] = mean_squared_error_per_sample(x, pca.reconstruct(x))
    out[model.registered_name] = ours
    if pca is not None:
        out["pca"] = pca_out
    return out


@main.command(context_settings=CONTEXT_SETTINGS)
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
    help="A .png image grid (square inputs, or --image-shape) or a .npy array. [default: "
    "samples.png beside the model for square inputs, else samples.npy]",
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
@_user_errors
def sample(model_dir, n_samples, out_path, image_shape, seed, label) -> None:
    """Draw samples from a trained generative model (vae, aae) and save them.

    The samples are the decoder's means at codes drawn from the model's prior, reproducible
    from --seed. MODEL_DIR is a run directory of `aekit train` or a saved model.
    """
    model = _load_model(model_dir, ("sample",))
    n_features = model.config.layers[0]
    shape = _image_shape(image_shape, n_features)
    if out_path is None:
        name = "samples.png" if shape is not None else "samples.npy"
        out_path = str(_resolve_model_dir(model_dir) / name)
    suffix = Path(out_path).suffix.lower()
    if suffix not in (".png", ".npy"):
        raise click.BadParameter(
            f"{out_path} must end in .png (an image grid) or .npy (the array)",
            param_hint="'--out'",
        )
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
        _write_array(x, out_path)
        click.echo(f"wrote {n_samples} samples of {n_features} features to {out_path}")
        return
    if shape is None:
        raise click.BadParameter(
            f"the model's {n_features} features are not a square image; pass --image-shape "
            "HxW or write a .npy",
            param_hint="'--out'",
        )
    save_figure(sample_figure(x, shape, title=f"{n_samples} samples (seed {seed})"), out_path)
    click.echo(f"wrote a grid of {n_samples} samples to {out_path}")


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--data", "data_name", required=True, metavar="NAME_OR_PATH", help=_DATA_ARG_HELP)
@_data_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The HTML file. [default: report.html beside the model]",
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
@_user_errors
def report(model_dir, data_name, data_dir, data_option, out_path, iw_samples, seed) -> None:
    """Write an HTML report of a trained generative model (vae, aae) on a data set's test rows.

    Samples, reconstructions, code histograms against the prior, for 2-d codes the codes over
    the prior's density and the decoded manifold, and a table of held-out metrics (MMD of the
    codes to the prior; for a VAE the importance-weighted log-likelihood).
    """
    model = _load_model(model_dir, ("sample",))
    data = _load_data(_data_spec(data_name, data_dir, _parse_data_options(data_option)))
    _check_width(data.x_train, model)
    path = Path(out_path) if out_path else _resolve_model_dir(model_dir) / "report.html"
    write_generative_report(model, data, path, iw_samples=iw_samples, seed=seed)
    click.echo(f"wrote {path}")


def _image_shape(text: str | None, n_features: int) -> tuple[int, int] | None:
    if text is None:
        side = int(round(n_features**0.5))
        return (side, side) if side * side == n_features else None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not HxW, e.g. 28x28", param_hint="'--image-shape'"
        ) from None
    if h < 1 or w < 1:
        raise click.BadParameter(
            f"{text!r}: height and width must be positive, e.g. 28x28", param_hint="'--image-shape'"
        )
    if h * w != n_features:
        raise click.BadParameter(
            f"{h}x{w} = {h * w} pixels, but a sample has {n_features} features",
            param_hint="'--image-shape'",
        )
    return h, w


@main.group(context_settings=CONTEXT_SETTINGS)
def reproduce() -> None:
    """Reproduce a classic result, with the paper's numbers beside ours in a report."""


@reproduce.command(context_settings=CONTEXT_SETTINGS)
@click.argument("experiment", type=click.Choice(sorted([*HINTON2006, "docs"])))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for report.html, results.json, figures and every stage's checkpoints; "
    "rerunning with the same folder resumes. [default: runs/hinton2006-EXPERIMENT, with "
    "-quick appended for --quick]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the reference data sets. [default: $AEKIT_DATA_DIR]",
)
@click.option(
    "--quick",
    is_flag=True,
    default=False,
    help="A shortened protocol (fewer samples and epochs), same code paths. [default: off]",
)
@click.option(
    "--ablation/--no-ablation",
    default=True,
    show_default=True,
    help="Also fine-tune the same network from a random initialisation.",
)
@click.option(
    "--bf16",
    is_flag=True,
    default=False,
    help="bfloat16 autocast during fine-tuning. [default: off]",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of everything."
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show progress bars on stderr.",
)
@click.option(
    "--reuse-pretraining",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of another run on the same data, seed and RBM epochs (say mnist's for "
    "mnist2d): its RBMs stand in for this run's while the layers match. [default: none]",
)
@_user_errors
def hinton2006(
    experiment: str,
    out_dir: str | None,
    data_dir: str | None,
    quick: bool,
    ablation: bool,
    bf16: bool,
    seed: int,
    progress: bool,
    reuse_pretraining: str | None,
) -> None:
    """Hinton & Salakhutdinov, Science 2006: RBM-pretrained deep autoencoders vs PCA.

    EXPERIMENT is curves (784-400-200-100-50-25-6), mnist (784-1000-500-250-30), mnist2d
    (784-1000-500-250-2, the 2-D map of Fig. 3), faces (625-2000-1000-500-30) or docs
    (20 Newsgroups: 2000-500-250-125-{10,2} document codes and 32/128-bit semantic hashing
    against LSA, Fig. 4). Each RBM, the fine-tuning and the baselines are saved as they
    finish, so an interrupted run picks up where it stopped when started again with the
    same --out.
    """
    out = Path(out_dir or f"runs/hinton2006-{experiment}{'-quick' if quick else ''}")
    if experiment == "docs":
        if bf16:
            raise click.BadParameter("docs trains in fp32; drop --bf16", param_hint="'--bf16'")
        if reuse_pretraining:
            raise click.BadParameter(
                "docs has its own RBM stacks; drop --reuse-pretraining",
                param_hint="'--reuse-pretraining'",
            )
        _reproduce_docs(out, quick, seed, data_dir, ablation, progress)
        return
    try:
        results = run_hinton2006(
            experiment,
            out,
            quick=quick,
            seed=seed,
            data_dir=data_dir,
            ablation=ablation,
            bf16=bf16,
            progress=progress,
            reuse_pretraining=reuse_pretraining,
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished stages are kept in {out}; run the same command again to resume",
            err=True,
        )
        sys.exit(130)
    width = max(len(m) for m in results["methods"])
    click.echo(f"{'method':<{width}}  test error  paper")
    for method, v in results["methods"].items():
        paper = results["paper"].get(method, "")
        click.echo(f"{method:<{width}}  {v['test_error']:10.3f}  {paper}")
    for check, ok in results["checks"].items():
        click.echo(f"target {check}: {'met' if ok else 'NOT met'}")
    click.echo(f"report: {(out / 'report.html').resolve()}")


def _reproduce_docs(out: Path, quick, seed, data_dir, ablation, progress) -> None:
    try:
        results = run_documents(
            out, quick=quick, seed=seed, data_dir=data_dir, ablation=ablation, progress=progress
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished stages are kept in {out}; run the same command again to resume",
            err=True,
        )
        sys.exit(130)
    counts = next(iter(results["precision"].values())).keys()
    width = max(len(m) for m in results["precision"])
    click.echo(f"{'method':<{width}}  " + "  ".join(f"{'P@' + k:>7}" for k in counts))
    for method, p in results["precision"].items():
        click.echo(f"{method:<{width}}  " + "  ".join(f"{v:7.3f}" for v in p.values()))
    for name, acc in results["knn_accuracy_2d"].items():
        click.echo(f"2-D map {name}: 5-NN accuracy {acc:.3f}")
    for name, ratio in results["hash_speedup"].items():
        click.echo(f"{name} top-10 search: {ratio:.1f}x faster than AE-10 cosine")
    for check, ok in results["checks"].items():
        click.echo(f"target {check}: {'met' if ok else 'NOT met'}")
    click.echo(f"report: {(out / 'report.html').resolve()}")


# Documents ---------------------------------------------------------------------------------------


@main.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_dir", metavar="MODEL_DIR", type=click.Path(exists=True))
@click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(exists=True),
    required=True,
    help="Documents to search: the 20news-bydate archive (or its folder), a folder of class "
    "folders of text files, or a CSV with text and label columns.",
)
@click.option(
    "--subset",
    type=click.Choice(["train", "test"]),
    default="test",
    show_default=True,
    help="Which 20 Newsgroups half to search (other corpora have one).",
)
@click.option("--query", "query_text", default=None, help="The query document's text.")
@click.option(
    "--query-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A file holding the query document (e-mail headers are stripped).",
)
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--json", "as_json", is_flag=True, default=False, help="Print the results as JSON lines."
)
@_user_errors
def retrieve(model_dir, corpus_path, subset, query_text, query_file, k, as_json) -> None:
    """The documents of a corpus nearest to a query, by a fitted document model's codes.

    MODEL_DIR is a document autoencoder saved with its vocabulary (as `aekit reproduce
    hinton2006 docs` leaves in runs/hinton2006-docs/AE-10/model). Real codes rank by cosine
    similarity, binary (semantic hashing) codes by Hamming distance.
    """
    model = _load_model(model_dir, needs=())
    if not isinstance(model, DocumentAutoencoder) or model.config.vocabulary is None:
        raise click.BadParameter(
            f"{model_dir} is not a document model saved with its vocabulary; train one with "
            "`aekit reproduce hinton2006 docs`",
            param_hint="'MODEL_DIR'",
        )
    if (query_text is None) == (query_file is None):
        raise click.UsageError("give the query as --query TEXT or --query-file FILE (one)")
    if query_file is not None:
        query_text = strip_header(Path(query_file).read_text(errors="replace"))
    bow = BagOfWords.from_dict(model.config.vocabulary)
    query = bow.transform([query_text])
    if query.sum() == 0:
        raise ValueError(
            "the query has no word of the model's vocabulary, so it has no code; give a longer "
            "or more topical text"
        )
    kwargs = {"subset": subset} if Path(corpus_path).suffix != ".csv" else {}
    corpus = load_corpus(corpus_path, **kwargs)
    counts = bow.transform(corpus.texts)
    keep = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel() > 0)
    if len(keep) == 0:
        check_nonempty(counts)
    counts = counts[keep]
    binary = model.config.code == "binary"
    encode = model.binary_codes if binary else model.transform
    idx, scores = search(
        encode(query), encode(counts), k=min(k, len(keep)), metric="hamming" if binary else "cosine"
    )
    score_name = "hamming" if binary else "cosine"
    for rank, (i, score) in enumerate(zip(idx[0], scores[0]), start=1):
        doc = int(keep[i])
        label = corpus.label_names[corpus.labels[doc]]
        snippet = " ".join(corpus.texts[doc].split())[:70]
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "rank": rank,
                        "doc_id": corpus.doc_ids[doc],
                        "label": label,
                        score_name: float(score),
                        "text": snippet,
                    }
                )
            )
        else:
            click.echo(
                f"{rank:3d}  {float(score):8.4f}  {label:<26} {corpus.doc_ids[doc]}  {snippet}"
            )


# Information bottleneck ------------------------------------------------------------------------


@main.group(context_settings=CONTEXT_SETTINGS)
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
@_user_errors
def example(
    example_name: str,
    out_dir: str | None,
    beta: float | None,
    alpha: float | None,
    n_samples: int | None,
    n_restarts: int,
    seed: int,
) -> None:
    """Run one of the seed's IB examples on generated data and write its figures.

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
