"""Baselines: logistic PCA recovers a planted low-rank logistic model."""

import numpy as np
import pytest
from scipy.linalg import subspace_angles

from aekit.baselines import LogisticPCA, PCABaseline
from aekit.evaluate import mean_squared_error_per_sample


def planted(n=3000, d=25, k=2, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(d, k)) * 1.5
    u = rng.normal(size=(n, k))
    mu = rng.normal(size=d) * 0.5
    p = 1 / (1 + np.exp(-(u @ v.T + mu)))
    return (rng.random((n, d)) < p).astype(np.float32), v, p


def test_logistic_pca_recovers_planted_subspace_and_beats_pca():
    x, v_true, p = planted(n=2000, d=60)
    lpca = LogisticPCA(n_components=2, max_iter=200).fit(x)
    angle = np.max(subspace_angles(lpca.components_.T, v_true))
    pca_angle = np.max(subspace_angles(PCABaseline(2).fit(x).pca_.components_.T, v_true))
    # Measured: 0.052 rad against PCA's 0.24 rad.
    assert angle < 0.1 and angle < 0.5 * pca_angle, (angle, pca_angle)
    # Its probabilities are closer to the true ones than PCA's reconstructions at rank 2.
    lp_err = mean_squared_error_per_sample(p, lpca.reconstruct(x))
    pca_err = mean_squared_error_per_sample(p, PCABaseline(2).fit(x).reconstruct(x))
    assert lp_err < pca_err
    # Encoding the training data again reproduces the fitted codes' reconstructions (to the
    # float32 optimizer's tolerance: measured max 0.005, mean 1e-4).
    diff = np.abs(lpca.decode(lpca.train_codes_) - lpca.reconstruct(x))
    assert diff.max() < 0.02 and diff.mean() < 1e-3


def test_logistic_pca_fit_and_encode_satisfy_their_optimality_conditions():
    # J = [sum BCE(sigmoid(1 mu^T + U V^T), X) + l2/2 (|U|^2 + |V|^2)] / n; at the optimum
    # every gradient vanishes. With R = sigmoid(theta) - X: dJ/dmu = R^T 1 / n,
    # dJ/dV = (R^T U + l2 V) / n, dJ/dU = (R V + l2 U) / n. Measured max: 1.4e-4, 6e-5.
    x, _, _ = planted(n=2000, d=60)
    lpca = LogisticPCA(n_components=2, max_iter=200).fit(x)
    u, v, mu = (a.astype(np.float64) for a in (lpca.train_codes_, lpca.loadings_, lpca.mean_))
    n = len(x)
    r = 1 / (1 + np.exp(-(u @ v.T + mu))) - x
    assert np.abs(r.sum(0) / n).max() < 1e-3
    assert np.abs((r.T @ u + lpca.l2 * v) / n).max() < 1e-3
    assert np.abs((r @ v + lpca.l2 * u) / n).max() < 1e-3
    # loss_ is the objective at the solution, recomputed here in float64.
    bce = -(x * np.log1p(np.exp(-(u @ v.T + mu))) + (1 - x) * np.log1p(np.exp(u @ v.T + mu)))
    objective = (-bce.sum() + 0.5 * lpca.l2 * ((u**2).sum() + (v**2).sum())) / n
    assert lpca.loss_ == pytest.approx(objective, rel=1e-5)
    # Encoding new rows solves the convex problem over their codes alone (V and mu fixed).
    rows = planted(n=200, d=60, seed=1)[0]
    z = lpca.encode(rows).astype(np.float64)
    s = 1 / (1 + np.exp(-(z @ v.T + mu)))
    assert np.abs(((s - rows) @ v + lpca.l2 * z) / len(rows)).max() < 1e-3


def test_logistic_pca_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LogisticPCA(2).fit(np.full((10, 4), 3.0))
    with pytest.raises(ValueError, match="n_components"):
        LogisticPCA(9).fit(np.zeros((10, 4)))
    lpca = LogisticPCA(1, max_iter=5).fit(np.random.default_rng(0).random((10, 4)))
    with pytest.raises(ValueError, match="features"):
        lpca.encode(np.zeros((3, 5)))
