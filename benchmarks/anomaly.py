"""One class against the rest: aekit's outlier detectors against PCA, IsolationForest and PyOD.

Protocol (the issue "Anomaly detection that beats PCA"), for every class ``c`` of a data set in
turn and every seed:

- training rows: the class's training rows plus rows of the other classes amounting to 5% of
  that count (drawn by the seed);
- test rows: every test row, those of class ``c`` the inliers, the others the outliers;
- metrics: ROC AUC and average precision with the outliers as the positive class, from each
  method's anomaly score on the test rows; fit time (training only, scoring not counted).

Data sets:

- ``mnist``: 60,000 / 10,000 images from ``$AEKIT_DATA_DIR/mnist`` (``--quick``: a seeded
  10,000 / 2,000 subset);
- ``digits``: scikit-learn's 8x8 digits (1,797 images, /16), split in halves stratified by the
  seed (the test half is the test set);
- ``cancer``: scikit-learn's breast-cancer set, benign tumours the inliers and malignant ones
  subsampled to 5% of the benign count; transductive (fit and score the same rows, as the
  ODDS benchmarks do: 376 rows leave too few outliers to hold some out);
- ``news``: 20 Newsgroups (``$AEKIT_DATA_DIR/20news-bydate.tar.gz``), each group against the
  rest, word counts over the 2,000 commonest stems of the training posts (empty documents
  dropped); aekit uses its document model (:class:`aekit.sklearn.DocumentOutlierDetector`),
  the others see each post's word distribution (``--quick``: 4 groups).

Methods: ``aekit`` (:class:`aekit.sklearn.AutoencoderOutlierDetector` at its defaults, with
``--aekit JSON`` overriding any of its parameters for trials), ``pca`` (the squared
reconstruction error of PCA at aekit's code size, on the data scaled as aekit's detector scales
it), ``iforest`` (``IsolationForest`` at its defaults) and ``pyod`` (PyOD's ``AutoEncoder`` at
its defaults, in ``benchmarks/.venv-pyod``: made here when missing, ``torch==2.13.0`` installed
first on its own line so pip never pulls a CUDA build; skipped with the reason when it cannot be
installed).

Per class: the median over seeds; per data set: the mean over classes of those medians.
Targets: aekit's mean AUC above PyOD AutoEncoder's on every data set, and above PCA's on each
image data set (mnist, digits).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/anomaly.py            # -> results/anomaly.json
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/anomaly.py --quick --datasets digits \\
        --methods aekit,pca --aekit '{"n_components": 16}' --out results/anomaly_trial.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
PYOD_VENV = HERE / ".venv-pyod"
TORCH_PIN = "2.13.0"
INSTALL_TIMEOUT_S = 600
CONTAMINATION = 0.05
DATASETS = ("digits", "cancer", "mnist", "news")
IMAGE_DATASETS = ("mnist", "digits")
METHODS = ("aekit", "pca", "iforest", "pyod")


# The PyOD child (runs in .venv-pyod: numpy, torch and pyod only) ------------------------------


def pyod_child(job_dir: str) -> None:
    """Fit PyOD's AutoEncoder at its defaults on every job in ``job_dir/jobs.json``."""
    import torch
    from pyod.models.auto_encoder import AutoEncoder

    torch.set_num_threads(1)
    folder = Path(job_dir)
    jobs = json.loads((folder / "jobs.json").read_text())
    results = []
    for job in jobs:
        x_train = np.load(folder / job["train"])
        x_test = np.load(folder / job["test"])
        detector = AutoEncoder(random_state=job["seed"], verbose=0, device="cpu")
        t0 = time.perf_counter()
        detector.fit(x_train)
        seconds = time.perf_counter() - t0
        np.save(folder / f"scores-{job['id']}.npy", detector.decision_function(x_test))
        results.append({"id": job["id"], "fit_seconds": seconds})
        print(f"pyod job {job['id']}: fit {seconds:.1f} s", flush=True)
    (folder / "results.json").write_text(json.dumps(results))


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    return subprocess.run(cmd, timeout=INSTALL_TIMEOUT_S, capture_output=True, text=True)


