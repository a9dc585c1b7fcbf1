"""Adversarial autoencoders, code priors, the trainer's phases, MMD and the cluster error."""

import doctest
import json
import math

import numpy as np
import pytest
import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.evaluate import cluster_error, mmd2
from aekit.models import AAEConfig, AdversarialAutoencoder
from aekit.priors import GaussianRing, StandardGaussian, SwissRoll, make_prior


def states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# Priors ----------------------------------------------------------------------------------------


def test_gaussian_ring_components_sit_on_the_ring_with_the_stated_widths():
    ring = GaussianRing(n_components=10, radius=4.0, radial_std=0.5, tangential_std=0.1)
    z, k = ring.sample_with_components(50_000, torch.Generator().manual_seed(0))
    z, k = z.double(), k
    for c in (0, 3, 7):
        pts = z[k == c]
        angle = 2 * math.pi * c / 10
        u = torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)
        v = torch.tensor([-math.sin(angle), math.cos(angle)], dtype=torch.float64)
        assert float((pts @ u).mean()) == pytest.approx(4.0, abs=0.03)
        assert float((pts @ u).std()) == pytest.approx(0.5, rel=0.05)
        assert float((pts @ v).std()) == pytest.approx(0.1, rel=0.05)
    assert np.bincount(k.numpy(), minlength=10).min() > 4500  # equal weights


def test_priors_are_seeded_and_shaped():
    for prior in (StandardGaussian(3), GaussianRing(), SwissRoll()):
        a = prior(100, torch.Generator().manual_seed(1))
        b = prior(100, torch.Generator().manual_seed(1))
        assert torch.equal(a, b) and a.dtype == torch.float32
        assert a.shape == (100, getattr(prior, "dim", 3))
    z = StandardGaussian(2)(100_000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(z.mean(0), torch.zeros(2), atol=0.01, rtol=0)
    torch.testing.assert_close(torch.cov(z.T), torch.eye(2), atol=0.015, rtol=0)


def test_prior_errors():
    with pytest.raises(ValueError, match="unknown prior"):
        make_prior("laplace", 2)
    with pytest.raises(ValueError, match="2-D"):
        make_prior("swiss_roll", 8)
    with pytest.raises(ValueError, match="prior_sampler"):
        AdversarialAutoencoder(layers="10-4-2", prior="custom")


# Metrics ---------------------------------------------------------------------------------------


def test_mmd2_matches_the_direct_formula_and_separates_distributions():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(5, 2)) + 1.0
    h = (0.7, 1.3)

    def k(a, b):
        return sum(math.exp(-np.sum((a - b) ** 2) / (2 * s**2)) for s in h)

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(a, b) for a in x for b in y) / 30
    assert mmd2(x, y, bandwidths=h) == pytest.approx(xx + yy - 2 * xy)
    same = mmd2(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))
    shifted = mmd2(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + 0.5)
    assert abs(same) < 0.01 < 0.1 < shifted
    with pytest.raises(ValueError, match="width"):
        mmd2(x, rng.normal(size=(5, 3)))


def test_cluster_error_maps_each_cluster_to_its_majority_label():
    clusters = np.array([0, 0, 0, 1, 1, 2])
    labels = np.array([5, 5, 7, 7, 7, 9])
    # Cluster 0 -> 5, 1 -> 7, 2 -> 9; unseen cluster 3 -> the overall majority, 7.
    test_clusters = np.array([0, 1, 2, 3, 0])
    test_labels = np.array([5, 7, 1, 7, 7])
    # Wrong: the third (9 for 1) and the last (5 for 7).
    assert cluster_error(clusters, labels, test_clusters, test_labels) == pytest.approx(2 / 5)
    assert cluster_error(labels, labels, labels, labels) == 0.0


# The adversarial autoencoder -------------------------------------------------------------------


def small_aae(**kw):
    torch.manual_seed(0)
    return AdversarialAutoencoder(
        AAEConfig(**{"layers": [20, 32, 2], "discriminator_layers": [32], **kw})
    )


def batch(n=64, d=20, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((n, d), dtype=np.float32))


@pytest.mark.parametrize("n_clusters", [0, 3])
def test_each_phase_moves_its_loss_the_stated_way_on_a_fixed_batch(n_clusters):
    """One discriminator step lowers the discriminator's loss; one generator (encoder) step
    lowers the generator's loss, i.e. raises D's belief that codes are prior draws."""
    model = small_aae(n_clusters=n_clusters)
    x = batch()
    phases = model.training_phases()
    for phase in ("discriminator", "generator", "reconstruction"):
        params, _ = phases[phase]
        opt = torch.optim.SGD(params, lr=0.05)

        def loss_with_fixed_prior_draw(phase=phase):
            torch.manual_seed(11)  # the same prior sample before and after the step
            return model.phase_loss(phase, x)[0]

        before = loss_with_fixed_prior_draw()
        opt.zero_grad()
        before.backward()
        opt.step()
        after = loss_with_fixed_prior_draw()
        assert float(after.detach()) < float(before.detach()), phase


