"""The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014)
as a scikit-learn transformer: codes are the posterior means, ``sample`` draws new data."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from aekit.models.vae import VAE, VAE_LIKELIHOODS, VAEConfig
from aekit.sklearn._fitting import (
    TRAINING_CONSTRAINTS,
    draw_seed,
    fill_training_doc,
    fit_network,
    hidden_sizes,
    writable,
)
from aekit.sklearn._persistence import EstimatorSaveMixin

__all__ = ["VAETransformer"]

_ACTIVATIONS = {"logistic", "tanh", "relu", "elu", "linear"}


class VAETransformer(
    EstimatorSaveMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Variational autoencoder: ``transform`` gives posterior means, ``sample`` new data.

    A Gaussian encoder ``q(z|x) = N(mu(x), diag sigma^2(x))`` of widths ``(n_features,
    *hidden_layer_sizes, n_components)``, a mirrored decoder ``p(x|z)`` and the prior
    ``N(0, I)``, trained on the negative ELBO with the KL weighted by ``beta``
    (:class:`aekit.models.VAE`).

    Parameters
    ----------
    n_components : int, default=2
        Code size (the dimension of ``z``).
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {{"logistic", "tanh", "relu", "elu", "linear"}}, default="tanh"
        Hidden-layer activation.
    likelihood : {{"gaussian", "bernoulli"}}, default="gaussian"
        ``gaussian``: unit-variance Gaussian decoder for real data (standardize it first);
        ``bernoulli``: for data in [0, 1].
    beta : float, default=1.0
        Weight of the KL term (1 is the VAE, > 1 a beta-VAE).
    kl_warmup_steps : int, default=0
        The KL weight ramps from 0 to ``beta`` over this many optimizer steps.
    {training}

    Attributes
    ----------
    model_ : aekit.models.VAE
        The trained network.
    history_ : aekit.train.History
        Per-epoch records of the training run.
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Training loss (negative ELBO with the weighted KL, nats) after each epoch.
    validation_loss_curve_ : list of float or None
        Held-out negative ELBO after each epoch; None without early stopping.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import VAETransformer
    >>> X = np.random.default_rng(0).normal(size=(200, 6))
    >>> vae = VAETransformer(n_components=2, max_epochs=5, early_stopping=False,
    ...                      random_state=0).fit(X)
    >>> vae.transform(X[:4]).shape  # posterior means
    (4, 2)
    >>> vae.sample(3, random_state=0).shape
    (3, 6)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATIONS)],
        "likelihood": [StrOptions(set(VAE_LIKELIHOODS))],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_steps": [Interval(Integral, 0, None, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        activation: str = "tanh",
        likelihood: str = "gaussian",
        beta: float = 1.0,
        kl_warmup_steps: int = 0,
        max_epochs: int = 100,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        optimizer: str = "adam",
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state=None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.beta = beta
        self.kl_warmup_steps = kl_warmup_steps
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

    def fit(self, X, y=None):
        """Train the VAE on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; in [0, 1] for ``likelihood="bernoulli"``.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        X = writable(validate_data(self, X, dtype=np.float32, order="C"))
        config = VAEConfig(
            layers=[X.shape[1], *hidden_sizes(self), int(self.n_components)],
            activation=self.activation,
            likelihood=self.likelihood,
            beta=float(self.beta),
            kl_warmup_steps=int(self.kl_warmup_steps),
        )
        fit_network(self, lambda: VAE(config), X, monitor="val_nelbo")
        return self

    def _check_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return writable(validate_data(self, X, dtype=np.float32, order="C", reset=False))

    def transform(self, X) -> np.ndarray:
        """Posterior means ``E[z | x]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components), dtype float32
        """
        return self.model_.transform(self._check_X(X))

    def inverse_transform(self, X) -> np.ndarray:
        """The decoder's mean ``E[x | z]`` for codes ``z``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features_in_), dtype float32
        """
        check_is_fitted(self)
        codes = writable(check_array(X, dtype=np.float32, order="C"))
        if codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {codes.shape[1]} columns but {type(self).__name__} was fitted with "
                f"n_components={self._n_features_out}; inverse_transform takes transform's codes"
            )
        return self.model_.inverse_transform(codes)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draw ``z ~ N(0, I)`` and decode: the decoder's mean of each draw.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState instance or None, default=None
            Seeds the draws (on the CPU, so the same integer gives the same samples on any
            device).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_in_), dtype float32
        """
        check_is_fitted(self)
        return self.model_.sample(n_samples, seed=draw_seed(random_state))

    def reconstruction_error(self, X) -> np.ndarray:
        """Per-sample squared error of the reconstruction through the posterior mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        error : ndarray of shape (n_samples,), dtype float32
        """
        return self.model_.reconstruction_error(self._check_X(X))

    def score_samples(self, X) -> np.ndarray:
        """Minus :meth:`reconstruction_error`: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float32
        """
        return -self.reconstruction_error(X)

    @property
    def _n_features_out(self) -> int:
        return self.model_.config.code_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.positive_only = self.likelihood == "bernoulli"
        return tags


fill_training_doc(VAETransformer)
