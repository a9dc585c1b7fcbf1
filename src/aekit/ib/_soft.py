"""Compiled iteration of the generalized IB for ``alpha > 0`` (Strouse & Schwab 2017,
Algorithm 1; Tishby et al. 1999 at ``alpha = 1``): imported on first use, so
``import aekit.ib`` does not pay for numba.

The same steps as :func:`aekit.ib.bottleneck._step`, in one compiled loop: for small joints a
step is a few microseconds of arithmetic, and NumPy's per-call overhead (about twenty calls a
step) cost more than the arithmetic itself. The two matrix products still go to BLAS.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _drop_empty(encoder, qt, empty):
    keep = np.flatnonzero(qt > empty)
    if len(keep) == len(qt):
        return encoder
    out = np.empty((encoder.shape[0], len(keep)))
    for x in range(encoder.shape[0]):
        total = 0.0
        for k in range(len(keep)):
            out[x, k] = encoder[x, keep[k]]
            total += out[x, k]
        for k in range(len(keep)):
            out[x, k] /= total
    return out


@njit(cache=True)
def _merge_rounded(encoder, qt, qty, hash_weights, merge_tol):
    """Sum the columns of clusters whose q(y|t) round to one grid point of spacing merge_tol.

    Rows of grid indices are hashed by a fixed random integer vector (a collision has odds of
    about 2^-40), and equal hashes are one cluster.
    """
    n_t, n_y = qty.shape
    keys = np.empty(n_t, dtype=np.int64)
    for t in range(n_t):
        key = 0
        for y in range(n_y):
            key += np.int64(np.round(qty[t, y] / (qt[t] * merge_tol))) * hash_weights[y]
        keys[t] = key
    order = np.argsort(keys, kind="mergesort")
    group = np.empty(n_t, dtype=np.int64)
    n_groups = 0
    for r in range(n_t):
        if r > 0 and keys[order[r]] == keys[order[r - 1]]:
            group[order[r]] = n_groups - 1
        else:
            group[order[r]] = n_groups
            n_groups += 1
    if n_groups == n_t:
        return encoder
    out = np.zeros((encoder.shape[0], n_groups))
    for x in range(encoder.shape[0]):
        for t in range(n_t):
            out[x, group[t]] += encoder[x, t]
    return out


@njit(cache=True)
def _decoder(encoder, pxy):
    qty = np.dot(encoder.T, pxy)  # (n_t, n_y)
    qt = qty.sum(axis=1)
    return qt, qty


@njit(cache=True)
def _encoder(py_x_and_1, support, qt, qty, beta, scale, inf_kl):
    """Softmax over t of ``scale * (log q(t) - beta KL[p(y|x) || q(y|t)])``: the new q(t|x)
    (n_x, n_t) and log Z(x) (n_x,), as in bottleneck._logits and _soft_encoder."""
    n_t, n_y = qty.shape
    factors = np.empty((n_t, n_y + 1))
    zero = np.zeros((n_t, n_y))
    any_zero = False
    for t in range(n_t):
        for y in range(n_y):
            q = qty[t, y] / qt[t]
            if q > 0.0:
                factors[t, y] = beta * scale * np.log(q)
            else:
                factors[t, y] = 0.0
                zero[t, y] = 1.0
                any_zero = True
        factors[t, n_y] = scale * np.log(qt[t])
    logits = np.dot(py_x_and_1, factors.T)  # (n_x, n_t)
    if beta > 0 and any_zero:
        logits -= (beta * scale * inf_kl) * np.dot(support, zero.T)
    n_x = logits.shape[0]
    log_z = np.empty(n_x)
    bits = np.empty(n_t, dtype=np.int64)
    for x in range(n_x):
        row = logits[x]
        top = -np.inf
        for t in range(n_t):
            if row[t] > top:
                top = row[t]
        for t in range(n_t):
            row[t] -= top
        _exp_nonpositive(row, bits)
        total = 0.0
        for t in range(n_t):
            total += row[t]
        for t in range(n_t):
            row[t] /= total
        log_z[x] = np.log(total) + top
    return logits, log_z


# exp(z) for z <= 0 as 2^k exp(r), k = round(z / ln 2), |r| <= ln(2) / 2, with exp(r) by its
# Taylor polynomial of degree 12 (relative error below 1e-14). Written so LLVM vectorises it:
# numba's own exp is a scalar call per element (no SVML here), which made the softmax half of a
# step's time; this is about 3x faster. Below -708 (exp underflows) the result is exactly 0.
LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10


@njit(cache=True, error_model="numpy")
def _exp_nonpositive(z, bits):
    """``z[:] = exp(z)`` in place for ``z <= 0`` (n,); ``bits`` is int64 scratch of size >= n."""
    n = len(z)
    for i in range(n):
        v = z[i] if z[i] > -708.0 else -708.0
        k = np.floor(v * LOG2E + 0.5)
        r = v - k * LN2_HI - k * LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        # The float 2^k from its bits; the bits of 0.0 where exp underflows.
        bits[i] = (np.int64(k) + 1023) << 52 if z[i] >= -708.0 else 0
        z[i] = p
    scale = bits[:n].view(np.float64)
    for i in range(n):
        z[i] *= scale[i]


@njit(cache=True)
def solve(
    pxy,
    px,
    py_x_and_1,
    support,
    hash_weights,
    encoder,
    beta,
    alpha,
    tol,
    max_iter,
    merge_every,
    merge_tol,
    empty,
    inf_kl,
):
    """Algorithm 1 until the free energy ``-alpha sum_x p(x) log Z(x)`` (bits) changes by at
    most ``tol`` in a step; empty clusters dropped at once, duplicates merged every
    ``merge_every`` steps. Returns the encoder, the steps taken and whether it converged."""
    ln2 = np.log(2.0)
    previous = np.inf
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        qt, qty = _decoder(encoder, pxy)
        if np.any(qt <= empty) or it % merge_every == 0:
            encoder = _drop_empty(encoder, qt, empty)
            qt, qty = _decoder(encoder, pxy)
            encoder = _merge_rounded(encoder, qt, qty, hash_weights, merge_tol)
            qt, qty = _decoder(encoder, pxy)
            encoder = _drop_empty(encoder, qt, empty)
            qt, qty = _decoder(encoder, pxy)
        encoder, log_z = _encoder(py_x_and_1, support, qt, qty, beta, 1.0 / alpha, inf_kl)
        free_energy = -alpha * np.dot(px, log_z) / ln2
        if abs(previous - free_energy) <= tol:
            converged = True
            break
        previous = free_energy
    qt, qty = _decoder(encoder, pxy)
    return _drop_empty(encoder, qt, empty), it, converged


@njit(cache=True)
def _entr(p):
    return -p * np.log(p) if p > 0.0 else 0.0


@njit(cache=True)
def merge_within(encoder, qt, qty, beta, budget):
    """Merge the pairs of clusters that lose the least I(T;Y), within ``budget`` bits of cost.

    Merging clusters i and j raises H(Y|T) by ``[entr(q_i) + entr(q_j) - entr(q_i + q_j)] -
    [h_i + h_j - h_ij]`` nats, with ``h`` the entropy terms ``sum_y entr(q(t, y))`` of the
    rows of q(t, y) (``entr(p) = -p ln p``); for alpha in [0, 1] a merge never raises
    H(T) - alpha H(T|X), so it raises the cost by at most beta times that. Rounds merge
    disjoint pairs, the cheapest first, while the total stays within the budget; pairs of
    clusters a round left alone keep their price.
    """
    n_x = encoder.shape[0]
    n_t, n_y = qty.shape
    qt = qt.copy()
    qty = qty.copy()
    group = np.arange(n_t)  # the cluster each original column now belongs to
    h_row = np.empty(n_t)
    for t in range(n_t):
        h = 0.0
        for y in range(n_y):
            h += _entr(qty[t, y])
        h_row[t] = h
    loss = np.full((n_t, n_t), np.inf)
    fresh = np.ones(n_t, dtype=np.bool_)
    alive = np.ones(n_t, dtype=np.bool_)
    scale = beta / np.log(2.0)
    spent = 0.0
    while True:
        for i in range(n_t):
            if not alive[i]:
                continue
            for j in range(i + 1, n_t):
                if not alive[j] or not (fresh[i] or fresh[j]):
                    continue
                joint = 0.0
                for y in range(n_y):
                    joint += _entr(qty[i, y] + qty[j, y])
                rise = (_entr(qt[i]) + _entr(qt[j]) - _entr(qt[i] + qt[j])) - (
                    h_row[i] + h_row[j] - joint
                )
                loss[i, j] = max(rise, 0.0) * scale
        fresh[:] = False
        n_pairs = 0
        for i in range(n_t):
            if alive[i]:
                for j in range(i + 1, n_t):
                    if alive[j] and spent + loss[i, j] <= budget:
                        n_pairs += 1
        if n_pairs == 0:
            break
        pi = np.empty(n_pairs, dtype=np.int64)
        pj = np.empty(n_pairs, dtype=np.int64)
        pl = np.empty(n_pairs)
        k = 0
        for i in range(n_t):
            if alive[i]:
                for j in range(i + 1, n_t):
                    if alive[j] and spent + loss[i, j] <= budget:
                        pi[k], pj[k], pl[k] = i, j, loss[i, j]
                        k += 1
        taken = np.zeros(n_t, dtype=np.bool_)
        merged = 0
        for r in np.argsort(pl, kind="mergesort"):
            i, j = pi[r], pj[r]
            if spent + pl[r] > budget:
                break
            if taken[i] or taken[j]:
                continue
            taken[i] = taken[j] = True
            spent += pl[r]
            qt[i] += qt[j]
            h = 0.0
            for y in range(n_y):
                qty[i, y] += qty[j, y]
                h += _entr(qty[i, y])
            h_row[i] = h
            alive[j] = False
            fresh[i] = True
            for t in range(n_t):
                if group[t] == j:
                    group[t] = i
            merged += 1
        if merged == 0:
            break
    kept = np.flatnonzero(alive)
    column = np.empty(n_t, dtype=np.int64)
    for k in range(len(kept)):
        column[kept[k]] = k
    out = np.zeros((n_x, len(kept)))
    for x in range(n_x):
        for t in range(n_t):
            out[x, column[group[t]]] += encoder[x, t]
    return out
