"""Document retrieval curves and semantic-hashing search.

Two papers use these numbers. Hinton & Salakhutdinov, "Reducing the dimensionality of data with
neural networks", Science 313 (2006), Fig. 4, compare the codes of a deep autoencoder with LSA
on 20 Newsgroups and Reuters: each test document ranks the others by the cosine of their codes,
and the figure plots the fraction of retrieved documents with the query's label against how
many were retrieved (and against recall). Salakhutdinov & Hinton, "Semantic hashing",
International Journal of Approximate Reasoning 50 (2009), binarize the codes and rank by
Hamming distance, which a computer can search by address or by XOR and popcount.

Definitions (``retrieval_curve``):

- Every query ranks the database documents, best first. By default the database is the query
  set itself and a query never retrieves itself (leave-one-out by index), so ``N`` documents
  give ``N - 1`` ranks.
- ``precision(k)`` is the fraction of the top ``k`` that carry the query's label, averaged over
  all queries (a query whose label nobody else has scores 0). ``recall(k)`` is the number of
  relevant documents in the top ``k`` over the query's number of relevant documents, averaged
  over the queries that have at least one; the others are left out of the recall average.
- Scores: ``metric="cosine"`` ranks by the cosine similarity of real codes, ``"hamming"`` by the
  Hamming distance of binary codes (smaller first).
- Ties: Hamming distances take only ``n_bits + 1`` values, so ties are massive. The curve is the
  expectation over uniformly random tie-breaking: in a tied group of ``g`` documents of which
  ``r`` are relevant, the expected number of relevant documents among the first ``j`` taken
  from the group is ``j r / g`` (the mean of a hypergeometric draw). This makes the curve
  independent of document order. Cosine ties get the same rule.

How it is computed. A query's curve only needs, for each score level (ordered best to worst),
how many documents and how many relevant documents sit at that level. Summing the counts over
levels gives (ranks, relevant) at the level boundaries, and inside a level the expected count
grows linearly. So each query contributes a piecewise-linear count function whose slope is
``r / g`` on the ranks of a level; the sum over queries is kept as a difference array of slopes
(two entries per level that holds a relevant document), and two cumulative sums at the end give
the exact mean curve. Queries stream through in chunks, so memory stays bounded.

- ``"hamming"``: the levels are the distances ``0..n_bits``; the curve is exact.
- ``"cosine"``, ``method="exact"``: each query sorts its scores (float64, ``np.argsort``);
  scores equal to within ``1e-12`` form one level. Cost ``O(N log N)`` per query, about 50 ns
  per (query, document) pair on one core: seconds for the 7,532 test documents of 20
  Newsgroups, tens of seconds at 20,000.
- ``"cosine"``, ``method="binned"``: the levels are ``n_bins`` bins of width ``2 / n_bins`` in the
  chord distance ``||q/|q| - d/|d| || = sqrt(2 - 2 cos)`` (``n_bins + 1`` levels centred on
  multiples of the width; the end ones are half as wide), computed in float32. Bins uniform in
  the chord rather than the cosine are fine at the top of the ranking, where precision is read:
  the first bin holds documents with cosine above ``1 - (1 / n_bins)^2 / 2``, about
  ``1 - 3e-8`` at the default 4,096, which is the resolution of a float32 cosine. Inside a bin
  the linear rule above stands in for the true order. Error bound: if a query's rank ``k`` lies
  ``j`` places into a bin of ``g`` documents with ``r`` relevant, both the true (within-bin
  ordered) count and the interpolated one lie in ``[max(0, j - (g - r)), min(j, r)]`` plus the
  count before the bin, so they differ by at most ``min(j, g - j, r, g - r) <= g / 2``. The mean
  of these over queries, divided by ``k`` (by the relevant count for recall), is computed along
  with the curve and returned as ``precision_error_bound`` and ``recall_error_bound`` (zero for
  the exact methods). The bound is relative to the ranking by the float32 chord distance;
  float64 reorders only documents whose cosines differ by less than about ``1e-7``.
  ``method="auto"`` uses exact up to 20,000 database documents and binned above.

The binned path is the fast one: per (query, document) pair a float32 matrix product with the
normalised codes (the bias folded into ``addmm``), a clamp, a square root, a bin index read from
the float's bits (adding ``2**23`` makes a float's low mantissa bits its rounded integer value),
and a per-row histogram by ``bincount``; relevant-document histograms come from the same bin
indices, restricted to the query label's contiguous block of the label-sorted database, so they
agree with the all-document histogram exactly. Chunks run on ``torch.get_num_threads()``
Python threads, each with single-threaded torch ops (torch releases the GIL); the setting is
restored on return.

``search`` does top-``k`` retrieval (cosine by matrix product and ``torch.topk``, Hamming by XOR
and popcount of packed codes), for ``aekit retrieve`` and speed comparisons.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import torch
from tqdm.auto import tqdm

from aekit.evaluate import hamming_kernel

METRICS = ("cosine", "hamming")
METHODS = ("auto", "exact", "binned")
AUTO_EXACT_MAX_DB = 20_000
EXACT_TIE_TOL = 1e-12

_BLOCK = 16_384  # database columns per binned step: a (chunk, block) float32 tile fits in L2
_BINNED_CHUNK = 32
_MAGIC = float(2**23)  # x + 2**23 for 0 <= x < 2**23 stores round(x) in the low mantissa bits
_MAGIC_BITS = 0x4B000000  # the bit pattern of 2**23 as a float32
_CHUNK_ELEMENTS = 2**21  # (chunk, n_db) work arrays of the exact and Hamming paths
_KERNEL_CHUNK = 256  # queries per task of the compiled Hamming search (its buffers are O(n_db))

_bitwise_count = getattr(np, "bitwise_count", None)  # numpy >= 2; None forces the lookup table
_POPCOUNT_TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass
class RetrievalCurve:
    """Mean precision and recall against the number of documents retrieved.

    ``n_retrieved`` is ``1..N`` (``N`` database documents, less one with leave-one-out);
    ``precision[i]`` and ``recall[i]`` belong to ``n_retrieved[i]``. The error bounds are zero
    for exact methods and bound ``|binned - exact|`` pointwise for ``method="binned"``.
    """

    n_retrieved: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    n_queries: int
    n_queries_with_relevant: int
    metric: str
    method: str
    n_bins: int | None
    precision_error_bound: np.ndarray
    recall_error_bound: np.ndarray

    def _index(self, k: int | np.ndarray) -> np.ndarray:
        k_arr = np.asarray(k)
        if k_arr.dtype.kind not in "iu":
            raise TypeError(f"k must be an integer number of documents, got dtype {k_arr.dtype}")
        n = len(self.n_retrieved)
        if np.any((k_arr < 1) | (k_arr > n)):
            raise ValueError(f"k must lie in 1..{n} (the documents a query can retrieve)")
        return k_arr - 1

    @overload
    def precision_at(self, k: int) -> float: ...
    @overload
    def precision_at(self, k: np.ndarray) -> float | np.ndarray: ...
    def precision_at(self, k: int | np.ndarray) -> float | np.ndarray:
        """Mean precision after retrieving ``k`` documents (an int, or an array of them)."""
        out = self.precision[self._index(k)]
        return float(out) if np.ndim(out) == 0 else out

    @overload
    def recall_at(self, k: int) -> float: ...
    @overload
    def recall_at(self, k: np.ndarray) -> float | np.ndarray: ...
    def recall_at(self, k: int | np.ndarray) -> float | np.ndarray:
        """Mean recall after retrieving ``k`` documents (an int, or an array of them)."""
        out = self.recall[self._index(k)]
        return float(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------- binary codes


def binarize(codes: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``codes > threshold`` as a bool array of the same shape (logistic code units at 0.5, as
    in semantic hashing)."""
    codes = np.asarray(codes)
    if codes.dtype.kind not in "biuf":
        raise TypeError(f"codes must be numeric, got dtype {codes.dtype}")
    if codes.dtype.kind == "f" and np.isnan(codes).any():
        raise ValueError("codes contain NaN")
    return codes > threshold


