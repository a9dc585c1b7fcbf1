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


def mmd2(x: np.ndarray, y: np.ndarray, bandwidths: tuple[float, ...] | None = None) -> float:
    """Unbiased squared maximum mean discrepancy between samples ``x`` and ``y``.

    Gretton et al., "A Kernel Two-Sample Test", JMLR 13 (2012), Eq. 3, with the kernel a sum of
    Gaussians ``exp(-||a - b||^2 / (2 h^2))`` over ``bandwidths``; by default ``h`` in
    ``{0.5, 1, 2} x`` the median distance of the pooled sample (the median heuristic, widened
    so no single scale decides). About 0 when both samples come from one distribution (it can
    be slightly negative: the estimate is unbiased).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"mmd2 needs two 2-D samples of one width, got {x.shape} and {y.shape}")
    if len(x) < 2 or len(y) < 2:
        raise ValueError("mmd2 needs at least 2 points in each sample")
    pooled = np.concatenate([x, y])

    def sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
        return np.maximum(d, 0.0)

    if bandwidths is None:
        d = np.sqrt(sq_dists(pooled, pooled))
        median = float(np.median(d[np.triu_indices(len(pooled), 1)]))
        bandwidths = tuple(f * median for f in (0.5, 1.0, 2.0))

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = sq_dists(a, b)
        k = np.zeros_like(d)
        for h in bandwidths:
            k += np.exp(-d / (2 * h**2))
        return k

    m, n = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def cluster_error(
    clusters_train: np.ndarray,
    labels_train: np.ndarray,
    clusters_test: np.ndarray,
    labels_test: np.ndarray,
) -> float:
    """Test error of clusters read as classes: each cluster takes the majority label of the
    training points in it (a cluster with no training point predicts the overall majority).

    The unsupervised-clustering metric of Makhzani et al. (2016), Sec. 6.
    """
    clusters_train = np.asarray(clusters_train)
    labels_train = np.asarray(labels_train)
    if len(clusters_train) != len(labels_train) or len(clusters_test) != len(labels_test):
        raise ValueError("each cluster assignment needs one label")
    fallback = np.bincount(labels_train).argmax()
    mapping = {
        c: np.bincount(labels_train[clusters_train == c]).argmax()
        for c in np.unique(clusters_train)
    }
    predicted = np.array([mapping.get(c, fallback) for c in np.asarray(clusters_test)])
    return float((predicted != np.asarray(labels_test)).mean())
