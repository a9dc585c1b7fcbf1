"""Metrics shared by the experiments.

``squared_error_per_sample`` is the paper's metric (Hinton & Salakhutdinov 2006, "average
squared error per image"): the squared error summed over a sample's features, then averaged
over samples.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier


def squared_error_per_sample(x: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """``sum_i (x_i - recon_i)^2`` for each row, shape ``(n_samples,)``."""
    x, recon = np.asarray(x, dtype=np.float64), np.asarray(recon, dtype=np.float64)
    if x.shape != recon.shape:
        raise ValueError(f"data shape {x.shape} and reconstruction shape {recon.shape} differ")
    return ((x - recon) ** 2).sum(axis=1)


def mean_squared_error_per_sample(x: np.ndarray, recon: np.ndarray) -> float:
    """The paper's figure: squared error summed over features, averaged over samples."""
    return float(squared_error_per_sample(x, recon).mean())


def knn_accuracy(
    codes: np.ndarray,
    labels: np.ndarray,
    n_neighbors: int = 5,
    codes_test: np.ndarray | None = None,
    labels_test: np.ndarray | None = None,
    cv: int = 5,
) -> float:
    """Accuracy of a k-nearest-neighbour classifier on codes.

    With a test set, fit on ``codes`` and score on ``codes_test``; otherwise the mean of a
    ``cv``-fold cross-validation on ``codes``. A measure of how well a 2-D map separates classes.
    """
    clf = KNeighborsClassifier(n_neighbors=n_neighbors)
    if codes_test is not None:
        return float(clf.fit(codes, labels).score(codes_test, labels_test))
    return float(cross_val_score(clf, codes, labels, cv=cv).mean())
