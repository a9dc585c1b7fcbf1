"""The report's generative section and its code figures."""

import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from aekit import TrainConfig, Trainer
from aekit.cli import main
from aekit.data import load_dataset
from aekit.evaluate import mmd2
from aekit.experiments.generative import generative_section, write_generative_report
from aekit.models import VAE, AAEConfig, AdversarialAutoencoder, Autoencoder, VAEConfig
from aekit.viz.generative import code_histograms, codes_over_prior


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def trained(model, digits, epochs=3):
    Trainer(model, TrainConfig(epochs=epochs, batch_size=64, progress=False)).fit(digits.x_train)
    return model


def table(section):
    return {row["measure"]: row["value"] for row in section.table}


def test_vae_section_has_its_numbers_and_every_figure(digits):
    torch.manual_seed(0)
    vae = trained(VAE(VAEConfig(layers="64-64-2")), digits)
    section = generative_section(vae, digits, iw_samples=20, max_eval=300)
    numbers = table(section)
    # The IWAE estimate is a tighter bound than the ELBO: above -nelbo on average (k=20).
    assert numbers["test log-likelihood, IWAE k=20 (nats)"] > -numbers["test nelbo"] - 0.5
    # The MMD in the table is the one of the test codes against prior draws.
    assert numbers["MMD^2(codes, prior)"] == pytest.approx(
        mmd2(
            vae.transform(digits.x_test)[np.random.default_rng(0).permutation(450)[:300]],
            torch.randn(300, 2, generator=torch.Generator().manual_seed(1)).numpy(),
        )
    )
    captions = [img.caption for img in section.images]
    assert any("samples" in c for c in captions)
    assert any("manifold" in c for c in captions)
    assert any("over the prior's density" in c for c in captions)
    assert any("interpolation" in c for c in captions)


def test_aae_section_without_manifold_for_a_non_gaussian_prior(digits, tmp_path):
    torch.manual_seed(0)
    aae = trained(
        AdversarialAutoencoder(
            AAEConfig(layers="64-64-2", discriminator_layers=[32], prior="gaussian_ring")
        ),
        digits,
    )
    section = generative_section(aae, digits, max_eval=300)
    captions = [img.caption for img in section.images]
    assert not any("manifold" in c for c in captions)
    assert "test recon" in table(section)
    path = write_generative_report(aae, digits, tmp_path / "r.html")
    html = path.read_text()
    assert html.count("data:image/png;base64,") == len(section.images)
    assert "MMD^2(codes, prior)" in html


def test_only_generative_models_get_the_section(digits):
    with pytest.raises(TypeError, match="cannot sample"):
        generative_section(Autoencoder(layers="64-8"), digits)


def test_report_command(tmp_path, monkeypatch):
    runner = CliRunner()
    run = tmp_path / "run"
    args = ["train", "--data", "digits", "--model", "vae", "--layers", "auto-32-2",
            "--epochs", 1, "--no-progress", "--out", run]  # fmt: skip
    assert runner.invoke(main, [str(a) for a in args]).exit_code == 0
    monkeypatch.chdir(tmp_path)  # the default goes to the current folder, not the model's
    result = runner.invoke(main, ["report", str(run), "--data", "digits", "--iw-samples", "10"])
    assert result.exit_code == 0, result.output
    assert not (run / "model" / "report.html").exists()
    html = (tmp_path / "report.html").read_text()
    assert re.search(r"IWAE k=10", html)
    result = runner.invoke(main, ["report", str(run), "--data", "curves"])
    assert result.exit_code == 2 and "features" in result.output


def test_code_figures_check_their_inputs():
    rng = np.random.default_rng(0)
    z, prior = rng.normal(size=(50, 2)), rng.normal(size=(500, 2))
    fig = codes_over_prior(z, rng.integers(0, 3, 50), prior)
    assert len(fig.axes[0].collections) == 1 + 3  # the density, then one scatter per class
    with pytest.raises(ValueError, match="2-D codes"):
        codes_over_prior(rng.normal(size=(50, 3)), None, prior)
    with pytest.raises(ValueError, match="one per code"):
        codes_over_prior(z, np.zeros(3), prior)
    fig = code_histograms(rng.normal(size=(50, 10)), rng.normal(size=(50, 10)), max_dims=6)
    assert len(fig.axes) == 6
