"""``aekit reproduce``: the classic results, with the paper's numbers beside ours."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
from aekit.experiments.documents import run_documents
from aekit.experiments.hinton2006 import EXPERIMENTS as HINTON2006
from aekit.experiments.hinton2006 import run_experiment as run_hinton2006


@click.group(context_settings=CONTEXT_SETTINGS)
def reproduce() -> None:
    """Reproduce a classic result, with the paper's numbers beside ours in a report."""


@reproduce.command(context_settings=CONTEXT_SETTINGS)
@click.argument("experiment", type=click.Choice(sorted([*HINTON2006, "docs"])))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for report.html, results.json, figures and every stage's checkpoints; "
    "rerunning with the same folder resumes. [default: runs/hinton2006-EXPERIMENT, with "
    "-quick appended for --quick]",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the reference data sets. [default: $AEKIT_DATA_DIR]",
)
@click.option(
    "--quick",
    is_flag=True,
    default=False,
    help="A shortened protocol (fewer samples and epochs), same code paths. [default: off]",
)
@click.option(
    "--ablation/--no-ablation",
    default=True,
    show_default=True,
    help="Also fine-tune the same network from a random initialisation.",
)
@click.option(
    "--bf16",
    is_flag=True,
    default=False,
    help="bfloat16 autocast during fine-tuning. [default: off]",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of everything."
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show progress bars on stderr.",
)
@click.option(
    "--reuse-pretraining",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of another run on the same data, seed and RBM epochs (say mnist's for "
    "mnist2d): its RBMs stand in for this run's while the layers match. [default: none]",
)
@user_errors
def hinton2006(
    experiment: str,
    out_dir: str | None,
    data_dir: str | None,
    quick: bool,
    ablation: bool,
    bf16: bool,
    seed: int,
    progress: bool,
    reuse_pretraining: str | None,
) -> None:
    """Hinton & Salakhutdinov, Science 2006: RBM-pretrained deep autoencoders vs PCA.

    EXPERIMENT is curves (784-400-200-100-50-25-6), mnist (784-1000-500-250-30), mnist2d
    (784-1000-500-250-2, the 2-D map of Fig. 3), faces (625-2000-1000-500-30) or docs
    (20 Newsgroups: 2000-500-250-125-{10,2} document codes and 32/128-bit semantic hashing
    against LSA, Fig. 4). Each RBM, the fine-tuning and the baselines are saved as they
    finish, so an interrupted run picks up where it stopped when started again with the
    same --out.
    """
    out = Path(out_dir or f"runs/hinton2006-{experiment}{'-quick' if quick else ''}")
    if experiment == "docs":
        if bf16:
            raise click.BadParameter("docs trains in fp32; drop --bf16", param_hint="'--bf16'")
        if reuse_pretraining:
            raise click.BadParameter(
                "docs has its own RBM stacks; drop --reuse-pretraining",
                param_hint="'--reuse-pretraining'",
            )
        _reproduce_docs(out, quick, seed, data_dir, ablation, progress)
        return
    try:
        results = run_hinton2006(
            experiment,
            out,
            quick=quick,
            seed=seed,
            data_dir=data_dir,
            ablation=ablation,
            bf16=bf16,
            progress=progress,
            reuse_pretraining=reuse_pretraining,
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished stages are kept in {out}; run the same command again to resume",
            err=True,
        )
        sys.exit(130)
    width = max(len(m) for m in results["methods"])
    click.echo(f"{'method':<{width}}  test error  paper")
    for method, v in results["methods"].items():
        paper = results["paper"].get(method, "")
        click.echo(f"{method:<{width}}  {v['test_error']:10.3f}  {paper}")
    for check, ok in results["checks"].items():
        click.echo(f"target {check}: {'met' if ok else 'NOT met'}")
    click.echo(f"report: {(out / 'report.html').resolve()}")


def _reproduce_docs(out: Path, quick, seed, data_dir, ablation, progress) -> None:
    try:
        results = run_documents(
            out, quick=quick, seed=seed, data_dir=data_dir, ablation=ablation, progress=progress
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished stages are kept in {out}; run the same command again to resume",
            err=True,
        )
        sys.exit(130)
    counts = next(iter(results["precision"].values())).keys()
    width = max(len(m) for m in results["precision"])
    click.echo(f"{'method':<{width}}  " + "  ".join(f"{'P@' + k:>7}" for k in counts))
    for method, p in results["precision"].items():
        click.echo(f"{method:<{width}}  " + "  ".join(f"{v:7.3f}" for v in p.values()))
    for name, acc in results["knn_accuracy_2d"].items():
        click.echo(f"2-D map {name}: 5-NN accuracy {acc:.3f}")
    for name, ratio in results["hash_speedup"].items():
        click.echo(f"{name} top-10 search: {ratio:.1f}x faster than AE-10 cosine")
    for check, ok in results["checks"].items():
        click.echo(f"target {check}: {'met' if ok else 'NOT met'}")
    click.echo(f"report: {(out / 'report.html').resolve()}")


# Documents ---------------------------------------------------------------------------------------
