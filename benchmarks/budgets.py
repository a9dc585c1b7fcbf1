"""The deep autoencoders of Hinton & Salakhutdinov (Science 2006) under a time budget, trained by
aekit's default recipe from a random start: the issue's long-budget targets.

Each target is one `aekit train` run made through :class:`aekit.spec.RunSpec` (the same calls
as the command line): the data set, the paper's layers and ``time_budget``; everything else is
what aekit's default recipe fills in. The test error (squared error summed over pixels,
averaged over test images) is set beside PCA's at the target's number of components, fitted
on the same training rows.

Targets (2 CPU cores):

- ``mnist``: 784-1000-500-250-30, 1800 s: test error <= 2.0;
- ``curves``: 784-400-200-100-50-25-6, 900 s: <= 0.09 x PCA-18's test error;
- ``faces``: 625-2000-1000-500-30, 1800 s: <= 0.88 x PCA-30's test error.

Usage::

    python benchmarks/budgets.py --only mnist            # one target
    python benchmarks/budgets.py --budget-scale 0.05     # every target at 5% of its budget
    python benchmarks/budgets.py --only faces --threads 1 --tag t1

Results go to ``benchmarks/results/budgets_<name>[_tag].json``. ``--set KEY=VALUE`` overrides a
TrainConfig field of the recipe (e.g. ``--set augment_shift=1`` to try translations).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_machine, write_result
from aekit.baselines import PCABaseline
from aekit.evaluate import mean_squared_error_per_sample
from aekit.spec import DataSpec, RunSpec

RESULTS = Path(__file__).resolve().parent / "results"

#: name -> (data set, layers, budget seconds, PCA components, kind of target, target value)
TARGETS = {
    "mnist": ("mnist", "auto-1000-500-250-30", 1800.0, 30, "error", 2.0),
    "curves": ("curves", "auto-400-200-100-50-25-6", 900.0, 18, "ratio", 0.09),
    "faces": ("faces", "auto-2000-1000-500-30", 1800.0, 30, "ratio", 0.88),
}


def parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = json.loads(value) if value not in ("", None) else value
    return out


def run_target(name: str, scale: float, train_overrides: dict, threads: int | None) -> dict:
    data_name, layers, budget, k, kind, target = TARGETS[name]
    budget *= scale
    started = time.perf_counter()
    spec = RunSpec(
        data=DataSpec(data_name),
        model_config={"layers": layers},
        train={"time_budget": budget, "progress": False, **train_overrides},
        threads=threads,
        command="benchmarks/budgets.py",
    )
    load_avg_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as run_dir:
        run = spec.build(started=started)
        history = run.fit(run_dir)
        wall = time.perf_counter() - started
        ds = run.data
        model = run.model
        error = float(mean_squared_error_per_sample(ds.x_test, model.reconstruct(ds.x_test)))
        train_recon = model.reconstruct(ds.x_train[:10000])
        train_error = float(mean_squared_error_per_sample(ds.x_train[:10000], train_recon))
    pca = PCABaseline(k).fit(ds.x_train)
    pca_error = float(mean_squared_error_per_sample(ds.x_test, pca.reconstruct(ds.x_test)))
    ratio = error / pca_error
    measured = error if kind == "error" else ratio
    records = history.records
    return {
        "name": name,
        "data": data_name,
        "layers": layers,
        "time_budget_s": budget,
        "wall_s_build_to_saved": wall,
        "epochs": len(records),
        "last_epoch_batches": records[-1].get("batches"),
        "out_of_time": history.out_of_time,
        "best_epoch": history.best_epoch,
        "recipe": run.recipe,
        "train_overrides": train_overrides,
        "test_error": error,
        "train_error_first_10000": train_error,
        "pca_components": k,
        "pca_test_error": pca_error,
        "ratio_to_pca": ratio,
        "target": {"kind": kind, "value": target, "measured": measured, "met": measured <= target},
        "curve": [
            {
                "epoch": r["epoch"],
                "seconds_in_epoch": r["seconds"],
                "val_squared_error": r.get("val_squared_error"),
            }
            for r in records
        ],
        "load_average_start": load_avg_start,
        "load_average_end": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(TARGETS), action="append")
    parser.add_argument("--budget-scale", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tag", default="")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = parse_sets(args.set)
    for name in args.only or sorted(TARGETS):
        print(f"{name}: training for {TARGETS[name][2] * args.budget_scale:.0f} s", flush=True)
        try:
            result = run_target(name, args.budget_scale, overrides, args.threads)
        except (ValueError, OSError) as err:  # e.g. the data set is not there
            print(f"skipped {name}: {err}")
            continue
        result.update(
            benchmark="budgets",
            date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            command="python benchmarks/budgets.py " + " ".join(argv or sys.argv[1:]),
            machine={**cpu_machine(), "torch_threads": torch.get_num_threads()},
        )
        t = result["target"]
        print(
            f"{name}: test error {result['test_error']:.4f}, PCA-{result['pca_components']} "
            f"{result['pca_test_error']:.4f}, "
            f"ratio {result['ratio_to_pca']:.4f}, {result['epochs']} epochs; target "
            f"{t['kind']} <= {t['value']}: {'met' if t['met'] else 'MISSED'} "
            f"({t['measured']:.4f})",
            flush=True,
        )
        suffix = f"_{args.tag}" if args.tag else ""
        write_result(RESULTS / f"budgets_{name}{suffix}.json", result)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
