"""The `aekit` command line, end to end through click's CliRunner, on tiny data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import aekit.data
import aekit.spec
import aekit.train
from aekit.atomic import load_tensors
from aekit.baselines import PCABaseline
from aekit.cli import main
from aekit.data import load_dataset
from aekit.evaluate import mean_squared_error_per_sample
from aekit.saving import load_model

N_SAMPLES, N_FEATURES = 120, 12


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def data_file(tmp_path) -> Path:
    # Low-rank data in [0, 1]: an autoencoder with a 3-unit code has something to learn.
    rng = np.random.default_rng(0)
    z = rng.random((N_SAMPLES, 3))
    x = 1.0 / (1.0 + np.exp(-(z @ rng.normal(size=(3, N_FEATURES)) * 2.0)))
    path = tmp_path / "tiny.npy"
    np.save(path, x.astype(np.float32))
    return path


def invoke(runner: CliRunner, args: list[str], code: int = 0):
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def train_args(data_file: Path, out: Path, *extra) -> list:
    return [
        "train", "--data", data_file, "--layers", "auto-8-3", "--activation", "relu",
        "--epochs", 3, "--batch-size", 16, "--lr", 0.01, "--no-progress", "--device", "cpu",
        # A checkpoint every epoch, so an interrupt's checkpoint is the last epoch's.
        "--checkpoint-seconds", 0, "--out", out, *extra,
    ]  # fmt: skip


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_tensors(path / "model.safetensors")


# Help and defaults -----------------------------------------------------------------------------


COMMANDS = ["demo", "train", "resume", "encode", "reconstruct", "evaluate"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_complete(runner, command):
    args = ["--help"] if command is None else [command, "--help"]
    result = invoke(runner, args)
    assert "Usage:" in result.output
    if command is None:
        for name in COMMANDS:
            assert name in result.output
        return
    cmd = main.commands[command]
    assert cmd.help and len(cmd.help) > 40
    for param in cmd.params:
        if not isinstance(param, click.Option) or param.hidden or param.name == "help":
            continue
        assert param.help, f"{command} {param.opts} has no help text"
        says_default = param.show_default or "[default" in param.help or "[required" in param.help
        assert says_default or param.required, f"{command} {param.opts} hides its default"
        assert param.opts[0] in result.output


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "aekit", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: aekit" in out.stdout


# The main path: train -> encode -> reconstruct -> evaluate -------------------------------------


def test_train_encode_reconstruct_evaluate(runner, data_file, tmp_path):
    run = tmp_path / "run"
    out = invoke(runner, train_args(data_file, run)).output
    assert "train error" in out and "test error" in out
    assert (run / "model" / "config.json").is_file()
    meta = json.loads((run / "run.json").read_text())
    assert meta["metadata"]["data"]["name"] == str(data_file.resolve())
    assert meta["model_config"]["layers"] == [N_FEATURES, 8, 3]
    model = load_model(run / "model")
    x = np.load(data_file)

    # encode: the whole file in order, one code per row; a run dir and a model dir both work.
    invoke(runner, ["encode", run, "--data", data_file, "--out", tmp_path / "codes.npy"])
    codes = np.load(tmp_path / "codes.npy")
    assert codes.shape == (N_SAMPLES, 3)
    np.testing.assert_allclose(codes, model.transform(x), rtol=1e-5, atol=1e-6)
    invoke(runner, ["encode", run / "model", "--data", data_file, "--out", tmp_path / "c.csv"])
    np.testing.assert_allclose(np.loadtxt(tmp_path / "c.csv", delimiter=","), codes, atol=1e-5)
    stdout = invoke(runner, ["encode", run, "--data", data_file, "--split", "test"]).output
    assert len(stdout.strip().splitlines()) == len(load_dataset(data_file).x_test)

    # reconstruct
    invoke(runner, ["reconstruct", run, "--data", data_file, "--out", tmp_path / "recon.npy"])
    recon = np.load(tmp_path / "recon.npy")
    assert recon.shape == x.shape
    np.testing.assert_allclose(recon, model.reconstruct(x), rtol=1e-5, atol=1e-6)

    # evaluate: the numbers are the library's, on load_dataset's test split.
    report = json.loads(invoke(runner, ["evaluate", run, "--data", data_file]).output)
    ds = load_dataset(data_file)
    want = mean_squared_error_per_sample(ds.x_test, model.reconstruct(ds.x_test))
    assert report["code_size"] == 3
    assert report["autoencoder"]["test_squared_error"] == pytest.approx(want, rel=1e-4)
    assert report["autoencoder"]["test_recon"] > 0  # the reconstruction NLL, named once
    pca = PCABaseline(3).fit(ds.x_train)
    want_pca = mean_squared_error_per_sample(ds.x_test, pca.reconstruct(ds.x_test))
    assert report["pca"]["test_squared_error"] == pytest.approx(want_pca, rel=1e-6)
    invoke(runner, ["evaluate", run, "--data", data_file, "--out", tmp_path / "ev.json"])
    assert json.loads((tmp_path / "ev.json").read_text())["n_test"] == len(ds.x_test)


def test_train_refuses_to_overwrite_a_run_without_the_flag(runner, data_file, tmp_path):
    run = tmp_path / "run"
    invoke(runner, train_args(data_file, run, "--epochs", 1))
    result = invoke(runner, train_args(data_file, run, "--epochs", 1), code=2)
    assert "aekit resume" in result.output
    invoke(runner, train_args(data_file, run, "--epochs", 2, "--overwrite"))
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


def test_a_rejected_overwrite_leaves_the_old_run_whole(runner, data_file, tmp_path):
    run = tmp_path / "run"
    invoke(runner, train_args(data_file, run, "--epochs", 1))
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    # Each fails its checks only once the model and trainer exist (or the data is read).
    rejected = [
        ("--optimizer", "lbfgs", "--model", "vae", "--kl-warmup-steps", 5),
        ("--optimizer", "lbfgs", "--model", "aae"),
    ]
    if not torch.cuda.is_available():
        rejected.append(("--device", "cuda"))
    for extra in rejected:
        # Settings that cannot work together are usage errors (exit 2), in flag words.
        result = invoke(runner, train_args(data_file, run, "--overwrite", *extra), code=2)
        assert "Traceback" not in result.output and "=" not in result.output.splitlines()[-1]
        after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
        assert after == before, extra
    invoke(runner, ["encode", run, "--data", data_file, "--out", tmp_path / "codes.npy"])


def test_paths_through_files_and_directories_in_place_of_files_are_one_line_errors(
    runner, data_file, tmp_path
):
    (tmp_path / "afile").write_text("")
    result = invoke(runner, train_args(data_file, tmp_path / "afile" / "run"), code=1)
    assert "Not a directory" in result.output and "Traceback" not in result.output
    run = tmp_path / "run"
    invoke(runner, train_args(data_file, run, "--epochs", 1))
    (tmp_path / "dir.npy").mkdir()
    result = invoke(runner, ["encode", run, "--data", data_file, "--out", tmp_path / "dir.npy"], 1)
    assert "Is a directory" in result.output


def test_config_values_of_the_wrong_type_are_one_line_errors(runner, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[data]\nname = 5\n[train]\nepochs = 1\n")
    result = invoke(runner, ["train", "--config", config, "--out", tmp_path / "r"], 2)
    assert "data name must be a string" in result.output
    config.write_text('[data]\nname = "digits"\n[model]\ntied = "no"\n[train]\nepochs = 1\n')
    # A value the configs refuse is a usage error (exit 2) from a file as from a flag: the
    # run specification checks both before any data is loaded.
    result = invoke(runner, ["train", "--config", config, "--out", tmp_path / "r"], 2)
    assert "tied must be true or false" in result.output
    assert not (tmp_path / "r" / "model").exists()


def test_train_from_toml_config_with_flags_overriding(runner, data_file, tmp_path):
    config = tmp_path / "exp.toml"  # beside the data: its name is relative to the file
    config.write_text(
        f"""
