"""The outlier detectors: scikit-learn's contract, scores and thresholds by hand, persistence,
the scoring function behind ``aekit score``, and misuse."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit.sklearn import (
    AutoencoderOutlierDetector,
    DocumentOutlierDetector,
    load_estimator,
    score_file,
)
from aekit.sklearn._outlier import STANDARDIZED_FLOOR, outlier_offset
from aekit.sklearn._score import labels_path


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # Tiny networks: intra-op threads only add synchronisation on a loaded machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def plane(n: int, seed: int, noise: float = 0.02) -> np.ndarray:
    """A 2-D plane in 10 dimensions (one fixed basis) plus a little noise, in real units."""
    basis = np.random.default_rng(100).normal(size=(2, 10))
    rng = np.random.default_rng(seed)
    return 5.0 + rng.normal(size=(n, 2)) @ basis + noise * rng.normal(size=(n, 10))


def detector(**params) -> AutoencoderOutlierDetector:
    defaults = dict(
        n_components=2, n_estimators=1, max_epochs=30, learning_rate=1e-2, random_state=0
    )
    return AutoencoderOutlierDetector(**{**defaults, **params})


def topic_documents(n: int, topic: np.ndarray, seed: int, length: int = 60) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix(rng.multinomial(length, topic, size=n).astype(np.float64))


# The scikit-learn contract -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        AutoencoderOutlierDetector(max_epochs=3, n_estimators=2),
        DocumentOutlierDetector(max_epochs=3, n_estimators=2),
    ],
    # scikit-learn's outlier checks fit make_blobs data, which has negative values, without
    # looking at the positive_only tag; word counts cannot be negative. The same contract
    # on counts: test_document_detector_outlier_contract below.
    expected_failed_checks=lambda est: (
        {
            "check_outliers_train": "make_blobs data is negative; counts cannot be",
            "check_outliers_fit_predict": "make_blobs data is negative; counts cannot be",
        }
        if isinstance(est, DocumentOutlierDetector)
        else {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_document_detector_outlier_contract():
    # check_outliers_train / check_outliers_fit_predict on make_blobs shifted to counts.
    X, _ = make_blobs(n_samples=300, random_state=0)
    X = X - X.min(0)  # real-valued "counts": no ties among the scores
    det = DocumentOutlierDetector(n_components=2, max_epochs=3, n_estimators=2, random_state=0)
    det.set_params(contamination=0.1)
    y = det.fit_predict(X)
    assert y.dtype.kind == "i" and set(np.unique(y)) == {-1, 1}
    assert np.sum(y == -1) == 30
    np.testing.assert_array_equal(det.fit(X).predict(X), y)
    decision = det.decision_function(X)
    np.testing.assert_allclose(decision, det.score_samples(X) - det.offset_)
    np.testing.assert_array_equal(np.where(decision >= 0, 1, -1), y)
    with pytest.raises(ValueError):
        det.predict(X.T)


# Thresholds and scores by hand ---------------------------------------------------------------


def test_offset_is_the_contamination_quantile_of_training_scores():
    X = plane(400, seed=0)
    det = detector(contamination=0.05).fit(X)
    train_scores = det.score_samples(X)
    assert det.offset_ == np.percentile(train_scores, 5.0)
    assert np.sum(det.predict(X) == -1) == 20  # exactly 5% of 400 (no ties)
    decision = det.decision_function(X)
    np.testing.assert_array_equal(decision, train_scores - det.offset_)
    np.testing.assert_array_equal(det.predict(X), np.where(decision < 0, -1, 1))
    np.testing.assert_array_equal(det.fit_predict(X), det.predict(X))


def test_auto_contamination_is_tukeys_fence():
    X = plane(400, seed=0)
    det = detector().fit(X)
    errors = -det.score_samples(X)
    q1, q3 = np.percentile(errors, [25, 75])
    fence = q3 + 1.5 * (q3 - q1)
    assert det.offset_ == pytest.approx(-fence, rel=1e-12)
    np.testing.assert_array_equal(det.predict(X) == -1, errors > fence)
    # Squared errors have a long right tail: the fence flags a few percent, not none or half.
    assert 0.005 < np.mean(errors > fence) < 0.15


def test_outlier_offset_by_hand():
    scores = np.arange(1.0, 101.0)  # 1..100
    assert outlier_offset(scores, 0.1) == pytest.approx(10.9)  # numpy's linear interpolation
    q1, q3 = 25.75, 75.25
    assert outlier_offset(scores, "auto") == pytest.approx(q1 - 1.5 * (q3 - q1))


@pytest.mark.parametrize("anomaly_score", ["squared", "standardized"])
@pytest.mark.parametrize("scaling", ["minmax", "standard", None])
def test_scores_by_hand(anomaly_score, scaling):
    X, X_new = plane(200, seed=0), plane(30, seed=1, noise=0.5)
    det = detector(n_estimators=2, max_epochs=3, anomaly_score=anomaly_score, scaling=scaling)
    det.fit(X)
    if scaling == "minmax":
        shift, scale = X.min(0), X.max(0) - X.min(0)
    elif scaling == "standard":
        shift, scale = X.mean(0), X.std(0)
    else:
        shift, scale = np.zeros(10), np.ones(10)
    np.testing.assert_allclose(det.shift_, shift)
    np.testing.assert_allclose(det.scale_, scale)

    def member_error(member, A):
        a = ((A - shift) / scale).astype(np.float32)
        with torch.no_grad():
            recon = member.model_(torch.from_numpy(a)).numpy().astype(np.float64)
        return (recon - a) ** 2  # (n, features)

    expected = []
    for member in det.estimators_:
        train_error = member_error(member, X).mean(0)
        r = member_error(member, X_new)
        if anomaly_score == "standardized":
            r = r / np.maximum(train_error, STANDARDIZED_FLOOR * train_error.mean())
        expected.append(r.sum(1))
    np.testing.assert_allclose(det.score_samples(X_new), -np.mean(expected, 0), rtol=1e-5)
    assert det.score_samples(X_new).dtype == np.float64
    assert det.feature_error_.shape == (2, 10)


def test_ranks_points_off_the_plane_as_outliers():
    rng = np.random.default_rng(0)
    X = plane(500, seed=0)
    inliers = plane(200, seed=1)
    outliers = rng.uniform(X.min(0), X.max(0), size=(20, 10))
    det = detector(n_estimators=3, max_epochs=40).fit(X)
    scores = det.score_samples(np.vstack([inliers, outliers]))
    is_outlier = np.r_[np.zeros(200), np.ones(20)]
    assert roc_auc_score(is_outlier, -scores) > 0.99
    assert np.mean(det.predict(outliers) == -1) > 0.9
    assert np.mean(det.predict(inliers) == 1) > 0.85


def test_document_detector_flags_another_topic():
    rng = np.random.default_rng(0)
    topic, other = rng.dirichlet(np.full(50, 0.1)), rng.dirichlet(np.full(50, 0.1))
    train = topic_documents(300, topic, seed=1)
    test = sp.vstack([topic_documents(100, topic, seed=2), topic_documents(20, other, seed=3)])
    det = DocumentOutlierDetector(n_components=2, max_epochs=20, random_state=0).fit(train)
    scores = det.score_samples(test)
    assert roc_auc_score(np.r_[np.zeros(100), np.ones(20)], -scores) > 0.99
    # Sparse and dense input give the same scores; a score is minus nats per word.
    np.testing.assert_allclose(det.score_samples(test.toarray()), scores, rtol=1e-6)
    member_scores = [m.score_samples(test) for m in det.estimators_]
    np.testing.assert_allclose(scores, np.mean(member_scores, 0), rtol=1e-6)


def test_same_random_state_same_scores():
    X = plane(150, seed=0)
    a = detector(n_estimators=2, max_epochs=3).fit(X).score_samples(X)
    b = detector(n_estimators=2, max_epochs=3).fit(X).score_samples(X)
    c = detector(n_estimators=2, max_epochs=3, random_state=1).fit(X).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# Persistence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [AutoencoderOutlierDetector, DocumentOutlierDetector])
def test_saved_and_loaded_detector_gives_identical_scores(tmp_path, cls):
    X = plane(120, seed=0)
    X = np.abs(X) if cls is DocumentOutlierDetector else X  # counts are non-negative
    det = cls(n_estimators=2, max_epochs=2, contamination=0.1, random_state=0).fit(X)
    det.save(tmp_path / "det")
    again = load_estimator(tmp_path / "det")
    assert type(again) is cls and again.get_params() == det.get_params()
    np.testing.assert_array_equal(again.score_samples(X), det.score_samples(X))
    np.testing.assert_array_equal(again.predict(X), det.predict(X))
    assert again.offset_ == det.offset_
    # Only JSON and safetensors: nothing that could be unpickled.
    files = sorted(p.name for p in (tmp_path / "det").rglob("*") if p.is_file())
    assert set(files) == {"estimator.json", "config.json", "model.safetensors"}
    doc = json.loads((tmp_path / "det" / "estimator.json").read_text())
    assert doc["estimator"] == cls.__name__ and doc["members"] == ["member-0", "member-1"]


def test_load_estimator_refuses_what_it_cannot_trust(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"est\.save"):
        load_estimator(tmp_path)
    (tmp_path / "estimator.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not an aekit estimator"):
        load_estimator(tmp_path)
    doc = {"format": "aekit-estimator", "estimator": "os.system", "params": {}, "state": {}}
    (tmp_path / "estimator.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"'os\.system', which aekit\.sklearn does not have"):
        load_estimator(tmp_path)


# aekit score ---------------------------------------------------------------------------------


def test_score_file_from_a_saved_detector(tmp_path):
    X = plane(200, seed=0)
    det = detector(max_epochs=3, contamination=0.05).fit(X)
    det.save(tmp_path / "det")
    np.save(tmp_path / "x.npy", X)
    summary = score_file(tmp_path / "det", tmp_path / "x.npy", tmp_path / "scores.npy")
    scores = np.load(tmp_path / "scores.npy")
    labels = np.load(labels_path(tmp_path / "scores.npy"))
    np.testing.assert_allclose(scores, det.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(labels, det.predict(X))
    assert summary["n_outliers"] == 10 and summary["offset"] == det.offset_

    summary = score_file(tmp_path / "det", tmp_path / "x.npy", tmp_path / "s.npy", 0.2)
    assert summary["n_outliers"] == 40
    with pytest.raises(ValueError, match=r"in \(0, 0.5\]"):
        score_file(tmp_path / "det", tmp_path / "x.npy", tmp_path / "s.npy", 0.6)


def test_score_file_from_a_saved_model(tmp_path):
    from aekit.models import Autoencoder

    torch.manual_seed(0)
    model = Autoencoder(layers="10-4-2", likelihood="gaussian")
    model.save(tmp_path / "model")
    X = plane(100, seed=0).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    summary = score_file(tmp_path / "model", tmp_path / "x.npy", tmp_path / "out.npy", 0.1)
    scores = np.load(tmp_path / "out.npy")
    np.testing.assert_allclose(scores, -model.reconstruction_error(X), rtol=1e-6)
    assert summary["n_outliers"] == 10
    np.save(tmp_path / "narrow.npy", X[:, :9])
    with pytest.raises(ValueError, match="has 9 columns but the model's input layer has 10"):
        score_file(tmp_path / "model", tmp_path / "narrow.npy", tmp_path / "out.npy")
    with pytest.raises(FileNotFoundError, match="neither a saved estimator"):
        score_file(tmp_path / "x.npy", tmp_path / "x.npy", tmp_path / "out.npy")


# Misuse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("contamination", [0.0, 0.6, -0.1, 1.0, "none"])
def test_contamination_outside_the_interval(contamination):
    det = detector(max_epochs=1, contamination=contamination)  # storing never raises
    with pytest.raises(ValueError, match="'contamination' parameter"):
        det.fit(plane(20, seed=0))


def test_bad_inputs_raise():
    X = plane(60, seed=0)
    det = detector(max_epochs=1)
    with pytest.raises(NotFittedError):
        det.predict(X)
    with pytest.raises(NotFittedError):
        det.score_samples(X)
    nan = X.copy()
    nan[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(det).fit(nan)
    with pytest.raises(ValueError, match="'anomaly_score' parameter"):
        clone(det).set_params(anomaly_score="mahalanobis").fit(X)
    with pytest.raises(TypeError, match="dense data is required"):
        clone(det).fit(sp.csr_matrix(X))

    det.fit(X)
    with pytest.raises(ValueError, match="X has 9 features, but AutoencoderOutlierDetector"):
        det.predict(X[:, :9])
    with pytest.raises(ValueError, match="NaN"):
        det.decision_function(nan)

    docs = DocumentOutlierDetector(max_epochs=1)
    with pytest.raises(ValueError, match="Negative values"):
        docs.fit(X - 10)


def test_aekit_score_command(tmp_path):
    from click.testing import CliRunner

    from aekit.cli import main

    X = plane(100, seed=0)
    detector(max_epochs=2, contamination=0.1).fit(X).save(tmp_path / "det")
    np.save(tmp_path / "x.npy", X)
    out = str(tmp_path / "s.npy")
    result = CliRunner().invoke(
        main, ["score", str(tmp_path / "det"), "--data", str(tmp_path / "x.npy"), "--out", out]
    )
    assert result.exit_code == 0, result.output
    assert "10 of 100 rows flagged" in result.output
    assert np.sum(np.load(labels_path(out)) == -1) == 10
    np.save(tmp_path / "narrow.npy", X[:, :4])
    args = ["score", str(tmp_path / "det"), "--data", str(tmp_path / "narrow.npy"), "--out", out]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "X has 4 features" in result.output
    result = CliRunner().invoke(
        main, [*args[:4], str(tmp_path / "x.npy"), "--out", out, "--contamination", "0.7"]
    )
    assert result.exit_code == 2 and "--contamination" in result.output
