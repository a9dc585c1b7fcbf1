"""Stochastic codes (aekit.latent), the VIB classifier, and the trainer's targets and EMA."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Normal, kl_divergence

from aekit import TrainConfig, Trainer
from aekit.latent import (
    LOG_VAR_RANGE,
    GaussianCode,
    gaussian_kl_standard,
    gaussian_log_density,
    reparameterize,
)
from aekit.models import Model, VIBClassifier, VIBConfig
from aekit.models.vib import mixture_log_predictive


def blobs(n=600, d=20, k=4, sep=3.0, seed=0):
    """``k`` Gaussian classes in ``d`` dimensions, separable at ``sep`` standard deviations."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * sep / math.sqrt(2)
    y = rng.integers(0, k, size=n)
    x = centres[y] + rng.normal(size=(n, d))
    return x.astype(np.float32), y


def states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# aekit.latent ----------------------------------------------------------------------------------


def test_gaussian_kl_matches_torch_distributions_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=g, dtype=torch.float64)
    log_var = torch.randn(5, 3, generator=g, dtype=torch.float64)
    ours = gaussian_kl_standard(mu, log_var)
    ref = kl_divergence(Normal(mu, (0.5 * log_var).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(ours, ref)
    # Monte Carlo: E_q[log q(z) - log p(z)] with 200,000 draws, within 4 standard errors.
    torch.manual_seed(1)
    z = reparameterize(mu, log_var, 200_000)  # (S, 5, 3)
    log_ratio = gaussian_log_density(z, mu, log_var) - gaussian_log_density(
        z, torch.zeros_like(mu), torch.zeros_like(log_var)
    )
    mc, se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(z.shape[0])
    assert torch.all((mc - ours).abs() < 4 * se + 1e-6)


def test_gaussian_log_density_matches_normal_log_prob():
    g = torch.Generator().manual_seed(2)
    z, mu, log_var = (torch.randn(4, 6, generator=g, dtype=torch.float64) for _ in range(3))
    ref = Normal(mu, (0.5 * log_var).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(gaussian_log_density(z, mu, log_var), ref)


def test_reparameterized_samples_have_the_posterior_moments_and_carry_gradients():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    log_var = torch.tensor([0.0, math.log(0.25)], requires_grad=True)
    torch.manual_seed(0)
    z = reparameterize(mu, log_var, 100_000)
    torch.testing.assert_close(z.mean(0), mu.detach(), atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 0.5]), atol=0.01, rtol=0)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.full((2,), 100_000.0))
    # z = mu + exp(log_var / 2) eps, so dz/dlog_var = exp(log_var / 2) eps / 2 = (z - mu) / 2.
    torch.testing.assert_close(log_var.grad, 0.5 * (z - mu).sum(0).detach(), rtol=1e-4, atol=0.5)


def test_log_var_is_clamped_so_an_overflowing_unit_keeps_the_kl_finite():
    head = GaussianCode(2, "log_var")
    h = torch.tensor([[0.0, 0.0, 1e4, -1e4]])  # one unit overflowing each way
    mu, log_var = head(h)
    assert log_var.tolist() == [[LOG_VAR_RANGE[1], LOG_VAR_RANGE[0]]]
    assert torch.isfinite(gaussian_kl_standard(mu, log_var)).all()
    # Unclamped, the same output is the NaN the clamp exists for.
    assert not torch.isfinite(gaussian_kl_standard(mu, h[:, 2:])).all()


def test_softplus_scale_is_alemis():
    head = GaussianCode(1, "softplus")
    _, log_var = head(torch.tensor([[0.3, 2.0]]))
    sigma = math.log1p(math.exp(2.0 - 5.0))
    assert float((0.5 * log_var).exp()) == pytest.approx(sigma, rel=1e-5)
    with pytest.raises(ValueError, match="parameterization"):
        GaussianCode(1, "exp")


def test_mixture_log_predictive_is_log_of_mean_softmax():
    logits = torch.randn(7, 3, 5, dtype=torch.float64)
    ref = torch.softmax(logits, -1).mean(0).log()
    torch.testing.assert_close(mixture_log_predictive(logits), ref)


# The VIB classifier ----------------------------------------------------------------------------


