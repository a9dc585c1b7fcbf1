"""aekit: autoencoders and their relatives on PyTorch, NumPy and scikit-learn."""

from aekit.io import load_model, save_model
from aekit.models import Autoencoder, AutoencoderConfig
from aekit.train import TrainConfig, Trainer

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "AutoencoderConfig",
    "TrainConfig",
    "Trainer",
    "__version__",
    "load_model",
    "save_model",
]
