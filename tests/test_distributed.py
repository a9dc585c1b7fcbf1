"""Data-parallel training: 2 CPU processes (gloo) against 1, resume across world sizes,
rank-0-only output, models with phases and surrogate gradients, and a failing rank.

The multi-process tests start their ranks as plain subprocesses with torchrun's environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), each running this file as a script;
the one-process references run in the test process itself, through the same ``run_job``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.distributed as dist

from aekit.models.aae import AAEConfig, AdversarialAutoencoder
from aekit.models.autoencoder import Autoencoder, AutoencoderConfig
from aekit.rbm.rbm import RBM, RBMConfig
from aekit.saving import load_model
from aekit.train import NonFiniteLossError, TrainConfig, Trainer
from aekit.train.distributed import (
    DistributedContext,
    init_distributed,
    shard_bounds,
    shutdown_distributed,
    world_from_env,
)

needs_gloo = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available in this build",
)

# 201 rows, 40 held out: 161 training rows are 5 global batches of 32 and a last one of a
# single row, which leaves rank 1 nothing (the zero-weight stand-in row path).
N_SAMPLES, N_FEATURES = 201, 20
TRAIN = {"batch_size": 32, "val_fraction": 0.2, "seed": 0, "progress": False}
TOL = 1e-5  # relative, one process against two: float32 sums in another order
TIMED = ("seconds", "samples_per_s")
# Averaged weights, validated and snapshotted; early stopping on a loose min_delta.
EMA = {"epochs": 6, "ema_decay": 0.9, "patience": 1, "min_delta": 0.4, "lr": 0.01}
# Random translations of 4x5 "images": drawn for the global batch, so sharding leaves them.
AUGMENT = {"epochs": 3, "augment_shift": 1, "image_shape": (4, 5)}


def make_data() -> np.ndarray:
    rng = np.random.default_rng(0)
    z = rng.random((N_SAMPLES, 3))
    x = 1.0 / (1.0 + np.exp(-2.0 * z @ rng.normal(size=(3, N_FEATURES))))  # in (0, 1)
    return x.astype(np.float32)


def build_model(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)  # the same initial weights in every process
    if kind == "autoencoder":
        return Autoencoder(AutoencoderConfig(layers=[N_FEATURES, 8, 3]))
    if kind == "gaussian":  # diverges at a large learning rate
        return Autoencoder(AutoencoderConfig(layers=[N_FEATURES, 8, 3], likelihood="gaussian"))
    if kind == "rbm":
        return RBM(RBMConfig(n_visible=N_FEATURES, n_hidden=8))
    if kind == "pcd":
        return RBM(RBMConfig(n_visible=N_FEATURES, n_hidden=8, persistent=True, n_chains=10))
    if kind == "aae":
        return AdversarialAutoencoder(
            AAEConfig(layers=[N_FEATURES, 8, 2], discriminator_layers=[8])
        )
    raise ValueError(kind)


class Interrupted(Exception):
    """Stands for a crash after a given epoch: its checkpoint is kept."""


def run_job(job: dict) -> list[dict]:
    """Train as ``job`` says; the per-epoch records (up to an interruption, if any)."""
    x = make_data()
    data = sp.csr_matrix(x) if job.get("sparse") else x
    rank = int(os.environ.get("RANK", "0"))

    def events(trainer, record):
        fail = job.get("fail")
        if fail and rank == fail["rank"] and record["epoch"] == fail["epoch"]:
            if fail["how"] == "hang":
                time.sleep(600)
            raise RuntimeError(f"rank {rank} fails on purpose")
        if record["epoch"] == job.get("stop_after"):
            raise Interrupted
        if job.get("weight_sum"):  # each rank's own weights: equal only if every update was
            record["weight_sum"] = sum(float(p.double().sum()) for p in trainer.model.parameters())

    cfg = TrainConfig(**{**TRAIN, **job["train"]})
    if cfg.time_budget is not None:
        # torch's first optimizer imports torch._dynamo (seconds): not the budget's to pay.
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    run_dir = job.get("run_dir_of_rank", {}).get(str(rank), job.get("run_dir"))
    trainer = Trainer(build_model(job["model"]), cfg, run_dir=run_dir, callbacks=[events])
    try:
        trainer.fit(data, resume=job.get("resume", False))
    except Interrupted:
        pass
    except NonFiniteLossError as err:
        return [{"error": str(err)}]
    return trainer.history.records


def launch(
    tmp_path: Path,
    jobs: list[dict],
    world_size: int = 2,
    timeout: float = 120,
    grace: float = 20,
    **env: str,
) -> tuple[list[int | None], list[str], list[list | None]]:
    """Start ``world_size`` ranks on ``jobs``; their exit codes, outputs and records.

    Once one rank has failed the others get ``grace`` seconds to follow before they are
    killed (torchrun's agent kills them at once), so a rank that hangs ends as a kill.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tmp_path / f"jobs-{port}.json"
    spec.write_text(json.dumps(jobs))
    procs, logs = [], []
    for rank in range(world_size):
        rank_env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world_size),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
            "AEKIT_DIST_TIMEOUT": "60",
            **env,
        }
        logs.append(tmp_path / f"rank{rank}-{port}.log")
        with open(logs[-1], "w") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, str(spec), str(tmp_path / f"rank{rank}.json")],
                    env=rank_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + timeout
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            if any(p.poll() not in (None, 0) for p in procs):
                deadline = min(deadline, time.monotonic() + grace)
            time.sleep(0.1)
    finally:
        for p in procs:  # a rank still running is the test's to end
            if p.poll() is None:
                p.kill()
            p.wait()
    outputs = [log.read_text() for log in logs]
    records = []
    for rank in range(world_size):
        path = tmp_path / f"rank{rank}.json"
        records.append(json.loads(path.read_text()) if path.is_file() else None)
    return [p.returncode for p in procs], outputs, records


