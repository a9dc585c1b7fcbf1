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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.models.document import (
    DocumentAutoencoder,
    DocumentAutoencoderConfig,
    rescale_documents,
)
from aekit.rbm.dbm import DBM, DBMConfig
from aekit.rbm.dbn import DBN, DBNConfig
from aekit.rbm.rbm import RBM, RBMConfig
from aekit.sparse import is_sparse
from aekit.train.trainer import TrainConfig, Trainer

_UNIT_INTERVAL = ("logistic", "sigmoid")
SOFTMAX_RBM_LR = 0.001


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


LayerPretrainer = Callable[[np.ndarray, int, int, int], tuple[PretrainedLayer, np.ndarray]]


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
        likelihood = "bernoulli" if acts[index - 1] in _UNIT_INTERVAL else "gaussian"
    sparse = config.sparsity_weight if act in _UNIT_INTERVAL else 0.0
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


def autoencoder_pretrainer(config: AutoencoderConfig, train_config: TrainConfig) -> LayerPretrainer:
    """A layer pretrainer training a shallow (denoising) autoencoder per layer."""

    def pretrain(x: np.ndarray, index: int, n_in: int, n_out: int):
        shallow = Autoencoder(layer_config(config, index))
        cfg = dataclasses.replace(train_config, seed=train_config.seed + index)
        if index > 0:  # the layers above the first see codes, not images: nothing to translate
            cfg = dataclasses.replace(cfg, augment_shift=0, image_shape=None)
        Trainer(shallow, cfg).fit(x)
        enc = shallow.encoder.linears[0]
        dec = shallow.decoder.linears[0]
        layer = PretrainedLayer(
            encoder_weight=enc.weight.detach().cpu().numpy(),
            encoder_bias=enc.bias.detach().cpu().numpy(),
            decoder_weight=dec.weight.detach().cpu().numpy(),
            decoder_bias=dec.bias.detach().cpu().numpy(),
        )
        return layer, shallow.transform(x)

    return pretrain


def hinton2006_train_config(
    hidden: str = "bernoulli", visible: str = "bernoulli", **overrides
) -> TrainConfig:
    """The RBM training settings of Hinton & Salakhutdinov (2006) as a :class:`TrainConfig`.

    CD-1 (set on :class:`~aekit.rbm.RBMConfig`) on minibatches of 100, learning rate 0.1, or
    0.001 when a layer has Gaussian visible or linear hidden units (and
    ``SOFTMAX_RBM_LR`` for softmax visible units of word counts), momentum 0.5 for 5 epochs
    then 0.9, 50 epochs. The weight cost 0.0002 is an RBM setting (``weight_decay``).
    """
    gaussian = "gaussian" in (hidden, visible)
    lr = 0.001 if gaussian else 0.1
    if visible == "softmax":
        # Word counts make the statistics D times larger than binary ones (D ~ 100 words).
        lr = SOFTMAX_RBM_LR
    settings = {
        "epochs": 50,
        "batch_size": 100,
        "optimizer": "sgd",
        "lr": lr,
        "momentum": 0.9,
        "initial_momentum": 0.5,
        "momentum_warmup_epochs": 5,
        "val_fraction": 0.0,
    }
    settings.update(overrides)
    return TrainConfig(**settings)


def rbm_stack_pretrainer(
    rbm_configs: list[RBMConfig], train_overrides: dict | None = None
) -> LayerPretrainer:
    """A layer pretrainer training ``rbm_configs[k]`` for layer ``k``.

    Each RBM trains with :func:`hinton2006_train_config` for its unit types
    (``train_overrides`` replaces any of those settings; the layer index is added to the seed)
    and the next one trains on its hidden means.
    """

    def pretrain(x: np.ndarray, index: int, n_in: int, n_out: int):
        rbm_cfg = rbm_configs[index]
        assert (rbm_cfg.n_visible, rbm_cfg.n_hidden) == (n_in, n_out)
        overrides = dict(train_overrides or {})
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
    """Train one RBM of a greedy stack with the paper's settings for its unit types.

    The one place every RBM stack (:func:`rbm_stack_pretrainer`, the reproductions' resumable
    pretraining) builds and trains a layer: the initial weights come from ``seed`` (so a layer
    does not depend on what was trained or loaded before it), softmax visible units start from
    the word frequencies, and training uses :func:`hinton2006_train_config` with
    ``train_overrides``; ``run_dir`` and ``resume`` go to the :class:`Trainer`.
    """
    torch.manual_seed(seed)
    rbm = RBM(rbm_config)
    if rbm_config.visible == "softmax":
        rbm.init_visible_bias(x)  # from zeros, CD spends its first epochs learning unigrams
    cfg = hinton2006_train_config(
        rbm_config.hidden, rbm_config.visible, seed=seed, **train_overrides
    )
    Trainer(rbm, cfg, run_dir=run_dir).fit(x, resume=resume)
    return rbm


