"""Training and encoding from memory-mapped arrays: same numbers as in memory, checks that
stream, output written batch by batch."""

import gzip

import numpy as np
import pytest
import torch

from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
from aekit.data import load_array
from aekit.data.idx import read_idx, write_idx
from aekit.rows import MemmapRows, is_row_source
from aekit.sparse import is_sparse


def make_data(n=300, d=16, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random((n, 3))
    x = 1 / (1 + np.exp(-(z @ rng.normal(size=(3, d)) * 2)))
    return x.astype(np.float32)


def saved(tmp_path, x, name="x.npy"):
    path = tmp_path / name
    np.save(path, x)
    return np.load(path, mmap_mode="r")


def fit(x, **kw):
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(layers=[16, 8, 3]))
    settings = {"epochs": 3, "batch_size": 32, "progress": False, "val_fraction": 0.2, **kw}
    return model, Trainer(model, TrainConfig(**settings)).fit(x)


def test_rows_read_like_the_array_in_any_order(tmp_path):
    x = make_data(50)
    rows = MemmapRows(saved(tmp_path, x))
    assert rows._file is not None  # read with pread, not through the mapping
    idx = np.array([7, 0, 49, 7, 8, 9])
    np.testing.assert_array_equal(rows[idx].numpy(), x[idx])
    np.testing.assert_array_equal(rows[3:9].numpy(), x[3:9])
    sub = rows.select(idx).select(torch.tensor([5, 0]))
    np.testing.assert_array_equal(sub[:].numpy(), x[[9, 7]])
    np.testing.assert_allclose(rows.row_sums().numpy(), x.sum(1), rtol=1e-6)
    assert float(rows.min()) == x.min() and float(rows.max()) == x.max()
    # A view into the mapping (rows 10..) keeps its offset.
    view = MemmapRows(saved(tmp_path, x)[10:])
    np.testing.assert_array_equal(view[[0, 39]].numpy(), x[[10, 49]])


def test_a_copy_on_write_memmap_is_read_as_it_is_in_memory(tmp_path):
    # mode "c" changes stay in this process's pages; reading the file would see the old rows.
    x = make_data(50)
    np.save(tmp_path / "cw.npy", x)
    cow = np.load(tmp_path / "cw.npy", mmap_mode="c")
    cow *= 0.5
    np.testing.assert_array_equal(MemmapRows(cow)[[0, 49]].numpy(), x[[0, 49]] * 0.5)
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(layers=[x.shape[1], 4]))
    np.testing.assert_allclose(model.transform(cow), model.transform(np.asarray(cow)), rtol=1e-6)


def test_memmap_goes_through_the_row_source_path(tmp_path):
    x = make_data(20)
    assert is_row_source(saved(tmp_path, x)) and is_row_source(MemmapRows(x))
    assert not is_row_source(x)  # plain arrays keep the whole-tensor path
    assert not is_sparse(MemmapRows(x))
    # Columns of a mapping are not contiguous rows: read through the mapping instead.
    cols = MemmapRows(saved(tmp_path, x)[:, :8])
    assert cols._file is None
    np.testing.assert_array_equal(cols[[4, 2]].numpy(), x[[4, 2], :8])
    cols._release()


def test_training_from_a_memmap_equals_training_in_memory(tmp_path):
    x = make_data()
    m_mem, h_mem = fit(x)
    m_map, h_map = fit(saved(tmp_path, x))
    for key in ("train_loss", "val_recon"):
        assert h_mem.values(key) == h_map.values(key)
    for a, b in zip(m_mem.state_dict().values(), m_map.state_dict().values()):
        assert torch.equal(a, b)
    # Given validation rows too, and evaluate on a memmap.
    xv = saved(tmp_path, x[:40], "xv.npy")
    _, h1 = fit(x[40:], val_fraction=0.0)
    _, h2 = fit(saved(tmp_path, x[40:], "xt.npy"), val_fraction=0.0)
    assert h1.values("train_loss") == h2.values("train_loss")
    trainer = Trainer(m_map, TrainConfig(progress=False))
    assert trainer.evaluate(xv) == trainer.evaluate(x[:40])


def test_a_nan_in_the_last_row_is_found_by_the_streamed_check(tmp_path):
    x = make_data(100)
    x[-1, 3] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite values \(the first in row 99\)"):
        fit(saved(tmp_path, x))
    with pytest.raises(ValueError, match=r"row 99, column 3"):
        load_array(tmp_path / "x.npy", mmap=True)


def test_the_likelihood_range_check_streams_min_and_max(tmp_path):
    x = make_data(100)
    x[-1, 0] = 2.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit(saved(tmp_path, x))


def test_idx_memmap_equals_read_idx_and_trains_scaled(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(64, 4, 4), dtype=np.uint8)
    write_idx(tmp_path / "img.idx", images)
    mapped = read_idx(tmp_path / "img.idx", mmap=True)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, read_idx(tmp_path / "img.idx"))
    rows = MemmapRows(mapped.reshape(64, -1), scale=1 / 255)
    np.testing.assert_allclose(rows[:].numpy(), images.reshape(64, -1) / 255, rtol=1e-6)
    # Floats are big-endian in IDX; rows come back native.
    write_idx(tmp_path / "f.idx", images.reshape(64, -1).astype(np.float32))
    frows = MemmapRows(read_idx(tmp_path / "f.idx", mmap=True))
    np.testing.assert_array_equal(frows[[3, 1]].numpy(), images.reshape(64, -1)[[3, 1]])


def test_a_gzipped_idx_cannot_be_mapped(tmp_path):
    write_idx(tmp_path / "img.idx.gz", np.zeros((3, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="gunzip"):
        read_idx(tmp_path / "img.idx.gz", mmap=True)
    assert read_idx(tmp_path / "img.idx.gz").shape == (3, 2)
    assert gzip.decompress((tmp_path / "img.idx.gz").read_bytes())[:2] == b"\0\0"


def test_encode_with_out_writes_what_memory_gives(tmp_path):
    x = make_data(100)
    model, _ = fit(x, epochs=1)
    codes = model.transform(x, batch_size=32)
    written = model.transform(saved(tmp_path, x), batch_size=32, out=tmp_path / "codes.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "codes.npy"), codes)
    np.testing.assert_array_equal(written, codes)
    recon = np.empty_like(x)
    model.reconstruct(x, batch_size=32, out=recon)
    np.testing.assert_array_equal(recon, model.reconstruct(x))
    with pytest.raises(ValueError, match="out has shape"):
        model.reconstruct(x, out=np.empty((3, 3), np.float32))
