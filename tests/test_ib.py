"""aekit.ib: information measures against SciPy and hand values, the IB iteration against a
direct loop over the paper's equations, and IB/DIB solutions against closed forms."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from scipy.stats import entropy as scipy_entropy

from aekit.ib import (
    InformationBottleneck,
    beta_sweep,
    check_joint,
    conditional_entropy,
    entropy,
    joint_from_samples,
    kl_divergence,
    mutual_information,
    upper_envelope,
)
from aekit.ib import bottleneck as ib_impl


def random_joint(n_x: int, n_y: int, seed: int, concentration: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n_x * n_y, concentration)).reshape(n_x, n_y)
    return p / p.sum()


def h2(p: float) -> float:
    """Binary entropy in bits."""
    return float(scipy_entropy([p, 1 - p], base=2))


# Information measures ----------------------------------------------------------------------


def test_entropy_and_kl_match_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
    assert entropy(p) == pytest.approx(scipy_entropy(p, base=2), abs=1e-12)
    assert kl_divergence(p, q) == pytest.approx(scipy_entropy(p, q, base=2), abs=1e-12)
    rows = rng.dirichlet(np.ones(5), size=4)
    np.testing.assert_allclose(entropy(rows, axis=1), scipy_entropy(rows, base=2, axis=1))


def test_hand_values_and_zero_probabilities():
    assert entropy([0.5, 0.5]) == pytest.approx(1.0)
    assert entropy([0.25] * 4) == pytest.approx(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) warnings anywhere
        with np.errstate(divide="raise", invalid="raise"):
            assert entropy([1.0, 0.0, 0.0]) == 0.0
            assert kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(1.0)
            assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
            # Y = X on two equiprobable values: 1 bit; H(Y|X) = 0.
            pxy = np.array([[0.5, 0.0], [0.0, 0.5]])
            assert mutual_information(pxy) == pytest.approx(1.0)
            assert conditional_entropy(pxy) == pytest.approx(0.0)


def test_mutual_information_identities():
    pxy = random_joint(6, 5, seed=1)
    px, py = pxy.sum(1), pxy.sum(0)
    mi = mutual_information(pxy)
    # I(X;Y) = KL[p(x, y) || p(x) p(y)] = H(Y) - H(Y|X)
    assert mi == pytest.approx(kl_divergence(pxy, np.outer(px, py)), abs=1e-12)
    assert mi == pytest.approx(entropy(py) - conditional_entropy(pxy), abs=1e-12)
    assert mutual_information(np.outer(px, py)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.full((2, 2), 0.3), ValueError, "sums to 1.2"),
        (np.array([[0.6, -0.1], [0.3, 0.2]]), ValueError, "negative"),
        (np.array([[np.nan, 0.5], [0.25, 0.25]]), ValueError, "NaN"),
        (np.array([0.5, 0.5]), ValueError, "2-D"),
        (np.ones((1, 1, 1)), ValueError, "2-D"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "real numbers"),
        (np.zeros((0, 3)), ValueError, "empty"),
    ],
)
def test_bad_joint_is_refused_with_the_fix(bad, error, words):
    with pytest.raises(error, match=words):
        check_joint(bad)
    with pytest.raises(error):
        beta_sweep(bad, [1.0])


def test_sum_error_says_how_to_normalise():
    with pytest.raises(ValueError, match=r"p / p.sum\(\)"):
        check_joint(np.ones((3, 3)))


def test_joint_from_samples_counts_rows_and_bins():
    x = np.array([[0, 1], [0, 1], [1, 0], [1, 1]])
    y = np.array([2, 2, 5, 2])
    est = joint_from_samples(x, y)
    np.testing.assert_array_equal(est.x_values, [[0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(est.y_values, [2, 5])
    np.testing.assert_allclose(est.pxy, [[0.5, 0.0], [0.0, 0.25], [0.25, 0.0]])
    np.testing.assert_array_equal(est.x_values[est.x_index], x)
    assert est.x_bin_edges is None and est.n_samples == 4

    xc = np.array([0.05, 0.15, 0.55, 0.95, 0.6])
    binned = joint_from_samples(xc, np.array([0, 0, 1, 1, 1]), x_bins=2)
    np.testing.assert_allclose(binned.x_bin_edges[0], [0.05, 0.5, 0.95])
    np.testing.assert_allclose(binned.pxy, [[0.4, 0.0], [0.0, 0.6]])
    edges = joint_from_samples(xc, np.zeros(5, int), x_bins=[0.0, 0.1, 1.0])
    np.testing.assert_allclose(edges.pxy[:, 0], [0.2, 0.8])


def test_joint_from_samples_refuses_bad_samples():
    with pytest.raises(ValueError, match="3 samples but y has 2"):
        joint_from_samples([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="x_bins"):
        joint_from_samples([0.1, 0.7], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        joint_from_samples([0.0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="bin it"):
        joint_from_samples([0, 1], [0.5, 0.2])


# The iteration against the paper's equations, term by term --------------------------------


def slow_step(pxy: np.ndarray, encoder: np.ndarray, beta: float, alpha: float) -> np.ndarray:
    """Strouse & Schwab's updates written as plain loops, natural logarithms."""
    n_x, n_y = pxy.shape
    n_t = encoder.shape[1]
    px = pxy.sum(1)
    qt = [sum(px[x] * encoder[x, t] for x in range(n_x)) for t in range(n_t)]
    qy_t = [
        [sum(encoder[x, t] * pxy[x, y] for x in range(n_x)) / qt[t] for y in range(n_y)]
        for t in range(n_t)
    ]
    new = np.zeros((n_x, n_t))
    for x in range(n_x):
        score = []
        for t in range(n_t):
            kl = sum(
                pxy[x, y] / px[x] * np.log(pxy[x, y] / px[x] / qy_t[t][y])
                for y in range(n_y)
                if pxy[x, y] > 0
            )
            score.append(np.log(qt[t]) - beta * kl)
        if alpha == 0:
            new[x, int(np.argmax(score))] = 1.0
        else:
            w = [np.exp((s - max(score)) / alpha) for s in score]
            new[x] = np.array(w) / sum(w)
    return new


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
def test_one_step_matches_a_direct_loop(alpha):
    pxy = random_joint(5, 4, seed=2, concentration=1.0)
    rng = np.random.default_rng(3)
    encoder = rng.dirichlet(np.ones(3), size=5)
    problem = ib_impl._prepare(check_joint(pxy))
    fast = ib_impl._step(problem, encoder, beta=2.5, alpha=alpha)
    np.testing.assert_allclose(fast, slow_step(pxy, encoder, beta=2.5, alpha=alpha), atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_each_step_lowers_the_cost(alpha):
    # Every update minimises the free energy with the rest held fixed, so the cost of the
    # successive encoders (each with its own consistent decoder) never rises.
    pxy = random_joint(12, 5, seed=14)
    problem = ib_impl._prepare(check_joint(pxy))
    encoder = np.random.default_rng(15).dirichlet(np.ones(6), size=12)
    costs = []
    for _ in range(40):
        costs.append(ib_impl._evaluate(problem, encoder, 4.0, alpha, 0, False).objective)
        encoder = ib_impl._step(problem, encoder, beta=4.0, alpha=alpha)
        # As the solver does: a cluster whose q(t) reached 0 is gone for good.
        encoder = ib_impl._drop_empty(encoder, problem.px @ encoder)
    assert np.all(np.diff(costs) <= 1e-12)
    assert costs[-1] < costs[0] - 0.1


def test_infinite_kl_excludes_a_cluster_without_nans():
    # x0 needs y1, which cluster 1 never emits: KL = inf, so q(t=1 | x0) must be exactly 0.
    pxy = np.array([[0.25, 0.25], [0.5, 0.0]])
    encoder = np.array([[1.0, 0.0], [0.0, 1.0]])
    problem = ib_impl._prepare(pxy)
    with np.errstate(divide="raise", invalid="raise"):  # underflow to 0 is the point
        soft = ib_impl._step(problem, encoder, beta=1.0, alpha=1.0)
    assert soft[0, 1] == 0.0 and np.all(np.isfinite(soft))


def test_reported_measures_are_consistent_with_the_encoder():
    pxy = random_joint(8, 5, seed=4)
    s = InformationBottleneck(beta=3.0, random_state=0).fit(pxy).solution_
    joint_xt = pxy.sum(1)[:, None] * s.encoder
    assert s.i_xt == pytest.approx(mutual_information(joint_xt), abs=1e-9)
    assert s.h_t == pytest.approx(entropy(joint_xt.sum(0)), abs=1e-9)
    assert s.i_ty == pytest.approx(mutual_information(s.encoder.T @ pxy), abs=1e-9)
    assert s.objective == pytest.approx(s.i_xt - 3.0 * s.i_ty, abs=1e-9)
    np.testing.assert_allclose(s.p_y_given_t, (s.encoder.T @ pxy) / s.p_t[:, None])


# Closed-form cases ---------------------------------------------------------------------------


BETAS = np.geomspace(0.05, 200, 12)


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_independent_x_and_y_give_no_information_at_any_beta(alpha):
    rng = np.random.default_rng(5)
    pxy = np.outer(rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(4)))
    curve = beta_sweep(pxy, BETAS, alpha=alpha, random_state=0)
    np.testing.assert_allclose(curve.i_ty, 0.0, atol=1e-9)
    assert np.all(curve.n_clusters == 1)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
