"""ONNX export: every model kind with an encoder, run in onnxruntime against PyTorch.

Each model's weights and biases are perturbed away from their initialisation (an RBM starts
with zero biases, which would hide a missing bias term), exported once, and its graphs are run
on random rows, on real rows (scikit-learn's digits; MNIST and 20 Newsgroups where
``AEKIT_DATA_DIR`` has them) at batch sizes other than the one traced. Decoders are fed the
codes the PyTorch encoder gives those rows. Inputs in [0, 1] must agree within 1e-5 absolute;
word counts (whose scale grows with the document) within 1e-5 relative to the output's scale.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime", reason="ONNX export needs the extra: pip install 'aekit[onnx]'")
pytest.importorskip("onnxscript", reason="ONNX export needs the extra: pip install 'aekit[onnx]'")
onnx = pytest.importorskip("onnx", reason="ONNX export needs the extra: pip install 'aekit[onnx]'")

from aekit.data import load_dataset  # noqa: E402
from aekit.export import RECIPES, export_model, export_onnx, run_onnx  # noqa: E402
from aekit.extras import MissingExtraError  # noqa: E402
from aekit.models import (  # noqa: E402
    VAE,
    AdversarialAutoencoder,
    Autoencoder,
    DocumentAutoencoder,
    IBAutoencoder,
    VIBClassifier,
)
from aekit.rbm import DBM, DBN, RBM  # noqa: E402

ABS_TOL = 1e-5  # inputs in [0, 1]
REL_TOL = 1e-5  # word counts: relative to the output's largest magnitude
N_WORDS = 300

DENSE = {  # kind -> model on 64 inputs in [0, 1] (the digits' width)
    "plain": lambda: Autoencoder(layers=[64, 8]),
    "deep": lambda: Autoencoder(layers=[64, 48, 24, 8]),
    "tied": lambda: Autoencoder(layers=[64, 32, 8], tied=True),
    "sparse": lambda: Autoencoder(layers=[64, 32], code_activation="logistic", sparsity_weight=0.1),
    "denoising": lambda: Autoencoder(layers=[64, 32, 8], corruption="mask", corruption_level=0.3),
    "contractive": lambda: Autoencoder(
        layers=[64, 24], code_activation="logistic", contractive_weight=0.1
    ),
    "relu-gaussian": lambda: Autoencoder(
        layers=[64, 32, 8], activation="relu", likelihood="gaussian"
    ),
    "vae": lambda: VAE(layers=[64, 32, 4]),
    "conditional-vae": lambda: VAE(layers=[64, 32, 4], n_classes=10),
    "aae": lambda: AdversarialAutoencoder(layers=[64, 32, 2], discriminator_layers=[16]),
    "aae-clusters": lambda: AdversarialAutoencoder(
        layers=[64, 32, 2], discriminator_layers=[16], n_clusters=4
    ),
    "vib": lambda: VIBClassifier(layers=[64, 32, 4], n_classes=10),
    "ib-autoencoder": lambda: IBAutoencoder(layers=[64, 32, 4], n_classes=10),
    "rbm": lambda: RBM(n_visible=64, n_hidden=16),
    "rbm-linear-hidden": lambda: RBM(n_visible=64, n_hidden=6, hidden="gaussian"),
    "dbn": lambda: DBN(layers=[64, 32, 16]),
    "dbm": lambda: DBM(n_visible=64, n_hidden1=16, n_hidden2=8, mean_field_steps=5),
}
COUNTS = {  # kind -> model of word counts over N_WORDS words
    "document": lambda: DocumentAutoencoder(layers=[N_WORDS, 32, 4]),
    "document-binary": lambda: DocumentAutoencoder(layers=[N_WORDS, 32, 8], code="binary"),
    "document-raw-counts": lambda: DocumentAutoencoder(layers=[N_WORDS, 16, 4], input_length=None),
    "rbm-softmax": lambda: RBM(n_visible=N_WORDS, n_hidden=16, visible="softmax"),
}


def perturbed(model: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> torch.nn.Module:
    """Every parameter moved by seeded noise, so that each weight and bias shows in the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return model.eval()


