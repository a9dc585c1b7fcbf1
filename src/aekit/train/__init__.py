"""Training: the one loop, its configuration, checkpoints and multi-process setup."""

import warnings
from importlib import import_module

from aekit.train.distributed import (
    DistributedContext,
    PeerFailedError,
    init_distributed,
    is_main_process,
    shutdown_distributed,
)
from aekit.train.pretrain import (
    PretrainedLayer,
    autoencoder_pretrainer,
    fit_rbm_layer,
    pretrain_dbm,
    pretrain_layers,
    pretrain_stacked,
    rbm_pretrainer,
    rbm_stack_pretrainer,
    train_dbn,
)
from aekit.train.trainer import (
    History,
    NonFiniteLossError,
    TrainConfig,
    Trainer,
    load_run,
    resolve_device,
    split_validation,
    train_config_from_dict,
)

__all__ = [
    "DistributedContext",
    "History",
    "NonFiniteLossError",
    "PeerFailedError",
    "PretrainedLayer",
    "TrainConfig",
    "Trainer",
    "autoencoder_pretrainer",
    "fit_rbm_layer",
    "init_distributed",
    "is_main_process",
    "load_run",
    "pretrain_dbm",
    "pretrain_layers",
    "pretrain_stacked",
    "rbm_pretrainer",
    "rbm_stack_pretrainer",
    "resolve_device",
    "shutdown_distributed",
    "split_validation",
    "train_config_from_dict",
    "train_dbn",
]

# The paper's recipes moved to aekit.experiments.recipes; the old imports still work and warn.
_MOVED = (
    "document_pretrainer",
    "document_rbm_configs",
    "hinton2006_train_config",
    "pretrain_document_autoencoder",
)


def __getattr__(name: str):
    if name in _MOVED:
        warnings.warn(
            f"aekit.train.{name} moved to aekit.experiments.recipes.{name}; the old name will "
            "be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module("aekit.experiments.recipes"), name)
    raise AttributeError(f"module 'aekit.train' has no attribute {name!r}")
