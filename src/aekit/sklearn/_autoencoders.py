"""scikit-learn estimators wrapping aekit's :class:`~aekit.models.Autoencoder` and its trainer.

The estimators follow the scikit-learn contract (``__init__`` only stores its arguments, ``fit``
validates them and returns ``self``, learned state ends in ``_``), so they compose with
``Pipeline``, ``GridSearchCV``, ``clone`` and ``check_estimator``. Training goes through
:class:`aekit.train.Trainer`, the one loop every aekit model uses; the fitted network is
``model_``, a plain :class:`torch.nn.Module`.

- :class:`AutoencoderTransformer`: a (deep) autoencoder; ``transform`` gives codes.
- :class:`SparseAutoencoderTransformer`: logistic code with the KL sparsity penalty
  (Ng, "Sparse autoencoder", CS294A lecture notes, 2011).
- :class:`DenoisingAutoencoderTransformer`: trained to undo masking noise
  (Vincent et al., "Stacked Denoising Autoencoders", JMLR 11:3371-3408, 2010).
- :class:`ContractiveAutoencoderTransformer`: penalises the encoder's Jacobian
  (Rifai et al., "Contractive Auto-Encoders", ICML 2011).

The variants differ from :class:`AutoencoderTransformer` only in their defaults; any
combination of penalties is available on each of them.

Networks compute in float32: the estimators accept float64 input and return float32.
Requires scikit-learn >= 1.6 (``validate_data`` and ``__sklearn_tags__``).
"""

from __future__ import annotations

import inspect
from numbers import Integral
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    raise ImportError(
        "aekit.sklearn needs scikit-learn >= 1.6 (for validate_data and __sklearn_tags__); "
        "upgrade it with `pip install -U scikit-learn`"
    ) from None

from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.sklearn._fitting import fit_network
from aekit.sklearn._params import TRAINING_FIELDS, ConfigParams, constraints_from, fields_of
from aekit.sklearn._persistence import EstimatorSaveMixin

__all__ = [
    "AutoencoderTransformer",
    "ContractiveAutoencoderTransformer",
    "DenoisingAutoencoderTransformer",
    "SparseAutoencoderTransformer",
]

_ACTIVATIONS = {"logistic", "tanh", "relu", "elu", "linear"}
# Likelihoods whose support excludes negative values (Bernoulli further needs x <= 1).
_NON_NEGATIVE_LIKELIHOODS = {"bernoulli", "poisson", "softmax"}


def _writable(x: np.ndarray) -> np.ndarray:
    # torch.from_numpy warns on read-only arrays (e.g. memory maps); the copy is cheap next to
    # a forward pass and leaves the caller's array untouched.
    return x if x.flags.writeable else x.copy()