def test_vib_loss_is_cross_entropy_plus_beta_kl_of_the_same_draw():
    torch.manual_seed(0)
    model = VIBClassifier(layers="20-16-4", n_classes=4, beta=0.1, n_train_samples=3)
    x, y = blobs(n=8)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(5)
    loss, terms = model.loss(xt, yt)
    # By hand: the same noise, the same formulas written out.
    torch.manual_seed(5)
    h = model.encoder(xt)
    mu, raw = h[:, :4], h[:, 4:]
    sigma = nn.functional.softplus(raw - 5) + 1e-8
    z = mu + sigma * torch.randn(3, 8, 4)
    log_q = torch.log_softmax(model.classifier(z), -1)  # (3, 8, 4)
    ce = -log_q[:, torch.arange(8), yt].mean()
    kl = (0.5 * (mu**2 + sigma**2 - 2 * sigma.log() - 1)).sum(-1).mean()
    torch.testing.assert_close(terms["ce"], ce)
    torch.testing.assert_close(terms["kl"], kl)
    torch.testing.assert_close(loss, ce + 0.1 * kl)


def fit_vib(beta, epochs=30, seed=0):
    x, y = blobs(seed=seed)
    torch.manual_seed(seed)
    model = VIBClassifier(layers="20-32-8", n_classes=4, beta=beta)
    cfg = TrainConfig(epochs=epochs, batch_size=50, lr=3e-3, val_fraction=0, progress=False)
    Trainer(model, cfg).fit(x[:400], y_train=y[:400])
    return model, x[400:], y[400:]


def test_beta_trades_information_about_x_for_accuracy():
    """Small beta learns the classes at a large rate; a huge beta squeezes the rate (the bound
    on I(Z;X)) and with it I(Z;Y) to ~0: the two ends of the paper's information plane."""
    free, xt, yt = fit_vib(beta=1e-3)
    squeezed, _, _ = fit_vib(beta=10.0)
    torch.manual_seed(0)
    b_free = free.information_bounds(xt, yt)
    b_sq = squeezed.information_bounds(xt, yt)
    assert b_free["error"] < 0.05
    assert b_free["izx_upper"] > 5.0
    assert b_sq["izx_upper"] < 0.1 * b_free["izx_upper"]
    assert b_sq["izy_lower"] < 0.05 < 1.0 < b_free["izy_lower"]
    assert b_sq["error"] > 0.5  # chance is 0.75
    # Each number recomputed from its definition: the mean KL to N(0, I), the labels' entropy,
    # and H(Y) minus the cross-entropy at one posterior draw (the same draw: reseeded; the test
    # rows are one batch).
    xb = torch.from_numpy(xt)
    with torch.no_grad():
        mu, log_var = free.posterior(xb)
        assert b_free["izx_upper"] == pytest.approx(
            float(gaussian_kl_standard(mu, log_var).mean()), rel=1e-5
        )
        counts = np.bincount(yt)
        h_y = float(-(counts / counts.sum() * np.log(counts / counts.sum())).sum())
        assert b_free["h_y"] == pytest.approx(h_y, rel=1e-12)
        torch.manual_seed(1)
        again = free.information_bounds(xt, yt)
        torch.manual_seed(1)
        logits = free.classifier(reparameterize(mu, log_var))
        ce = float(nn.functional.cross_entropy(logits, torch.from_numpy(yt)))
    assert again["izy_lower"] == pytest.approx(h_y - ce, rel=1e-5)
    assert (free.predict(xt) == yt).mean() == pytest.approx(1 - b_free["error"], abs=0.02)
    assert free.transform(xt).shape == (len(xt), 8)
    proba = free.predict_proba(xt)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_vib_saves_and_loads(tmp_path):
    model, xt, _ = fit_vib(beta=1e-2, epochs=2)
    model.save(tmp_path / "m")
    loaded = VIBClassifier.load(tmp_path / "m")
    assert loaded.config == model.config
    torch.manual_seed(3)
    a = model.predict_proba(xt)
    torch.manual_seed(3)
    b = loaded.predict_proba(xt)
    np.testing.assert_array_equal(a, b)


def test_centred_inputs_are_the_same_model_on_2x_minus_1_and_survive_saving(tmp_path):
    x = torch.rand(7, 12)
    centred = VIBClassifier(layers="12-16-4", n_classes=3, center_input=True, init="glorot")
    plain = VIBClassifier(layers="12-16-4", n_classes=3)
    plain.load_state_dict(centred.state_dict())
    torch.testing.assert_close(centred.posterior(x), plain.posterior(2 * x - 1))
    centred.save(tmp_path / "m")
    loaded = VIBClassifier.load(tmp_path / "m")
    assert loaded.config.center_input and loaded.config.init == "glorot"
    torch.testing.assert_close(loaded.posterior(x), centred.posterior(x))


