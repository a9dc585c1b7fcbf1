"""aekit.ib.curve: every beta gets the best solution a sweep holds, DIB's returned cost equals
the optimum found by enumerating every hard clustering, the automatic curve spans the plane
with no gap it does not report, the compiled kernels against NumPy, and `aekit ib curve`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import entr

from aekit.ib import InformationBottleneck, beta_sweep, check_joint, ib_curve
from aekit.ib import bottleneck as ib_impl

LN2 = np.log(2.0)


def random_joint(n_x: int, n_y: int, seed: int, concentration: float = 0.5) -> np.ndarray:
    p = np.random.default_rng(seed).dirichlet(np.full(n_x * n_y, concentration))
    return p.reshape(n_x, n_y)


def found_costs(curve, beta: float) -> np.ndarray:
    """The cost at beta of every solution the sweep stored, from its reported measures."""
    f = curve.found
    return f["h_t"] - curve.alpha * f["h_t_given_x"] - beta * f["i_ty"]


# Every point at the best solution the sweep holds ------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("auto", [False, True])
def test_each_beta_returns_the_cheapest_stored_solution(alpha, auto):
    pxy = random_joint(14, 5, seed=3)
    if auto:
        curve = ib_curve(pxy, alpha=alpha, random_state=0)
    else:
        curve = beta_sweep(pxy, np.linspace(0.01, 5, 30), alpha=alpha, random_state=0)
    assert len(curve.found["beta"]) >= 4 * len(curve.betas) // 2
    for beta, s in zip(curve.betas, curve.solutions):
        assert s.objective <= found_costs(curve, beta).min() + 1e-12
        # The reported objective is the encoder's own, at this beta.
        assert s.objective == pytest.approx(s.h_t - alpha * s.h_t_given_x - beta * s.i_ty)


def test_a_clustering_found_at_one_beta_improves_the_others():
    # The flaw of annealing from the largest beta down alone: each beta starts from its
    # larger neighbour, so a better clustering found lower on the grid never flows back up.
    # Here the down pass alone (one annealed start per beta) leaves betas whose own solution
    # costs more than one found elsewhere; the sweep iterates those again from the better
    # one (adding to ``found``), and what it returns beats every stored solution.
    pxy = random_joint(40, 6, seed=11, concentration=0.3)
    betas = np.linspace(0.01, 5, 30)
    curve = beta_sweep(pxy, betas, alpha=0.0, n_restarts=1, random_state=1)
    down_pass = 2 * len(betas)  # the one-cluster candidate and one start per beta
    f = curve.found
    first = {
        b: np.min((f["h_t"] - b * f["i_ty"])[:down_pass][f["beta"][:down_pass] == b]) for b in betas
    }
    elsewhere = [np.min((f["h_t"] - b * f["i_ty"])[:down_pass]) for b in betas]
    assert any(first[b] > e + 1e-3 for b, e in zip(betas, elsewhere))
    assert len(f["beta"]) > down_pass
    for beta, cost in zip(curve.betas, curve.objective):
        assert cost <= found_costs(curve, beta).min() + 1e-12
        assert cost <= first[beta] + 1e-12


# DIB against enumeration ---------------------------------------------------------------------


def set_partitions(n: int):
    """Every clustering of n items as a label list (restricted growth strings)."""

    def grow(prefix, top):
        if len(prefix) == n:
            yield prefix
            return
        for k in range(top + 2):
            yield from grow([*prefix, k], max(top, k))

    yield from grow([0], 0)


def dib_plane(pxy: np.ndarray) -> np.ndarray:
    """(H(T), I(T;Y)) in bits of every hard clustering of X."""
    h_y = entr(pxy.sum(0)).sum() / LN2
    points = []
    for labels in set_partitions(pxy.shape[0]):
        qty = np.zeros((max(labels) + 1, pxy.shape[1]))
        np.add.at(qty, np.array(labels), pxy)
        h_t = entr(qty.sum(1)).sum() / LN2
        points.append((h_t, h_y + h_t - entr(qty).sum() / LN2))
    return np.array(points)


def test_enumeration_counts_the_bell_numbers():
    assert [sum(1 for _ in set_partitions(n)) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]


@pytest.mark.parametrize("seed", range(12))
def test_dib_returns_the_optimum_of_every_hard_clustering(seed):
    rng = np.random.default_rng(seed)
    n_x, n_y = int(rng.integers(3, 7)), int(rng.integers(2, 5))
    pxy = random_joint(n_x, n_y, seed=100 + seed, concentration=float(rng.choice([0.3, 1.0])))
    plane = dib_plane(pxy)

    def optimum(beta):
        return np.min(plane[:, 0] - beta * plane[:, 1])

    grid = beta_sweep(pxy, np.geomspace(0.5, 50, 15), alpha=0.0, random_state=seed)
    auto = ib_curve(pxy, alpha=0.0, random_state=seed)
    for curve in (grid, auto):
        for beta, cost in zip(curve.betas, curve.objective):
            assert cost == pytest.approx(optimum(beta), abs=1e-9)
    # A reported gap is an edge of the hull: at its beta both ends are optimal.
    for gap in auto.gaps:
        assert gap["reason"] == "optimal at one beta"
        beta = gap["beta"]
        left = gap["x_left"] - beta * gap["i_ty_left"]
        right = gap["x_right"] - beta * gap["i_ty_right"]
        assert left == pytest.approx(right, abs=1e-9)
        assert left == pytest.approx(optimum(beta), abs=1e-9)


def test_dib_search_ends_where_no_single_move_or_merge_helps():
    pxy = random_joint(25, 6, seed=7, concentration=0.4)
    problem = ib_impl._prepare(check_joint(pxy))
    beta = 4.0
    fit = ib_impl._solve(problem, np.eye(25), beta, 0.0, 1e-5, 1000, 25)
    labels = np.argmax(fit.encoder, 1)

    def cost(lab):
        qty = np.zeros((25, pxy.shape[1]))
        np.add.at(qty, lab, pxy)
        h_t = entr(qty.sum(1)).sum() / LN2
        return h_t - beta * (h_t - entr(qty).sum() / LN2)  # up to beta H(Y)

    here = cost(labels)
    assert here == pytest.approx(fit.objective + beta * problem.h_y, abs=1e-9)
    k = labels.max() + 1
    for x in range(25):
        for t in range(k + 1):  # k: a new cluster of its own
            moved = labels.copy()
            moved[x] = t
            assert cost(moved) >= here - 1e-12
    for a in range(k):
        for b in range(a + 1, k):
            assert cost(np.where(labels == b, a, labels)) >= here - 1e-12


# The automatic curve -------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_auto_curve_spans_the_plane_without_unreported_gaps(alpha):
    pxy = random_joint(30, 6, seed=5, concentration=0.3)
    curve = ib_curve(pxy, alpha=alpha, random_state=0)
    x = curve.h_t if alpha == 0 else curve.i_xt
    assert curve.betas[0] == 1.0 and curve.n_clusters[0] == 1 and curve.i_ty[0] == 0.0
    assert curve.i_ty[-1] >= 0.99 * curve.i_xy and curve.settings["coverage_reached"]
    assert np.all(np.diff(curve.betas) > 0)
    assert np.all(np.diff(x) >= -1e-9) and np.all(np.diff(curve.i_ty) >= -1e-9)
    span = x[-1] - x[0]
    reported = {(round(g["x_left"], 9), round(g["x_right"], 9)) for g in curve.gaps}
    for left, right in zip(x[:-1], x[1:]):
        if right - left > 0.05 * span:
            assert (round(left, 9), round(right, 9)) in reported
    for gap in curve.gaps:
        # Nothing the curve found beats both ends at the beta where they tie.
        tie = gap["x_left"] - gap["beta"] * gap["i_ty_left"]
        if alpha == 1.0:
            assert found_costs(curve, gap["beta"]).min() >= tie - 10 * curve.settings["tol"]
        assert gap["x_right"] - gap["x_left"] > 0.05 * span


def test_auto_curve_is_as_good_as_a_fine_grid():
    # ib_curve refines until the optimal curve between neighbours can lie at most
    # ``resolution`` bits above the chord joining them; so every point a sweep over a fine
    # grid finds within the curve's span lies at most that far above the chords.
    pxy = random_joint(10, 4, seed=9, concentration=0.6)
    auto = ib_curve(pxy, random_state=0)
    grid = beta_sweep(pxy, np.geomspace(1.0, auto.betas[-1], 80), random_state=0)
    above = grid.i_ty - np.interp(grid.i_xt, auto.i_xt, auto.i_ty)
    assert above.max() <= auto.settings["resolution"]
    # and at each beta the curve's best cost is that much times beta from the grid's
    hull = np.array([found_costs(auto, b).min() for b in grid.betas])
    assert np.all(hull <= grid.objective + grid.betas * auto.settings["resolution"])
    # (measured: 4e-4 bits at most; the bound is 0.002)
    assert above.max() <= 1e-3


def test_auto_curve_of_independent_variables_is_one_cluster():
    rng = np.random.default_rng(4)
    pxy = np.outer(rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(3)))
    curve = ib_curve(pxy, random_state=0)
    assert len(curve.betas) == 1 and curve.n_clusters[0] == 1 and not curve.gaps


def test_auto_curve_jumps_on_a_deterministic_joint_and_reports_it():
    # y = x mod 3: DIB's only optima are one cluster and T = f(X) (H(T) = I(T;Y) = H(Y)), so
    # the curve is one gap from (0, 0) to (H(Y), H(Y)), optimal together at beta = 1.
    px = np.random.default_rng(6).dirichlet(np.ones(9))
    pxy = np.zeros((9, 3))
    pxy[np.arange(9), np.arange(9) % 3] = px
    curve = ib_curve(pxy, alpha=0.0, random_state=0)
    h_y = curve.h_y
    assert curve.i_ty[-1] == pytest.approx(h_y) and curve.h_t[-1] == pytest.approx(h_y)
    assert len(curve.gaps) == 1 and curve.gaps[0]["beta"] == pytest.approx(1.0)
    assert curve.gaps[0]["x_right"] == pytest.approx(h_y)


def test_beta_sweep_auto_is_ib_curve():
    pxy = random_joint(8, 3, seed=2)
    a = beta_sweep(pxy, "auto", alpha=0.0, random_state=1)
    b = ib_curve(pxy, alpha=0.0, random_state=1)
    np.testing.assert_array_equal(a.betas, b.betas)
    np.testing.assert_array_equal(a.objective, b.objective)
    assert a.to_dict()["gaps"] == b.to_dict()["gaps"]
    json.dumps(a.to_dict())  # JSON-ready, numbers and all


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"gap": 0.0}, "gap must be a fraction"),
        ({"coverage": 1.0}, "coverage must be in"),
        ({"max_betas": 1}, "max_betas must be >= 2"),
        ({"resolution": -1.0}, "resolution must be a finite number >= 0"),
    ],
)
def test_auto_curve_refuses_bad_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        ib_curve(random_joint(4, 3, seed=0), **kwargs)
    with pytest.raises(ValueError, match="'auto'"):
        beta_sweep(random_joint(4, 3, seed=0), "automatic")


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.array([[0.6, -0.1], [0.3, 0.2]]), r"negative.*np.clip"),
        (np.array([[np.nan, 0.5], [0.25, 0.25]]), "NaN"),
        (np.zeros((0, 3)), r"empty \(shape \(0, 3\)\).*a row per value of X"),
        (np.zeros((3, 0)), r"empty \(shape \(3, 0\)\)"),
        (np.full((2, 2), 0.3), r"sums to 1.2.*p / p.sum\(\)"),
        (np.array([[0.5, 0.5]]), r"single row.*pxy.T"),
        (np.array([[0.5], [0.5]]), r"single column.*pxy.T"),
    ],
)
def test_every_public_ib_function_refuses_bad_joints_naming_the_fix(bad, words):
    for call in (
        lambda p: beta_sweep(p, [1.0]),
        lambda p: ib_curve(p),
        lambda p: InformationBottleneck().fit(p),
    ):
        with pytest.raises(ValueError, match=words):
            call(bad)


# Compiled kernels against NumPy -------------------------------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 0.4])
def test_compiled_soft_step_matches_numpy(alpha):
    from aekit.ib import _soft

    pxy = random_joint(9, 5, seed=12)
    pxy[0, :2] = 0.0  # a zero of q(y|t) meets p(y|x) > 0 (an infinite KL)
    pxy /= pxy.sum()
    problem = ib_impl._prepare(check_joint(pxy))
    encoder = np.random.default_rng(3).dirichlet(np.ones(4), size=9)
    encoder[:, 3] = np.where(pxy[:, :2].sum(1) > 0, 1.0, 0.0)  # cluster 3 never emits y0, y1
    encoder /= encoder.sum(1, keepdims=True)
    new, steps, _ = _soft.solve(
        problem.pxy,
        problem.px,
        problem.py_x_and_1,
        problem.support,
        problem.hash_weights,
        encoder.copy(),
        3.0,
        alpha,
        -1.0,
        1,
        ib_impl.MERGE_EVERY,
        ib_impl.MERGE_TOL,
        ib_impl.EMPTY,
        ib_impl.INF_KL,
    )
    assert steps == 1
    np.testing.assert_allclose(new, ib_impl._step(problem, encoder, 3.0, alpha), atol=1e-13)


def test_compiled_exp_matches_numpy():
    from aekit.ib._soft import _exp_nonpositive

    z = -np.concatenate([np.geomspace(1e-300, 700, 5000), [0.0, 708.0, 709.0, 1e6, np.inf]])
    out = z.copy()
    _exp_nonpositive(out, np.empty(len(z), dtype=np.int64))
    ref = np.exp(z)
    normal = ref > 1e-300
    np.testing.assert_allclose(out[normal], ref[normal], rtol=1e-14)
    assert np.all(out[~normal] <= 1e-300) and np.all(out >= 0)


# The command line ------------------------------------------------------------------------------


def test_run_curve_writes_points_and_figure(tmp_path):
    from aekit.experiments.ib_curve import format_curve_summary, run_curve

    pxy = random_joint(12, 4, seed=8, concentration=0.4)
    np.save(tmp_path / "joint.npy", pxy)
    results = run_curve(tmp_path / "joint.npy", tmp_path / "out", alpha=0.0, seed=1)
    stored = json.loads((tmp_path / "out" / "curve.json").read_text())
    assert stored["points"] == results["points"]
    assert (tmp_path / "out" / "information_plane.png").stat().st_size > 10_000
    curve = ib_curve(pxy, alpha=0.0, random_state=1)
    assert [p["beta"] for p in stored["points"]] == curve.betas.tolist()
    assert [p["i_ty"] for p in stored["points"]] == curve.i_ty.tolist()
    assert stored["i_xy_bits"] == pytest.approx(curve.i_xy) and stored["x_axis"] == "h_t"
    assert len(stored["gaps"]) == len(curve.gaps)
    assert "DIB curve of p(x, y) 12 x 4" in format_curve_summary(results)


def test_cli_curve(tmp_path):
    from click.testing import CliRunner

    from aekit.cli import main

    runner = CliRunner()
    pxy = random_joint(10, 3, seed=4)
    np.save(tmp_path / "pxy.npy", pxy)
    out = tmp_path / "run"
    done = runner.invoke(
        main, ["ib", "curve", str(tmp_path / "pxy.npy"), "--alpha", "0", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "DIB curve" in done.output and "curve.json" in done.output
    stored = json.loads((out / "curve.json").read_text())
    assert stored["alpha"] == 0.0 and stored["points"][-1]["i_ty"] >= 0.99 * stored["i_xy_bits"]
    assert (out / "information_plane.png").exists()

    np.save(tmp_path / "bad.npy", np.full((3, 3), 0.2))
    done = runner.invoke(main, ["ib", "curve", str(tmp_path / "bad.npy")])
    assert done.exit_code == 1 and "p / p.sum()" in done.output and "Traceback" not in done.output
    np.save(tmp_path / "cube.npy", np.full((2, 2, 2), 0.125))
    done = runner.invoke(main, ["ib", "curve", str(tmp_path / "cube.npy")])
    assert done.exit_code == 1 and "2-D" in done.output
    done = runner.invoke(main, ["ib", "curve", str(tmp_path / "missing.npy")])
    assert done.exit_code == 1 and "numpy.save" in done.output
    done = runner.invoke(main, ["ib", "curve", str(tmp_path / "pxy.npy"), "--alpha", "2"])
    assert done.exit_code == 2 and "--alpha" in done.output
