"""``aekit export RUN --format onnx --out DIR``: a trained model for runtimes without aekit."""

from __future__ import annotations

import json
from pathlib import Path

import click

from aekit.cli.common import CONTEXT_SETTINGS, user_errors
from aekit.export import FORMATS, export_model


@click.command("export", context_settings=CONTEXT_SETTINGS)
@click.argument("run", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--format",
    "fmt",
    metavar="[" + "|".join(FORMATS) + "]",
    default="onnx",
    show_default=True,
    help="The file format; onnx needs aekit[onnx].",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for the graphs (encoder.onnx, decoder.onnx, model.onnx) and export.json.",
)
@user_errors
def export(run: str, fmt: str, out_dir: str) -> None:
    """Export the model of a run folder (or a saved model folder) for other runtimes: the
    encoder, the decoder and, where the model has one forward path, the whole model, each
    taking rows with any batch size. export.json says what each file takes and returns."""
    written = export_model(run, out_dir, format=fmt)
    for part, path in written.items():
        click.echo(f"{part}: {path}")
    manifest = json.loads((Path(out_dir) / "export.json").read_text())
    for part, why in manifest["not_exported"].items():
        click.echo(f"{part}: not exported, {why}")