def test_phases_train_only_their_own_parameters():
    model = small_aae()
    phases = model.training_phases()
    enc = {id(p) for p in model.encoder.parameters()}
    dec = {id(p) for p in model.decoder.parameters()}
    disc = {id(p) for p in model.discriminator.parameters()}
    assert {id(p) for p in phases["reconstruction"][0]} == enc | dec
    assert {id(p) for p in phases["discriminator"][0]} == disc
    assert {id(p) for p in phases["generator"][0]} == enc
    # The discriminator phase leaves no gradient on the encoder.
    model.zero_grad()
    model.phase_loss("discriminator", batch())[0].backward()
    assert all(p.grad is None for p in model.encoder.parameters())


def test_adversarial_training_matches_the_codes_to_the_prior():
    """On sklearn's digits, the AAE's 2-d codes end close to N(0, I) in MMD, far closer than
    the codes of the same autoencoder trained without the adversarial phases."""
    ds = load_dataset("digits")
    cfg = TrainConfig(epochs=80, batch_size=128, lr=1e-3, val_fraction=0, progress=False)
    torch.manual_seed(0)
    aae = AdversarialAutoencoder(layers="64-128-2", discriminator_layers=[64])
    Trainer(aae, cfg).fit(ds.x_train)
    z = aae.transform(ds.x_test)
    prior = aae.prior_sampler(len(z), torch.Generator().manual_seed(1)).numpy()
    torch.manual_seed(0)
    plain = Autoencoder(AutoencoderConfig(layers=[64, 128, 2], activation="relu"))
    Trainer(plain, cfg).fit(ds.x_train)
    z_plain = plain.transform(ds.x_test)
    # Measured over seeds 0-4: MMD^2 0.0001-0.0099 (plain 1.15-1.49); |mean| <= 0.09 and
    # |std - 1| <= 0.14.
    assert mmd2(z, prior) < 0.03
    assert mmd2(z_plain, prior) > 5 * mmd2(z, prior)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=0.25)
    np.testing.assert_allclose(z.std(0), 1.0, atol=0.25)


def test_clustering_head_assigns_clusters_and_decodes_from_both_parts():
    model = small_aae(n_clusters=4)
    x = batch(10).numpy()
    code = model.transform(x)
    assert code.shape == (10, 4 + 2)
    np.testing.assert_allclose(code[:, :4].sum(1), 1.0, rtol=1e-5)  # a distribution
    # The cluster is the head's most probable class; the style is the rest of the code.
    np.testing.assert_array_equal(model.cluster(x), code[:, :4].argmax(1))
    np.testing.assert_allclose(model.style(x), code[:, 4:], rtol=1e-6, atol=1e-7)
    assert model.inverse_transform(code).shape == (10, 20)
    s = model.sample(5, seed=3)
    np.testing.assert_array_equal(s, model.sample(5, seed=3))
    assert s.shape == (5, 20)
    assert not np.array_equal(s, model.sample(5, seed=4))
    with pytest.raises(ValueError, match="n_clusters"):
        small_aae().cluster(x)


def test_custom_prior_sampler_is_used():
    calls = []

    def prior(n, generator=None):
        calls.append(n)
        return torch.full((n, 2), 3.0)

    model = AdversarialAutoencoder(
        AAEConfig(layers=[20, 8, 2], discriminator_layers=[8], prior="custom"),
        prior_sampler=prior,
    )
    assert torch.equal(model.sample_prior(4), torch.full((4, 2), 3.0))
    model.phase_loss("discriminator", batch(7))
    assert calls[-1] == 7


