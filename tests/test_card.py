"""Model cards: every number on a trained model's README.md recomputed from its run folder.

A short run on the digits (the third epoch at 1000 times the learning rate, so the best epoch,
whose weights are kept, is the second) writes its card with the final weights; the tests read
the card back and check the fingerprint against a hand-made SHA-256 of the sampled rows, the
metrics against metrics.jsonl, PCA's error against scikit-learn's PCA on the same validation
rows, and the specification against run.json.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict
from datetime import UTC, datetime

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from aekit import TrainConfig, Trainer, __version__
from aekit.card import read_card, render_card
from aekit.data import load_dataset
from aekit.models import VIBClassifier
from aekit.models.autoencoder import Autoencoder
from aekit.train import split_validation

TRAIN = dict(
    epochs=3, batch_size=128, lr=1e-3, lr_schedule="step", lr_step_epochs=2, lr_gamma=1000.0,
    val_fraction=0.2, progress=False,
)  # fmt: skip


def table(card: str, header: str) -> dict[str, str]:
    """The rows of the Markdown table under ``header`` as {first cell: second cell}."""
    lines = card[card.index(header) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| "))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("| "):
            break
        key, value = (cell.strip() for cell in line.strip("|").split("|"))
        rows[key] = value
    return rows


def code_block(card: str, language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", card, re.S).group(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("card") / "run"
    x = load_dataset("digits").x_train
    torch.manual_seed(0)
    model = Autoencoder(layers=[64, 16, 4])
    metadata = {"command": "python fit.py", "data": {"name": "digits", "options": {}}}
    trainer = Trainer(model, TrainConfig(**TRAIN), run_dir=run, run_metadata=metadata)
    trainer.fit(x)
    return run, model, x, trainer


def test_the_card_is_saved_with_the_weights_and_says_what_they_are(trained):
    run, model, x, trainer = trained
    card = (run / "model" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: aekit\ntags:\n- aekit\n- autoencoder\n")
    assert f"aekit](https://pypi.org/project/aekit/) {__version__}" in card
    assert "# autoencoder 64-16-4\n" in card
    config = json.loads(code_block(card, "json"))
    assert config == {"model": "autoencoder", "config": asdict(model.config)}
    assert "- data: digits\n" in card
    assert "- shape: 1,347 rows x 64 features\n" in card
    rows = np.unique(np.linspace(0, len(x) - 1, 64).round().astype(int))  # 64 evenly spaced
    digest = hashlib.sha256(x[rows].astype(np.float32).tobytes()).hexdigest()
    assert f"- fingerprint: `sha256:{digest}` (SHA-256 of 64 evenly spaced rows" in card
    train = tomllib.loads(code_block(card, "toml"))["train"]
    assert train == json.loads(
        json.dumps({k: v for k, v in asdict(trainer.config).items() if v is not None})
    )
    assert "Command: `python fit.py`, with these settings of `aekit.train.Trainer`:" in card
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"saved on {today}." in card and f"Saved by aekit {__version__} on {today} " in card
    seconds = sum(r["seconds"] for r in trainer.history.records)
    assert f"Training time: {seconds:.1f} s" in card


def test_the_cards_metrics_are_the_kept_epochs(trained):
    run, _, _, _ = trained
    card = read_card(run)  # the run folder finds model/README.md
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    best = min(records, key=lambda r: r["val_recon"])
    assert best["epoch"] == 2 < len(records)  # early stopping kept an earlier epoch
    assert "Final metrics (epoch 2, whose weights these are):" in card
    shown = table(card, "Final metrics")
    assert set(shown) == {"train_loss", "train_recon", "val_recon", "val_squared_error"}
    for key, text in shown.items():
        assert float(text) == pytest.approx(best[key], rel=1e-5)


def test_the_pca_comparison_is_scikit_learns_pca_on_the_same_held_out_rows(trained):
    run, _, x, trainer = trained
    card = read_card(run / "model")
    fit_idx, val_idx = split_validation(len(x), trainer.config.val_fraction, trainer.config.seed)
    pca = PCA(4).fit(x[fit_idx].astype(np.float64))
    held_out = x[val_idx]
    want = ((pca.inverse_transform(pca.transform(held_out)) - held_out) ** 2).sum(1).mean()
    assert f"same code size (4), on {len(val_idx):,} held-out rows" in card
    shown = table(card, "Against PCA")
    assert float(shown["PCA, 4 components"]) == pytest.approx(want, rel=1e-5)
    # The model's figure is the trainer's own validation metric, computed another way.
    best = trainer.history.records[trainer.history.best_epoch - 1]
    assert float(shown["this model"]) == pytest.approx(best["val_squared_error"], rel=1e-5)


def test_a_classifier_has_no_pca_row_and_a_folder_without_a_card_gets_one(tmp_path):
    vib = VIBClassifier(layers=[64, 8, 2], n_classes=10)
    card = render_card(vib)
    assert "Against PCA" not in card and "## Training data" not in card
    vib.save(tmp_path / "old")
    assert not (tmp_path / "old" / "README.md").exists()
    card = read_card(tmp_path / "old")
    assert "# vib 64-8-2" in card
    assert "saved without a model card" in card


# aekit show ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    from click.testing import CliRunner

    from aekit.cli import main

    run = tmp_path_factory.mktemp("cli") / "run"
    args = ["train", "--data", "digits", "--layers", "auto-8", "--epochs", "2", "--no-progress",
            "--out", str(run)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return run


def test_aekit_show_prints_the_card_with_the_specification_that_trained_it(cli_run, runner):
    from aekit.cli import main
    from aekit.spec import RunSpec

    result = runner.invoke(main, ["show", str(cli_run)])
    assert result.exit_code == 0, result.output
    card = result.output
    assert card == (cli_run / "model" / "README.md").read_text()
    assert "Command: `aekit train`, with this specification:" in card
    spec = json.loads((cli_run / "run.json").read_text())["metadata"]["spec"]
    from_card = RunSpec.from_dict(tomllib.loads(code_block(card, "toml")))
    assert from_card.to_dict() == RunSpec.from_dict(spec).to_dict()
    assert "- data: digits\n" in card


def test_aekit_show_refuses_a_run_without_a_model_in_one_line(tmp_path, runner):
    from aekit.cli import main

    (tmp_path / "run.json").write_text("{}")
    result = runner.invoke(main, ["show", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the run in {tmp_path} has no final model yet (was it interrupted?); finish "
        f"it with `aekit resume {tmp_path}`\n"
    )
    (tmp_path / "run.json").unlink()
    result = runner.invoke(main, ["show", str(tmp_path)])
    assert result.exit_code == 1 and "is neither a saved model" in result.output