def rbm_pretrainer(
    config: AutoencoderConfig,
    train_overrides: dict | None = None,
    weight_decay: float = 0.0002,
    cd_k: int = 1,
) -> LayerPretrainer:
    """RBM pretraining of an autoencoder's layers, as in Hinton & Salakhutdinov (2006).

    The first RBM has Gaussian visible units when ``config.likelihood`` is ``gaussian``
    (standardized data), binary otherwise; the top RBM has linear (Gaussian) hidden units when
    the code layer is linear; every other unit is binary.
    """
    acts = config.encoder_activations()
    if any(a not in _UNIT_INTERVAL for a in acts[:-1]):
        raise ValueError(
            "RBM pretraining needs logistic hidden layers (activation='logistic'); "
            f"got {config.activation!r}"
        )
    if acts[-1] not in (*_UNIT_INTERVAL, "linear"):
        raise ValueError("RBM pretraining needs a logistic or linear code layer")
    dbn = DBNConfig(
        layers=config.layers,
        visible="gaussian" if config.likelihood == "gaussian" else "bernoulli",
        top_hidden="gaussian" if acts[-1] == "linear" else "bernoulli",
        cd_k=cd_k,
        weight_decay=weight_decay,
    )
    return rbm_stack_pretrainer(dbn.rbm_configs(), train_overrides)


def document_rbm_configs(
    config: DocumentAutoencoderConfig, weight_decay: float = 0.0002, cd_k: int = 1
) -> list[RBMConfig]:
    """The RBM stack that pretrains a document autoencoder (Hinton & Salakhutdinov 2006).

    The bottom RBM has softmax visible units over the word counts (replicated softmax, with
    small initial weights), the top one linear hidden units for real codes or binary ones for
    semantic hashing, every other unit binary.
    """
    if config.activation not in _UNIT_INTERVAL:
        raise ValueError(
            f"RBM pretraining needs logistic hidden layers, got activation={config.activation!r}"
        )
    sizes = config.layers
    n = len(sizes) - 1
    configs = [
        RBMConfig(
            n_visible=sizes[k],
            n_hidden=sizes[k + 1],
            visible="softmax" if k == 0 else "bernoulli",
            hidden="gaussian" if k == n - 1 and config.code == "real" else "bernoulli",
            cd_k=cd_k,
            weight_decay=weight_decay,
            # Small weights under word counts: W v sums over ~100 words (replicated softmax).
            init_std=0.01 if k == 0 else 0.1,
        )
        for k in range(n)
    ]
    if configs[0].hidden == "gaussian":
        raise ValueError(
            "a one-layer document model with real codes would need softmax visible and linear "
            "hidden units; add a hidden layer (e.g. '2000-500-10') or use code='binary'"
        )
    return configs


def document_pretrainer(
    config: DocumentAutoencoderConfig,
    train_overrides: dict | None = None,
    weight_decay: float = 0.0002,
    cd_k: int = 1,
) -> LayerPretrainer:
    """RBM pretraining of a document autoencoder: :func:`document_rbm_configs`, each RBM
    trained on the hidden probabilities of the one below (the softmax one's visible biases
    start at the log word frequencies). Pass counts rescaled as the model sees them
    (:func:`~aekit.models.document.rescale_documents`)."""
    configs = document_rbm_configs(config, weight_decay, cd_k)
    return rbm_stack_pretrainer(configs, train_overrides)


def pretrain_document_autoencoder(
    config: DocumentAutoencoderConfig, counts, train_overrides: dict | None = None
) -> DocumentAutoencoder:
    """Pretrain ``config``'s layers with RBMs on word ``counts`` (sparse is fine) and unroll.

    The result is not fine-tuned: train it end to end with :class:`~aekit.train.Trainer`.
    """
    model = DocumentAutoencoder(config)  # validates the config before any training
    if counts.ndim != 2 or counts.shape[1] != config.layers[0]:
        raise ValueError(
            f"word counts of shape {counts.shape} do not fit the layers {config.layers}: "
            f"expected (n_documents, {config.layers[0]})"
        )
    counts = rescale_documents(counts, config.input_length)
    layers = pretrain_layers(counts, config.layers, document_pretrainer(config, train_overrides))
    return model.load_pretrained_layers(layers)


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
    for k, rbm in enumerate(rbms):
        dbn.rbms[k].load_state_dict(rbm.state_dict())
    return dbn


def pretrain_dbm(config: DBMConfig, x: np.ndarray, train_overrides: dict | None = None) -> DBM:
    """The modified RBM stack of Salakhutdinov & Hinton (2009), composed into a DBM.

    The bottom RBM infers ``h1`` from a doubled visible input (``up_scale=2``), the top RBM
    reconstructs ``h1`` from doubled hidden states (``down_scale=2``); each trains with
    :func:`hinton2006_train_config` (``train_overrides`` replaces any of its settings).
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
    x: np.ndarray, layers: list[int], pretrainer: LayerPretrainer
) -> list[PretrainedLayer]:
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
