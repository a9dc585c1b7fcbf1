"""RBMs against brute-force enumeration, closed forms and the exact likelihood gradient."""

import itertools
import math

import numpy as np
import pytest
import torch

from aekit import AutoencoderConfig, TrainConfig, Trainer, load_model
from aekit.rbm import RBM, RBMConfig
from aekit.train import fit_rbm_layer, pretrain_stacked, rbm_pretrainer, rbm_stack_pretrainer


def tiny_rbm(n_visible=6, n_hidden=4, visible="bernoulli", hidden="bernoulli", seed=0, scale=1.0):
    torch.manual_seed(seed)
    rbm = RBM(RBMConfig(n_visible=n_visible, n_hidden=n_hidden, visible=visible, hidden=hidden))
    with torch.no_grad():
        rbm.weight.normal_(0, scale)
        rbm.visible_bias.normal_(0, scale)
        rbm.hidden_bias.normal_(0, scale)
    return rbm.double()


def all_binary(n):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def test_free_energy_and_log_z_match_enumeration_of_both_layers():
    rbm = tiny_rbm()
    V, H = all_binary(6), all_binary(4)
    with torch.no_grad():
        E = torch.stack([rbm.energy(V, h.expand(len(V), -1)) for h in H], 1)  # (64, 16)
        brute_f = -torch.logsumexp(-E, 1)
        torch.testing.assert_close(rbm.free_energy(V), brute_f)
        brute_log_z = float(torch.logsumexp(-E.flatten(), 0))
    assert rbm.log_partition_exact() == pytest.approx(brute_log_z, rel=1e-12)
    # Enumerating the visible layer instead gives the same number.
    assert rbm.log_partition_exact(max_units=6) == pytest.approx(brute_log_z, rel=1e-12)


def test_conditionals_match_enumeration():
    rbm = tiny_rbm(seed=1)
    V, H = all_binary(6), all_binary(4)
    v = V[13:14]
    with torch.no_grad():
        joint = torch.softmax(-rbm.energy(v.expand(len(H), -1), H), 0)  # p(h | v)
        torch.testing.assert_close(joint @ H, rbm.hidden_mean(v)[0])
        h = H[5:6]
        pv = torch.softmax(-rbm.energy(V, h.expand(len(V), -1)), 0)  # p(v | h)
        torch.testing.assert_close(pv @ V, rbm.visible_mean(h)[0])


@pytest.mark.parametrize(
    ("visible", "hidden"),
    [("bernoulli", "bernoulli"), ("gaussian", "bernoulli"), ("bernoulli", "gaussian")],
)
def test_free_energy_identity_for_every_unit_type(visible, hidden):
    """F(v) = E(v, h) + log p(h | v) for any h: ties the free energy to the conditionals."""
    rbm = tiny_rbm(visible=visible, hidden=hidden, seed=2, scale=0.5)
    gen = torch.Generator().manual_seed(0)
    v = torch.rand(5, 6, generator=gen, dtype=torch.float64)
    if visible == "bernoulli":
        v = (v > 0.5).double()
    with torch.no_grad():
        mean = rbm.hidden_mean(v)
        if hidden == "bernoulli":
            h = (torch.rand(5, 4, generator=gen, dtype=torch.float64) > 0.5).double()
            log_p = (h * mean.log() + (1 - h) * (1 - mean).log()).sum(1)
        else:
            h = torch.randn(5, 4, generator=gen, dtype=torch.float64)
            log_p = -0.5 * (h - mean).pow(2).sum(1) - 2 * math.log(2 * math.pi)
        torch.testing.assert_close(rbm.free_energy(v), rbm.energy(v, h) + log_p)


def test_gaussian_visible_log_z_matches_numerical_integration():
    rbm = tiny_rbm(n_visible=1, n_hidden=3, visible="gaussian", seed=3, scale=0.7)
    grid = torch.linspace(-15, 15, 200001, dtype=torch.float64).unsqueeze(1)
    with torch.no_grad():
        integrand = torch.exp(-rbm.free_energy(grid))
    numeric = math.log(float(torch.trapezoid(integrand, grid[:, 0])))
    assert rbm.log_partition_exact() == pytest.approx(numeric, rel=1e-8)


def test_ais_estimate_is_close_to_exact_log_z():
    # Weights of scale 1 make the annealing path matter: 10 temperatures miss by about 0.08
    # with a spread of 0.12, so fixed bounds (not ones that widen with the spread) are the test.
    # 2000 temperatures, AIS seeds 0-5: off by -0.010 to +0.021, sd 0.006 (seed 0: +0.005).
    rbm = tiny_rbm(n_visible=20, n_hidden=8, seed=4, scale=1.0).float()
    exact = rbm.log_partition_exact()
    est, sd = rbm.log_partition_ais(n_betas=2000, n_runs=200, seed=0)
    assert sd < 0.02 and abs(est - exact) < 0.03, (est, exact, sd)