def setup_pyod(install: bool) -> str | None:
    """Make ``.venv-pyod`` when missing; None when PyOD is usable, else why not."""
    python = PYOD_VENV / "bin" / "python"
    probe = [str(python), "-c", "import torch, pyod.models.auto_encoder"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return None
    if not install:
        return f"PyOD is not importable in {PYOD_VENV} (run without --no-install to make it)"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PYOD_VENV)], check=True)
        # torch first, on its own line: a looser spec would pull a multi-GB CUDA build.
        proc = _pip(python, f"torch=={TORCH_PIN}")
        if proc.returncode != 0:
            return f"pip install torch=={TORCH_PIN} failed: {proc.stderr.strip()[-300:]}"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(f"torch=={TORCH_PIN}\n")
        # PyOD's deep-learning base imports tqdm without declaring it.
        proc = _pip(python, "-c", f.name, "pyod", "tqdm")
        os.unlink(f.name)
        if proc.returncode != 0:
            return f"pip install pyod failed: {proc.stderr.strip()[-300:]}"
    except (subprocess.SubprocessError, OSError) as e:
        return f"could not make {PYOD_VENV}: {e}"
    if subprocess.run(probe, capture_output=True).returncode != 0:
        return f"PyOD installed but not importable in {PYOD_VENV}"
    return None


# Tasks --------------------------------------------------------------------------------------


def one_vs_rest(
    x_train, y_train, x_test, y_test, classes, seed: int
) -> Iterator[tuple[str, Any, Any, np.ndarray]]:
    """``(class, X_train, X_test, is_outlier)`` for each class: the class's training rows plus
    5% of that count drawn from the other classes; every test row, others as outliers."""
    for c in classes:
        rng = np.random.default_rng([seed, int(c)])
        inliers = np.flatnonzero(y_train == c)
        others = np.flatnonzero(y_train != c)
        n_out = int(round(CONTAMINATION * len(inliers)))
        rows = np.sort(np.concatenate([inliers, rng.choice(others, n_out, replace=False)]))
        yield str(c), x_train[rows], x_test, (y_test != c).astype(int)


def load_tasks(name: str, seed: int, quick: bool, classes: list[str] | None):
    """The tasks of one data set and seed, and a note on the data."""
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split

    if name == "digits":
        x, y = load_digits(return_X_y=True)
        x = (x / 16.0).astype(np.float32)
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.5, stratify=y, random_state=seed)
        labels = _pick(range(10), classes)
        return one_vs_rest(xtr, ytr, xte, yte, labels, seed), "sklearn digits 8x8 / 16, halves"
    if name == "cancer":
        x, y = load_breast_cancer(return_X_y=True)
        benign, malignant = x[y == 1], x[y == 0]
        rng = np.random.default_rng(seed)
        n_out = int(round(CONTAMINATION * len(benign)))
        xs = np.vstack([benign, malignant[rng.choice(len(malignant), n_out, replace=False)]])
        is_out = np.r_[np.zeros(len(benign), int), np.ones(n_out, int)]
        note = f"breast cancer: {len(benign)} benign + {n_out} malignant, transductive"
        return iter([("benign", xs, xs, is_out)]), note
    if name == "mnist":
        sys.path.insert(0, str(HERE))
        from _common import load_mnist

        ds = load_mnist(quick)
        if ds is None:
            return None, "MNIST not found"
        labels = _pick(range(10), classes)
        tasks = one_vs_rest(ds.x_train, ds.y_train, ds.x_test, ds.y_test, labels, seed)
        return tasks, f"MNIST {len(ds.x_train)} / {len(ds.x_test)}"
    if name == "news":
        data = _newsgroups()
        if data is None:
            return None, "20news-bydate.tar.gz not found"
        xtr, ytr, xte, yte, groups = data
        labels = _pick(range(len(groups)), classes or (["0", "5", "10", "15"] if quick else None))
        tasks = one_vs_rest(xtr, ytr, xte, yte, labels, seed)
        return tasks, f"20 Newsgroups {xtr.shape[0]} / {xte.shape[0]} posts, 2000 stems"
    raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")