class _BaseAutoencoderTransformer(
    ConfigParams,
    EstimatorSaveMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Shared fit / transform logic; the public classes only change defaults."""

    # Parameters that are config fields: constrained and checked by the configs themselves
    # (aekit.sklearn._params), so they accept what `aekit train` and Python accept.
    _config_params: ClassVar[dict] = {
        **fields_of(
            AutoencoderConfig,
            (
                "activation", "code_activation", "likelihood", "tied", "weight_decay",
                "sparsity_weight", "sparsity_target", "contractive_weight",
                "contractive_method", "corruption", "corruption_level",
            ),
        ),
        **TRAINING_FIELDS,
    }  # fmt: skip
    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        **constraints_from(_config_params),
    }

    def __init__(
        self,
        n_components: int = 2,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        activation: str = "logistic",
        code_activation: str = "linear",
        likelihood: str = "gaussian",
        tied: bool = False,
        weight_decay: float = 0.0,
        sparsity_weight: float = 0.0,
        sparsity_target: float = 0.05,
        contractive_weight: float = 0.0,
        contractive_method: str = "auto",
        corruption: str = "none",
        corruption_level: float = 0.0,
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
        self.code_activation = code_activation
        self.likelihood = likelihood
        self.tied = tied
        self.weight_decay = weight_decay
        self.sparsity_weight = sparsity_weight
        self.sparsity_target = sparsity_target
        self.contractive_weight = contractive_weight
        self.contractive_method = contractive_method
        self.corruption = corruption
        self.corruption_level = corruption_level
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

    # Fitting ---------------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. With ``likelihood="bernoulli"`` it must lie in [0, 1].
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        X = _writable(validate_data(self, X, dtype=np.float32, order="C"))
        # The config's fields come straight from the parameters that name them.
        settings = {
            field: getattr(self, name)
            for name, (cls, field) in self._config_params.items()
            if cls is AutoencoderConfig
        }
        layers = [X.shape[1], *self._hidden_sizes(), int(self.n_components)]
        model_config = AutoencoderConfig(layers=layers, **settings)
        fit_network(self, lambda: Autoencoder(model_config), torch.from_numpy(X))
        return self

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        widths = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in widths):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}; "
                "write e.g. (64,) for one hidden layer or () for none"
            )
        return [int(s) for s in widths]

    # Using the fitted model ------------------------------------------------------------------

    def _check_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return _writable(validate_data(self, X, dtype=np.float32, order="C", reset=False))

    def transform(self, X) -> np.ndarray:
        """Encode ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components), dtype float32
        """
        X = self._check_X(X)
        return self.model_.transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        """Decode codes back to data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features_in_), dtype float32
            The likelihood's mean given the codes (probabilities for ``bernoulli``).
        """
        check_is_fitted(self)
        codes = _writable(check_array(X, dtype=np.float32, order="C"))
        if codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {codes.shape[1]} columns but {type(self).__name__} was fitted with "
                f"n_components={self._n_features_out}; inverse_transform takes the codes that "
                "transform returns"
            )
        return self.model_.inverse_transform(codes)

    def reconstruction_error(self, X) -> np.ndarray:
        """Per-sample squared reconstruction error: the usual anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        error : ndarray of shape (n_samples,), dtype float32
            ``sum_i (x_i - x_hat_i)^2`` with ``x_hat`` the reconstruction in data space;
            larger means more anomalous.
        """
        X = self._check_X(X)
        return self.model_.reconstruction_error(X)

    def score_samples(self, X) -> np.ndarray:
        """Normality score: the negative per-sample squared reconstruction error.

        Higher means more normal, following scikit-learn's convention for ``score_samples``
        (as in ``IsolationForest`` or ``LocalOutlierFactor``); use
        :meth:`reconstruction_error` for the error itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float32
            ``-sum_i (x_i - x_hat_i)^2``.
        """
        return -self.reconstruction_error(X)

    def score(self, X, y=None) -> float:
        """Mean of :meth:`score_samples`: minus the mean squared reconstruction error.

        Lets ``GridSearchCV`` select hyperparameters of the autoencoder alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self) -> int:
        # Read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out; taken from the fitted
        # model so that set_params(n_components=...) without refitting cannot change it.
        return self.model_.config.code_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.positive_only = self.likelihood in _NON_NEGATIVE_LIKELIHOODS
        return tags