[data]
name = "{data_file.name}"
test_fraction = 0.25

[model]
layers = "auto-6-2"
activation = "tanh"
weight_decay = 1e-4

[train]
epochs = 3
lr = 0.02
batch_size = 32
progress = false
device = "cpu"
threads = 1
lr_gamma = 0.3
adam_betas = [0.5, 0.99]
"""
    )
    run = tmp_path / "run"
    invoke(
        runner, ["train", "--config", config, "--epochs", 2, "--activation", "relu", "--out", run]
    )
    meta = json.loads((run / "run.json").read_text())
    assert meta["model_config"]["layers"] == [N_FEATURES, 6, 2]
    assert meta["model_config"]["activation"] == "relu"  # flag beats file
    assert meta["model_config"]["weight_decay"] == 1e-4  # file beats default
    assert meta["train_config"]["epochs"] == 2
    assert meta["train_config"]["lr"] == 0.02
    assert meta["train_config"]["batch_size"] == 32
    # Fields without a flag come from the file too.
    assert meta["train_config"]["lr_gamma"] == 0.3
    assert meta["train_config"]["adam_betas"] == [0.5, 0.99]
    assert meta["metadata"]["data"]["options"] == {"test_fraction": 0.25}
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2


def test_augment_shift_takes_the_image_shape_from_the_data(runner, data_file, tmp_path):
    run = tmp_path / "digits"
    args = ["train", "--data", "digits", "--epochs", 1, "--augment-shift", 1, "--out", run]
    invoke(runner, [*args, "--no-progress"])
    train_config = json.loads((run / "run.json").read_text())["train_config"]
    assert train_config["augment_shift"] == 1 and train_config["image_shape"] == [8, 8]
    # Greedy pretraining translates the images of the first layer only, not the codes above.
    args = ["train", "--data", "digits", "--epochs", 1, "--augment-shift", 1, "--pretrain", "ae"]
    invoke(runner, [*args, "--layers", "auto-16-4", "--out", tmp_path / "pre", "--no-progress"])
    assert (tmp_path / "pre" / "model" / "model.safetensors").is_file()
    # Rows that are not images: the flag is refused with the way out.
    result = invoke(runner, train_args(data_file, tmp_path / "r", "--augment-shift", 1), code=2)
    assert "image_shape" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("pretrain", ["ae", "rbm"])
def test_pretrain_flag_reaches_stacked_pretraining(runner, data_file, tmp_path, pretrain):
    run = tmp_path / "r"
    args = ["--pretrain", pretrain, "--epochs", 1, "--activation", "logistic"]
    invoke(runner, train_args(data_file, run, *args))
    assert json.loads((run / "run.json").read_text())["metadata"]["pretrain"] == pretrain
    assert (run / "model" / "model.safetensors").is_file()


def test_rbm_pretraining_needs_logistic_units(runner, data_file, tmp_path):
    args = train_args(data_file, tmp_path / "r", "--pretrain", "rbm", "--activation", "relu")
    result = invoke(runner, args, code=2)  # settings that cannot work together: a usage error
    assert "--activation logistic" in result.output and "Traceback" not in result.output


# Interrupt and resume --------------------------------------------------------------------------


class _InterruptAfterEpoch(aekit.train.Trainer):
    """A Trainer that behaves as if Ctrl-C came right after epoch ``stop_after``."""

    stop_after = 2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        def interrupt(trainer, record):
            if record["epoch"] == self.stop_after:
                raise KeyboardInterrupt

        self.callbacks.append(interrupt)


def test_ctrl_c_then_resume_ends_at_the_uninterrupted_weights(
    runner, data_file, tmp_path, monkeypatch
):
    full = tmp_path / "full"
    invoke(runner, train_args(data_file, full, "--epochs", 5, "--lr-schedule", "cosine"))

    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:
        patch.setattr(aekit.spec, "Trainer", _InterruptAfterEpoch)
        result = invoke(
            runner, train_args(data_file, cut, "--epochs", 5, "--lr-schedule", "cosine"), code=130
        )
    assert "aekit resume" in result.output and "ckpt-0001" in result.output
    assert not (cut / "model").exists()
    assert json.loads((cut / "latest.json").read_text())["epoch"] == 1  # 0-based: epoch 2

    # The unfinished run has no model to encode with yet: a clear error, not a traceback.
    result = invoke(runner, ["encode", cut, "--data", data_file], code=2)
    assert "aekit resume" in result.output

    out = invoke(runner, ["resume", cut, "--no-progress"]).output
    assert "for 5 epochs" in out
    want, got = _weights(full / "model"), _weights(cut / "model")
    assert want.keys() == got.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=1e-6)
    assert (cut / "metrics.jsonl").read_text() != ""
    assert len((cut / "metrics.jsonl").read_text().splitlines()) == 5


def test_ctrl_c_in_the_first_epoch_says_there_is_nothing_to_resume(
    runner, data_file, tmp_path, monkeypatch
):
    class Immediately(_InterruptAfterEpoch):
        def fit(self, *args, **kwargs):
            raise KeyboardInterrupt

    monkeypatch.setattr(aekit.spec, "Trainer", Immediately)
    result = invoke(runner, train_args(data_file, tmp_path / "run"), code=130)
    assert "nothing to resume" in result.output


# Bad input: one line through click, never a traceback ------------------------------------------


def _bad_cases(data_file: Path, tmp_path: Path, trained: Path) -> list[tuple[list, str]]:
    wide = tmp_path / "wide.npy"
    np.save(wide, np.zeros((10, N_FEATURES + 1), dtype=np.float32))
    outside = tmp_path / "outside.npy"
    np.save(outside, np.full((10, N_FEATURES), 3.0, dtype=np.float32))
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[model]\nlayer = '12-3'\n")
    broken_toml = tmp_path / "broken.toml"
    broken_toml.write_text("[model\n")
    base = ["train", "--data", data_file, "--out", tmp_path / "r"]
    return [
        ([*base, "--activation", "swish"], "swish"),
        ([*base, "--layers", "abc"], "abc"),
        ([*base, "--layers", "auto"], "code width"),
        ([*base, "--weight-decay", "-1"], "-1"),
        ([*base, "--sparsity-target", "2"], "2"),
        ([*base, "--lr", "0"], "0"),
        ([*base, "--epochs", "0"], "0"),
        ([*base, "--threads", "0"], "0"),
        ([*base, "--pretrain", "dbm"], "dbm"),
        ([*base, "--likelihood", "laplace"], "laplace"),
        ([*base, "--layers", "20-8-3"], "12 features"),
        ([*base, "--data-option", "nokey"], "KEY=VALUE"),
        ([*base, "--config", bad_toml], "layer"),
        ([*base, "--config", broken_toml], "TOML"),
        ([*base, "--config", tmp_path / "none.toml"], "none.toml"),
        (["train", "--data", tmp_path / "missing.npy", "--out", tmp_path / "r"], "missing.npy"),
        (["train", "--data", "no-such-set", "--out", tmp_path / "r"], "no-such-set"),
        (["train", "--out", tmp_path / "r"], "--data"),
        (
            ["train", "--data", outside, "--likelihood", "bernoulli", "--out", tmp_path / "r"],
            "[0, 1]",
        ),
        (["encode", tmp_path, "--data", data_file], "neither"),
        (["encode", tmp_path / "nope", "--data", data_file], "nope"),
        (["encode", trained, "--data", data_file, "--out", tmp_path / "c.txt"], ".npy"),
        (["encode", trained, "--data", wide], "13 features"),
        (["evaluate", trained, "--data", wide], "13 features"),
        (["reconstruct", trained, "--data", data_file], "--out"),
        (["resume", tmp_path], "run.json"),
        (["demo", "--seed", "-3"], "-3"),
    ]


def test_bad_input_is_one_line_error_without_traceback(runner, data_file, tmp_path):
    trained = tmp_path / "trained"
    invoke(runner, train_args(data_file, trained, "--epochs", 1))
    for args, mention in _bad_cases(data_file, tmp_path, trained):
        result = runner.invoke(main, [str(a) for a in args])
        context = (args, result.output)
        assert result.exit_code in (1, 2), context
        assert isinstance(result.exception, SystemExit), (context, result.exception)
        assert "Traceback" not in result.output, context
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("Error:")]
        assert len(errors) == 1 and errors[0] == lines[-1], context
        assert mention in errors[0], context


# The demo ------------------------------------------------------------------------------------


def test_demo_end_to_end_writes_report_figures_and_sane_results(runner, tmp_path):
    out = tmp_path / "demo"
    result = invoke(runner, ["demo", "--preset", "tiny", "--out", out, "--no-progress"])
    assert "report:" in result.output and "autoencoder" in result.output

    results = json.loads((out / "results.json").read_text())
    curves = results["datasets"]["curves"]["methods"]
    digits = results["datasets"]["digits"]["methods"]
    for methods, code_size in ((curves, 6), (digits, 2)):
        assert set(methods) == {"autoencoder", "PCA"}
        for entry in methods.values():
            assert entry["code_size"] == code_size
            assert entry["train_error"] > 0 and entry["test_error"] > 0
            assert entry["wall_time_s"] > 0
    # The headline of the paper, even at this size: the autoencoder beats PCA on curves
    # (measured: 4.71 against 6.88).
    assert curves["autoencoder"]["test_error"] < curves["PCA"]["test_error"]
    for entry in digits.values():
        assert 0.1 < entry["knn_accuracy"] <= 1.0  # better than chance over 10 classes
    assert len(results["datasets"]["curves"]["history"]) >= 1

    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == [
        "curves_reconstructions.png",
        "digits_codes_2d.png",
        "digits_reconstructions.png",
        "errors.png",
        "learning_curves.png",
    ]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(pngs)
    assert "<table>" in page and "kNN accuracy" in page
    assert load_model(out / "models" / "curves").config.layers[-1] == 6