_EXPORTS: dict[str, tuple[torch.nn.Module, Path]] = {}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Export each kind once for all the tests of this module (an export takes a second)."""

    def get(kind: str) -> tuple[torch.nn.Module, Path]:
        if kind not in _EXPORTS:
            torch.manual_seed(0)
            build = DENSE.get(kind) or COUNTS[kind]
            model = perturbed(build(), scale=0.3 if kind in DENSE else 0.05)
            out = tmp_path_factory.mktemp(kind)
            export_onnx(model, out)
            _EXPORTS[kind] = (model, out)
        return _EXPORTS[kind]

    yield get
    _EXPORTS.clear()


def word_counts(n: int, n_words: int = N_WORDS, seed: int = 0) -> np.ndarray:
    """Documents shaped like real ones: Zipf-distributed words, log-normal lengths from a few
    words to thousands (20 Newsgroups: median 54, longest 12,434)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_words + 1)
    lengths = np.clip(rng.lognormal(4.0, 1.2, n).astype(int), 1, 20000)
    lengths[0] = 12434
    return np.stack([rng.multinomial(m, p / p.sum()) for m in lengths]).astype(np.float32)


def part_inputs(model, manifest: dict, part: str, x: np.ndarray, y: np.ndarray | None):
    """Arrays for each input of ``part``: the rows, the PyTorch encoder's codes of the rows, the
    labels one-hot, or the documents' lengths."""
    arrays = []
    for spec in manifest["parts"][part]["inputs"]:
        name, width = spec["name"], spec["shape"][1]
        if name == "x":
            arrays.append(x)
        elif name == "y":
            arrays.append(np.eye(width, dtype=np.float32)[y % width])
        elif name == "length":
            arrays.append(x.sum(1, keepdims=True))
        else:
            encoder = manifest["parts"]["encoder"]
            enc_args = part_inputs(model, manifest, "encoder", x, y)
            assert encoder["inputs"][0]["name"] == "x"
            arrays.append(torch_part(model, manifest, "encoder", enc_args))
    return arrays


def torch_part(model, manifest: dict, part: str, arrays) -> np.ndarray:
    """What PyTorch computes for ``part`` (the recipe the exporter used)."""
    fn = RECIPES[manifest["model"]](model)[part].fn
    with torch.no_grad():
        return fn(*(torch.from_numpy(np.asarray(a, dtype=np.float32)) for a in arrays)).numpy()


def check_all_parts(model, out: Path, x: np.ndarray, y: np.ndarray | None, counts: bool) -> int:
    """Run every exported part on ``x`` in onnxruntime and PyTorch; returns the parts checked."""
    manifest = json.loads((out / "export.json").read_text())
    for part, info in manifest["parts"].items():
        arrays = part_inputs(model, manifest, part, x, y)
        want = torch_part(model, manifest, part, arrays)
        got = run_onnx(out / info["file"], *arrays)
        assert got.shape == want.shape == (len(x), *want.shape[1:])
        assert got.dtype == np.float32
        err = np.abs(got.astype(np.float64) - want)
        if counts:
            assert err.max() <= REL_TOL * np.abs(want).max(), (part, err.max())
        else:
            assert err.max() <= ABS_TOL, (part, err.max())
    return len(manifest["parts"])


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("kind", sorted(DENSE))
def test_dense_models_match_pytorch_on_random_and_real_rows(kind, exports, digits):
    model, out = exports(kind)
    rng = np.random.default_rng(1)
    for n in (1, 37):  # the graph was traced at another batch size
        x = rng.random((n, 64), dtype=np.float32)
        assert check_all_parts(model, out, x, rng.integers(10, size=n), counts=False) >= 1
    check_all_parts(model, out, digits.x_test.astype(np.float32), digits.y_test, counts=False)


@pytest.mark.parametrize("kind", sorted(COUNTS))
def test_count_models_match_pytorch_relatively(kind, exports):
    model, out = exports(kind)
    for n in (1, 64):
        check_all_parts(model, out, word_counts(n, seed=n), None, counts=True)


def test_every_built_in_model_has_a_recipe_and_every_kind_is_tested():
    from aekit.registry import model_names

    assert set(model_names()) <= set(RECIPES)
    tested = {build().registered_name for build in [*DENSE.values(), *COUNTS.values()]}
    assert tested == set(RECIPES)


