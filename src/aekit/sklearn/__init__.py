"""scikit-learn estimators wrapping aekit's models; the public surface, re-exported by name.

The implementations live in private modules, one per model family:

- ``_autoencoders``: :class:`AutoencoderTransformer` and its sparse, denoising and
  contractive variants.
"""

from aekit.sklearn._autoencoders import (
    AutoencoderTransformer,
    ContractiveAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    SparseAutoencoderTransformer,
)

__all__ = [
    "AutoencoderTransformer",
    "ContractiveAutoencoderTransformer",
    "DenoisingAutoencoderTransformer",
    "SparseAutoencoderTransformer",
]
