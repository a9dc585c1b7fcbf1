"""``aekit reproduce hinton2006``: what the command passes to the library and prints. The
reproductions themselves are tested through the library (test_hinton2006.py,
test_documents_experiment.py); here the library call is replaced by a recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

import aekit.cli.reproduce
from aekit.cli import main

HINTON_RESULTS = {
    "methods": {"autoencoder (6)": {"test_error": 1.6512}, "PCA (18)": {"test_error": 16.66}},
    "paper": {"autoencoder (6)": 1.44, "PCA (18)": 5.9},
    "checks": {"AE-6 below logistic PCA-18": True, "AE-6 <= 0.24 x PCA-18": False},
}
DOCS_RESULTS = {
    "precision": {"AE-10": {"1": 0.5, "10": 0.4}, "LSA-10": {"1": 0.3, "10": 0.25}},
    "knn_accuracy_2d": {"AE-2": 0.61},
    "hash_speedup": {"hash-32": 13.4},
    "checks": {"AE-10 above LSA-10": True},
}


@pytest.fixture
def calls(monkeypatch, tmp_path) -> list:
    monkeypatch.chdir(tmp_path)
    calls: list = []

    def fake_hinton(experiment, out, **kwargs):
        calls.append(("hinton2006", experiment, out, kwargs))
        return HINTON_RESULTS

    def fake_documents(out, **kwargs):
        calls.append(("docs", out, kwargs))
        return DOCS_RESULTS

    monkeypatch.setattr(aekit.cli.reproduce, "run_hinton2006", fake_hinton)
    monkeypatch.setattr(aekit.cli.reproduce, "run_documents", fake_documents)
    return calls


def test_hinton2006_passes_every_flag_and_prints_ours_beside_the_paper(runner, calls):
    args = ["reproduce", "hinton2006", "curves", "--quick", "--no-ablation", "--seed", "3",
            "--bf16", "--no-progress"]  # fmt: skip
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    [(_, experiment, out, kwargs)] = calls
    assert experiment == "curves" and out == Path("runs/hinton2006-curves-quick")
    assert kwargs == {
        "quick": True, "seed": 3, "data_dir": None, "ablation": False, "bf16": True,
        "progress": False, "reuse_pretraining": None,
    }  # fmt: skip
    lines = result.output.splitlines()
    assert lines[1].split() == ["autoencoder", "(6)", "1.651", "1.44"]
    assert lines[2].split() == ["PCA", "(18)", "16.660", "5.9"]
    assert "target AE-6 below logistic PCA-18: met" in lines
    assert "target AE-6 <= 0.24 x PCA-18: NOT met" in lines
    assert lines[-1] == f"report: {Path('runs/hinton2006-curves-quick/report.html').resolve()}"


def test_docs_prints_precision_maps_and_search_speed(runner, calls, tmp_path):
    result = runner.invoke(main, ["reproduce", "hinton2006", "docs", "--out", tmp_path / "d"])
    assert result.exit_code == 0, result.output
    [(_, out, kwargs)] = calls
    assert out == tmp_path / "d" and kwargs["ablation"] is True and kwargs["quick"] is False
    lines = result.output.splitlines()
    assert lines[0].split() == ["method", "P@1", "P@10"]
    assert lines[1].split() == ["AE-10", "0.500", "0.400"]
    assert "2-D map AE-2: 5-NN accuracy 0.610" in lines
    assert "hash-32 top-10 search: 13.4x faster than AE-10 cosine" in lines
    assert "target AE-10 above LSA-10: met" in lines


@pytest.mark.parametrize(
    "flag, words", [(["--bf16"], "drop --bf16"), (["--reuse-pretraining", "."], "own RBM stacks")]
)
def test_docs_refuses_what_it_cannot_do_before_running(runner, calls, flag, words):
    result = runner.invoke(main, ["reproduce", "hinton2006", "docs", *flag])
    assert result.exit_code == 2 and words in result.output and not calls
    assert "Traceback" not in result.output


def test_an_interrupted_run_says_how_to_resume(runner, calls, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(aekit.cli.reproduce, "run_hinton2006", interrupted)
    result = runner.invoke(main, ["reproduce", "hinton2006", "mnist", "--out", "r"])
    assert result.exit_code == 130
    assert "finished stages are kept in r; run the same command again" in result.output
