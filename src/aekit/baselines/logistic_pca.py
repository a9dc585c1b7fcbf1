"""Logistic (Bernoulli) PCA: a low-rank model of the natural parameters of binary data.

References
----------
- M. Collins, S. Dasgupta and R. E. Schapire, "A Generalization of Principal Component
  Analysis to the Exponential Family", NIPS 2001.
- A. I. Schein, L. K. Saul and L. H. Ungar, "A Generalized Linear Model for Principal
  Component Analysis of Binary Data", AISTATS 2003 (the baseline of Hinton & Salakhutdinov
  2006, Fig. 2: 8.01 squared error per image on MNIST with 30 components).

Model: ``x_nd ~ Bernoulli(sigmoid(theta_nd))`` with ``Theta = 1 mu^T + U V^T``, ``U`` the
codes ``(n_samples, n_components)`` and ``V`` the loadings ``(n_features, n_components)``.
Fitting minimises the cross-entropy (grey levels in [0, 1] allowed as targets, as in the
paper) jointly over ``mu``, ``U`` and ``V`` by full-batch L-BFGS. Encoding new data solves
the convex problem over ``U`` alone (a logistic regression per sample, all at once). An L2
penalty on ``U`` and ``V`` keeps the optimum finite on separable data.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _check_unit(x, name: str = "x") -> torch.Tensor:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite values")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            f"logistic PCA models values in [0, 1]; {name} has values in "
            f"[{arr.min():.3g}, {arr.max():.3g}]: scale the data to [0, 1]"
        )
    return torch.from_numpy(arr)


class LogisticPCA:
    """Bernoulli PCA with the same fit / encode / reconstruct surface as :class:`PCABaseline`.

    Parameters
    ----------
    n_components : int
        Code size.
    l2 : float
        Penalty ``l2 / 2 * ||u_n||^2`` on each sample's code (a N(0, 1/l2) prior) plus
        ``l2 / 2 * ||V||^2 / n``: without it, codes of samples whose bits a hyperplane
        separates run off to infinity and drag the loadings away from the true subspace.
    max_iter : int
        L-BFGS iterations for fitting (and for encoding new data).
    random_state : int
        Seeds the initialisation.

    Attributes
    ----------
    mean_ : ndarray, shape (n_features,)
        ``mu``, the offset of the natural parameters.
    loadings_ : ndarray, shape (n_features, n_components)
        ``V`` as fitted; codes are coordinates on these columns.
    components_ : ndarray, shape (n_components, n_features)
        An orthonormal basis of the span of ``V`` (PCA's convention, for comparisons).
    train_codes_ : ndarray, shape (n_samples, n_components)
        ``U`` of the training data.
    """

    def __init__(
        self,
        n_components: int = 30,
        l2: float = 1.0,
        max_iter: int = 300,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.l2 = l2
        self.max_iter = max_iter
        self.random_state = random_state

    def _objective(self, x, theta, *penalized) -> torch.Tensor:
        nll = F.binary_cross_entropy_with_logits(theta, x, reduction="sum") / len(x)
        return nll + 0.5 * self.l2 * sum(p.pow(2).sum() for p in penalized) / len(x)

    def fit(self, x) -> LogisticPCA:
        """Fit on ``x`` in [0, 1], shape ``(n_samples, n_features)``; returns ``self``."""
        xt = _check_unit(x)  # float32: the elementwise cross-entropy dominates the cost
        n, d = xt.shape
        if not 1 <= self.n_components <= min(n, d):
            raise ValueError(
                f"n_components={self.n_components} must be between 1 and min(n_samples, "
                f"n_features)={min(n, d)}"
            )
        gen = torch.Generator().manual_seed(self.random_state)
        # Start from PCA of the clipped logits: close to the optimum, so L-BFGS converges fast.
        p = xt.mean(0).clamp(1e-3, 1 - 1e-3)
        mu = torch.log(p / (1 - p)).requires_grad_(True)
        logits = torch.logit(xt.clamp(0.05, 0.95)) - mu.detach()
        _, s, vt = torch.linalg.svd(logits, full_matrices=False)
        k = self.n_components
        v = (vt[:k].T * (s[:k] / np.sqrt(n)) ** 0.5).clone()
        v += 1e-3 * torch.randn(v.shape, generator=gen, dtype=v.dtype)
        v.requires_grad_(True)
        u = (logits @ vt[:k].T / (s[:k] / np.sqrt(n)) ** 0.5).clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [mu, u, v],
            lr=1,
            max_iter=self.max_iter,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-7,
            tolerance_change=1e-9,
            history_size=20,
        )

        def closure():
            opt.zero_grad()
            loss = self._objective(xt, mu + u @ v.T, u, v)
            loss.backward()
            return loss

        opt.step(closure)
        self.mean_ = mu.detach().numpy()
        self.loadings_ = v.detach().numpy()  # (d, k)
        # An orthonormal basis of the same subspace, PCA's convention for comparisons.
        self.components_ = torch.linalg.qr(v.detach())[0].T.numpy()  # (k, d)
        self.train_codes_ = u.detach().numpy()
        self.n_features_in_ = d
        self.loss_ = float(closure().detach())
        return self

    def encode(self, x) -> np.ndarray:
        """Codes ``U`` of new data, each row the solution of a convex logistic regression."""
        xt = _check_unit(x)
        if xt.shape[1] != self.n_features_in_:
            raise ValueError(
                f"x has {xt.shape[1]} features; the model was fit on {self.n_features_in_}"
            )
        mu = torch.from_numpy(self.mean_)
        vt = torch.from_numpy(self.loadings_).T  # (k, d)
        logits = torch.logit(xt.clamp(0.05, 0.95)) - mu
        u = torch.linalg.lstsq(vt.T, logits.T).solution.T.clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [u],
            lr=1,
            max_iter=self.max_iter,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-7,
            tolerance_change=1e-9,
        )

        def closure():
            opt.zero_grad()
            loss = self._objective(xt, mu + u @ vt, u)
            loss.backward()
            return loss

        opt.step(closure)
        return u.detach().numpy().astype(np.float32)

    def decode(self, z) -> np.ndarray:
        """Reconstructions ``sigmoid(mu + U V^T)`` from codes."""
        theta = np.asarray(z, dtype=np.float64) @ self.loadings_.T.astype(np.float64) + self.mean_
        return (1 / (1 + np.exp(-theta))).astype(np.float32)

    def reconstruct(self, x) -> np.ndarray:
        """Encode then decode."""
        return self.decode(self.encode(x))

    transform = encode
    inverse_transform = decode
