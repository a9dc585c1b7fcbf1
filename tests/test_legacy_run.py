"""Run folders and models saved before the run specification (aekit at aa46e18) still load,
and their interrupted runs resume to the very weights an uninterrupted run ended with."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from click.testing import CliRunner

from aekit.atomic import load_tensors
from aekit.cli import main
from aekit.models import Autoencoder
from aekit.saving import load_model
from aekit.spec import load_run_spec, resume

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_run"


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_model_saved_by_the_old_code_loads():
    model = load_model(FIXTURE / "model")
    assert isinstance(model, Autoencoder)
    assert model.config.layers == [64, 8, 2]
    _assert_same_weights(model.state_dict(), load_tensors(FIXTURE / "model" / "model.safetensors"))


def test_the_old_run_json_reads_as_a_run_spec():
    spec = load_run_spec(FIXTURE / "interrupted")
    assert spec.model == "autoencoder" and spec.data.name == "digits"
    assert spec.model_config["layers"] == [64, 8, 2]
    assert spec.train["epochs"] == 3 and spec.train["seed"] == 3


def test_an_old_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE / "interrupted", run_dir)
    _, history = resume(run_dir, {"progress": False}, threads=1)
    assert len(history.records) == 3
    _assert_same_weights(
        load_tensors(run_dir / "model" / "model.safetensors"),
        load_tensors(FIXTURE / "model" / "model.safetensors"),
    )


def test_aekit_resume_continues_an_old_run(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE / "interrupted", run_dir)
    result = CliRunner().invoke(main, ["resume", str(run_dir), "--no-progress", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "for 3 epochs" in result.output
    _assert_same_weights(
        load_tensors(run_dir / "model" / "model.safetensors"),
        load_tensors(FIXTURE / "model" / "model.safetensors"),
    )
