"""The Hinton & Salakhutdinov (2006) reproduction pipeline, on a tiny stand-in experiment."""

import json

import pytest

from aekit.experiments import hinton2006
from aekit.experiments.hinton2006 import Experiment, run_experiment


@pytest.fixture
def tiny(monkeypatch):
    exp = Experiment(
        name="tiny",
        dataset="digits",
        layers="64-32-2",
        likelihood="bernoulli",
        paper={},
        target="plumbing only",
        baseline_sizes=(2,),
        rbm_epochs=2,
        finetune_epochs=3,
        batch_size=64,
    )
    monkeypatch.setitem(hinton2006.EXPERIMENTS, "tiny", exp)
    return exp


def test_pipeline_writes_results_report_and_resumes(tiny, tmp_path):
    out = tmp_path / "run"
    first = run_experiment("tiny", out, progress=False)
    methods = first["methods"]
    assert set(methods) == {
        "autoencoder (2)",
        "PCA (2)",
        "logistic PCA (2)",
        "autoencoder (2), no pretraining",
    }
    assert all(v["test_error"] > 0 for v in methods.values())
    assert set(first["knn_accuracy_2d"]) == {"autoencoder", "PCA (2)", "logistic PCA (2)"}
    saved = json.loads((out / "results.json").read_text())
    assert saved["methods"] == methods
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "autoencoder (2)" in html
    for k in range(2):
        assert (out / "pretrain" / f"rbm-{k}" / "model.safetensors").is_file()
    # Rerunning the same folder reuses every stage and gives the same numbers.
    again = run_experiment("tiny", out, progress=False)
    assert again["methods"] == methods
    # Other settings in the same folder are refused instead of silently mixed.
    with pytest.raises(ValueError, match="other settings"):
        run_experiment("tiny", out, seed=1, progress=False)


def test_unknown_experiment():
    with pytest.raises(ValueError, match="curves"):
        run_experiment("nope", "/tmp/never-written", progress=False)
