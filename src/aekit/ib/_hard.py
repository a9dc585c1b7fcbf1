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
    """The change of cost if clusters i and j merged, or +inf where a cheap bound says > 0.

    The change is ``(q_i + q_j) [beta JS_pi(p_i, p_j) - h(pi)]`` (nats) for the Jensen-Shannon
    divergence of the two clusters' q(y|t) with weights ``pi = q_i / (q_i + q_j)`` and the
    binary entropy h. Pinsker's inequality on both halves of JS gives ``JS_pi >= pi (1 - pi)
    ||p_i - p_j||_1^2 / 2``, which costs no logarithm: pairs it rules out are not priced.
    """
    n_y = qty.shape[1]
    total = qt[i] + qt[j]
    w = qt[i] / total
    h = _entr(w) + _entr(1.0 - w)
    l1 = 0.0
    for y in range(n_y):
        l1 += abs(qty[i, y] / qt[i] - qty[j, y] / qt[j])
    if beta * 0.5 * w * (1.0 - w) * l1 * l1 > h * (1.0 + 1e-9) + 1e-15:
        return np.inf
    joint = 0.0
    for y in range(n_y):
        joint += _entr(qty[i, y] + qty[j, y])
    return (1.0 - beta) * _entr(total) + beta * joint - cost_i - cost_j


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
def _refresh(qty, t, log_q, inv_q, entr_q):
    """The per-entry tables of cluster t that price moves: ln q(t, y), 1 / q(t, y), entr."""
    for y in range(qty.shape[1]):
        q = qty[t, y]
        if q > 0.0:
            log_q[t, y] = np.log(q)
            inv_q[t, y] = 1.0 / q
            entr_q[t, y] = -q * log_q[t, y]
        else:
            log_q[t, y] = 0.0
            inv_q[t, y] = 0.0
            entr_q[t, y] = 0.0


@njit(cache=True)
def _moves(pxy, px, sup_ptr, sup_idx, qt, qty, count, cost, labels, beta, max_clusters):
    """One pass over x, moving each to its best cluster when that lowers the cost. Returns how
    many moved.

    Putting x into cluster t changes ``beta sum_y entr(q(t, y))`` by ``beta sum_y [entr(q +
    p) - entr(q)]`` over the y with ``p = p(x, y) > 0``; by concavity each term is at least
    ``p (-ln(q + p) - 1) >= p (-ln q - p / q - 1)`` (exactly ``entr(p)`` where q = 0), a bound
    from cached tables without a logarithm. Clusters whose bound cannot beat the best move so
    far are not priced exactly.
    """
    n_x = len(px)
    n_t = len(qt)
    n_y = qty.shape[1]
    log_q = np.empty((n_t, n_y))
    inv_q = np.empty((n_t, n_y))
    entr_q = np.empty((n_t, n_y))
    for t in range(n_t):
        if count[t] > 0:
            _refresh(qty, t, log_q, inv_q, entr_q)
    moved = 0
    for x in range(n_x):
        a = labels[x]
        p = px[x]
        lo, hi = sup_ptr[x], sup_ptr[x + 1]
        # The cost of cluster a without x (zero when x is its only member).
        if count[a] == 1:
            out = -cost[a]
        else:
            h = 0.0
            for k in range(lo, hi):
                y = sup_idx[k]
                h += _entr(max(qty[a, y] - pxy[x, y], 0.0)) - entr_q[a, y]
            out = (1.0 - beta) * (_entr(max(qt[a] - p, 0.0)) - _entr(qt[a])) + beta * h
        # Only changes that lower the cost by more than the threshold count.
        best, arg = -GAIN * max(1.0, beta) - out, -1
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
            d = (1.0 - beta) * (_entr(qt[t] + p) - _entr(qt[t]))
            bound = 0.0
            for k in range(lo, hi):
                y = sup_idx[k]
                v = pxy[x, y]
                if qty[t, y] > 0.0:
                    bound += v * (-log_q[t, y] - v * inv_q[t, y] - 1.0)
                else:
                    bound += _entr(v)
            if d + beta * bound >= best:
                continue
            h = 0.0
            for k in range(lo, hi):
                y = sup_idx[k]
                h += _entr(qty[t, y] + pxy[x, y]) - entr_q[t, y]
            d += beta * h
            if d < best:
                best, arg = d, t
        if count[a] > 1 and empty >= 0 and n_used < max_clusters:
            h = 0.0
            for k in range(lo, hi):
                h += _entr(pxy[x, sup_idx[k]])
            d = (1.0 - beta) * _entr(p) + beta * h
            if d < best:
                best, arg = d, empty
        if arg < 0:
            continue
        # Move x from a to arg.
        qt[a] = max(qt[a] - p, 0.0)
        qt[arg] += p
        for k in range(lo, hi):
            y = sup_idx[k]
            qty[a, y] = max(qty[a, y] - pxy[x, y], 0.0)
            qty[arg, y] += pxy[x, y]
        count[a] -= 1
        count[arg] += 1
        if count[a] == 0:
            qt[a] = 0.0
            for y in range(n_y):
                qty[a, y] = 0.0
        labels[x] = arg
        cost[a] = _cluster_cost(qt, qty, a, beta) if count[a] > 0 else 0.0
        cost[arg] = _cluster_cost(qt, qty, arg, beta)
        _refresh(qty, a, log_q, inv_q, entr_q)
        _refresh(qty, arg, log_q, inv_q, entr_q)
        moved += 1
    return moved