def test_manifest_lists_each_graph_and_says_why_a_part_is_missing(exports):
    _, out = exports("vib")
    manifest = json.loads((out / "export.json").read_text())
    assert sorted(manifest["parts"]) == ["decoder", "encoder"]
    assert manifest["parts"]["encoder"]["inputs"] == [{"name": "x", "shape": ["batch", 64]}]
    assert manifest["parts"]["decoder"]["output"] == "probabilities"
    assert "random posterior draws" in manifest["not_exported"]["model"]
    assert not (out / "model.onnx").exists()
    _, out = exports("dbn")
    manifest = json.loads((out / "export.json").read_text())
    assert sorted(manifest["parts"]) == ["encoder"]
    assert "Gibbs sampling" in manifest["not_exported"]["decoder"]
    _, out = exports("conditional-vae")
    manifest = json.loads((out / "export.json").read_text())
    names = [i["name"] for i in manifest["parts"]["decoder"]["inputs"]]
    assert names == ["code", "y"]


def test_graphs_carry_their_origin_and_a_dynamic_batch(exports):
    from aekit import __version__

    _, out = exports("deep")
    proto = onnx.load(str(out / "encoder.onnx"))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta == {
        "aekit_version": __version__,
        "aekit_model": "autoencoder",
        "aekit_part": "encoder",
    }
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 64


def test_export_leaves_the_callers_model_as_it_was(tmp_path):
    model = Autoencoder(layers=[64, 8]).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_onnx(model, tmp_path)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_run_folder_exports_its_final_model(tmp_path, digits):
    from aekit import TrainConfig, Trainer

    model = Autoencoder(layers=[64, 16, 4])
    cfg = TrainConfig(epochs=1, batch_size=256, progress=False)
    Trainer(model, cfg, run_dir=tmp_path / "run").fit(digits.x_train)
    written = export_model(tmp_path / "run", tmp_path / "onnx")
    assert sorted(written) == ["decoder", "encoder", "model"]
    codes = run_onnx(written["encoder"], digits.x_test)
    np.testing.assert_allclose(codes, model.transform(digits.x_test), atol=ABS_TOL, rtol=0)


def test_a_graph_that_fails_its_check_leaves_no_file(tmp_path, monkeypatch):
    import aekit.export

    def wrong(path, name, model, part):
        raise RuntimeError(f"the exported {name} does not reproduce PyTorch")

    monkeypatch.setattr(aekit.export, "_verify", wrong)
    with pytest.raises(RuntimeError, match=r"encoder\.onnx does not reproduce"):
        export_onnx(Autoencoder(layers=[4, 2]), tmp_path)
    assert list(tmp_path.iterdir()) == []


# Bad input -------------------------------------------------------------------------------------


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_a_run_folder_without_a_model_is_named(tmp_path):
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(ValueError) as err:
        export_model(tmp_path, tmp_path / "out")
    assert "has no final model yet" in one_line(err) and "aekit resume" in str(err.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither a saved model"):
        export_model(tmp_path / "empty", tmp_path / "out")


def test_unsupported_format_and_non_models_are_refused(tmp_path):
    with pytest.raises(ValueError) as err:
        export_model(Autoencoder(layers=[4, 2]), tmp_path, format="tflite")
    assert one_line(err) == "unsupported export format 'tflite'; supported: ['onnx']"
    with pytest.raises(TypeError, match="registered aekit model"):
        export_onnx(torch.nn.Linear(3, 2), tmp_path)


def test_an_unwritable_destination_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError) as err:
        export_onnx(Autoencoder(layers=[4, 2]), tmp_path / "file" / "onnx")
    assert one_line(err).startswith(f"cannot write into {tmp_path / 'file' / 'onnx'}")


def test_without_the_extra_the_error_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(MissingExtraError) as err:
        export_onnx(Autoencoder(layers=[4, 2]), tmp_path)
    assert one_line(err).endswith("pip install 'aekit[onnx]'")
    assert isinstance(err.value, ImportError) and isinstance(err.value, ValueError)


# The command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, digits):
    from aekit import TrainConfig, Trainer

    run = tmp_path_factory.mktemp("cli") / "run"
    model = Autoencoder(layers=[64, 16, 4])
    Trainer(model, TrainConfig(epochs=1, progress=False), run_dir=run).fit(digits.x_train)
    return run, model


