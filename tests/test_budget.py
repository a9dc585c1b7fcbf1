"""Time budgets, the one-cycle schedule and sparse checkpoints (TrainConfig.time_budget,
lr_schedule="onecycle", checkpoint_seconds)."""

import json
import math
import time

import numpy as np
import pytest
import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.spec import MAX_EPOCHS, DataSpec, RunSpec
from aekit.train import budget as budget_module
from aekit.train.budget import BudgetClock
from aekit.train.pretrain import PRETRAIN_BUDGET_SHARE, layer_budgets
from aekit.train.trainer import ONECYCLE_DIV, ONECYCLE_FINAL_DIV, onecycle_factor

pytestmark = pytest.mark.usefixtures("one_thread")

# torch's first optimizer imports torch._dynamo (2-3 s): done once here, so the budgets below
# time training rather than that import.
torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


def make_data(n=256, d=16, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random((n, 3))
    return (1 / (1 + np.exp(-(z @ rng.normal(size=(3, d)) * 2)))).astype(np.float32)


def new_model(seed=0):
    torch.manual_seed(seed)
    return Autoencoder(AutoencoderConfig(layers=[16, 8, 3], activation="elu"))


class LrLog:
    """Records the learning rate of every optimizer step."""

    def __init__(self, trainer):
        self.lrs = []
        step = trainer._step

        def logged(xb, yb, autocast):
            self.lrs.append(trainer.optimizer.param_groups[0]["lr"])
            return step(xb, yb, autocast)

        trainer._step = logged


# The schedule ---------------------------------------------------------------------------------


def test_onecycle_factor_closed_form():
    assert onecycle_factor(0.0, 0.3) == pytest.approx(1 / ONECYCLE_DIV)
    assert onecycle_factor(0.3, 0.3) == pytest.approx(1.0)
    assert onecycle_factor(1.0, 0.3) == pytest.approx(1 / ONECYCLE_FINAL_DIV)
    # Half-way up is the mean of start and peak; half-way down the mean of peak and floor.
    assert onecycle_factor(0.15, 0.3) == pytest.approx((1 / ONECYCLE_DIV + 1) / 2)
    assert onecycle_factor(0.65, 0.3) == pytest.approx((1 + 1 / ONECYCLE_FINAL_DIV) / 2)
    p = np.linspace(0, 1, 401)
    f = np.array([onecycle_factor(v, 0.3) for v in p])
    peak = int(np.argmax(f))
    assert np.all(np.diff(f[: peak + 1]) >= 0) and np.all(np.diff(f[peak:]) <= 0)
    assert p[peak] == pytest.approx(0.3, abs=0.003)


def test_onecycle_is_set_every_batch_over_the_epochs():
    x = make_data(200)
    cfg = TrainConfig(
        epochs=4, batch_size=50, lr=2e-3, lr_schedule="onecycle", val_fraction=0, progress=False
    )
    trainer = Trainer(new_model(), cfg)
    log = LrLog(trainer)
    trainer.fit(x)
    n_batches = 4
    expected = [
        2e-3 * onecycle_factor((e + b / n_batches) / 4, 0.3) for e in range(4) for b in range(4)
    ]
    np.testing.assert_allclose(log.lrs, expected, rtol=1e-12)


def test_epoch_schedules_are_unchanged_without_a_budget():
    # The old per-epoch cosine: lr * (1 + cos(pi * epoch / epochs)) / 2 at each epoch's start.
    cfg = TrainConfig(epochs=5, lr=1.0, lr_schedule="cosine")
    assert [cfg.lr_at(e) for e in range(5)] == pytest.approx(
        [0.5 * (1 + math.cos(math.pi * e / 5)) for e in range(5)]
    )


# The clock ------------------------------------------------------------------------------------


def test_clock_keeps_the_end_of_the_run_back(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(budget_module.time, "perf_counter", lambda: now[0])
    clock = BudgetClock(10.0, start=100.0, before=2.0)  # 2 s used by an earlier session
    clock.origin = 3.0  # the first batch began 3 s in
    assert clock.used() == 2.0
    clock.timed_end(1.0, save_seconds=0.5)  # validation + checkpoint 1 s, of which save 0.5 s
    reserve = budget_module.END_MARGIN * 1.5
    assert clock.reserve() == pytest.approx(reserve)
    clock.batch_seconds = 0.25
    now[0] = 100.0 + (10 - reserve - 0.25 - 2.0) - 1e-6  # just before the last batch that fits
    assert not clock.spent()
    now[0] += 2e-6
    assert clock.spent()
    # Progress runs from the first batch (3 s) to the budget less the reserve.
    now[0] = 100.0 + 1.0
    assert clock.progress() == 0.0
    now[0] = 100.0 + (3.0 + 10 - reserve) / 2 - 2.0
    assert clock.progress() == pytest.approx(0.5)
    assert BudgetClock(None, 0.0).progress() == 0.0 and not BudgetClock(None, 0.0).spent()


# Budgets in real runs ---------------------------------------------------------------------------


def test_a_budget_ends_training_in_time_with_the_schedule_at_its_floor(tmp_path):
    x = make_data(2000)
    budget = 2.0
    cfg = TrainConfig(
        epochs=100000,
        batch_size=32,
        lr=2e-3,
        lr_schedule="onecycle",
        time_budget=budget,
        progress=False,
    )
    trainer = Trainer(new_model(), cfg, run_dir=tmp_path / "run")
    log = LrLog(trainer)
    start = time.perf_counter()
    hist = trainer.fit(x)
    wall = time.perf_counter() - start
    assert hist.out_of_time and not hist.stopped_early
    # The final save writes a model card, which scores PCA (evaluation, not training).
    assert 0.6 * budget < wall < budget + 0.5
    state = json.loads((tmp_path / "run" / (_latest(tmp_path / "run")) / "state.json").read_text())
    assert state["out_of_time"] and state["finished"] and state["seconds"] <= budget
    # The run went through its whole cycle: up to the peak and down to (near) the floor.
    assert max(log.lrs) == pytest.approx(2e-3, rel=0.05)
    assert log.lrs[-1] < 0.05 * 2e-3
    assert hist.records[-1].get("batches", 0) >= 0  # the last epoch may be cut short
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


def _latest(run):
    return json.loads((run / "latest.json").read_text())["checkpoint"]


def test_resume_continues_the_same_budget(tmp_path):
    x = make_data(400)
    cfg = TrainConfig(
        epochs=100000, batch_size=32, lr_schedule="onecycle", time_budget=2.5, progress=False
    )

    def stop_after_two(trainer, record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(), cfg, run_dir=tmp_path, callbacks=[stop_after_two]).fit(x)
    first = json.loads((tmp_path / _latest(tmp_path) / "state.json").read_text())
    assert 0 < first["seconds"] < 2.5 and not first["finished"]
    start = time.perf_counter()
    hist = Trainer(new_model(), cfg, run_dir=tmp_path).fit(x, resume=True)
    second = time.perf_counter() - start
    final = json.loads((tmp_path / _latest(tmp_path) / "state.json").read_text())
    assert hist.out_of_time and final["seconds"] <= 2.5
    # The resumed session had only what the first one left (plus its own setup).
    assert second < 2.5 - first["seconds"] + 1.0
    assert final["budget_origin"] == first["budget_origin"]
    # A finished run resumes to nothing.
    records = len(hist.records)
    again = Trainer(new_model(), cfg, run_dir=tmp_path).fit(x, resume=True)
    assert len(again.records) == records


def test_sparse_checkpoints_resume_to_the_same_weights(tmp_path):
    x = make_data(256)
    cfg = TrainConfig(epochs=6, batch_size=64, lr=5e-3, checkpoint_seconds=3600, progress=False)
    whole = new_model()
    Trainer(whole, cfg, run_dir=tmp_path / "whole").fit(x)
    assert json.loads((tmp_path / "whole" / "latest.json").read_text())["epoch"] == 5
    lines = (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 5, 6]

    def stop_at_four(trainer, record):
        if record["epoch"] == 4:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        Trainer(new_model(), cfg, run_dir=cut, callbacks=[stop_at_four]).fit(x)
    # Only the first epoch had a checkpoint: the hour had not passed.
    assert json.loads((cut / "latest.json").read_text())["epoch"] == 0
    resumed = new_model(seed=1)
    Trainer(resumed, cfg, run_dir=cut).fit(x, resume=True)
    a, b = whole.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    lines = (cut / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4, 5, 6]


def test_a_callback_stop_between_checkpoints_is_saved(tmp_path):
    x = make_data(256)
    cfg = TrainConfig(epochs=6, batch_size=64, checkpoint_seconds=3600, progress=False)
    Trainer(new_model(), cfg, run_dir=tmp_path, callbacks=[lambda t, r: r["epoch"] == 3]).fit(x)
    state = json.loads((tmp_path / _latest(tmp_path) / "state.json").read_text())
    assert state["epoch"] == 2 and state["finished"]


def test_a_spec_with_only_a_budget_lets_the_budget_decide():
    spec = RunSpec(data=DataSpec("digits"), train={"time_budget": 30})
    data = spec.data.load()
    _, train, _, _ = spec.configs(data)
    assert train.epochs == MAX_EPOCHS and train.time_budget == 30
    _, train, _, _ = spec.with_overrides(train={"epochs": 3}).configs(data)
    assert train.epochs == 3


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "soon"])
def test_bad_budgets_are_refused_by_name(bad):
    with pytest.raises((ValueError, TypeError), match="time_budget"):
        TrainConfig(time_budget=bad)


