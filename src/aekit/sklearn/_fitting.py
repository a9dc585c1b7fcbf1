"""What the estimators of the other model families share: training a network through the one
:class:`~aekit.train.Trainer`, seeded by ``random_state`` and leaving the global torch RNG alone,
and the parameters that describe that training."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import TypeVar

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from aekit.models.base import Model
from aekit.train.trainer import OPTIMIZERS, TrainConfig, Trainer, resolve_device

EstimatorT = TypeVar("EstimatorT")

# The training parameters every network estimator takes, with their constraints.
TRAINING_CONSTRAINTS: dict = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "device": [str],
    "verbose": ["verbose"],
}

TRAINING_PARAMETERS_DOC = """max_epochs : int, default={max_epochs}
        Maximum number of passes over the training data.
    batch_size : int, default={batch_size}
        Minibatch size.
    learning_rate : float, default={learning_rate}
        Optimizer step size.
    optimizer : {{"adam", "sgd", "lbfgs"}}, default="{optimizer}"
        ``sgd`` uses momentum 0.9; ``lbfgs`` runs a few line-searched iterations per batch.
    early_stopping : bool, default={early_stopping}
        Hold out ``validation_fraction`` of the training data, stop when its held-out loss
        has not improved for ``n_iter_no_change`` epochs, and keep the best weights. When
        False, train all ``max_epochs`` on all the data and keep the last weights.
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping`` is True.
    n_iter_no_change : int, default={n_iter_no_change}
        Patience of early stopping, in epochs.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the validation split and the shuffling: the same integer
        gives identical results. The global torch RNG is left as it was.
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"``.
    verbose : bool, default=False
        Show a progress bar while training."""


def check_early_stopping_rows(est, n_samples: int) -> None:
    if est.early_stopping and n_samples < 2:
        raise ValueError(
            f"early_stopping holds out validation_fraction of the samples, which needs at least "
            f"2 of them; got n_samples = {n_samples}. Pass more samples or set "
            "early_stopping=False."
        )


def draw_seed(random_state) -> int:
    """One int32 seed from a scikit-learn ``random_state``."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def fit_network(est, build: Callable[[], Model], X, monitor: str = "val_recon", **train) -> Model:
    """Build a model under ``est.random_state``'s seed and train it on ``X``.

    Sets ``est.model_``, ``history_``, ``n_iter_``, ``loss_curve_`` and
    ``validation_loss_curve_`` (``monitor`` per epoch, None without early stopping), and warns
    with :class:`~sklearn.exceptions.ConvergenceWarning` when early stopping never triggered.
    ``train`` overrides :class:`~aekit.train.TrainConfig` fields (e.g. the RBM's momentum).
    """
    check_early_stopping_rows(est, X.shape[0])
    seed = draw_seed(est.random_state)
    settings = dict(
        epochs=int(est.max_epochs),
        batch_size=int(est.batch_size),
        optimizer=est.optimizer,
        lr=float(est.learning_rate),
        val_fraction=float(est.validation_fraction) if est.early_stopping else 0.0,
        patience=(
            int(est.n_iter_no_change)
            if est.early_stopping and est.n_iter_no_change is not None
            else None
        ),
        # Without a validation set the "best" epoch is the best training loss: keep the last
        # weights instead, as scikit-learn's MLP does.
        restore_best=bool(est.early_stopping),
        seed=seed,
        device=est.device,
        progress=bool(est.verbose),
    )
    config = TrainConfig(**{**settings, **train})
    device = resolve_device(est.device)
    rng_devices = []
    if device.type == "cuda":
        rng_devices = [torch.cuda.current_device() if device.index is None else device.index]
    # The seed fixes the initialisation as well as the trainer's randomness; forking keeps the
    # caller's global torch RNG state untouched.
    with torch.random.fork_rng(devices=rng_devices):
        torch.manual_seed(seed)
        model = build()
        history = Trainer(model, config).fit(X)
    model.eval()
    est.model_ = model
    est.history_ = history
    est.n_iter_ = len(history.records)
    est.loss_curve_ = history.values("train_loss")
    est.validation_loss_curve_ = history.values(monitor) if est.early_stopping else None
    if est.early_stopping and not history.stopped_early:
        warnings.warn(
            f"{type(est).__name__} reached max_epochs={est.max_epochs} before early stopping: "
            f"the validation loss improved within the last n_iter_no_change="
            f"{est.n_iter_no_change} epochs. Raise max_epochs (or learning_rate) to train to "
            "convergence.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return model


def hidden_sizes(est) -> list[int]:
    """``est.hidden_layer_sizes`` as a list of positive ints (one int means one layer)."""
    sizes = est.hidden_layer_sizes
    if isinstance(sizes, Integral):
        sizes = [sizes]
    sizes = list(sizes)
    if not all(isinstance(s, Integral) and int(s) >= 1 for s in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be positive integers, got {est.hidden_layer_sizes!r}; "
            "write e.g. (64,) for one hidden layer or () for none"
        )
    return [int(s) for s in sizes]


def writable(x: np.ndarray) -> np.ndarray:
    # torch.from_numpy warns on read-only arrays (e.g. memory maps); the copy is cheap next to
    # a forward pass and leaves the caller's array untouched.
    return x if not isinstance(x, np.ndarray) or x.flags.writeable else x.copy()


def fill_training_doc(cls: type[EstimatorT]) -> type[EstimatorT]:
    """Put the shared training parameters, with ``cls``'s defaults, in place of
    ``{training}`` in its docstring (which writes literal braces doubled)."""
    if cls.__doc__:  # None under python -OO
        defaults = {
            name: p.default
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"
        }
        doc = cls.__doc__.replace("{training}", TRAINING_PARAMETERS_DOC.format(**defaults))
        cls.__doc__ = doc.replace("{{", "{").replace("}}", "}")
    return cls