def test_deterministic_target_is_recovered_at_large_beta(alpha):
    # y = f(x) = x mod 3 over 9 values of x with unequal probabilities.
    rng = np.random.default_rng(6)
    px = rng.dirichlet(np.ones(9))
    pxy = np.zeros((9, 3))
    pxy[np.arange(9), np.arange(9) % 3] = px
    h_y = entropy(pxy.sum(0))
    model = InformationBottleneck(beta=200.0, alpha=alpha, random_state=0).fit(pxy)
    assert mutual_information(pxy) == pytest.approx(h_y)
    assert model.i_ty_ == pytest.approx(h_y, abs=1e-6)
    assert model.n_clusters_ == 3
    # The clusters are the level sets of f.
    labels = model.labels_
    assert all(len(set(labels[np.arange(9) % 3 == k])) == 1 for k in range(3))
    # The cheapest such T is T = f(X): I(X;T) = H(T) = H(Y).
    assert model.i_xt_ == pytest.approx(h_y, abs=1e-5)


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_small_beta_gives_one_cluster(alpha):
    pxy = random_joint(12, 6, seed=7)
    curve = beta_sweep(pxy, [1e-3, 1e-2, 0.1], alpha=alpha, random_state=0)
    assert np.all(curve.n_clusters == 1)
    np.testing.assert_allclose(curve.i_xt, 0.0, atol=1e-9)
    np.testing.assert_allclose(curve.h_t, 0.0, atol=1e-9)