@njit(cache=True)
def _local_search(pxy, px, sup_ptr, sup_idx, labels, max_clusters, beta, max_iter):
    """Merges, then a pass of moves, until neither changes anything (or max_iter rounds).
    Returns the rounds taken, whether it converged, and the cost (nats, up to a constant)."""
    n_x = len(px)
    _compact(labels, n_x)
    # Room for up to n_x clusters: moves may open new singletons.
    qt, qty, count = _totals(pxy, px, labels, n_x)
    cost = np.zeros(n_x)
    n_iter = 0
    converged = False
    while n_iter < max_iter:
        n_iter += 1
        for t in range(n_x):
            cost[t] = _cluster_cost(qt, qty, t, beta) if count[t] > 0 else 0.0
        changed = _merges(qt, qty, count, cost, labels, beta)
        changed += _moves(
            pxy, px, sup_ptr, sup_idx, qt, qty, count, cost, labels, beta, max_clusters
        )
        # Fresh totals: many small updates add rounding to the running sums.
        qt, qty, count = _totals(pxy, px, labels, n_x)
        if changed == 0:
            converged = True
            break
    return n_iter, converged, _total_cost(qt, qty, count, beta)


@njit(cache=True)
def _kick(labels, max_clusters):
    """Move a random part of a random cluster (of two or more members) to another cluster or
    to a new one. Returns False when every cluster is a singleton."""
    n_x = len(labels)
    k = _compact(labels, n_x)
    count = np.zeros(k, dtype=np.int64)
    for x in range(n_x):
        count[labels[x]] += 1
    crowded = np.flatnonzero(count >= 2)
    if len(crowded) == 0:
        return False
    # numba's random numbers are the legacy np.random API (seeded in solve).
    source = crowded[np.random.randint(len(crowded))]  # noqa: NPY002
    n_targets = k if k < max_clusters else k - 1  # k means a new cluster
    target = np.random.randint(n_targets)  # noqa: NPY002
    if target >= source:
        target += 1  # any cluster but the source
    members = np.flatnonzero(labels == source)
    moved = 0
    for member in members:
        if np.random.random() < 0.5:  # noqa: NPY002
            labels[member] = target
            moved += 1
    if moved == 0:
        labels[members[0]] = target
    elif moved == len(members):
        labels[members[0]] = source
    return True


@njit(cache=True)
def solve(pxy, px, sup_ptr, sup_idx, labels, max_clusters, beta, max_iter, n_kicks, seed):
    """DIB from starting labels: argmax steps while they help, exact merges and moves, kicks.

    Parameters are the problem's p(x, y) (n_x, n_y) and p(x) restricted to p(x) > 0, the
    support of each row of p(x, y) in CSR form (``sup_idx[sup_ptr[x]:sup_ptr[x + 1]]``), the
    starting labels (int64, values < n_x, modified in place), the most clusters allowed, beta,
    the most rounds (argmax steps plus local-search rounds), and the number of kicks and their
    seed. A kick moves a random half of a random cluster elsewhere and searches again from
    there, keeping the result if it costs less (an iterated local search: single moves and
    merges cannot move a group of x together). Returns the labels renumbered to 0..k-1, the
    rounds taken and whether the first search ended before ``max_iter``.
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
    rounds, converged, best = _local_search(
        pxy, px, sup_ptr, sup_idx, labels, max_clusters, beta, max_iter - n_iter
    )
    n_iter += rounds
    np.random.seed(seed)  # noqa: NPY002
    trial = labels.copy()
    for _ in range(n_kicks):
        trial[:] = labels
        if not _kick(trial, max_clusters):
            break
        _, _, cost = _local_search(pxy, px, sup_ptr, sup_idx, trial, max_clusters, beta, max_iter)
        if cost < best - GAIN * max(1.0, beta):
            labels[:] = trial
            best = cost
    _compact(labels, n_x)
    return labels, n_iter, converged