def test_ais_is_exact_when_the_base_model_is_the_model():
    # With W = 0 the model factorizes: log Z = sum_i softplus(b_i) + sum_j softplus(c_j). With
    # the base rate equal to b, every step's log weight is sum_j softplus(beta_k c_j) -
    # softplus(beta_(k-1) c_j), the same for every run and every sample, and the sum telescopes
    # to sum_j softplus(c_j) - n_hidden log 2; the base's log Z adds sum_i softplus(b_i) +
    # n_hidden log 2 back. So AIS is exact up to rounding, and a mean of the importance weights
    # divided by n_runs - 1 (log(100/99) = 0.01 nats too high) cannot hide.
    rbm = tiny_rbm(n_visible=10, n_hidden=5, seed=3, scale=2.0)
    with torch.no_grad():
        rbm.weight.zero_()
    b = rbm.visible_bias.detach().numpy()
    c = rbm.hidden_bias.detach().numpy()
    exact = float(np.logaddexp(0, b).sum() + np.logaddexp(0, c).sum())
    assert rbm.log_partition_exact() == pytest.approx(exact, abs=1e-12)
    est, sd = rbm.log_partition_ais(
        n_betas=500, n_runs=100, base_visible_bias=rbm.visible_bias.detach(), seed=0
    )
    assert abs(est - exact) < 1e-12 and sd < 1e-12, (est, exact, sd)


def test_cd1_gradient_points_along_exact_likelihood_gradient():
    rbm = tiny_rbm(seed=5, scale=0.3)
    gen = torch.Generator().manual_seed(1)
    data = (torch.rand(40, 6, generator=gen, dtype=torch.float64) < 0.3).double()
    params = [rbm.weight, rbm.visible_bias, rbm.hidden_bias]
    # Exact gradient of the mean negative log-likelihood, by enumeration.
    nll = rbm.free_energy(data).mean() + torch.logsumexp(-rbm.free_energy(all_binary(6)), 0)
    exact = torch.cat([g.flatten() for g in torch.autograd.grad(nll, params)])
    torch.manual_seed(0)
    cd = torch.zeros_like(exact)
    for _ in range(200):
        loss, _ = rbm.loss(data)
        cd += torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)])
    cos = float(cd @ exact / (cd.norm() * exact.norm()))
    assert cos > 0.8, cos


def prototype_data(n=300, d=12, seed=0):
    rng = np.random.default_rng(seed)
    protos = rng.random((3, d)) < 0.5
    x = protos[rng.integers(0, 3, n)]
    flip = rng.random(x.shape) < 0.05
    return (x ^ flip).astype(np.float32)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_raises_exact_log_likelihood(persistent):
    x = prototype_data()
    torch.manual_seed(0)
    rbm = RBM(RBMConfig(n_visible=12, n_hidden=6, persistent=persistent, n_chains=50))

    def mean_ll():
        v = torch.from_numpy(x).double()
        with torch.no_grad():
            return float(-rbm.double().free_energy(v).mean() - rbm.log_partition_exact())

    before = mean_ll()
    rbm.float()
    cfg = TrainConfig(
        epochs=30,
        batch_size=20,
        optimizer="sgd",
        lr=0.05,
        momentum=0.5,
        val_fraction=0,
        progress=False,
    )
    Trainer(rbm, cfg).fit(x)
    after = mean_ll()
    # 3 prototypes with 5% flips: the entropy bound is about 12 * H(0.05) + log 3 = 3.5 nats.
    assert after > before + 2.0 and after > -6.5, (before, after)


@pytest.mark.parametrize("hidden", ["bernoulli", "gaussian"])
def test_pseudo_likelihood_matches_enumeration(hidden):
    rbm = tiny_rbm(seed=6, hidden=hidden, scale=0.5)
    V = all_binary(6)
    v = V[[3, 40, 63]]
    with torch.no_grad():
        log_p = -rbm.free_energy(V)
        brute = torch.zeros(3, dtype=torch.float64)
        for i in range(6):
            flipped = v.clone()
            flipped[:, i] = 1 - flipped[:, i]
            idx = (v * 2 ** torch.arange(5, -1, -1)).sum(1).long()
            idx_f = (flipped * 2 ** torch.arange(5, -1, -1)).sum(1).long()
            brute += log_p[idx] - torch.logaddexp(log_p[idx], log_p[idx_f])
        torch.testing.assert_close(rbm.pseudo_log_likelihood(v), brute)
        est = torch.stack([rbm.pseudo_log_likelihood(v, exact=False) for _ in range(3000)])
        torch.testing.assert_close(est.mean(0), brute, rtol=0.05, atol=0.05)