@pytest.mark.parametrize("alpha", [1.0, 0.3, 0.0])
def test_every_curve_point_obeys_the_information_inequalities(alpha):
    pxy = random_joint(15, 6, seed=8)
    curve = beta_sweep(pxy, BETAS, alpha=alpha, random_state=1)
    eps = 1e-9
    assert np.all(curve.i_ty <= curve.i_xt + eps)  # data processing: T - X - Y
    assert np.all(curve.i_ty <= curve.i_xy + eps)
    assert np.all(curve.i_xt <= curve.h_t + eps)
    assert np.all(curve.i_xt <= curve.h_x + eps)
    # Each kept solution is the best of its starts, so at least as good as the one-cluster T.
    assert np.all(curve.objective <= 1e-9)
    # At the largest beta (200) nearly all of I(X;Y) is kept.
    assert curve.i_ty[-1] >= curve.i_xy - 1e-3


def test_dib_assignments_are_one_hot():
    pxy = random_joint(20, 5, seed=9)
    curve = beta_sweep(pxy, BETAS, alpha=0.0, random_state=0)
    for s in curve.solutions:
        assert set(np.unique(s.encoder)) <= {0.0, 1.0}
        np.testing.assert_array_equal(s.encoder.sum(1), 1.0)
        assert s.h_t_given_x == 0.0 and s.i_xt == pytest.approx(s.h_t)


def test_hand_solved_four_point_toy():
    # x0, x1 -> y0 and x2, x3 -> y1, uniformly: two clusters {x0, x1}, {x2, x3} carry the full
    # bit about Y at I(X;T) = 1 bit; one cluster carries nothing. With I(X;T) = 1 and
    # I(T;Y) = 1 the IB cost is 1 - beta, so the two-cluster solution wins exactly when beta > 1.
    pxy = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.25], [0.0, 0.25]])
    for alpha in (1.0, 0.0):
        above = InformationBottleneck(beta=1.5, alpha=alpha, random_state=0).fit(pxy)
        assert above.n_clusters_ == 2
        assert (above.i_xt_, above.i_ty_) == (pytest.approx(1.0), pytest.approx(1.0))
        assert above.objective_ == pytest.approx(1.0 - 1.5)
        assert above.labels_[0] == above.labels_[1] != above.labels_[2] == above.labels_[3]
        below = InformationBottleneck(beta=0.8, alpha=alpha, random_state=0).fit(pxy)
        assert below.n_clusters_ == 1 and below.objective_ == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("beta", [1.2, 2.0, 4.0, 10.0])
