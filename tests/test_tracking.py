"""Experiment tracking: what TensorBoard's and MLflow's own readers find equals metrics.jsonl.

A short run on the digits (the third epoch's learning rate is 1000 times the first two's, so
early stopping's best epoch is not the last one) is logged by each tool; the records are read
back with TensorBoard's EventAccumulator and MLflow's client on a local SQLite store, no
server, and compared with the run folder's metrics.jsonl, run.json and figure.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from aekit import TrainConfig, Trainer
from aekit.data import load_dataset
from aekit.extras import MissingExtraError
from aekit.models import Autoencoder
from aekit.train.tracking import (
    MLflowLogger,
    TensorBoardLogger,
    final_record,
    hyperparameters,
    make_logger,
)

FIGURE = "figures/learning_curves.png"
# Epoch 3 runs at 1000x the rate (lr_gamma every 2 epochs) and does worse than epoch 2.
TRAIN = dict(
    epochs=3, batch_size=128, lr=1e-3, lr_schedule="step", lr_step_epochs=2, lr_gamma=1000.0,
    val_fraction=0.2, progress=False,
)  # fmt: skip


def draw_learning_curves(trainer, record):
    """A run that draws a figure: its learning curves, redrawn after every epoch."""
    from aekit.viz.figures import learning_curves, save_figure

    fig = learning_curves({"run": trainer.history.records})
    save_figure(fig, Path(trainer.run_dir) / FIGURE)
    import matplotlib.pyplot as plt

    plt.close(fig)


def train(run_dir: Path, logger, **overrides):
    torch.manual_seed(0)
    model = Autoencoder(layers=[64, 16, 4])
    trainer = Trainer(
        model,
        TrainConfig(**{**TRAIN, **overrides}),
        run_dir=run_dir,
        callbacks=[draw_learning_curves, logger],
        run_metadata={"command": "pytest", "data": {"name": "digits"}},
    )
    trainer.fit(load_dataset("digits").x_train)
    return trainer


def read_records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def png_pixels(data: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(data), format="png")[:, :, :3]


# TensorBoard ---------------------------------------------------------------------------------


def event_accumulator(log_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory):
    pytest.importorskip("tensorboard", reason="needs the extra: pip install 'aekit[tensorboard]'")
    run_dir = tmp_path_factory.mktemp("tb") / "run"
    trainer = train(run_dir, TensorBoardLogger())
    return trainer, run_dir


def test_tensorboard_scalars_equal_metrics_jsonl(tensorboard_run):
    trainer, run_dir = tensorboard_run
    records = read_records(run_dir)
    assert len(records) == 3 and trainer.history.best_epoch == 2  # not the last epoch
    acc = event_accumulator(run_dir / "tensorboard")
    keys = set(records[0]) - {"epoch"}
    assert keys >= {"train_loss", "train_recon", "val_recon", "val_squared_error", "lr"}
    for key in keys:
        events = acc.Scalars(key)
        assert [e.step for e in events] == [1, 2, 3]
        # TensorBoard keeps scalars as float32.
        assert [e.value for e in events] == [np.float32(r[key]) for r in records], key
    final = records[1]  # the best epoch, whose weights the run ends with
    assert final_record(trainer) == final
    for key in keys:
        (event,) = acc.Scalars(f"final/{key}")
        assert (event.step, event.value) == (3, np.float32(final[key]))
    assert set(acc.Tags()["scalars"]) == keys | {f"final/{k}" for k in keys}


def test_tensorboard_hyperparameters_are_the_runs_settings(tensorboard_run):
    from tensorboard.plugins.hparams import plugin_data_pb2

    trainer, run_dir = tensorboard_run
    acc = event_accumulator(run_dir / "tensorboard")
    contents = acc.PluginTagToContent("hparams")
    data = [plugin_data_pb2.HParamsPluginData.FromString(c) for c in contents.values()]
    (start,) = [d.session_start_info for d in data if d.HasField("session_start_info")]
    hp = dict(start.hparams)
    run = json.loads((run_dir / "run.json").read_text())
    assert hp["model"].string_value == run["model"] == "autoencoder"
    assert hp["model.layers"].string_value == json.dumps(run["model_config"]["layers"])
    assert hp["train.lr"].number_value == run["train_config"]["lr"] == 1e-3
    assert hp["train.lr_schedule"].string_value == "step"
    assert hp["train.restore_best"].number_value == 1  # torch writes bools as numbers
    assert hp["train.patience"].string_value == "null"
    assert hp["run.data.name"].string_value == "digits"
    assert set(hp) == set(hyperparameters(trainer))
    (experiment,) = [d.experiment for d in data if d.HasField("experiment")]
    metric_names = {m.name.tag for m in experiment.metric_infos}
    assert "final/val_recon" in metric_names


def test_tensorboard_holds_the_runs_figure(tensorboard_run):
    _, run_dir = tensorboard_run
    acc = event_accumulator(run_dir / "tensorboard")
    (event,) = acc.Images(FIGURE)
    want = png_pixels((run_dir / FIGURE).read_bytes())
    got = png_pixels(event.encoded_image_string)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1 / 255 + 1e-6  # TensorBoard stores 8-bit pixels


def test_tensorboard_needs_somewhere_to_write(tmp_path):
    pytest.importorskip("tensorboard")
    trainer = Trainer(Autoencoder(layers=[64, 4]), TrainConfig(epochs=1, progress=False),
                      callbacks=[TensorBoardLogger()])  # fmt: skip
    with pytest.raises(ValueError, match="pass log_dir, or give the Trainer a run_dir"):
        trainer.fit(load_dataset("digits").x_train)


# MLflow --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory):
    pytest.importorskip("mlflow", reason="needs the extra: pip install 'aekit[mlflow]'")
    pytest.importorskip("sqlalchemy", reason="needs the extra: pip install 'aekit[mlflow]'")
    # One SQLite store for the module: creating its tables takes seconds.
    root = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root / 'mlflow.db'}", str(root / "artifacts")


@pytest.fixture(scope="module")
def mlflow_run(mlflow_store, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ml") / "digits-ae"
    uri, artifacts = mlflow_store
    logger = MLflowLogger(tracking_uri=uri, experiment="tests", artifact_location=artifacts)
    trainer = train(run_dir, logger)
    return trainer, run_dir, logger.run_id


def test_mlflow_metrics_params_and_figure_equal_the_run_folders(mlflow_store, mlflow_run):
    from mlflow.tracking import MlflowClient

    trainer, run_dir, run_id = mlflow_run
    client = MlflowClient(tracking_uri=mlflow_store[0])
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "digits-ae"
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "tests"
    assert experiment.artifact_location.endswith(mlflow_store[1])
    records = read_records(run_dir)
    keys = set(records[0]) - {"epoch"}
    for key in keys:
        history = sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)
        assert [(m.step, m.value) for m in history] == [(r["epoch"], r[key]) for r in records]
    final = records[trainer.history.best_epoch - 1]
    assert {k: run.data.metrics[f"final_{k}"] for k in keys} == {k: final[k] for k in keys}
    assert run.data.tags["aekit.best_epoch"] == "2"
    expected = {k: str(v) for k, v in hyperparameters(trainer).items()}
    assert run.data.params == expected
    assert run.data.params["train.lr_gamma"] == "1000.0"
    (artifact,) = client.list_artifacts(run_id, "figures")
    assert artifact.path == FIGURE
    local = client.download_artifacts(run_id, FIGURE, str(run_dir.parent))
    assert Path(local).read_bytes() == (run_dir / FIGURE).read_bytes()
    assert json.loads((run_dir / "mlflow.json").read_text())["run_id"] == run_id


class Interrupted(Exception):
    pass


def test_mlflow_resumed_run_continues_the_same_mlflow_run(mlflow_store, tmp_path):
    from mlflow.tracking import MlflowClient

    run_dir = tmp_path / "resumed"
    data = load_dataset("digits").x_train
    cfg = TrainConfig(**{**TRAIN, "epochs": 4})

    def crash_after_two(trainer, record):
        if record["epoch"] == 2:
            raise Interrupted

    uri, artifacts = mlflow_store
    first = MLflowLogger(tracking_uri=uri, experiment="tests", artifact_location=artifacts)
    torch.manual_seed(0)
    model = Autoencoder(layers=[64, 16, 4])
    with pytest.raises(Interrupted):
        Trainer(model, cfg, run_dir=run_dir, callbacks=[first, crash_after_two]).fit(data)
    second = MLflowLogger(tracking_uri=uri, experiment="tests")
    Trainer(model, cfg, run_dir=run_dir, callbacks=[second]).fit(data, resume=True)
    assert second.run_id == first.run_id
    client = MlflowClient(tracking_uri=uri)
    steps = [m.step for m in client.get_metric_history(first.run_id, "train_loss")]
    assert sorted(steps) == [1, 2, 3, 4]
    assert client.get_run(first.run_id).info.status == "FINISHED"


# Rank 0 only -------------------------------------------------------------------------------


def test_only_rank_zero_writes(tmp_path, mlflow_store):
    pytest.importorskip("tensorboard")
    other_rank = SimpleNamespace(context=SimpleNamespace(is_main=False))
    record = {"epoch": 1, "train_loss": 1.0}
    tb = TensorBoardLogger(tmp_path / "tb")
    ml = MLflowLogger(tracking_uri=f"sqlite:///{tmp_path / 'never.db'}")
    assert tb(other_rank, record) is None and ml(other_rank, record) is None
    assert list(tmp_path.iterdir()) == [] and ml.run_id is None


def test_under_torchrun_one_event_file_holds_the_run(tmp_path):
    pytest.importorskip("tensorboard")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(name, None)
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
            "2", __file__, str(tmp_path)]  # fmt: skip
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    events = list((tmp_path / "tensorboard").iterdir())
    assert len(events) == 1 and events[0].name.startswith("events.out.tfevents")
    records = read_records(tmp_path / "run")
    acc = event_accumulator(tmp_path / "tensorboard")
    assert [e.value for e in acc.Scalars("train_loss")] == [
        np.float32(r["train_loss"]) for r in records
    ]


# Choosing a logger by name -------------------------------------------------------------------


def test_make_logger_maps_names_and_refuses_others(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    tb = make_logger("tensorboard", tmp_path / "run")
    assert isinstance(tb, TensorBoardLogger) and tb.log_dir == tmp_path / "run" / "tensorboard"
    ml = make_logger("mlflow", tmp_path / "run")
    assert isinstance(ml, MLflowLogger) and ml.run_name == "run"
    with pytest.raises(ValueError) as err:
        make_logger("wandb", tmp_path)
    assert (
        str(err.value) == "unknown tracking tool 'wandb'; choose one of ['tensorboard', 'mlflow']"
    )


@pytest.mark.parametrize("name, module", [("tensorboard", "tensorboard"), ("mlflow", "mlflow")])
def test_a_tracking_extra_not_installed_is_one_line(tmp_path, monkeypatch, name, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(MissingExtraError) as err:
        make_logger(name, tmp_path)
    assert "\n" not in str(err.value)
    assert str(err.value).endswith(f"pip install 'aekit[{name}]'")


# The command line --------------------------------------------------------------------------


def test_aekit_train_log_tensorboard(tmp_path, runner):
    pytest.importorskip("tensorboard")
    from aekit.cli import main

    run = tmp_path / "run"
    args = ["train", "--data", "digits", "--layers", "auto-8", "--epochs", "2", "--no-progress",
            "--out", str(run), "--log", "tensorboard"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    records = read_records(run)
    acc = event_accumulator(run / "tensorboard")
    for key in ("train_loss", "val_recon"):
        assert [e.value for e in acc.Scalars(key)] == [np.float32(r[key]) for r in records]


def test_aekit_train_log_without_the_extra_is_one_line(tmp_path, runner, monkeypatch):
    from aekit.cli import main

    monkeypatch.setitem(sys.modules, "mlflow", None)
    args = ["train", "--data", "digits", "--epochs", "1", "--out", str(tmp_path / "run"),
            "--log", "mlflow"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.output == (
        "Error: MLflow logging needs the mlflow package, which is not installed: "
        "pip install 'aekit[mlflow]'\n"
    )
    assert not (tmp_path / "run").exists()  # refused before anything was written
    result = runner.invoke(main, [*args[:-1], "wandb"])
    assert (
        result.exit_code == 2 and "'wandb' is not one of 'tensorboard', 'mlflow'" in result.output
    )


if __name__ == "__main__":  # one rank of the torchrun test: train with a TensorBoard logger
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    cfg = TrainConfig(epochs=2, batch_size=64, progress=False, device="cpu")
    torch.manual_seed(0)
    trainer = Trainer(Autoencoder(layers=[64, 8]), cfg, run_dir=out / "run",
                      callbacks=[TensorBoardLogger(out / "tensorboard")])  # fmt: skip
    trainer.fit(load_dataset("digits").x_train)
    from aekit.train import shutdown_distributed

    shutdown_distributed()
