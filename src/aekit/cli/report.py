"""What ``aekit train`` and ``aekit resume`` print when a run ends: the run's size and time,
its held-out numbers, and PCA's test error at the same code size beside the model's, so that a
first run says whether it learnt more than a linear projection would."""

from __future__ import annotations

from pathlib import Path

import click

from aekit.evaluate import compare_with_pca, mean_squared_error_per_sample
from aekit.models import VAE, Autoencoder
from aekit.models.base import EncoderDecoder, seeded_rng
from aekit.train import TrainConfig, Trainer


def report_training(run, history, seconds: float, run_dir: Path, compare_pca: bool = True) -> None:
    """The run's size and time, then its held-out numbers: an autoencoder's squared error
    per sample on the train and test rows, another model's own metrics; then PCA's."""
    model, data = run.model, run.data
    layers = "-".join(map(str, model.config.layers))
    best = f", best epoch {history.best_epoch}" if history.best_epoch is not None else ""
    budget = run.train_config.time_budget
    if history.out_of_time and budget is not None:
        last = history.records[-1] if history.records else {}
        cut = f", the last cut at batch {last['batches']}" if "batches" in last else ""
        best += f"; its time budget of {budget:g} s ended it{cut}"
    click.echo(
        f"trained a {layers} {model.registered_name} on {data.name} for "
        f"{len(history.records)} epochs in {seconds:.1f} s{best}"
    )
    labelled = run.y_train is not None
    if not isinstance(model, Autoencoder):
        # Each model's own held-out metrics (ELBO terms, error, reconstruction NLL, ...).
        if len(data.x_test):
            scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
            with seeded_rng(0, model.device):  # a VAE's held-out ELBO draws one code per row
                metrics = scorer.evaluate(data.x_test, y=data.y_test if labelled else None)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            click.echo(f"test: {shown}")
    else:
        train_err = mean_squared_error_per_sample(data.x_train, model.reconstruct(data.x_train))
        click.echo(f"train error (squared error per sample): {train_err:.4f}")
    reconstructs = isinstance(model, EncoderDecoder)
    if reconstructs and len(data.x_test) and len(data.x_train):
        conditional = isinstance(model, VAE) and labelled
        y_test = data.y_test if conditional else None
        if compare_pca:
            comparison = compare_with_pca(model, data.x_train, data.x_test, y_test)
            _echo_comparison(model, comparison, seconds)
        elif isinstance(model, Autoencoder):
            test_err = mean_squared_error_per_sample(data.x_test, model.reconstruct(data.x_test))
            click.echo(f"test error  (squared error per sample): {test_err:.4f}")
    click.echo(f"model saved to {run_dir / 'model'}")


def _echo_comparison(model, c, seconds: float) -> None:
    name = model.registered_name
    click.echo(f"test error  (squared error per sample): {c.model_error:.4f}")
    components = f"{c.n_components} components"
    if c.n_components < c.code_size:
        components += f", all there are for a code of {c.code_size}"
    share = f", {100 * c.pca_seconds / seconds:.1f}% of the run" if seconds > 0 else ""
    click.echo(
        f"PCA's test error at the same code size: {c.pca_error:.4f} ({components}, fit on "
        f"{c.n_fit_rows} training rows in {c.pca_seconds:.2f} s{share})"
    )
    if c.pca_is_exact:
        click.echo(
            f"PCA keeps every direction of the {c.n_features} features at this code size, so "
            "it reconstructs exactly and the comparison says nothing; a narrower code does"
        )
        return
    if not c.behind:
        click.echo(f"the {name} beats PCA: {c.ratio:.2f} of PCA's test error")
        return
    times = f"{c.ratio:.3g} times" if c.ratio != float("inf") else "far above"
    if isinstance(model, Autoencoder):
        advice = (
            "it has learnt less than a linear projection would; train longer (--epochs or "
            "--time-budget SECONDS), leave the settings aekit's default recipe chooses to it "
            "(drop the flags you set), or use PCA"
        )
    else:
        advice = (
            "a generative model's reconstructions often are, since it also pays for codes that "
            "sample well; compare models by their own metrics above"
        )
    click.echo(f"BEHIND PCA: the {name}'s test error is {times} PCA's; {advice}")
