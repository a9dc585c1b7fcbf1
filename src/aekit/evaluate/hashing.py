"""Semantic hashing lookup: exact Hamming k-nearest neighbours without scanning the database.

References
----------
- R. Salakhutdinov and G. E. Hinton, "Semantic Hashing", International Journal of Approximate
  Reasoning 50:969-978, 2009: a document's binary code is a memory address, and similar
  documents are found by probing the addresses a few bits away from the query's.
- M. Norouzi, A. Punjani and D. J. Fleet, "Fast Search in Hamming Space with Multi-Index
  Hashing", CVPR 2012: how to do that exactly for codes longer than an address.

A code of ``n_bits`` is cut into ``m`` substrings of at most ``MAX_SUBSTRING_BITS`` bits, and
each substring indexes a direct-address table (documents grouped by substring value). If two
codes differ in ``d`` bits, one of the ``m`` substrings differs in at most ``floor(d / m)``
(pigeonhole). So probing every table at substring radius ``0..rho`` finds every document within
``m (rho + 1) - 1`` bits of the query; the search grows ``rho`` until at least ``k`` documents
lie within that guaranteed radius, and their exact distances (XOR and popcount of the packed
codes) give the top ``k``. All queries advance together, vectorised; any still unanswered when
probing would cost more than scanning fall back to the linear scan of
:func:`aekit.evaluate.retrieval.search`. Results equal that scan's: ascending distance, ties
by lower database index.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from aekit.evaluate import hamming_kernel
from aekit.evaluate.retrieval import (
    as_binary_codes,
    compiled_hamming_search,
    pack_bits,
    popcount,
    search,
)

MAX_SUBSTRING_BITS = 20
SCAN_MAX_DOCS = 50_000  # "auto" scans databases up to this size (benchmarks/hashing.py)
SEARCH_METHODS = ("auto", "scan", "probe")


def _popcount_rows(x: np.ndarray) -> np.ndarray:
    """Bits set in each row of a uint8 array, shape ``(n,)``."""
    return popcount(x).sum(-1, dtype=np.int64)


def _check_bits(codes, name: str) -> np.ndarray:
    return as_binary_codes(codes, name).astype(np.uint8)


def _masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit integer with exactly ``radius`` bits set."""
    if radius > width:
        return np.zeros(0, dtype=np.int64)
    combos = itertools.combinations(range(width), radius)
    return np.array([sum(1 << b for b in c) for c in combos], dtype=np.int64)