@pytest.mark.slow
def test_a_compiled_objective_trains_like_the_eager_one():
    # torch.compile fuses the objective's elementwise work; the updates are the same ones
    # (no random draws in this model's loss), so the weights agree to float rounding.
    x = make_data(300)
    models = []
    for compiled in (False, True):
        model = new_model()
        cfg = TrainConfig(epochs=2, batch_size=100, compile=compiled, progress=False)
        Trainer(model, cfg).fit(x)
        models.append(model.state_dict())
    for key in models[0]:
        torch.testing.assert_close(models[1][key], models[0][key], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pretrain", ["ae", "rbm"])
def test_pretraining_spends_its_share_of_the_budget(pretrain, tmp_path):
    # Half the budget for the layers, in proportion to their weights, then fine-tuning: a
    # budget with no epoch count must not leave pretraining a million epochs per layer.
    spec = RunSpec(
        data=DataSpec("digits"),
        model_config={"layers": "auto-32-8-2", "activation": "logistic"},
        train={"time_budget": 4.0, "progress": False},
        pretrain=pretrain,
    )
    start = time.perf_counter()
    run = spec.build(started=start)
    pretrained = time.perf_counter() - start
    history = run.fit(tmp_path)
    wall = time.perf_counter() - start
    assert history.out_of_time
    assert 0.5 < pretrained < 4.0 * PRETRAIN_BUDGET_SHARE + 1.0
    assert wall < 4.0 + 1.5  # plus the model card's PCA comparison after the final save


def test_layer_budgets_follow_the_weights():
    budgets = layer_budgets([784, 1000, 500, 250, 30], 100.0)
    assert sum(budgets) == pytest.approx(PRETRAIN_BUDGET_SHARE * 100.0)
    assert budgets[0] / budgets[1] == pytest.approx(784 * 1000 / (1000 * 500))
