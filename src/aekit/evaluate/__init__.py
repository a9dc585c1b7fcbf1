"""Evaluation metrics."""

from aekit.evaluate.metrics import (
    code_sensitivity,
    knn_accuracy,
    linear_probe_accuracy,
    mean_squared_error_per_sample,
    squared_error_per_sample,
)

__all__ = [
    "code_sensitivity",
    "knn_accuracy",
    "linear_probe_accuracy",
    "mean_squared_error_per_sample",
    "squared_error_per_sample",
]
