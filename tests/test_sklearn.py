"""The scikit-learn estimators: API contract, numbers against PCA, anomaly ranking, misuse."""

from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit.sklearn._autoencoders
from aekit.sklearn import (
    AutoencoderTransformer,
    ContractiveAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    SparseAutoencoderTransformer,
)

ESTIMATORS = [
    AutoencoderTransformer,
    SparseAutoencoderTransformer,
    DenoisingAutoencoderTransformer,
    ContractiveAutoencoderTransformer,
]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # These networks are tiny: intra-op threads only add synchronisation, which costs 10-20x
    # on a loaded machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def low_rank(n: int, seed: int, noise: float = 0.3) -> np.ndarray:
    """Rank-3 data in 12 dimensions (one fixed subspace) plus isotropic noise and an offset."""
    basis = np.random.default_rng(100).normal(size=(3, 12))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) @ basis + noise * rng.normal(size=(n, 12)) + 2.0


def fast(cls=AutoencoderTransformer, **params):
    """An estimator trained briefly with a large step, for data this small."""
    defaults = dict(learning_rate=1e-2, max_epochs=30, early_stopping=False, random_state=0)
    return cls(**{**defaults, **params})


# The scikit-learn contract -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks([cls(max_epochs=5) for cls in ESTIMATORS])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_variants_only_change_defaults(cls):
    base = AutoencoderTransformer().get_params()
    params = cls().get_params()
    assert params.keys() == base.keys()
    changed = {k for k in base if params[k] != base[k]}
    expected = {
        AutoencoderTransformer: set(),
        SparseAutoencoderTransformer: {"code_activation", "sparsity_weight"},
        DenoisingAutoencoderTransformer: {"corruption", "corruption_level"},
        ContractiveAutoencoderTransformer: {"contractive_weight"},
    }[cls]
    assert changed == expected


def test_docstring_examples_run():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(aekit.sklearn._autoencoders) if t.examples]
    assert len(tests) == 4
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# Numbers -------------------------------------------------------------------------------------


def test_linear_autoencoder_reaches_pca():
    # A linear autoencoder's optimum spans the principal subspace (Baldi & Hornik, 1989), so
    # its held-out error equals PCA's at the same code size.
    X_train, X_test = low_rank(300, seed=0), low_rank(200, seed=1)
    ae = AutoencoderTransformer(
        n_components=3,
        hidden_layer_sizes=(),
        activation="linear",
        code_activation="linear",
        optimizer="lbfgs",
        learning_rate=1.0,
        batch_size=300,
        max_epochs=100,
        early_stopping=False,
        random_state=0,
    ).fit(X_train)
    pca = PCA(n_components=3).fit(X_train)
    pca_error = ((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2).sum(1).mean()
    mean_error = ((X_test - X_train.mean(0)) ** 2).sum(1).mean()
    ae_error = ae.reconstruction_error(X_test).mean()

    assert ae_error <= 1.02 * pca_error
    assert ae_error < 0.05 * mean_error
    # The decoder's columns span the principal subspace: all principal angles ~ 0.
    decoder = ae.model_.decoder.linears[0].weight.detach().numpy()  # (n_features, n_components)
    q, _ = np.linalg.qr(decoder)
    cosines = np.linalg.svd(q.T @ pca.components_.T, compute_uv=False)
    assert cosines.min() > 0.999


def test_score_samples_ranks_outliers_below_inliers():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 10))

    def manifold(n: int) -> np.ndarray:  # a curved 2-D sheet in 10 dimensions
        return np.tanh(rng.normal(size=(n, 2))) @ basis + 0.05 * rng.normal(size=(n, 10))

    X_train, inliers = manifold(500), manifold(200)
    outliers = rng.uniform(X_train.min(0), X_train.max(0), size=(20, 10))
    ae = fast(n_components=2, hidden_layer_sizes=(16,), max_epochs=25).fit(X_train)

    X = np.vstack([inliers, outliers])
    scores = ae.score_samples(X)
    is_inlier = np.r_[np.ones(len(inliers)), np.zeros(len(outliers))]
    assert roc_auc_score(is_inlier, scores) > 0.95
    np.testing.assert_array_equal(scores, -ae.reconstruction_error(X))
    assert ae.score(X) == pytest.approx(scores.mean())