def test_glorot_init_draws_tensorflows_default_and_zero_biases():
    torch.manual_seed(0)
    model = VIBClassifier(layers="784-1024-1024-256", n_classes=10, init="glorot")
    first = model.encoder.linears[0]
    a = math.sqrt(6 / (784 + 1024))
    assert first.weight.abs().max() <= a and first.weight.std() > 0.95 * a / math.sqrt(3)
    assert torch.count_nonzero(first.bias) == 0 and torch.count_nonzero(model.classifier.bias) == 0
    torch.manual_seed(0)
    default = VIBClassifier(layers="784-1024-1024-256", n_classes=10)
    # PyTorch's default bound is 1 / sqrt(fan_in): smaller than Glorot's for these shapes.
    assert default.encoder.linears[0].weight.abs().max() <= 1 / math.sqrt(784) < a


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_classes": 1}, "n_classes"),
        ({"beta": -1.0}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"parameterization": "exp"}, "parameterization"),
        ({"n_eval_samples": 0}, "n_eval_samples"),
        ({"init": "xavier"}, "init"),
    ],
)
def test_bad_vib_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VIBConfig(**kwargs)


# The trainer with targets ----------------------------------------------------------------------


class RowChecker(Model):
    """A supervised model that fails unless each label still sits beside its own row."""

    monitor = "loss"
    takes_targets = True

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def loss(self, x, y):
        assert torch.equal(x[:, 0].long(), y), "rows and labels were sliced apart"
        loss = (self.w - 1).pow(2).sum() + 0 * x.sum()
        return loss, {"w": self.w.detach().sum()}

    def evaluate_batch(self, x, y):
        assert torch.equal(x[:, 0].long(), y)
        return {"loss": (self.w - 1).pow(2).sum()}


def test_targets_follow_their_rows_through_split_and_shuffle():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 50, size=300)
    x = np.column_stack([y, rng.random(300)]).astype(np.float32)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.1, val_fraction=0.2, progress=False)
    history = Trainer(RowChecker(), cfg).fit(x, y_train=y)
    assert "val_loss" in history.records[-1]
    # Labels given as integral floats (e.g. read from a CSV) are labels too.
    Trainer(RowChecker(), cfg).fit(x, y_train=y.astype(np.float64))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_train": np.zeros(5, dtype=int)}, "5 rows but the inputs have 100"),
        ({"y_val": np.zeros(10, dtype=int)}, "y_val was given without y_train"),
        (
            {"y_train": np.zeros(100, dtype=int), "x_val": np.zeros((10, 20), np.float32)},
            "pass y_val with x_val",
        ),
        ({"y_train": np.full(100, 7)}, r"labels in \[7, 7\].*n_classes=4"),
        ({"y_train": np.linspace(0, 1, 100)}, "integer class labels"),
        ({"y_train": np.full(100, np.nan)}, "NaN"),
    ],
)
def test_bad_targets_get_clear_errors(kwargs, match):
    x, _ = blobs(n=100)
    model = VIBClassifier(layers="20-8-4", n_classes=4)
    with pytest.raises(ValueError, match=match):
        Trainer(model, TrainConfig(epochs=1, progress=False)).fit(x, **kwargs)


class Kill:
    def __init__(self, after):
        self.after = after

    def __call__(self, trainer, record):
        if record["epoch"] == self.after:
            raise KeyboardInterrupt


def test_supervised_resume_with_ema_matches_uninterrupted_run(tmp_path):
    x, y = blobs(n=300)

    def new(seed=0):
        torch.manual_seed(seed)
        return VIBClassifier(layers="20-16-4", n_classes=4, beta=1e-2)

    cfg = TrainConfig(epochs=4, batch_size=32, lr=3e-3, ema_decay=0.9, progress=False)
    ref = new()
    ref_hist = Trainer(ref, cfg, run_dir=tmp_path / "ref").fit(x, y_train=y)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new(), cfg, run_dir=run, callbacks=[Kill(2)]).fit(x, y_train=y)
    assert json.loads((run / "latest.json").read_text())["epoch"] == 1
    resumed = new(seed=7)
    hist = Trainer(resumed, cfg, run_dir=run).fit(x, y_train=y, resume=True)
    assert states_equal(resumed, ref)
    assert [r["val_error"] for r in hist.records] == [r["val_error"] for r in ref_hist.records]


def test_ema_is_the_debiased_average_of_the_iterates():
    """With no validation data the final weights are the average; recompute it by hand."""
    x = np.linspace(-1, 1, 40, dtype=np.float32)[:, None]
    torch.manual_seed(0)
    lin = nn.Linear(1, 1)

    class Regression(Model):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def loss(self, xb):
            return (self.lin(xb) - 3 * xb).pow(2).mean(), {}

        def evaluate_batch(self, xb):
            return {}

    iterates = [[p.detach().clone() for p in lin.parameters()]]

    def record_step(trainer, record):  # called once per epoch = once per step here
        iterates.append([p.detach().clone() for p in trainer._trained_params()])

    decay = 0.8
    cfg = TrainConfig(
        epochs=25,
        batch_size=40,
        optimizer="sgd",
        momentum=0.0,
        lr=0.1,
        val_fraction=0,
        ema_decay=decay,
        progress=False,
    )
    # The callback runs after the epoch's swap back, so it sees the raw iterate.
    Trainer(Regression(), cfg, callbacks=[record_step]).fit(x)
    ema = [t.clone() for t in iterates[0]]
    for n, params in enumerate(iterates[1:]):
        d = min(decay, (1 + n) / (10 + n))
        ema = [d * e + (1 - d) * p for e, p in zip(ema, params)]
    for p, e in zip(lin.parameters(), ema):
        torch.testing.assert_close(p.detach(), e)
    # ... and the average is not the last iterate (the check has teeth).
    assert not torch.allclose(lin.weight.detach(), iterates[-1][0])


