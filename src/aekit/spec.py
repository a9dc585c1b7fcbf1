"""One run specification behind every door: what to train, on what, and how.

A :class:`RunSpec` names the data (:class:`DataSpec`), the model (a registered name and the
config fields the user set), the :class:`~aekit.train.TrainConfig` fields the user set, and the
run's extras (greedy pretraining, CPU threads). The command line (``aekit train``), a TOML file
(``--config``) and Python all make one, and :meth:`RunSpec.build` turns it into a model, a train
config and the data with the same checks whichever door it came through::

    spec = RunSpec.from_toml("run.toml").with_overrides(train={"epochs": 5})
    run = spec.build()                       # the data, the model, the TrainConfig
    history = run.fit("runs/curves")         # checkpoints + final model in runs/curves
    history = resume("runs/curves")          # what `aekit resume` does after an interrupt

:meth:`RunSpec.to_dict` has the same tables as the TOML file (``[data]``, ``[model]``,
``[train]``) and is saved in the run folder's run.json, so a run can be rebuilt from its folder
alone (:func:`load_run_spec`).
"""

from __future__ import annotations

import copy
import time
import tomllib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aekit import __version__
from aekit.config import ConfigError, check_value, field_specs
from aekit.data import Dataset, list_datasets, load_dataset
from aekit.models.base import Model
from aekit.nn import parse_layers
from aekit.recipes import default_recipe
from aekit.registry import model_class
from aekit.train import TrainConfig, Trainer, load_run, pretrain_stacked, rbm_pretrainer
from aekit.train.run_folder import RunFolder
from aekit.train.trainer import History, resolve_device

#: The models a run specification trains (the rest are built by their experiments: RBM stacks,
#: document models); every name is registered in :mod:`aekit.registry`.
TRAINABLE = ("autoencoder", "vae", "aae", "vib", "ib-autoencoder")
#: Greedy layer-wise pretraining before fine-tuning (autoencoders only).
PRETRAIN = ("none", "ae", "rbm")
#: Keys of the [model] table that are not model config fields, and of the [train] table that
#: are not TrainConfig fields.
MODEL_KEYS = ("name", "conditional")
#: ``epochs`` when the spec gives a time budget and no epoch count: the budget ends the run.
MAX_EPOCHS = 1_000_000
TRAIN_KEYS = ("pretrain", "threads", "recipe")
#: ``auto``: aekit's default recipe fills in what the spec leaves open (:mod:`aekit.recipes`);
#: ``none``: the model config's and TrainConfig's own defaults (the lecture's settings).
RECIPES = ("auto", "none")


def is_dataset_name(name: str) -> bool:
    """Whether ``name`` is a registered data set (not a path)."""
    return name.strip().lower().replace("_", "-") in list_datasets()


@dataclass
class DataSpec:
    """Where a run's data comes from: a data set name or a file, and the loader's options.

    Parameters
    ----------
    name : str
        A registered data set name (``curves``, ``digits``, ``mnist``, ...) or a path to a
        ``.npy``/``.npz``/``.csv`` file or an IDX folder.
    data_dir : str or None
        Folder of the reference data sets; None means ``$AEKIT_DATA_DIR``.
    options : dict
        Keyword arguments of the loader (``n_train``, ``test_size``, ``test_fraction``, ...).
    """

    name: str
    data_dir: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(
                f"the data name must be a string (a data set's name or a path), got {self.name!r}"
            )
        if not self.name.strip():
            raise ValueError("the data name is empty; give a data set's name or a file's path")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise TypeError(f"data_dir must be a folder path, got {self.data_dir!r}")
        if not isinstance(self.options, dict):
            raise TypeError(f"the data options must be a table of keys, got {self.options!r}")

    def resolved(self, base: str | Path | None = None) -> DataSpec:
        """Paths made absolute (relative ones taken from ``base``, e.g. a config file's folder)
        so a run folder finds its data again from anywhere; names stay names."""
        here = Path(base) if base is not None else Path.cwd()
        name = self.name
        if not is_dataset_name(name):
            path = Path(name).expanduser()
            name = str((here / path).resolve()) if (here / path).exists() else name
        data_dir = self.data_dir
        if data_dir is not None:
            data_dir = str((here / Path(data_dir).expanduser()).resolve())
        return DataSpec(name, data_dir, dict(self.options))

    def load(self) -> Dataset:
        """The train/test split (:func:`aekit.data.load_dataset`)."""
        return load_dataset(self.name, data_dir=self.data_dir, **self.options)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "data_dir": self.data_dir, "options": dict(self.options)}


