"""The paper's recipes (aekit.experiments.recipes): their numbers, the RBM stacks they build,
and the old import paths in aekit.train that still reach them with a DeprecationWarning."""

import warnings

import numpy as np
import pytest
import torch

from aekit.experiments import recipes
from aekit.experiments.recipes import document_rbm_configs, hinton2006_train_config
from aekit.models import DocumentAutoencoderConfig
from aekit.rbm import RBM, RBMConfig
from aekit.train import Trainer, fit_rbm_layer


@pytest.mark.parametrize(
    ("hidden", "visible", "lr"),
    [
        ("bernoulli", "bernoulli", 0.1),
        ("gaussian", "bernoulli", 0.001),  # linear code units
        ("bernoulli", "gaussian", 0.001),  # real-valued pixels (the faces)
        ("bernoulli", "softmax", 0.001),  # word counts
    ],
)
def test_hinton2006_settings_by_unit_type(hidden, visible, lr):
    """The supporting material's numbers: minibatches of 100, momentum 0.5 for 5 epochs then
    0.9, 50 epochs, and the learning rate of the unit types."""
    cfg = hinton2006_train_config(hidden, visible)
    assert cfg.lr == lr
    assert (cfg.epochs, cfg.batch_size, cfg.optimizer) == (50, 100, "sgd")
    assert (cfg.initial_momentum, cfg.momentum, cfg.momentum_warmup_epochs) == (0.5, 0.9, 5)
    assert cfg.val_fraction == 0.0
    assert hinton2006_train_config(hidden, visible, epochs=3, lr=0.5).epochs == 3
    assert hinton2006_train_config(hidden, visible, epochs=3, lr=0.5).lr == 0.5


def test_unknown_unit_types_are_refused():
    with pytest.raises(ValueError, match="unknown hidden units 'relu'"):
        hinton2006_train_config("relu")


def test_fit_rbm_layer_trains_with_the_recipe():
    """The generic layer trainer and the named recipe are one setting: the same seed gives
    bit-identical weights either way."""
    x = (np.random.default_rng(0).random((120, 12)) < 0.3).astype(np.float32)
    cfg = RBMConfig(n_visible=12, n_hidden=5)
    settings = {"epochs": 2, "progress": False}
    layer = fit_rbm_layer(cfg, x, seed=3, **settings)
    torch.manual_seed(3)
    rbm = RBM(cfg)
    Trainer(rbm, hinton2006_train_config(seed=3, **settings)).fit(x)
    assert torch.equal(layer.weight, rbm.weight)
    assert torch.equal(layer.hidden_bias, rbm.hidden_bias)


def test_document_rbm_stack_units_and_sizes():
    real = document_rbm_configs(DocumentAutoencoderConfig(layers="60-32-16-10", code="real"))
    assert [(c.n_visible, c.n_hidden) for c in real] == [(60, 32), (32, 16), (16, 10)]
    assert [(c.visible, c.hidden) for c in real] == [
        ("softmax", "bernoulli"),
        ("bernoulli", "bernoulli"),
        ("bernoulli", "gaussian"),  # linear code units
    ]
    assert [c.init_std for c in real] == [0.01, 0.1, 0.1]
    assert all(c.weight_decay == 0.0002 and c.cd_k == 1 for c in real)
    binary = document_rbm_configs(DocumentAutoencoderConfig(layers="60-32-16", code="binary"))
    assert binary[-1].hidden == "bernoulli"
    with pytest.raises(ValueError, match="add a hidden layer"):
        document_rbm_configs(DocumentAutoencoderConfig(layers="60-10", code="real"))


@pytest.mark.parametrize(
    "name",
    [
        "hinton2006_train_config",
        "document_rbm_configs",
        "document_pretrainer",
        "pretrain_document_autoencoder",
    ],
)
@pytest.mark.parametrize("old", ["aekit.train", "aekit.train.pretrain"])
def test_old_import_paths_warn_and_give_the_recipe(name, old):
    import importlib

    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"moved to aekit.experiments.recipes.{name}"):
        found = getattr(module, name)
    assert found is getattr(recipes, name)


def test_importing_the_training_package_warns_nothing():
    import importlib
    import subprocess
    import sys

    code = "import aekit.train, aekit.train.pretrain, aekit.experiments.recipes"
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert importlib.import_module("aekit.train").fit_rbm_layer is fit_rbm_layer
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        importlib.import_module("aekit.train").nope  # noqa: B018
