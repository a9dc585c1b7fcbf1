"""Compiled kernels of the deterministic IB (Strouse & Schwab 2017, Algorithm 2, plus an exact
local search): imported on first use, so ``import aekit.ib`` does not pay for numba.

A hard clustering of X is its label vector; the DIB cost ``H(T) - beta I(T;Y)`` is, up to the
constant ``beta H(Y)``, a sum over clusters of

    c(t) = (1 - beta) entr(q(t)) + beta sum_y entr(q(t, y)),      entr(p) = -p ln p,

since ``I(T;Y) = H(Y) + H(T) - H(T, Y)``. Moving one x or merging two clusters changes only
the terms of the clusters involved, so each candidate change is priced exactly from the
cluster totals ``q(t)`` and ``q(t, y)`` alone, in ``O(n_y)`` (``O(|supp p(y|x)|)`` for a move).

:func:`solve` runs Algorithm 2's argmax steps while they lower the cost (each reassigns every x
at once against clusters that still count x itself, so a step may also raise it; then the
previous labels are kept), then an exact local search: greedy cluster merges while one lowers
the cost, then passes over x moving each to the cluster (or a new singleton cluster) that
lowers the cost most, until neither changes anything. Every accepted change lowers the cost,
so the search ends at a point no single move or merge improves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# A change must lower the cost by more than this times max(1, beta) (nats) to be made: rounding
# in the cluster totals is far smaller, and a cycle of changes that each "gain" 0 cannot happen.
GAIN = 1e-12


@njit(cache=True, inline="always")
def _entr(p):
    return -p * np.log(p) if p > 0.0 else 0.0


@njit(cache=True)
def _totals(pxy, px, labels, n_t):
    """q(t), q(t, y) and the member count of each cluster, from scratch."""
    n_x, n_y = pxy.shape
    qt = np.zeros(n_t)
    qty = np.zeros((n_t, n_y))
    count = np.zeros(n_t, dtype=np.int64)
    for x in range(n_x):
        t = labels[x]
        qt[t] += px[x]
        count[t] += 1
        for y in range(n_y):
            qty[t, y] += pxy[x, y]
    return qt, qty, count


@njit(cache=True)
def _cluster_cost(qt, qty, t, beta):
    h = 0.0
    for y in range(qty.shape[1]):
        h += _entr(qty[t, y])
    return (1.0 - beta) * _entr(qt[t]) + beta * h


@njit(cache=True)
def _total_cost(qt, qty, count, beta):
    total = 0.0
    for t in range(len(qt)):
        if count[t] > 0:
            total += _cluster_cost(qt, qty, t, beta)
    return total


@njit(cache=True)
def _compact(labels, n_x):
    """Renumber labels to 0..k-1 in order of first use; returns k."""
    new = np.full(n_x, -1, dtype=np.int64)
    k = 0
    for x in range(n_x):
        old = labels[x]
        if new[old] < 0:
            new[old] = k
            k += 1
    for x in range(n_x):
        labels[x] = new[labels[x]]
    return k


@njit(cache=True)
def _argmax_step(pxy, px, sup_ptr, sup_idx, labels, qt, qty, count, beta, out):
    """Algorithm 2's reassignment: each x to argmax_t log q(t) - beta KL[p(y|x) || q(y|t)].

    Up to a constant per x the score is ``log q(t) + beta sum_y p(y|x) log q(y|t)``; a zero of
    q(y|t) where p(y|x) > 0 makes it -inf (the cluster cannot explain x).
    """
    n_x, n_y = pxy.shape
    n_t = len(qt)
    log_qy_t = np.empty((n_t, n_y))
    log_qt = np.empty(n_t)
    for t in range(n_t):
        if count[t] == 0:
            log_qt[t] = -np.inf
            continue
        log_qt[t] = np.log(qt[t])
        for y in range(n_y):
            q = qty[t, y] / qt[t]
            log_qy_t[t, y] = np.log(q) if q > 0.0 else -np.inf
    for x in range(n_x):
        best, arg = -np.inf, labels[x]
        for t in range(n_t):
            if count[t] == 0:
                continue
            score = log_qt[t]
            if beta > 0.0:
                for k in range(sup_ptr[x], sup_ptr[x + 1]):
                    y = sup_idx[k]
                    score += beta * (pxy[x, y] / px[x]) * log_qy_t[t, y]
            if score > best:
                best, arg = score, t
        out[x] = arg


@njit(cache=True)
def _merge_delta(qt, qty, i, j, beta, cost_i, cost_j):
    h = 0.0
    for y in range(qty.shape[1]):
        h += _entr(qty[i, y] + qty[j, y])
    return (1.0 - beta) * _entr(qt[i] + qt[j]) + beta * h - cost_i - cost_j


@njit(cache=True)
def _merges(qt, qty, count, cost, labels, beta):
    """Rounds of merges while any lowers the cost. Returns how many were made.

    Each round prices every pair of clusters (pairs of two clusters the last round left alone
    keep their price), then merges disjoint pairs, the best first: merges of disjoint pairs
    change the cost by the sum of their own changes. (Merging one pair at a time, the best
    first, would reprice a row per merge, which costs the cube of the number of clusters when
    most of them fold into one.)
    """
    n_y = qty.shape[1]
    active = np.flatnonzero(count > 0)
    k = len(active)
    delta = np.full((k, k), np.inf)
    fresh = np.ones(k, dtype=np.bool_)  # clusters whose pair prices are out of date
    alive = np.ones(k, dtype=np.bool_)
    merged = 0
    while True:
        for u in range(k):
            if not alive[u]:
                continue
            i = active[u]
            for v in range(u + 1, k):
                if not alive[v] or not (fresh[u] or fresh[v]):
                    continue
                j = active[v]
                d = _merge_delta(qt, qty, i, j, beta, cost[i], cost[j])
                delta[u, v] = d
                delta[v, u] = d
        fresh[:] = False
        us, vs, ds = [], [], []
        for u in range(k):
            if alive[u]:
                for v in range(u + 1, k):
                    if alive[v] and delta[u, v] < -GAIN * max(1.0, beta):
                        us.append(u)
                        vs.append(v)
                        ds.append(delta[u, v])
        if len(ds) == 0:
            break
        order = np.argsort(np.array(ds))
        taken = np.zeros(k, dtype=np.bool_)
        for r in order:
            u, v = us[r], vs[r]
            if taken[u] or taken[v]:
                continue
            taken[u] = taken[v] = True
            i, j = active[u], active[v]
            qt[i] += qt[j]
            count[i] += count[j]
            for y in range(n_y):
                qty[i, y] += qty[j, y]
                qty[j, y] = 0.0
            qt[j] = 0.0
            count[j] = 0
            cost[i] = _cluster_cost(qt, qty, i, beta)
            cost[j] = 0.0
            for x in range(len(labels)):
                if labels[x] == j:
                    labels[x] = i
            alive[v] = False
            fresh[u] = True
            merged += 1
    return merged


@njit(cache=True)
def _moves(pxy, px, sup_ptr, sup_idx, qt, qty, count, cost, labels, beta, max_clusters):
    """One pass over x, moving each to its best cluster when that lowers the cost."""
    n_x = len(px)
    n_t = len(qt)
    moved = 0
    for x in range(n_x):
        a = labels[x]
        p = px[x]
        # The cost of cluster a without x (zero when x is its only member).
        if count[a] == 1:
            out = -cost[a]
        else:
            h = 0.0
            for k in range(sup_ptr[x], sup_ptr[x + 1]):
                y = sup_idx[k]
                h += _entr(max(qty[a, y] - pxy[x, y], 0.0)) - _entr(qty[a, y])
            out = (1.0 - beta) * (_entr(max(qt[a] - p, 0.0)) - _entr(qt[a])) + beta * h
        best, arg = np.inf, -1
        n_used = 0
        empty = -1
        for t in range(n_t):
            if count[t] == 0:
                if empty < 0:
                    empty = t
                continue
            n_used += 1
            if t == a:
                continue
            h = 0.0
            for k in range(sup_ptr[x], sup_ptr[x + 1]):
                y = sup_idx[k]
                h += _entr(qty[t, y] + pxy[x, y]) - _entr(qty[t, y])
            d = (1.0 - beta) * (_entr(qt[t] + p) - _entr(qt[t])) + beta * h
            if d < best:
                best, arg = d, t
        if count[a] > 1 and empty >= 0 and n_used < max_clusters:
            h = 0.0
            for k in range(sup_ptr[x], sup_ptr[x + 1]):
                h += _entr(pxy[x, sup_idx[k]])
            d = (1.0 - beta) * _entr(p) + beta * h
            if d < best:
                best, arg = d, empty
        if arg < 0 or not out + best < -GAIN * max(1.0, beta):
            continue
        # Move x from a to arg.
        qt[a] = max(qt[a] - p, 0.0)
        qt[arg] += p
        for k in range(sup_ptr[x], sup_ptr[x + 1]):
            y = sup_idx[k]
            qty[a, y] = max(qty[a, y] - pxy[x, y], 0.0)
            qty[arg, y] += pxy[x, y]
        count[a] -= 1
        count[arg] += 1
        if count[a] == 0:
            qt[a] = 0.0
            for y in range(qty.shape[1]):
                qty[a, y] = 0.0
        labels[x] = arg
        cost[a] = _cluster_cost(qt, qty, a, beta) if count[a] > 0 else 0.0
        cost[arg] = _cluster_cost(qt, qty, arg, beta)
        moved += 1
    return moved


@njit(cache=True)
def solve(pxy, px, sup_ptr, sup_idx, labels, max_clusters, beta, max_iter):
    """DIB from starting labels: argmax steps while they help, then exact merges and moves.

    Parameters are the problem's p(x, y) (n_x, n_y) and p(x) restricted to p(x) > 0, the
    support of each row of p(x, y) in CSR form (``sup_idx[sup_ptr[x]:sup_ptr[x + 1]]``), the
    starting labels (int64, values < n_x, modified in place), the most clusters allowed, beta
    and the most rounds (argmax steps plus local-search rounds). Returns the labels renumbered
    to 0..k-1, the rounds taken and whether the search ended before ``max_iter``.
    """
    n_x = len(px)
    n_t = _compact(labels, n_x)
    qt, qty, count = _totals(pxy, px, labels, n_t)
    current = _total_cost(qt, qty, count, beta)
    proposal = np.empty(n_x, dtype=np.int64)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        _argmax_step(pxy, px, sup_ptr, sup_idx, labels, qt, qty, count, beta, proposal)
        if np.array_equal(proposal, labels):
            break
        qt2, qty2, count2 = _totals(pxy, px, proposal, n_t)
        cost2 = _total_cost(qt2, qty2, count2, beta)
        if not cost2 < current - GAIN * max(1.0, beta):
            break
        labels[:] = proposal
        qt, qty, count, current = qt2, qty2, count2, cost2
    # The local search may open new singleton clusters: room for up to n_x of them.
    n_t = _compact(labels, n_x)
    qt, qty, count = _totals(pxy, px, labels, n_x)
    cost = np.zeros(n_x)
    for t in range(n_t):
        cost[t] = _cluster_cost(qt, qty, t, beta)
    converged = False
    while n_iter < max_iter:
        n_iter += 1
        changed = _merges(qt, qty, count, cost, labels, beta)
        changed += _moves(
            pxy, px, sup_ptr, sup_idx, qt, qty, count, cost, labels, beta, max_clusters
        )
        # Fresh totals: many small updates add rounding to the running sums.
        qt, qty, count = _totals(pxy, px, labels, n_x)
        for t in range(n_x):
            cost[t] = _cluster_cost(qt, qty, t, beta) if count[t] > 0 else 0.0
        if changed == 0:
            converged = True
            break
    _compact(labels, n_x)
    return labels, n_iter, converged