@dataclass
class Run:
    """A built run: everything :meth:`fit` needs, made by :meth:`RunSpec.build`."""

    spec: RunSpec
    model: torch.nn.Module
    train_config: TrainConfig
    data: Dataset
    y_train: np.ndarray | None
    #: TrainConfig settings the model suggested and the spec left open (shown to the user).
    suggested: dict[str, Any] = field(default_factory=dict)
    #: ``time.perf_counter()`` when :meth:`RunSpec.build` began: a time budget counts from
    #: here, so loading the data and pretraining are part of it.
    started: float = field(default_factory=time.perf_counter)
    #: Settings aekit's default recipe filled in (:meth:`RunSpec.with_recipe`).
    recipe: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, Any]:
        """What run.json records beside the configs: the spec rebuilds the run."""
        return {
            "aekit_version": __version__,
            "spec": self.spec.to_dict(),
            # The keys of earlier versions, so their readers still find them.
            "data": self.spec.data.to_dict() if self.spec.data else None,
            "pretrain": self.spec.pretrain,
            "labels": self.y_train is not None,
            "recipe": self.recipe,
        }

    def fit(
        self,
        run_dir: str | Path | None = None,
        resume: bool = False,
        callbacks=(),
        force_data: bool = False,
    ) -> History:
        """Train with :class:`~aekit.train.Trainer`; with ``run_dir``, checkpoint every epoch
        and save the final model in ``run_dir/model`` (``resume`` and ``force_data`` as for
        :meth:`~aekit.train.Trainer.fit`)."""
        trainer = Trainer(
            self.model,
            self.train_config,
            run_dir=run_dir,
            callbacks=callbacks,
            run_metadata={**self.metadata, "command": self.spec.command},
        )
        return trainer.fit(
            self.data.x_train,
            y_train=self.y_train,
            resume=resume,
            force_data=force_data,
            budget_start=self.started,
        )


