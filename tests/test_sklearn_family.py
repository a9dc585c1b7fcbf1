"""scikit-learn estimators for the rest of the family: VAE, RBM / DBN, documents (sparse input),
and saving every estimator without pickle."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit.sklearn._documents
import aekit.sklearn._outlier
import aekit.sklearn._rbm
import aekit.sklearn._vae
from aekit.sklearn import (
    AutoencoderTransformer,
    DocumentAutoencoderTransformer,
    RBMTransformer,
    VAETransformer,
    load_estimator,
)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def counts(n: int, n_words: int = 30, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix(rng.poisson(0.8, size=(n, n_words)).astype(np.float64))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        VAETransformer(max_epochs=3),
        RBMTransformer(n_components=8, max_epochs=2),
        RBMTransformer(
            n_components=4, hidden_layer_sizes=(6,), visible="gaussian", scaling="standard"
        ),
        DocumentAutoencoderTransformer(max_epochs=3),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_docstring_examples_run():
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    modules = [aekit.sklearn._vae, aekit.sklearn._rbm, aekit.sklearn._documents]
    modules.append(aekit.sklearn._outlier)
    tests = [t for m in modules for t in doctest.DocTestFinder().find(m) if t.examples]
    assert len(tests) == 5
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# VAE -----------------------------------------------------------------------------------------


def test_vae_codes_are_posterior_means_and_samples_are_seeded():
    X = np.random.default_rng(0).normal(size=(150, 6))
    vae = VAETransformer(n_components=2, max_epochs=5, early_stopping=False, random_state=0)
    codes = vae.fit_transform(X)
    with torch.no_grad():
        mu, _ = vae.model_.posterior(torch.tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(codes, mu.numpy(), rtol=1e-6, atol=1e-6)
    a, b = vae.sample(4, random_state=3), vae.sample(4, random_state=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 6) and not np.allclose(a, vae.sample(4, random_state=4))
    # The samples are the decoder's means of prior draws, seeded by an int drawn from
    # random_state as every estimator here draws its seeds.
    seed = int(np.random.RandomState(3).randint(np.iinfo(np.int32).max))
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(seed))
    np.testing.assert_allclose(a, vae.inverse_transform(z.numpy()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        vae.score_samples(X), -((vae.inverse_transform(codes) - X) ** 2).sum(1), rtol=1e-4
    )


def test_vae_elbo_improves_with_training():
    X = np.random.default_rng(0).normal(size=(300, 2)) @ np.random.default_rng(1).normal(
        size=(2, 8)
    )
    vae = VAETransformer(n_components=2, max_epochs=30, early_stopping=False, random_state=0)
    vae.set_params(learning_rate=1e-2).fit(X)
    assert vae.loss_curve_[-1] < 0.8 * vae.loss_curve_[0]


# RBM / DBN -----------------------------------------------------------------------------------


def test_rbm_codes_are_hidden_probabilities_by_hand():
    X = np.random.default_rng(0).random((80, 12)) * 3.0 + 1.0  # not in [0, 1]: scaled inside
    rbm = RBMTransformer(n_components=5, max_epochs=2, random_state=0).fit(X)
    Xs = (X - X.min(0)) / (X.max(0) - X.min(0))
    layer = rbm.model_.rbms[0]
    W, c = layer.weight.detach().numpy(), layer.hidden_bias.detach().numpy()
    expected = 1.0 / (1.0 + np.exp(-(Xs @ W.T + c)))
    np.testing.assert_allclose(rbm.transform(X), expected, rtol=1e-5, atol=1e-6)
    # New data beyond the training range is clipped to [0, 1] before the visible units.
    np.testing.assert_allclose(rbm.transform(X * 10)[:1], rbm.transform(X.max(0)[None] * 1.0))


def test_rbm_pipeline_beside_bernoulli_rbm():
    # scikit-learn's "RBM features for digit classification" setting (measured with 3 seeds:
    # aekit 0.969-0.978, BernoulliRBM 0.919-0.939; docs/sklearn.md).
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    clf = LogisticRegression(C=100, max_iter=1000)
    ours = Pipeline([("rbm", RBMTransformer(100, learning_rate=0.06, random_state=0)), ("c", clf)])
    theirs = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("rbm", BernoulliRBM(100, learning_rate=0.06, n_iter=10, random_state=0)),
            ("c", clf),
        ]
    )
    ours_acc = ours.fit(X_train, y_train).score(X_test, y_test)
    assert ours_acc > 0.95
    assert ours_acc > theirs.fit(X_train, y_train).score(X_test, y_test) - 0.01


def test_rbm_bad_settings():
    X = np.random.default_rng(0).random((20, 4))
    with pytest.raises(ValueError, match="binary visible units need data in"):
        RBMTransformer(scaling="standard").fit(X)
    with pytest.raises(ValueError, match=r"needs? .*\[0, 1\]|\[0, 1\]"):
        RBMTransformer(scaling=None).fit(X + 1.0)


# Documents -----------------------------------------------------------------------------------


def test_documents_sparse_and_dense_agree():
    X = counts(80)
    est = DocumentAutoencoderTransformer(n_components=3, max_epochs=3, random_state=0).fit(X)
    again = DocumentAutoencoderTransformer(n_components=3, max_epochs=3, random_state=0)
    dense = again.fit(X.toarray())
    np.testing.assert_allclose(est.transform(X), dense.transform(X.toarray()), rtol=1e-5)
    np.testing.assert_allclose(est.score_samples(X), est.score_samples(X.toarray()), rtol=1e-6)
    # The score is minus the cross-entropy, in nats per word, against the reconstruction.
    p = X.toarray() / X.toarray().sum(1, keepdims=True)
    recon = est.inverse_transform(est.transform(X))
    np.testing.assert_allclose(recon.sum(1), 1.0, rtol=1e-5)
    cross_entropy = -(p * np.log(recon)).sum(1)
    np.testing.assert_allclose(-est.score_samples(X), cross_entropy, rtol=1e-4)


def test_empty_document_reads_as_uniform():
    X = counts(40)
    est = DocumentAutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
    empty = sp.csr_matrix((1, 30))
    np.testing.assert_allclose(est.transform(empty), est.transform(np.ones((1, 30))), rtol=1e-6)
    with pytest.raises(ValueError, match="Negative values"):
        est.transform(-X)


# Saving without pickle -----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("est", "data", "method"),
    [
        (AutoencoderTransformer(max_epochs=2, random_state=0), "real", "transform"),
        (VAETransformer(max_epochs=2, random_state=0), "real", "transform"),
        (
            RBMTransformer(4, hidden_layer_sizes=(5,), max_epochs=2, random_state=0),
            "real",
            "transform",
        ),
        (DocumentAutoencoderTransformer(max_epochs=2, random_state=0), "counts", "transform"),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else None,
)
def test_saved_and_loaded_estimator_gives_identical_outputs(tmp_path, est, data, method):
    X = counts(60) if data == "counts" else np.random.default_rng(0).random((60, 7))
    est.fit(X)
    est.save(tmp_path / "est")
    again = load_estimator(tmp_path / "est")
    assert type(again) is type(est) and again.get_params() == est.get_params()
    np.testing.assert_array_equal(getattr(again, method)(X), getattr(est, method)(X))
    assert again.n_features_in_ == est.n_features_in_
    names = sorted(p.name for p in (tmp_path / "est").iterdir())
    assert names == ["config.json", "estimator.json", "model.safetensors"]
