"""The explorer page (aekit.viz.explore): its decoder against PyTorch, in numpy and in the
page's own JavaScript (node), what the page holds, and the page in a real browser (headless
Chromium driven by Selenium; skipped, with the reason, where either is not installed)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import norm

from aekit.data import BagOfWords, Corpus, load_dataset
from aekit.models import VAE, AdversarialAutoencoder, Autoencoder, DocumentAutoencoder
from aekit.rbm import DBN, RBM
from aekit.viz import explore
from aekit.viz.explore import ExplorerConfig, build_explorer, decode_numpy, decoder_layers

JS = Path(explore.__file__).with_name("explore.js")
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def payload_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="aekit-data">(.*?)</script>', page, re.S)
    assert found, "the page has no payload"
    return json.loads(found.group(1))


def f32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def i32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<i4")


def sprite_images(spec: dict) -> np.ndarray:
    """The PNG mosaic back as ``(count, h * w)`` uint8 images."""
    sheet = np.asarray(Image.open(io.BytesIO(base64.b64decode(spec["png"]))).convert("L"))
    h, w, cols = spec["h"], spec["w"], spec["cols"]
    return np.stack(
        [
            sheet[
                (k // cols) * h : (k // cols + 1) * h, (k % cols) * w : (k % cols + 1) * w
            ].ravel()
            for k in range(spec["count"])
        ]
    )


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").subset(n_train=300, n_test=120, seed=0)


def _trained(model, x, epochs: int = 2):
    from aekit.train import TrainConfig, Trainer

    Trainer(model, TrainConfig(epochs=epochs, batch_size=64, progress=False, seed=0)).fit(x)
    return model.eval()


def _corpus(n: int = 60) -> Corpus:
    topics = [
        "rocket orbit launch moon nasa shuttle space station",
        "car engine brakes wheels driver speed road fuel",
        "game team season player score hockey goal win",
    ]
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for i in range(n):
        words = topics[i % 3].split()
        texts.append(" ".join(rng.choice(words, size=12)))
        labels.append(i % 3)
    return Corpus(
        texts, np.array(labels), ["space", "autos", "hockey"], [f"doc{i}" for i in range(n)]
    )


def _document_model(corpus: Corpus, code: int = 2) -> DocumentAutoencoder:
    torch.manual_seed(0)
    bow = BagOfWords(max_features=20).fit(corpus.texts)
    return DocumentAutoencoder(layers=f"20-16-{code}", vocabulary=bow.to_dict()).eval()


def _models() -> dict:
    torch.manual_seed(0)
    dbn = DBN(layers="64-24-12-3")
    return {
        "relu": Autoencoder(layers="64-48-24-2", activation="relu"),
        "tied-tanh": Autoencoder(layers="64-32-5", activation="tanh", tied=True),
        "gaussian": Autoencoder(layers="64-20-3", likelihood="gaussian"),
        "vae": VAE(layers="64-32-2"),
        "aae-clusters": AdversarialAutoencoder(
            layers="64-32-2", n_clusters=4, discriminator_layers=[8]
        ),
        "rbm": RBM(n_visible=64, n_hidden=10, down_scale=2.0),
        "dbn": dbn,
    }


def _torch_decode(model, z: np.ndarray) -> np.ndarray:
    """The model's own decoding of codes, in PyTorch."""
    zt = torch.tensor(z, dtype=torch.float32)
    with torch.no_grad():
        if isinstance(model, RBM):
            return model.visible_mean(zt).numpy()
        if isinstance(model, DBN):
            for rbm in reversed(model.rbms):
                zt = rbm.visible_mean(zt)
            return zt.numpy()
        return model.inverse_transform(z.astype(np.float32))


