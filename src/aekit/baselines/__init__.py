"""Baselines autoencoders are measured against."""

from aekit.baselines.logistic_pca import LogisticPCA
from aekit.baselines.pca import PCABaseline

__all__ = ["LogisticPCA", "PCABaseline"]