def test_bad_ema_decay():
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)


def test_information_plane_bounds_bracket_the_true_informations():
    """On 8 equally likely inputs, I(Z;X) and I(Z;Y) of the stochastic code are computable by
    Monte Carlo over z (q(z) is a mixture of 8 Gaussians): the rate must lie above the first,
    H(Y) - CE below the second."""
    rng = np.random.default_rng(0)
    x8 = rng.random((8, 6), dtype=np.float32)
    y8 = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    torch.manual_seed(0)
    model = VIBClassifier(layers="6-16-2", n_classes=4, beta=0.05)
    reps = 50
    cfg = TrainConfig(epochs=40, batch_size=40, lr=1e-2, val_fraction=0, progress=False)
    Trainer(model, cfg).fit(np.tile(x8, (reps, 1)), y_train=np.tile(y8, reps))
    torch.manual_seed(1)
    bounds = model.information_bounds(np.tile(x8, (500, 1)), np.tile(y8, 500))
    with torch.no_grad():
        mu, log_var = model.posterior(torch.from_numpy(x8))  # (8, 2) each
        torch.manual_seed(2)
        z = reparameterize(mu, log_var, 20_000)  # (S, 8, 2): z ~ q(z|x_i)
        # log q(z | x_j) for every draw and every j: (S, 8 draws-of-i, 8 j)
        log_q = gaussian_log_density(z[:, :, None, :], mu[None, None], log_var[None, None])
        log_q_own = log_q.diagonal(dim1=1, dim2=2)  # (S, 8)
        log_q_z = torch.logsumexp(log_q, -1) - math.log(8)
        i_zx = float((log_q_own - log_q_z).mean())
        same = torch.from_numpy(y8[:, None] == y8[None, :])  # (8, 8): j has i's label
        log_q_zy = torch.logsumexp(log_q.masked_fill(~same, -math.inf), -1) - math.log(2)
        i_zy = float((log_q_zy - log_q_z).mean())
    assert 0.3 < i_zx <= math.log(8) + 0.01  # the code carries real information
    assert bounds["izx_upper"] >= i_zx - 0.02
    assert bounds["izy_lower"] <= i_zy + 0.05
    assert i_zy <= i_zx + 0.02 and i_zy <= math.log(4) + 0.01  # data processing


def test_ema_with_validation_restores_the_average_at_its_best_epoch():
    x, y = blobs(n=300)
    snapshots = []

    def keep_average(trainer, record):
        with trainer._averaged_weights():
            snapshots.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
        if record["epoch"] == 5:
            # Ten times the learning rate for the last epoch makes it the worst (validation
            # loss 1.6-5.2 against at most 0.17 before, seeds 0-3; 50x reached 1e6, near
            # overflow), so restoring has work to do whatever the seed made of the first five.
            trainer.config.lr = 1.0

    torch.manual_seed(0)
    model = VIBClassifier(layers="20-16-4", n_classes=4, beta=1e-2)
    cfg = TrainConfig(epochs=6, batch_size=32, lr=0.1, ema_decay=0.8, progress=False)
    history = Trainer(model, cfg, callbacks=[keep_average]).fit(x, y_train=y)
    monitored = [r[f"val_{model.monitor}"] for r in history.records]
    assert history.best_epoch == 1 + int(np.argmin(monitored)) < 6, monitored
    best, last = snapshots[history.best_epoch - 1], snapshots[5]
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, last[k]) for k, v in model.state_dict().items())


def test_targets_are_required_exactly_by_the_models_that_learn_from_them():
    from aekit import Autoencoder

    x, y = blobs(n=64)
    cfg = TrainConfig(epochs=1, progress=False)
    with pytest.raises(ValueError, match="learns from targets: pass y_train"):
        Trainer(VIBClassifier(layers="20-8-4", n_classes=4), cfg).fit(x)
    with pytest.raises(ValueError, match="does not learn from targets"):
        Trainer(Autoencoder(layers="20-4", likelihood="gaussian"), cfg).fit(x, y_train=y)
