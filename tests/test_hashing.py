"""Multi-index Hamming search and the index's compiled scan equal brute force, ties and
fallback included."""

import numpy as np
import pytest

from aekit.evaluate import hamming_kernel, hashing, search
from aekit.evaluate.hashing import HammingIndex


def brute_force(queries, db, k):
    """Top-k by (distance, index) from the full distance matrix."""
    d = (queries[:, None, :] != db[None, :, :]).sum(-1).astype(np.int64)
    keys = np.sort(d * len(db) + np.arange(len(db)), axis=1)[:, :k]
    return keys % len(db), keys // len(db)


def clustered_codes(n, n_bits, n_clusters, flip, seed):
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, (n_clusters, n_bits))
    noise = rng.random((n, n_bits)) < flip
    return (protos[rng.integers(0, n_clusters, n)] ^ noise).astype(np.uint8)


@pytest.mark.parametrize(
    ("n_bits", "substring_bits"), [(16, None), (32, None), (32, 8), (128, None), (20, 20)]
)
@pytest.mark.parametrize("k", [1, 7, 40])
@pytest.mark.parametrize("method", ["probe", "scan"])
def test_index_search_equals_brute_force(n_bits, substring_bits, k, method):
    db = clustered_codes(600, n_bits, 12, 0.08, seed=n_bits)
    queries = clustered_codes(150, n_bits, 12, 0.08, seed=n_bits + 1)
    queries[:5] = db[:5]  # exact hits, with duplicates of them in the database
    index = HammingIndex(db, substring_bits=substring_bits)
    idx, dist = index.search(queries, k=k, method=method)
    idx_ref, dist_ref = brute_force(queries, db, k)
    np.testing.assert_array_equal(dist, dist_ref)
    np.testing.assert_array_equal(idx, idx_ref)  # ties by lower index, as the scan


def test_far_queries_fall_back_to_the_scan_and_stay_exact():
    rng = np.random.default_rng(0)
    db = rng.integers(0, 2, (300, 64)).astype(np.uint8)  # uniform codes: neighbours are far
    queries = rng.integers(0, 2, (40, 64)).astype(np.uint8)
    idx, dist = HammingIndex(db).search(queries, k=25, method="probe")
    idx_ref, dist_ref = search(queries, db, k=25, metric="hamming")
    np.testing.assert_array_equal(dist, dist_ref)
    np.testing.assert_array_equal(idx, idx_ref)


def test_index_refuses_bad_input():
    db = np.zeros((10, 16), dtype=np.uint8)
    with pytest.raises(ValueError, match="binary codes"):
        HammingIndex(db + 2)
    with pytest.raises(ValueError, match="bits"):
        HammingIndex(db).search(np.zeros((2, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="k must be"):
        HammingIndex(db).search(db[:2], k=11)
    with pytest.raises(ValueError, match="method must be"):
        HammingIndex(db).search(db[:2], method="lsh")
    with pytest.raises(ValueError, match="substring_bits"):
        HammingIndex(db, substring_bits=40)


def test_the_index_scan_falls_back_to_numpy_where_the_kernel_does_not_suit(monkeypatch):
    db = clustered_codes(300, 32, 6, 0.1, seed=9)
    queries = clustered_codes(20, 32, 6, 0.1, seed=10)
    monkeypatch.setattr(hamming_kernel, "suits", lambda n_bits, n_db, k: False)
    idx, dist = HammingIndex(db).search(queries, k=5, method="scan")
    want_idx, want_dist = brute_force(queries, db, 5)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(dist, want_dist)
    with pytest.raises(ValueError, match="k must be"):
        HammingIndex(db).search(queries, k=True)


def test_auto_scans_small_databases_and_probes_large_ones(monkeypatch):
    db = clustered_codes(400, 32, 8, 0.05, seed=5)
    index = HammingIndex(db)
    calls = []
    monkeypatch.setattr(index, "_scan", lambda q, k: calls.append("scan") or brute_force(q, db, k))
    index.search(db[:3], k=2)
    monkeypatch.setattr(hashing, "SCAN_MAX_DOCS", 100)
    _, dist = index.search(db[:3], k=2)  # probes now: the real tables answer
    assert calls == ["scan"]
    np.testing.assert_array_equal(dist, brute_force(db[:3], db, 2)[1])
