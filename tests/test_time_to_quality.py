"""benchmarks/time_to_quality.py: its schedule, its error measure, its snapshots, its hand recipe
and its target checks (the contenders themselves are measured by the script, not here)."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import time_to_quality as ttq


def test_onecycle_lr_hits_its_closed_form_points():
    peak = ttq.HAND_PEAK_LR
    assert ttq.onecycle_lr(0.0) == pytest.approx(peak / 25)
    assert ttq.onecycle_lr(0.15) == pytest.approx((peak / 25 + peak) / 2)  # half the rise
    assert ttq.onecycle_lr(0.3) == pytest.approx(peak)
    assert ttq.onecycle_lr(0.65) == pytest.approx(peak / 2)  # half the fall
    assert ttq.onecycle_lr(1.0) == pytest.approx(0.0, abs=1e-12)
    assert ttq.onecycle_lr(1.7) == ttq.onecycle_lr(1.0)  # past the budget: stays at 0
    rise = [ttq.onecycle_lr(p) for p in np.linspace(0, 0.3, 20)]
    fall = [ttq.onecycle_lr(p) for p in np.linspace(0.3, 1, 20)]
    assert np.all(np.diff(rise) > 0) and np.all(np.diff(fall) < 0)


def test_test_error_is_the_squared_error_summed_over_pixels_and_averaged_over_rows():
    rng = np.random.default_rng(0)
    x = rng.random((2_503, 784), dtype=np.float32)  # not a multiple of the batch size
    zeros = ttq.test_error(torch.zeros_like, x)
    assert zeros == pytest.approx(float((x.astype(np.float64) ** 2).sum(1).mean()), rel=1e-5)
    assert ttq.test_error(lambda xb: xb, x) == 0.0
    half = ttq.test_error(lambda xb: torch.full_like(xb, 0.5), x, batch_size=97)
    assert half == pytest.approx(float(((x.astype(np.float64) - 0.5) ** 2).sum(1).mean()), 1e-5)


def test_curve_snapshots_every_early_epoch_then_about_snapshots_per_budget():
    budget, epoch_s = 300.0, 2.5
    curve = ttq.Curve(budget)
    taken = []
    for k in range(1, int(budget / epoch_s) + 1):
        t = k * epoch_s
        if curve.due(t):
            curve.snapshots.append((t, k, "epoch", {}))
            taken.append(t)
    assert taken[:4] == [2.5, 5.0, 7.5, 10.0]  # every epoch while the curve moves fastest
    assert ttq.SNAPSHOTS // 2 <= len(taken) <= ttq.SNAPSHOTS + 15  # bounded memory
    gaps = np.diff(taken)
    assert gaps.max() <= budget / ttq.SNAPSHOTS + epoch_s  # no hole in the curve


def test_curve_take_clones_the_weights():
    layer = torch.nn.Linear(3, 2)
    curve = ttq.Curve(10.0)
    curve.take(layer, "epoch", t=1.0)
    before = layer.weight.detach().clone()
    with torch.no_grad():
        layer.weight.add_(1.0)
    t, epochs, kind, state = curve.snapshots[0]
    assert (t, epochs, kind) == (1.0, 0, "epoch")
    assert torch.equal(state["weight"], before)
    points = curve.evaluate(lambda s: float(s["weight"].sum()))
    assert points == [
        {"seconds": 1.0, "epochs": 0, "kind": "epoch", "test_error": float(before.sum())}
    ]


def test_hand_recipe_learns_within_its_budget():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    # 256 images made of 8 prototypes: something a few seconds of training can learn.
    prototypes = (rng.random((8, 784)) < 0.2).astype(np.float32)
    x = prototypes[rng.integers(0, 8, 256)]
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # its first use imports for seconds
    curve = ttq.Curve(budget=3.0)
    model = ttq.train_hand(x, curve)
    model.eval()

    def error_of(state: dict) -> float:
        model.load_state_dict(state)
        return ttq.test_error(lambda xb: torch.sigmoid(model(xb)), x)

    points = curve.evaluate(error_of)
    print([(p["seconds"], p["epochs"], round(p["test_error"], 1)) for p in points])
    assert points[-1]["kind"] == "end" and points[-1]["epochs"] == curve.epochs >= 2
    untrained = ttq.test_error(lambda xb: torch.full_like(xb, 0.5), x)  # logits near 0
    assert points[-1]["test_error"] < 0.5 * untrained
    assert points[-1]["test_error"] <= points[0]["test_error"]


def _rows(aekit: float, hand: float) -> dict:
    return {"aekit": {"final": {"test_error": aekit}}, "hand": {"final": {"test_error": hand}}}


def test_checks_follow_the_issue_targets():
    by_name = {c["name"]: c for c in ttq.checks(_rows(2.9, 2.95), 300.0, quick=False)}
    assert by_name["aekit_at_or_below_hand"]["pass"] is True
    assert by_name["aekit_at_or_below_paper_where_hand_is"]["pass"] is True
    assert by_name["aekit_at_or_below_paper_where_hand_is"]["applies"] is True
    assert by_name["aekit_at_1800s"]["pass"] is None  # not a 1800 s run
    by_name = {c["name"]: c for c in ttq.checks(_rows(3.02, 3.04), 300.0, quick=False)}
    assert by_name["aekit_at_or_below_hand"]["pass"] is True
    # The hand recipe missed the paper's 3.00 on this machine: that target says nothing.
    assert by_name["aekit_at_or_below_paper_where_hand_is"]["pass"] is None
    assert by_name["aekit_at_or_below_paper_where_hand_is"]["applies"] is False
    by_name = {c["name"]: c for c in ttq.checks(_rows(2.1, 1.9), 1800.0, quick=False)}
    assert by_name["aekit_at_or_below_hand"]["pass"] is False
    assert by_name["aekit_at_1800s"]["pass"] is False and by_name["aekit_at_1800s"]["applies"]
    quick = ttq.checks(_rows(2.9, 2.95), 6.0, quick=True)
    assert not any(c["applies"] for c in quick)


def test_the_job_carries_the_budget_asked_for():
    job = ttq.make_job(300.0, 2, quick=False)
    assert (job["budget"], job["threads"], job["data_options"]) == (300.0, 2, {})
    job = ttq.make_job(4.0, 1, quick=True)
    assert job["budget"] == 4.0
    assert job["data_options"] == {"n_train": 10_000, "n_test": 2_000}


def test_default_output_names():
    assert ttq.default_out(300.0, quick=False).name == "time_to_quality.json"
    assert ttq.default_out(1800.0, quick=False).name == "time_to_quality_1800s.json"
    assert ttq.default_out(6.0, quick=True).name == "time_to_quality_quick.json"


@pytest.mark.slow
def test_quick_run_of_the_hand_recipe_writes_a_curve(tmp_path):
    data_dir = os.environ.get("AEKIT_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "mnist").is_dir():
        pytest.skip("MNIST not found under $AEKIT_DATA_DIR/mnist")
    out = tmp_path / "ttq.json"
    assert ttq.main(["--quick", "--only", "hand", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    curve = result["contenders"]["hand"]["curve"]
    assert curve[-1]["kind"] == "end" and math.isfinite(curve[-1]["test_error"])
    assert curve[-1]["test_error"] < 60  # an untrained autoencoder scores about 50-100
    assert result["setup"]["data"]["n_train"] == ttq.QUICK["n_train"]
    assert out.with_suffix(".png").is_file()
