"""Defaults against PCA (issue 24): aekit's autoencoder as users get it, beside PCA.

Every run goes through :class:`aekit.spec.RunSpec`, the specification behind ``aekit train``, the
TOML files and Python, so it measures what a user gets: the run's settings are the ones the spec
fills in (aekit's default recipes, where the user set nothing), and the model trains into a run
folder with its checkpoints and final save, as ``aekit train --out`` does. Two columns:

- ``after``: only the data (``aekit train --data X``), and ``--layers auto-256-K`` for K in
  {2, 8, 16}: whatever aekit's defaults are today;
- ``before``: the defaults before issue 24 (``--recipe none``, the lecture's settings), also
  spelled out as flags so the column stays put if those change (logistic units, a Bernoulli
  likelihood, constant Adam at 1e-3, batch 128, 20 epochs, a 10% validation split with the best
  epoch's weights kept, fp32, layers ``auto-256-32`` when none are given). On real-valued data
  a Bernoulli likelihood is refused, so "before" is the error users got.

Each run's test error (squared error summed over features, averaged over test rows) stands
beside PCA's at the same code size, fitted on the training rows
(:func:`aekit.evaluate.compare_with_pca`). Target: the ratio aekit / PCA below 1 on every data
set and code size, and at most 1.02 on breast cancer (near-linear tabular data, PCA's home
ground).

Data sets: ``digits`` (64 features in [0, 1]), ``curves`` (784, synthetic), ``mnist``,
``fashion-mnist`` (from ``$AEKIT_DATA_DIR/fashion-mnist`` or Debian's
``/usr/share/datasets/fashion-mnist``; skipped with the reason when absent), ``faces`` (625
standardized features, from ``$AEKIT_DATA_DIR/olivetti``) and ``breast-cancer`` (scikit-learn's
569 rows standardized by a StandardScaler fitted on all rows, saved as a CSV that is loaded as
``aekit train --data FILE.csv`` loads it: a seeded 80/20 split). ``--quick`` trains on seeded
subsets (mnist, fashion-mnist and curves 10,000 / 2,000 rows, faces 20,000 / 5,000) and runs
only the no-flag cell and K=8 unless ``--layers`` names others: the default recipe makes at
least 6,000 updates on any data set, so a run cannot be made shorter without changing what is
measured.

Data loading is timed once per data set (faces: the 25x25 crops are made from the Olivetti
faces, tens of seconds); a run's wall seconds count the spec's build (recipe, model) and the
training with its checkpoints and final save.

Usage::

    AEKIT_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/defaults.py
    ... benchmarks/defaults.py --quick                      # -> results/defaults_quick.json
    ... benchmarks/defaults.py --datasets digits,breast-cancer --which after --seeds 0,1
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result
from aekit import __version__
from aekit.data import Dataset, load_dataset
from aekit.evaluate import compare_with_pca
from aekit.spec import RunSpec

HERE = Path(__file__).resolve().parent
DATASETS = ("digits", "curves", "mnist", "fashion-mnist", "faces", "breast-cancer")
#: (label, --layers value or None for no flag)
LAYERS = (("default", None), ("K=2", "auto-256-2"), ("K=8", "auto-256-8"), ("K=16", "auto-256-16"))
#: Seeded subsets of --quick: (train rows, test rows); data sets not named are used whole.
QUICK_ROWS = {
    "mnist": (10_000, 2_000),
    "fashion-mnist": (10_000, 2_000),
    "curves": (10_000, 2_000),
    "faces": (20_000, 5_000),
}
#: The defaults before issue 24, as flags (AutoencoderConfig and TrainConfig fields).
BEFORE_MODEL = {"activation": "logistic", "code_activation": "linear", "likelihood": "bernoulli"}
BEFORE_TRAIN = {
    "optimizer": "adam",
    "lr": 1e-3,
    "lr_schedule": "constant",
    "batch_size": 128,
    "epochs": 20,
    "val_fraction": 0.1,
    "restore_best": True,
    "bf16": False,
}
BEFORE_DEFAULT_LAYERS = "auto-256-32"
#: aekit / PCA must be below this (at most, for breast cancer).
TARGET_RATIO = {"breast-cancer": 1.02}
DEFAULT_TARGET = 1.0


def breast_cancer_csv(folder: Path) -> Path:
    """scikit-learn's breast-cancer features, standardized on all 569 rows, as a CSV file."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    bunch = load_breast_cancer()
    x = StandardScaler().fit_transform(bunch.data)
    path = folder / "breast_cancer.csv"
    header = ",".join(f'"{n}"' for n in bunch.feature_names)
    np.savetxt(path, x, delimiter=",", fmt="%.9g", header=header, comments="")
    return path


