"""A battery of bad inputs through every command of ``aekit`` and the estimators (issue 20).

Each case is an input a user could plausibly give (a typo, a file of the wrong kind, a model
folder that lies about its size, a setting out of range) and the words its error must contain.
Each outcome is counted as one of

- ``clear``: exit code 1 or 2, exactly one ``Error:`` line, the last, containing the words, no
  private function name, Python internals or Python spelling of a setting in it (or, for an
  estimator, a ``ValueError``, ``TypeError`` or ``FileNotFoundError`` containing the words);
- ``unclear``: refused, but not in one clear line;
- ``traceback``: any other exception, or a traceback in the output;
- ``silently wrong``: exit code 0 (no exception) where the input must be refused;
- ``damaged folder``: a folder the case names (a run, a model) changed although the input was
  refused.

The test prints the counts and demands 0 of each but ``clear``, at least 60 cases, and a case
for every command registered in :mod:`aekit.cli`.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from aekit.cli import main
from aekit.sklearn import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    RBMTransformer,
    VAETransformer,
    load_estimator,
)

pytestmark = pytest.mark.usefixtures("one_thread")

N_FEATURES = 12
# What a message for a user must not hold: a private function, Python's own phrasing of a
# wrong call, an OS error number, a traceback.
LEAKS = re.compile(
    r"\b_\w+\(\)|unexpected keyword argument|positional argument|\[Errno|Traceback|"
    r"object has no attribute|NoneType"
)
# A setting in Python's spelling (likelihood='gaussian', binarize=True) in a command's error,
# where the command line spells it --likelihood gaussian, --binarize.
PYTHON_SPELLING = re.compile(r"\b[a-z]+_?[a-z_]*=('[^']*'|True|False)")


@dataclass
class Case:
    args: list  # the command line, or a callable for an estimator case
    words: str  # what the one error line must contain
    folder: Path | None = None  # a folder that must come out unchanged


def snapshot(folder: Path | None) -> dict[str, bytes] | None:
    # The lock file holds the PID of the last process that opened the run: not the run.
    if folder is None or not folder.exists():
        return None
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def cli_outcome(runner: CliRunner, case: Case) -> tuple[str, str]:
    before = snapshot(case.folder)
    result = runner.invoke(main, [str(a) for a in case.args])
    text = result.output
    if result.exit_code == 0:
        return "silently wrong", text
    if not isinstance(result.exception, SystemExit) or "Traceback" in text:
        return "traceback", f"{result.exception!r} {text}"
    if snapshot(case.folder) != before:
        return "damaged folder", text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    ok = (
        result.exit_code in (1, 2)
        and len(errors) == 1
        and errors[0] == lines[-1]
        and case.words in errors[0]
        and not LEAKS.search(errors[0])
        and not PYTHON_SPELLING.search(errors[0])
    )
    return ("clear" if ok else "unclear"), text


def estimator_outcome(call, words: str) -> tuple[str, str]:
    # scikit-learn's own input validation (NaN, a 1-D array) words its errors over several
    # lines, and the estimators keep its words: scikit-learn users know them.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except (ValueError, TypeError, FileNotFoundError) as err:
        text = str(err)
        ok = words in text and not LEAKS.search(text)
        return ("clear" if ok else "unclear"), f"{type(err).__name__}: {text}"
    except Exception as err:
        return "traceback", f"{type(err).__name__}: {err}"
    return "silently wrong", "no error"


# Fixtures: files, run folders, model folders --------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    z = rng.random((120, 3))
    good = (1 / (1 + np.exp(-(z @ rng.normal(size=(3, N_FEATURES)) * 2)))).astype(np.float32)
    arrays = {
        "good.npy": good,
        "outside.npy": rng.normal(0, 3, (40, N_FEATURES)).astype(np.float32),
        "nan.npy": np.where(good > 0.9, np.nan, good).astype(np.float32),
        "wide.npy": rng.random((40, N_FEATURES + 1), dtype=np.float32),
        "empty.npy": np.zeros((0, N_FEATURES), np.float32),
        "one_row.npy": good[:1],
        "vector.npy": good[:, 0],
        "four_d.npy": np.zeros((2, 2, 2, 3), np.float32),
        "strings.npy": np.array([["a"] * N_FEATURES] * 3),
        "complex.npy": good.astype(np.complex64),
    }
    for name, a in arrays.items():
        np.save(d / name, a)
    np.save(d / "objects.npy", np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
    (d / "html.npz").write_text("<html><body>404 Not Found</body></html>")
    (d / "html.npy").write_text("<html><body>404 Not Found</body></html>")
    (d / "truncated.npy").write_bytes((d / "good.npy").read_bytes()[:500])
    (d / "mixed.csv").write_text("0.1,hello,0.3\n1,2,3\n")
    (d / "ragged.csv").write_text("1,2,3\n4,5\n")
    (d / "words.csv").write_text("a,b,c\n1,2,x\n")
    (d / "comments.csv").write_text("# nothing\n\n")
    (d / "latin1.csv").write_bytes("caf\xe9,1\n1,2\n".encode("latin-1"))
    (d / "header_mismatch.csv").write_text("a,b\n1,2,3\n")
    (d / "data.json").write_text("[[1, 2], [3, 4]]")
    np.savez(d / "two_arrays.npz", a=good, b=good)
    np.savez(d / "bad_labels.npz", x=good, y=np.full(len(good), 0.5))
    (d / "bad.toml").write_text("[model]\nlayer = '12-3'\n")
    (d / "broken.toml").write_text("[model\n")
    (d / "wrong_type.toml").write_text('[train]\nepochs = "ten"\n')
    (d / "unknown_table.toml").write_text("[optimizer]\nlr = 0.1\n")
    (d / "corpus.csv").write_text("text,label\nthe cat sat,pets\nstocks fell,money\n")
    (d / "a_file").write_text("not a folder")
    (d / "empty_dir").mkdir()
    return {name: d / name for name in [*arrays, "objects.npy", "html.npz", "html.npy",
            "truncated.npy", "mixed.csv", "ragged.csv", "words.csv", "comments.csv",
            "latin1.csv", "header_mismatch.csv", "data.json", "two_arrays.npz",
            "bad_labels.npz", "bad.toml", "broken.toml", "wrong_type.toml", "unknown_table.toml",
            "corpus.csv", "a_file", "empty_dir"]}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory, files) -> dict[str, Path]:
    """A trained autoencoder run, a VAE run, and model folders that are broken on purpose."""
    d = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    torch.set_num_threads(1)
    for name, extra in (("ae", []), ("vae", ["--model", "vae"])):
        args = ["train", "--data", files["good.npy"], "--layers", "auto-8-2", "--epochs", 1,
                "--no-progress", "--device", "cpu", "--out", d / name, *extra]  # fmt: skip
        result = runner.invoke(main, [str(a) for a in args])
        assert result.exit_code == 0, result.output
    model = d / "ae" / "model"
    config = json.loads((model / "config.json").read_text())
    weights = (model / "model.safetensors").read_bytes()

    def model_folder(name: str, layers=None, weights_bytes=weights, config_text=None) -> None:
        folder = d / name
        folder.mkdir()
        cfg = json.loads(json.dumps(config))
        if layers is not None:
            cfg["config"]["layers"] = layers
        (folder / "config.json").write_text(config_text or json.dumps(cfg))
        (folder / "model.safetensors").write_bytes(weights_bytes)

    model_folder("huge", layers=[N_FEATURES, 4_000_000_000, 2])
    model_folder("misfit", layers=[N_FEATURES, 300_000, 2])
    model_folder("truncated", weights_bytes=weights[: len(weights) // 2])
    model_folder("garbage_config", config_text="{not json")
    model_folder("unknown_model", config_text='{"format": "aekit", "model": "nope", "config": {}}')
    model_folder("negative_width", layers=[N_FEATURES, -8, 2])
    # A run whose run.json is cut short, and one whose data file has gone.
    (d / "corrupt_run").mkdir()
    (d / "corrupt_run" / "run.json").write_text('{"model": "autoenc')
    moved = d / "moved_data.npy"
    np.save(moved, np.load(files["good.npy"]))
    args = ["train", "--data", moved, "--layers", "auto-4-2", "--epochs", 2, "--no-progress",
            "--out", d / "lost_data"]  # fmt: skip
    assert runner.invoke(main, [str(a) for a in args]).exit_code == 0
    (d / "lost_data" / "model" / "config.json").unlink()  # as if cut short before the model
    moved.unlink()
    return {p.name: p for p in d.iterdir()}


# The cases -----------------------------------------------------------------------------------


def cli_cases(f: dict[str, Path], r: dict[str, Path], tmp: Path) -> dict[str, list[Case]]:
    ae, vae = r["ae"], r["vae"]
    out = tmp / "out"
    train = ["train", "--no-progress", "--out", tmp / "new-run"]
    good = ["--data", f["good.npy"]]
    cases: dict[str, list[Case]] = {}
    cases["demo"] = [
        Case(["demo", "--seed", "-3"], "-3"),
        Case(["demo", "--threads", "0"], "--threads"),
        Case(["demo", "--out", f["a_file"], "--quick"], "a_file"),
    ]
    cases["train"] = [
        Case([*train, *good, "--activation", "swish"], "swish"),
        Case([*train, *good, "--layers", "abc"], "abc"),
        Case([*train, *good, "--layers", "auto"], "code width"),
        Case([*train, *good, "--layers", "auto-99999999999-8"], "GiB"),
        Case([*train, *good, "--layers", "auto-0-3"], "non-positive"),
        Case([*train, *good, "--layers", "20-8-3"], "12 features"),
        Case([*train, *good, "--weight-decay", "-1"], "--weight-decay"),
        Case([*train, *good, "--weight-decay", "nan"], "nan"),
        Case([*train, *good, "--lr", "0"], "--lr"),
        Case([*train, *good, "--lr", "inf"], "--lr"),
        Case([*train, *good, "--epochs", "0"], "--epochs"),
        Case([*train, *good, "--batch-size", "0"], "--batch-size"),
        Case([*train, *good, "--threads", "0"], "--threads"),
        Case([*train, *good, "--val-fraction", "1.5"], "--val-fraction"),
        Case([*train, *good, "--pretrain", "dbm"], "dbm"),
        Case([*train, *good, "--likelihood", "laplace"], "laplace"),
        Case([*train, *good, "--model", "gan"], "gan"),
        Case([*train, *good, "--model", "vae", "--sparsity-weight", "1"], "--sparsity-weight"),
        Case([*train, *good, "--model", "vib"], "labels"),
        Case([*train, *good, "--conditional"], "--conditional"),
        Case(
            [*train, *good, "--sparsity-weight", "1", "--activation", "relu"],
            "--activation logistic",
        ),
        Case(
            [*train, *good, "--contractive-method", "closed", "--contractive-weight", "1"],
            "--contractive-method exact",
        ),
        Case(
            [*train, *good, "--model", "vae", "--binarize", "--likelihood", "gaussian"],
            "--no-binarize",
        ),
        Case([*train, *good, "--device", "tpu"], "tpu"),
        Case([*train, *good, "--data-option", "nokey"], "KEY=VALUE"),
        Case([*train, *good, "--data-option", "n_train=5"], "test_fraction"),
        Case([*train, *good, "--data-option", "test_fraction=2"], "test_fraction"),
        Case([*train, "--data", "digits", "--data-option", "test_size=1"], "test_size"),
        Case([*train, "--data", "curves", "--data-option", "layout=nope"], "nope"),
        Case([*train, "--data", "mnist", "--data-option", "n_tain=5"], "n_train, n_test, seed"),
        Case([*train, "--data", "mnist", "--data-dir", f["empty_dir"]], "IDX files"),
        # Asked for a Bernoulli likelihood (the default recipe picks a Gaussian for this data).
        Case(
            [*train, "--data", f["outside.npy"], "--likelihood", "bernoulli"],
            "--likelihood gaussian",
        ),
        Case([*train, "--data", f["nan.npy"]], "NaN"),
        Case([*train, "--data", f["empty.npy"]], "empty"),
        Case([*train, "--data", f["one_row.npy"]], "1 row"),
        Case([*train, "--data", f["vector.npy"]], "2-D"),
        Case([*train, "--data", f["four_d.npy"]], "2-D"),
        Case([*train, "--data", f["objects.npy"]], "Python objects"),
        Case([*train, "--data", f["strings.npy"]], "not numbers"),
        Case([*train, "--data", f["complex.npy"]], "complex"),
        Case([*train, "--data", f["html.npz"]], "not a .npz"),
        Case([*train, "--data", f["html.npy"]], "not a .npy"),
        Case([*train, "--data", f["truncated.npy"]], "truncated.npy"),
        Case([*train, "--data", f["mixed.csv"]], "column 2"),
        Case([*train, "--data", f["ragged.csv"]], "line 2"),
        Case([*train, "--data", f["words.csv"]], "'x'"),
        Case([*train, "--data", f["comments.csv"]], "no data"),
        Case([*train, "--data", f["latin1.csv"]], "not a text file"),
        Case([*train, "--data", f["header_mismatch.csv"]], "header names"),
        Case([*train, "--data", f["data.json"]], ".json"),
        Case([*train, "--data", f["two_arrays.npz"]], "'x'"),
        Case([*train, "--data", f["bad_labels.npz"], "--model", "vib"], "whole numbers"),
        Case([*train, "--data", tmp / "missing.npy"], "missing.npy"),
        Case([*train, "--data", "no-such-set"], "no-such-set"),
        Case([*train, "--data", f["empty_dir"]], "IDX files"),
        Case(["train", "--out", tmp / "r"], "--data"),
        Case(["train", "--data", "", "--out", tmp / "r"], "empty"),
        Case(["train", *good, "--out", ""], "empty"),
        Case([*train, "--data", "curves", "--data-option", "n_train=100000000"], "GiB"),
        Case([*train, "--data", "digits", "--data-option", "seed=-1"], "seed"),
        Case([*train, *good, "--data-option", "test_fraction=abc"], "test_fraction"),
        Case([*train, *good, "--data-option", "mmap=2"], "mmap"),
        Case([*train, *good, "--data-option", "label_column=99"], "out of range"),
        Case([*train, "--config", f["bad.toml"]], "layer"),
        Case([*train, "--config", f["broken.toml"]], "TOML"),
        Case([*train, *good, "--config", f["wrong_type.toml"]], "--epochs"),
        Case([*train, *good, "--config", f["unknown_table.toml"]], "optimizer"),
        Case(["train", *good, "--out", f["a_file"]], "a_file"),
        Case(["train", *good, "--out", ae], "aekit resume", folder=ae),
        Case(["train", *good, "--out", ae, "--overwrite", "--lr", "0"], "--lr", folder=ae),
        Case(
            [
                "train",
                "--data",
                f["outside.npy"],
                "--likelihood",
                "bernoulli",
                "--out",
                ae,
                "--overwrite",
            ],
            "[0, 1]",
            folder=ae,
        ),
    ]
    cases["resume"] = [
        Case(["resume", f["empty_dir"]], "run.json"),
        Case(["resume", r["corrupt_run"]], "run.json", folder=r["corrupt_run"]),
        Case(["resume", r["lost_data"]], "moved_data.npy", folder=r["lost_data"]),
        Case(["resume", ae, "--device", "tpu"], "tpu", folder=ae),
        Case(["resume", ae, "--threads", "0"], "--threads", folder=ae),
    ]
    apply_cases = []
    for command in ("encode", "reconstruct"):
        o = ["--out", out / f"{command}.npy"]
        apply_cases += [
            (command, Case([command, f["empty_dir"], *good, *o], "neither")),
            (command, Case([command, ae, "--data", f["wide.npy"], *o], "13 features")),
            (command, Case([command, ae, "--data", f["outside.npy"], *o], "[0, 1]")),
            (command, Case([command, ae, "--data", f["nan.npy"], *o], "NaN")),
            (command, Case([command, ae, *good, "--out", out / "x.txt"], ".npy")),
            (command, Case([command, ae, *good, *o, "--data-option", "mmap=2"], "mmap")),
            (command, Case([command, ae, *good, *o, "--data-option", "seed=1"], "--split")),
            (command, Case([command, r["huge"], *good, *o], "GiB", folder=r["huge"])),
            (command, Case([command, r["misfit"], *good, *o], "size mismatch")),
            (command, Case([command, r["truncated"], *good, *o], "safetensors")),
            (command, Case([command, r["garbage_config"], *good, *o], "JSON")),
            (command, Case([command, r["unknown_model"], *good, *o], "nope")),
            (command, Case([command, r["negative_width"], *good, *o], "-8")),
        ]
    cases["encode"] = [c for name, c in apply_cases if name == "encode"]
    cases["encode"] += [Case(["encode", ae, *good, "--split", "both"], "both")]
    cases["reconstruct"] = [c for name, c in apply_cases if name == "reconstruct"]
    cases["reconstruct"] += [Case(["reconstruct", ae, *good], "--out")]
    cases["evaluate"] = [
        Case(["evaluate", ae, "--data", f["wide.npy"]], "13 features"),
        Case(["evaluate", ae, "--data", f["outside.npy"]], "[0, 1]"),
        Case(["evaluate", ae, "--data", "digits"], "64 features"),
        Case(["evaluate", ae, *good, "--out", f["empty_dir"]], "empty_dir"),
        Case(["evaluate", ae, *good, "--data-option", "n_train=3"], "test_fraction"),
        Case(["evaluate", r["lost_data"], *good], "aekit resume", folder=r["lost_data"]),
    ]
    cases["report"] = [
        Case(["report", ae, *good], "cannot sample"),
        Case(["report", vae, "--data", f["wide.npy"]], "13 features"),
        Case(["report", vae, "--data", f["outside.npy"]], "[0, 1]"),
        Case(["report", vae, *good, "--iw-samples", "-1"], "--iw-samples"),
    ]
    cases["sample"] = [
        Case(["sample", ae], "cannot sample"),
        Case(["sample", vae, "--n", "0"], "--n"),
        Case(["sample", vae, "--image-shape", "3by4"], "not HxW"),
        Case(["sample", vae, "--image-shape", "5x5"], "5x5 = 25"),
        Case(["sample", vae, "--out", out / "s.txt"], ".png"),
        Case(["sample", vae, "--label", "1"], "--conditional"),
        Case(["sample", vae, "--out", out / "s.png"], "not a square"),
        Case(["sample", vae, "--n", "1000000000", "--out", out / "s.npy"], "GiB"),
        Case(
            ["sample", vae, "--n", "20000", "--image-shape", "3x4", "--out", out / "s.png"],
            "too many",
        ),
    ]
    cases["reproduce"] = [
        Case(["reproduce", "hinton2006", "nope"], "nope"),
        Case(["reproduce", "hinton2006", "docs", "--bf16"], "--bf16"),
        Case(
            [
                "reproduce",
                "hinton2006",
                "mnist",
                "--quick",
                "--data-dir",
                f["empty_dir"],
                "--out",
                tmp / "h06",
            ],
            "IDX files",
        ),
        Case(["reproduce", "hinton2006", "curves", "--reuse-pretraining", tmp / "nope"], "nope"),
    ]
    cases["retrieve"] = [
        Case(["retrieve", ae, "--corpus", f["corpus.csv"], "--query", "cat"], "document model"),
        Case(["retrieve", ae, "--corpus", tmp / "nope.csv", "--query", "cat"], "nope.csv"),
        Case(["retrieve", ae, "--corpus", f["corpus.csv"], "--k", "0"], "--k"),
    ]
    cases["ib"] = [
        Case(["ib", "example", "nope"], "nope"),
        Case(["ib", "example", "users", "--beta", "-1"], "--beta"),
        Case(["ib", "example", "users", "--alpha", "2"], "--alpha"),
        Case(["ib", "example", "users", "--n-samples", "5"], "--n-samples"),
        Case(["ib", "example", "users", "--restarts", "0"], "--restarts"),
        Case(["ib", "example", "users", "--out", f["a_file"], "--n-samples", "200"], "a_file"),
    ]
    cases["explore"] = [
        Case(["explore", ae, "--data", f["wide.npy"], "--out", out / "e.html"], "13"),
        Case(["explore", ae, *good, "--projection", "nope", "--out", out / "e.html"], "nope"),
        Case(["explore", ae, *good, "--max-points", "0", "--out", out / "e.html"], "--max-points"),
        Case(["explore", f["empty_dir"], *good, "--out", out / "e.html"], "empty_dir"),
    ]
    cases["export"] = [
        Case(["export", ae, "--format", "pickle", "--out", out / "x"], "pickle"),
        Case(["export", f["empty_dir"], "--out", out / "x"], "empty_dir"),
        Case(["export", r["huge"], "--out", out / "x"], "GiB"),
    ]
    cases["show"] = [
        Case(["show", f["empty_dir"]], "empty_dir"),
        Case(["show", r["garbage_config"]], "garbage_config"),
    ]
    cases["score"] = [
        Case(["score", ae, "--data", f["wide.npy"], "--out", out / "s.npy"], "13"),
        Case(["score", ae, *good, "--out", out / "s.npy", "--contamination", "0.9"], "0.9"),
        Case(["score", f["empty_dir"], *good, "--out", out / "s.npy"], "empty_dir"),
        Case(["score", ae, "--data", f["outside.npy"], "--out", out / "s.npy"], "[0, 1]"),
    ]
    return cases


def estimator_cases(f: dict[str, Path]) -> list[tuple[str, object, str]]:
    good = np.load(f["good.npy"])
    fast = {"max_epochs": 1, "random_state": 0}
    fitted = AutoencoderTransformer(2, hidden_layer_sizes=(4,), **fast).fit(good)
    nan = np.load(f["nan.npy"])
    return [
        ("ae fit NaN", lambda: AutoencoderTransformer(**fast).fit(nan), "NaN"),
        ("ae fit 1-D", lambda: AutoencoderTransformer(**fast).fit(good[:, 0]), "2D"),
        ("ae fit empty", lambda: AutoencoderTransformer(**fast).fit(good[:0]), "0 sample"),
        ("ae fit strings", lambda: AutoencoderTransformer(**fast).fit([["a", "b"]]), "float"),
        ("ae max_epochs 0", lambda: AutoencoderTransformer(max_epochs=0).fit(good), "max_epochs"),
        ("ae lr -1", lambda: AutoencoderTransformer(learning_rate=-1.0).fit(good), "learning_rate"),
        ("ae activation", lambda: AutoencoderTransformer(activation="swish").fit(good), "swish"),
        (
            "ae bernoulli outside",
            lambda: AutoencoderTransformer(likelihood="bernoulli", **fast).fit(
                np.load(f["outside.npy"])
            ),
            "[0, 1]",
        ),
        ("ae wide transform", lambda: fitted.transform(np.load(f["wide.npy"])), "12 features"),
        ("ae not fitted", lambda: AutoencoderTransformer().transform(good), "fit"),
        ("vae beta -1", lambda: VAETransformer(beta=-1.0, **fast).fit(good), "beta"),
        ("rbm fit NaN", lambda: RBMTransformer(**fast).fit(nan), "NaN"),
        (
            "detector contamination",
            lambda: AutoencoderOutlierDetector(contamination=0.9).fit(good),
            "contamination",
        ),
        ("load missing", lambda: load_estimator(f["empty_dir"] / "nope"), "nope"),
        ("load not an estimator", lambda: load_estimator(f["empty_dir"]), "estimator.json"),
    ]


def test_bad_inputs_are_refused_clearly_everywhere(files, runs, tmp_path, capsys):
    runner = CliRunner()
    cases = cli_cases(files, runs, tmp_path)
    registered = set(main.commands)
    assert registered <= set(cases), f"commands without bad-input cases: {registered - set(cases)}"
    counts: Counter = Counter()
    bad: list[str] = []
    for command, command_cases in cases.items():
        if command not in registered:
            continue  # a case for a command another change will register
        for case in command_cases:
            outcome, text = cli_outcome(runner, case)
            counts[outcome] += 1
            if outcome != "clear":
                bad.append(f"{outcome}: {[str(a) for a in case.args]} -> {text.strip()[-400:]}")
    for name, call, words in estimator_cases(files):
        outcome, text = estimator_outcome(call, words)
        counts[outcome] += 1
        if outcome != "clear":
            bad.append(f"{outcome}: estimator {name} -> {text[-400:]}")
    total = sum(counts.values())
    with capsys.disabled():
        print(f"\nbad inputs: {total} cases, " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert total >= 60
    assert not bad, "\n".join(bad)
