"""Evaluation metrics and retrieval curves."""

from aekit.evaluate.metrics import (
    cluster_error,
    code_sensitivity,
    knn_accuracy,
    linear_probe_accuracy,
    mean_squared_error_per_sample,
    mmd2,
    squared_error_per_sample,
)
from aekit.evaluate.pca_compare import PCAComparison, compare_with_pca
from aekit.evaluate.retrieval import (
    RetrievalCurve,
    binarize,
    hamming_distances,
    pack_bits,
    retrieval_curve,
    search,
)

__all__ = [
    "PCAComparison",
    "RetrievalCurve",
    "binarize",
    "cluster_error",
    "code_sensitivity",
    "compare_with_pca",
    "hamming_distances",
    "knn_accuracy",
    "linear_probe_accuracy",
    "mean_squared_error_per_sample",
    "mmd2",
    "pack_bits",
    "retrieval_curve",
    "search",
    "squared_error_per_sample",
]
