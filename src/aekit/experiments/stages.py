"""What the reproductions share: run folders that resume, stage clocks, the log, figures and the
report.

A reproduction (:mod:`aekit.experiments.hinton2006`, :mod:`aekit.experiments.documents`) saves
every stage in its output folder and skips a stage found there, so a run that is interrupted
resumes where it stopped:

- :func:`open_run_folder` refuses a folder holding a run with other settings, whose saved
  stages would otherwise be reused by mistake;
- :func:`cached_stage` computes a JSON-sized stage once and reads it back afterwards;
- :func:`pretrain_rbms` trains an RBM stack layer by layer, each layer checkpointed;
- :func:`timed_stage` times a stage over every process that worked on it. Timing only the
  last process would report the resumed part (a 4 s pretraining shown as 0.2 s), so a ledger
  keeps each stage's time so far on disk, and an interrupted stage adds its part on the way out.

The rest is how they report: :func:`stage_log` for their progress lines, :func:`saved_figure`
for a figure file with its caption, :func:`targets_section` and :func:`write_experiment_report`
for the HTML report.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from matplotlib.figure import Figure

from aekit.atomic import atomic_write_json, read_json
from aekit.rbm import RBM, RBMConfig
from aekit.saving import load_model
from aekit.train import fit_rbm_layer
from aekit.viz.explore import explorer_section
from aekit.viz.figures import save_figure
from aekit.viz.report import Section, write_report

__all__ = [
    "cached_stage",
    "open_run_folder",
    "pretrain_rbms",
    "saved_figure",
    "stage_log",
    "targets_section",
    "timed_stage",
    "write_experiment_report",
]

Log = Callable[[str], None]


def stage_log(prefix: str = "", stream: TextIO | None = None) -> Log:
    """A log of an experiment's progress: one line per message, after ``[prefix]`` when given,
    flushed at once so a long run shows where it is; ``stream`` is stdout by default (the one
    current when a line is written)."""
    head = f"[{prefix}] " if prefix else ""

    def log(message: str) -> None:
        print(f"{head}{message}", file=stream if stream is not None else sys.stdout, flush=True)

    return log


# ------------------------------------------------------------------------- run folders


def open_run_folder(out: Path, wanted: dict[str, Any]) -> None:
    """Create ``out`` for a run with settings ``wanted``; a folder holding a run with other
    settings is refused (its saved stages would be reused by mistake)."""
    out.mkdir(parents=True, exist_ok=True)
    settings_file = out / "settings.json"
    if settings_file.is_file():
        found = read_json(settings_file, fix="delete the run folder, or pass another --out")
        if found != json.loads(json.dumps(wanted)):
            plain = json.loads(json.dumps(wanted))
            diff = sorted(k for k in set(plain) | set(found) if found.get(k) != plain.get(k))
            raise ValueError(
                f"{out} holds a run with other settings ({', '.join(diff)} differ); resume it "
                "with the same options or pass another --out"
            )
    else:
        atomic_write_json(settings_file, wanted)


def cached_stage(path: Path, compute: Callable[[], Any]) -> Any:
    """JSON-cached stage: computed once, then read back (so a resumed run skips it)."""
    if path.is_file():
        return read_json(path, fix="delete it and run again to recompute that stage")
    value = compute()
    atomic_write_json(path, value)
    return value


@contextmanager
def timed_stage(ledger: Path, key: str, timings: dict[str, float]) -> Iterator[None]:
    """Time the ``with`` block as stage ``key``: its seconds are added to what ``ledger`` (a
    JSON file) already holds for it, also when the block is interrupted, and the total lands in
    ``timings[key]``. A finished stage that a rerun only reloads adds its loading time."""
    fix = "delete it to start the stage clocks afresh"

    def saved() -> dict[str, float]:
        return read_json(ledger, fix=fix) if ledger.is_file() else {}

    before = float(saved().get(key, 0.0))
    t0 = time.perf_counter()
    try:
        yield
    finally:
        total = before + time.perf_counter() - t0
        ledger.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(ledger, {**saved(), key: total})
        timings[key] = total


# ---------------------------------------------------------------------- RBM pretraining


def pretrain_rbms(
    rbm_configs: list[RBMConfig],
    x,
    out: Path,
    epochs: int,
    seed: int,
    progress: bool,
    reuse: Path | None = None,
    log: Log | None = None,
) -> list[RBM]:
    """Greedy RBM pretraining with per-layer checkpoints (a finished layer is loaded).

    Layer ``k`` is saved in ``out/rbm-k``; each trains with the paper's settings for its unit
    types (:func:`~aekit.train.fit_rbm_layer`) on the hidden means of the one below.
    ``reuse``, another run's pretraining folder trained on the same data with the same seed
    and epochs, lends its bottom layers for as long as their configurations match ours
    (layer ``k`` is trained on the codes of layers ``0..k-1``, so only a prefix can match).
    ``log`` receives a line per layer (default: stdout).
    """
    log = log or stage_log()
    rbms: list[RBM] = []
    h = x
    lending = reuse is not None
    for k, rbm_cfg in enumerate(rbm_configs):
        done = out / f"rbm-{k}"
        other = reuse / f"rbm-{k}" if reuse is not None else None
        lending = (
            lending
            and other is not None
            and (other / "config.json").is_file()
            and load_model(other).config == rbm_cfg
        )
        if lending and not (done / "config.json").is_file():
            assert other is not None  # lending: another run's layer
            _copy_layer(other, out, k)
            log(f"RBM {k} ({rbm_cfg.n_visible}-{rbm_cfg.n_hidden}) reused from {other}")
        if (done / "config.json").is_file():
            rbm = RBM.load(done)
            log(f"RBM {k} ({rbm_cfg.n_visible}-{rbm_cfg.n_hidden}) loaded from {done}")
        else:
            log(
                f"RBM {k}: {rbm_cfg.n_visible}-{rbm_cfg.n_hidden} "
                f"{rbm_cfg.visible}/{rbm_cfg.hidden} units, {epochs} epochs"
            )
            run = out / f"rbm-{k}-run"
            rbm = fit_rbm_layer(
                rbm_cfg,
                h,
                seed + k,
                run_dir=run,
                resume=(run / "latest.json").is_file(),
                epochs=epochs,
                progress=progress,
            )
            rbm.save(done)
        rbms.append(rbm)
        h = rbm.transform(h)
    return rbms


def _copy_layer(other: Path, out: Path, k: int) -> None:
    """Copy the finished layer ``other`` to ``out/rbm-k``: aside first, then renamed, so an
    interrupted copy never looks like a finished layer."""
    partial = out / f".rbm-{k}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(other, partial)
    done = out / f"rbm-{k}"
    shutil.rmtree(done, ignore_errors=True)
    partial.rename(done)


# ---------------------------------------------------------------------- figures, report


def saved_figure(fig: Figure, path: Path, caption: str) -> tuple[Path, str]:
    """Write ``fig`` as the PNG file ``path``; returns ``(path, caption)``, a report image."""
    return save_figure(fig, path), caption


def targets_section(checks: Mapping[str, bool]) -> Section:
    """The report's table of reproduction targets, each met or not."""
    return Section(
        "Targets", table=[{"target": k, "met": "yes" if v else "NO"} for k, v in checks.items()]
    )


def write_experiment_report(
    out: Path,
    title: str,
    sections: Sequence[Section],
    figures: Sequence[tuple[Path, str]],
    explorers: Mapping[str, Path],
) -> Path:
    """Write ``out/report.html``: ``sections``, then the figures, then links to the explorer
    pages written beside it."""
    tail = [Section("Figures", images=list(figures)), explorer_section(explorers, out)]
    return write_report(out / "report.html", title, [*sections, *tail])