def load(name: str, quick: bool, folder: Path) -> tuple[Dataset | None, str, float]:
    """The data set (a seeded subset with ``quick``), where it came from, and the load
    seconds; None and the reason when it is absent."""
    t0 = time.perf_counter()
    try:
        if name == "breast-cancer":
            source = str(breast_cancer_csv(folder))
            ds = load_dataset(source)
        else:
            source = name
            ds = load_dataset(name)
    except (ValueError, OSError) as err:
        return None, f"skipped: {' '.join(str(err).split())}", 0.0
    if quick and name in QUICK_ROWS:
        n_train, n_test = QUICK_ROWS[name]
        ds = ds.subset(n_train=min(n_train, len(ds.x_train)), n_test=min(n_test, len(ds.x_test)))
    return ds, source, time.perf_counter() - t0


def spec_for(which: str, layers: str | None, seed: int, threads: int) -> RunSpec:
    """The run specification of one cell: only the data (and --layers, --seed) for ``after``;
    the old defaults spelled out for ``before``."""
    model: dict[str, Any] = {}
    train: dict[str, Any] = {"seed": seed} if seed else {}
    if which == "before":
        model = {**BEFORE_MODEL, "layers": layers or BEFORE_DEFAULT_LAYERS}
        train = {**BEFORE_TRAIN, **train}
    elif layers is not None:
        model = {"layers": layers}
    # "before" also turns the recipe off (RunSpec(recipe="none"), `--recipe none`), so no
    # setting it leaves open (e.g. checkpoint_seconds) comes from today's recipe.
    extra = {"recipe": "none"} if which == "before" and _has_recipe_field() else {}
    return RunSpec(
        model="autoencoder",
        model_config=model,
        train=train,
        threads=threads,
        command="bench",
        **extra,
    )


def _has_recipe_field() -> bool:
    return "recipe" in RunSpec.__dataclass_fields__


def settings_of(run) -> dict[str, Any]:
    """The settings the run trained with, whoever chose them."""
    m, t = run.model.config, run.train_config
    out = {
        "layers": "-".join(map(str, m.layers)),
        "activation": m.activation,
        "likelihood": m.likelihood,
        "weight_decay": m.weight_decay,
    }
    for key in (
        "optimizer",
        "lr",
        "lr_schedule",
        "batch_size",
        "epochs",
        "val_fraction",
        "patience",
        "bf16",
        "time_budget",
        "warmup_fraction",
    ):
        if hasattr(t, key):
            out[key] = getattr(t, key)
    return out


def run_cell(ds: Dataset, name: str, which: str, label: str, layers, seed: int, threads: int):
    """Train one cell and score it against PCA; a dict for the JSON."""
    target = TARGET_RATIO.get(name, DEFAULT_TARGET)
    row: dict[str, Any] = {"data": name, "layers_flag": label, "which": which, "seed": seed}
    spec = spec_for(which, layers, seed, threads)
    row["flags"] = {**spec.model_config, **spec.train}
    with tempfile.TemporaryDirectory() as run_dir:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = spec.build(ds)
                history = run.fit(run_dir)
        except (ValueError, TypeError) as err:  # e.g. a Bernoulli likelihood on real data
            row.update(status="error", error=" ".join(str(err).split()), target=target)
            row["passed"] = False
            return row
        seconds = time.perf_counter() - t0
    threads_before = torch.get_num_threads()
    comparison = compare_with_pca(run.model, ds.x_train, ds.x_test)
    torch.set_num_threads(threads_before)
    row.update(
        status="ok",
        settings=settings_of(run),
        code_size=comparison.code_size,
        pca_error=comparison.pca_error,
        aekit_error=comparison.model_error,
        ratio=comparison.ratio,
        target=target,
        passed=comparison.ratio <= target if name in TARGET_RATIO else comparison.ratio < target,
        seconds=seconds,
        epochs_run=len(history.records),
        best_epoch=history.best_epoch,
    )
    return row


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "aekit": __version__,
    }


