"""What ``aekit train`` and ``aekit resume`` print when a run ends."""

from __future__ import annotations

from pathlib import Path

import click

from aekit.evaluate import mean_squared_error_per_sample
from aekit.models import Autoencoder
from aekit.train import TrainConfig, Trainer


def report_training(run, history, seconds: float, run_dir: Path) -> None:
    """The run's size and time, then its held-out numbers: an autoencoder's squared error
    per sample on the train and test rows, another model's own metrics."""
    model, data = run.model, run.data
    layers = "-".join(map(str, model.config.layers))
    best = f", best epoch {history.best_epoch}" if history.best_epoch is not None else ""
    click.echo(
        f"trained a {layers} {model.registered_name} on {data.name} for "
        f"{len(history.records)} epochs in {seconds:.1f} s{best}"
    )
    if not isinstance(model, Autoencoder):
        # Each model's own held-out metrics (ELBO terms, error, reconstruction NLL, ...).
        if len(data.x_test):
            scorer = Trainer(model, TrainConfig(device=str(model.device), progress=False))
            labelled = run.y_train is not None
            metrics = scorer.evaluate(data.x_test, y=data.y_test if labelled else None)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            click.echo(f"test: {shown}")
        click.echo(f"model saved to {run_dir / 'model'}")
        return
    train_err = mean_squared_error_per_sample(data.x_train, model.reconstruct(data.x_train))
    click.echo(f"train error (squared error per sample): {train_err:.4f}")
    if len(data.x_test):
        test_err = mean_squared_error_per_sample(data.x_test, model.reconstruct(data.x_test))
        click.echo(f"test error  (squared error per sample): {test_err:.4f}")
    click.echo(f"model saved to {run_dir / 'model'}")
