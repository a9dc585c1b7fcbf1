"""The Hinton & Salakhutdinov (2006) reproduction pipeline, on a tiny stand-in experiment."""

import dataclasses
import json

import numpy as np
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
    # A cached stage that lacks what the run needs is named with the way out.
    (out / "baselines.json").write_text("{}")
    with pytest.raises(ValueError, match=r"baselines\.json lacks .*delete it"):
        run_experiment("tiny", out, progress=False)
    # Stage clocks are kept in the folder; the reruns only add their loading time.
    clocks = json.loads((out / "timings.json").read_text())
    assert set(clocks) == {"pretrain_s", "finetune_s", "no_pretraining_s"}
    assert all(clocks[k] >= first["timings_s"][k] for k in clocks)


def test_augmented_fine_tuning_is_recorded_and_guarded(tiny, tmp_path, monkeypatch):
    """An experiment with augment_shift fine-tunes on translated images (the 8x8 digits), says
    so in its results, and its folder refuses a run without the augmentation."""
    shifted = dataclasses.replace(tiny, augment_shift=1)
    monkeypatch.setitem(hinton2006.EXPERIMENTS, "tiny", shifted)
    out = tmp_path / "run"
    res = run_experiment("tiny", out, ablation=False, progress=False)
    assert res["settings"]["augment_shift"] == 1
    assert "translated by up to 1 px" in res["optimizer"]
    monkeypatch.setitem(hinton2006.EXPERIMENTS, "tiny", tiny)
    with pytest.raises(ValueError, match="augment_shift"):
        run_experiment("tiny", out, ablation=False, progress=False)


def test_unknown_experiment():
    with pytest.raises(ValueError, match="curves"):
        run_experiment("nope", "/tmp/never-written", progress=False)


def test_reuse_pretraining_lends_matching_bottom_layers(tiny, monkeypatch, tmp_path):
    """A run with a different code size borrows the other run's matching bottom RBMs, which
    are the ones it would have trained itself (same data, seed and epochs)."""
    first = tmp_path / "first"
    run_experiment("tiny", first, ablation=False, progress=False)
    wider = Experiment(**{**tiny.__dict__, "name": "wider", "layers": "64-32-8-2"})
    monkeypatch.setitem(hinton2006.EXPERIMENTS, "wider", wider)
    own, lent = tmp_path / "own", tmp_path / "lent"
    run_experiment("wider", own, ablation=False, progress=False)
    run_experiment("wider", lent, ablation=False, progress=False, reuse_pretraining=first)
    assert not (lent / "pretrain" / "rbm-0-run").exists()  # borrowed, not trained
    assert (lent / "pretrain" / "rbm-1-run").exists()  # 32-8 differs from 32-2: trained
    for k in range(3):
        mine = (own / "pretrain" / f"rbm-{k}" / "model.safetensors").read_bytes()
        theirs = (lent / "pretrain" / f"rbm-{k}" / "model.safetensors").read_bytes()
        assert mine == theirs


def test_reuse_pretraining_refuses_other_settings(tiny, tmp_path):
    first = tmp_path / "first"
    run_experiment("tiny", first, ablation=False, progress=False, seed=1)
    with pytest.raises(ValueError, match="seed differ"):
        run_experiment("tiny", tmp_path / "b", progress=False, reuse_pretraining=first)
    with pytest.raises(ValueError, match=r"no settings\.json"):
        run_experiment("tiny", tmp_path / "c", progress=False, reuse_pretraining=tmp_path)


def test_2d_maps_are_scored_on_a_random_split_of_a_class_sorted_test_set(
    tiny, monkeypatch, tmp_path
):
    """MNIST's test set comes sorted by class; scoring the second half of it with a kNN fit on
    the first half would put every query among neighbours of other classes."""
    from dataclasses import replace

    real_load = hinton2006.load_dataset

    def sorted_load(*args, **kwargs):
        data = real_load(*args, **kwargs)
        order = np.argsort(data.y_test, kind="stable")
        return replace(data, x_test=data.x_test[order], y_test=data.y_test[order])

    monkeypatch.setattr(hinton2006, "load_dataset", sorted_load)
    acc = run_experiment("tiny", tmp_path / "run", ablation=False, progress=False)[
        "knn_accuracy_2d"
    ]
    # PCA's 2-D map of the digits scores about 0.6 on a random split; a sorted split gives ~0.
    assert acc["PCA (2)"] > 0.4, acc