def test_sparse_variant_drives_codes_to_target():
    X = low_rank(300, seed=0)
    kw = dict(n_components=16, sparsity_target=0.05)
    sparse = fast(SparseAutoencoderTransformer, **kw).fit(X)
    dense = fast(SparseAutoencoderTransformer, sparsity_weight=0.0, **kw).fit(X)
    # Logistic codes lie in (0, 1); without the penalty their mean sits near 0.3-0.5, with
    # it the mean is pulled toward the 0.05 target.
    sparse_mean, dense_mean = sparse.transform(X).mean(), dense.transform(X).mean()
    assert sparse_mean < 0.15
    assert sparse_mean < 0.5 * dense_mean
    assert "train_sparsity" in sparse.history_.records[0]


def test_contractive_variant_shrinks_encoder_jacobian():
    X = low_rank(300, seed=0)

    def mean_jacobian_norm(est) -> float:
        x = torch.tensor(X, dtype=torch.float32)
        jac = torch.func.vmap(torch.func.jacrev(est.model_.encode))(x)  # (n, code, features)
        return float(jac.detach().pow(2).sum((1, 2)).mean())

    contractive = fast(ContractiveAutoencoderTransformer, n_components=3).fit(X)
    plain = fast(ContractiveAutoencoderTransformer, n_components=3, contractive_weight=0.0)
    assert mean_jacobian_norm(contractive) < 0.7 * mean_jacobian_norm(plain.fit(X))


def test_denoising_variant_repairs_masked_inputs():
    X = StandardScaler().fit_transform(low_rank(300, seed=0, noise=0.05))
    keep = np.random.default_rng(1).random(X.shape) >= 0.2
    denoising = fast(DenoisingAutoencoderTransformer, n_components=3).fit(X)
    plain = fast(DenoisingAutoencoderTransformer, n_components=3, corruption="none").fit(X)

    def error_from_masked(est) -> float:
        return float(((est.inverse_transform(est.transform(X * keep)) - X) ** 2).sum(1).mean())

    assert error_from_masked(denoising) < 0.9 * error_from_masked(plain)


def test_bernoulli_likelihood_reconstructs_in_unit_interval():
    X = np.random.default_rng(0).random((100, 6))
    ae = fast(likelihood="bernoulli", tied=True, max_epochs=5).fit(X)
    recon = ae.inverse_transform(ae.transform(X))
    assert recon.shape == X.shape
    assert ((recon > 0) & (recon < 1)).all()


# Composition ---------------------------------------------------------------------------------


def test_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", fast(n_components=2, max_epochs=40)),
            ("clf", LogisticRegression()),
        ]
    )
    assert pipe.fit(X_train, y_train).score(X_test, y_test) > 0.8  # chance is 1/3

    search = GridSearchCV(pipe, {"ae__n_components": [1, 3]}, cv=2).fit(X_train, y_train)
    assert search.best_params_["ae__n_components"] in (1, 3)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert (
        search.best_estimator_.named_steps["ae"].model_.config.code_dim
        == (search.best_params_["ae__n_components"])
    )


def test_grid_search_without_labels_uses_reconstruction_score():
    # Rank-3 data: three components reconstruct far better than one, and `score` says so.
    linear = dict(hidden_layer_sizes=(), activation="linear", optimizer="lbfgs", learning_rate=1.0)
    search = GridSearchCV(fast(batch_size=200, **linear), {"n_components": [1, 3]}, cv=2)
    search.fit(low_rank(400, seed=0))
    assert search.best_params_ == {"n_components": 3}


def test_feature_names_out():
    X = low_rank(50, seed=0)
    for cls in ESTIMATORS:
        est = fast(cls, n_components=3, max_epochs=1).fit(X)
        prefix = cls.__name__.lower()
        assert list(est.get_feature_names_out()) == [f"{prefix}{i}" for i in range(3)]
    assert not hasattr(est, "feature_names_in_")  # plain arrays carry no names
    assert est.n_features_in_ == 12