def _pick(all_classes, chosen: list[str] | None) -> list[int]:
    return [int(c) for c in chosen] if chosen else list(all_classes)


_NEWS_CACHE: dict[str, Any] = {}


def _newsgroups():
    """Word counts (CSR) of the non-empty posts, labels and group names, or None."""
    if "data" in _NEWS_CACHE:
        return _NEWS_CACHE["data"]
    from aekit.data import data_dir
    from aekit.data.text import BagOfWords, document_lengths, load_20newsgroups

    root = data_dir()
    if root is None or not (root / "20news-bydate.tar.gz").is_file():
        print("skipped news: set AEKIT_DATA_DIR to the folder holding 20news-bydate.tar.gz")
        return None
    train = load_20newsgroups(root, "train")
    test = load_20newsgroups(root, "test")
    bow = BagOfWords(max_features=2000)
    xtr, xte = bow.fit_transform(train.texts), bow.transform(test.texts)
    keep_tr, keep_te = document_lengths(xtr) > 0, document_lengths(xte) > 0
    data = (
        xtr[keep_tr].astype(np.float32),
        np.asarray(train.labels)[keep_tr],
        xte[keep_te].astype(np.float32),
        np.asarray(test.labels)[keep_te],
        list(train.label_names),
    )
    _NEWS_CACHE["data"] = data
    return data


# Methods ------------------------------------------------------------------------------------


def _proportions(x):
    """Each document's word distribution, dense float32 (what PCA and the forests see)."""
    import scipy.sparse as sp

    if not sp.issparse(x):
        return x
    totals = np.asarray(x.sum(1)).ravel()
    return np.asarray((sp.diags(1.0 / totals) @ x).todense(), dtype=np.float32)


def aekit_detector(dataset: str, seed: int, overrides: dict):
    if dataset == "news":
        from aekit.sklearn import DocumentOutlierDetector as cls
    else:
        from aekit.sklearn import AutoencoderOutlierDetector as cls
    return cls(contamination=CONTAMINATION, random_state=seed).set_params(**overrides)


def fit_score(method: str, dataset: str, x_train, x_test, seed: int, overrides: dict):
    """Anomaly scores of ``x_test`` (higher = more anomalous) and the fit time in seconds."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest

    detector = aekit_detector(dataset, seed, overrides)
    if method == "aekit":
        t0 = time.perf_counter()
        detector.fit(x_train)
        return -detector.score_samples(x_test), time.perf_counter() - t0
    x_train, x_test = _proportions(x_train), _proportions(x_test)
    if method == "pca":
        scale = _scaler(getattr(detector, "scaling", None), x_train)
        a, b = scale(x_train), scale(x_test)
        k = min(detector.n_components, *a.shape)
        t0 = time.perf_counter()
        pca = PCA(n_components=k, random_state=seed).fit(a)
        seconds = time.perf_counter() - t0
        return ((pca.inverse_transform(pca.transform(b)) - b) ** 2).sum(1), seconds
    if method == "iforest":
        t0 = time.perf_counter()
        forest = IsolationForest(random_state=seed).fit(x_train)
        return -forest.score_samples(x_test), time.perf_counter() - t0
    raise ValueError(method)


def _scaler(scaling: str | None, x: np.ndarray):
    """The detector's scaling fitted on ``x``, as a function (identity for None)."""
    if scaling == "standard":
        shift, scale = x.mean(0), x.std(0)
    elif scaling == "minmax":
        shift, scale = x.min(0), x.max(0) - x.min(0)
    else:
        return lambda a: a
    scale = np.where(scale > 0, scale, 1.0)
    return lambda a: (a - shift) / scale


