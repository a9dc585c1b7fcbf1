"""Models, one file per family; importing this package registers them for loading."""

from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.models.base import Model, apply_batched

__all__ = [
    "Autoencoder",
    "AutoencoderConfig",
    "Model",
    "apply_batched",
]