def test_phased_training_checkpoints_every_optimizer_and_resumes_exactly(tmp_path):
    x = batch(200).numpy()
    cfg = TrainConfig(epochs=4, batch_size=32, lr=1e-3, progress=False)

    class Kill:
        def __call__(self, trainer, record):
            if record["epoch"] == 2:
                raise KeyboardInterrupt

    ref = small_aae(n_clusters=3)
    ref_hist = Trainer(ref, cfg, run_dir=tmp_path / "ref").fit(x)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        Trainer(small_aae(n_clusters=3), cfg, run_dir=run, callbacks=[Kill()]).fit(x)
    state = json.loads((run / "ckpt-0001" / "state.json").read_text())
    assert set(state["optimizer"]["phases"]) == {"reconstruction", "discriminator", "generator"}
    torch.manual_seed(5)
    resumed = AdversarialAutoencoder(
        AAEConfig(layers=[20, 32, 2], discriminator_layers=[32], n_clusters=3)
    )
    hist = Trainer(resumed, cfg, run_dir=run).fit(x, resume=True)
    assert states_equal(resumed, ref)
    assert [r["train_generator"] for r in hist.records] == [
        r["train_generator"] for r in ref_hist.records
    ]
    loaded = AdversarialAutoencoder.load(run / "model")
    np.testing.assert_array_equal(loaded.transform(x), ref.transform(x))


def test_phase_learning_rates_reach_the_optimizers():
    model = small_aae(reconstruction_lr_scale=2.0, adversarial_lr_scale=0.1)
    trainer = Trainer(model, TrainConfig(epochs=1, lr=1e-3, progress=False, val_fraction=0))
    trainer.fit(batch(40).numpy())
    lrs = {name: opt.param_groups[0]["lr"] for name, opt in trainer.optimizers.items()}
    assert lrs == pytest.approx({"reconstruction": 2e-3, "discriminator": 1e-4, "generator": 1e-4})


def test_lbfgs_is_refused_for_phased_models():
    with pytest.raises(ValueError, match="phases"):
        Trainer(small_aae(), TrainConfig(optimizer="lbfgs"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_clusters": 1}, "n_clusters"),
        ({"prior": "gaussian_ring", "layers": [20, 8, 3]}, "2-D"),
        ({"adversarial_lr_scale": 0.0}, "adversarial_lr_scale"),
        ({"discriminator_layers": [0]}, "discriminator_layers"),
        ({"discriminator_layers": [8, "x"]}, "list of widths"),
        ({"discriminator_layers": "8-"}, "list of widths"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AAEConfig(**kwargs)


def test_discriminator_widths_as_written_in_config_files():
    assert AAEConfig(discriminator_layers=8).discriminator_layers == [8]
    assert AAEConfig(discriminator_layers="64-32").discriminator_layers == [64, 32]


def test_docstring_examples_of_the_new_models_run():
    import aekit.models.aae
    import aekit.models.ib_autoencoder
    import aekit.models.vib

    for module in (aekit.models.aae, aekit.models.ib_autoencoder, aekit.models.vib):
        result = doctest.testmod(module, extraglobs={"torch": torch})
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_cluster_balance_term_is_the_kl_of_the_batch_marginal_to_uniform():
    model = small_aae(n_clusters=4, cluster_balance=2.0)
    x = batch(32)
    torch.manual_seed(0)
    loss, terms = model.phase_loss("generator", x)
    with torch.no_grad():
        y_bar = model.encode(x)[:, :4].mean(0).double()
    kl = float((y_bar * (y_bar * 4).log()).sum())
    assert float(terms["cluster_balance"].detach()) == pytest.approx(kl, rel=1e-4)
    torch.manual_seed(0)
    plain, _ = small_aae(n_clusters=4, cluster_balance=0.0).phase_loss("generator", x)
    assert float(loss.detach()) == pytest.approx(float(plain.detach()) + 2.0 * kl, rel=1e-4)
    with pytest.raises(ValueError, match="cluster_balance"):
        AAEConfig(cluster_balance=-1.0)


def test_cluster_balance_defaults_on_with_clusters_and_the_clustering_variant_suggests_beta1():
    # Without the balance term the clustering variant put every MNIST image in one cluster
    # (benchmarks/README.md), so it is on unless switched off; the plain AAE never uses it.
    assert AAEConfig(n_clusters=4).cluster_balance == 1.0
    assert AAEConfig(n_clusters=4, cluster_balance=0).cluster_balance == 0
    assert AAEConfig().cluster_balance == 0.0
    assert AAEConfig(n_clusters=4, cluster_balance=np.float32(0.5)).cluster_balance == 0.5
    with pytest.raises(TypeError, match="cluster_balance must be a number"):
        AAEConfig(n_clusters=4, cluster_balance="1")
    with pytest.raises(TypeError, match="cluster_balance must be a number"):
        AAEConfig(n_clusters=4, cluster_balance=True)
    suggested = AdversarialAutoencoder.suggested_train_settings
    assert suggested(AAEConfig(n_clusters=4)) == {"adam_betas": (0.5, 0.999)}
    assert suggested(AAEConfig()) == {}
    assert Autoencoder.suggested_train_settings(AutoencoderConfig(layers=[4, 2])) == {}
