"""Restricted Boltzmann machines and deep belief nets as a scikit-learn transformer.

One RBM trained by contrastive divergence (Hinton, Neural Computation 14, 2002), or with
``hidden_layer_sizes`` a greedy stack of them (Hinton, Osindero & Teh, Neural Computation 18,
2006): :func:`aekit.train.train_dbn`, each layer with the settings of Hinton & Salakhutdinov
(Science 2006; SGD, momentum 0.5 then 0.9, weight cost 0.0002) except where a parameter here
says otherwise. The codes are the top layer's hidden probabilities from the up pass, which is
what :class:`sklearn.neural_network.BernoulliRBM` returns for one layer.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from aekit.rbm.dbn import DBNConfig
from aekit.sklearn._fitting import draw_seed, hidden_sizes
from aekit.sklearn._persistence import EstimatorSaveMixin
from aekit.train.pretrain import train_dbn
from aekit.train.trainer import resolve_device

__all__ = ["RBMTransformer"]

RBM_SCALINGS = ("minmax", "standard")


class RBMTransformer(
    EstimatorSaveMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """RBM (or a DBN, a greedy stack of RBMs) as a transformer: codes are hidden probabilities.

    Parameters
    ----------
    n_components : int, default=256
        Hidden units of the top RBM: the code size.
    hidden_layer_sizes : tuple of int, default=()
        Widths of the layers between the data and the top layer; ``()`` is one RBM, and
        e.g. ``(500,)`` a two-RBM deep belief net ``n_features-500-n_components``.
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        Units of the data layer: binary (data in [0, 1], read as probabilities) or Gaussian
        with unit variance (use ``scaling="standard"``).
    scaling : {"minmax", "standard"} or None, default="minmax"
        Scaling fitted on the training data and kept inside the estimator: ``minmax`` maps
        each feature's training range to [0, 1] (values of new data outside it are clipped),
        ``standard`` to zero mean and unit variance; None uses the data as given.
    cd_k : int, default=1
        Gibbs steps of contrastive divergence.
    weight_decay : float, default=0.0002
        Weight cost of every RBM.
    max_epochs : int, default=10
        Passes over the data per RBM.
    batch_size : int, default=10
        Minibatch size.
    learning_rate : float or None, default=None
        SGD step size; None uses Hinton & Salakhutdinov's, 0.1 for binary units and 0.001
        with Gaussian visible units.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the shuffling and the Gibbs sampling. The global torch RNG
        is left as it was.
    device : str, default="cpu"
        Torch device.
    verbose : bool, default=False
        Show a progress bar while training.

    Attributes
    ----------
    model_ : aekit.rbm.DBN
        The trained stack (``model_.rbms[k]`` is the RBM of layer ``k``).
    shift_, scale_ : ndarray of shape (n_features_in_,)
        The scaling: the RBM sees ``(X - shift_) / scale_``.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has string column names.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : scikit-learn's one-layer binary RBM (PCD-1).

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.sklearn import RBMTransformer
    >>> X = (np.random.default_rng(0).random((100, 16)) > 0.5).astype(float)
    >>> rbm = RBMTransformer(n_components=8, max_epochs=2, random_state=0).fit(X)
    >>> codes = rbm.transform(X)
    >>> codes.shape, bool(((codes > 0) & (codes < 1)).all())  # hidden probabilities
    ((100, 8), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "visible": [StrOptions({"bernoulli", "gaussian"})],
        "scaling": [StrOptions(set(RBM_SCALINGS)), None],
        "cd_k": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components: int = 256,
        *,
        hidden_layer_sizes: tuple[int, ...] = (),
        visible: str = "bernoulli",
        scaling: str | None = "minmax",
        cd_k: int = 1,
        weight_decay: float = 0.0002,
        max_epochs: int = 10,
        batch_size: int = 10,
        learning_rate: float | None = None,
        random_state=None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible = visible
        self.scaling = scaling
        self.cd_k = cd_k
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X, y=None):
        """Train the RBM (each RBM of the stack in turn) on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        if self.visible == "bernoulli" and self.scaling == "standard":
            raise ValueError(
                "binary visible units need data in [0, 1], which scaling='standard' does not "
                "give; use scaling='minmax' (or visible='gaussian' with scaling='standard')"
            )
        X = validate_data(self, X, dtype=np.float64)
        n = X.shape[1]
        if self.scaling == "standard":
            shift, scale = X.mean(0), X.std(0)
        elif self.scaling == "minmax":
            shift, scale = X.min(0), X.max(0) - X.min(0)
        else:
            shift, scale = np.zeros(n), np.ones(n)
        self.shift_, self.scale_ = shift, np.where(scale > 0, scale, 1.0)
        config = DBNConfig(
            layers=[n, *hidden_sizes(self), int(self.n_components)],
            visible=self.visible,
            cd_k=int(self.cd_k),
            weight_decay=float(self.weight_decay),
        )
        overrides = {
            "epochs": int(self.max_epochs),
            "batch_size": int(self.batch_size),
            "seed": draw_seed(self.random_state),
            "device": self.device,
            "progress": bool(self.verbose),
        }
        if self.learning_rate is not None:
            overrides["lr"] = float(self.learning_rate)
        device = resolve_device(self.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        # Each layer seeds torch's global RNG for its initial weights: fork it so the
        # caller's stream is left as it was.
        with torch.random.fork_rng(devices=devices):
            self.model_ = train_dbn(config, self._prepare(X), overrides).eval()
        return self

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        Xs = (X - self.shift_) / self.scale_
        if self.scaling == "minmax":
            Xs = np.clip(Xs, 0.0, 1.0)  # new data beyond the training range
        return Xs.astype(np.float32)

    def transform(self, X) -> np.ndarray:
        """Hidden probabilities of the top layer (the up pass of mean-field means).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components), dtype float32
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.model_.transform(self._prepare(X))

    @property
    def _n_features_out(self) -> int:
        return self.model_.config.layers[-1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
