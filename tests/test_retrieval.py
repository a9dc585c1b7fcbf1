"""Retrieval curves and search against brute force (Hinton & Salakhutdinov 2006, Fig. 4;
Salakhutdinov & Hinton 2009, semantic hashing)."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
import torch

from aekit.evaluate import hamming_kernel, retrieval
from aekit.evaluate.retrieval import (
    binarize,
    hamming_distances,
    pack_bits,
    retrieval_curve,
    search,
)


def hypergeometric_mean(g: int, r: int, j: int) -> float:
    """E[relevant among j drawn without replacement from g holding r], by enumeration."""
    total = comb(g, j)
    return sum(x * comb(r, x) * comb(g - r, j - x) for x in range(min(r, j) + 1)) / total


def brute_force_curve(
    scores: np.ndarray, relevant: np.ndarray, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean precision and recall with ties broken uniformly at random, in expectation.

    ``scores`` (queries, docs), higher is better; equal scores (after rounding to 9 decimals)
    are tied. ``exclude`` marks (query, doc) pairs that are never retrieved.
    """
    precisions, recalls = [], []
    for i in range(len(scores)):
        keep = np.ones(scores.shape[1], bool) if exclude is None else ~exclude[i]
        s, rel = np.round(scores[i, keep], 9), relevant[i, keep]
        n = len(s)
        expected = np.zeros(n)
        for k in range(1, n + 1):
            better = s > np.sort(s)[::-1][k - 1]
            tied = s == np.sort(s)[::-1][k - 1]
            j = k - better.sum()
            expected[k - 1] = rel[better].sum() + hypergeometric_mean(
                int(tied.sum()), int(rel[tied].sum()), int(j)
            )
        precisions.append(expected / np.arange(1, n + 1))
        if rel.sum():
            recalls.append(expected / rel.sum())
    return np.mean(precisions, 0), np.mean(recalls, 0)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def docs() -> tuple[np.ndarray, np.ndarray]:
    """60 random real codes in 3 labels, with 8 exact duplicates (cosine ties)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    x[52:] = x[:8]
    return x, rng.integers(0, 3, 60)


def test_cosine_exact_matches_brute_force_with_ties(docs):
    x, y = docs
    curve = retrieval_curve(x, y, method="exact")
    u = unit(x)
    p, r = brute_force_curve(u @ u.T, y[:, None] == y[None], np.eye(60, dtype=bool))
    assert curve.method == "exact" and curve.n_queries == 60
    np.testing.assert_array_equal(curve.n_retrieved, np.arange(1, 60))
    np.testing.assert_allclose(curve.precision, p, atol=1e-9)
    np.testing.assert_allclose(curve.recall, r, atol=1e-9)
    assert not curve.precision_error_bound.any()


def test_hamming_matches_hypergeometric_expectation():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (60, 6))  # 7 distance levels for 59 documents: massive ties
    y = rng.integers(0, 3, 60)
    curve = retrieval_curve(bits, y, metric="hamming")
    d = (bits[:, None] != bits[None]).sum(-1)
    p, r = brute_force_curve(-d.astype(float), y[:, None] == y[None], np.eye(60, dtype=bool))
    np.testing.assert_allclose(curve.precision, p, atol=1e-9)
    np.testing.assert_allclose(curve.recall, r, atol=1e-9)


def test_hamming_ties_are_the_mean_over_random_tie_breaks():
    rng = np.random.default_rng(2)
    n, n_perm = 30, 2000
    bits = rng.integers(0, 2, (n, 4)).astype(bool)
    y = rng.integers(0, 2, n)
    curve = retrieval_curve(bits, y, metric="hamming")
    d = (bits[:, None] != bits[None]).sum(-1)
    total = np.zeros(n - 1)
    for _ in range(n_perm):
        for i in range(n):
            others = np.delete(np.arange(n), i)
            order = others[np.lexsort((rng.random(n - 1), d[i, others]))]
            total += np.cumsum(y[order] == y[i]) / np.arange(1, n)
    # standard error of the mean <= sqrt(0.25 / (n * n_perm)) ~ 0.002
    np.testing.assert_allclose(curve.precision, total / (n * n_perm), atol=0.01)


def test_curve_does_not_depend_on_document_order():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, (80, 5))
    y = rng.integers(0, 4, 80)
    perm = rng.permutation(80)
    a = retrieval_curve(bits, y, metric="hamming")
    b = retrieval_curve(bits[perm], y[perm], metric="hamming")
    np.testing.assert_allclose(a.precision, b.precision, atol=1e-12)
    np.testing.assert_allclose(a.recall, b.recall, atol=1e-12)


@pytest.mark.parametrize("n_bins", [8, 64, 4096])
def test_binned_cosine_within_its_error_bound(n_bins):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(200, 8)), rng.integers(0, 4, 200)
    exact = retrieval_curve(x, y, method="exact")
    binned = retrieval_curve(x, y, method="binned", n_bins=n_bins)
    assert binned.method == "binned" and binned.n_bins == n_bins
    for got, want, bound in [
        (binned.precision, exact.precision, binned.precision_error_bound),
        (binned.recall, exact.recall, binned.recall_error_bound),
    ]:
        assert np.all(np.abs(got - want) <= bound + 1e-12)
    diff = np.abs(binned.precision - exact.precision).max()
    if n_bins == 8:  # coarse bins: the interpolation is visibly off, the bound is not vacuous
        assert 1e-3 < diff <= binned.precision_error_bound.max() < 0.5
    if n_bins == 4096:  # observed on this data: max |diff| ~ 1e-4, bound ~ 1e-3
        assert diff < 1e-3 and binned.precision_error_bound.max() < 1e-2


def test_binned_equals_exact_when_ties_and_bins_coincide():
    # Six directions 60 degrees apart, scaled by powers of two (exact after normalising):
    # cosines are 1, 0.5, -0.5, -1, i.e. chords 0, 1, sqrt(3), 2, which fall in distinct
    # bins of width 2 / 100 (bin coordinates 0, 50, 86.6, 100), away from their edges.
    rng = np.random.default_rng(5)
    angles = np.pi / 3 * rng.integers(0, 6, 60)
    x = np.stack([np.cos(angles), np.sin(angles)], 1) * 2.0 ** rng.integers(-3, 4, (60, 1))
    y = rng.integers(0, 3, 60)
    exact = retrieval_curve(x, y, method="exact")
    binned = retrieval_curve(x, y, method="binned", n_bins=100)
    np.testing.assert_allclose(binned.precision, exact.precision, atol=1e-12)
    np.testing.assert_allclose(binned.recall, exact.recall, atol=1e-12)
    u = unit(x)
    p, _ = brute_force_curve(u @ u.T, y[:, None] == y[None], np.eye(60, dtype=bool))
    np.testing.assert_allclose(exact.precision, p, atol=1e-9)


def test_queries_against_a_separate_database(docs):
    x, y = docs
    rng = np.random.default_rng(6)
    q = rng.normal(size=(25, 5))
    yq = rng.integers(0, 4, 25)  # label 3 is not in the database: no relevant documents
    rel = yq[:, None] == y[None]
    p, r = brute_force_curve(unit(q) @ unit(x).T, rel)
    exact = retrieval_curve(q, yq, x, y, method="exact")
    np.testing.assert_array_equal(exact.n_retrieved, np.arange(1, 61))
    np.testing.assert_allclose(exact.precision, p, atol=1e-9)
    np.testing.assert_allclose(exact.recall, r, atol=1e-9)
    assert exact.n_queries == 25 and exact.n_queries_with_relevant == int(rel.any(1).sum()) < 25
    binned = retrieval_curve(q, yq, x, y, method="binned", n_bins=256)
    assert np.all(np.abs(binned.precision - p) <= binned.precision_error_bound + 1e-12)

    qb, xb = q > 0, x > 0
    d = (qb[:, None] != xb[None]).sum(-1)
    p, r = brute_force_curve(-d.astype(float), rel)
    ham = retrieval_curve(qb, yq, xb, y, metric="hamming")
    np.testing.assert_allclose(ham.precision, p, atol=1e-9)
    np.testing.assert_allclose(ham.recall, r, atol=1e-9)


@pytest.mark.parametrize("method", ["exact", "binned"])
def test_recall_reaches_one_and_never_falls(docs, method):
    x, y = docs
    curve = retrieval_curve(x, y, method=method)
    assert curve.recall[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(curve.recall) >= -1e-12)
    assert curve.recall_at(59) == curve.recall[-1]
    # the last point is the base rate: every other document retrieved
    base = np.mean([(y[np.arange(60) != i] == y[i]).mean() for i in range(60)])
    assert curve.precision_at(59) == pytest.approx(base, abs=1e-12)
    np.testing.assert_array_equal(curve.precision_at(np.array([1, 5])), curve.precision[[0, 4]])


@pytest.mark.parametrize(
    "metric,method", [("cosine", "exact"), ("cosine", "binned"), ("hamming", "auto")]
)
def test_chunking_and_threads_do_not_change_the_curve(docs, metric, method):
    x, y = docs
    codes = x > 0 if metric == "hamming" else x
    threads = torch.get_num_threads()
    base = retrieval_curve(codes, y, metric=metric, method=method)
    for chunk in (1, 7):
        other = retrieval_curve(codes, y, metric=metric, method=method, chunk_size=chunk)
        np.testing.assert_allclose(other.precision, base.precision, atol=1e-12)
        np.testing.assert_allclose(other.recall, base.recall, atol=1e-12)
        np.testing.assert_allclose(
            other.precision_error_bound, base.precision_error_bound, atol=1e-12
        )
    assert torch.get_num_threads() == threads  # the caller's setting is restored


@pytest.mark.parametrize("n_bits", [5, 13, 32, 128, 300])
@pytest.mark.parametrize("lookup_table", [False, True])
def test_pack_bits_and_hamming_distances(monkeypatch, n_bits, lookup_table):
    if lookup_table:
        monkeypatch.setattr(retrieval, "_bitwise_count", None)
    elif retrieval._bitwise_count is None:
        pytest.skip("numpy < 2 has no bitwise_count")
    rng = np.random.default_rng(n_bits)
    a, b = rng.integers(0, 2, (7, n_bits)), rng.integers(0, 2, (11, n_bits)).astype(bool)
    pa, pb = pack_bits(a), pack_bits(b)
    assert pa.dtype == np.uint8 and pa.shape == (7, -(-n_bits // 8))
    d = hamming_distances(pa, pb)
    np.testing.assert_array_equal(d, (a[:, None] != b[None]).sum(-1))
    assert d.dtype == (np.uint8 if n_bits <= 248 else np.uint16)


def test_binarize():
    np.testing.assert_array_equal(
        binarize([[0.2, 0.7], [0.5, 0.9]]), [[False, True], [False, True]]
    )
    np.testing.assert_array_equal(binarize([[-1.0, 1.0]], threshold=0.0), [[False, True]])


def test_cosine_search_matches_argsort():
    rng = np.random.default_rng(7)
    q, x = rng.normal(size=(13, 6)), rng.normal(size=(50, 6))
    idx, scores = search(q, x, k=5, chunk_size=4)
    s = unit(q) @ unit(x).T
    want = np.argsort(-s, axis=1)[:, :5]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(scores, np.take_along_axis(s, want, 1), atol=1e-6)

    idx, _ = search(x, x, k=5, exclude_self=True)
    s = unit(x) @ unit(x).T
    np.fill_diagonal(s, -np.inf)
    np.testing.assert_array_equal(idx, np.argsort(-s, axis=1)[:, :5])


HAMMING_PATHS = ["kernel", "numpy", "numpy-table"]


def _use_hamming_path(monkeypatch, path: str) -> None:
    """Route ``search(metric="hamming")`` through the compiled kernel or the numpy scan (with
    numpy's popcount or the byte table)."""
    if path == "kernel":
        if not hamming_kernel.available():
            pytest.skip("numba is not installed")
        # Every case through the kernel, also those it would leave to the numpy scan.
        monkeypatch.setattr(hamming_kernel, "suits", lambda n_bits, n_db, k: n_bits <= 254)
        return
    monkeypatch.setattr(hamming_kernel, "suits", lambda n_bits, n_db, k: False)
    if path == "numpy-table":
        monkeypatch.setattr(retrieval, "_bitwise_count", None)


@pytest.mark.parametrize("n_bits", [10, 32, 128])
@pytest.mark.parametrize("path", HAMMING_PATHS)
def test_hamming_search_orders_ties_by_index(monkeypatch, n_bits, path):
    _use_hamming_path(monkeypatch, path)
    rng = np.random.default_rng(n_bits)
    x = rng.integers(0, 2, (80, n_bits))
    d = (x[:, None] != x[None]).sum(-1)
    cols = np.arange(80)
    for exclude_self in (False, True):
        idx, dist = search(x, x, k=9, metric="hamming", exclude_self=exclude_self, chunk_size=6)
        dd = d + np.where(exclude_self, np.eye(80, dtype=int) * 10_000, 0)
        want = np.stack([np.lexsort((cols, row))[:9] for row in dd])
        np.testing.assert_array_equal(idx, want)
        np.testing.assert_array_equal(dist, np.take_along_axis(d, want, 1))
        if exclude_self:
            assert not (idx == cols[:, None]).any()


def _brute_force_topk(q, db, k, exclude_self):
    """Top-k by (distance, index) from the full distance matrix."""
    d = (q[:, None, :] != db[None, :, :]).sum(-1).astype(np.int64)
    if exclude_self:
        np.fill_diagonal(d, 10**6)
    keys = np.sort(d * len(db) + np.arange(len(db)), axis=1)[:, :k]
    return keys % len(db), keys // len(db)


@pytest.mark.parametrize("path", HAMMING_PATHS)
def test_hamming_search_matches_brute_force_on_random_databases(monkeypatch, path):
    """Sizes around the kernel's block layout (16 rows; fewer blocks than k), every code width
    up to its 254-bit limit, duplicate-heavy databases, k up to every document, and the
    leave-one-out exclusion landing in any block row."""
    _use_hamming_path(monkeypatch, path)
    rng = np.random.default_rng(0)
    for trial in range(120):
        n_db = int(rng.choice([1, 2, 15, 16, 17, 31, 100, 257, 600]))
        n_bits = int(rng.choice([1, 7, 31, 32, 33, 64, 100, 128, 254]))
        exclude_self = n_db > 1 and trial % 2 == 1
        k = int(rng.integers(1, n_db - int(exclude_self) + 1))
        db = rng.random((n_db, n_bits)) < rng.uniform(0.05, 0.5)
        if trial % 3 == 0:  # many exact duplicates: ties everywhere
            db = db[rng.integers(0, max(1, n_db // 8), n_db)]
        q = db if exclude_self else rng.random((int(rng.integers(1, 40)), n_bits)) < 0.3
        chunk = int(rng.integers(1, 30))
        idx, dist = search(
            q, db, k=k, metric="hamming", exclude_self=exclude_self, chunk_size=chunk
        )
        want_idx, want_dist = _brute_force_topk(q, db, k, exclude_self)
        np.testing.assert_array_equal(dist, want_dist, err_msg=f"trial {trial}")
        np.testing.assert_array_equal(idx, want_idx, err_msg=f"trial {trial}")


def test_hamming_kernel_is_thread_safe_and_routed_by_size(monkeypatch):
    """Two worker threads share the compiled kernel; 300-bit codes (over its uint8 distance
    range) and a k above the number of blocks go to the numpy scan; all equal brute force."""
    if not hamming_kernel.available():
        pytest.skip("numba is not installed")
    calls = []
    kernel = hamming_kernel.topk
    monkeypatch.setattr(hamming_kernel, "topk", lambda *a: calls.append(a[0].shape) or kernel(*a))
    rng = np.random.default_rng(3)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for n_bits, k, kernel_used in ((64, 12, True), (300, 12, False), (64, 40, False)):
            calls.clear()
            db = rng.random((500, n_bits)) < 0.2  # 32 blocks of 16: k = 40 exceeds them
            q = rng.random((70, n_bits)) < 0.2
            idx, dist = search(q, db, k=k, metric="hamming", chunk_size=5)
            assert bool(calls) == kernel_used
            want_idx, want_dist = _brute_force_topk(q, db, k, False)
            np.testing.assert_array_equal(idx, want_idx)
            np.testing.assert_array_equal(dist, want_dist)
    finally:
        torch.set_num_threads(threads)
    assert hamming_kernel.suits(32, 11_293, 10) and not hamming_kernel.suits(32, 11_293, 257)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda x, y: retrieval_curve(x, y[:-1]), ValueError, "entries for"),
        (lambda x, y: retrieval_curve(x[:0], y[:0]), ValueError, "empty"),
        (lambda x, y: retrieval_curve(x, y.astype(float)), TypeError, "integers"),
        (lambda x, y: retrieval_curve(x, y[:, None]), ValueError, "1-D"),
        (lambda x, y: retrieval_curve(x[:, 0], y), ValueError, "2-D"),
        (lambda x, y: retrieval_curve(x, y, metric="hamming"), ValueError, "binary"),
        (lambda x, y: retrieval_curve(x[:1], y[:1]), ValueError, "at least 2"),
        (lambda x, y: retrieval_curve(np.where(x > 1, np.nan, x), y), ValueError, "NaN"),
        (lambda x, y: retrieval_curve(np.vstack([x, 0 * x[:1]]), np.r_[y, 0]), ValueError, "zero"),
        (lambda x, y: retrieval_curve(x, y, db_codes=x), ValueError, "together"),
        (lambda x, y: retrieval_curve(x, y, x[:, :3], y), ValueError, "units"),
        (lambda x, y: retrieval_curve(x, y, metric="euclid"), ValueError, "metric"),
        (lambda x, y: retrieval_curve(x, y, method="fast"), ValueError, "method"),
        (
            lambda x, y: retrieval_curve(x > 0, y, metric="hamming", method="binned"),
            ValueError,
            "exact",
        ),
        (lambda x, y: retrieval_curve(x, y, n_bins=0), ValueError, "n_bins"),
        (lambda x, y: retrieval_curve(x, y, chunk_size=0), ValueError, "chunk_size"),
        (
            lambda x, y: retrieval_curve(x, y, method="binned", chunk_size=5000),
            ValueError,
            "2\\*\\*23",
        ),
        (lambda x, y: retrieval_curve(x, y).precision_at(0), ValueError, "1..59"),
        (lambda x, y: retrieval_curve(x, y).precision_at(1.5), TypeError, "integer"),
        (lambda x, y: search(x, x, k=60, exclude_self=True), ValueError, "exceeds"),
        (lambda x, y: search(x, x[:10], exclude_self=True), ValueError, "exclude_self"),
        (lambda x, y: search(x, x, metric="hamming"), ValueError, "binary"),
        (
            lambda x, y: hamming_distances(pack_bits(x > 0), pack_bits(np.hstack([x, x]) > 0)),
            ValueError,
            "width",
        ),
        (lambda x, y: hamming_distances(x > 0, x > 0), TypeError, "uint8"),
        (lambda x, y: binarize(np.array([["a"]])), TypeError, "numeric"),
    ],
)
def test_bad_input_is_refused(docs, call, error, match):
    with pytest.raises(error, match=match):
        call(*docs)
