"""What every command shares: one-line errors, options made from config fields, data and model
arguments, writing arrays.

A command is argument handling and printing over one library call; the checks themselves live
in the library (the config dataclasses, the run specification, the loaders) and reach the user
here as one line in the language of the command line (``--weight-decay``, not
``weight_decay``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import MISSING
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from aekit.config import ConfigError, FieldSpec, field_specs
from aekit.data import (
    DataOptionError,
    dataset_options,
    load_dataset,
    load_labeled,
)
from aekit.rows import MemmapRows
from aekit.saving import load_model
from aekit.spec import is_dataset_name
from aekit.train import NonFiniteLossError, PeerFailedError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
ARRAY_SUFFIXES = (".npy", ".csv")
EXIT_INTERRUPTED = 130
DATA_ARG_HELP = "A .npy/.npz/.csv file, or a data set name."


def spell(name: str, value: Any = MISSING) -> str:
    """A setting as the command line writes it: ``--model vae``, ``--tied``, ``--weight-decay``."""
    if value is MISSING:
        return flag(name)
    if isinstance(value, bool):
        return flag(name) if value else "--no-" + name.replace("_", "-")
    return f"{flag(name)} {value}"


def flag(name: str) -> str:
    """A config field's name as the command line spells it (``weight_decay``:
    ``--weight-decay``)."""
    return "--" + name.replace("_", "-")


def one_line(err: BaseException | str) -> str:
    """An exception's message on one line, in the command line's words."""
    if isinstance(err, ConfigError):
        return " ".join(err.spelled(spell).split())
    text = str(err).strip() or type(err).__name__
    # A FileNotFoundError from the OS stringifies as "[Errno 2] ...": keep only the message.
    if isinstance(err, OSError) and err.strerror and err.filename:
        text = f"{err.strerror}: {err.filename}"
    return " ".join(text.split())


def user_errors(fn: Callable) -> Callable:
    """Turn the library's input errors into one-line click errors: exit code 2 for a setting
    the configs refuse (a usage error), 1 for a failure while running; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with warnings_as_lines():
                return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except BrokenPipeError:  # `aekit encode ... | head` closed the pipe: not an error
            _quiet_stdout()
            sys.exit(0)
        except ConfigError as err:
            raise setting_error(err) from None
        except (
            ValueError,
            TypeError,
            OSError,  # a missing file, a path through a file, a directory where a file goes
            NonFiniteLossError,
            PeerFailedError,  # another torchrun rank failed; its own error is printed too
            FloatingPointError,  # a model's own non-finite check (e.g. the VAE's KL)
        ) as err:
            raise click.ClickException(one_line(err)) from None

    return wrapper


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit meets no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


@contextlib.contextmanager
def warnings_as_lines():
    """Show each warning as one line on stderr, ``warning: ...``, in the command line's words
    (a warning with ``spelled``, such as an overcomplete code's, spells its settings as flags),
    instead of Python's two lines of file, line number and source."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = message.spelled(spell) if hasattr(message, "spelled") else str(message)
        click.echo(f"warning: {' '.join(text.split())}", err=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        # Python's own default for these, set again so that each call shows its warnings
        # (setting a filter forgets which were shown before, e.g. in an earlier call).
        warnings.filterwarnings("default", category=UserWarning)
        yield


def setting_error(err: BaseException) -> click.ClickException:
    """A setting refused before any work started, as a usage error (exit code 2)."""
    return click.UsageError(one_line(err))


def apply_options(fn: Callable, options: Iterable[Callable]) -> Callable:
    """Decorate ``fn`` with click options, the first listed first in ``--help``."""
    for option in reversed(list(options)):
        fn = option(fn)
    return fn


# Options made from config fields ------------------------------------------------------------


def _default_text(owners: list[tuple[str, FieldSpec]]) -> str:
    def show(v: Any) -> str:
        if isinstance(v, list) and owners[0][1].name == "layers":
            return "-".join(["auto", *map(str, v[1:])])  # on the data's width
        if isinstance(v, list):
            return "-".join(map(str, v))
        return "none" if v is None else str(v).lower() if isinstance(v, bool) else str(v)

    values = {show(s.default) for _, s in owners}
    if len(values) == 1:
        return values.pop()
    return "; ".join(f"{owner} {show(s.default)}" for owner, s in owners)


def field_option(
    name: str,
    owners: list[tuple[str, FieldSpec]],
    extra_help: str = "",
    all_owners: Iterable[str] = (),
):
    """A click option for config field ``name`` of one or more configs (``owners``: the owner's
    name and its :class:`FieldSpec`). The default is None, meaning "the config's own default"
    (shown in ``--help``), so a TOML file or a model's suggestion can fill in what the
    command line leaves open; the value is checked by the config, not by click. The help names
    the owners unless the field is every owner's (``all_owners``)."""
    spec = owners[0][1]
    help_text = spec.help or name.replace("_", " ").capitalize() + "."
    if not all_owners or {o for o, _ in owners} != set(all_owners):
        help_text = f"{', '.join(o for o, _ in owners)}: {help_text}"
    choices = spec.bounds.choice_list()
    accepts = (
        f" Accepts {spec.describe()}." if spec.kind in (int, float) and spec.describe() else ""
    )
    help_text = f"{help_text}{extra_help}{accepts} [default: {_default_text(owners)}]"
    if spec.kind is bool:
        opt = f"{flag(name)}/--no-{name.replace('_', '-')}"
        return click.option(opt, name, default=None, help=help_text)
    kind = {int: click.INT, float: click.FLOAT}.get(spec.kind, click.STRING)  # type: ignore[arg-type]
    metavar = "[" + "|".join(choices) + "]" if choices else None
    return click.option(flag(name), name, type=kind, default=None, metavar=metavar, help=help_text)


