"""scikit-learn estimators for word-count data: the document autoencoder of Hinton &
Salakhutdinov (Science 313:504-507, 2006, Fig. 4) as a transformer, taking scipy sparse
matrices as they come out of a vectorizer (:class:`sklearn.feature_extraction.text.
CountVectorizer` or :class:`aekit.data.text.BagOfWords`).

The network sees each document's word distribution scaled to ``input_length`` words and
reconstructs that distribution through a softmax; the reconstruction error is the
cross-entropy in nats per word (:class:`aekit.models.DocumentAutoencoder`). Sparse input stays
sparse: the trainer and the batched transforms densify one minibatch at a time.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from aekit.models.document import CODE_TYPES, DocumentAutoencoder, DocumentAutoencoderConfig
from aekit.sklearn._fitting import (
    TRAINING_CONSTRAINTS,
    fill_training_doc,
    fit_network,
    hidden_sizes,
    writable,
)
from aekit.sklearn._persistence import EstimatorSaveMixin

__all__ = ["DocumentAutoencoderTransformer", "check_counts"]


def check_counts(X, name: str = "X"):
    """``X`` (dense or CSR) with every empty row replaced by ones; raises ``ValueError`` on
    negative values.

    A document with no word of the vocabulary has no word distribution; it is given the
    uniform one (one count of every word), which is what "nothing observed" says about the
    words it would use. The caller's array is never modified.
    """
    data = X.data if sp.issparse(X) else X
    if data.size and float(np.min(data)) < 0:
        raise ValueError(
            f"Negative values in data passed to {name}: pass word counts (non-negative)"
        )
    empty = np.flatnonzero(np.asarray(X.sum(axis=1)).ravel() <= 0)
    if not len(empty):
        return X
    n_words = X.shape[1]
    if sp.issparse(X):
        rows = np.repeat(empty, n_words)
        cols = np.tile(np.arange(n_words), len(empty))
        ones = np.ones(len(rows), dtype=X.dtype)
        return (X + sp.csr_matrix((ones, (rows, cols)), shape=X.shape)).tocsr()
    X = X.copy()
    X[empty] = 1.0
    return X


class DocumentAutoencoderTransformer(
    EstimatorSaveMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Deep autoencoder of word counts as a scikit-learn transformer; sparse input welcome.

    An encoder of widths ``(n_words, *hidden_layer_sizes, n_components)`` with logistic
    hidden units and a mirrored decoder ending in a softmax over the vocabulary, trained to
    reconstruct each document's word distribution (Hinton & Salakhutdinov, Science 2006). The
    first layer scales its bias by the document length, like the replicated-softmax RBM.

    Parameters
    ----------
    n_components : int, default=10
        Code size.
    hidden_layer_sizes : tuple of int, default=(250,)
        Widths of the encoder's hidden layers (the paper: ``(500, 250, 125)``).
    code : {{"real", "binary"}}, default="real"
        ``real``: linear code units. ``binary``: logistic code units trained with Gaussian
        noise on their input, so that they can be thresholded (semantic hashing).
    code_noise : float, default=4.0
        Standard deviation of that noise (binary codes only).
    input_length : float or None, default=100.0
        Every document is rescaled to this many words before the first layer; None feeds
        the raw counts.
    weight_decay : float, default=0.0
        ``lambda`` of ``lambda / 2 * sum ||W||^2``.
    {training}

    Attributes
    ----------
    model_ : aekit.models.DocumentAutoencoder
        The trained network.
    history_ : aekit.train.History
        Per-epoch records of the training run.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Training cross-entropy (nats per word) after each epoch.
    validation_loss_curve_ : list of float or None
        Held-out cross-entropy after each epoch; None without early stopping.
    n_features_in_ : int
        Vocabulary size seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        The words, when ``X`` is a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from aekit.sklearn import DocumentAutoencoderTransformer
    >>> counts = sp.random(50, 30, density=0.3, format="csr", random_state=0) * 5
    >>> counts = counts.floor() + sp.eye(50, 30, format="csr")  # no empty document
    >>> est = DocumentAutoencoderTransformer(n_components=2, max_epochs=3, random_state=0)
    >>> est.fit_transform(counts).shape
    (50, 2)
    >>> est.score_samples(counts[:3]).shape  # minus the cross-entropy, nats per word
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "code": [StrOptions(set(CODE_TYPES))],
        "code_noise": [Interval(Real, 0, None, closed="left")],
        "input_length": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        n_components: int = 10,
        *,
        hidden_layer_sizes: tuple[int, ...] = (250,),
        code: str = "real",
        code_noise: float = 4.0,
        input_length: float | None = 100.0,
        weight_decay: float = 0.0,
        max_epochs: int = 50,
        batch_size: int = 100,
        learning_rate: float = 1e-3,
        optimizer: str = "adam",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        random_state=None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.code = code
        self.code_noise = code_noise
        self.input_length = input_length
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate(self, X, reset: bool):
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=reset)
        return writable(check_counts(X))

    def fit(self, X, y=None):
        """Train on word counts.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_words)
            Non-negative counts. A document without any word of the vocabulary is read as
            one count of every word (the uniform distribution).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = self._validate(X, reset=True)
        config = DocumentAutoencoderConfig(
            layers=[X.shape[1], *hidden_sizes(self), int(self.n_components)],
            code=self.code,
            code_noise=float(self.code_noise),
            weight_decay=float(self.weight_decay),
            input_length=None if self.input_length is None else float(self.input_length),
        )
        fit_network(self, lambda: DocumentAutoencoder(config), X)
        return self

    def transform(self, X) -> np.ndarray:
        """Codes (real, or code-unit probabilities for binary codes).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_words)

        Returns
        -------
        codes : ndarray of shape (n_documents, n_components), dtype float32
        """
        check_is_fitted(self)
        return self.model_.transform(self._validate(X, reset=False))

    def inverse_transform(self, X) -> np.ndarray:
        """Word distributions decoded from codes.

        Parameters
        ----------
        X : array-like of shape (n_documents, n_components)

        Returns
        -------
        distributions : ndarray of shape (n_documents, n_features_in_), rows summing to 1
        """
        check_is_fitted(self)
        codes = writable(check_array(X, dtype=np.float32))
        if codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {codes.shape[1]} columns but {type(self).__name__} was fitted with "
                f"n_components={self._n_features_out}; inverse_transform takes transform's codes"
            )
        return self.model_.inverse_transform(codes)

    def reconstruction_error(self, X) -> np.ndarray:
        """Cross-entropy between each document's word distribution and its reconstruction.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_words)

        Returns
        -------
        error : ndarray of shape (n_documents,), dtype float32
            Nats per word; larger means more unusual.
        """
        check_is_fitted(self)
        return self.model_.reconstruction_error(self._validate(X, reset=False))

    def score_samples(self, X) -> np.ndarray:
        """Minus :meth:`reconstruction_error`: higher is more typical.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_documents, n_words)

        Returns
        -------
        scores : ndarray of shape (n_documents,), dtype float32
        """
        return -self.reconstruction_error(X)

    @property
    def _n_features_out(self) -> int:
        return self.model_.config.code_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


fill_training_doc(DocumentAutoencoderTransformer)
