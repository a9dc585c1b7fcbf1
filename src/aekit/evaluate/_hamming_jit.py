"""The numba-compiled kernel of :mod:`aekit.evaluate.hamming_kernel` (see its docstring).

Imported only on first use, so ``import aekit`` does not pay for importing numba.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from aekit.evaluate.hamming_kernel import BLOCK_ROWS, GROUP_BYTES, QUERY_GROUP


def _kernel_intrinsic(typing_fn: Callable[..., Any]) -> Callable[..., Any]:
    """numba's ``intrinsic``, typed as a kernel calls it: with the arguments after the typing
    context (numba's stubs give it the typing function's signature, context included)."""
    return intrinsic(typing_fn)


@_kernel_intrinsic
def _popcount(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])

    return x(x), codegen


@_kernel_intrinsic
def _trailing_zeros(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], context.get_constant(types.boolean, False))

    return x(x), codegen


@njit(nogil=True, cache=True, boundscheck=False)
def topk(q, db_t, n_db, k, exclude_offset, out_idx, out_dist):
    """The three steps of :mod:`aekit.evaluate.hamming_kernel` for every query (arguments as
    in ``hamming_kernel.topk``).

    One function on purpose, although it is long: it is a numeric kernel. The steps share
    their buffers (distances, block minima, histogram, kept keys), allocated once per call
    and reused for every query group; the word-count cases are spelled out so that each inner
    loop over documents stays a simple loop the compiler vectorises; and helpers called from
    the innermost loops would each have to be inlined by numba to cost nothing, which it does
    not promise. Its tests compare it with brute force.
    """
    n_q, n_w = q.shape
    n_pad = db_t.shape[1]
    nb = n_pad // BLOCK_ROWS
    group = max(1, min(QUERY_GROUP, GROUP_BYTES // n_pad))  # bounded buffer for huge n
    d = np.empty((group, n_pad), np.uint8)
    bmin = np.empty((group, nb), np.uint8)
    hist = np.zeros(256, np.int64)
    keys = np.empty(k, np.int64)
    blocks = np.empty(nb, np.int64)
    for i0 in range(0, n_q, group):
        i1 = min(i0 + group, n_q)
        for t in range(BLOCK_ROWS):
            lo = t * nb
            hi = lo + nb
            for i in range(i0, i1):
                di = d[i - i0]
                # Specialised word counts keep the loop over documents vectorised.
                if n_w == 1:
                    q0 = q[i, 0]
                    r0 = db_t[0]
                    for j in range(lo, hi):
                        di[j] = np.uint8(_popcount(q0 ^ r0[j]))
                elif n_w == 4:
                    q0, q1, q2, q3 = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
                    r0, r1, r2, r3 = db_t[0], db_t[1], db_t[2], db_t[3]
                    for j in range(lo, hi):
                        di[j] = np.uint8(
                            _popcount(q0 ^ r0[j])
                            + _popcount(q1 ^ r1[j])
                            + _popcount(q2 ^ r2[j])
                            + _popcount(q3 ^ r3[j])
                        )
                else:
                    q0 = q[i, 0]
                    r0 = db_t[0]
                    for j in range(lo, hi):
                        di[j] = np.uint8(_popcount(q0 ^ r0[j]))
                    for w in range(1, n_w):
                        qw = q[i, w]
                        rw = db_t[w]
                        for j in range(lo, hi):
                            di[j] += np.uint8(_popcount(qw ^ rw[j]))
                # Padding and the excluded self-match must not lower a block minimum.
                for j in range(max(lo, n_db), hi):
                    di[j] = 255
                if exclude_offset >= 0:
                    j = exclude_offset + i
                    if lo <= j < hi:
                        di[j] = 255
                bi = bmin[i - i0]
                if t == 0:
                    for b in range(nb):
                        bi[b] = di[b]
                else:
                    for b in range(nb):
                        x = di[lo + b]
                        if x < bi[b]:
                            bi[b] = x
        for i in range(i0, i1):
            di = d[i - i0]
            bi = bmin[i - i0]
            # r: the k-th smallest block minimum, an upper bound on the k-th distance.
            r = 255
            if nb >= k:
                hist[:] = 0
                for b in range(nb):
                    hist[bi[b]] += 1
                c = 0
                for v in range(256):
                    c += hist[v]
                    if c >= k:
                        r = v
                        break
            n_blocks = 0
            for b in range(nb):  # branch-free compaction of the candidate blocks
                blocks[n_blocks] = b
                n_blocks += bi[b] <= r
            n_kept = 0
            for ib in range(n_blocks):
                b = blocks[ib]
                mask = np.uint32(0)
                for t in range(BLOCK_ROWS):
                    mask |= np.uint32(di[b + t * nb] <= r) << np.uint32(t)
                while mask:
                    t = _trailing_zeros(mask)
                    mask &= mask - np.uint32(1)
                    j = b + t * nb
                    if j >= n_db or di[j] == 255:
                        continue
                    key = np.int64(di[j]) * n_db + j
                    if n_kept < k or key < keys[k - 1]:
                        p = min(n_kept, k - 1)
                        while p > 0 and keys[p - 1] > key:
                            keys[p] = keys[p - 1]
                            p -= 1
                        keys[p] = key
                        n_kept += 1
            for p in range(k):
                out_idx[i, p] = keys[p] % n_db
                out_dist[i, p] = keys[p] // n_db
