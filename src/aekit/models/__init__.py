"""Models, one file per family; importing this package registers them for loading."""

from aekit.models.aae import AAEConfig, AdversarialAutoencoder
from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.models.base import Model, apply_batched
from aekit.models.document import DocumentAutoencoder, DocumentAutoencoderConfig
from aekit.models.ib_autoencoder import IBAutoencoder, IBAutoencoderConfig
from aekit.models.vae import VAE, VAEConfig
from aekit.models.vib import VIBClassifier, VIBConfig

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
    "Model",
    "VAEConfig",
    "VIBClassifier",
    "VIBConfig",
    "apply_batched",
]
