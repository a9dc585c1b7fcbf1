"""aekit: autoencoders and their relatives on PyTorch, NumPy and scikit-learn."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The torch-based names load on first use, so that `import aekit.ib` (NumPy only) does not
# pull in torch; `from aekit import Autoencoder` works as before.
_LAZY = {
    "AAEConfig": "aekit.models",
    "AdversarialAutoencoder": "aekit.models",
    "Autoencoder": "aekit.models",
    "AutoencoderConfig": "aekit.models",
    "DocumentAutoencoder": "aekit.models",
    "DocumentAutoencoderConfig": "aekit.models",
    "IBAutoencoder": "aekit.models",
    "IBAutoencoderConfig": "aekit.models",
    "VAE": "aekit.models",
    "VAEConfig": "aekit.models",
    "VIBClassifier": "aekit.models",
    "VIBConfig": "aekit.models",
    "TrainConfig": "aekit.train",
    "Trainer": "aekit.train",
    "load_model": "aekit.saving",
    "save_model": "aekit.saving",
}

if TYPE_CHECKING:
    from aekit.models import (
        VAE,
        AAEConfig,
        AdversarialAutoencoder,
        Autoencoder,
        AutoencoderConfig,
        DocumentAutoencoder,
        DocumentAutoencoderConfig,
        IBAutoencoder,
        IBAutoencoderConfig,
        VAEConfig,
        VIBClassifier,
        VIBConfig,
    )
    from aekit.saving import load_model, save_model
    from aekit.train import TrainConfig, Trainer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "VAE",
    "AAEConfig",
    "AdversarialAutoencoder",
    "Autoencoder",
    "AutoencoderConfig",
    "DocumentAutoencoder",
    "DocumentAutoencoderConfig",
    "IBAutoencoder",
    "IBAutoencoderConfig",
    "TrainConfig",
    "Trainer",
    "VAEConfig",
    "VIBClassifier",
    "VIBConfig",
    "__version__",
    "load_model",
    "save_model",
]
