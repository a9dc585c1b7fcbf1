"""Compiled top-``k`` Hamming search: the fast path of ``search(metric="hamming")``.

Semantic hashing (Salakhutdinov & Hinton, "Semantic hashing", IJAR 2009) answers a query by the
documents whose binary codes lie closest in Hamming distance. A scan over a database of ``n``
codes costs one XOR and one popcount per word and document, which a vectorising compiler does
16 documents at a time (AVX-512 ``vpopcntd`` where the CPU has it). What decides the speed is
the *selection* of the ``k`` best among ``n`` distances: ``torch.topk`` or ``np.partition`` cost
about 1 ns per document, ten times the distance itself. This module selects without sorting:

1. The database is laid out as ``B`` rows of ``nb = ceil(n / B)`` documents; *block* ``b`` is
   the strided set ``{b, b + nb, b + 2 nb, ...}``. Distances are computed row by row, a few
   queries at a time so each row of database words is read from cache once per query group,
   and the block minima fall out as an element-wise minimum of the rows (vectorised; a
   horizontal minimum over contiguous blocks is not).
2. The ``k``-th smallest block minimum ``r`` bounds the ``k``-th smallest distance from above:
   ``k`` different blocks hold a document at distance ``<= r``. A histogram of the ``nb``
   block minima finds ``r``.
3. Only blocks whose minimum is ``<= r`` can hold an answer. Each is turned into a bit mask of
   its documents at distance ``<= r`` and the set bits are inserted into a sorted list of ``k``
   (distance, index) keys, so ties go to the lower database index exactly as in the numpy path.

The result is exact (the tests compare it with brute force). Compiled by numba on first use and
cached on disk; :func:`available` is false where numba is missing, and callers fall back to
the numpy scan.
"""

from __future__ import annotations

import numpy as np

# B, documents per block: the fastest of 8, 16 and 32 (timings in docs/measurements.md)
BLOCK_ROWS = 16
QUERY_GROUP = 8  # queries sharing one pass over a row of database words
GROUP_BYTES = 2**26  # fewer queries per group when 8 rows of distances would exceed this
MAX_BITS = 254  # distances live in uint8; 255 marks padding and the excluded self-match
# Above this k the insertion into the kept list (O(k) per candidate) loses to torch.topk
# (timings in docs/measurements.md).
MAX_K = 256


def available() -> bool:
    """Whether the compiled kernel can run (numba imports)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def suits(n_bits: int, n_db: int, k: int) -> bool:
    """Whether the kernel should answer: numba imports, distances fit in uint8, ``k`` is at
    most :data:`MAX_K`, and there are at least ``k`` blocks, so the block minima bound the k-th
    distance (with fewer, every document is a candidate and the numpy scan is faster)."""
    return n_bits <= MAX_BITS and k <= MAX_K and k * BLOCK_ROWS <= n_db and available()


def database_words(packed: np.ndarray) -> tuple[np.ndarray, int]:
    """``pack_bits`` output as the kernel's database: ``(n_words, B * nb)`` uint32, word-major.

    Rows past ``n`` are zero padding; the kernel gives them distance 255. Returns the words and
    ``n``.
    """
    n = len(packed)
    n_pad = -(-n // BLOCK_ROWS) * BLOCK_ROWS
    return np.ascontiguousarray(_uint32_words(packed, n_pad).T), n


def query_words(packed: np.ndarray) -> np.ndarray:
    """``pack_bits`` output as ``(n, n_words)`` uint32 query words."""
    return _uint32_words(packed, len(packed))


def _uint32_words(packed: np.ndarray, n_rows: int) -> np.ndarray:
    n, n_bytes = packed.shape
    width = -(-n_bytes // 4) * 4
    out = np.zeros((n_rows, width), dtype=np.uint8)
    out[:n, :n_bytes] = packed
    return out.view(np.uint32)


def topk(
    q_words: np.ndarray,
    db_words_t: np.ndarray,
    n_db: int,
    k: int,
    exclude_offset: int,
    out_indices: np.ndarray,
    out_distances: np.ndarray,
) -> None:
    """Fill ``out_indices`` / ``out_distances`` ``(len(q_words), k)`` with each query's ``k``
    nearest database codes, nearest first, ties by lower index.

    ``exclude_offset >= 0`` says query ``i`` is database document ``exclude_offset + i`` and
    must not be returned (leave-one-out); ``-1`` excludes nothing. The caller checks that
    ``k`` documents remain and that the codes have at most :data:`MAX_BITS` bits; any ``k`` is
    exact, :func:`suits` says when it is also fast. Releases the GIL, so threads can share
    the queries.
    """
    from aekit.evaluate._hamming_jit import topk as compiled

    compiled(q_words, db_words_t, n_db, k, exclude_offset, out_indices, out_distances)