_PARAMETERS_DOC = """
    Parameters
    ----------
    n_components : int, default={n_components}
        Code size: the width of the code layer, i.e. the number of output features.
    hidden_layer_sizes : tuple of int, default={hidden_layer_sizes}
        Widths of the encoder's hidden layers from input to code; the decoder mirrors them.
        ``()`` gives a one-layer encoder.
    activation : {{"logistic", "tanh", "relu", "elu", "linear"}}, default="{activation}"
        Activation of the hidden layers (encoder and decoder).
    code_activation : {{"logistic", "tanh", "relu", "elu", "linear"}}, default="{code_activation}"
        Activation of the code layer.
    likelihood : {{"gaussian", "bernoulli", "poisson", "softmax"}}, default="gaussian"
        Reconstruction term: ``gaussian`` is half the squared error; ``bernoulli`` the
        cross-entropy, for data in [0, 1]; ``poisson`` and ``softmax`` for counts.
    tied : bool, default=False
        Decoder weights are the transposes of the encoder's.
    weight_decay : float, default=0.0
        ``lambda`` of ``lambda / 2 * sum ||W||^2`` over weight matrices.
    sparsity_weight : float, default={sparsity_weight}
        Weight of the KL sparsity penalty on every logistic encoder layer (0 turns it off).
    sparsity_target : float, default=0.05
        Target mean activation ``rho`` of the sparse units, in (0, 1).
    contractive_weight : float, default={contractive_weight}
        Weight of the mean squared Frobenius norm of the encoder's Jacobian (0 turns it off).
    contractive_method : {{"auto", "closed", "exact", "projection"}}, default="auto"
        How the contractive penalty is computed; see :class:`aekit.models.AutoencoderConfig`.
    corruption : {{"none", "mask", "gaussian", "salt_and_pepper"}}, default="{corruption}"
        Input corruption during training (denoising); the target stays clean.
    corruption_level : float, default={corruption_level}
        Masking or salt-and-pepper probability, or the Gaussian noise's standard deviation.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=64
        Minibatch size.
    learning_rate : float, default=1e-3
        Optimizer step size.
    optimizer : {{"adam", "sgd", "lbfgs"}}, default="adam"
        ``sgd`` uses momentum 0.9; ``lbfgs`` runs a few line-searched iterations per batch.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data, stop when its reconstruction
        loss has not improved for ``n_iter_no_change`` epochs, and keep the best weights.
        When False, train all ``max_epochs`` on all the data and keep the last weights.
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping`` is True.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split, the shuffling and the
        corruption: the same integer gives identical results. The global torch RNG is left
        as it was.
    device : str, default="cpu"
        Torch device to train and run on: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    verbose : bool, default=False
        Show a progress bar while training.

    Attributes
    ----------
    model_ : aekit.models.Autoencoder
        The trained network, a plain ``torch.nn.Module`` in eval mode on ``device``.
    history_ : aekit.train.History
        Per-epoch records of the training run (losses, penalty terms, validation metrics).
    n_iter_ : int
        Number of epochs run.
    loss_curve_ : list of float
        Training objective (reconstruction loss plus penalties) after each epoch.
    validation_loss_curve_ : list of float or None
        Validation reconstruction loss after each epoch; None without early stopping.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has string column names.
"""


def _parameters_doc(cls: type[BaseEstimator]) -> str:
    """The shared parameter section, with ``cls``'s own defaults filled in."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    return _PARAMETERS_DOC.format(**defaults).strip()


class AutoencoderTransformer(_BaseAutoencoderTransformer):
    """Autoencoder as a scikit-learn transformer: ``transform`` returns the codes.

    An encoder of widths ``(n_features, *hidden_layer_sizes, n_components)`` and a mirrored
    decoder are trained to reconstruct ``X`` (Hinton & Salakhutdinov, Science 2006). With
    linear activations and the Gaussian likelihood it learns the principal subspace of
    ``X``, so it reconstructs as well as :class:`sklearn.decomposition.PCA` with the same
    ``n_components``. :meth:`score_samples` makes it an anomaly scorer.

    {parameters}

    See Also
    --------
    SparseAutoencoderTransformer, DenoisingAutoencoderTransformer,
    ContractiveAutoencoderTransformer : The same estimator with a regularizer on by default.
    sklearn.decomposition.PCA : The linear, closed-form baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import AutoencoderTransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 8))  # rank 2 in 8 dimensions
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=20, early_stopping=False,
    ...                             random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (200, 2)
    >>> ae.inverse_transform(codes).shape
    (200, 8)
    >>> ae.score_samples(X[:3]).shape  # minus the squared reconstruction error
    (3,)
    >>> ae.get_feature_names_out()
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    """


class SparseAutoencoderTransformer(_BaseAutoencoderTransformer):
    """Sparse autoencoder: logistic code units pushed to a low mean activation.

    Adds ``sparsity_weight * sum_j KL(sparsity_target || rho_hat_j)`` to the loss, where
    ``rho_hat_j`` is the mean activation of unit ``j`` over a batch, for every logistic
    encoder layer (Ng, "Sparse autoencoder", CS294A lecture notes, 2011). Sparse codes are
    usually wide: raise ``n_components``, possibly above ``n_features``.

    {parameters}

    See Also
    --------
    AutoencoderTransformer : The same estimator without the sparsity penalty by default.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import SparseAutoencoderTransformer
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> sae = SparseAutoencoderTransformer(n_components=16, max_epochs=5,
    ...                                    early_stopping=False, random_state=0)
    >>> codes = sae.fit_transform(X)
    >>> codes.shape, bool(((codes > 0) & (codes < 1)).all())  # logistic units
    ((100, 16), True)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        activation: str = "logistic",
        code_activation: str = "logistic",
        likelihood: str = "gaussian",
        tied: bool = False,
        weight_decay: float = 0.0,
        sparsity_weight: float = 1.0,
        sparsity_target: float = 0.05,
        contractive_weight: float = 0.0,
        contractive_method: str = "auto",
        corruption: str = "none",
        corruption_level: float = 0.0,
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
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            code_activation=code_activation,
            likelihood=likelihood,
            tied=tied,
            weight_decay=weight_decay,
            sparsity_weight=sparsity_weight,
            sparsity_target=sparsity_target,
            contractive_weight=contractive_weight,
            contractive_method=contractive_method,
            corruption=corruption,
            corruption_level=corruption_level,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            device=device,
            verbose=verbose,
        )


