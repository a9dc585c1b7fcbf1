"""Evaluation metrics."""

from aekit.evaluate.metrics import (
    knn_accuracy,
    mean_squared_error_per_sample,
    squared_error_per_sample,
)

__all__ = ["knn_accuracy", "mean_squared_error_per_sample", "squared_error_per_sample"]
