"""Metrics shared by the experiments.

``squared_error_per_sample`` is the paper's metric (Hinton & Salakhutdinov 2006, "average
squared error per image"): the squared error summed over a sample's features, then averaged
over samples.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


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


def linear_probe_accuracy(
    codes: np.ndarray,
    labels: np.ndarray,
    codes_test: np.ndarray,
    labels_test: np.ndarray,
    max_iter: int = 1000,
) -> float:
    """Test accuracy of a multinomial logistic regression fitted on standardized codes.

    How much class information the codes hold in linearly readable form; the standard probe
    of representation learning.
    """
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    return float(probe.fit(codes, labels).score(codes_test, labels_test))


def code_sensitivity(codes: np.ndarray, codes_perturbed: np.ndarray) -> float:
    """``mean ||z(x~) - z(x)||^2 / mean ||z(x) - mean z||^2``: how far a perturbation of the
    input moves the codes, relative to the codes' own spread (so codes of any scale compare).
    """
    codes = np.asarray(codes, dtype=np.float64)
    moved = np.asarray(codes_perturbed, dtype=np.float64)
    if codes.shape != moved.shape:
        raise ValueError(f"code shapes {codes.shape} and {moved.shape} differ")
    spread = ((codes - codes.mean(0)) ** 2).sum(1).mean()
    return float(((moved - codes) ** 2).sum(1).mean() / spread)