def config_field_options(configs: dict[str, type], skip: Iterable[str] = ()) -> list[Callable]:
    """Options for every field of ``configs`` (owner name -> config dataclass) a command line
    can spell (scalars and layer lists), each once, in the order first met."""
    owners: dict[str, list[tuple[str, FieldSpec]]] = {}
    for owner, cls in configs.items():
        for name, spec in field_specs(cls).items():
            structured = spec.kind is None and not name.endswith("layers")
            if name in skip or structured:
                continue
            owners.setdefault(name, []).append((owner, spec))
    everyone = list(configs) if len(configs) > 1 else []
    return [field_option(name, specs, all_owners=everyone) for name, specs in owners.items()]


# Data ---------------------------------------------------------------------------------------


def parse_data_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("n_train=2000", "layout=paper")`` -> ``{"n_train": 2000, "layout": "paper"}``."""
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


def data_options(fn: Callable) -> Callable:
    """``--data-dir`` and ``--data-option``."""
    return apply_options(
        fn,
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
        ],
    )


def load_data(name: str, data_dir: str | None, options: dict[str, Any], hint: str = "'--data'"):
    try:
        return load_dataset(name, data_dir=data_dir, **options)
    except DataOptionError as err:
        raise click.BadParameter(one_line(err), param_hint="'--data-option'") from None
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise click.BadParameter(one_line(err), param_hint=hint) from None


# What a file read whole and in order (``--split all``) takes; the rest choose a split.
_IN_ORDER_OPTIONS = ("label_column", "mmap")


def load_rows(
    name: str, data_dir: str | None, options: dict[str, Any], split: str
) -> tuple[np.ndarray | MemmapRows, np.ndarray | None]:
    """The rows to encode or reconstruct, and their labels when the data has them.

    A file with ``--split all`` is read whole and in order (so output row i is input row i),
    its label column (``label_column``, or one found by name) set apart; a ``.npy`` is
    memory-mapped and comes back as :class:`~aekit.rows.MemmapRows`, read a batch at a time,
    unless ``mmap=false``. Otherwise the data set's train/test split is used, ``all`` meaning
    train then test, as float32.
    """
    if split == "all" and not is_dataset_name(name) and Path(name).expanduser().is_file():
        path = Path(name).expanduser()
        valid = dataset_options(path) or []
        unknown = sorted(set(options) - set(valid))
        if unknown:  # a misspelt key is named as such, with the keys there are
            err = DataOptionError(f"the data file {str(path)!r}", unknown, valid)
            raise click.BadParameter(one_line(err), param_hint="'--data-option'")
        split_options = sorted(set(options) - set(_IN_ORDER_OPTIONS))
        if split_options:
            raise click.BadParameter(
                f"{', '.join(split_options)} "
                f"{'chooses' if len(split_options) == 1 else 'choose'} a train/test split, and "
                "--split all reads the file whole and in order; drop them or pass --split train "
                f"or test (the options of --split all are {', '.join(_IN_ORDER_OPTIONS)})",
                param_hint="'--data-option'",
            )
        mmap = options.get("mmap", path.suffix.lower() == ".npy")
        if not isinstance(mmap, bool):
            raise click.BadParameter(
                f"mmap must be true or false, got {mmap!r}", param_hint="'--data-option'"
            )
        try:
            x, y = load_labeled(path, options.get("label_column"), mmap=mmap)
        except (ValueError, TypeError, FileNotFoundError) as err:
            raise click.BadParameter(one_line(err), param_hint="'--data'") from None
        # The same scaling as load_dataset: raw pixel bytes become intensities in [0, 1].
        scale = 1 / 255 if x.dtype == np.uint8 else None
        if isinstance(x, np.memmap):
            return MemmapRows(x, scale=scale), y
        return np.asarray(x, dtype=np.float32) / np.float32(255.0 if scale else 1.0), y
    ds = load_data(name, data_dir, options)
    if split == "train":
        return ds.x_train, ds.y_train
    if split == "test":
        return ds.x_test, ds.y_test
    labels = None if ds.y_train is None else np.concatenate([ds.y_train, ds.y_test])
    return np.concatenate([ds.x_train, ds.x_test]), labels


def check_width(x: np.ndarray | MemmapRows, model, what: str = "'--data'") -> None:
    n_in = model.config.layers[0]
    if x.shape[1] != n_in:
        raise click.BadParameter(
            f"the data has {x.shape[1]} features but the model's input layer has {n_in}; "
            "pass data of the width the model was trained on",
            param_hint=what,
        )


def check_rows(model, *parts, what: str = "'--data'") -> None:
    """Refuse rows outside the range the model's likelihood was trained on (a Bernoulli
    model's [0, 1]), as ``aekit train`` does: its numbers on them would mean nothing. Rows on
    disk are checked a chunk of about 8 MB at a time (the models' checks are row by row)."""
    for x in parts:
        if x is None or not len(x):
            continue
        step = max(1, (8 << 20) // (4 * max(1, x.shape[1])))
        lo, hi, failed = float("inf"), float("-inf"), None
        for start in range(0, len(x), step):
            rows = x[start : start + step]  # a MemmapRows gives a tensor read with pread
            if not isinstance(rows, torch.Tensor):
                rows = torch.from_numpy(np.asarray(rows, dtype=np.float32))
            lo, hi = min(lo, float(rows.min())), max(hi, float(rows.max()))
            if failed is None:
                try:
                    model.check_data(rows, "the data")
                except ValueError as err:
                    failed = err
        if failed is None:
            continue
        if getattr(model.config, "likelihood", None) != "bernoulli":
            raise click.BadParameter(one_line(failed), param_hint=what)
        raise click.BadParameter(
            f"the model has a Bernoulli likelihood, made for data in [0, 1], and this data "
            f"holds values in [{lo:.3g}, {hi:.3g}]; scale it into [0, 1] as the training data "
            "was, or train a model for real values with --likelihood gaussian",
            param_hint=what,
        )


# Models -------------------------------------------------------------------------------------


def resolve_model_dir(path: str) -> Path:
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


def load_saved_model(path: str, needs: tuple[str, ...] = ("transform", "reconstruct")):
    """The saved model, refused with a clear message when it lacks a method the command uses
    (the models' public surface differs by family: an RBM has no reconstruct of its own)."""
    model_dir = resolve_model_dir(path)
    try:
        model = load_model(model_dir)
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise click.BadParameter(one_line(err), param_hint="'MODEL_DIR'") from None
    missing = [name for name in needs if not callable(getattr(model, name, None))]
    if missing:
        raise click.BadParameter(
            f"{model_dir} holds a {type(model).__name__}, which cannot {missing[0]}; this "
            "command needs a model that can",
            param_hint="'MODEL_DIR'",
        )
    return model.eval()


# Arrays -------------------------------------------------------------------------------------


def apply_to_file(method: Callable, x, path: str | None, y: np.ndarray | None = None):
    """``method(x)`` (``method(x, y=y)`` with labels), written chunk by chunk into ``path``
    when it is a ``.npy``: the returned array is then a read-only memmap of the file.

    The chunks (about 4 MB of input rows each) are written with plain writes, not through a
    memory map, so the output never counts in the resident set, and go to a file beside
    ``path`` that replaces it at the end: an interrupted run leaves no half-written output,
    and ``path`` may even be the input being read.
    """
    if path is None or Path(path).suffix.lower() != ".npy":
        return method(x) if y is None else method(x, y=y)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    step = max(1, (4 << 20) // (4 * max(1, x.shape[1])))
    try:
        with open(partial, "wb") as f:
            for start in range(0, len(x), step):
                xb = x[start : start + step]  # a MemmapRows gives a tensor read with pread
                xb = xb.numpy() if isinstance(xb, torch.Tensor) else xb
                args = {} if y is None else {"y": y[start : start + step]}
                out = np.ascontiguousarray(method(xb, **args), dtype="<f4")
                if start == 0:
                    shape = (len(x), *out.shape[1:])
                    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
                    np.lib.format.write_array_header_1_0(f, header)
                f.write(out.data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return np.load(target, mmap_mode="r")


def write_array(x: np.ndarray, path: str | None) -> str:
    """Write to ``.npy`` or ``.csv``; without a path, CSV to stdout. A memmap already backed
    by ``path`` (see :func:`apply_to_file`) is left as written."""
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


def out_array_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is not None and Path(value).suffix.lower() not in ARRAY_SUFFIXES:
        raise click.BadParameter(
            f"{value!r} should end in {' or '.join(ARRAY_SUFFIXES)}", ctx, param
        )
    return value


def image_shape_option(text: str | None, n_features: int) -> tuple[int, int] | None:
    """``--image-shape HxW`` checked against the feature count; square inputs by default."""
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


THREADS_OPTION = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    show_default="torch's choice",
    help="CPU threads for torch. On a shared machine 1 can be several times faster than "
    "more, because threads of small layers wait for each other.",
)
