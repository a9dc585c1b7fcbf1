"""Baselines autoencoders are measured against."""

from aekit.baselines.logistic_pca import LogisticPCA
from aekit.baselines.lsa import LSA
from aekit.baselines.pca import PCABaseline

__all__ = ["LSA", "LogisticPCA", "PCABaseline"]