def test_binary_symmetric_source_matches_the_closed_form(beta):
    # X uniform on {0, 1}, Y = X flipped with probability eps. The IB curve is
    # I(T;Y) = 1 - h(d * eps) at I(X;T) = 1 - h(d), with d * eps = d(1 - eps) + (1 - d) eps
    # (Mrs. Gerber's lemma; T = X through a binary symmetric channel of flip d), and the
    # trivial T is optimal up to beta_c = 1 / (1 - 2 eps)^2.
    eps = 0.1
    pxy = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])

    def cost(d):
        return (1 - h2(d)) - beta * (1 - h2(d * (1 - eps) + (1 - d) * eps))

    best = minimize_scalar(cost, bounds=(1e-12, 0.5), method="bounded", options={"xatol": 1e-12})
    model = InformationBottleneck(beta=beta, tol=1e-12, random_state=0).fit(pxy)
    if beta < 1 / (1 - 2 * eps) ** 2:
        assert model.n_clusters_ == 1 and model.i_xt_ == pytest.approx(0.0, abs=1e-9)
        return
    assert model.objective_ == pytest.approx(best.fun, abs=1e-8)
    # The flip probability of the found encoder, and the curve through it.
    d = brentq(lambda p: h2(p) - (1 - model.i_xt_), 1e-15, 0.5)
    assert d == pytest.approx(best.x, abs=1e-4)
    assert model.i_ty_ == pytest.approx(1 - h2(d * (1 - eps) + (1 - d) * eps), abs=1e-8)


# Sweeps, estimator, helpers ------------------------------------------------------------------


def test_sweep_is_reproducible_and_sorted():
    pxy = random_joint(10, 4, seed=10)
    a = beta_sweep(pxy, [5.0, 0.5, 2.0], random_state=3)
    b = beta_sweep(pxy, [5.0, 0.5, 2.0], random_state=3)
    np.testing.assert_array_equal(a.betas, [0.5, 2.0, 5.0])
    np.testing.assert_array_equal(a.objective, b.objective)
    d = a.to_dict()
    assert d["beta"] == [0.5, 2.0, 5.0] and len(d["found"]["beta"]) == 3 * 4


def test_soft_solutions_keep_no_duplicate_clusters():
    pxy = random_joint(30, 6, seed=11)
    curve = beta_sweep(pxy, [0.5, 2.0, 8.0, 30.0], random_state=0)
    for s in curve.solutions:
        gaps = np.abs(s.p_y_given_t[:, None] - s.p_y_given_t[None]).max(-1)
        np.fill_diagonal(gaps, 1.0)
        assert gaps.min() > ib_impl.MERGE_TOL


def test_zero_probability_rows_and_columns():
    pxy = np.zeros((4, 3))
    pxy[0, 0] = pxy[1, 0] = 0.25
    pxy[2, 2] = 0.5  # x3 and y1 never occur
    s = InformationBottleneck(beta=10.0, random_state=0).fit(pxy)
    assert s.encoder_.shape == (4, 2) and s.i_ty_ == pytest.approx(1.0)
    np.testing.assert_allclose(s.encoder_[3], s.p_t_)  # no evidence: the prior
    np.testing.assert_array_equal(s.p_y_given_t_[:, 1], 0.0)


def test_estimator_contract():
    pxy = random_joint(6, 3, seed=12)
    model = InformationBottleneck(beta=4.0, alpha=0.0, n_clusters=2, random_state=0)
    assert model.fit(pxy) is model
    assert model.encoder_.shape == (6, model.n_clusters_) and model.n_clusters_ <= 2
    np.testing.assert_array_equal(model.fit_predict(pxy), model.labels_)
    assert model.i_ty_ <= model.i_xy_ + 1e-12 and model.converged_


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"beta": -1.0}, ValueError, "beta must be a finite number >= 0"),
        ({"beta": "big"}, TypeError, "beta must be a number"),
        ({"alpha": 2.0}, ValueError, r"alpha must be in \[0, 1\]"),
        ({"n_restarts": 0}, ValueError, "n_restarts must be >= 1"),
        ({"n_clusters": 2.5}, TypeError, "n_clusters must be an int"),
        ({"tol": np.inf}, ValueError, "tol"),
    ],
)
def test_bad_settings_are_refused(kwargs, error, words):
    with pytest.raises(error, match=words):
        InformationBottleneck(**kwargs).fit(random_joint(3, 2, seed=0))


