"""A trained model's test error beside PCA's at the same code size.

PCA is the floor every autoencoder must clear: a linear autoencoder with squared error learns
PCA's subspace (Baldi & Hornik, Neural Networks 1989), and Hinton & Salakhutdinov (Science 2006)
report the deep autoencoder's error beside PCA's at each code size for that reason. A model
behind PCA has not learnt more than a projection would, whatever its loss curve looks like.
:func:`compare_with_pca` fits PCA on the training rows with as many components as the model's
code has units and scores both on the test rows with the paper's metric, the squared error
summed over features and averaged over samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from aekit.baselines import PCABaseline
from aekit.evaluate.metrics import mean_squared_error_per_sample

__all__ = ["PCAComparison", "compare_with_pca"]

#: PCA is fitted on at most this many training rows (a seeded sample beyond it): its subspace
#: from 50,000 rows is the full set's to within noise, and the fit stays a small part of a run.
MAX_PCA_ROWS = 50_000


@dataclass(frozen=True)
class PCAComparison:
    """The model's and PCA's test error at the same code size.

    Attributes
    ----------
    code_size : int
        Units of the model's code.
    n_components : int
        PCA's components: ``code_size``, or fewer when the data has fewer features or
        training rows (PCA then keeps every direction there is).
    model_error, pca_error : float
        Squared error per sample on the test rows (summed over features, mean over rows).
    pca_seconds : float
        Wall time of PCA's fit and scoring.
    n_fit_rows : int
        Training rows PCA was fitted on.
    n_features : int
        The data's width.
    """

    code_size: int
    n_components: int
    model_error: float
    pca_error: float
    pca_seconds: float
    n_fit_rows: int
    n_features: int

    @property
    def pca_is_exact(self) -> bool:
        """True when PCA keeps every direction of the data (a code as wide as the input):
        its error is rounding, and the comparison says nothing about the model."""
        return self.n_components >= self.n_features

    @property
    def behind(self) -> bool:
        """True when the model's test error is above PCA's."""
        return self.model_error > self.pca_error

    @property
    def ratio(self) -> float:
        """The model's error over PCA's (inf when PCA's is 0 and the model's is not)."""
        if self.pca_error == 0:
            return 1.0 if self.model_error == 0 else float("inf")
        return self.model_error / self.pca_error


def compare_with_pca(
    model,
    x_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray | None = None,
    seed: int = 0,
) -> PCAComparison:
    """Score ``model`` and PCA (fitted on ``x_train``) on ``x_test`` at the model's code size.

    Parameters
    ----------
    model : EncoderDecoder
        A trained model with ``transform`` and ``reconstruct`` (an autoencoder, VAE, AAE, IB
        autoencoder). A conditional VAE reconstructs with ``y_test``.
    x_train : ndarray of shape (n_train, n_features)
        The rows PCA is fitted on (at most :data:`MAX_PCA_ROWS`, a seeded sample beyond).
    x_test : ndarray of shape (n_test, n_features)
        The rows both are scored on.
    y_test : ndarray of shape (n_test,), optional
        Labels, for a model that reconstructs with them (the conditional VAE).
    seed : int
        Seed of the sample of training rows when there are more than :data:`MAX_PCA_ROWS`.

    Returns
    -------
    PCAComparison

    Raises
    ------
    TypeError
        If the model cannot reconstruct.
    ValueError
        If there are no test rows.
    """
    if not callable(getattr(model, "reconstruct", None)):
        raise TypeError(f"a {type(model).__name__} does not reconstruct; nothing to compare")
    if len(x_test) == 0 or len(x_train) == 0:
        raise ValueError("compare_with_pca needs training rows to fit PCA and test rows to score")
    labels = {"y": y_test} if y_test is not None else {}
    code_size = int(model.transform(x_test[:1], **{k: v[:1] for k, v in labels.items()}).shape[1])
    model_error = mean_squared_error_per_sample(x_test, model.reconstruct(x_test, **labels))
    t0 = time.perf_counter()
    fit_rows = np.asarray(x_train)
    if len(fit_rows) > MAX_PCA_ROWS:
        pick = np.random.default_rng(seed).choice(len(fit_rows), MAX_PCA_ROWS, replace=False)
        fit_rows = fit_rows[np.sort(pick)]
    k = min(code_size, *fit_rows.shape)
    pca = PCABaseline(k).fit(fit_rows)
    pca_error = mean_squared_error_per_sample(x_test, pca.reconstruct(x_test))
    return PCAComparison(
        code_size=code_size,
        n_components=k,
        model_error=model_error,
        pca_error=pca_error,
        pca_seconds=time.perf_counter() - t0,
        n_fit_rows=len(fit_rows),
        n_features=int(fit_rows.shape[1]),
    )