def test_aekit_export_writes_the_graphs(trained_run, tmp_path, runner, digits):
    from aekit.cli import main

    run, model = trained_run
    result = runner.invoke(main, ["export", str(run), "--format", "onnx", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{part}: {tmp_path / part}.onnx" for part in ("encoder", "decoder", "model")
    ]
    recon = run_onnx(tmp_path / "model.onnx", digits.x_test)
    np.testing.assert_allclose(recon, model.reconstruct(digits.x_test), atol=ABS_TOL, rtol=0)


def test_aekit_export_names_what_was_left_out(tmp_path, runner):
    from aekit.cli import main
    from aekit.saving import save_model

    save_model(DBN(layers=[6, 4, 3]), tmp_path / "dbn")
    result = runner.invoke(main, ["export", str(tmp_path / "dbn"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"encoder: {tmp_path / 'o' / 'encoder.onnx'}"
    assert "decoder: not exported, a DBN has no deterministic decoder" in result.output


@pytest.mark.parametrize(
    "case, message",
    [
        ("format", "unsupported export format 'tflite'; supported: ['onnx']"),
        ("no model", "has no final model yet (was it interrupted?); finish it with"),
        ("unwritable", "cannot write into"),
        ("no extra", "ONNX export needs the onnx package, which is not installed"),
    ],
)
def test_aekit_export_bad_input_is_one_line(
    case, message, trained_run, tmp_path, runner, monkeypatch
):
    from aekit.cli import main

    run, _ = trained_run
    out = tmp_path / "out"
    args = ["export", str(run), "--out", str(out)]
    if case == "format":
        args += ["--format", "tflite"]
    elif case == "no model":
        (tmp_path / "interrupted").mkdir()
        (tmp_path / "interrupted" / "run.json").write_text("{}")
        args[1] = str(tmp_path / "interrupted")
    elif case == "unwritable":
        (tmp_path / "file").write_text("")
        args[-1] = str(tmp_path / "file" / "out")
    else:
        monkeypatch.setitem(sys.modules, "onnx", None)
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and len(result.output.splitlines()) == 1
    assert message in result.output, result.output


# Real data ---------------------------------------------------------------------------------------


def data_dir() -> Path | None:
    path = os.environ.get("AEKIT_DATA_DIR")
    return Path(path) if path else None


@pytest.mark.slow  # the paper's sizes, 16 s on a busy 2-core machine; digits cover the rest
@pytest.mark.realdata
def test_mnist_sized_models_on_mnist_rows(tmp_path):
    root = data_dir()
    if root is None or not (root / "mnist").is_dir():
        pytest.skip("MNIST is not under $AEKIT_DATA_DIR/mnist")
    x = load_dataset("mnist", data_dir=root).x_test[:500].astype(np.float32)
    torch.manual_seed(0)
    # Hinton & Salakhutdinov's MNIST autoencoder and the DBN that pretrains it.
    models = {
        "autoencoder": Autoencoder(layers=[784, 1000, 500, 250, 30]).eval(),
        "dbn": perturbed(DBN(layers=[784, 500, 500, 2000]), scale=0.01),
    }
    for name, model in models.items():
        export_onnx(model, tmp_path / name)
        check_all_parts(model, tmp_path / name, x, None, counts=False)


@pytest.mark.realdata
def test_document_model_on_20_newsgroups_rows(tmp_path):
    root = data_dir()
    if root is None or not (root / "20news-bydate.tar.gz").is_file():
        pytest.skip("20 Newsgroups is not under $AEKIT_DATA_DIR")
    from aekit.data.text import BagOfWords, load_20newsgroups

    corpus = load_20newsgroups(root, "test", categories=["sci.space", "rec.autos"])
    counts = BagOfWords(max_features=N_WORDS).fit_transform(corpus.texts)
    x = counts.toarray().astype(np.float32)
    x = x[x.sum(1) > 0][:400]
    torch.manual_seed(0)
    model = perturbed(DocumentAutoencoder(layers=[N_WORDS, 64, 10]), scale=0.05)
    export_onnx(model, tmp_path)
    check_all_parts(model, tmp_path, x, None, counts=True)
