"""A run folder nothing can spoil: one run at a time (an OS lock naming its holder), an old run
kept whole until a new one has proved itself, no resume/train loop after an early kill, and a
data fingerprint that refuses a resume on other data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import aekit.spec
from aekit.atomic import read_json
from aekit.cli import main
from aekit.models import Autoencoder, AutoencoderConfig
from aekit.train import NonFiniteLossError, TrainConfig, Trainer
from aekit.train.run_folder import RunFolder, RunFolderBusyError, data_fingerprint

N_SAMPLES, N_FEATURES = 60, 10


@pytest.fixture
def data_file(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "x.npy"
    np.save(path, rng.random((N_SAMPLES, N_FEATURES), dtype=np.float32))
    return path


def train_args(data_file: Path, out: Path, *extra) -> list[str]:
    return [str(a) for a in (
        "train", "--data", data_file, "--layers", "auto-6-2", "--epochs", 2, "--batch-size", 16,
        "--no-progress", "--device", "cpu", "--threads", 1, "--out", out, *extra,
    )]  # fmt: skip


def invoke(args: list[str], code: int = 0):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, (result.output, result.exception)
    return result


def fit(run_dir: Path, x: np.ndarray, resume: bool = False, **kw):
    model = Autoencoder(AutoencoderConfig(layers=[N_FEATURES, 6, 2]))
    cfg = TrainConfig(epochs=2, batch_size=16, progress=False, device="cpu")
    return Trainer(model, cfg, run_dir=run_dir).fit(x, resume=resume, **kw)


# The lock -----------------------------------------------------------------------------------


def test_a_locked_folder_is_refused_naming_the_holder(tmp_path, data_file):
    holder = RunFolder(tmp_path / "run")
    with holder.locked():
        assert (tmp_path / "run" / ".lock").read_text().strip() == str(os.getpid())
        x = np.load(data_file)
        with pytest.raises(RunFolderBusyError, match=f"PID {os.getpid()}"):
            fit(tmp_path / "run", x)
        # The command line says the same in one line, and --overwrite deletes nothing.
        result = invoke(train_args(data_file, tmp_path / "run", "--overwrite"), 1)
        assert f"in use by another aekit run (PID {os.getpid()})" in result.output
        assert "Traceback" not in result.output
    fit(tmp_path / "run", np.load(data_file))  # free again once the holder lets go


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = (
        "import sys, time\n"
        "from aekit.train.run_folder import RunFolder\n"
        f"RunFolder({str(tmp_path / 'run')!r}).lock()\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderBusyError, match=f"PID {proc.pid}"):
            RunFolder(tmp_path / "run").lock()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    folder = RunFolder(tmp_path / "run")
    folder.lock()  # kill -9 released it: the OS drops a dead process's locks
    folder.unlock()


# --overwrite keeps the old run until the new one has proved itself ---------------------------


class _DivergesInFirstEpoch(Trainer):
    def _train_epoch(self, epoch, data, bar):
        raise NonFiniteLossError("non-finite loss at epoch 1, batch 1")


def test_a_diverging_overwrite_keeps_the_old_run(tmp_path, data_file, monkeypatch):
    run = tmp_path / "run"
    invoke(train_args(data_file, run))
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    before.pop(Path(".lock"))
    # A new run that diverges in its first epoch never checkpoints.
    monkeypatch.setattr(aekit.spec, "Trainer", _DivergesInFirstEpoch)
    result = invoke(train_args(data_file, run, "--overwrite"), 1)
    assert "non-finite" in result.output
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    after.pop(Path(".lock"))
    assert after == before  # the old model, run.json, metrics and checkpoint, byte for byte
    assert not (run / ".staging").exists()


def test_a_successful_overwrite_replaces_the_old_run(tmp_path, data_file):
    run = tmp_path / "run"
    invoke(train_args(data_file, run))
    invoke(train_args(data_file, run, "--overwrite", "--epochs", "3"))
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
    assert read_json(run / "run.json")["train_config"]["epochs"] == 3
    assert sorted(p.name for p in run.iterdir()) == [
        ".lock", "ckpt-0002", "latest.json", "metrics.jsonl", "model", "run.json"
    ]  # fmt: skip


def test_a_swap_cut_short_is_undone_or_finished(tmp_path):
    # The old run moved aside, the new one not yet in: the next open puts the old one back.
    root = tmp_path / "run"
    (root / ".replaced" / "model").mkdir(parents=True)
    (root / ".replaced" / "latest.json").write_text('{"checkpoint": "ckpt-0001"}')
    (root / ".replaced" / "run.json").write_text("{}")
    (root / ".staging").mkdir()
    RunFolder(root).recover()
    assert sorted(p.name for p in root.iterdir()) == ["latest.json", "model", "run.json"]
    # The new one fully in (latest.json moved last): the old one is dropped.
    (root / ".replaced").mkdir()
    (root / ".replaced" / "stale").write_text("old")
    RunFolder(root).recover()
    assert not (root / ".replaced").exists() and (root / "latest.json").is_file()


# No loop after a kill in the first epoch ------------------------------------------------------


class _KilledInFirstEpoch(Trainer):
    def _train_epoch(self, epoch, data, bar):
        raise KeyboardInterrupt


def test_a_run_killed_before_its_first_checkpoint_can_be_resumed_or_retrained(
    tmp_path, data_file, monkeypatch
):
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(aekit.spec, "Trainer", _KilledInFirstEpoch)
        invoke(train_args(data_file, run), 130)
    assert (run / "run.json").is_file() and not (run / "latest.json").exists()
    # resume starts it again from its saved specification...
    result = invoke(["resume", str(run), "--no-progress"])
    assert "starting the run again" in result.output and (run / "model").is_dir()
    # ...and a folder holding only such a run is train's to take over, without --overwrite.
    with monkeypatch.context() as patch:
        patch.setattr(aekit.spec, "Trainer", _KilledInFirstEpoch)
        invoke(train_args(data_file, tmp_path / "other"), 130)
    invoke(train_args(data_file, tmp_path / "other"))


# The data fingerprint -----------------------------------------------------------------------


class _StopAfterFirst(Trainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.callbacks.append(lambda trainer, record: True)


def test_resume_refuses_other_data_unless_forced(tmp_path, data_file):
    x = np.load(data_file)
    model = Autoencoder(AutoencoderConfig(layers=[N_FEATURES, 6, 2]))
    cfg = TrainConfig(epochs=2, batch_size=16, progress=False, device="cpu")
    _StopAfterFirst(model, cfg, run_dir=tmp_path / "run").fit(x)
    (tmp_path / "run" / "latest.json").unlink()  # as if killed: re-point at the checkpoint
    (tmp_path / "run" / "latest.json").write_text('{"checkpoint": "ckpt-0000", "epoch": 0}')
    state = read_json(tmp_path / "run" / "ckpt-0000" / "state.json")
    state["finished"] = False
    (tmp_path / "run" / "ckpt-0000" / "state.json").write_text(__import__("json").dumps(state))
    assert state["fingerprint"] == data_fingerprint(x)
    other = x.copy()
    other[0, 0] = 1.0 - other[0, 0]  # one value in a fingerprinted row (row 0 always is)
    with pytest.raises(ValueError, match="the data differs"):
        fit(tmp_path / "run", other, resume=True)
    history = fit(tmp_path / "run", other, resume=True, force_data=True)
    assert len(history.records) == 2


def test_the_fingerprint_sees_shape_values_and_dtype_but_not_the_container():
    x = np.random.default_rng(1).random((500, 7), dtype=np.float32)
    fp = data_fingerprint(x)
    import torch

    assert data_fingerprint(torch.from_numpy(x))["sample_sha256"] == fp["sample_sha256"]
    assert data_fingerprint(x[:-1])["shape"] != fp["shape"]
    y = x.copy()
    y[-1, 3] = 0.0  # the last row is always sampled
    assert data_fingerprint(y)["sample_sha256"] != fp["sample_sha256"]


def test_an_old_folder_without_a_fingerprint_resumes_with_a_warning(tmp_path):
    import shutil

    fixture = Path(__file__).parent / "fixtures" / "legacy_run" / "interrupted"
    shutil.copytree(fixture, tmp_path / "run")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aekit.spec.resume(tmp_path / "run", {"progress": False}, threads=1)
    assert any("before runs recorded a fingerprint" in str(w.message) for w in caught)


def test_resuming_a_finished_run_says_so_and_touches_nothing(tmp_path, data_file):
    run = tmp_path / "run"
    invoke(train_args(data_file, run))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    result = invoke(["resume", str(run), "--no-progress"], 1)
    assert "has finished (epoch 2); there is nothing to resume" in result.output
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
