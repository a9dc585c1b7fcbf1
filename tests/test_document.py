"""Document autoencoders, sparse training data and the LSA baseline."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from aekit import TrainConfig, Trainer, load_model
from aekit.baselines import LSA
from aekit.evaluate import knn_accuracy
from aekit.experiments.recipes import pretrain_document_autoencoder
from aekit.models import DocumentAutoencoder, DocumentAutoencoderConfig
from aekit.rbm import RBM
from aekit.sparse import SparseRows


def topic_corpus(n_docs=400, n_words=40, n_topics=4, seed=0):
    """Documents of 20-80 words, each drawn from one of ``n_topics`` planted word distributions."""
    rng = np.random.default_rng(seed)
    topics = rng.dirichlet(np.full(n_words, 0.1), n_topics)
    labels = rng.integers(n_topics, size=n_docs)
    lengths = rng.integers(20, 81, n_docs)
    counts = np.stack([rng.multinomial(n, topics[y]) for n, y in zip(lengths, labels)])
    return sp.csr_matrix(counts.astype(np.float32)), labels


def quiet(**kw):
    settings = {"epochs": 5, "batch_size": 50, "val_fraction": 0.0, "progress": False}
    settings.update(kw)
    return TrainConfig(**settings)


def test_sparse_rows_gather_like_dense():
    counts, _ = topic_corpus(50)
    rows = SparseRows.from_scipy(counts)
    idx = np.array([7, 0, 49, 7])
    np.testing.assert_array_equal(rows[idx].numpy(), counts[idx].toarray())
    np.testing.assert_array_equal(rows[3:9].numpy(), counts[3:9].toarray())
    np.testing.assert_array_equal(rows.select(idx).to_scipy().toarray(), counts[idx].toarray())
    np.testing.assert_allclose(rows.row_sums().numpy(), np.asarray(counts.sum(1)).ravel())


def test_training_on_sparse_counts_equals_training_on_dense():
    counts, _ = topic_corpus(200)
    histories = []
    for data in (counts, counts.toarray()):
        torch.manual_seed(0)
        model = DocumentAutoencoder(layers="40-16-3")
        cfg = quiet(val_fraction=0.2)
        histories.append(Trainer(model, cfg).fit(data))
    for key in ("train_loss", "val_recon"):
        assert histories[0].values(key) == histories[1].values(key)


def test_first_layer_is_the_replicated_softmax_rbm_after_unrolling():
    counts, _ = topic_corpus(100)
    cfg = DocumentAutoencoderConfig(layers="40-16-8-3")
    model = pretrain_document_autoencoder(cfg, counts, {"epochs": 2, "progress": False})
    x = torch.from_numpy(counts.toarray())
    with torch.no_grad():
        h1 = model.encoder.activations[0](
            torch.addcmul(
                torch.nn.functional.linear(x, model.encoder.linears[0].weight),
                x.sum(-1, keepdim=True),
                model.encoder.linears[0].bias,
            )
        )
        rbm = RBM(n_visible=40, n_hidden=16, visible="softmax")
        rbm.weight.copy_(model.encoder.linears[0].weight)
        rbm.hidden_bias.copy_(model.encoder.linears[0].bias)
        torch.testing.assert_close(h1, rbm.hidden_mean(x))
        # The decoder starts as the transposes (unrolling).
        torch.testing.assert_close(
            model.decoder.linears[-1].weight, model.encoder.linears[0].weight.t()
        )


def test_loss_is_the_word_distribution_cross_entropy():
    counts, _ = topic_corpus(30)
    model = DocumentAutoencoder(layers="40-8-2").eval()
    x = torch.from_numpy(counts.toarray())
    with torch.no_grad():
        loss, _ = model.loss(x)
    p = x / x.sum(-1, keepdim=True)
    q = model(x)
    expected = -(p * q.log()).sum(-1).mean()
    torch.testing.assert_close(loss, expected)
    entropy = -(p * torch.where(p > 0, p.log(), torch.zeros_like(p))).sum(-1).mean()
    assert float(loss) >= float(entropy)  # Gibbs' inequality
    np.testing.assert_allclose(
        model.reconstruction_error(counts), (-(p * q.log()).sum(-1)).detach().numpy(), rtol=1e-5
    )


def test_binary_codes_threshold_the_noiseless_code_units():
    counts, _ = topic_corpus(60)
    model = DocumentAutoencoder(layers="40-12-6", code="binary", code_noise=4.0)
    probs = model.transform(counts)
    bits = model.binary_codes(counts)
    assert bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    np.testing.assert_array_equal(bits, (probs > 0.5).astype(np.uint8))
    np.testing.assert_array_equal(model.transform(counts), probs)  # no noise outside training
    x = torch.from_numpy(counts.toarray())
    model.train()
    torch.manual_seed(0)
    noisy = model.loss(x)[0].detach()
    torch.manual_seed(1)
    with torch.no_grad():
        assert float(model.loss(x)[0]) != float(noisy)  # noise in training only
    with pytest.raises(ValueError, match="code='binary'"):
        DocumentAutoencoder(layers="40-12-6").binary_codes(counts)


@pytest.mark.parametrize("pretrain", [False, True])
def test_document_codes_separate_planted_topics(pretrain):
    counts, labels = topic_corpus(600, seed=1)
    train, test = slice(0, 400), slice(400, 600)
    cfg = DocumentAutoencoderConfig(layers="40-32-16-2")
    if pretrain:
        model = pretrain_document_autoencoder(cfg, counts[train], {"epochs": 10, "progress": False})
    else:
        torch.manual_seed(0)
        model = DocumentAutoencoder(cfg)
    Trainer(model, quiet(epochs=40, lr=3e-3)).fit(counts[train])
    codes = model.transform(counts)
    acc = knn_accuracy(codes[train], labels[train], 5, codes[test], labels[test])
    assert acc > 0.9, acc


def test_save_load_keeps_the_vocabulary(tmp_path):
    vocab = {"vocabulary": [f"w{i}" for i in range(40)], "max_features": 40}
    model = DocumentAutoencoder(layers="40-8-2", vocabulary=vocab)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.config.vocabulary == vocab
    counts, _ = topic_corpus(20)
    np.testing.assert_array_equal(loaded.transform(counts), model.transform(counts))
    with pytest.raises(ValueError, match="vocabulary has 3 words"):
        DocumentAutoencoderConfig(layers="40-8-2", vocabulary={"vocabulary": ["a", "b", "c"]})


def test_document_models_refuse_bad_input():
    model = DocumentAutoencoder(layers="4-3-2")
    empty = sp.csr_matrix(np.array([[1.0, 0, 2, 0], [0, 0, 0, 0]], dtype=np.float32))
    with pytest.raises(ValueError, match="document 1 has no words"):
        model.transform(empty)
    with pytest.raises(ValueError, match=r"empty documents.*row 1"):
        Trainer(model, quiet(epochs=1)).fit(empty)
    with pytest.raises(ValueError, match="negative"):
        Trainer(model, quiet(epochs=1)).fit(np.array([[1.0, -1, 0, 0]], dtype=np.float32))
    with pytest.raises(ValueError, match="input layer has 4"):
        Trainer(model, quiet(epochs=1)).fit(sp.csr_matrix(np.ones((3, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="unknown code"):
        DocumentAutoencoderConfig(layers="4-2", code="ternary")


def test_lsa_is_the_svd_of_log_counts():
    counts, _ = topic_corpus(80)
    lsa = LSA(n_components=5, algorithm="arpack").fit(counts)
    z_sparse = lsa.transform(counts)
    np.testing.assert_allclose(lsa.transform(counts.toarray()), z_sparse, rtol=1e-5, atol=1e-5)
    u, s, _ = np.linalg.svd(np.log1p(counts.toarray()), full_matrices=False)
    reference = u[:, :5] * s[:5]
    # Singular vectors are defined up to sign.
    signs = np.sign((reference * z_sparse).sum(0))
    np.testing.assert_allclose(z_sparse * signs, reference, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_components"):
        LSA(n_components=50).fit(counts)
    with pytest.raises(ValueError, match="negative"):
        LSA(2).fit(-counts)
    with pytest.raises(ValueError, match="not fitted"):
        LSA(2).transform(counts)
