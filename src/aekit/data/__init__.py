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
    DataOptionError,
    Dataset,
    data_dir,
    dataset_options,
    list_datasets,
    load_dataset,
    register_dataset,
)
from .text import (
    STOP_WORDS,
    BagOfWords,
    Corpus,
    check_nonempty,
    document_lengths,
    encode_labels,
    load_20newsgroups,
    load_corpus,
    load_text_csv,
    load_text_folder,
    porter_stem,
    strip_header,
    tokenize,
    word_probabilities,
)

__all__ = [
    "DATA_DIR_ENV",
    "STOP_WORDS",
    "SUPPORTED_SUFFIXES",
    "BagOfWords",
    "Corpus",
    "DataOptionError",
    "Dataset",
    "check_nonempty",
    "data_dir",
    "dataset_options",
    "document_lengths",
    "encode_labels",
    "list_datasets",
    "load_20newsgroups",
    "load_array",
    "load_corpus",
    "load_dataset",
    "load_labeled",
    "load_text_csv",
    "load_text_folder",
    "make_curves",
    "make_faces25",
    "porter_stem",
    "read_idx",
    "read_olivetti",
    "register_dataset",
    "strip_header",
    "tokenize",
    "transform_faces",
    "word_probabilities",
    "write_idx",
]