class HammingIndex:
    """Multi-index hash tables over binary codes for exact top-``k`` Hamming search.

    Parameters
    ----------
    codes : (n_docs, n_bits) array of 0/1 or bool
        The database.
    substring_bits : int, optional
        Bits per table; default ``clip(round(log2(n_docs)), 8, 20)``, Norouzi et al.'s choice
        (about one document per address).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> db = rng.integers(0, 2, (1000, 32))
    >>> idx, dist = HammingIndex(db).search(db[:5], k=3)
    >>> idx[:, 0].tolist(), dist[:, 0].tolist()
    ([0, 1, 2, 3, 4], [0, 0, 0, 0, 0])
    """

    def __init__(self, codes, substring_bits: int | None = None) -> None:
        codes = _check_bits(codes, "codes")
        n, n_bits = codes.shape
        if substring_bits is None:
            substring_bits = int(np.clip(round(math.log2(max(n, 2))), 8, MAX_SUBSTRING_BITS))
        if not 1 <= substring_bits <= MAX_SUBSTRING_BITS:
            raise ValueError(f"substring_bits must be in 1..{MAX_SUBSTRING_BITS}")
        self.n_docs, self.n_bits = n, n_bits
        self.n_tables = math.ceil(n_bits / substring_bits)
        # Near-equal contiguous substrings: widths differ by at most one bit.
        edges = np.linspace(0, n_bits, self.n_tables + 1).round().astype(int)
        self._spans = list(zip(edges[:-1], edges[1:]))
        self._packed = pack_bits(codes)  # (n, ceil(n_bits / 8)) for exact distances
        # The compiled scan's database layout, made on first scan.
        self._scan_words: np.ndarray | None = None
        self._tables = []
        self._keys: list[np.ndarray] = []
        for lo, hi in self._spans:
            keys = self._substring(codes, lo, hi)  # (n,)
            order = np.argsort(keys, kind="stable")  # documents grouped by address
            offsets = np.zeros((1 << (hi - lo)) + 1, dtype=np.int64)
            np.cumsum(np.bincount(keys, minlength=1 << (hi - lo)), out=offsets[1:])
            self._tables.append((order, offsets))
            self._keys.append(keys)

    @staticmethod
    def _substring(codes: np.ndarray, lo: int, hi: int) -> np.ndarray:
        weights = 1 << np.arange(hi - lo - 1, -1, -1, dtype=np.int64)
        return codes[:, lo:hi].astype(np.int64) @ weights

    def search(self, queries, k: int = 10, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest database codes of every query.

        ``method``: ``"probe"`` the multi-index tables, ``"scan"`` every code with the compiled
        kernel (the numpy scan where numba is missing or codes exceed 254 bits), or
        ``"auto"``: scan up to :data:`SCAN_MAX_DOCS` documents, probe above. All three return
        the same answer.

        Returns
        -------
        indices : (n_queries, k) int64
            Ascending Hamming distance, ties by lower database index.
        distances : (n_queries, k) int64
        """
        queries = as_binary_codes(queries, "queries")
        if queries.shape[1] != self.n_bits:
            raise ValueError(f"queries have {queries.shape[1]} bits, the index {self.n_bits}")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= self.n_docs:
            raise ValueError(f"k must be an integer in 1..{self.n_docs}, got {k!r}")
        if method not in SEARCH_METHODS:
            raise ValueError(f"method must be one of {SEARCH_METHODS}, got {method!r}")
        scan = method == "scan" or (method == "auto" and self.n_docs <= SCAN_MAX_DOCS)
        if scan:
            return self._scan(queries, k)
        out_idx, out_dist, active = self._probe(queries, k)
        if len(active):
            codes_db = np.unpackbits(self._packed, axis=1, count=self.n_bits)
            idx, dist = search(queries[active], codes_db, k=k, metric="hamming")
            out_idx[active], out_dist[active] = idx, dist
        return out_idx, out_dist

    def _probe(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probe the tables at growing substring radius until every query has ``k`` answers
        within the guaranteed radius, or probing the next radius would cost more than a scan.
        Returns the answers (indices, distances) and the queries left unanswered."""
        n_q, m = len(queries), self.n_tables
        q_packed = pack_bits(queries)
        q_keys = [self._substring(queries, lo, hi) for lo, hi in self._spans]
        out_idx = np.zeros((n_q, k), dtype=np.int64)
        out_dist = np.zeros((n_q, k), dtype=np.int64)
        active = np.arange(n_q)
        # Candidate (query, document, distance) triples found so far for the active queries;
        # each pair is kept once, at the first (radius, table) that finds it.
        cand_q, cand_d, cand_dist = (np.zeros(0, dtype=np.int64) for _ in range(3))
        cand = (cand_q, cand_d, cand_dist)
        probes = 0
        for rho in range(max(hi - lo for lo, hi in self._spans) + 1):
            found = [cand]
            for j in range(m):
                pairs, n_masks = self._new_pairs(j, rho, q_keys, q_packed, active)
                found += pairs
                probes += n_masks
            cand_q, cand_d, cand_dist = (np.concatenate(parts) for parts in zip(*found))
            cand = (cand_q, cand_d, cand_dist)
            radius = m * (rho + 1) - 1  # every document this close has been found
            active, cand = _answer(cand, radius, active, k, out_idx, out_dist)
            if len(active) == 0:
                break
            # Probing the next radius would touch more addresses than a scan touches codes.
            next_probes = sum(len(_masks(hi - lo, rho + 1)) for lo, hi in self._spans)
            if probes + next_probes > self.n_docs:
                break
        return out_idx, out_dist, active

    def _new_pairs(
        self,
        j: int,
        rho: int,
        q_keys: list[np.ndarray],
        q_packed: np.ndarray,
        active: np.ndarray,
    ) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], int]:
        """The (query, document, distance) pairs that table ``j`` meets first at substring
        radius ``rho`` for the ``active`` queries (none or one triple of arrays), and the
        number of addresses each query probed."""
        (lo, hi), (order, offsets) = self._spans[j], self._tables[j]
        masks = _masks(hi - lo, rho)
        if len(masks) == 0:
            return [], 0
        addr = q_keys[j][active][:, None] ^ masks[None, :]  # (n_active, n_masks)
        starts, lengths = offsets[addr].ravel(), (offsets[addr + 1] - offsets[addr]).ravel()
        rows = np.repeat(np.repeat(active, len(masks)), lengths)
        first = np.cumsum(lengths) - lengths
        pos = np.arange(len(rows)) - np.repeat(first - starts, lengths)
        docs = order[pos]
        # A pair is new here only if no earlier table is as close and no later one is closer:
        # the first (radius, table) at which the search meets it.
        keep = np.ones(len(rows), dtype=bool)
        for j2 in range(self.n_tables):
            if j2 == j:
                continue
            sub = popcount(q_keys[j2][rows] ^ self._keys[j2][docs])
            keep &= sub > rho if j2 < j else sub >= rho
        rows, docs = rows[keep], docs[keep]
        return [(rows, docs, _popcount_rows(q_packed[rows] ^ self._packed[docs]))], len(masks)

    def _scan(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Linear scan over the database words packed once, not per call."""
        if not hamming_kernel.suits(self.n_bits, self.n_docs, k):
            codes_db = np.unpackbits(self._packed, axis=1, count=self.n_bits)
            return search(queries, codes_db, k=k, metric="hamming")
        if self._scan_words is None:
            self._scan_words = hamming_kernel.database_words(self._packed)[0]
        q_words = hamming_kernel.query_words(np.packbits(queries, axis=1))  # checked by search
        return compiled_hamming_search(q_words, self._scan_words, self.n_docs, k)


def _answer(
    cand: tuple[np.ndarray, np.ndarray, np.ndarray],
    radius: int,
    active: np.ndarray,
    k: int,
    out_idx: np.ndarray,
    out_dist: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Answer the active queries with at least ``k`` candidates within ``radius`` (every
    document that close has been found): their top ``k`` go into ``out_idx`` / ``out_dist``.
    Returns the queries still active and their candidates."""
    cand_q, cand_d, cand_dist = cand
    within = cand_dist <= radius
    n_within = np.bincount(cand_q[within], minlength=len(out_idx))
    done = active[n_within[active] >= k]
    if len(done) == 0:
        return active, cand
    sel = within & np.isin(cand_q, done)
    q, d, dd = cand_q[sel], cand_d[sel], cand_dist[sel]
    by = np.lexsort((d, dd, q))  # by query, then distance, then index
    q, d, dd = q[by], d[by], dd[by]
    take = np.searchsorted(q, done)[:, None] + np.arange(k)[None, :]  # (n_done, k)
    out_idx[done], out_dist[done] = d[take], dd[take]
    active = np.setdiff1d(active, done, assume_unique=True)
    still = np.isin(cand_q, active)
    return active, (cand_q[still], cand_d[still], cand_dist[still])