class DenoisingAutoencoderTransformer(_BaseAutoencoderTransformer):
    """Denoising autoencoder: reconstructs clean inputs from masked ones.

    During training each input entry is set to 0 with probability ``corruption_level``
    (masking noise) while the target stays clean (Vincent et al., JMLR 2010); ``transform``
    and the scores use uncorrupted inputs. Masking to 0 suits standardized data or data in
    [0, 1].

    {parameters}

    See Also
    --------
    AutoencoderTransformer : The same estimator without corruption by default.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import DenoisingAutoencoderTransformer
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> dae = DenoisingAutoencoderTransformer(n_components=3, max_epochs=5,
    ...                                       early_stopping=False, random_state=0)
    >>> dae.fit_transform(X).shape
    (100, 3)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        activation: str = "logistic",
        code_activation: str = "linear",
        likelihood: str = "gaussian",
        tied: bool = False,
        weight_decay: float = 0.0,
        sparsity_weight: float = 0.0,
        sparsity_target: float = 0.05,
        contractive_weight: float = 0.0,
        contractive_method: str = "auto",
        corruption: str = "mask",
        corruption_level: float = 0.2,
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
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            code_activation=code_activation,
            likelihood=likelihood,
            tied=tied,
            weight_decay=weight_decay,
            sparsity_weight=sparsity_weight,
            sparsity_target=sparsity_target,
            contractive_weight=contractive_weight,
            contractive_method=contractive_method,
            corruption=corruption,
            corruption_level=corruption_level,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            device=device,
            verbose=verbose,
        )


class ContractiveAutoencoderTransformer(_BaseAutoencoderTransformer):
    """Contractive autoencoder: codes made insensitive to small input changes.

    Adds ``contractive_weight * mean_n ||J_encoder(x_n)||_F^2`` to the loss (Rifai et al.,
    ICML 2011). ``contractive_method="auto"`` uses the closed form for a one-layer logistic
    encoder (``hidden_layer_sizes=()``, ``code_activation="logistic"``), the exact Jacobian
    for codes of at most 32 units, and a random-projection estimate otherwise.

    {parameters}

    See Also
    --------
    AutoencoderTransformer : The same estimator without the contractive penalty by default.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import ContractiveAutoencoderTransformer
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> cae = ContractiveAutoencoderTransformer(n_components=3, max_epochs=5,
    ...                                         early_stopping=False, random_state=0)
    >>> cae.fit_transform(X).shape
    (100, 3)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        hidden_layer_sizes: tuple[int, ...] = (64,),
        activation: str = "logistic",
        code_activation: str = "linear",
        likelihood: str = "gaussian",
        tied: bool = False,
        weight_decay: float = 0.0,
        sparsity_weight: float = 0.0,
        sparsity_target: float = 0.05,
        contractive_weight: float = 0.1,
        contractive_method: str = "auto",
        corruption: str = "none",
        corruption_level: float = 0.0,
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
        super().__init__(
            n_components=n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            code_activation=code_activation,
            likelihood=likelihood,
            tied=tied,
            weight_decay=weight_decay,
            sparsity_weight=sparsity_weight,
            sparsity_target=sparsity_target,
            contractive_weight=contractive_weight,
            contractive_method=contractive_method,
            corruption=corruption,
            corruption_level=corruption_level,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            optimizer=optimizer,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            device=device,
            verbose=verbose,
        )


for _cls in (
    AutoencoderTransformer,
    SparseAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    ContractiveAutoencoderTransformer,
):
    if _cls.__doc__:  # None under python -OO
        _cls.__doc__ = _cls.__doc__.replace("{parameters}", _parameters_doc(_cls))
del _cls