def test_unrolled_rbm_stack_reproduces_up_pass_codes():
    x = prototype_data(n=200, d=12)
    cfg = AutoencoderConfig(layers=[12, 8, 3], activation="logistic", code_activation="linear")
    inner = rbm_pretrainer(cfg, train_overrides={"epochs": 3, "progress": False})
    trained = []

    def capture(h, index, n_in, n_out):
        rbm, codes = inner(h, index, n_in, n_out)
        trained.append(rbm)
        return rbm, codes

    deep = pretrain_stacked(cfg, x, pretrainer=capture)
    assert [r.config.hidden for r in trained] == ["bernoulli", "gaussian"]  # linear code units
    # Unrolling: encoder k is RBM k's (W, c); the mirrored decoder layer is (W^T, b).
    n = len(trained)
    for k, rbm in enumerate(trained):
        torch.testing.assert_close(deep.encoder.linears[k].weight, rbm.weight)
        torch.testing.assert_close(deep.encoder.linears[k].bias, rbm.hidden_bias)
        torch.testing.assert_close(deep.decoder.linears[n - 1 - k].weight, rbm.weight.T)
        torch.testing.assert_close(deep.decoder.linears[n - 1 - k].bias, rbm.visible_bias)
    # Before fine-tuning the deep encoder's codes are the stack's up-pass codes.
    h = x
    for rbm in trained:
        h = rbm.transform(h)
    np.testing.assert_allclose(deep.transform(x), h, rtol=1e-5, atol=1e-6)
    # ... and its reconstruction is the stack's down pass from those codes (logits through
    # the RBMs' visible means, as the decoder's last layer outputs Bernoulli logits).
    down = torch.from_numpy(h)
    with torch.no_grad():
        for rbm in reversed(trained):
            down = rbm.visible_mean(down)
    np.testing.assert_allclose(deep.reconstruct(x), down.numpy(), rtol=1e-5, atol=1e-6)


def test_a_stacked_layer_depends_on_its_seed_not_on_the_global_rng(tmp_path):
    """Every RBM stack trains its layers through fit_rbm_layer: the same seed gives the same
    layer whatever ran before, and the resumable reproduction path agrees with the plain one."""
    x = prototype_data(n=200, d=12)
    cfg = RBMConfig(n_visible=12, n_hidden=5)
    settings = {"epochs": 2, "progress": False}
    torch.manual_seed(123)
    a = rbm_stack_pretrainer([cfg], settings)(x, 0, 12, 5)[0]
    torch.rand(1000)  # moves the global generator
    b = fit_rbm_layer(cfg, x, 0, **settings)
    c = fit_rbm_layer(cfg, x, 0, run_dir=tmp_path / "run", **settings)
    for other in (b, c):
        torch.testing.assert_close(other.weight, a.weight, rtol=0, atol=0)
        torch.testing.assert_close(other.hidden_bias, a.hidden_bias, rtol=0, atol=0)
    assert not torch.equal(fit_rbm_layer(cfg, x, 1, **settings).weight, a.weight)


def test_rbm_save_load_with_persistent_chains(tmp_path):
    x = prototype_data(n=100)
    rbm = RBM(RBMConfig(n_visible=12, n_hidden=5, persistent=True, n_chains=10))
    Trainer(
        rbm, TrainConfig(epochs=1, batch_size=20, optimizer="sgd", lr=0.05, progress=False)
    ).fit(x)
    rbm.save(tmp_path / "rbm")
    loaded = load_model(tmp_path / "rbm")
    assert isinstance(loaded, RBM) and loaded.chains.shape == (10, 12)
    torch.testing.assert_close(loaded.chains, rbm.chains)
    np.testing.assert_array_equal(loaded.transform(x), rbm.transform(x))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (np.full((5, 12), 1.5, dtype=np.float32), r"\[0, 1\]"),
        (np.zeros((5, 7), dtype=np.float32), "12 visible"),
        (np.full((5, 12), np.nan, dtype=np.float32), "NaN"),
    ],
)
def test_rbm_bad_input(data, match):
    rbm = RBM(RBMConfig(n_visible=12, n_hidden=3))
    with pytest.raises(ValueError, match=match):
        Trainer(rbm, TrainConfig(progress=False)).fit(data)


def test_rbm_bad_config():
    with pytest.raises(ValueError, match="normalizable"):
        RBMConfig(visible="gaussian", hidden="gaussian")
    with pytest.raises(ValueError, match="visible units"):
        RBMConfig(visible="poisson")
    with pytest.raises(ValueError, match="logistic"):
        rbm_pretrainer(AutoencoderConfig(layers=[4, 3, 2], activation="relu"))


