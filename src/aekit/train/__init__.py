"""Training: the one loop, its configuration and checkpoints."""

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
    "TrainConfig",
    "Trainer",
    "load_run",
    "resolve_device",
    "split_validation",
    "train_config_from_dict",
]
