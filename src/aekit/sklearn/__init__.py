"""scikit-learn estimators wrapping aekit's models; the public surface, re-exported by name.

The implementations live in private modules, one per model family:

- ``_autoencoders``: :class:`AutoencoderTransformer` and its sparse, denoising and
  contractive variants.
- ``_documents``: :class:`DocumentAutoencoderTransformer` (word counts, sparse input).
- ``_outlier``: :class:`AutoencoderOutlierDetector`, :class:`DocumentOutlierDetector`.
- ``_vae``: :class:`VAETransformer`.
- ``_rbm``: :class:`RBMTransformer` (one RBM or a deep belief net).
- ``_persistence``: ``est.save(path)`` and :func:`load_estimator`: safetensors + JSON folders,
  never pickle.
- ``_score``: :func:`score_file`, the library side of ``aekit score``.
"""

from aekit.sklearn._autoencoders import (
    AutoencoderTransformer,
    ContractiveAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    SparseAutoencoderTransformer,
)
from aekit.sklearn._documents import DocumentAutoencoderTransformer
from aekit.sklearn._outlier import AutoencoderOutlierDetector, DocumentOutlierDetector
from aekit.sklearn._persistence import load_estimator, save_estimator
from aekit.sklearn._rbm import RBMTransformer
from aekit.sklearn._score import score_file
from aekit.sklearn._vae import VAETransformer

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "ContractiveAutoencoderTransformer",
    "DenoisingAutoencoderTransformer",
    "DocumentAutoencoderTransformer",
    "DocumentOutlierDetector",
    "RBMTransformer",
    "SparseAutoencoderTransformer",
    "VAETransformer",
    "load_estimator",
    "save_estimator",
    "score_file",
]