def launched(tmp_path: Path, jobs: list[dict], **kw) -> list[list[dict]]:
    """Records of rank 0 for each job, after checking every rank succeeded and agreed."""
    codes, outputs, records = launch(tmp_path, jobs, **kw)
    wrote = [r is not None for r in records]
    assert codes == [0, 0], f"records written: {wrote}\n" + "\n".join(outputs)
    for r0, r1 in zip(*records):  # every number all-reduced: the same bits on both ranks
        assert [_untimed(r) for r in r0] == [_untimed(r) for r in r1]
    return records[0]


def _untimed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMED}


def assert_same_curve(got: list[dict], want: list[dict], rtol: float = TOL) -> None:
    assert [r["epoch"] for r in got] == [r["epoch"] for r in want]
    for g, w in zip(got, want):
        assert _untimed(g).keys() == _untimed(w).keys()
        for key in _untimed(w):
            np.testing.assert_allclose(
                g[key], w[key], rtol=rtol, err_msg=f"{key}, epoch {w['epoch']}"
            )


@pytest.fixture(autouse=True)
def _one_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as each launched rank runs
    yield
    torch.set_num_threads(before)


# Without processes ---------------------------------------------------------------------------


def test_shards_cover_every_row_once_and_differ_by_at_most_one():
    for n in range(12):
        for world in (1, 2, 3, 5):
            bounds = [shard_bounds(n, r, world) for r in range(world)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            sizes = [hi - lo for lo, hi in bounds]
            assert max(sizes) - min(sizes) <= 1


def test_environment_is_read_like_torchrun_sets_it():
    assert world_from_env({}) == (0, 1, 0)
    assert world_from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}) == (3, 4, 1)
    with pytest.raises(ValueError, match="RANK is not"):
        world_from_env({"WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        world_from_env({"WORLD_SIZE": "2", "RANK": "2"})
    with pytest.raises(ValueError, match="not an integer"):
        world_from_env({"WORLD_SIZE": "two", "RANK": "0"})


def test_one_process_has_no_process_group_and_collectives_are_identities():
    ctx = init_distributed("cpu")
    assert ctx == DistributedContext(device=torch.device("cpu"))
    assert not ctx.enabled and ctx.is_main and not dist.is_initialized()
    t = torch.tensor([1.0, 2.0])
    assert ctx.all_reduce_sum(t) is t and ctx.any(True) and not ctx.any(False)
    with pytest.raises(KeyError):
        ctx.run_together(lambda: {}["missing"])


# Two processes -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, list[dict]]:
    """One-process runs of the jobs the two-process runs must reproduce."""
    torch.set_num_threads(1)
    return {
        "adam": run_job({"model": "autoencoder", "train": {"epochs": 4}}),
        "sgd_sparse": run_job(
            {"model": "autoencoder", "sparse": True, "train": {"epochs": 2, "optimizer": "sgd"}}
        ),
        "lbfgs": run_job(
            {"model": "autoencoder", "train": {"epochs": 2, "optimizer": "lbfgs", "lr": 1.0}}
        ),
        "ema": run_job({"model": "autoencoder", "train": EMA}),
        "augment": run_job({"model": "autoencoder", "train": AUGMENT}),
    }


@needs_gloo
def test_two_processes_follow_the_one_process_curve(tmp_path, reference):
    run = tmp_path / "run"
    jobs = [
        {"model": "autoencoder", "train": {"epochs": 4}, "run_dir": str(run)},
        {"model": "autoencoder", "sparse": True, "train": {"epochs": 2, "optimizer": "sgd"}},
        {"model": "autoencoder", "train": {"epochs": 2, "optimizer": "lbfgs", "lr": 1.0}},
        {"model": "autoencoder", "train": EMA},
        {"model": "autoencoder", "train": AUGMENT},
    ]
    adam, sgd_sparse, lbfgs, ema, augment = launched(tmp_path, jobs)
    assert_same_curve(adam, reference["adam"])
    assert_same_curve(sgd_sparse, reference["sgd_sparse"])
    assert_same_curve(lbfgs, reference["lbfgs"], rtol=1e-4)  # line searches compare values
    assert_same_curve(ema, reference["ema"])
    assert_same_curve(augment, reference["augment"])
    assert len(ema) < EMA["epochs"]  # both stopped early, at the same epoch
    assert adam[-1]["train_loss"] < adam[0]["train_loss"]

    # Rank 0 alone wrote the run: one metrics line per epoch, its records, its final model.
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [_untimed(json.loads(line)) for line in lines] == [_untimed(r) for r in adam]
    assert sorted(p.name for p in run.iterdir()) == [
        ".lock", "ckpt-0003", "latest.json", "metrics.jsonl", "model", "run.json"
    ]  # fmt: skip
    single = build_model("autoencoder")
    Trainer(single, TrainConfig(**{**TRAIN, "epochs": 4})).fit(make_data())
    saved = load_model(run / "model").state_dict()
    for key, value in single.state_dict().items():
        torch.testing.assert_close(saved[key], value, rtol=1e-4, atol=1e-6)


@needs_gloo
def test_ranks_share_one_clock_under_a_time_budget(tmp_path):
    # Each rank times itself; the one-cycle rate and the stop follow the slowest rank's clock,
    # synced every `log_every` batches, so both ranks apply the same rates and stop together.
    budget = {"epochs": 100000, "time_budget": 5.0, "lr_schedule": "onecycle", "log_every": 2}
    job = {"model": "autoencoder", "train": budget, "weight_sum": True}
    records = launched(tmp_path, [job])[0]  # every rank's records, weight sums included, agree
    lrs = [r["lr"] for r in records]  # each epoch's first rate: up, then down, in 5 seconds
    assert len(lrs) >= 3 and lrs[0] < max(lrs) and lrs[-1] < max(lrs) / 10


@needs_gloo
@pytest.mark.parametrize("worlds", [(2, 1), (1, 2)])
def test_a_run_resumes_on_another_number_of_processes(tmp_path, reference, worlds):
    run = str(tmp_path / "run")
    first = {"model": "autoencoder", "train": {"epochs": 4}, "run_dir": run, "stop_after": 2}
    second = {"model": "autoencoder", "train": {"epochs": 4}, "run_dir": run, "resume": True}
    if worlds[0] == 2:
        launched(tmp_path, [first])
        records = run_job(second)
    else:
        run_job(first)
        (records,) = launched(tmp_path, [second])
    assert len(records) == 4
    assert_same_curve(records, reference["adam"])
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 4


@needs_gloo
def test_a_rank_that_cannot_read_the_checkpoint_stops_every_rank(tmp_path):
    # As on two machines without a shared filesystem: rank 1 sees an empty run directory.
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    run_job({"model": "autoencoder", "train": {"epochs": 2}, "run_dir": str(run), "stop_after": 1})
    job = {
        "model": "autoencoder",
        "train": {"epochs": 2},
        "run_dir": str(run),
        "run_dir_of_rank": {"1": str(elsewhere)},
        "resume": True,
    }
    codes, outputs, _ = launch(tmp_path, [job], timeout=60)
    assert codes[0] != 0 and codes[1] != 0
    assert "nothing to resume" in outputs[1] and "filesystem they all share" in outputs[1]
    assert "rank 1 of 2 failed: ValueError: nothing to resume" in outputs[0], outputs[0]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # rank 0 wrote nothing new


@needs_gloo
def test_rbm_and_adversarial_autoencoder_train_on_two_processes(tmp_path):
    jobs = [
        {"model": "rbm", "train": {"epochs": 2, "optimizer": "sgd", "lr": 0.1}},
        {"model": "pcd", "train": {"epochs": 2, "optimizer": "sgd", "lr": 0.05}},
        {"model": "aae", "train": {"epochs": 2}},
        {"model": "gaussian", "train": {"epochs": 2, "optimizer": "sgd", "lr": 100.0}},
    ]
    results = launched(tmp_path, jobs)
    # A diverging run stops on both ranks at the same batch, as it does in one process.
    assert results.pop() == run_job(jobs[-1])
    for records in results:
        assert len(records) == 2
        for record in records:
            assert all(np.isfinite(v) for v in record.values()), record
    aae = results[2]
    # All three players trained: their losses are logged, each from its own phase.
    assert {"train_recon", "train_discriminator", "train_generator"} <= aae[0].keys()


@needs_gloo
@pytest.mark.parametrize("how", ["raise", "hang"])
def test_a_failing_rank_ends_the_run_instead_of_hanging_it(tmp_path, how):
    job = {
        "model": "autoencoder",
        "train": {"epochs": 50},
        "fail": {"rank": 1, "epoch": 1, "how": how},
    }
    t0 = time.monotonic()
    # Rank 1 hangs: rank 0's collective times out after 5 s, and then rank 1 is killed.
    grace = 1 if how == "hang" else 20
    codes, outputs, _ = launch(tmp_path, [job], timeout=90, grace=grace, AEKIT_DIST_TIMEOUT="5")
    assert codes[0] != 0 and codes[1] != 0
    assert "PeerFailedError" in outputs[0] and "lost contact" in outputs[0], outputs[0]
    if how == "raise":
        assert "rank 1 fails on purpose" in outputs[1]
    assert time.monotonic() - t0 < 60  # the 5 s collective timeout, not the 50 epochs


@needs_gloo
def test_cli_under_torchrun_prints_and_writes_once(tmp_path):
    data = tmp_path / "x.npy"
    np.save(data, make_data())
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(name, None)
    args = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "aekit", "train", "--data", str(data), "--layers", "auto-8-3", "--epochs", "2",
        "--batch-size", "32", "--no-progress", "--device", "cpu", "--out", str(run),
    ]  # fmt: skip
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("trained a 20-8-3 autoencoder") == 1, out.stdout
    assert out.stdout.count("model saved to") == 1
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert (run / "model" / "config.json").is_file()


if __name__ == "__main__":  # one rank of a launch(): run the jobs, rank by rank records
    jobs = json.loads(Path(sys.argv[1]).read_text())
    results = [run_job(job) for job in jobs]
    Path(sys.argv[2]).write_text(json.dumps(results))
    # Leave the group as the CLI does: a process that exits with gloo's threads still
    # running can abort at interpreter shutdown ("terminate called without an active
    # exception", which failed CI once).
    shutdown_distributed()