def recipes_landed() -> bool:
    try:
        import aekit.recipes  # noqa: F401
    except ImportError:
        return False
    return True


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'data':14} {'layers':8} {'which':7} {'code':>4} {'PCA':>9} {'aekit':>9} "
        f"{'ratio':>7} {'target':>7} {'pass':5} {'s':>7}  settings"
    )
    for r in rows:
        if r["status"] != "ok":
            print(
                f"{r['data']:14} {r['layers_flag']:8} {r['which']:7} {r['status']}: "
                f"{r.get('error', '')[:90]}"
            )
            continue
        s = r["settings"]
        what = (
            f"{s['layers']} {s['activation']} {s['likelihood']} lr {s['lr']:g} "
            f"{s['lr_schedule']} bs {s['batch_size']} ep {s['epochs']}"
            + (" bf16" if s.get("bf16") else "")
        )
        cmp = "<=" if r["data"] in TARGET_RATIO else "<"
        print(
            f"{r['data']:14} {r['layers_flag']:8} {r['which']:7} {r['code_size']:>4} "
            f"{r['pca_error']:>9.4f} {r['aekit_error']:>9.4f} {r['ratio']:>7.3f} "
            f"{cmp}{r['target']:>5.2f} {'pass' if r['passed'] else 'FAIL':5} "
            f"{r['seconds']:>7.1f}  {what}"
        )


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per cell (data, layers, which): the median ratio over seeds and whether it passes."""
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        cells.setdefault((r["data"], r["layers_flag"], r["which"]), []).append(r)
    out = []
    for (data, label, which), rs in cells.items():
        ok = [r for r in rs if r["status"] == "ok"]
        ratio = statistics.median(r["ratio"] for r in ok) if ok else None
        target = rs[0]["target"]
        passed = ratio is not None and (ratio <= target if data in TARGET_RATIO else ratio < target)
        out.append(
            {
                "data": data,
                "layers_flag": label,
                "which": which,
                "median_ratio": ratio,
                "target": target,
                "passed": passed,
                "runs": len(rs),
            }
        )
    after = [c for c in out if c["which"] == "after"]
    return {"cells": out, "after_all_pass": bool(after) and all(c["passed"] for c in after)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="seeded subsets of the large data sets")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument(
        "--layers",
        default=None,
        help="cells to run, of default,K=2,K=8,K=16 [default: all; with --quick: default,K=8]",
    )
    p.add_argument("--which", default="before,after")
    p.add_argument("--seeds", default="0", help="TrainConfig seeds (0 is the default: no flag)")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each run")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        p.error(f"unknown data sets {unknown}; choose from {list(DATASETS)}")
    cells = args.layers or ("default,K=8" if args.quick else ",".join(lb for lb, _ in LAYERS))
    chosen = [(label, layers) for label, layers in LAYERS if label in cells.split(",")]
    whiches = [w for w in ("before", "after") if w in args.which.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(args.threads)
    out = args.out or HERE / "results" / ("defaults_quick.json" if args.quick else "defaults.json")
    result: dict[str, Any] = {
        "benchmark": "defaults",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "threads": args.threads,
        "recipes_module": recipes_landed(),
        "before": {
            "model": BEFORE_MODEL,
            "train": BEFORE_TRAIN,
            "default_layers": BEFORE_DEFAULT_LAYERS,
        },
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "data": {},
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            ds, source, load_s = load(name, args.quick, Path(folder))
            if ds is None:
                print(f"{name}: {source}")
                result["data"][name] = {"status": source}
                continue
            result["data"][name] = {
                "source": Path(source).name,
                "n_train": len(ds.x_train),
                "n_test": len(ds.x_test),
                "n_features": ds.n_features,
                "load_seconds": load_s,
            }
            print(
                f"{name}: {len(ds.x_train)} train / {len(ds.x_test)} test rows of "
                f"{ds.n_features} features, loaded in {load_s:.1f} s",
                flush=True,
            )
            for label, layers in chosen:
                for which in whiches:
                    for seed in seeds:
                        row = run_cell(ds, name, which, label, layers, seed, args.threads)
                        result["rows"].append(row)
                        print_table([row])
                        sys.stdout.flush()
            result["summary"] = summarize(result["rows"])
            write_result(out, result)  # after every data set: a long run keeps what it has
    print()
    print_table(result["rows"])
    result["summary"] = summarize(result["rows"])
    write_result(out, result)
    print(
        "after: every cell passes"
        if result["summary"]["after_all_pass"]
        else "after: some cell fails its target"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
