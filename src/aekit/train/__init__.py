"""Training: the one loop, its configuration and checkpoints."""

from aekit.train.pretrain import (
    PretrainedLayer,
    autoencoder_pretrainer,
    document_pretrainer,
    document_rbm_configs,
    hinton2006_train_config,
    pretrain_dbm,
    pretrain_document_autoencoder,
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
    "History",
    "NonFiniteLossError",
    "PretrainedLayer",
    "TrainConfig",
    "Trainer",
    "autoencoder_pretrainer",
    "document_pretrainer",
    "document_rbm_configs",
    "hinton2006_train_config",
    "load_run",
    "pretrain_dbm",
    "pretrain_document_autoencoder",
    "pretrain_layers",
    "pretrain_stacked",
    "rbm_pretrainer",
    "rbm_stack_pretrainer",
    "resolve_device",
    "split_validation",
    "train_config_from_dict",
    "train_dbn",
]