# Reproducibility and fitted state -------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_random_state_same_codes():
    X = low_rank(200, seed=0)
    est = DenoisingAutoencoderTransformer(n_components=2, max_epochs=3, random_state=7)
    a = clone(est).fit(X).transform(X)
    b = clone(est).fit(X).transform(X)
    c = clone(est).set_params(random_state=8).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_torch_rng_alone():
    X = low_rank(100, seed=0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fast(max_epochs=2).fit(X)
    torch.testing.assert_close(torch.rand(3), expected)


def test_fitted_attributes_and_early_stopping():
    X = low_rank(200, seed=0)
    # A large step on an easy problem: validation stops improving well before 500 epochs.
    est = AutoencoderTransformer(learning_rate=0.05, max_epochs=500, n_iter_no_change=3)
    est.set_params(random_state=0).fit(X)
    assert isinstance(est.model_, torch.nn.Module) and not est.model_.training
    assert est.history_.stopped_early and est.n_iter_ < 500
    assert len(est.loss_curve_) == len(est.validation_loss_curve_) == est.n_iter_
    assert est.transform(X).dtype == np.float32

    no_stop = fast(max_epochs=4).fit(X)
    assert no_stop.n_iter_ == 4 and no_stop.validation_loss_curve_ is None

    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        AutoencoderTransformer(max_epochs=2, random_state=0).fit(X)


def test_pickle_round_trip():
    X = low_rank(100, seed=0)
    est = fast(max_epochs=3).fit(X)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(X), est.transform(X))


# Misuse --------------------------------------------------------------------------------------

BAD_PARAMS = [
    ({"n_components": 0}, "'n_components' parameter"),
    ({"activation": "softmax"}, "'activation' parameter"),
    ({"hidden_layer_sizes": (32, 0)}, "hidden_layer_sizes must be positive integers"),
    ({"learning_rate": 0.0}, "'learning_rate' parameter"),
    ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
    ({"device": "tpu"}, r"device must be .*got 'tpu'"),
    ({"sparsity_weight": 1.0, "activation": "relu"}, "needs logistic encoder units"),
    ({"corruption": "mask", "corruption_level": 1.0}, r"probability in \[0, 1\)"),
    ({"contractive_method": "closed", "contractive_weight": 0.1}, "one-layer encoder"),
]


@pytest.mark.parametrize(("params", "match"), BAD_PARAMS)
def test_bad_parameters_raise_at_fit(params, match):
    est = AutoencoderTransformer(max_epochs=1).set_params(**params)  # storing never raises
    with pytest.raises(ValueError, match=match):
        est.fit(low_rank(20, seed=0))


def test_bad_inputs_raise():
    X = low_rank(40, seed=0)
    est = AutoencoderTransformer(max_epochs=1, early_stopping=False)
    with pytest.raises(NotFittedError):
        est.transform(X)

    nan = X.copy()
    nan[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(est).fit(nan)
    with pytest.raises(ValueError, match="Expected 2D array"):
        clone(est).fit(X[:, 0])
    with pytest.raises(ValueError, match=r"needs data in \[0, 1\]"):
        clone(est).set_params(likelihood="bernoulli").fit(X)
    with pytest.raises(ValueError, match="n_samples = 1"):
        clone(est).set_params(early_stopping=True).fit(X[:1])
    clone(est).fit(X[:1])  # one sample is fine without a validation split

    est.fit(X)
    with pytest.raises(ValueError, match="X has 11 features, but AutoencoderTransformer"):
        est.transform(X[:, :11])
    with pytest.raises(ValueError, match="NaN"):
        est.score_samples(nan)
    with pytest.raises(ValueError, match="Expected 2D array"):
        est.transform(X[0])
    with pytest.raises(ValueError, match="fitted with n_components=2; inverse_transform takes"):
        est.inverse_transform(np.zeros((5, 3)))
