"""Penalties against closed forms, autograd and finite differences; corruption statistics;
image translation against a pixel loop."""

import numpy as np
import pytest
import torch

from aekit.models import Autoencoder, AutoencoderConfig
from aekit.regularizers import (
    contractive_closed_form,
    contractive_exact,
    contractive_projection,
    corrupt,
    draw_translations,
    kl_sparsity,
    mask_noise,
    salt_and_pepper,
    translate_images,
    weight_decay_penalty,
)


def brute_force_jacobian_norm(f, x):
    """Mean over samples of ||df/dx||_F^2, one full Jacobian per sample."""
    total = 0.0
    for xi in x:
        jac = torch.autograd.functional.jacobian(f, xi)  # (n_out, n_in)
        total += float(jac.pow(2).sum())
    return total / len(x)


def test_contractive_closed_form_equals_autograd_jacobian_on_logistic_layer():
    torch.manual_seed(0)
    layer = torch.nn.Linear(7, 4).double()
    x = torch.randn(6, 7, dtype=torch.float64)

    def f(v):
        return torch.sigmoid(layer(v))

    closed = contractive_closed_form(f(x), layer.weight).detach()
    assert float(closed) == pytest.approx(brute_force_jacobian_norm(f, x), rel=1e-10)


def test_contractive_exact_and_projection_on_deep_encoder():
    torch.manual_seed(1)
    ae = Autoencoder(AutoencoderConfig(layers=[8, 6, 5, 3], activation="tanh")).double()
    x = torch.randn(10, 8, dtype=torch.float64, requires_grad=True)
    z = ae.encoder(x)
    exact = contractive_exact(x, z)
    brute = brute_force_jacobian_norm(ae.encoder, x.detach())
    assert float(exact.detach()) == pytest.approx(brute, rel=1e-10)
    gen = torch.Generator().manual_seed(0)
    est = contractive_projection(x, z, n_projections=4000, generator=gen)
    # Hutchinson with Gaussian probes: relative sd ~ sqrt(2 / (n * k)) per sample; 5% is >5 sd.
    assert float(est.detach()) == pytest.approx(brute, rel=0.05)


@pytest.mark.parametrize(
    ("layers", "method"), [([5, 3], "closed"), ([5, 4, 3], "exact"), ([5, 3], "exact")]
)
def test_model_contractive_term_and_its_gradient_match_brute_force(layers, method):
    torch.manual_seed(2)
    cfg = AutoencoderConfig(
        layers=layers,
        code_activation="logistic",
        likelihood="gaussian",
        contractive_weight=1.0,
        contractive_method=method,
    )
    ae = Autoencoder(cfg).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    _, terms = ae.loss(x)
    params = list(ae.encoder.parameters())

    def brute() -> torch.Tensor:
        total = 0.0
        for xi in x:
            jac = torch.autograd.functional.jacobian(ae.encoder, xi, create_graph=True)
            total = total + jac.pow(2).sum()
        return total / len(x)

    reference = brute()
    assert float(terms["contractive"].detach()) == pytest.approx(
        float(reference.detach()), rel=1e-10
    )
    # The penalty's own gradient (not the reconstruction term's) matches the brute force's.
    got = torch.autograd.grad(terms["contractive"], params)
    want = torch.autograd.grad(reference, params)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)


def test_kl_sparsity_value_and_gradient():
    rho = 0.1
    h = torch.rand(16, 5, dtype=torch.float64) * 0.8 + 0.1
    rho_hat = h.mean(0).numpy()
    expected = (rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))).sum()
    assert float(kl_sparsity(h, rho)) == pytest.approx(float(expected), rel=1e-12)
    h.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: kl_sparsity(t, rho), (h,), eps=1e-6, atol=1e-7)
    # Zero at the target, positive elsewhere.
    assert float(kl_sparsity(torch.full((4, 3), rho, dtype=torch.float64), rho)) == pytest.approx(0)
    assert float(kl_sparsity(torch.full((4, 3), 0.3, dtype=torch.float64), rho)) > 0.1


def test_sparse_penalty_gradient_wrt_weights_matches_finite_differences():
    torch.manual_seed(3)
    cfg = AutoencoderConfig(
        layers=[6, 4], code_activation="logistic", sparsity_weight=1.0, sparsity_target=0.05
    )
    ae = Autoencoder(cfg).double()
    x = torch.rand(12, 6, dtype=torch.float64)
    w = ae.encoder.linears[0].weight

    def penalty():
        return kl_sparsity(ae.encoder(x), 0.05)

    grad = torch.autograd.grad(penalty(), w)[0]
    eps = 1e-6
    fd = torch.zeros_like(w)
    with torch.no_grad():
        for idx in np.ndindex(*w.shape):
            w[idx] += eps
            up = penalty()
            w[idx] -= 2 * eps
            down = penalty()
            w[idx] += eps
            fd[idx] = (up - down) / (2 * eps)
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-8)


