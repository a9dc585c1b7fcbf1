"""Evaluation metrics."""

from aekit.evaluate.metrics import (
    cluster_error,
    code_sensitivity,
    knn_accuracy,
    linear_probe_accuracy,
    mean_squared_error_per_sample,
    mmd2,
    squared_error_per_sample,
)

__all__ = [
    "cluster_error",
    "code_sensitivity",
    "knn_accuracy",
    "linear_probe_accuracy",
    "mean_squared_error_per_sample",
    "mmd2",
    "squared_error_per_sample",
]
