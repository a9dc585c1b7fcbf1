"""Data for aekit: standard file formats, the curves generator and data sets by name.

NumPy (and scikit-learn for the bundled digits) only: nothing here imports torch, so the data
layer sits below the models. Everything public is re-exported here; import from
``aekit.data``, not from its modules.
"""

from .curves import make_curves
from .faces import make_faces25, read_olivetti, transform_faces
from .files import SUPPORTED_SUFFIXES, load_array, load_labeled
from .idx import read_idx, write_idx
from .registry import (
    DATA_DIR_ENV,
    Dataset,
    data_dir,
    list_datasets,
    load_dataset,
    register_dataset,
)

__all__ = [
    "DATA_DIR_ENV",
    "SUPPORTED_SUFFIXES",
    "Dataset",
    "data_dir",
    "list_datasets",
    "load_array",
    "load_dataset",
    "load_labeled",
    "make_curves",
    "make_faces25",
    "read_idx",
    "read_olivetti",
    "register_dataset",
    "transform_faces",
    "write_idx",
]
