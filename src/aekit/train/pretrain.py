"""Stacked autoencoders: greedy layer-wise pretraining, then unrolling into one deep network.

References
----------
- Y. Bengio, P. Lamblin, D. Popovici and H. Larochelle, "Greedy Layer-Wise Training of Deep
  Networks", NIPS 2006 (stacked autoencoders).
- P. Vincent et al., "Stacked Denoising Autoencoders", JMLR 11, 2010 (each layer a DAE).
- G. E. Hinton and R. R. Salakhutdinov, Science 2006 (the same scheme with RBMs, unrolled so
  that the decoder starts from the transposed weights).

Each layer is trained on the codes of the one below. A *layer pretrainer* is any callable

    pretrainer(x, index, n_in, n_out) -> (PretrainedLayer, codes)

so an RBM can take an autoencoder's place: it returns its weights (decoder weight = W^T) and
its hidden probabilities as the codes for the next layer.

This module is the generic machinery. An RBM layer trains with the settings its model suggests
(:meth:`aekit.rbm.RBM.suggested_train_settings`); the paper's named recipes (its training
config, the document model's RBM stack) live in :mod:`aekit.experiments.recipes`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch

from aekit.config import ConfigError
from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.nn import Stack
from aekit.rbm.dbm import DBM, DBMConfig
from aekit.rbm.dbn import DBN, DBNConfig
from aekit.rbm.rbm import RBM, RBMConfig
from aekit.sparse import is_sparse
from aekit.train.trainer import TrainConfig, Trainer

#: Activations whose outputs lie in [0, 1]: binary RBM units, Bernoulli layer likelihoods.
LOGISTIC_ACTIVATIONS = ("logistic", "sigmoid")

# Names that moved out of this module; the old imports still work and warn.
_MOVED = {
    "hinton2006_train_config": "aekit.experiments.recipes",
    "document_rbm_configs": "aekit.experiments.recipes",
    "document_pretrainer": "aekit.experiments.recipes",
    "pretrain_document_autoencoder": "aekit.experiments.recipes",
    "SOFTMAX_RBM_LR": "aekit.rbm.rbm",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"aekit.train.pretrain.{name} moved to {_MOVED[name]}.{name}; the old name will be "
            "removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'aekit.train.pretrain' has no attribute {name!r}")


@dataclass
class PretrainedLayer:
    """Weights of one pretrained layer, ready to be unrolled.

    Attributes
    ----------
    encoder_weight : ndarray, shape (n_out, n_in)
    encoder_bias : ndarray, shape (n_out,)
    decoder_weight : ndarray, shape (n_in, n_out)
    decoder_bias : ndarray, shape (n_in,)
    """

    encoder_weight: np.ndarray
    encoder_bias: np.ndarray
    decoder_weight: np.ndarray
    decoder_bias: np.ndarray


class UnrollableLayer(Protocol):
    """What unrolling reads of a pretrained layer: a :class:`PretrainedLayer`, or an RBM."""

    @property
    def encoder_weight(self) -> np.ndarray: ...
    @property
    def encoder_bias(self) -> np.ndarray: ...
    @property
    def decoder_weight(self) -> np.ndarray: ...
    @property
    def decoder_bias(self) -> np.ndarray: ...


LayerT = TypeVar("LayerT", bound=UnrollableLayer)
#: ``pretrainer(x, index, n_in, n_out) -> (layer, codes)``; ``LayerPretrainer[RBM]`` for one
#: whose layers are RBMs.
LayerPretrainer = Callable[[np.ndarray, int, int, int], tuple[LayerT, np.ndarray]]


def layer_config(config: AutoencoderConfig, index: int) -> AutoencoderConfig:
    """The one-hidden-layer autoencoder that pretrains layer ``index`` of ``config``.

    Its code activation is the deep encoder's activation at that layer. Its likelihood is the
    deep model's for the first layer; above, the inputs are the activations of the layer
    below, so Bernoulli for logistic units and Gaussian otherwise. Corruption and weight decay
    carry over; sparsity only onto logistic layers; contractive onto every layer.
    """
    acts = config.encoder_activations()
    act = acts[index]
    if index == 0:
        likelihood = config.likelihood
    else:
        likelihood = "bernoulli" if acts[index - 1] in LOGISTIC_ACTIVATIONS else "gaussian"
    sparse = config.sparsity_weight if act in LOGISTIC_ACTIVATIONS else 0.0
    return dataclasses.replace(
        config,
        layers=[config.layers[index], config.layers[index + 1]],
        activation=act,
        code_activation=act,
        likelihood=likelihood,
        tied=False,
        sparsity_weight=sparse,
        contractive_method="auto"
        if config.contractive_method == "closed"
        else config.contractive_method,
    )


#: The part of a run's time budget that greedy pretraining may spend; fine-tuning has the rest.
PRETRAIN_BUDGET_SHARE = 0.5


def layer_budgets(layers: Sequence[int], budget: float) -> list[float]:
    """Each layer's seconds of :data:`PRETRAIN_BUDGET_SHARE` of ``budget``, in proportion to
    its weights (a layer's epoch costs about that: the 784x1000 layer of the MNIST
    autoencoder gets 72% of the pretraining time, its 250x30 one 1%)."""
    weights = [a * b for a, b in zip(layers[:-1], layers[1:])]
    total = sum(weights)
    return [PRETRAIN_BUDGET_SHARE * budget * w / total for w in weights]


def autoencoder_pretrainer(
    config: AutoencoderConfig, train_config: TrainConfig
) -> LayerPretrainer[PretrainedLayer]:
    """A layer pretrainer training a shallow (denoising) autoencoder per layer; under a time
    budget each layer gets its share (:func:`layer_budgets`)."""
    budgets = (
        layer_budgets(config.layers, train_config.time_budget)
        if train_config.time_budget is not None
        else None
    )

    def pretrain(x: np.ndarray, index: int, n_in: int, n_out: int):
        shallow = Autoencoder(layer_config(config, index))
        cfg = dataclasses.replace(train_config, seed=train_config.seed + index)
        if budgets is not None:
            cfg = dataclasses.replace(cfg, time_budget=budgets[index])
        if index > 0:  # the layers above the first see codes, not images: nothing to translate
            cfg = dataclasses.replace(cfg, augment_shift=0, image_shape=None)
        Trainer(shallow, cfg).fit(x)
        enc = shallow.encoder.linear_layers()[0]
        assert isinstance(shallow.decoder, Stack)  # layer_config unties the shallow model
        dec = shallow.decoder.linear_layers()[0]
        layer = PretrainedLayer(
            encoder_weight=enc.weight.detach().cpu().numpy(),
            encoder_bias=enc.bias.detach().cpu().numpy(),
            decoder_weight=dec.weight.detach().cpu().numpy(),
            decoder_bias=dec.bias.detach().cpu().numpy(),
        )
        return layer, shallow.transform(x)

    return pretrain


def rbm_stack_pretrainer(
    rbm_configs: list[RBMConfig], train_overrides: dict | None = None
) -> LayerPretrainer[RBM]:
    """A layer pretrainer training ``rbm_configs[k]`` for layer ``k``.

    Each RBM trains with the settings its unit types suggest
    (:meth:`~aekit.rbm.RBM.suggested_train_settings`, the paper's; ``train_overrides``
    replaces any of them; the layer index is added to the seed) and the next one trains on its
    hidden means. A ``time_budget`` among the overrides is the whole run's: each RBM gets its
    share of it (:func:`layer_budgets`) and trains until that is spent.
    """
    budgets = None
    if (train_overrides or {}).get("time_budget") is not None:
        layers = [rbm_configs[0].n_visible, *(c.n_hidden for c in rbm_configs)]
        budgets = layer_budgets(layers, train_overrides["time_budget"])  # type: ignore[index]

    def pretrain(x: np.ndarray, index: int, n_in: int, n_out: int) -> tuple[RBM, np.ndarray]:
        rbm_cfg = rbm_configs[index]
        assert (rbm_cfg.n_visible, rbm_cfg.n_hidden) == (n_in, n_out)
        overrides = dict(train_overrides or {})
        if budgets is not None:
            overrides["time_budget"] = budgets[index]
        seed = overrides.pop("seed", 0) + index
        rbm = fit_rbm_layer(rbm_cfg, x, seed, **overrides)
        return rbm, rbm.transform(x)

    return pretrain


def fit_rbm_layer(
    rbm_config: RBMConfig,
    x,
    seed: int = 0,
    run_dir: Path | None = None,
    resume: bool = False,
    **train_overrides,
) -> RBM:
    """Train one RBM of a greedy stack with the settings suggested for its unit types.

    The one place every RBM stack (:func:`rbm_stack_pretrainer`, the reproductions' resumable
    pretraining) builds and trains a layer: the initial weights come from ``seed`` (so a layer
    does not depend on what was trained or loaded before it), softmax visible units start from
    the word frequencies, and training uses :meth:`~aekit.rbm.RBM.suggested_train_settings`
    (Hinton & Salakhutdinov's) with ``train_overrides``; ``run_dir`` and ``resume`` go to the
    :class:`Trainer`.
    """
    torch.manual_seed(seed)
    rbm = RBM(rbm_config)
    if rbm_config.visible == "softmax":
        rbm.init_visible_bias(x)  # from zeros, CD spends its first epochs learning unigrams
    settings = {**RBM.suggested_train_settings(rbm_config), "seed": seed, **train_overrides}
    cfg = TrainConfig(**settings)
    Trainer(rbm, cfg, run_dir=run_dir).fit(x, resume=resume)
    return rbm


def rbm_pretrainer(
    config: AutoencoderConfig,
    train_overrides: dict | None = None,
    weight_decay: float = 0.0002,
    cd_k: int = 1,
) -> LayerPretrainer[RBM]:
    """RBM pretraining of an autoencoder's layers, as in Hinton & Salakhutdinov (2006).

    The first RBM has Gaussian visible units when ``config.likelihood`` is ``gaussian``
    (standardized data), binary otherwise; the top RBM has linear (Gaussian) hidden units when
    the code layer is linear; every other unit is binary.
    """
    acts = config.encoder_activations()
    if any(a not in LOGISTIC_ACTIVATIONS for a in acts[:-1]):
        raise ConfigError(
            "",
            "RBM pretraining needs logistic hidden layers ({logistic}); got "
            f"{config.activation!r}",
            mentions={"logistic": ("activation", "logistic")},
        )
    if acts[-1] not in (*LOGISTIC_ACTIVATIONS, "linear"):
        raise ValueError("RBM pretraining needs a logistic or linear code layer")
    dbn = DBNConfig(
        layers=config.layers,
        visible="gaussian" if config.likelihood == "gaussian" else "bernoulli",
        top_hidden="gaussian" if acts[-1] == "linear" else "bernoulli",
        cd_k=cd_k,
        weight_decay=weight_decay,
    )
    return rbm_stack_pretrainer(dbn.rbm_configs(), train_overrides)


def train_dbn(config: DBNConfig, x: np.ndarray, train_overrides: dict | None = None) -> DBN:
    """Train a deep belief net greedily, one RBM per layer, on ``x``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != config.layers[0]:
        raise ValueError(
            f"data of shape {x.shape} does not fit the layers {config.layers}: expected "
            f"(n_samples, {config.layers[0]})"
        )
    rbms = pretrain_layers(
        x, config.layers, rbm_stack_pretrainer(config.rbm_configs(), train_overrides)
    )
    dbn = DBN(config)
    stack = dbn.rbm_layers()
    for k, rbm in enumerate(rbms):
        stack[k].load_state_dict(rbm.state_dict())
    return dbn


def pretrain_dbm(config: DBMConfig, x: np.ndarray, train_overrides: dict | None = None) -> DBM:
    """The modified RBM stack of Salakhutdinov & Hinton (2009), composed into a DBM.

    The bottom RBM infers ``h1`` from a doubled visible input (``up_scale=2``), the top RBM
    reconstructs ``h1`` from doubled hidden states (``down_scale=2``); each trains with
    :meth:`~aekit.rbm.RBM.suggested_train_settings` (``train_overrides`` replaces any of
    them).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != config.n_visible:
        raise ValueError(
            f"data of shape {x.shape} does not fit a DBM with {config.n_visible} visible units"
        )
    cfgs = [
        RBMConfig(
            n_visible=config.n_visible,
            n_hidden=config.n_hidden1,
            up_scale=2.0,
            weight_decay=config.weight_decay,
        ),
        RBMConfig(
            n_visible=config.n_hidden1,
            n_hidden=config.n_hidden2,
            down_scale=2.0,
            weight_decay=config.weight_decay,
        ),
    ]
    sizes = [config.n_visible, config.n_hidden1, config.n_hidden2]
    bottom, top = pretrain_layers(x, sizes, rbm_stack_pretrainer(cfgs, train_overrides))
    dbm = DBM(config)
    with torch.no_grad():
        dbm.w1.copy_(bottom.weight)
        dbm.b.copy_(bottom.visible_bias)
        dbm.c1.copy_(bottom.hidden_bias)
        dbm.w2.copy_(top.weight)
        dbm.c2.copy_(top.hidden_bias)
    return dbm


def pretrain_layers(
    x: np.ndarray, layers: list[int], pretrainer: LayerPretrainer[LayerT]
) -> list[LayerT]:
    """Greedy pretraining: layer ``k`` is trained on the codes of layer ``k - 1``."""
    out = []
    # A sparse corpus stays sparse for the bottom layer; the codes above it are dense.
    h = x if is_sparse(x) else np.asarray(x, dtype=np.float32)
    for k in range(len(layers) - 1):
        layer, h = pretrainer(h, k, layers[k], layers[k + 1])
        assert layer.encoder_weight.shape == (layers[k + 1], layers[k])
        out.append(layer)
    return out


def pretrain_stacked(
    config: AutoencoderConfig,
    x: np.ndarray,
    train_config: TrainConfig | None = None,
    pretrainer: LayerPretrainer | None = None,
) -> Autoencoder:
    """Pretrain ``config``'s layers greedily and unroll them into a deep autoencoder.

    The result is not fine-tuned: train it end to end with :class:`~aekit.train.Trainer`.

    Parameters
    ----------
    config : AutoencoderConfig
        The deep autoencoder to build; each layer is pretrained as a one-hidden-layer
        autoencoder with :func:`layer_config` (a denoising one when ``config`` corrupts).
    x : ndarray, shape (n_samples, n_features)
    train_config : TrainConfig, optional
        Training settings of every layer (the layer index is added to the seed).
    pretrainer : callable, optional
        Replaces the autoencoder layers, e.g. with RBMs (see the module docstring).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != config.layers[0]:
        raise ValueError(
            f"data of shape {x.shape} does not fit the layer spec {config.layers}: expected "
            f"(n_samples, {config.layers[0]})"
        )
    if pretrainer is None:
        pretrainer = autoencoder_pretrainer(config, train_config or TrainConfig())
    layers = pretrain_layers(x, config.layers, pretrainer)
    return Autoencoder(config).load_pretrained_layers(layers)