def test_dbn_up_pass_and_samples_resemble_the_data(tmp_path):
    from aekit.rbm import DBN, DBNConfig
    from aekit.train import train_dbn

    x = prototype_data(n=600, d=12, seed=1)
    overrides = {"epochs": 40, "lr": 0.05, "progress": False}
    dbn = train_dbn(DBNConfig(layers="12-16-8", weight_decay=0.0), x, overrides)
    # The up pass is the composition of the layers' hidden means.
    h = dbn.rbms[1].transform(dbn.rbms[0].transform(x))
    np.testing.assert_allclose(dbn.transform(x), h, rtol=1e-6)
    # Samples land near the three prototypes far more often than random bits do.
    protos = np.unique((x > 0.5), axis=0, return_counts=True)
    top3 = protos[0][np.argsort(protos[1])[-3:]].astype(np.float32)
    samples = dbn.sample(200, n_gibbs=200, seed=0).numpy()
    again = dbn.sample(200, n_gibbs=200, seed=0).numpy()
    np.testing.assert_array_equal(samples, again)  # reproducible from the seed

    def mean_distance(s):
        return np.abs(s[:, None, :] - top3[None]).sum(-1).min(1).mean()

    rand = np.random.default_rng(0).random((200, 12)).round()
    assert mean_distance(samples.round()) < 0.3 * mean_distance(rand)
    dbn.save(tmp_path / "dbn")
    loaded = load_model(tmp_path / "dbn")
    assert isinstance(loaded, DBN)
    np.testing.assert_array_equal(loaded.transform(x), dbn.transform(x))


@pytest.mark.parametrize(
    ("visible", "hidden", "up_scale", "n_neg"),
    [
        ("bernoulli", "bernoulli", 1.0, 7),
        ("gaussian", "bernoulli", 1.0, 7),
        ("bernoulli", "gaussian", 1.0, 7),
        ("bernoulli", "bernoulli", 2.0, 7),
        ("bernoulli", "bernoulli", 1.0, 3),  # PCD: fewer chains than the batch
        ("softmax", "bernoulli", 1.0, 7),  # replicated softmax: counts, hidden bias times D
        ("softmax", "bernoulli", 1.0, 3),
    ],
)
def test_cd_backward_equals_autograd_of_free_energy_gap(visible, hidden, up_scale, n_neg):
    from aekit.rbm.rbm import _ContrastiveDivergence

    torch.manual_seed(0)
    rbm = RBM(
        RBMConfig(n_visible=6, n_hidden=4, visible=visible, hidden=hidden, up_scale=up_scale)
    ).double()
    v0 = torch.rand(7, 6, dtype=torch.float64)
    v_neg = torch.rand(n_neg, 6, dtype=torch.float64)
    if visible == "softmax":  # word counts of documents of different lengths
        v0 = torch.randint(0, 5, (7, 6)).double()
        v_neg = torch.randint(0, 5, (n_neg, 6)).double()
    params = [rbm.weight, rbm.visible_bias, rbm.hidden_bias]
    gap = rbm.free_energy(v0).mean() - rbm.free_energy(v_neg).mean()
    expected = torch.autograd.grad(gap, params)
    with torch.no_grad():
        ph0, ph_neg = rbm.hidden_mean(v0), rbm.hidden_mean(v_neg)
    hb0, hb_neg = ph0, ph_neg
    if visible == "softmax":
        hb0, hb_neg = ph0 * v0.sum(-1, keepdim=True), ph_neg * v_neg.sum(-1, keepdim=True)
    stats = (v0, ph0, v_neg, ph_neg, hb0, hb_neg, torch.zeros((), dtype=torch.float64))
    value = _ContrastiveDivergence.apply(*params, *stats, up_scale, 0.0)
    for got, want in zip(torch.autograd.grad(value, params), expected, strict=True):
        torch.testing.assert_close(got, want)
    # The weight cost adds decay * W to the weight gradient only.
    value = _ContrastiveDivergence.apply(*params, *stats, up_scale, 0.3)
    got = torch.autograd.grad(value, params)
    torch.testing.assert_close(got[0], expected[0] + 0.3 * rbm.weight.detach())
    torch.testing.assert_close(got[1], expected[1])
    # An upstream gradient (a scaled loss, DDP's per-rank share) scales all of it.
    got = torch.autograd.grad(
        -2.5 * _ContrastiveDivergence.apply(*params, *stats, up_scale, 0.3), params
    )
    torch.testing.assert_close(got[0], -2.5 * (expected[0] + 0.3 * rbm.weight.detach()))
    torch.testing.assert_close(got[2], -2.5 * expected[2])