@dataclass
class RunSpec:
    """What to train, on what, and how; see the module docstring.

    Parameters
    ----------
    data : DataSpec or None
        The data; None when the caller passes a :class:`~aekit.data.Dataset` to :meth:`build`.
    model : str
        A registered model name: ``autoencoder``, ``vae``, ``aae``, ``vib``, ``ib-autoencoder``.
    model_config : dict
        Fields of the model's config that differ from its defaults. ``layers`` may start with
        ``auto`` (the data's width); without it, the model's default layers on the data's width.
    train : dict
        Fields of :class:`~aekit.train.TrainConfig` that differ from its defaults.
    pretrain : {"none", "ae", "rbm"}
        Greedy layer-wise pretraining of an autoencoder before fine-tuning.
    conditional : bool
        Condition on the data's labels where the model family can (the conditional VAE).
    threads : int or None
        CPU threads for torch while the run trains; None leaves torch's choice.
    recipe : {"auto", "none"}
        ``auto``: an autoencoder's settings the spec leaves open come from aekit's default
        recipe for the data (:mod:`aekit.recipes`: units, schedule, length, code size, bf16);
        ``none``: from the configs' own defaults (the lecture's settings).
    command : str
        Which door made the spec (recorded in run.json).
    """

    data: DataSpec | None = None
    model: str = "autoencoder"
    model_config: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    pretrain: str = "none"
    conditional: bool = False
    threads: int | None = None
    recipe: str = "auto"
    command: str = "python"

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = DataSpec(**self.data)
        self.model_config = dict(self.model_config)
        self.train = dict(self.train)
        self.validate()

    # Checks ---------------------------------------------------------------------------------

    @property
    def model_class(self) -> type[Model]:
        return model_class(self.model)

    def validate(self) -> None:
        """Check names, keys and every value the spec holds, before any data is loaded; the
        values go through the configs' own field checks (:func:`aekit.config.check_value`)."""
        if self.model not in TRAINABLE:
            raise ConfigError("model", f"must be one of {list(TRAINABLE)}, got {self.model!r}")
        cls = self.model_class
        model_specs = field_specs(cls.config_class)
        unknown = sorted(set(self.model_config) - set(model_specs))
        if unknown:
            raise ConfigError(
                unknown[0],
                "does not apply to {model}; its settings are {settings}",
                mentions={"model": ("model", self.model), "settings": sorted(model_specs)},
            )
        train_specs = field_specs(TrainConfig)
        unknown = sorted(set(self.train) - set(train_specs))
        if unknown:
            raise ValueError(
                f"unknown train settings {unknown}; TrainConfig's are {sorted(train_specs)}"
            )
        for key, value in self.model_config.items():
            check_value(cls.config_class, model_specs[key], value)
        for key, value in self.train.items():
            check_value(TrainConfig, train_specs[key], value)
        if self.pretrain not in PRETRAIN:
            raise ConfigError("pretrain", f"must be one of {list(PRETRAIN)}, got {self.pretrain!r}")
        if self.pretrain != "none" and self.model != "autoencoder":
            raise ConfigError(
                "pretrain",
                "applies to {autoencoder}, not {model}",
                mentions={"autoencoder": ("model", "autoencoder"), "model": ("model", self.model)},
            )
        if not isinstance(self.conditional, bool):
            raise ConfigError("conditional", f"must be true or false, got {self.conditional!r}")
        if self.conditional and cls.needs_labels({}, True) == cls.needs_labels({}, False):
            raise ConfigError(
                "conditional",
                "applies to {vae}, not {model}",
                mentions={"vae": ("model", "vae"), "model": ("model", self.model)},
            )
        if self.recipe not in RECIPES:
            raise ConfigError("recipe", f"must be one of {list(RECIPES)}, got {self.recipe!r}")
        threads = self.threads
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            raise ConfigError("threads", f"must be a positive integer, got {threads!r}")

    # Doors ----------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, tables: dict[str, Any], base: str | Path | None = None) -> RunSpec:
        """A spec from ``[data]``, ``[model]`` and ``[train]`` tables (a TOML file's, or
        :meth:`to_dict`'s); relative data paths are taken from ``base``."""
        if not isinstance(tables, dict):
            raise TypeError(f"a run specification is a table of tables, got {tables!r}")
        unknown = sorted(set(tables) - {"data", "model", "train"})
        if unknown:
            raise ValueError(f"unknown tables {unknown}; use [data], [model], [train]")
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ValueError(f"'{name}' must be a table")
        data = dict(tables.get("data", {}))
        model = dict(tables.get("model", {}))
        train = dict(tables.get("train", {}))
        data_spec = None
        if data:
            options = data.pop("options", {})
            name, data_dir = data.pop("name", None), data.pop("data_dir", None)
            if name is None:
                raise ValueError("the [data] table needs a name: a data set's name or a path")
            data_spec = DataSpec(name, data_dir, {**options, **data}).resolved(base)
        return cls(
            data=data_spec,
            model=model.pop("name", "autoencoder"),
            conditional=model.pop("conditional", False),
            model_config=model,
            pretrain=train.pop("pretrain", "none"),
            threads=train.pop("threads", None),
            recipe=train.pop("recipe", "auto"),
            train=train,
        )

    @classmethod
    def from_toml(cls, path: str | Path) -> RunSpec:
        """Read a TOML file of ``[data]``, ``[model]`` and ``[train]`` tables; paths in it are
        relative to the file, so it can travel with its data."""
        path = Path(path)
        try:
            tables = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path} is not valid TOML: {' '.join(str(err).split())}") from None
        try:
            return cls.from_dict(tables, base=path.parent)
        except ConfigError as err:
            err.problem += f" (in {path})"
            err.args = (f"{err.args[0]} (in {path})",)
            raise
        except (ValueError, TypeError) as err:
            raise type(err)(f"{path}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-shaped tables (JSON-ready)."""
        model = {"name": self.model, **copy.deepcopy(self.model_config)}
        if self.conditional:
            model["conditional"] = True
        train = {**copy.deepcopy(self.train), "pretrain": self.pretrain}
        if self.threads is not None:
            train["threads"] = self.threads
        train["recipe"] = self.recipe
        out: dict[str, Any] = {"model": model, "train": train}
        if self.data is not None:
            out["data"] = self.data.to_dict()
        return out

    def with_overrides(
        self,
        *,
        data: DataSpec | None = None,
        model: str | None = None,
        model_config: dict[str, Any] | None = None,
        train: dict[str, Any] | None = None,
        **extras: Any,
    ) -> RunSpec:
        """A copy with the given settings on top (``model_config`` and ``train`` merge key by
        key; ``pretrain``, ``conditional``, ``threads``, ``recipe`` and ``command`` replace)."""
        unknown = sorted(set(extras) - {"pretrain", "conditional", "threads", "recipe", "command"})
        if unknown:
            raise TypeError(f"with_overrides() got unknown settings {unknown}")
        return replace(
            self,
            data=data if data is not None else self.data,
            model=model if model is not None else self.model,
            model_config={**self.model_config, **(model_config or {})},
            train={**self.train, **(train or {})},
            **extras,
        )

    # Building -------------------------------------------------------------------------------

    def labels_for(self, data: Dataset) -> np.ndarray | None:
        """The training labels the model learns from, or None; a clear error when missing."""
        if not self.model_class.needs_labels(self.model_config, self.conditional):
            return None
        if data.y_train is None:
            raise ConfigError(
                "",
                "{model}" + (" {conditional}" if self.conditional else "") + " learns from "
                f"labels, and the data {data.name!r} has none; use a labelled data set (mnist, "
                "digits, an .npz holding arrays x and y) or another model",
                mentions={"model": ("model", self.model), "conditional": ("conditional", True)},
            )
        return data.y_train

    def model_settings(self, data: Dataset, labels: np.ndarray | None) -> dict[str, Any]:
        """The model config's fields for ``data``: layers on the data's width, the class count
        from its labels."""
        cls = self.model_class
        settings = copy.deepcopy(self.model_config)
        if "layers" in settings:
            settings["layers"] = parse_layers(settings["layers"], data.n_features)
        else:  # the model's own default architecture, on the data's width
            default = cls.config_class().layers
            settings["layers"] = parse_layers([data.n_features, *default[1:]])
        label_field = cls.label_field()
        if labels is not None and label_field is not None:
            settings.setdefault(label_field, int(labels.max()) + 1)
        return settings

    def train_settings(self, model_config: Any, data: Dataset) -> tuple[dict, dict]:
        """TrainConfig's fields (the spec's, then the model's suggestions where the spec is
        silent, then the image shape augmentation needs) and the suggestions taken."""
        train = copy.deepcopy(self.train)
        suggested = {
            k: v
            for k, v in self.model_class.suggested_train_settings(model_config).items()
            if k not in train
        }
        train.update(suggested)
        if train.get("time_budget") is not None and "epochs" not in train:
            train["epochs"] = MAX_EPOCHS  # the budget decides
        if train.get("augment_shift") and train.get("image_shape") is None:
            if data.image_shape is None:
                raise ConfigError(
                    "augment_shift",
                    "moves images, but this data has no image shape; set image_shape = "
                    "[height, width] in the [train] table",
                )
            train["image_shape"] = data.image_shape
        return train, suggested

    def with_recipe(self, data: Dataset) -> tuple[RunSpec, dict[str, Any]]:
        """This spec with aekit's default recipe for ``data`` filled in where it is silent
        (:mod:`aekit.recipes`; only an autoencoder's, and only with ``recipe="auto"``), and the
        settings filled in. The returned spec says ``recipe="none"``: it holds every value it
        needs, so a later aekit with other defaults rebuilds the same run from it."""
        if self.recipe != "auto" or self.model != "autoencoder":
            return self, {}
        layers = self.model_config.get("layers")
        widths = parse_layers(layers, data.n_features) if layers is not None else None
        recipe = default_recipe(
            data.x_train, self.train, layers=widths, image_shape=data.image_shape
        )
        model = {k: v for k, v in recipe.model.items() if k not in self.model_config}
        logistic = (
            self.pretrain == "rbm"
            or self.model_config.get("sparsity_weight", 0) > 0
            or self.model_config.get("contractive_method") == "closed"
        )
        if logistic:
            # RBM pretraining builds logistic layers, the KL sparsity penalty needs mean
            # activations in (0, 1) and the closed-form contractive penalty logistic units:
            # these keep the lecture's units.
            model.pop("activation", None)
        train = {k: v for k, v in recipe.train.items() if k not in self.train}
        spec = self.with_overrides(model_config=model, train=train, recipe="none")
        return spec, {**model, **train}

    def configs(self, data: Dataset) -> tuple[Any, TrainConfig, np.ndarray | None, dict]:
        """The model config and the TrainConfig this spec makes on ``data`` (every check, no
        model built), the labels it learns from and the train settings the model suggested
        (the default recipe's are filled in first: :meth:`with_recipe`)."""
        self, _ = self.with_recipe(data)
        labels = self.labels_for(data)
        config = self.model_class.config_class(**self.model_settings(data, labels))
        train, suggested = self.train_settings(config, data)
        return config, TrainConfig(**train), labels, suggested

    def build(
        self, data: Dataset | None = None, pretrained: bool = True, started: float | None = None
    ) -> Run:
        """Load the data (unless given), fill in the default recipe, make the model and the
        TrainConfig.

        ``pretrained=False`` skips greedy pretraining (a resumed run takes its weights from
        its checkpoint instead). ``started`` (a ``time.perf_counter()`` value, default now) is
        when a time budget starts counting: a caller that loaded ``data`` itself passes the
        time before it did.
        """
        started = time.perf_counter() if started is None else started
        if data is None:
            if self.data is None:
                raise ValueError("the spec names no data: give a [data] table or --data")
            data = self.data.load()
        spec, filled = self.with_recipe(data)
        if filled:  # the filled-in spec is the run's: run.json saves it
            return spec._build(data, pretrained, started, filled)
        return self._build(data, pretrained, started, {})

    def _build(self, data: Dataset, pretrained: bool, started: float, filled: dict) -> Run:
        config, train_config, labels, suggested = self.configs(data)
        if pretrained and self.model == "autoencoder":  # once, not again on resume
            warn_if_overcomplete(config)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        torch.manual_seed(train_config.seed)  # the initialisation; the trainer seeds the rest
        model = self._make_model(config, data, train_config, pretrained)
        return Run(self, model, train_config, data, labels, suggested, started, filled)

    def _make_model(self, config, data: Dataset, train_config: TrainConfig, pretrained: bool):
        if not pretrained or self.pretrain == "none":
            return self.model_class(config)
        if self.pretrain == "ae":
            return pretrain_stacked(config, data.x_train, train_config)
        # Under a time budget each RBM gets its share of it (and epochs without end).
        keys = ("epochs", "seed", "progress", "device", "time_budget")
        overrides = {k: getattr(train_config, k) for k in keys}
        return pretrain_stacked(
            config,
            data.x_train,
            pretrainer=rbm_pretrainer(config, train_overrides=overrides),
        )


class OvercompleteCodeWarning(UserWarning):
    """An autoencoder's code is as wide as its input or wider, and nothing keeps it from
    learning the identity. :meth:`spelled` words the message for another door, as
    :meth:`aekit.config.ConfigError.spelled` does (``--sparsity-weight 0.1`` on the command
    line, ``sparsity_weight=0.1`` in Python)."""

    def __init__(self, problem: str, mentions: dict[str, Any]) -> None:
        self.message = ConfigError("", problem, mentions=mentions)
        super().__init__(str(self.message))

    def spelled(self, spell) -> str:
        return self.message.spelled(spell)


def warn_if_overcomplete(config) -> None:
    """Warn (:class:`OvercompleteCodeWarning`) when an autoencoder's code has at least as many
    units as its input and no sparsity, denoising or contractive penalty: such a network can
    copy its input through the code (Bengio et al. 2007; Vincent et al., ICML 2008) and reach a
    low error having learnt nothing about the data."""
    n_in, code = config.layers[0], config.layers[-1]
    regularized = (
        config.sparsity_weight > 0
        or config.contractive_weight > 0
        or (config.corruption != "none" and config.corruption_level > 0)
    )
    if code < n_in or regularized:
        return
    warnings.warn(
        OvercompleteCodeWarning(
            f"the code has {code} units for {n_in} input features: an overcomplete autoencoder "
            "can learn the identity, copying its input through the code without learning "
            "anything about the data; keep it from that with a sparsity penalty ({sparsity}), "
            "denoising ({corruption} {level}) or a contractive penalty ({contractive}), or make "
            f"the code narrower than {n_in} units",
            mentions={
                "sparsity": ("sparsity_weight", 0.1),
                "corruption": ("corruption", "mask"),
                "level": ("corruption_level", 0.2),
                "contractive": ("contractive_weight", 0.1),
            },
        ),
        stacklevel=3,
    )


def load_run_spec(run_dir: str | Path) -> RunSpec:
    """The specification a run folder was trained from (its run.json).

    Folders written before run.json held the spec (aekit 0.1.0 of 2026-12-06 and earlier) are
    read from their saved model and train configs, which hold every field.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    metadata = run.get("metadata") or {}
    if "spec" in metadata:
        tables = copy.deepcopy(metadata["spec"])
        # Specs saved before recipes existed were built from the configs' defaults.
        tables.setdefault("train", {}).setdefault("recipe", "none")
        return replace(RunSpec.from_dict(tables), command="aekit resume")
    if run.get("model") not in TRAINABLE or "data" not in metadata:
        raise ValueError(
            f"{run_dir}/run.json does not say which data and model it was trained with (not "
            "made by `aekit train`); resume it from Python with Trainer(...).fit(x, resume=True)"
        )
    model_config = dict(run["model_config"])
    train = {k: v for k, v in run["train_config"].items() if k in field_specs(TrainConfig)}
    if isinstance(train.get("adam_betas"), list):
        train["adam_betas"] = tuple(train["adam_betas"])
    conditional = bool(metadata.get("labels")) and run["model"] == "vae"
    return RunSpec(
        data=DataSpec(**metadata["data"]),
        model=run["model"],
        model_config=model_config,
        train=train,
        pretrain=metadata.get("pretrain", "none"),
        conditional=conditional,
        command="aekit train",
    )


def resume(
    run_dir: str | Path,
    overrides: dict[str, Any] | None = None,
    threads: int | None = None,
    callbacks=(),
    force_data: bool = False,
) -> tuple[Run, History]:
    """Continue an interrupted run from its last checkpoint, rebuilt from its folder alone; a
    run stopped before its first checkpoint starts again from its saved specification.

    ``overrides`` may change TrainConfig fields that do not alter the result (``device``,
    ``progress``); the rest of the run is as it was saved. ``force_data`` resumes even when the
    data's fingerprint differs from the run's.
    """
    allowed = {"device", "progress", "log_every"}
    changed = set(overrides or {}) - allowed
    if changed:
        raise ValueError(f"a resumed run may change only {sorted(allowed)}, not {sorted(changed)}")
    spec = load_run_spec(run_dir)
    spec = spec.with_overrides(train=overrides or {}, threads=threads or spec.threads)
    folder = RunFolder(run_dir)
    checkpointed = folder.latest() is not None
    run = spec.build(pretrained=not checkpointed)
    resolve_device(run.train_config.device)  # a bad --device is named before anything else
    if checkpointed and folder.model_dir().is_dir():
        state, _, _ = folder.load_checkpoint()
        if state.finished:
            raise ValueError(
                f"{run_dir} has finished (epoch {state.epoch + 1}); there is nothing to resume: "
                f"its model is in {folder.model_dir()}"
            )
    history = run.fit(run_dir, resume=checkpointed, callbacks=callbacks, force_data=force_data)
    return run, history


__all__ = [
    "PRETRAIN",
    "TRAINABLE",
    "DataSpec",
    "OvercompleteCodeWarning",
    "Run",
    "RunSpec",
    "load_run_spec",
    "resume",
    "warn_if_overcomplete",
]
