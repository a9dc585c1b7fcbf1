"""Baselines autoencoders are measured against."""

from aekit.baselines.pca import PCABaseline

__all__ = ["PCABaseline"]