def test_weight_decay_penalty_and_gradient():
    w = torch.randn(3, 4, requires_grad=True)
    pen = weight_decay_penalty([w], 0.3)
    assert float(pen.detach()) == pytest.approx(0.15 * float(w.detach().pow(2).sum()), rel=1e-6)
    pen.backward()
    torch.testing.assert_close(w.grad, 0.3 * w.detach())


def test_mask_noise_statistics():
    gen = torch.Generator().manual_seed(0)
    x = torch.ones(200, 500)
    out = mask_noise(x, 0.3, generator=gen)
    frac = float((out == 0).float().mean())
    # 100,000 Bernoulli(0.3) draws: sd 0.00145; 0.005 is > 3 sd.
    assert abs(frac - 0.3) < 0.005
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_gaussian_noise_statistics():
    gen = torch.Generator().manual_seed(1)
    x = torch.full((400, 250), 0.5)
    noise = corrupt(x, "gaussian", 0.2, generator=gen) - x
    assert abs(float(noise.mean())) < 0.002
    assert float(noise.std()) == pytest.approx(0.2, rel=0.01)


def test_salt_and_pepper_statistics():
    gen = torch.Generator().manual_seed(2)
    x = torch.full((400, 250), 0.5)
    out = salt_and_pepper(x, 0.2, generator=gen)
    hit = out != 0.5
    assert abs(float(hit.float().mean()) - 0.2) < 0.005
    salt_share = float((out == 1.0).sum()) / float(hit.sum())
    assert abs(salt_share - 0.5) < 0.02
    assert set(out.unique().tolist()) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize("kind", ["mask", "gaussian", "salt_and_pepper"])
def test_denoising_corrupts_input_only_and_target_stays_clean(kind):
    torch.manual_seed(4)
    cfg = AutoencoderConfig(layers=[10, 4], corruption=kind, corruption_level=0.3)
    ae = Autoencoder(cfg)
    x = torch.rand(32, 10)
    torch.manual_seed(123)
    _loss, terms = ae.loss(x)
    torch.manual_seed(123)
    x_noisy = corrupt(x, kind, 0.3)
    assert not torch.equal(x_noisy, x)
    expected = ae.likelihood.nll(ae.decoder(ae.encoder(x_noisy)), x).mean()
    torch.testing.assert_close(terms["recon"], expected)
    # Evaluation mode sees the clean input.
    ae.eval()
    clean = ae.likelihood.nll(ae.decoder(ae.encoder(x)), x).mean()
    torch.testing.assert_close(ae.loss(x)[1]["recon"], clean)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"corruption": "blur"}, "unknown corruption"),
        ({"corruption": "mask", "corruption_level": 1.5}, "probability"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"sparsity_target": 1.0}, "sparsity_target"),
        ({"sparsity_weight": 1.0, "activation": "relu"}, "logistic"),
        ({"contractive_method": "closed", "layers": [5, 3, 2]}, "one-layer"),
        ({"contractive_method": "magic"}, "contractive_method"),
        ({"likelihood": "laplace"}, "unknown likelihood"),
    ],
)
def test_bad_regularizer_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderConfig(**{"layers": [5, 3], **kwargs})


def _translate_brute_force(x, shape, dy, dx):
    h, w = shape
    out = np.zeros_like(x)
    for i in range(len(x)):
        img = x[i].reshape(h, w)
        for r in range(h):
            for c in range(w):
                if 0 <= r - dy[i] < h and 0 <= c - dx[i] < w:
                    out[i, r * w + c] = img[r - dy[i], c - dx[i]]
    return out


def test_translate_images_matches_a_pixel_loop():
    rng = np.random.default_rng(0)
    shape = (5, 7)
    x = rng.random((40, 35)).astype(np.float32)
    dy, dx = rng.integers(-3, 4, 40), rng.integers(-3, 4, 40)
    dy[:3], dx[:3] = 0, 0  # unmoved rows stay as they are
    got = translate_images(torch.from_numpy(x), shape, torch.from_numpy(dy), torch.from_numpy(dx))
    np.testing.assert_array_equal(got.numpy(), _translate_brute_force(x, shape, dy, dx))
    zero = torch.zeros(40, dtype=torch.long)
    np.testing.assert_array_equal(translate_images(torch.from_numpy(x), shape, zero, zero), x)


def test_draw_translations_moves_the_stated_fraction_within_range():
    g = torch.Generator().manual_seed(0)
    dy, dx = draw_translations(20_000, 2, 0.5, generator=g)
    assert int(dy.abs().max()) == 2 and int(dx.abs().max()) == 2
    moved = (dy != 0) | (dx != 0)
    # P(moved) = 0.5 * (1 - 1/25): a drawn shift can be (0, 0).
    assert abs(float(moved.float().mean()) - 0.5 * 24 / 25) < 0.015
    again = draw_translations(20_000, 2, 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again[0], dy) and torch.equal(again[1], dx)
