"""Latent semantic analysis, the baseline of the document experiments.

References
----------
- S. Deerwester, S. T. Dumais, G. W. Furnas, T. K. Landauer and R. Harshman, "Indexing by
  Latent Semantic Analysis", JASIS 41(6):391-407, 1990.
- G. E. Hinton and R. R. Salakhutdinov, Science 2006, Fig. 4: LSA codes of 20 Newsgroups
  documents from the SVD of ``log(1 + count)``, compared by cosine similarity with the deep
  autoencoder's codes at the same size.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD


class LSA:
    """Truncated SVD of ``log(1 + counts)`` (scikit-learn's :class:`TruncatedSVD`).

    The corpus stays sparse: ``log1p`` of a sparse matrix touches only its non-zeros.

    Parameters
    ----------
    n_components : int
        Code size.
    log_counts : bool
        Take ``log(1 + count)`` first (the paper's LSA); ``False`` factorises raw counts.
    algorithm : {"randomized", "arpack"}
        Passed to :class:`~sklearn.decomposition.TruncatedSVD`.
    n_iter : int
        Power iterations of the randomized solver.
    random_state : int or None

    Attributes
    ----------
    svd_ : sklearn.decomposition.TruncatedSVD
        The fitted factorisation; ``svd_.components_`` is ``(n_components, n_words)``.
    """

    def __init__(
        self,
        n_components: int = 10,
        log_counts: bool = True,
        algorithm: str = "randomized",
        n_iter: int = 7,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.log_counts = log_counts
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.random_state = random_state

    def _prepare(self, x):
        if sp.issparse(x):
            x = sp.csr_matrix(x, dtype=np.float64)
            if x.nnz and x.data.min() < 0:
                raise ValueError("LSA takes non-negative word counts; the matrix has negatives")
            return x.log1p() if self.log_counts else x
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected a 2-D (n_documents, n_words) matrix, got shape {x.shape}")
        if x.size and x.min() < 0:
            raise ValueError("LSA takes non-negative word counts; the matrix has negatives")
        return np.log1p(x) if self.log_counts else x

    def fit(self, x) -> LSA:
        """Fit on word counts ``(n_documents, n_words)`` (dense or scipy sparse)."""
        x = self._prepare(x)
        n_docs, n_words = x.shape
        if not 1 <= self.n_components < min(n_docs, n_words) + (self.algorithm == "randomized"):
            raise ValueError(
                f"n_components={self.n_components} must be between 1 and "
                f"min(n_documents, n_words)={min(n_docs, n_words)} (exclusive for arpack)"
            )
        self.svd_ = TruncatedSVD(
            self.n_components,
            algorithm=self.algorithm,
            n_iter=self.n_iter,
            random_state=self.random_state,
        ).fit(x)
        return self

    def transform(self, x) -> np.ndarray:
        """Codes ``(n_documents, n_components)``: the projections onto the top singular vectors."""
        if not hasattr(self, "svd_"):
            raise ValueError("this LSA is not fitted yet; call fit(counts) first")
        return self.svd_.transform(self._prepare(x)).astype(np.float32)

    def fit_transform(self, x) -> np.ndarray:
        return self.fit(x).transform(x)

    def inverse_transform(self, z) -> np.ndarray:
        """Back to (log-)count space: the rank-``n_components`` approximation."""
        return self.svd_.inverse_transform(np.asarray(z)).astype(np.float32)

    # The autoencoders' numpy names.
    encode = transform
    decode = inverse_transform
