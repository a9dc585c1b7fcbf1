"""`aekit train --model vae|aae|vib|ib-autoencoder`, `aekit resume` of them, `aekit sample`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import aekit.data
import aekit.spec
import aekit.train
from aekit.atomic import load_tensors
from aekit.cli import main
from aekit.data import load_dataset
from aekit.saving import load_model

pytestmark = pytest.mark.usefixtures("one_thread")


def invoke(runner: CliRunner, args: list, code: int = 0):
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def train(out: Path, model: str, *extra) -> list:
    return [
        "train", "--data", "digits", "--model", model, "--epochs", 2, "--batch-size", 64,
        "--no-progress", "--device", "cpu", "--out", out, *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("model", "extra", "cls", "shown"),
    [
        ("vae", ["--layers", "auto-32-2", "--beta", 0.5, "--binarize"], "VAE", "nelbo"),
        ("aae", ["--layers", "auto-32-2", "--discriminator-layers", "16-16"], "Advers", "recon"),
        ("vib", ["--layers", "auto-32-4", "--beta", 1e-3], "VIBClassifier", "error"),
        ("ib-autoencoder", ["--layers", "auto-32-4", "--label-weight", 2], "IBAutoencoder", "ce"),
    ],
)  # fmt: skip
def test_train_each_model_kind_and_report_its_own_metrics(
    runner, tmp_path, model, extra, cls, shown
):
    out = invoke(runner, train(tmp_path / "run", model, *extra)).output
    assert f"64-32-{extra[1][-1]} {model} on digits for 2 epochs" in out
    assert f"test: {shown}" in out or f", {shown} " in out
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["model"] == model
    assert run["metadata"]["labels"] == (model in ("vib", "ib-autoencoder"))
    loaded = load_model(tmp_path / "run" / "model")
    assert type(loaded).__name__.startswith(cls)
    if model == "vae":
        assert loaded.config.beta == 0.5 and loaded.config.binarize
    if model == "vib":
        assert loaded.config.n_classes == 10  # from the labels


def test_a_supervised_run_resumes_with_its_labels_to_the_uninterrupted_weights(
    runner, tmp_path, monkeypatch
):
    args = ["--layers", "auto-16-4", "--epochs", 4, "--ema-decay", 0.9]
    full = tmp_path / "full"
    invoke(runner, train(full, "ib-autoencoder", *args))

    class InterruptAfterTwo(aekit.train.Trainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)

            def stop(trainer, record):
                if record["epoch"] == 2:
                    raise KeyboardInterrupt

            self.callbacks.append(stop)

    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:
        patch.setattr(aekit.spec, "Trainer", InterruptAfterTwo)
        invoke(runner, train(cut, "ib-autoencoder", *args), code=130)
    out = invoke(runner, ["resume", cut, "--no-progress"]).output
    assert "ib-autoencoder on digits for 4 epochs" in out
    want = load_tensors(full / "model" / "model.safetensors")
    got = load_tensors(cut / "model" / "model.safetensors")
    for key in want:
        assert torch.equal(got[key], want[key]), key  # bit-identical on one CPU thread


def test_sample_writes_a_grid_or_an_array_reproducibly(runner, tmp_path, monkeypatch):
    run = tmp_path / "vae"
    invoke(runner, train(run, "vae", "--layers", "auto-16-2"))
    monkeypatch.chdir(tmp_path)  # the default goes to the current folder, not the model's
    out = invoke(runner, ["sample", run, "--n", 12]).output
    assert "grid of 12 samples" in out and (tmp_path / "samples.png").is_file()
    assert not (run / "model" / "samples.png").exists()
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    invoke(runner, ["sample", run, "--n", 5, "--out", a, "--seed", 3])
    invoke(runner, ["sample", run, "--n", 5, "--out", b, "--seed", 3])
    invoke(runner, ["sample", run, "--n", 5, "--out", c, "--seed", 4])
    xa, xb, xc = np.load(a), np.load(b), np.load(c)
    assert xa.shape == (5, 64) and np.array_equal(xa, xb) and not np.array_equal(xa, xc)
    assert xa.min() >= 0 and xa.max() <= 1  # Bernoulli means
    invoke(runner, ["sample", run, "--n", 4, "--image-shape", "4x16", "--out", tmp_path / "s.png"])


def test_conditional_vae_samples_the_class_asked_for(runner, tmp_path):
    run = tmp_path / "cvae"
    invoke(runner, train(run, "vae", "--layers", "auto-16-2", "--conditional"))
    model = load_model(run / "model")
    assert model.config.n_classes == 10
    out = tmp_path / "threes.npy"
    invoke(runner, ["sample", run, "--n", 6, "--label", 3, "--out", out])
    np.testing.assert_allclose(np.load(out), model.sample(6, seed=0, y=np.full(6, 3)), rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "vae", "--sparsity-weight", 1], 2, "--sparsity-weight does not apply"),
        (["--model", "aae", "--beta", 1], 2, "--beta does not apply to --model aae"),
        (["--beta", 1], 2, "--beta does not apply to --model autoencoder"),
        (["--model", "vib", "--conditional"], 2, "--conditional applies to --model vae"),
        (["--model", "vae", "--pretrain", "rbm"], 2, "--pretrain applies to --model autoencoder"),
        (["--model", "aae", "--prior", "swiss_roll"], 1, "2-D"),
    ],
)
def test_options_of_another_model_are_refused(runner, tmp_path, args, code, message):
    result = invoke(runner, ["train", "--data", "digits", "--out", tmp_path / "r", *args], code)
    assert message in result.output


def test_models_needing_labels_refuse_unlabelled_data(runner, tmp_path):
    x = np.random.default_rng(0).random((50, 8), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = invoke(
        runner,
        ["train", "--data", tmp_path / "x.npy", "--model", "vib", "--out", tmp_path / "r"],
        2,
    )
    assert "learns from labels" in result.output


def test_commands_refuse_models_without_the_method(runner, tmp_path):
    vib, ae = tmp_path / "vib", tmp_path / "ae"
    invoke(runner, train(vib, "vib", "--layers", "auto-16-4"))
    result = invoke(
        runner, ["reconstruct", vib, "--data", "digits", "--out", tmp_path / "r.npy"], 2
    )
    assert "VIBClassifier, which cannot reconstruct" in result.output
    invoke(
        runner, ["encode", vib, "--data", "digits", "--split", "test", "--out", tmp_path / "z.npy"]
    )
    assert np.load(tmp_path / "z.npy").shape == (450, 4)
    invoke(runner, train(ae, "autoencoder", "--layers", "auto-16-4"))
    result = invoke(runner, ["sample", ae], 2)
    assert "cannot sample" in result.output
    vae = tmp_path / "vae"
    invoke(runner, train(vae, "vae", "--layers", "auto-16-2"))
    assert "not HxW" in invoke(runner, ["sample", vae, "--image-shape", "8by8"], 2).output
    assert "5x5 = 25" in invoke(runner, ["sample", vae, "--image-shape", "5x5"], 2).output
    assert "positive" in invoke(runner, ["sample", vae, "--image-shape", "-8x-8"], 2).output
    assert "--conditional" in invoke(runner, ["sample", vae, "--label", 1], 2).output
    assert ".png" in invoke(runner, ["sample", vae, "--out", tmp_path / "s.txt"], 2).output


@pytest.mark.parametrize(
    ("model", "extra", "keys"),
    [
        ("vae", ["--layers", "auto-16-2"], {"test_nelbo", "test_squared_error"}),
        ("vae", ["--layers", "auto-16-2", "--conditional"], {"test_nelbo", "test_squared_error"}),
        ("aae", ["--layers", "auto-16-2", "--discriminator-layers", 8], {"test_recon"}),
        ("vib", ["--layers", "auto-16-4"], {"test_error", "test_kl"}),
        ("ib-autoencoder", ["--layers", "auto-16-4"], {"test_error", "test_squared_error"}),
    ],
)
def test_evaluate_reports_each_models_own_metrics(runner, tmp_path, model, extra, keys):
    run = tmp_path / "run"
    invoke(runner, train(run, model, *extra))
    numbers = json.loads(invoke(runner, ["evaluate", run, "--data", "digits"]).output)
    ours = numbers[model]
    assert keys <= set(ours) and all(np.isfinite(v) for v in ours.values())
    assert ("pca" in numbers) == (model != "vib")  # PCA beside every model that reconstructs
    if model == "vib":
        # The printed error is the model's, computed again here from its predictions.
        loaded = load_model(run / "model")
        x, y = aekit.data.load_dataset("digits").x_test, aekit.data.load_dataset("digits").y_test
        torch.manual_seed(0)
        assert abs(ours["test_error"] - float((loaded.predict(x) != y).mean())) < 0.05


def test_conditional_vae_encodes_and_reconstructs_with_the_data_sets_labels(runner, tmp_path):
    run = tmp_path / "cvae"
    invoke(runner, train(run, "vae", "--layers", "auto-16-2", "--conditional"))
    model = load_model(run / "model")
    ds = load_dataset("digits")
    for command, method, split, x, y in [
        ("encode", model.transform, "test", ds.x_test, ds.y_test),
        ("reconstruct", model.reconstruct, "train", ds.x_train, ds.y_train),
    ]:
        out = tmp_path / f"{command}.npy"
        args = [command, run, "--data", "digits", "--split", split, "--out", out]
        invoke(runner, args)
        np.testing.assert_allclose(np.load(out), method(x, y=y), rtol=1e-6, atol=1e-6)
        # The label matters: the same rows under other labels give other outputs.
        assert not np.allclose(np.load(out), method(x, y=(y + 1) % 10), atol=1e-4)
    # A bare array has no labels to give.
    np.save(tmp_path / "rows.npy", ds.x_test[:5])
    result = invoke(runner, ["encode", run, "--data", tmp_path / "rows.npy", "--split", "all"], 2)
    assert "conditional VAE" in result.output and "labelled data set" in result.output


def test_config_file_names_the_model_and_its_settings(runner, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        '[data]\nname = "digits"\n'
        '[model]\nname = "vae"\nlayers = "auto-16-2"\nbeta = 2.0\nconditional = true\n'
        "[train]\nepochs = 1\nprogress = false\n"
    )
    invoke(runner, ["train", "--config", config, "--out", tmp_path / "run"])
    model = load_model(tmp_path / "run" / "model")
    assert type(model).__name__ == "VAE" and model.config.beta == 2.0
    assert model.config.n_classes == 10  # conditional, on the data's labels
    config.write_text('[data]\nname = "digits"\n[model]\nname = "vae"\nprior = "gaussian"\n')
    result = invoke(runner, ["train", "--config", config, "--out", tmp_path / "r2"], 2)
    assert "--prior does not apply to --model vae" in result.output


def test_clustering_aae_trains_with_its_suggested_betas_unless_the_file_sets_them(runner, tmp_path):
    args = ["--layers", "auto-16-2", "--discriminator-layers", 8, "--n-clusters", 4]
    out = invoke(runner, train(tmp_path / "run", "aae", *args)).output
    assert "adam_betas = (0.5, 0.999)" in out
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["train_config"]["adam_betas"] == [0.5, 0.999]
    assert load_model(tmp_path / "run" / "model").config.cluster_balance == 1.0
    config = tmp_path / "run.toml"
    config.write_text("[train]\nadam_betas = [0.9, 0.99]\n")
    out = invoke(runner, [*train(tmp_path / "r2", "aae", *args), "--config", config]).output
    assert "adam_betas = " not in out
    run = json.loads((tmp_path / "r2" / "run.json").read_text())
    assert run["train_config"]["adam_betas"] == [0.9, 0.99]
    # The plain AAE keeps the trainer's default.
    invoke(runner, train(tmp_path / "r3", "aae", "--layers", "auto-16-2"))
    run = json.loads((tmp_path / "r3" / "run.json").read_text())
    assert run["train_config"]["adam_betas"] == [0.9, 0.999]
