"""A first run that tells the truth (issue 20): PCA beside the model, warnings that say what
is wrong, errors in the door's own words, inputs refused where they enter, and nothing written
into a model's folder but the model. Each test fails on the behaviour before the issue."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import aekit.evaluate.pca_compare as pca_compare
from aekit import VAE, Autoencoder, AutoencoderConfig, TrainConfig, Trainer, VAEConfig
from aekit.baselines import PCABaseline
from aekit.cli import main
from aekit.cli.common import load_rows
from aekit.config import ConfigError
from aekit.data import DataOptionError, load_array, load_dataset, write_idx
from aekit.evaluate import compare_with_pca, mean_squared_error_per_sample
from aekit.experiments.generative import (
    PosteriorCollapseWarning,
    active_units,
    collapse_message,
    generative_section,
)
from aekit.rows import MemmapRows
from aekit.saving import load_model, save_model
from aekit.spec import DataSpec, OvercompleteCodeWarning, RunSpec

pytestmark = pytest.mark.usefixtures("one_thread")

ROOT = Path(__file__).resolve().parents[1]
N_FEATURES = 12


def invoke(runner: CliRunner, args: list, code: int = 0):
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("Error:"), result.output
    return lines[-1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    # Low-rank data in [0, 1], 12 columns: a 3-unit code has something to learn.
    rng = np.random.default_rng(0)
    z = rng.random((120, 3))
    x = 1.0 / (1.0 + np.exp(-(z @ rng.normal(size=(3, N_FEATURES)) * 2.0)))
    path = tmp_path_factory.mktemp("data") / "tiny.npy"
    np.save(path, x.astype(np.float32))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_file) -> Path:
    """A run folder of `aekit train`: a 12-8-3 autoencoder, Bernoulli likelihood."""
    run = tmp_path_factory.mktemp("runs") / "ae"
    torch.set_num_threads(1)
    args = ["train", "--data", data_file, "--layers", "auto-8-3", "--epochs", 2,
            "--no-progress", "--device", "cpu", "--out", run]  # fmt: skip
    invoke(CliRunner(), args)
    return run


# 1. PCA beside the model ------------------------------------------------------------------


class _Projection:
    """A 'model' that is PCA itself, or that reconstructs perfectly: known answers."""

    def __init__(self, pca: PCABaseline | None, code_size: int) -> None:
        self.pca, self.code_size = pca, code_size

    def transform(self, x):
        return np.zeros((len(x), self.code_size), dtype=np.float32)

    def reconstruct(self, x):
        return np.array(x, copy=True) if self.pca is None else self.pca.reconstruct(x)


def test_compare_with_pca_against_pca_itself_and_a_perfect_model():
    ds = load_dataset("digits")
    pca = PCABaseline(5).fit(ds.x_train)
    want = mean_squared_error_per_sample(ds.x_test, pca.reconstruct(ds.x_test))
    same = compare_with_pca(_Projection(pca, 5), ds.x_train, ds.x_test)
    assert same.code_size == same.n_components == 5 and same.n_fit_rows == len(ds.x_train)
    assert same.pca_error == pytest.approx(want, rel=1e-6)
    assert same.model_error == pytest.approx(want, rel=1e-6) and not same.pca_is_exact
    perfect = compare_with_pca(_Projection(None, 5), ds.x_train, ds.x_test)
    assert perfect.model_error == 0 and not perfect.behind and perfect.ratio == 0
    # A model worse than PCA is behind, by the ratio of the two errors.
    noisy = _Projection(None, 5)
    noisy.reconstruct = lambda x: np.asarray(x) + 0.5  # squared error 64 * 0.25 = 16
    behind = compare_with_pca(noisy, ds.x_train, ds.x_test)
    assert behind.behind and behind.model_error == pytest.approx(16.0, rel=1e-5)
    assert behind.ratio == pytest.approx(16.0 / want, rel=1e-5)
    # A code as wide as the data: PCA keeps every direction and the comparison says so.
    assert compare_with_pca(_Projection(None, 64), ds.x_train, ds.x_test).pca_is_exact


def test_compare_with_pca_fits_on_a_seeded_sample_of_many_rows(monkeypatch):
    ds = load_dataset("digits")
    monkeypatch.setattr(pca_compare, "MAX_PCA_ROWS", 300)
    a = compare_with_pca(_Projection(None, 4), ds.x_train, ds.x_test, seed=1)
    b = compare_with_pca(_Projection(None, 4), ds.x_train, ds.x_test, seed=1)
    assert a.n_fit_rows == 300 and a.pca_error == b.pca_error
    with pytest.raises(TypeError, match="does not reconstruct"):
        compare_with_pca(object(), ds.x_train, ds.x_test)


def test_train_prints_pca_beside_the_model_and_says_it_is_behind(tmp_path):
    runner = CliRunner()
    args = ["train", "--data", "digits", "--epochs", 1, "--no-progress", "--device", "cpu"]
    out = invoke(runner, [*args, "--out", tmp_path / "r"]).output
    ds = load_dataset("digits")
    pca = PCABaseline(8).fit(ds.x_train)  # the default recipe's code for 64 pixels: 8 units
    want = mean_squared_error_per_sample(ds.x_test, pca.reconstruct(ds.x_test))
    shown = re.search(r"PCA's test error at the same code size: ([0-9.]+) \(8 components", out)
    assert shown and float(shown.group(1)) == pytest.approx(want, abs=1e-4), out
    model = load_model(tmp_path / "r" / "model")
    ours = mean_squared_error_per_sample(ds.x_test, model.reconstruct(ds.x_test))
    assert ours > want  # one epoch: far behind (measured 6.4 against 1.58)
    assert "BEHIND PCA: the autoencoder's test error is" in out and "--epochs" in out
    quiet = invoke(runner, [*args, "--out", tmp_path / "q", "--no-compare-pca"]).output
    assert "PCA" not in quiet and "test error" in quiet


# 2. An overcomplete code ----------------------------------------------------------------


def test_an_overcomplete_unregularized_code_warns_in_each_doors_words(data_file, tmp_path):
    spec = RunSpec(data=DataSpec(str(data_file)), model_config={"layers": "auto-16-12"})
    with pytest.warns(OvercompleteCodeWarning, match=r"sparsity_weight=0\.1") as caught:
        spec.build()
    assert "12 units for 12 input features" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OvercompleteCodeWarning)
        for settings in ({"sparsity_weight": 0.1}, {"contractive_weight": 0.1},
                         {"corruption": "mask", "corruption_level": 0.2}):  # fmt: skip
            spec.with_overrides(model_config=settings).build()
        spec.with_overrides(model_config={"layers": "auto-16-11"}).build()
    args = ["train", "--data", data_file, "--layers", "auto-16-12", "--epochs", 1,
            "--no-progress", "--out", tmp_path / "r"]  # fmt: skip
    result = invoke(CliRunner(), args)
    warned = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warned) == 1 and "overcomplete" in warned[0], result.stderr
    assert "--sparsity-weight 0.1" in warned[0] and "--corruption mask" in warned[0]
    assert "sparsity_weight" not in warned[0] and "UserWarning" not in result.stderr


# 3. Errors in the door's words ----------------------------------------------------------


def _fake_idx_set(folder: Path, n_train: int = 40, n_test: int = 20) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 4, 4), np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_mnist_takes_seeded_subsets_and_names_its_options(tmp_path, name):
    _fake_idx_set(tmp_path / name)
    full = load_dataset(name, data_dir=tmp_path)
    sub = load_dataset(name, data_dir=tmp_path, n_train=10, n_test=5, seed=3)
    assert sub.x_train.shape == (10, 16) and sub.x_test.shape == (5, 16)
    # The subset's rows are rows of the full set, with their own labels.
    rows = {r.tobytes(): y for r, y in zip(full.x_train, full.y_train)}
    assert all(rows[r.tobytes()] == y for r, y in zip(sub.x_train, sub.y_train))
    again = load_dataset(name, data_dir=tmp_path, n_train=10, n_test=5, seed=3)
    np.testing.assert_array_equal(sub.x_train, again.x_train)
    with pytest.raises(DataOptionError, match="its options are n_train, n_test, seed") as err:
        load_dataset(name, data_dir=tmp_path, n_tain=10)
    assert isinstance(err.value, TypeError) and "_load" not in str(err.value)


def test_cli_data_option_errors_name_the_keys_not_private_functions(tmp_path):
    runner = CliRunner()
    base = ["train", "--out", tmp_path / "r", "--no-progress"]
    line = error_line(invoke(runner, [*base, "--data", "mnist", "--data-option", "n_tain=5",
                                      "--data-dir", tmp_path], 2))  # fmt: skip
    assert "'--data-option'" in line and "n_train, n_test, seed" in line
    line = error_line(invoke(runner, [*base, "--data", "digits", "--data-option", "n_train=5"], 2))
    assert "its options are test_size, seed" in line
    # n_train is an MNIST option now: the error is about the missing files, not the keyword.
    line = error_line(invoke(runner, [*base, "--data", "mnist", "--data-option", "n_train=500",
                                      "--data-dir", tmp_path], 1 + 1))  # fmt: skip
    assert "IDX files" in line and "unexpected keyword" not in line and "_load" not in line


def test_the_bernoulli_range_error_speaks_python_or_the_command_line(tmp_path):
    x = np.full((20, 4), 3.0, np.float32)
    model = Autoencoder(AutoencoderConfig(layers=[4, 2]))
    with pytest.raises(ConfigError, match=r"likelihood='gaussian'"):
        Trainer(model, TrainConfig(epochs=1, progress=False)).fit(x)
    np.save(tmp_path / "x.npy", x)
    args = ["train", "--data", tmp_path / "x.npy", "--likelihood", "bernoulli"]
    result = invoke(CliRunner(), [*args, "--out", tmp_path / "r"], 2)
    line = error_line(result)
    assert "--likelihood gaussian" in line and "likelihood='gaussian'" not in line
    # Without the flag, the default recipe picks the Gaussian for real values, and says so.
    args = ["train", "--data", tmp_path / "x.npy", "--epochs", 1, "--no-progress"]
    result = invoke(CliRunner(), [*args, "--out", tmp_path / "g"])
    assert "likelihood gaussian" in result.output


# 4. Nothing writes into a model's folder ----------------------------------------------


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    ds = load_dataset("digits")
    model = VAE(VAEConfig(layers=[64, 16, 2]))
    Trainer(model, TrainConfig(epochs=2, progress=False)).fit(ds.x_train)
    path = tmp_path_factory.mktemp("vae") / "model"
    save_model(model, path)
    return path


def test_sample_and_report_write_to_the_current_folder_not_the_models(
    vae_dir, tmp_path, monkeypatch
):
    before = snapshot(vae_dir)
    monkeypatch.chdir(tmp_path)
    invoke(CliRunner(), ["sample", vae_dir, "--n", 4])
    invoke(CliRunner(), ["report", vae_dir, "--data", "digits", "--iw-samples", 0])
    assert (tmp_path / "samples.png").is_file() and (tmp_path / "report.html").is_file()
    assert snapshot(vae_dir) == before
    for command in ("sample", "report"):
        assert (
            "never written into the model's folder"
            in main.commands[command]
            .params[[p.name for p in main.commands[command].params].index("out_path")]
            .help
        )


# 5. evaluate names each number once -----------------------------------------------------


def test_evaluate_names_each_number_once_and_documents_the_names(trained, data_file):
    result = invoke(CliRunner(), ["evaluate", trained, "--data", data_file])
    ours = json.loads(result.output)["autoencoder"]
    assert set(ours) == {"train_recon", "train_squared_error", "test_recon", "test_squared_error"}
    values = list(ours.values())
    assert len(set(values)) == len(values)  # no number twice under two names
    help_text = invoke(CliRunner(), ["evaluate", "--help"]).output
    for name in ("squared_error", "recon", "nelbo, kl", "loss, ce, error, kl"):
        assert name in help_text


# 6. A collapsed VAE says so ------------------------------------------------------------


def test_active_units_and_the_collapse_rule():
    rng = np.random.default_rng(0)
    mu = np.column_stack([rng.normal(0, 1, 2000), rng.normal(0, 0.05, 2000)])  # var 1, 0.0025
    assert active_units(mu).tolist() == [True, False]
    assert collapse_message(kl=3.0, n_active=1, code_dim=2) is None
    for kl, n_active in ((0.5, 2), (3.0, 0)):
        text = collapse_message(kl, n_active, 2)
        assert "collapsed" in text and "--kl-warmup-steps" in text and "smaller beta" in text


@pytest.mark.parametrize(("beta", "epochs", "collapsed"), [(20.0, 10, True), (1.0, 30, False)])
def test_a_vae_report_names_collapsed_codes(beta, epochs, collapsed):
    # Measured on digits, 64-32-4: beta 20 ends at KL 0.0008 with no active unit; beta 1
    # after 30 epochs at KL 1.68 with 4 of 4 active.
    ds = load_dataset("digits")
    torch.manual_seed(0)
    model = VAE(VAEConfig(layers=[64, 32, 4], beta=beta))
    Trainer(model, TrainConfig(epochs=epochs, progress=False, lr=3e-3)).fit(ds.x_train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        section = generative_section(model, ds, iw_samples=0, max_eval=300)
    said = [w for w in caught if w.category is PosteriorCollapseWarning]
    first = section.text[0]
    assert bool(said) == collapsed and first.startswith("The codes have collapsed") == collapsed
    rows = {r["measure"]: r["value"] for r in section.table}
    assert rows["active code units (Burda et al. 2016)"].endswith("of 4")


# 7. The lecture, not "the seed" ------------------------------------------------------------


def test_texts_speak_of_the_lecture():
    help_text = invoke(CliRunner(), ["ib", "example", "--help"]).output
    assert "lecture's IB examples" in help_text and "seed's" not in help_text
    for path in ("src/aekit/models/ib_autoencoder.py", "src/aekit/experiments/ib_examples.py",
                 "src/aekit/cli/ib.py", "benchmarks/README.md"):  # fmt: skip
        text = (ROOT / path).read_text()
        assert "seed's" not in text and "lecture" in text, path


# 12. Sizes checked before anything is allocated ------------------------------------------


def test_a_huge_layer_on_the_command_line_is_one_line(tmp_path):
    args = ["train", "--data", "digits", "--layers", "auto-99999999999-8", "--out", tmp_path / "r"]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "GiB" in error_line(result) and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_a_model_folder_asking_for_a_huge_or_misfit_layer_is_refused_before_allocating(
    trained, data_file, tmp_path, monkeypatch
):
    config = json.loads((trained / "model" / "config.json").read_text())
    weights = (trained / "model" / "model.safetensors").read_bytes()
    devices: list[str] = []
    original = Autoencoder.__init__

    def spy(self, *args, **kwargs):
        devices.append(torch.empty(0).device.type)  # where this build allocates
        original(self, *args, **kwargs)

    monkeypatch.setattr(Autoencoder, "__init__", spy)
    for name, width, message in (("huge", 4_000_000_000, "GiB"), ("misfit", 300_000, "size")):
        folder = tmp_path / name
        folder.mkdir()
        config["config"]["layers"] = [N_FEATURES, width, 3]
        (folder / "config.json").write_text(json.dumps(config))
        (folder / "model.safetensors").write_bytes(weights)
        devices.clear()
        with pytest.raises(ValueError, match=message):
            load_model(folder)
        assert set(devices) <= {"meta"}, devices  # never built on a real device
        line = error_line(invoke(CliRunner(), ["encode", folder, "--data", data_file], 2))
        assert message in line
    devices.clear()
    load_model(trained / "model")
    assert devices == ["meta", "cpu"]  # a good folder: checked on meta, then built


# 13. A Bernoulli model refuses data outside [0, 1] in every command ---------------------------


@pytest.mark.parametrize("command", ["encode", "reconstruct", "evaluate"])
def test_commands_refuse_data_outside_the_bernoulli_range(trained, tmp_path, command):
    outside = tmp_path / "outside.npy"
    np.save(outside, np.random.default_rng(0).normal(0, 3, (30, N_FEATURES)).astype(np.float32))
    args = [command, trained, "--data", outside]
    if command == "reconstruct":
        args += ["--out", tmp_path / "r.npy"]
    line = error_line(invoke(CliRunner(), args, 2))
    assert "[0, 1]" in line and "--likelihood gaussian" in line
    assert re.search(r"values in \[-\d", line)  # names the range found
    assert not (tmp_path / "r.npy").exists()


# 14. A first CSV line mixing numbers and names ----------------------------------------------


def test_a_mixed_first_csv_line_is_an_error_naming_line_and_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("0.1,hello,0.3\n1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"line 1 .*column 2.*'hello'"):
        load_array(path)
    path.write_text("# a comment\nid,1,2\n1,2,3\n")
    with pytest.raises(ValueError, match=r"line 2 .*column 2.*'1'"):
        load_array(path)
    path.write_text('a,"1",c\n1,2,3\n')  # names only (a quoted number is a name): a header
    np.testing.assert_array_equal(load_array(path), [[1, 2, 3]])
    path.write_text("1,2,3\n4,x,6\n")  # a later line names its column too
    with pytest.raises(ValueError, match=r"line 2, column 2 has the non-numeric value 'x'"):
        load_array(path)


# 15. encode and reconstruct stream .npy ----------------------------------------------------


def test_load_rows_maps_a_npy_unless_told_not_to(data_file):
    x, y = load_rows(str(data_file), None, {}, "all")
    assert isinstance(x, MemmapRows) and y is None and x.shape == (120, N_FEATURES)
    whole, _ = load_rows(str(data_file), None, {"mmap": False}, "all")
    assert isinstance(whole, np.ndarray)
    np.testing.assert_array_equal(x[:].numpy(), whole)


def test_encode_and_reconstruct_stream_and_honour_the_options(trained, data_file, tmp_path):
    runner = CliRunner()
    model = load_model(trained / "model")
    x = np.load(data_file)
    for command, method in (("encode", model.transform), ("reconstruct", model.reconstruct)):
        for option in ([], ["--data-option", "mmap=true"], ["--data-option", "mmap=false"]):
            out = tmp_path / f"{command}.npy"
            invoke(runner, [command, trained, "--data", data_file, "--out", out, *option])
            np.testing.assert_allclose(np.load(out), method(x), rtol=1e-5, atol=1e-6)
    for option, words in (("mmap=maybe", "true or false"), ("test_fraction=0.1", "--split all"),
                          ("mmapp=true", "its options are")):  # fmt: skip
        result = invoke(
            runner, ["encode", trained, "--data", data_file, "--data-option", option], 2
        )
        assert words in error_line(result)
    # The output goes through a file swapped in at the end: the input itself may be the target.
    copy = tmp_path / "copy.npy"
    np.save(copy, x)
    invoke(runner, ["reconstruct", trained, "--data", copy, "--out", copy])
    np.testing.assert_allclose(np.load(copy), model.reconstruct(x), rtol=1e-5, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "copy.npy",
        "encode.npy",
        "reconstruct.npy",
    ]


def test_a_label_column_is_set_apart_with_split_all(trained, data_file, tmp_path):
    x = np.load(data_file)
    path = tmp_path / "labelled.csv"
    header = ",".join([f"f{i}" for i in range(N_FEATURES)] + ["label"])
    rows = [",".join([*map(repr, map(float, r)), str(i % 3)]) for i, r in enumerate(x)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    out = tmp_path / "codes.npy"
    invoke(CliRunner(), ["encode", trained, "--data", path, "--out", out])
    np.testing.assert_allclose(np.load(out), load_model(trained / "model").transform(x), atol=1e-5)
