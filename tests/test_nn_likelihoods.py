"""Stack builder and likelihoods against hand-written formulas."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from aekit.likelihoods import get_likelihood
from aekit.nn import TiedStack, build_stack, glorot_uniform_, mirror, parse_layers


def test_parse_layers_forms():
    assert parse_layers("784-1000-500-250-30") == [784, 1000, 500, 250, 30]
    assert parse_layers([10, 3]) == [10, 3]
    assert mirror([10, 5, 2]) == [2, 5, 10]


@pytest.mark.parametrize("spec", ["abc", "784", "784-0-30", "784--x", "64,-3", "64--3", "64-3-"])
def test_parse_layers_rejects(spec):
    with pytest.raises(ValueError, match="layer spec"):
        parse_layers(spec)


def test_build_stack_shapes_and_activations():
    stack = build_stack([6, 4, 2], activation="tanh", out_activation="linear")
    x = torch.randn(5, 6)
    hs = stack.forward_all(x)
    assert [h.shape for h in hs] == [(5, 4), (5, 2)]
    w0, b0 = stack.linears[0].weight, stack.linears[0].bias
    torch.testing.assert_close(hs[0], torch.tanh(x @ w0.T + b0))
    torch.testing.assert_close(stack(x), hs[1])
    with pytest.raises(ValueError, match="unknown activation"):
        build_stack([3, 2], activation="swishy")


def test_tied_stack_uses_transposed_encoder_weights():
    enc = build_stack([6, 4, 2], activation="logistic")
    dec = TiedStack(enc, ["logistic", "linear"])
    z = torch.randn(3, 2)
    w1, w0 = enc.linears[1].weight, enc.linears[0].weight
    h = torch.sigmoid(z @ w1 + dec.biases[0])
    torch.testing.assert_close(dec(z), h @ w0 + dec.biases[1])
    # Only the biases are the decoder's own parameters.
    assert sum(p.numel() for p in dec.parameters()) == 4 + 6


def test_bernoulli_matches_formula_for_grey_levels():
    lik = get_likelihood("bernoulli")
    logits, x = torch.randn(4, 7), torch.rand(4, 7)
    p = torch.sigmoid(logits)
    expected = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(1)
    torch.testing.assert_close(lik.nll(logits, x), expected)
    torch.testing.assert_close(lik.mean(logits), p)
    # Stable where log(sigmoid) would underflow.
    assert torch.isfinite(
        lik.nll(torch.tensor([[200.0, -200.0]]), torch.tensor([[0.0, 1.0]]))
    ).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lik.check_data(torch.tensor([[0.5, 1.5]]))


def test_gaussian_is_half_squared_error_and_normal_nll_up_to_constant():
    lik = get_likelihood("gaussian")
    mu, x = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    nll = lik.nll(mu, x).numpy()
    exact = -stats.norm.logpdf(x.numpy(), mu.numpy(), 1.0).sum(1)
    np.testing.assert_allclose(nll + 5 * 0.5 * math.log(2 * math.pi), exact, rtol=1e-12)


def test_poisson_matches_scipy_up_to_log_factorial():
    lik = get_likelihood("poisson")
    eta = torch.randn(3, 4, dtype=torch.float64)
    x = torch.randint(0, 6, (3, 4)).double()
    exact = -stats.poisson.logpmf(x.numpy(), np.exp(eta.numpy())).sum(1)
    const = torch.lgamma(x + 1).sum(1).numpy()
    np.testing.assert_allclose(lik.nll(eta, x).numpy() + const, exact, rtol=1e-10)


def test_softmax_is_cross_entropy_of_word_distribution():
    lik = get_likelihood("softmax")
    eta = torch.randn(2, 5, dtype=torch.float64)
    counts = torch.tensor([[1, 0, 3, 0, 1], [0, 2, 0, 0, 0]], dtype=torch.float64)
    p = counts / counts.sum(1, keepdim=True)
    q = torch.softmax(eta, 1)
    torch.testing.assert_close(lik.nll(eta, p), -(p * q.log()).sum(1))
    torch.testing.assert_close(lik.mean(eta).sum(1), torch.ones(2, dtype=torch.float64))


def test_unknown_likelihood():
    with pytest.raises(ValueError, match="unknown likelihood"):
        get_likelihood("laplace")


def test_glorot_uniform_matches_its_closed_form_bound_and_variance():
    stack = build_stack([300, 200, 10], "relu")
    glorot_uniform_(stack, torch.Generator().manual_seed(0))
    for lin in stack.linears:
        fan_out, fan_in = lin.weight.shape
        a = (6.0 / (fan_in + fan_out)) ** 0.5
        w = lin.weight.detach()
        assert w.abs().max() <= a and w.abs().max() > 0.99 * a
        # U(-a, a) has variance a^2 / 3 = 2 / (fan_in + fan_out); 2000+ draws pin it to ~5%.
        assert abs(w.var().item() / (a * a / 3) - 1) < 0.1
        assert torch.count_nonzero(lin.bias) == 0
    again = glorot_uniform_(build_stack([300, 200, 10], "relu"), torch.Generator().manual_seed(0))
    torch.testing.assert_close(again.linears[0].weight, stack.linears[0].weight, rtol=0, atol=0)