@pytest.mark.parametrize("name", list(_models()))
def test_decoder_layers_match_pytorch(name):
    model = _models()[name].eval()
    torch.manual_seed(1)
    # Codes where the model puts data, so the check covers the region the page decodes.
    codes = model.transform(torch.rand(40, 64).numpy())
    want = _torch_decode(model, codes)
    got = decode_numpy(decoder_layers(model), codes)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_document_decoder_is_a_word_distribution():
    model = _document_model(_corpus())
    z = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    got = decode_numpy(decoder_layers(model), z)
    np.testing.assert_allclose(got, model.inverse_transform(z), atol=1e-6)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-9)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_page_javascript_decoder_matches_pytorch(tmp_path, digits):
    """The decoder in the page, run by node from the page's own script and payload, gives
    PyTorch's reconstructions and the decoded path of viz.generative.interpolation_codes."""
    torch.manual_seed(0)
    cases = {
        "ae": _trained(Autoencoder(layers="64-128-64-2", activation="relu"), digits.x_train),
        "tied": Autoencoder(layers="64-40-6", activation="logistic", tied=True),
        "dbn": DBN(layers="64-30-5"),
        "docs": _document_model(_corpus()),
    }
    script = tmp_path / "decode.js"
    script.write_text(
        f"const ex = require({json.dumps(str(JS))});\n"
        "const P = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));\n"
        "const decode = ex.makeDecoder(P.decoder);\n"
        "const codes = ex.float32s(P.codes);\n"
        "const d = P.code_dim, out = [];\n"
        "for (let i = 0; i < P.n; i++)\n"
        "  out.push(Array.from(decode(codes.subarray(i * d, (i + 1) * d))));\n"
        "const path = ex.segment(codes.subarray(0, d), codes.subarray(d, 2 * d), P.n_steps)\n"
        "  .map((z) => Array.from(decode(z)));\n"
        "console.log(JSON.stringify({recon: out, path: path}));\n"
    )
    for name, model in cases.items():
        data = _corpus() if name == "docs" else digits
        payload = payload_of(build_explorer(model, data, ExplorerConfig(decoder="inline")))
        (tmp_path / "p.json").write_text(json.dumps(payload))
        run = subprocess.run(
            ["node", str(script), str(tmp_path / "p.json")], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        got = json.loads(run.stdout)
        codes = f32(payload["codes"]).reshape(payload["n"], payload["code_dim"])
        want = _torch_decode(model, codes)
        np.testing.assert_allclose(np.array(got["recon"]), want, atol=1e-4, rtol=0, err_msg=name)
        t = np.linspace(0, 1, payload["n_steps"])[:, None]
        want_path = _torch_decode(model, ((1 - t) * codes[0] + t * codes[1]).astype(np.float32))
        np.testing.assert_allclose(np.array(got["path"]), want_path, atol=1e-4, err_msg=name)


def test_page_is_self_contained(digits):
    page = build_explorer(Autoencoder(layers="64-16-2"), digits)
    assert "<script src" not in page and "<link" not in page
    assert not re.search(r"https?://", page), "the page must not reference the network"
    assert page.count("<script") == 2  # the payload and the inlined explore.js


def test_two_dimensional_page_holds_the_manifold_and_the_data(digits):
    model = _trained(Autoencoder(layers="64-32-2", activation="relu"), digits.x_train)
    cfg = ExplorerConfig(manifold_size=7)
    p = payload_of(build_explorer(model, digits, cfg))
    codes = model.transform(digits.x_test)
    assert p["n"] == len(digits.x_test)
    # A 2-D code is its own map; the inlined codes are the model's.
    np.testing.assert_allclose(f32(p["positions"]).reshape(-1, 2), codes, atol=1e-6)
    np.testing.assert_allclose(f32(p["codes"]).reshape(-1, 2), codes, atol=1e-6)
    np.testing.assert_array_equal(i32(p["labels"]), digits.y_test)
    inputs = sprite_images(p["sprites"]["inputs"])
    np.testing.assert_array_equal(inputs, explore._grey(digits.x_test, 0.0, 1.0))
    tiles = sprite_images(p["sprites"]["manifold"])
    assert tiles.shape == (49, 64)
    # Tile (row r, column c): z1 grows along a row, z2 shrinks down the rows.
    lo, hi = np.percentile(codes, [1, 99], axis=0)
    xs, ys = np.linspace(lo[0], hi[0], 7), np.linspace(lo[1], hi[1], 7)
    z = np.array([[xs[c], ys[6 - r]] for r in range(7) for c in range(7)], dtype=np.float32)
    want = explore._grey(model.inverse_transform(z), 0.0, 1.0).astype(int)
    assert np.abs(tiles.astype(int) - want).max() <= 1  # float rounding at a level's edge
    edges = p["manifold"]["edges"]
    assert len(edges["x"]) == 8 and edges["x"][0] < xs[0] < edges["x"][1]


def test_vae_page_uses_the_prior_quantile_grid_and_adds_prior_draws(digits):
    torch.manual_seed(0)
    model = VAE(layers="64-32-2").eval()
    p = payload_of(build_explorer(model, digits, ExplorerConfig(manifold_size=5, n_prior=100)))
    edges = np.array(p["manifold"]["edges"]["x"])
    q = norm.ppf((np.arange(5) + 0.5) / 5)
    # Kingma & Welling's grid: the prior's quantiles at levels (k + 0.5) / n, each in its cell.
    np.testing.assert_allclose(edges[1:-1], (q[1:] + q[:-1]) / 2, atol=1e-12)
    assert (edges[:-1] < q).all() and (q < edges[1:]).all()
    prior = f32(p["prior_positions"]).reshape(-1, 2)
    want = torch.randn(100, 2, generator=torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(prior, want)
    assert p["sprites"]["prior"]["count"] == 64


def test_aae_prior_draws_are_projected_with_the_codes(digits):
    torch.manual_seed(0)
    model = AdversarialAutoencoder(layers="64-32-6", discriminator_layers=[8]).eval()
    p = payload_of(build_explorer(model, digits, ExplorerConfig(n_prior=50)))
    assert "manifold" not in p  # a 6-D code has no 2-D manifold to tile
    assert len(f32(p["prior_positions"])) == 100
    assert p["axes"][0].startswith("PC 1")


def test_rbm_page_shows_filters_and_pca_of_hidden_means(digits):
    torch.manual_seed(0)
    model = RBM(n_visible=64, n_hidden=30)
    p = payload_of(build_explorer(model, digits, ExplorerConfig(n_filters=12)))
    filters = sprite_images(p["sprites"]["filters"])
    assert filters.shape == (12, 64)
    w = model.weight.detach().numpy()[:12]
    # Each filter on its own grey scale: the brightest pixel is its largest weight.
    np.testing.assert_array_equal(filters.argmax(1), w.argmax(1))
    assert (filters.max(1) == 255).all() and (filters.min(1) == 0).all()
    from sklearn.decomposition import PCA

    codes = model.transform(digits.x_test)
    want = PCA(2, random_state=0).fit_transform(codes)
    np.testing.assert_allclose(f32(p["positions"]).reshape(-1, 2), want, atol=1e-4)


def test_precomputed_paths_decode_the_segments_between_anchors(digits):
    model = _trained(Autoencoder(layers="64-32-4", activation="relu"), digits.x_train)
    cfg = ExplorerConfig(decoder="precomputed", n_anchors=5, n_steps=4)
    p = payload_of(build_explorer(model, digits, cfg))
    assert "decoder" not in p and "codes" not in p
    anchors = i32(p["anchors"])
    paths = sprite_images(p["sprites"]["paths"])
    assert paths.shape == (10 * 4, 64)  # C(5, 2) pairs of 4 steps
    codes = model.transform(digits.x_test)
    a, b = anchors[1], anchors[3]  # the pair's index among pairs (0,1), (0,2), ...: 5
    t = np.linspace(0, 1, 4)[:, None]
    want = explore._grey(model.inverse_transform((1 - t) * codes[a] + t * codes[b]), 0.0, 1.0)
    assert np.abs(paths[5 * 4 : 6 * 4].astype(int) - want.astype(int)).max() <= 1
    recons = sprite_images(p["sprites"]["recons"])
    want = explore._grey(model.reconstruct(digits.x_test), 0.0, 1.0).astype(int)
    assert np.abs(recons.astype(int) - want).max() <= 1


@pytest.mark.parametrize("kind", ["vib", "ib-autoencoder", "dbm"])
def test_models_without_an_inlinable_decoder_still_get_a_map(kind, digits):
    from aekit.models import IBAutoencoder, VIBClassifier
    from aekit.rbm import DBM

    torch.manual_seed(0)
    model = {
        "vib": lambda: VIBClassifier(layers="64-32-4", n_classes=10),
        "ib-autoencoder": lambda: IBAutoencoder(layers="64-32-3"),
        "dbm": lambda: DBM(n_visible=64, n_hidden1=20, n_hidden2=10),
    }[kind]()
    p = payload_of(build_explorer(model, digits, ExplorerConfig(n_anchors=3, n_steps=3)))
    assert "decoder" not in p and p["sprites"]["inputs"]["count"] == len(digits.x_test)
    # A model with a decoder gets precomputed paths; the others a map and inputs alone.
    assert ("anchors" in p) == (kind == "ib-autoencoder")


def test_large_decoders_are_precomputed_under_auto(digits):
    model = Autoencoder(layers="64-32-2")
    small = payload_of(build_explorer(model, digits, ExplorerConfig(max_decoder_bytes=10**6)))
    large = payload_of(build_explorer(model, digits, ExplorerConfig(max_decoder_bytes=1000)))
    assert "decoder" in small and "anchors" not in small
    assert "decoder" not in large and "anchors" in large


def test_document_page_lists_words_groups_and_nearest_documents():
    corpus = _corpus()
    model = _document_model(corpus)
    p = payload_of(build_explorer(model, corpus))
    assert p["label_names"] == ["space", "autos", "hockey"]
    assert p["texts"][0] == " ".join(corpus.texts[0].split())
    assert p["vocabulary"] == model.config.vocabulary["vocabulary"]
    nn_idx = i32(p["neighbours"]).reshape(p["n"], p["n_neighbours"])
    z = model.transform(BagOfWords.from_dict(model.config.vocabulary).transform(corpus.texts))
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    sims = z @ z.T
    np.fill_diagonal(sims, -np.inf)
    best = sims.max(1)
    np.testing.assert_allclose(sims[np.arange(len(z)), nn_idx[:, 0]], best, atol=1e-6)
    assert (nn_idx != np.arange(len(z))[:, None]).all()


def test_precomputed_document_paths_are_the_top_words_of_decoded_codes():
    corpus = _corpus()
    model = _document_model(corpus)
    cfg = ExplorerConfig(decoder="precomputed", n_anchors=4, n_steps=3)
    p = payload_of(build_explorer(model, corpus, cfg))
    assert len(p["path_words"]) == 6 * 3  # C(4, 2) pairs of 3 steps
    anchors = i32(p["anchors"])
    z = model.transform(BagOfWords.from_dict(model.config.vocabulary).transform(corpus.texts))
    end = model.inverse_transform(z[anchors[3]][None])[0]  # the last pair's last step
    vocab = np.array(p["vocabulary"])
    assert p["path_words"][-1] == list(vocab[np.argsort(-end, kind="stable")[:6]])


def test_sampling_keeps_a_random_subset_not_the_first_rows(digits):
    p = payload_of(
        build_explorer(Autoencoder(layers="64-8-2"), digits, ExplorerConfig(max_points=50))
    )
    ids = [int(s.split()[-1]) for s in p["ids"]]
    assert len(ids) == 50 and ids != list(range(50)) and ids == sorted(set(ids))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"projection": "mds"}, "projection must be one of"),
        ({"decoder": "live"}, "decoder must be one of"),
        ({"max_points": 1}, "max_points must be an integer >= 2"),
        ({"n_steps": 1.5}, "n_steps must be an integer"),
    ],
)
def test_bad_configs_are_named(config, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ExplorerConfig(**config)


def test_bad_inputs_are_named(digits):
    with pytest.raises(ValueError, match="conditional VAE"):
        build_explorer(VAE(layers="64-16-2", n_classes=10), digits)
    with pytest.raises(ValueError, match="projection='code' needs 2-D codes"):
        build_explorer(Autoencoder(layers="64-16-3"), digits, ExplorerConfig(projection="code"))
    with pytest.raises(ValueError, match="one label per row"):
        build_explorer(Autoencoder(layers="64-16-2"), digits.x_test, labels=[0, 1])
    with pytest.raises(ValueError, match="vocabulary"):
        build_explorer(Autoencoder(layers="64-16-2"), _corpus())


def test_umap_without_the_package_names_the_extra(digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # what an absent package imports as
    with pytest.raises(ValueError, match=r"pip install 'aekit\[explore\]'"):
        build_explorer(Autoencoder(layers="64-16-3"), digits, ExplorerConfig(projection="umap"))


def test_tsne_projection(digits):
    from threadpoolctl import threadpool_limits

    cfg = ExplorerConfig(projection="tsne", max_points=120)
    with threadpool_limits(1):  # OpenMP threads of a small t-SNE wait for each other when busy
        p = payload_of(build_explorer(Autoencoder(layers="64-16-5"), digits, cfg))
    assert p["axes"] == ["t-SNE 1", "t-SNE 2"] and "prior_positions" not in p
    positions = f32(p["positions"]).reshape(-1, 2)
    assert positions.shape == (120, 2) and np.isfinite(positions).all()


# The command ------------------------------------------------------------------------------------


def test_command_writes_the_page_of_a_training_run(tmp_path, digits):
    from click.testing import CliRunner

    from aekit.cli import main

    model = _trained(Autoencoder(layers="64-32-2", activation="relu"), digits.x_train)
    model.save(tmp_path / "run" / "model")  # the layout of an `aekit train` run
    out = tmp_path / "page.html"
    args = ["explore", str(tmp_path / "run"), "--data", "digits", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--max-points", "100", "--manifold-size", "4"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("explorer: ") and str(out.resolve()) in result.output
    p = payload_of(out.read_text())
    assert p["n"] == 100 and len(p["manifold"]["edges"]["x"]) == 5


def test_command_explores_a_document_model_on_a_csv_corpus(tmp_path):
    import csv

    from click.testing import CliRunner

    from aekit.cli import main

    corpus = _corpus()
    with (tmp_path / "posts.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for text, label in zip(corpus.texts, corpus.labels):
            writer.writerow([text, corpus.label_names[label]])
    _document_model(corpus).save(tmp_path / "model")
    out = tmp_path / "docs.html"
    args = ["explore", str(tmp_path / "model"), "--data", str(tmp_path / "posts.csv")]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    p = payload_of(out.read_text())
    assert p["n"] == len(corpus) and p["texts"][0] == " ".join(corpus.texts[0].split())
    assert sorted(p["label_names"]) == ["autos", "hockey", "space"]
    result = CliRunner().invoke(main, [*args[:3], "digits"])
    assert result.exit_code == 1 and "explores a text corpus" in result.output


def test_command_errors_are_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from aekit.cli import main

    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["explore", str(tmp_path / "empty"), "--data", "digits"])
    assert result.exit_code == 1 and "holds no saved model" in result.output
    assert len(result.output.strip().splitlines()) == 1
    Autoencoder(layers="64-16-3").save(tmp_path / "m")
    monkeypatch.setitem(sys.modules, "umap", None)
    args = ["explore", str(tmp_path / "m"), "--data", "digits", "--projection", "umap"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 1 and "pip install 'aekit[explore]'" in result.output
    result = CliRunner().invoke(main, [*args[:4], "--projection", "mds"])
    assert result.exit_code == 2 and "mds" in result.output


def test_report_links_explorer_pages_relative_to_its_folder(tmp_path):
    from aekit.viz.explore import explorer_section
    from aekit.viz.report import write_report

    page = tmp_path / "models" / "explore a&b.html"
    section = explorer_section({"AE <2>": page}, tmp_path)
    assert section.links == [("AE <2>", "models/explore a&b.html")]
    html = write_report(tmp_path / "report.html", "t", [section]).read_text()
    assert '<a href="models/explore a&amp;b.html">AE &lt;2&gt;</a>' in html


# In a real browser ------------------------------------------------------------------------------


def _missing(reason: str):
    """Skip, with the reason; or fail where the browser test must run (CI sets
    AEKIT_REQUIRE_BROWSER=1 after installing the browser, so a broken install cannot pass)."""
    if os.environ.get("AEKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"AEKIT_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _browser_or_skip():
    try:
        from selenium import webdriver
    except ImportError:
        _missing("selenium is not installed: pip install 'aekit[explore]'")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            _missing(
                f"{path} not found: install Debian's chromium and chromium-driver to run the "
                "browser test (apt-get install -y chromium chromium-driver)"
            )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="aekit-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    return driver, profile


@pytest.fixture(scope="module")
def browser():
    driver, profile = _browser_or_skip()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return window.aekitExplorer && (window.aekitExplorer.ready || "
            "window.aekitExplorer.errors.length > 0)"
        )
    )
    assert driver.execute_script("return window.aekitExplorer.errors") == []


def _mouse_to(driver, i: int):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "map")
    x, y = driver.execute_script(f"return window.aekitExplorer.screenPosition({i})")
    w, h = canvas.size["width"], canvas.size["height"]
    # Selenium 4 offsets are from the element's centre.
    return ActionChains(driver).move_to_element_with_offset(
        canvas, round(x - w / 2), round(y - h / 2)
    )


def _severe(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _dark_pixels(driver, selector: str) -> int:
    """Pixels of the first canvas matching ``selector`` darker than mid grey (ink)."""
    return driver.execute_script(
        "const c = document.querySelector(arguments[0]); if (!c) return -1;"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 128) n++;"
        "return n;",
        selector,
    )


def _far_apart(positions: np.ndarray, candidates: np.ndarray) -> tuple[int, int]:
    """Two of the candidates far apart on the map (so neither hides the other)."""
    p = positions[candidates]
    d = ((p[:, None] - p[None]) ** 2).sum(-1)
    a, b = np.unravel_index(d.argmax(), d.shape)
    return int(candidates[a]), int(candidates[b])


def _isolated(positions: np.ndarray, k: int = 3) -> list[int]:
    """Points with no other point within a few pixels' distance, most isolated first."""
    d = ((positions[:, None] - positions[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return list(np.argsort(-d.min(1))[:k])


def test_page_in_chromium_hover_and_path(browser, digits, tmp_path):
    model = _trained(Autoencoder(layers="64-64-2", activation="relu"), digits.x_train, epochs=5)
    page = tmp_path / "explore.html"
    explore.write_explorer(model, digits, page, ExplorerConfig(manifold_size=8))
    _open(browser, page)
    positions = f32(payload_of(page.read_text())["positions"]).reshape(-1, 2)
    i = _isolated(positions)[0]
    _mouse_to(browser, i).perform()
    assert browser.execute_script("return window.aekitExplorer.hovered") == i
    assert f"point {i} " in browser.find_element("id", "hover-info").text
    # The input and its reconstruction (decoded in the page) are drawn: ink on paper.
    assert _dark_pixels(browser, "canvas.hover-input") > 20
    assert _dark_pixels(browser, "canvas.hover-recon") > 20
    a, b = _far_apart(positions, np.array(_isolated(positions, 12)))
    _mouse_to(browser, a).click().perform()
    _mouse_to(browser, b).click().perform()
    assert browser.execute_script("return window.aekitExplorer.picked") == [a, b]
    assert browser.execute_script("return window.aekitExplorer.pathSteps") == 10
    steps = browser.find_elements("css selector", "#path-strip canvas.step")
    assert len(steps) == 10
    assert _dark_pixels(browser, "#path-strip canvas.step") > 5
    browser.find_element("id", "show-manifold").click()
    assert browser.execute_script("return window.aekitExplorer.manifoldShown") is True
    assert browser.save_screenshot(str(tmp_path / "explore.png"))
    assert (tmp_path / "explore.png").stat().st_size > 10_000
    assert _severe(browser) == []


def test_precomputed_page_in_chromium_picks_anchors(browser, digits, tmp_path):
    torch.manual_seed(0)
    model = RBM(n_visible=64, n_hidden=20)
    page = tmp_path / "rbm.html"
    cfg = ExplorerConfig(decoder="precomputed", n_anchors=6, n_filters=20)
    explore.write_explorer(model, digits, page, cfg)
    _open(browser, page)
    p = payload_of(page.read_text())
    positions = f32(p["positions"]).reshape(-1, 2)
    a, b = _far_apart(positions, i32(p["anchors"]))
    _mouse_to(browser, a).click().perform()
    _mouse_to(browser, b).click().perform()
    assert browser.execute_script("return window.aekitExplorer.pathSteps") == 10
    assert len(browser.find_elements("css selector", "#filters-grid canvas")) == 20
    assert browser.find_element("id", "filters").is_displayed()
    browser.save_screenshot(str(tmp_path / "rbm.png"))
    assert _severe(browser) == []


def test_document_page_in_chromium(browser, tmp_path):
    corpus = _corpus()
    model = _document_model(corpus)
    page = tmp_path / "docs.html"
    explore.write_explorer(model, corpus, page)
    _open(browser, page)
    positions = f32(payload_of(page.read_text())["positions"]).reshape(-1, 2)
    i = _isolated(positions)[0]
    _mouse_to(browser, i).perform()
    body = browser.find_element("id", "hover-body").text
    assert corpus.label_names[corpus.labels[i]] in body
    assert "nearest documents" in body
    a, b = _far_apart(positions, np.array(_isolated(positions, 10)))
    _mouse_to(browser, a).click().perform()
    _mouse_to(browser, b).click().perform()
    words = browser.find_elements("css selector", "#path-strip div.step")
    assert len(words) == 10
    vocab = set(model.config.vocabulary["vocabulary"])
    assert set(words[0].text.split()) <= vocab
    browser.save_screenshot(str(tmp_path / "docs.png"))
    assert _severe(browser) == []


def test_demo_report_links_explorer_pages_that_work_in_chromium(browser, tmp_path):
    from aekit.experiments.demo import run_demo

    results = run_demo(tmp_path / "demo", preset="tiny", progress=False)
    assert sorted(results["explorers"].values()) == ["explore_curves.html", "explore_digits.html"]
    report = (tmp_path / "demo" / "report.html").read_text()
    for name in results["explorers"].values():
        assert f'href="{name}"' in report
        _open(browser, tmp_path / "demo" / name)
        _mouse_to(browser, 0).perform()
        assert _dark_pixels(browser, "canvas.hover-input") > 0
    assert _severe(browser) == []
