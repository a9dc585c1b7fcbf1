"""The training recipes of G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of
Data with Neural Networks", Science 313:504-507, 2006, and its supporting material.

- :func:`hinton2006_train_config`: the paper's RBM training settings for a layer's unit types,
  as a :class:`~aekit.train.TrainConfig` (the numbers are the RBM's own suggestion,
  :meth:`~aekit.rbm.RBM.suggested_train_settings`, which every RBM stack in
  :mod:`aekit.train.pretrain` trains with).
- :func:`document_rbm_configs`: the RBM stack that pretrains the document autoencoder of the
  paper's Fig. 4 (replicated softmax at the bottom, linear or binary code units on top), and
  :func:`document_pretrainer` / :func:`pretrain_document_autoencoder`, that stack trained
  greedily by the generic machinery of :mod:`aekit.train.pretrain` and unrolled.

The reproductions (:mod:`aekit.experiments.hinton2006`, :mod:`aekit.experiments.documents`)
use these; so can anyone training the paper's models from Python.
"""

from __future__ import annotations

from aekit.models.document import (
    DocumentAutoencoder,
    DocumentAutoencoderConfig,
    rescale_documents,
)
from aekit.rbm.rbm import RBM, RBMConfig
from aekit.train.pretrain import (
    LOGISTIC_ACTIVATIONS,
    LayerPretrainer,
    pretrain_layers,
    rbm_stack_pretrainer,
)
from aekit.train.trainer import TrainConfig

__all__ = [
    "document_pretrainer",
    "document_rbm_configs",
    "hinton2006_train_config",
    "pretrain_document_autoencoder",
]


def hinton2006_train_config(
    hidden: str = "bernoulli", visible: str = "bernoulli", **overrides
) -> TrainConfig:
    """The RBM training settings of Hinton & Salakhutdinov (2006) as a :class:`TrainConfig`.

    CD-1 (set on :class:`~aekit.rbm.RBMConfig`) on minibatches of 100, learning rate 0.1, or
    0.001 when a layer has Gaussian visible or linear hidden units (and
    :data:`~aekit.rbm.rbm.SOFTMAX_RBM_LR` for softmax visible units of word counts), momentum
    0.5 for 5 epochs then 0.9, 50 epochs. The weight cost 0.0002 is an RBM setting
    (``weight_decay``). ``overrides`` replaces any of these.
    """
    # The unit types alone decide the settings: a one-by-one RBM stands for any layer of them.
    units = RBMConfig(n_visible=1, n_hidden=1, visible=visible, hidden=hidden)
    settings = RBM.suggested_train_settings(units)
    settings.update(overrides)
    return TrainConfig(**settings)


def document_rbm_configs(
    config: DocumentAutoencoderConfig, weight_decay: float = 0.0002, cd_k: int = 1
) -> list[RBMConfig]:
    """The RBM stack that pretrains a document autoencoder (Hinton & Salakhutdinov 2006).

    The bottom RBM has softmax visible units over the word counts (replicated softmax, with
    small initial weights), the top one linear hidden units for real codes or binary ones for
    semantic hashing, every other unit binary.
    """
    if config.activation not in LOGISTIC_ACTIVATIONS:
        raise ValueError(
            f"RBM pretraining needs logistic hidden layers, got activation={config.activation!r}"
        )
    sizes = config.layers
    n = len(sizes) - 1
    if n == 1 and config.code == "real":  # checked here: RBMConfig's own words miss the fix
        raise ValueError(
            "a one-layer document model with real codes would need softmax visible and linear "
            "hidden units; add a hidden layer (e.g. '2000-500-10') or use code='binary'"
        )
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