def test_empty_beta_grid_is_refused():
    with pytest.raises(ValueError, match="betas is empty"):
        beta_sweep(random_joint(3, 2, seed=0), [])


def test_upper_envelope():
    x = [0.0, 1.0, 1.0, 2.0, 3.0, 2.5]
    y = [0.0, 0.5, 0.4, 0.45, 0.9, 0.9]
    ex, ey = upper_envelope(x, y)
    np.testing.assert_array_equal(ex, [0.0, 1.0, 2.5])
    np.testing.assert_array_equal(ey, [0.0, 0.5, 0.9])


def test_importing_aekit_ib_does_not_import_torch():
    code = "import sys, aekit.ib; assert 'torch' not in sys.modules, 'torch was imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# Figures, examples and the command line -----------------------------------------------------


def test_figures_draw_and_check_their_input(tmp_path):
    from aekit.viz.figures import save_figure
    from aekit.viz.ib import cluster_assignments, information_plane

    pxy = random_joint(12, 4, seed=13)
    ib = beta_sweep(pxy, BETAS[:6], random_state=0)
    dib = beta_sweep(pxy, BETAS[:6], alpha=0.0, random_state=0)
    fig = information_plane({"IB": ib, "DIB": dib}, x="h_t", marks={"here": (1.0, 0.1)})
    assert save_figure(fig, tmp_path / "plane.png").stat().st_size > 10_000
    fig = cluster_assignments(
        ib.solutions[-1].encoder, groups=np.arange(12) % 3, weights=pxy.sum(1)
    )
    assert save_figure(fig, tmp_path / "clusters.png").stat().st_size > 5_000
    with pytest.raises(ValueError, match="'i_xt'"):
        information_plane(ib, x="bits")
    with pytest.raises(ValueError, match="one label per row"):
        cluster_assignments(np.eye(3), groups=[0, 1])


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


def invoke(runner, args, code=0):
    from aekit.cli import main

    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_cli_users_example_recovers_the_communities(runner, tmp_path):
    import json

    out = tmp_path / "users"
    args = ["ib", "example", "users", "--n-samples", 3000, "--restarts", 1, "--out", out]
    result = invoke(runner, args)
    assert "adjusted Rand index vs communities" in result.output
    results = json.loads((out / "results.json").read_text())
    assert {p.name for p in out.iterdir()} == {
        "results.json",
        "information_plane.png",
        "clusters.png",
    }
    fit = results["fit"]
    # Four planted communities; DIB at beta 5 finds them (plus a few tiny clusters of rare x).
    assert fit["alpha"] == 0.0 and 4 <= fit["n_clusters"] <= 8
    assert fit["adjusted_rand_index"] >= 0.7
    assert fit["adjusted_rand_index"] <= results["best_possible_adjusted_rand_index"] + 1e-9
    assert fit["i_ty_bits"] <= results["data"]["i_xy_bits"] + 1e-9


def test_cli_sequence_example_recovers_the_hidden_state(runner, tmp_path):
    import json

    out = tmp_path / "sequence"
    invoke(
        runner, ["ib", "example", "sequence", "--n-samples", 5000, "--restarts", 1, "--out", out]
    )
    results = json.loads((out / "results.json").read_text())
    fit = results["fit"]
    assert fit["alpha"] == 1.0 and fit["n_clusters"] == 3
    assert fit["adjusted_rand_index"] >= results["best_possible_adjusted_rand_index"] - 0.05
    # Along the capped curve the clusters split 1 -> 3 as beta grows.
    capped = results["capped_curve"]
    assert capped["n_clusters"][0] == 1 and capped["n_clusters"][-1] == 3


def test_cli_refuses_bad_options(runner, tmp_path):
    result = invoke(runner, ["ib", "example", "users", "--beta", -1, "--out", tmp_path], code=2)
    assert "--beta" in result.output
    result = invoke(runner, ["ib", "example", "weather"], code=2)
    assert "users" in result.output and "sequence" in result.output
    assert "example" in invoke(runner, ["ib", "--help"]).output
