"""scikit-learn estimators wrapping aekit's models; the public surface, re-exported by name.

The implementations live in private modules, one per model family:

- ``_autoencoders``: :class:`AutoencoderTransformer` and its sparse, denoising and
  contractive variants.
- ``_outlier``: :class:`AutoencoderOutlierDetector`.
"""

from aekit.sklearn._autoencoders import (
    AutoencoderTransformer,
    ContractiveAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    SparseAutoencoderTransformer,
)
from aekit.sklearn._outlier import AutoencoderOutlierDetector

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "ContractiveAutoencoderTransformer",
    "DenoisingAutoencoderTransformer",
    "SparseAutoencoderTransformer",
]