def pack_bits(codes: np.ndarray) -> np.ndarray:
    """Pack binary codes ``(n, n_bits)`` (0/1 or bool) into bytes, shape ``(n, ceil(n_bits / 8))``.

    ``np.packbits`` order: bit ``i`` goes to byte ``i // 8`` at weight ``2 ** (7 - i % 8)``;
    the last byte is padded with zeros, which Hamming distances ignore.
    """
    return np.packbits(as_binary_codes(codes, "codes"), axis=1)


def hamming_distances(a_packed: np.ndarray, b_packed: np.ndarray) -> np.ndarray:
    """Hamming distances between all rows of two packed code arrays (``pack_bits`` output).

    Returns ``(n_a, n_b)`` of ``uint8`` when the codes have at most 255 bits' room
    (``8 * n_bytes``), ``uint16`` up to 65,535, else ``uint32``. Popcount uses
    ``np.bitwise_count`` where numpy has it (>= 2.0), else a 256-entry byte table.
    """
    a, b = _packed(a_packed, "a_packed"), _packed(b_packed, "b_packed")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"packed codes differ in width: {a.shape[1]} and {b.shape[1]} bytes")
    wa, wb_t = _words(a), np.ascontiguousarray(_words(b).T)
    out = np.empty((len(a), len(b)), dtype=_distance_dtype(a.shape[1]))
    step = max(1, _CHUNK_ELEMENTS // max(1, len(b)))
    for i in range(0, len(a), step):
        out[i : i + step] = _xor_popcount(wa[i : i + step], wb_t)
    return out


def _distance_dtype(n_bytes: int) -> type[np.unsignedinteger]:
    if 8 * n_bytes <= 255:
        return np.uint8
    return np.uint16 if 8 * n_bytes <= 65_535 else np.uint32


def _words(packed: np.ndarray) -> np.ndarray:
    """Packed bytes viewed as uint32 words (up to 4 bytes) or uint64 words, zero-padded."""
    n, n_bytes = packed.shape
    size = 4 if n_bytes <= 4 else 8
    width = -(-n_bytes // size) * size
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[:, :n_bytes] = packed
    return padded.view(np.uint32 if size == 4 else np.uint64)


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per element of an unsigned integer array, as uint8."""
    if _bitwise_count is not None:
        return _bitwise_count(x)
    by_byte = _POPCOUNT_TABLE[np.ascontiguousarray(x).view(np.uint8)]
    return by_byte.reshape(*x.shape, x.itemsize).sum(axis=-1, dtype=np.uint8)


def _xor_popcount(wa: np.ndarray, wb_t: np.ndarray) -> np.ndarray:
    """``(len(wa), n_b)`` Hamming distances from words ``wa`` (one row per code) to the
    transposed words ``wb_t`` (one row per word, contiguous), accumulated word by word."""
    n_bytes = wa.shape[1] * wa.itemsize
    dist = popcount(wa[:, None, 0] ^ wb_t[0][None, :]).astype(_distance_dtype(n_bytes))
    for i in range(1, len(wb_t)):
        dist += popcount(wa[:, None, i] ^ wb_t[i][None, :])
    return dist


def compiled_hamming_search(
    q_words: np.ndarray,
    db_words_t: np.ndarray,
    n_db: int,
    k: int,
    exclude_self: bool = False,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` Hamming search by the compiled kernel, query chunks spread over
    ``torch.get_num_threads()`` threads (the kernel releases the GIL). Words come from
    ``hamming_kernel.query_words`` / ``database_words``; returns (indices, distances) int64."""
    n_q = len(q_words)
    chunk = chunk_size or _KERNEL_CHUNK
    indices = np.empty((n_q, k), dtype=np.int64)
    distances = np.empty((n_q, k), dtype=np.int64)

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, n_q)
        self_offset = q0 if exclude_self else -1
        hamming_kernel.topk(
            q_words[q0:q1], db_words_t, n_db, k, self_offset, indices[q0:q1], distances[q0:q1]
        )

    with _single_threaded_ops() as n_threads:
        _run_chunks(-(-n_q // chunk), lambda: work, n_threads, False, "search")
    return indices, distances


# --------------------------------------------------------------------------- input checks


def _packed(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 2:
        raise TypeError(f"{name} must be a 2-D uint8 array from pack_bits, got {x.dtype} {x.shape}")
    return np.ascontiguousarray(x)


def _codes_2d(codes: np.ndarray, name: str) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {codes.dtype}")
    if codes.ndim != 2:
        raise ValueError(f"{name} must be 2-D (documents, code units), got shape {codes.shape}")
    if codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {codes.shape})")
    if codes.dtype.kind == "f" and not np.isfinite(codes).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    return codes


def as_binary_codes(codes: np.ndarray, name: str = "codes") -> np.ndarray:
    """``codes``, a 2-D array of 0/1 or bool values, as bool (0/1 bytes without a copy);
    anything else is refused naming ``name``."""
    codes = _codes_2d(codes, name)
    if codes.dtype == np.bool_:
        return codes
    kind = codes.dtype.kind
    # min/max are one fast pass each; isin is kept for floats (0.5 is neither 0 nor 1).
    if kind == "u":
        binary = codes.max() <= 1
    elif kind == "i":
        binary = codes.min() >= 0 and codes.max() <= 1
    else:
        binary = np.isin(codes, (0, 1)).all()
    if not binary:
        raise ValueError(
            f"hamming needs binary codes (0/1 or bool); {name} holds other values, "
            "binarize them first (aekit.evaluate.retrieval.binarize)"
        )
    if codes.dtype.itemsize == 1 and kind in "ui":
        return codes.view(np.bool_)  # 0/1 bytes are valid bools: no copy
    return codes.astype(bool)


def _unit_rows(codes: np.ndarray, name: str) -> np.ndarray:
    codes = _codes_2d(codes, name).astype(np.float64)
    codes = codes / np.abs(codes).max(axis=1, keepdims=True).clip(min=np.finfo(np.float64).tiny)
    norms = np.linalg.norm(codes, axis=1)  # of rows scaled to max |x| = 1, so no overflow
    zero = np.flatnonzero(norms == 0)
    if len(zero):
        raise ValueError(
            f"{name} has {len(zero)} all-zero row(s) (first at index {zero[0]}); "
            "the cosine of a zero vector is undefined"
        )
    return codes / norms[:, None]


def _labels(labels: np.ndarray, n: int, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {labels.dtype}")
    if len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} entries for {n} documents")
    return labels.astype(np.int64)


def _check_choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_positive_int(value: int | None, name: str) -> None:
    if value is not None and (
        not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# ------------------------------------------------------------------------------- threading


@contextmanager
def _single_threaded_ops() -> Iterator[int]:
    """Yield the caller's torch thread count, with torch ops single-threaded meanwhile.

    Worker threads pick up the intra-op setting when they first run an op, so they run
    single-threaded and the Python threads supply the parallelism without oversubscribing the
    cores. The caller's setting is restored afterwards.
    """
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield n_threads
    finally:
        torch.set_num_threads(n_threads)


def _run_chunks(
    n_chunks: int,
    make_worker: Callable[[], Callable[[int], None]],
    n_workers: int,
    progress: bool,
    desc: str,
) -> None:
    """Run ``worker(chunk_index)`` for every chunk on ``n_workers`` threads.

    Each worker (with its own buffers and partial sums) runs on its own thread and takes chunk
    indices from a shared counter; the first error stops the others and is raised.
    """
    n_workers = max(1, min(n_workers, n_chunks))
    counter = itertools.count()
    lock = threading.Lock()
    failed = threading.Event()
    bar = tqdm(total=n_chunks, desc=desc, disable=not progress, leave=False)

    def loop(worker: Callable[[int], None]) -> None:
        torch.set_num_threads(1)
        try:
            while not failed.is_set():
                with lock:
                    i = next(counter)
                if i >= n_chunks:
                    return
                worker(i)
                with lock:
                    bar.update(1)
        except BaseException:
            failed.set()
            raise

    workers = [make_worker() for _ in range(n_workers)]
    try:
        if n_workers == 1:
            loop(workers[0])
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                for f in [pool.submit(loop, w) for w in workers]:
                    f.result()
    finally:
        bar.close()


# ----------------------------------------------------------------------- curve accumulation


class _CurveSums:
    """The summed per-query count functions, as difference arrays of their slopes.

    For one query, ``F(k)`` is the expected number of relevant documents in the top ``k``.
    ``F(0) = 0`` and on the ranks of level ``l`` (``start < k <= end``, ``end`` the cumulative
    count) its slope is ``r / g``: a difference array gets ``+r/g`` at ``start`` and ``-r/g``
    at ``end`` for every level holding a relevant document; a cumulative sum gives the summed
    slopes and a second one the summed ``F``. Recall uses the same entries weighted by ``1 / R``
    (``R`` relevant documents for the query). The error bound of a level is the trapezoid
    ``min(j, g - j, m)``, ``m = min(r, g - r)``: slope +1 from ``start``, 0 from
    ``start + m``, -1 from ``end - m`` to ``end``, four entries per level with ``m > 0``.

    The four difference arrays (precision, recall, and their bounds) are the columns of one
    ``(n_ranks + 1, 4)`` array, so the entries for one rank share a cache line: the scatter
    into it, not the arithmetic, is what costs.
    """

    def __init__(self, n_ranks: int, with_bound: bool) -> None:
        self.n_ranks = n_ranks
        self.with_bound = with_bound
        self.diffs = torch.zeros(n_ranks + 1, 4, dtype=torch.float64)
        self.n_queries = 0
        self.n_with_relevant = 0

    def add(self, g: torch.Tensor, r: torch.Tensor) -> None:
        """Add queries given their level histograms ``g`` (all) and ``r`` (relevant), both
        ``(n_queries, n_levels)`` int64, levels ordered best first."""
        c, n_levels = g.shape
        end = g.cumsum(1)
        assert bool((end[:, -1] == self.n_ranks).all()), "level counts must cover every rank"
        n_rel = r.sum(1)
        self.n_queries += c
        self.n_with_relevant += int((n_rel > 0).sum())
        inv_rel = 1.0 / n_rel.clamp_min(1).double()

        at = r.view(-1).nonzero().squeeze(1)  # the levels holding relevant documents
        rk, gk = r.view(-1)[at], g.view(-1)[at]
        b = end.view(-1)[at] * 4  # flat offsets into self.diffs
        a = b - gk * 4
        w = inv_rel[at // n_levels]
        slope = rk / gk.double()
        pos = [a, b, a + 1, b + 1]
        val = [slope, -slope, slope * w, -slope * w]
        if self.with_bound:
            m = torch.minimum(rk, gk - rk)
            mixed = m > 0
            a, b, m, w = a[mixed], b[mixed], m[mixed] * 4, w[mixed]
            knots = torch.cat([a, a + m, b - m, b])
            sign = torch.ones(len(a), dtype=torch.float64)
            sign = torch.cat([sign, -sign, -sign, sign])
            pos += [knots + 2, knots + 3]
            val += [sign, sign * w.repeat(4)]
        self.diffs.view(-1).scatter_add_(0, torch.cat(pos), torch.cat(val))

    def merge(self, other: _CurveSums) -> None:
        self.diffs += other.diffs
        self.n_queries += other.n_queries
        self.n_with_relevant += other.n_with_relevant

    def curve(self, metric: str, method: str, n_bins: int | None) -> RetrievalCurve:
        nq, nr = self.n_queries, self.n_with_relevant
        k = np.arange(1, self.n_ranks + 1)

        totals = self.diffs.cumsum(0)[: self.n_ranks].cumsum(0).numpy()
        counts, bound = totals[:, :2], totals[:, 2:]
        if nr:
            recall, recall_bound = np.clip(counts[:, 1] / nr, 0.0, 1.0), bound[:, 1] / nr
        else:
            recall, recall_bound = np.full(self.n_ranks, np.nan), np.zeros(self.n_ranks)
        return RetrievalCurve(
            n_retrieved=k,
            precision=np.clip(counts[:, 0] / (k * nq), 0.0, 1.0),
            recall=recall,
            n_queries=nq,
            n_queries_with_relevant=nr,
            metric=metric,
            method=method,
            n_bins=n_bins,
            precision_error_bound=bound[:, 0] / (k * nq),
            recall_error_bound=recall_bound,
        )


# ---------------------------------------------------------------------- per-chunk histograms


def _exact_cosine_worker(
    q: torch.Tensor,
    q_labels: np.ndarray,
    db: torch.Tensor,
    db_labels: np.ndarray,
    chunk: int,
    leave_one_out: bool,
    sums: _CurveSums,
) -> Callable[[int], None]:
    n_ranks = sums.n_ranks

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, len(q))
        c = q1 - q0
        cost = torch.mm(q[q0:q1], db.T).neg_().numpy()  # (c, n_db) float64, minus the cosine
        # The relevance flag rides in the lowest mantissa bit (1 ulp, far below the tie
        # tolerance), so one in-place sort of values replaces argsort plus two gathers; numpy's
        # sort is several times faster than torch's here.
        bits = cost.view(np.int64)
        bits &= ~1
        bits |= db_labels[None, :] == q_labels[q0:q1, None]
        if leave_one_out:
            cost[np.arange(c), np.arange(q0, q1)] = 3.0  # the query itself sorts last
        cost.sort(axis=1)
        values = cost[:, :n_ranks]
        rel = (values.view(np.int64) & 1).astype(bool).ravel()
        new_level = np.ones(values.shape, dtype=bool)
        new_level[:, 1:] = values[:, 1:] > values[:, :-1] + EXACT_TIE_TOL
        level = np.cumsum(new_level, 1) - 1 + (np.arange(c) * n_ranks)[:, None]
        level = level.ravel()
        g = np.bincount(level, minlength=c * n_ranks).reshape(c, n_ranks)
        r = np.bincount(level[rel], minlength=c * n_ranks).reshape(c, n_ranks)
        sums.add(torch.from_numpy(g), torch.from_numpy(r))

    return work


def _hamming_worker(
    q_words: np.ndarray,
    q_labels: np.ndarray,
    db_words_t: np.ndarray,
    db_labels: np.ndarray,
    n_bits: int,
    chunk: int,
    leave_one_out: bool,
    sums: _CurveSums,
) -> Callable[[int], None]:
    n_levels = n_bits + 1

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, len(q_words))
        c = q1 - q0
        dist = torch.from_numpy(_xor_popcount(q_words[q0:q1], db_words_t).astype(np.int64))
        flat = (dist + (torch.arange(c) * n_levels)[:, None]).reshape(-1)
        rel = torch.from_numpy((db_labels[None, :] == q_labels[q0:q1, None]).reshape(-1))
        g = torch.bincount(flat, minlength=c * n_levels).view(c, n_levels)
        r = torch.bincount(flat[rel], minlength=c * n_levels).view(c, n_levels)
        if leave_one_out:  # a code is at distance 0 from itself, and relevant to itself
            g[:, 0] -= 1
            r[:, 0] -= 1
        sums.add(g, r)

    return work


def _label_runs(sorted_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, starts and ends of the runs of a sorted label array."""
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    ends = np.r_[starts[1:], len(sorted_labels)]
    return sorted_labels[starts], starts, ends


def _binned_cosine_worker(
    q_scaled: torch.Tensor,
    q_labels: np.ndarray,
    db_t: torch.Tensor,
    db_labels: np.ndarray,
    n_bins: int,
    chunk: int,
    leave_one_out: bool,
    sums: _CurveSums,
) -> Callable[[int], None]:
    """Chunks of label-sorted queries against the label-sorted database, both normalised;
    ``q_scaled`` is ``-2 (n_bins / 2)^2`` times the unit query codes so that ``addmm`` with
    bias ``2 (n_bins / 2)^2`` gives ``(n_bins / 2)^2 (2 - 2 cos)``, the squared bin coordinate."""
    n_db = db_t.shape[1]
    n_levels = n_bins + 2  # levels 0..n_bins, one spare so float error can never reach the next row
    bias = torch.tensor(2.0 * (n_bins / 2) ** 2)
    block = -(-n_db // -(-n_db // _BLOCK))  # equal blocks of at most _BLOCK columns
    x = torch.empty(chunk * block)  # a (c, w) float32 tile, reused as int32 bin indices
    x_int = x.view(torch.int32)
    row_base = (torch.arange(chunk) * n_levels).float()[:, None] + _MAGIC  # (chunk, 1)
    hist_all = torch.zeros(chunk * n_levels, dtype=torch.int64)
    hist_rel = torch.zeros(chunk * n_levels, dtype=torch.int64)
    ones = torch.ones(1, dtype=torch.int64).expand(chunk * block)
    db_values, db_starts, db_ends = _label_runs(db_labels)

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, len(q_scaled))
        c = q1 - q0
        q = q_scaled[q0:q1]
        # Rows [r0, r1) of the chunk share a label whose documents are columns [lo, hi).
        values, starts, ends = _label_runs(q_labels[q0:q1])
        pos = np.searchsorted(db_values, values)
        found = (pos < len(db_values)) & (db_values[np.minimum(pos, len(db_values) - 1)] == values)
        runs = [
            (int(s), int(e), int(db_starts[p]), int(db_ends[p]))
            for s, e, p, ok in zip(starts, ends, pos, found)
            if ok
        ]
        ha, hr = hist_all[: c * n_levels], hist_rel[: c * n_levels]
        ha.zero_()
        hr.zero_()
        self_bins = []
        for j in range(0, n_db, block):
            w = min(block, n_db - j)
            xs, bins = x[: c * w].view(c, w), x_int[: c * w].view(c, w)
            torch.addmm(bias, q, db_t[:, j : j + w], out=xs)  # (c, w) squared bin coordinate
            xs.clamp_min_(0.0).sqrt_().add_(row_base[:c])
            bins.sub_(_MAGIC_BITS)  # (c, w) row * n_levels + round(coordinate)
            ha.add_(torch.bincount(bins.reshape(-1), minlength=c * n_levels))
            for r0, r1, lo, hi in runs:
                a, b = max(lo, j), min(hi, j + w)
                if a < b:
                    sel = bins[r0:r1, a - j : b - j].reshape(-1)
                    hr.index_add_(0, sel, ones[: sel.numel()])
            if leave_one_out:  # query q0 + r is database column q0 + r
                a, b = max(q0, j), min(q1, j + w)
                if a < b:
                    self_bins.append(bins[a - q0 : b - q0, a - j : b - j].diagonal().clone())
        if leave_one_out:
            own = torch.cat(self_bins)
            minus = -torch.ones(len(own), dtype=torch.int64)
            ha.index_add_(0, own, minus)
            hr.index_add_(0, own, minus)
        sums.add(ha.view(c, n_levels), hr.view(c, n_levels))

    return work


# ----------------------------------------------------------------------------- public API


def retrieval_curve(
    query_codes: np.ndarray,
    query_labels: np.ndarray,
    db_codes: np.ndarray | None = None,
    db_labels: np.ndarray | None = None,
    metric: str = "cosine",
    method: str = "auto",
    n_bins: int = 4096,
    chunk_size: int | None = None,
    progress: bool = False,
) -> RetrievalCurve:
    """Mean precision and recall of label-based retrieval against the number retrieved.

    Parameters
    ----------
    query_codes : (n_queries, code_dim) array
        Real codes for ``metric="cosine"``; 0/1 or bool codes for ``"hamming"``.
    query_labels : (n_queries,) int array
        A retrieved document is relevant when its label equals the query's.
    db_codes, db_labels : optional
        The documents to search. By default the queries themselves, leave-one-out by index.
    metric : {"cosine", "hamming"}
    method : {"auto", "exact", "binned"}
        Cosine only: exact sort, or histograms over ``n_bins`` chord-distance bins (see the
        module docstring for the error bound, returned with the curve). ``"auto"``: exact up
        to 20,000 database documents. Hamming is always exact.
    n_bins : int
        Bins of the binned method.
    chunk_size : int, optional
        Queries per step (default: 32 for binned, else about ``2**21 / n_db``).
    progress : bool
        Show a tqdm bar over the chunks.

    Returns
    -------
    RetrievalCurve
    """
    _check_choice(metric, METRICS, "metric")
    _check_choice(method, METHODS, "method")
    _check_positive_int(n_bins, "n_bins")
    _check_positive_int(chunk_size, "chunk_size")
    task = _curve_task(query_codes, query_labels, db_codes, db_labels)
    method = _curve_method(metric, method, len(task.db_codes))
    if method == "binned":
        task.chunk = chunk_size or _BINNED_CHUNK
        if (task.chunk + 1) * (n_bins + 2) >= 2**23:
            raise ValueError("chunk_size * (n_bins + 2) must stay below 2**23")
    else:
        task.chunk = chunk_size or max(1, _CHUNK_ELEMENTS // len(task.db_codes))
    if metric == "hamming":
        make = _hamming_workers(task)
    elif method == "exact":
        make = _exact_cosine_workers(task)
    else:
        make = _binned_cosine_workers(task, n_bins)
    n_chunks = -(-len(task.query_codes) // task.chunk)
    with _single_threaded_ops() as n_threads:
        _run_chunks(n_chunks, make, n_threads, progress, f"{metric} retrieval")
    total = task.partial_sums[0]
    for other in task.partial_sums[1:]:
        total.merge(other)
    return total.curve(metric, method, n_bins if method == "binned" else None)


@dataclass
class _CurveTask:
    """The checked inputs of one :func:`retrieval_curve` call and its workers' partial sums
    (one per worker thread)."""

    query_codes: np.ndarray
    query_labels: np.ndarray
    db_codes: np.ndarray
    db_labels: np.ndarray
    leave_one_out: bool
    chunk: int = 0
    partial_sums: list[_CurveSums] = field(default_factory=list)

    @property
    def n_ranks(self) -> int:
        return len(self.db_codes) - 1 if self.leave_one_out else len(self.db_codes)

    def sums(self, with_bound: bool) -> _CurveSums:
        """A new worker's partial sums."""
        self.partial_sums.append(_CurveSums(self.n_ranks, with_bound))
        return self.partial_sums[-1]


def _curve_task(query_codes, query_labels, db_codes, db_labels) -> _CurveTask:
    """Check the codes and labels; the database defaults to the queries, leave-one-out."""
    if (db_codes is None) != (db_labels is None):
        raise ValueError("give db_codes and db_labels together, or neither (leave-one-out)")
    leave_one_out = db_codes is None
    query_codes = _codes_2d(query_codes, "query_codes")
    query_labels = _labels(query_labels, len(query_codes), "query_labels")
    if leave_one_out:
        db_codes, db_labels = query_codes, query_labels
        if len(db_codes) < 2:
            raise ValueError("leave-one-out retrieval needs at least 2 documents")
    else:
        db_codes = _codes_2d(db_codes, "db_codes")
        db_labels = _labels(db_labels, len(db_codes), "db_labels")
        if db_codes.shape[1] != query_codes.shape[1]:
            raise ValueError(
                f"query codes have {query_codes.shape[1]} units, database codes {db_codes.shape[1]}"
            )
    return _CurveTask(query_codes, query_labels, db_codes, db_labels, leave_one_out)


def _curve_method(metric: str, method: str, n_db: int) -> str:
    """The method that runs: Hamming levels are always exact; ``auto`` cosine is exact up to
    :data:`AUTO_EXACT_MAX_DB` database documents."""
    if metric == "hamming":
        if method == "binned":
            raise ValueError("Hamming distances are exact levels already; use method='auto'")
        return "exact"
    if method == "auto":
        return "exact" if n_db <= AUTO_EXACT_MAX_DB else "binned"
    return method


def _hamming_workers(task: _CurveTask) -> Callable[[], Callable[[int], None]]:
    """A maker of Hamming-level workers, the codes packed into words once for all of them."""
    leave_one_out = task.leave_one_out
    q_bits = as_binary_codes(task.query_codes, "query_codes")
    db_bits = q_bits if leave_one_out else as_binary_codes(task.db_codes, "db_codes")
    q_words = _words(np.packbits(q_bits, axis=1))
    db_words = q_words if leave_one_out else _words(np.packbits(db_bits, axis=1))
    db_words_t = np.ascontiguousarray(db_words.T)
    n_bits = task.query_codes.shape[1]

    def make() -> Callable[[int], None]:
        return _hamming_worker(
            q_words,
            task.query_labels,
            db_words_t,
            task.db_labels,
            n_bits,
            task.chunk,
            leave_one_out,
            task.sums(with_bound=False),
        )

    return make


def _exact_cosine_workers(task: _CurveTask) -> Callable[[], Callable[[int], None]]:
    """A maker of exact cosine workers over the unit-length codes."""
    q = torch.from_numpy(_unit_rows(task.query_codes, "query_codes"))
    db = q if task.leave_one_out else torch.from_numpy(_unit_rows(task.db_codes, "db_codes"))

    def make() -> Callable[[int], None]:
        return _exact_cosine_worker(
            q,
            task.query_labels,
            db,
            task.db_labels,
            task.chunk,
            task.leave_one_out,
            task.sums(with_bound=False),
        )

    return make


def _binned_cosine_workers(task: _CurveTask, n_bins: int) -> Callable[[], Callable[[int], None]]:
    """A maker of binned cosine workers. Queries and database are sorted by label (stably) so
    each label's documents are one contiguous block; with leave-one-out the queries get the
    same order, so query i is still column i."""
    q_order = np.argsort(task.query_labels, kind="stable")
    q_unit = _unit_rows(task.query_codes, "query_codes")[q_order]
    q_labels_sorted = task.query_labels[q_order]
    if task.leave_one_out:
        db_unit, db_labels_sorted = q_unit, q_labels_sorted
    else:
        db_order = np.argsort(task.db_labels, kind="stable")
        db_unit = _unit_rows(task.db_codes, "db_codes")[db_order]
        db_labels_sorted = task.db_labels[db_order]
    q_scaled = torch.from_numpy(q_unit * (-2.0 * (n_bins / 2) ** 2)).float()
    db_t = torch.from_numpy(db_unit.T.astype(np.float32)).contiguous()  # (code_dim, n_db)

    def make() -> Callable[[int], None]:
        return _binned_cosine_worker(
            q_scaled,
            q_labels_sorted,
            db_t,
            db_labels_sorted,
            n_bins,
            task.chunk,
            task.leave_one_out,
            task.sums(with_bound=True),
        )

    return make


def search(
    query_codes: np.ndarray,
    db_codes: np.ndarray,
    k: int = 10,
    metric: str = "cosine",
    exclude_self: bool = False,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best database documents for every query.

    Parameters
    ----------
    query_codes, db_codes : (n, code_dim) arrays
        Real codes for ``metric="cosine"``, 0/1 or bool codes for ``"hamming"``.
    k : int
        Documents per query (at most the database size, less one with ``exclude_self``).
    metric : {"cosine", "hamming"}
    exclude_self : bool
        The queries are the database: query ``i`` never returns document ``i``.
    chunk_size : int, optional
        Queries per step (default about ``2**21 / n_db``).

    Returns
    -------
    indices : (n_queries, k) int64
        Best first. Hamming ties are broken by the lower database index, so the result is
        deterministic; cosine ties (measure zero for real codes) come in ``torch.topk``'s order.
    scores : (n_queries, k)
        Cosine similarities (float32, descending) or Hamming distances (int64, ascending).
    """
    _check_choice(metric, METRICS, "metric")
    _check_positive_int(k, "k")
    _check_positive_int(chunk_size, "chunk_size")
    query_codes = _codes_2d(query_codes, "query_codes")
    db_codes = _codes_2d(db_codes, "db_codes")
    if db_codes.shape[1] != query_codes.shape[1]:
        raise ValueError(
            f"query codes have {query_codes.shape[1]} units, database codes {db_codes.shape[1]}"
        )
    n_q, n_db = len(query_codes), len(db_codes)
    if exclude_self and n_q != n_db:
        raise ValueError("exclude_self needs the queries to be the database (equal lengths)")
    if k > n_db - int(exclude_self):
        raise ValueError(f"k = {k} exceeds the {n_db - int(exclude_self)} documents available")
    if metric == "hamming" and hamming_kernel.suits(query_codes.shape[1], n_db, k):
        # Compiled scan with a selection that never sorts (hamming_kernel's docstring).
        q_words = hamming_kernel.query_words(pack_bits(query_codes))
        db_words_t, _ = hamming_kernel.database_words(pack_bits(db_codes))
        return compiled_hamming_search(q_words, db_words_t, n_db, k, exclude_self, chunk_size)
    chunk = chunk_size or max(1, _CHUNK_ELEMENTS // n_db)
    indices = np.empty((n_q, k), dtype=np.int64)
    scores = np.empty((n_q, k), dtype=np.float32 if metric == "cosine" else np.int64)
    topk = _cosine_topk if metric == "cosine" else _hamming_topk
    work = topk(query_codes, db_codes, k, exclude_self, chunk, indices, scores)
    n_chunks = -(-n_q // chunk)
    with _single_threaded_ops() as n_threads:
        _run_chunks(n_chunks, lambda: work, n_threads, False, "search")
    return indices, scores


def _cosine_topk(
    query_codes, db_codes, k, exclude_self, chunk, indices, scores
) -> Callable[[int], None]:
    """The worker of :func:`search` by cosine: a chunk's similarities by one product with the
    unit-length database codes, then ``torch.topk``; fills ``indices`` and ``scores``."""
    n_q = len(query_codes)
    q = torch.from_numpy(_unit_rows(query_codes, "query_codes")).float()
    db_t = torch.from_numpy(_unit_rows(db_codes, "db_codes").T.astype(np.float32))
    db_t = db_t.contiguous()

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, n_q)
        s = q[q0:q1] @ db_t  # (c, n_db)
        if exclude_self:
            s[torch.arange(q1 - q0), torch.arange(q0, q1)] = -math.inf
        top = torch.topk(s, k, dim=1)
        indices[q0:q1] = top.indices.numpy()
        scores[q0:q1] = top.values.numpy()

    return work


def _hamming_topk(
    query_codes, db_codes, k, exclude_self, chunk, indices, scores
) -> Callable[[int], None]:
    """The numpy worker of :func:`search` by Hamming distance (where the compiled kernel does
    not suit): XOR and popcount of packed words, then ``torch.topk`` of one sortable key per
    pair; fills ``indices`` and ``scores``."""
    n_q, n_db = len(query_codes), len(db_codes)
    q_words = _words(pack_bits(query_codes))
    db_words_t = np.ascontiguousarray(_words(pack_bits(db_codes)).T)
    n_bits = query_codes.shape[1]
    key_dtype = torch.int32 if (n_bits + 2) * n_db < 2**31 else torch.int64
    cols = torch.arange(n_db, dtype=key_dtype)

    def work(i: int) -> None:
        q0, q1 = i * chunk, min((i + 1) * chunk, n_q)
        # One sortable key per pair: distance first, then index (deterministic ties).
        dist = _xor_popcount(q_words[q0:q1], db_words_t)
        if dist.dtype != np.uint8:  # torch does not promote uint16/uint32 with int32
            dist = dist.astype(np.int64)
        key = torch.add(cols, torch.from_numpy(dist), alpha=n_db)  # (c, n_db)
        if exclude_self:
            key[torch.arange(q1 - q0), torch.arange(q0, q1)] = (n_bits + 1) * n_db
        top = torch.topk(key, k, dim=1, largest=False).values
        indices[q0:q1] = (top % n_db).numpy()
        scores[q0:q1] = (top // n_db).numpy()

    return work
