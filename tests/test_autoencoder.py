"""Autoencoder models: PCA subspace recovery, saving, anomaly scores, stacked pretraining."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer, load_model
from aekit.baselines import PCABaseline
from aekit.evaluate import mean_squared_error_per_sample
from aekit.train import pretrain_stacked


def low_rank_data(n=600, d=12, k=3, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(d, k)))[0]
    scales = np.array([3.0, 2.0, 1.5])[:k]
    x = (rng.normal(size=(n, k)) * scales) @ basis.T + noise * rng.normal(size=(n, d)) + 1.0
    return x.astype(np.float32)


def test_linear_autoencoder_recovers_pca_subspace():
    x = low_rank_data()
    torch.manual_seed(0)
    cfg = AutoencoderConfig(
        layers=[12, 3], activation="linear", code_activation="linear", likelihood="gaussian"
    )
    ae = Autoencoder(cfg)
    Trainer(
        ae,
        TrainConfig(
            epochs=60,
            batch_size=600,
            optimizer="lbfgs",
            lr=1.0,
            lbfgs_iters=20,
            val_fraction=0,
            progress=False,
        ),
    ).fit(x)
    decoder_span = ae.decoder.linears[0].weight.detach().numpy()  # (12, 3)
    pcs = PCA(3).fit(x).components_.T  # (12, 3)
    angles = subspace_angles(decoder_span, pcs)
    assert np.max(angles) < 1e-2, angles
    ae_err = mean_squared_error_per_sample(x, ae.reconstruct(x))
    pca_err = mean_squared_error_per_sample(x, PCABaseline(3).fit(x).reconstruct(x))
    assert ae_err == pytest.approx(pca_err, rel=1e-3)


@pytest.mark.parametrize("tied", [False, True])
def test_save_load_gives_identical_outputs(tmp_path, tied):
    torch.manual_seed(0)
    cfg = AutoencoderConfig(layers="20-8-3", tied=tied, corruption="mask", corruption_level=0.1)
    ae = Autoencoder(cfg)
    x = np.random.default_rng(0).random((50, 20), dtype=np.float32)
    Trainer(ae, TrainConfig(epochs=2, progress=False)).fit(x)
    ae.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, Autoencoder) and loaded.config == ae.config
    np.testing.assert_array_equal(loaded.transform(x), ae.transform(x))
    np.testing.assert_array_equal(loaded.reconstruct(x), ae.reconstruct(x))
    assert Autoencoder.load(tmp_path / "m").config.tied is tied


def test_load_rejects_bad_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text('{"format": "aekit", "model": "nope", "config": {}}')
    with pytest.raises(ValueError, match="known models"):
        load_model(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(tmp_path)


def test_load_rejects_corrupt_or_mismatched_weights_with_one_message(tmp_path):
    ae = Autoencoder(AutoencoderConfig(layers=[6, 4, 2]))
    ae.save(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    good = weights.read_bytes()
    for bad in [b"x\n", good[: len(good) // 2]]:  # garbage, then a truncated copy
        weights.write_bytes(bad)
        with pytest.raises(ValueError, match="not a readable safetensors file"):
            load_model(tmp_path / "m")
    Autoencoder(AutoencoderConfig(layers=[7, 4, 2])).save(tmp_path / "other")
    weights.write_bytes((tmp_path / "other" / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"do not fit its config\.json.*size mismatch"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text('{"format": "aekit", "model": "autoencoder"}')
    with pytest.raises(ValueError, match="no 'config' table"):
        load_model(tmp_path / "m")


def test_load_refuses_a_stray_tensor_naming_it(tmp_path):
    # A tensor the config does not describe means the file and config.json come from different
    # models; loading must say so rather than drop it.
    ae = Autoencoder(AutoencoderConfig(layers=[6, 4, 2]))
    ae.save(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    tensors = load_file(weights)
    tensors["stray.weight"] = torch.zeros(3, 2)
    save_file(tensors, weights)
    with pytest.raises(ValueError, match=r"unexpected \['stray\.weight'\]; save the model again"):
        load_model(tmp_path / "m")


def test_reconstruction_error_is_per_sample_squared_error_and_flags_outliers():
    data = low_rank_data(n=1000)
    x, held_out = data[:800], data[800:]
    torch.manual_seed(1)
    ae = Autoencoder(AutoencoderConfig(layers=[12, 3], activation="linear", likelihood="gaussian"))
    cfg = TrainConfig(
        epochs=20, batch_size=800, optimizer="lbfgs", lr=1.0, lbfgs_iters=20, progress=False
    )
    Trainer(ae, cfg).fit(x)
    err = ae.reconstruction_error(x[:5])
    np.testing.assert_allclose(err, ((ae.reconstruct(x[:5]) - x[:5]) ** 2).sum(1), rtol=1e-5)
    rng = np.random.default_rng(5)
    outliers = (rng.normal(size=(20, 12)) * 3 + 1).astype(np.float32)
    inlier_scores = ae.reconstruction_error(held_out)
    outlier_scores = ae.reconstruction_error(outliers)
    assert np.median(outlier_scores) > 10 * np.quantile(inlier_scores, 0.95)


def test_stacked_pretraining_unrolls_layer_codes_and_helps():
    rng = np.random.default_rng(0)
    x = rng.random((500, 30)) < 0.5 * (1 + np.sin(np.arange(30) / 3.0))[None] * 0.9
    x = x.astype(np.float32)
    cfg = AutoencoderConfig(layers=[30, 16, 8], activation="logistic", code_activation="logistic")
    layer_cfg = TrainConfig(epochs=15, batch_size=50, lr=3e-3, progress=False, val_fraction=0)
    torch.manual_seed(0)
    deep = pretrain_stacked(cfg, x, layer_cfg)
    # Before fine-tuning, the unrolled encoder is the composition of the layers' encoders.
    w0 = deep.encoder.linears[0]
    w1 = deep.encoder.linears[1]
    h1 = torch.sigmoid(w0(torch.from_numpy(x)))
    manual = torch.sigmoid(w1(h1)).detach().numpy()
    np.testing.assert_allclose(deep.transform(x), manual, rtol=1e-5, atol=1e-6)
    # Pretraining gives a far better starting reconstruction than a random initialisation.
    torch.manual_seed(0)
    random_init = Autoencoder(cfg)
    err_pre = mean_squared_error_per_sample(x, deep.reconstruct(x))
    err_rand = mean_squared_error_per_sample(x, random_init.reconstruct(x))
    assert err_pre < 0.8 * err_rand
    with pytest.raises(ValueError, match="does not fit the layer spec"):
        pretrain_stacked(cfg, x[:, :10], layer_cfg)


def test_pca_baseline_matches_sklearn():
    x = low_rank_data()
    base = PCABaseline(2).fit(x)
    sk = PCA(2).fit(x)
    np.testing.assert_allclose(
        base.reconstruct(x), sk.inverse_transform(sk.transform(x)), rtol=1e-4, atol=1e-4
    )
    with pytest.raises(ValueError, match="n_components"):
        PCABaseline(50).fit(x)


@pytest.mark.parametrize("value", ["no", "false", 0, 1, None])
def test_flags_must_be_true_or_false(value):
    # "no" from a config file is a non-empty string: truthy, so it must be refused, not obeyed.
    with pytest.raises(TypeError, match=r"AutoencoderConfig\.tied must be true or false"):
        AutoencoderConfig(layers=[4, 2], tied=value)
    with pytest.raises(TypeError, match=r"TrainConfig\.bf16 must be true or false"):
        TrainConfig(bf16=value)
    cfg = AutoencoderConfig(layers=[4, 2], tied=np.True_)
    assert cfg.tied is True