def run_pyod(jobs: list[dict], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Run PyOD on ``jobs`` in one child process; ``{job id: (scores, seconds)}``."""
    with tempfile.TemporaryDirectory(prefix="aekit-pyod-") as tmp:
        for key, value in arrays.items():
            np.save(Path(tmp) / key, value)
        (Path(tmp) / "jobs.json").write_text(json.dumps(jobs))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        cmd = [str(PYOD_VENV / "bin" / "python"), __file__, "--pyod-child", tmp]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"PyOD child failed: {proc.stderr.strip()[-800:]}")
        results = json.loads((Path(tmp) / "results.json").read_text())
        return {
            r["id"]: (np.load(Path(tmp) / f"scores-{r['id']}.npy"), r["fit_seconds"])
            for r in results
        }


# The run ------------------------------------------------------------------------------------


def evaluate(is_outlier: np.ndarray, anomaly: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {
        "auc": float(roc_auc_score(is_outlier, anomaly)),
        "ap": float(average_precision_score(is_outlier, anomaly)),
    }


def run_dataset(name: str, args, methods: list[str], overrides: dict) -> dict[str, Any] | None:
    """Every method on every class and seed of one data set: per-run records."""
    import scipy.sparse as sp

    runs: list[dict] = []
    notes = ""
    for seed in range(args.seeds):
        tasks, notes = load_tasks(name, seed, args.quick, args.classes)
        if tasks is None:
            print(f"skipped {name}: {notes}")
            return None
        pyod_jobs, arrays, test_keys = [], {}, {}
        for task, x_train, x_test, is_out in tasks:
            for method in (m for m in methods if m != "pyod"):
                anomaly, seconds = fit_score(method, name, x_train, x_test, seed, overrides)
                record = {"class": task, "seed": seed, "method": method, "fit_seconds": seconds}
                runs.append({**record, **evaluate(is_out, anomaly)})
                print(
                    f"{name} {task} seed {seed} {method}: auc {runs[-1]['auc']:.4f} "
                    f"ap {runs[-1]['ap']:.4f} fit {seconds:.1f} s",
                    flush=True,
                )
            if "pyod" in methods:
                job_id = f"{task}-{seed}"
                dense = _proportions if sp.issparse(x_train) else np.asarray
                arrays[f"train-{job_id}.npy"] = dense(x_train).astype(np.float32)
                # Tasks of one seed share their test rows (all but cancer's): saved once.
                test_key = test_keys.setdefault(id(x_test), f"test-{job_id}.npy")
                if test_key not in arrays:
                    arrays[test_key] = dense(x_test).astype(np.float32)
                job = {"id": job_id, "seed": seed, "train": f"train-{job_id}.npy"}
                pyod_jobs.append({**job, "test": test_key, "is_out": is_out, "class": task})
        if pyod_jobs:
            outcome = run_pyod([_jsonable(j) for j in pyod_jobs], arrays)
            for job in pyod_jobs:
                anomaly, seconds = outcome[job["id"]]
                record = {"class": job["class"], "seed": seed, "method": "pyod"}
                runs.append({**record, "fit_seconds": seconds, **evaluate(job["is_out"], anomaly)})
                print(
                    f"{name} {job['class']} seed {seed} pyod: auc {runs[-1]['auc']:.4f}", flush=True
                )
    return {"data": notes, "runs": runs, "summary": summarize(runs, methods)}


def _jsonable(job: dict) -> dict:
    return {k: v for k, v in job.items() if k != "is_out"}


def summarize(runs: list[dict], methods: list[str]) -> dict[str, Any]:
    """Per method: medians over seeds per class, then their mean over classes."""
    out = {}
    for method in methods:
        mine = [r for r in runs if r["method"] == method]
        if not mine:
            continue
        per_class = {}
        for c in dict.fromkeys(r["class"] for r in mine):
            rows = [r for r in mine if r["class"] == c]
            per_class[c] = {key: statistics.median(r[key] for r in rows) for key in ("auc", "ap")}
        out[method] = {
            "mean_auc": float(np.mean([v["auc"] for v in per_class.values()])),
            "mean_ap": float(np.mean([v["ap"] for v in per_class.values()])),
            "median_fit_seconds": statistics.median(r["fit_seconds"] for r in mine),
            "per_class": per_class,
        }
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for name, res in results.items():
        s = res["summary"]
        if "aekit" not in s:
            continue
        rivals = [("pyod", "PyOD AutoEncoder")]
        if name in IMAGE_DATASETS:
            rivals.append(("pca", "PCA"))
        for key, label in rivals:
            if key in s:
                checks.append(
                    {
                        "target": f"{name}: aekit mean AUC > {label}'s",
                        "aekit": round(s["aekit"]["mean_auc"], 4),
                        key: round(s[key]["mean_auc"], 4),
                        "met": s["aekit"]["mean_auc"] > s[key]["mean_auc"],
                    }
                )
    return checks


def merge(paths: list[Path], out: Path) -> dict[str, Any]:
    """One result from runs of the same protocol split by method or data set (e.g. PyOD in a
    process of its own): runs concatenated, summaries and targets recomputed."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    merged = {**parts[0], "results": {}, "merged_from": [p["command"] for p in parts]}
    for part in parts:
        for name, res in part["results"].items():
            into = merged["results"].setdefault(name, {"data": res["data"], "runs": []})
            into["runs"].extend(res["runs"])
        merged["skipped"] = {**merged.get("skipped", {}), **part.get("skipped", {})}
    for res in merged["results"].values():
        methods = [m for m in METHODS if any(r["method"] == m for r in res["runs"])]
        res["summary"] = summarize(res["runs"], methods)
    merged["targets"] = targets(merged["results"])
    merged["wall_seconds"] = max(p["wall_seconds"] for p in parts)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    print(f"wrote {out}")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyod-child", help=argparse.SUPPRESS)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--classes", default=None, help="comma-separated class indices")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="MNIST subset, 4 news groups")
    parser.add_argument("--aekit", default="{}", help="JSON of detector parameters (trials)")
    parser.add_argument("--no-install", action="store_true", help="never make .venv-pyod")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "anomaly.json")
    parser.add_argument("--merge", nargs="+", type=Path, help="merge these result files to --out")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.merge, args.out)
        return 0
    if args.pyod_child:
        pyod_child(args.pyod_child)
        return 0
    import torch

    torch.set_num_threads(1)
    args.classes = args.classes.split(",") if args.classes else None
    methods = args.methods.split(",")
    overrides = json.loads(args.aekit)
    skipped = {}
    if "pyod" in methods:
        why = setup_pyod(install=not args.no_install)
        if why:
            print(f"skipping PyOD: {why}")
            skipped["pyod"] = why
            methods.remove("pyod")
    t0 = time.perf_counter()
    results = {}
    for name in args.datasets.split(","):
        res = run_dataset(name, args, methods, overrides)
        if res is not None:
            results[name] = res
    from aekit.sklearn import AutoencoderOutlierDetector, DocumentOutlierDetector

    result = {
        "benchmark": "anomaly",
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        "1 torch thread",
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "protocol": __doc__.split("\n\n")[1],
        "aekit_params": {**AutoencoderOutlierDetector().get_params(), **overrides},
        "aekit_document_params": {**DocumentOutlierDetector().get_params(), **overrides},
        "contamination": CONTAMINATION,
        "seeds": args.seeds,
        "quick": args.quick,
        "skipped": skipped,
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "targets": targets(results),
        "results": results,
    }
    for name, res in results.items():
        print(f"\n{name}:")
        for method, s in res["summary"].items():
            print(
                f"  {method:8s} mean AUC {s['mean_auc']:.4f}  mean AP {s['mean_ap']:.4f}  "
                f"fit {s['median_fit_seconds']:.2f} s"
            )
    for check in result["targets"]:
        print(check)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
