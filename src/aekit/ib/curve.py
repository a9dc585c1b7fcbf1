"""The information plane of a discrete ``p(x, y)``: beta sweeps, and the whole curve.

The generalized IB (see :mod:`aekit.ib.bottleneck`) minimises ``L = a - beta b`` over
encoders, with ``a = H(T) - alpha H(T|X)`` (I(X;T) for IB, H(T) for DIB) and ``b = I(T;Y)``.
For one encoder L is a straight line in beta, so every solution a sweep finds can be priced at
every beta for free. Two consequences shape this module.

**Every point is the best the sweep holds.** All converged solutions go into one pool; the
solution returned at each beta is the pool's lowest ``a - beta b`` at that beta, whichever beta
it was found at. Where a solution found elsewhere beats a beta's own by more than
``100 * tol`` bits, it is also iterated at that beta as a further start (which only lowers L).
This is what annealing alone misses: DIB annealed from the largest beta down starts each beta
from its larger neighbour's clustering, so a better clustering found at a smaller beta never
reaches the larger ones.

**The curve chooses its own betas** (:func:`ib_curve`, or ``beta_sweep(..., betas="auto")``).
The lowest cost over encoders is concave in beta, and the optimal points are the vertices of
the upper concave hull of the achievable ``(a, b)``: the solution optimal at beta touches the
hull where its slope is ``1 / beta``. So:

1. *The ends.* At ``beta <= 1`` one cluster is optimal (``a >= I(X;T) >= I(T;Y) = b``, so
   ``L >= 0``, and one cluster has ``L = 0``): the curve starts there, at beta = 1. At
   ``beta_top = H(X) / ((1 - coverage) I(X;Y))`` the starting encoder T = X already has
   ``L = H(X) - beta_top I(X;Y)``, and any solution that costs no more keeps
   ``I(T;Y) >= I(X;Y) - H(X) / beta_top = coverage I(X;Y)`` (0.99 by default); the solver
   starts from T = X there, so the curve reaches ``coverage I(X;Y)``.
2. *Refinement.* Between two neighbouring points ``(a1, b1)`` and ``(a2, b2)`` the next beta is
   where their costs are equal, ``beta* = (a2 - a1) / (b2 - b1)``: the slope of the chord
   between them. If the solver finds a solution there that beats both (by more than
   ``10 * tol`` bits) it is a new point of the hull between them; if not, both ends are optimal
   at one beta, the chord is an edge of the hull and no beta puts a point inside it. Such a
   gap is reported in :attr:`IBCurve.gaps`, not filled (DIB's optima are vertices of the hull
   of hard clusterings, and IB on near-deterministic joints jumps too).
3. *When to stop.* A pair of neighbours is refined while the gap between them exceeds ``gap``
   (5%) of the curve's range of I(X;T) (H(T) for DIB), up to the first point with
   ``I(T;Y) >= coverage I(X;Y)``, or while the curve between them is uncertain by more than
   ``resolution`` bits of I(T;Y): the optimal curve lies below the tangents at both ends
   (slopes ``1 / beta`` of the betas where each end is optimal) and above the chord, so the
   height of that triangle bounds how far the chord can be from it. The widest gap goes
   first; ``max_betas`` caps the solves.

At each new beta the starts are the solutions of both neighbours (the right one's clusters a
smaller beta can only merge; from the left one DIB's search can open new clusters),
``n_restarts - 1`` random encoders and the one-cluster encoder, each run to convergence; before
a pair is called an edge, ``n_restarts`` more random starts try to beat it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aekit.ib.bottleneck import (
    IBSolution,
    _check_ib_joint,
    _check_int,
    _check_number,
    _check_settings,
    _Fit,
    _one_cluster,
    _polish,
    _prepare,
    _Problem,
    _random_encoder,
    _solve,
    _to_solution,
)

__all__ = ["IBCurve", "beta_sweep", "ib_curve", "upper_envelope"]

# Fewest columns of a random start (see _Pool.random_start).
MIN_RANDOM_CLUSTERS = 32
_NO_UP = False
_FOUND_KEYS = ("beta", "i_xt", "h_t", "h_t_given_x", "i_ty", "objective", "n_clusters")


# The result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IBCurve:
    """A beta sweep: the best solution found at each beta, in increasing beta.

    Attributes
    ----------
    betas : ndarray of shape (n_betas,)
        Increasing.
    alpha : float
        The H(T|X) weight (1 IB, 0 DIB).
    solutions : list of IBSolution
        One per beta, with the encoders: at each beta the solution of lowest objective among
        all the sweep found (at any beta), so ``solutions[i].beta`` is ``betas[i]`` but the
        encoder may have been found at another beta.
    i_xy, h_x, h_y : float
        I(X;Y) (the ceiling of every I(T;Y)), H(X) and H(Y) in bits.
    found : dict of str to ndarray of shape (n_found,)
        Every solution the sweep converged to, not only the best per beta: ``beta`` (where it
        was solved), ``i_xt``, ``h_t``, ``h_t_given_x``, ``i_ty``, ``objective`` (at that
        beta) and ``n_clusters`` of each start (with the one-cluster candidate). Each is an
        achievable point of the information plane, so :meth:`envelope` can use them all.
    settings : dict
        The sweep's arguments.
    gaps : list of dict
        For :func:`ib_curve`: neighbouring points further apart than ``gap`` of the range,
        each with ``beta`` (where both ends cost the same), the two ends' ``x`` and ``i_ty``,
        and ``reason``: ``"optimal at one beta"`` (no solution at that beta beats the two
        ends: an edge of the hull) or ``"max_betas"`` (the budget ran out first).
    """

    betas: np.ndarray
    alpha: float
    solutions: list[IBSolution]
    i_xy: float
    h_x: float
    h_y: float
    found: dict[str, np.ndarray] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def _column(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.solutions])

    @property
    def i_xt(self) -> np.ndarray:
        """I(X;T) per beta in bits, shape (n_betas,)."""
        return self._column("i_xt")

    @property
    def h_t(self) -> np.ndarray:
        """H(T) per beta in bits, shape (n_betas,)."""
        return self._column("h_t")

    @property
    def i_ty(self) -> np.ndarray:
        """I(T;Y) per beta in bits, shape (n_betas,)."""
        return self._column("i_ty")

    @property
    def objective(self) -> np.ndarray:
        """``H(T) - alpha H(T|X) - beta I(T;Y)`` per beta in bits, shape (n_betas,)."""
        return self._column("objective")

    @property
    def n_clusters(self) -> np.ndarray:
        """Clusters in use per beta, shape (n_betas,)."""
        return self._column("n_clusters")

    def envelope(self, x: str = "i_xt", all_found: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The upper envelope of the information plane: the points no other point beats.

        Parameters
        ----------
        x : {"i_xt", "h_t"}
            The compression axis: I(X;T) (the IB plane) or H(T) (the DIB plane).
        all_found : bool, default True
            Use every solution the sweep converged to (``found``), or only the best per beta.

        Returns
        -------
        x_values, i_ty : ndarray of shape (n_points,)
            Increasing in both: each point has more I(T;Y) than every point left of it.
        """
        if x not in ("i_xt", "h_t"):
            raise ValueError(f"x must be 'i_xt' (IB plane) or 'h_t' (DIB plane); got {x!r}")
        source = self.found if all_found and self.found else None
        xs = source[x] if source is not None else getattr(self, x)
        ys = source["i_ty"] if source is not None else self.i_ty
        return upper_envelope(xs, ys)

    def to_dict(self) -> dict[str, Any]:
        """The curve as JSON-ready lists (without the encoders)."""
        return {
            "alpha": self.alpha,
            "beta": self.betas.tolist(),
            "i_xt": self.i_xt.tolist(),
            "h_t": self.h_t.tolist(),
            "i_ty": self.i_ty.tolist(),
            "objective": self.objective.tolist(),
            "n_clusters": self.n_clusters.tolist(),
            "converged": self._column("converged").tolist(),
            "found": {k: v.tolist() for k, v in self.found.items()},
            "gaps": [dict(g) for g in self.gaps],
            "i_xy": self.i_xy,
            "h_x": self.h_x,
            "h_y": self.h_y,
            "settings": dict(self.settings),
        }


def upper_envelope(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) that no other point beats (as much y for no more x), sorted by x.

    Parameters
    ----------
    x, y : array-like of shape (n_points,)
        Compression (I(X;T) or H(T)) and relevance (I(T;Y)) of some encoders.

    Returns
    -------
    x_env, y_env : ndarray of shape (n_env,)
        Strictly increasing in y and non-decreasing in x.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length; got shapes {x.shape} and {y.shape}")
    order = np.lexsort((-y, x))
    xs, ys = x[order], y[order]
    # A point is on the envelope when it has more y than every point of smaller (or equal) x.
    running = np.maximum.accumulate(np.concatenate([[-np.inf], ys[:-1]]))
    keep = ys > running
    return xs[keep], ys[keep]


# The pool of solutions -----------------------------------------------------------------------


@dataclass(eq=False)
class _Entry:
    """A solution in the pool: its cost at any beta is ``a - beta b`` (bits)."""

    fit: _Fit
    beta: float  # where it was solved
    a: float  # H(T) - alpha H(T|X)
    b: float  # I(T;Y)
    key: int  # order of arrival, to break ties

    def cost(self, beta: float) -> float:
        return self.a - beta * self.b


def _below(p: _Entry, m: _Entry, q: _Entry) -> bool:
    """Whether m lies strictly below the chord from p to q (p.a <= m.a <= q.a)."""
    return (m.b - p.b) * (q.a - p.a) < (q.b - p.b) * (m.a - p.a)


class _Pool:
    """Every solution of a sweep; those on the upper hull of ``(a, b)`` keep their encoders.

    A solution below the hull is beaten at every beta by a mix of two on it, so it can never
    be the best at any beta; only the hull's encoders are kept (the scalars of all go to
    ``found``).
    """

    def __init__(
        self,
        problem: _Problem,
        alpha: float,
        n_t: int,
        n_restarts: int,
        tol: float,
        max_iter: int,
        rng: np.random.Generator,
    ):
        self.problem, self.alpha, self.n_t = problem, alpha, n_t
        self.n_restarts, self.tol, self.max_iter, self.rng = n_restarts, tol, max_iter, rng
        self.hull: list[_Entry] = []
        self.found: list[tuple] = []
        self._tried: set[tuple[int, float]] = set()
        self._own: dict[float, float] = {}  # the lowest cost solved at each beta

    @property
    def n_x(self) -> int:
        return len(self.problem.px)

    def random_start(self, beta: float) -> np.ndarray:
        """A random encoder with at most four times the effective number of clusters,
        ``2^H(T)``, of the best solution so far at beta (at least 32; at most n_clusters).

        More columns only slow the iteration: from Strouse & Schwab's start with one column
        per x, 3 random starts at beta 3 and 5 on a 1000 x 50 joint converged to the same
        cost as from 64 or 256 columns (within 1e-4 bits), taking 4-20 times as long.
        """
        h_t = self.best(beta).fit.h_t
        n_t = int(min(self.n_t, max(MIN_RANDOM_CLUSTERS, np.ceil(4 * 2.0**h_t))))
        if self.alpha > 0:
            return _random_encoder(self.rng, self.n_x, n_t)
        # DIB: a random hard clustering into k clusters, k log-uniform in [2, n_t]. (Strouse &
        # Schwab's start leans each x on its own cluster; when n_t >= n_x its first argmax
        # step is T = X again, the same start every time.)
        k = int(np.clip(np.round(np.exp(self.rng.uniform(np.log(2), np.log(n_t)))), 1, n_t))
        labels = self.rng.integers(k, size=self.n_x)
        return np.eye(k)[labels]

    def _entry(self, fit: _Fit, beta: float) -> _Entry:
        return _Entry(fit, beta, fit.h_t - self.alpha * fit.h_t_x, fit.i_ty, len(self.found))

    def _hull_with(self, entry: _Entry) -> list[_Entry]:
        points = sorted([*self.hull, entry], key=lambda e: (e.a, -e.b, e.key))
        hull: list[_Entry] = []
        for e in points:
            if hull and e.b <= hull[-1].b:
                continue  # as much cost for no more information
            while len(hull) >= 2 and _below(hull[-2], hull[-1], e):
                hull.pop()
            hull.append(e)
        return hull

    def add(self, fit: _Fit, beta: float) -> None:
        """Record a solution; one that reaches the hull is polished first (soft clusters that
        copy each other merged) and enters it as polished."""
        entry = self._entry(fit, beta)
        hull = self._hull_with(entry)
        if self.alpha > 0 and len(fit.qt) > 1 and any(e is entry for e in hull):
            fit = _polish(self.problem, fit, beta, self.alpha, self.tol)
            entry = self._entry(fit, beta)
            hull = self._hull_with(entry)
        i_xt = max(fit.h_t - fit.h_t_x, 0.0)
        self.found.append((beta, i_xt, fit.h_t, fit.h_t_x, fit.i_ty, fit.objective, len(fit.qt)))
        self._own[beta] = min(self._own.get(beta, np.inf), entry.cost(beta))
        self.hull = hull

    def solve(
        self, beta: float, starts: list[np.ndarray], n_random: int = 0, one_cluster: bool = True
    ) -> None:
        """The one-cluster candidate, a solve from each start, then from ``n_random`` random
        starts (sized by the best so far, see :meth:`random_start`), at one beta, into the pool.
        """
        if one_cluster:
            self.add(_one_cluster(self.problem, beta, self.alpha), beta)
        for start in starts:
            self.add(self._solve(start, beta), beta)
        for _ in range(n_random):
            start = self.random_start(beta)
            self.add(self._solve(start, beta), beta)

    def _solve(self, start: np.ndarray, beta: float) -> _Fit:
        seed = int(self.rng.integers(2**31))
        problem, alpha, tol, max_iter, n_t = (
            self.problem,
            self.alpha,
            self.tol,
            self.max_iter,
            self.n_t,
        )
        return _solve(problem, start, beta, alpha, tol, max_iter, n_t, seed)

    def best(self, beta: float) -> _Entry:
        """The lowest cost at beta; ties go to a solution solved at beta, then the oldest."""
        return min(self.hull, key=lambda e: (e.cost(beta), e.beta != beta, e.key))

    def settle(self, betas) -> None:
        """Iterate at each beta from any solution found elsewhere that beats its own.

        The pool's best at a beta may have been solved at another; iterating from it at this
        beta (Algorithm 1 lowers the cost at every step, DIB's search only accepts lower costs)
        can only do better. Repeats until no beta gains by more than ``100 * tol`` bits.
        """
        margin = 100 * self.tol
        for _ in range(len(betas) + 1):
            changed = False
            for beta in betas:
                best = self.best(beta)
                if best.beta == beta or (best.key, beta) in self._tried:
                    continue
                self._tried.add((best.key, beta))
                if self._own[beta] - best.cost(beta) <= margin:
                    continue
                self.solve(beta, [best.fit.encoder], one_cluster=False)
                changed = True
            if not changed:
                return

    def found_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in zip(_FOUND_KEYS, zip(*self.found))}

    def curve(
        self, betas, settings: dict[str, Any], gaps: list[dict[str, Any]] | None = None
    ) -> IBCurve:
        betas = np.sort(np.asarray(betas, dtype=np.float64))
        problem, alpha = self.problem, self.alpha
        return IBCurve(
            betas=betas,
            alpha=alpha,
            solutions=[_to_solution(problem, self.best(b).fit, b, alpha) for b in betas],
            i_xy=problem.i_xy,
            h_x=problem.h_x,
            h_y=problem.h_y,
            found=self.found_arrays(),
            settings=settings,
            gaps=gaps or [],
        )


def _make_pool(pxy, alpha, n_clusters, n_restarts, tol, max_iter, random_state):
    problem = _prepare(_check_ib_joint(pxy))
    alpha, n_t, n_restarts, tol, max_iter = _check_settings(
        alpha, n_clusters, n_restarts, tol, max_iter, problem
    )
    rng = np.random.default_rng(random_state)
    return _Pool(problem, alpha, n_t, n_restarts, tol, max_iter, rng)


# A grid of betas -----------------------------------------------------------------------------


def beta_sweep(
    pxy,
    betas,
    alpha: float = 1.0,
    n_clusters: int | None = None,
    n_restarts: int = 3,
    anneal: bool = True,
    tol: float = 1e-5,
    max_iter: int = 1000,
    random_state: int | np.random.Generator | None = None,
) -> IBCurve:
    """Solve the generalized IB over a grid of beta, keeping the best solution found anywhere.

    The betas are visited from the largest down. With ``anneal`` the first start at each beta
    is the best solution at the previous, larger beta (whose clusters the smaller beta can
    only merge), and at the largest beta it is T = X (when
    ``n_clusters`` allows one cluster per x). With ``n_restarts >= 3`` one more start anneals
    upwards in a second pass (each beta from the best of the next smaller one, which DIB's
    search can refine by moving single x into new clusters), and the other
    ``n_restarts - 2`` are random; with fewer, ``n_restarts - 1`` are random. Without
    ``anneal`` all are random. The one-cluster encoder is always a candidate too (it costs
    nothing to evaluate). Then every solution found is priced at every beta, and each beta
    returns the cheapest, iterated further at that beta when it was found elsewhere (see
    :mod:`aekit.ib.curve`).

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y)
        The joint distribution (summing to 1; see :func:`aekit.ib.check_joint`), with at least
        two rows and two columns.
    betas : array-like of shape (n_betas,) or "auto"
        Trade-offs, each >= 0, in any order (the result is sorted); ``"auto"`` lets the curve
        choose them (:func:`ib_curve` with its defaults).
    alpha : float, default 1.0
        Weight of H(T|X): 1 is IB, 0 is DIB (hard clusters), between is generalized IB.
    n_clusters : int or None, default None
        Most clusters an encoder may use; ``None`` means one per value of X.
    n_restarts : int, default 3
        Starts per beta, the annealed one included.
    anneal : bool, default True
        Warm-start each beta from the best solution so far.
    tol : float, default 1e-5
        Stop a start when its free energy changes by at most this many bits in one step
        (DIB stops when no move or merge lowers its cost).
    max_iter : int, default 1000
        Most steps per start.
    random_state : int, Generator or None
        Seed of the random starts.

    Returns
    -------
    IBCurve
        The best solution per beta, in increasing beta.
    """
    if isinstance(betas, str):
        if betas != "auto":
            raise ValueError(f"betas must be an array of numbers or 'auto'; got {betas!r}")
        return ib_curve(
            pxy,
            alpha=alpha,
            n_clusters=n_clusters,
            n_restarts=n_restarts,
            tol=tol,
            max_iter=max_iter,
            random_state=random_state,
        )
    pool = _make_pool(pxy, alpha, n_clusters, n_restarts, tol, max_iter, random_state)
    beta_arr = np.asarray(betas, dtype=np.float64).reshape(-1)
    if beta_arr.size == 0:
        raise ValueError(
            "betas is empty; give at least one beta, e.g. np.geomspace(0.1, 100, 30), or 'auto'"
        )
    for b in beta_arr:
        _check_number(b, "every beta")
    grid = [float(b) for b in np.unique(beta_arr)[::-1]]
    # With 3 or more starts, one of them anneals upwards in a second pass.
    upwards = anneal and pool.n_restarts >= 3 and len(grid) > 1 and not _NO_UP
    for i, beta in enumerate(grid):
        if anneal and i > 0:
            starts = [pool.best(grid[i - 1]).fit.encoder]
        elif anneal and pool.n_t == pool.n_x:
            # The largest beta starts from T = X, the solution as beta grows without bound.
            starts = [np.eye(pool.n_x)]
        else:
            starts = []
        pool.solve(beta, starts, pool.n_restarts - len(starts) - upwards)
    if upwards:
        for i, beta in enumerate(grid[::-1]):
            below = [pool.best(grid[-i]).fit.encoder] if i > 0 else []
            pool.solve(beta, below, 1 - len(below), one_cluster=False)
    pool.settle(grid)
    settings = {
        "n_clusters": pool.n_t,
        "n_restarts": pool.n_restarts,
        "anneal": anneal,
        "tol": pool.tol,
        "max_iter": pool.max_iter,
    }
    return pool.curve(beta_arr, settings)


# The whole curve -----------------------------------------------------------------------------


def _x(entry: _Entry, alpha: float) -> float:
    """The plane's horizontal coordinate: H(T) for DIB, I(X;T) otherwise."""
    fit = entry.fit
    return fit.h_t if alpha == 0 else max(fit.h_t - fit.h_t_x, 0.0)


def _uncertainty(left: _Entry, beta_left: float, right: _Entry, beta_right: float) -> float:
    """Height in bits of the triangle between the chord and the two ends' tangents.

    The optimum at beta_left is ``left``, so no encoder lies above the line through it of
    slope ``1 / beta_left`` in the (a, b) plane; likewise for ``right``. Between them the
    optimal curve is below both lines and above the chord.
    """
    da = right.a - left.a
    if da <= 0 or beta_right <= beta_left:
        return 0.0
    s_left, s_right = 1.0 / beta_left, 1.0 / beta_right
    # Where the two tangents cross, clipped to the interval between the ends.
    a = (right.b - left.b - s_right * right.a + s_left * left.a) / (s_left - s_right)
    a = min(max(a, left.a), right.a)
    apex = left.b + s_left * (a - left.a)
    chord = left.b + (right.b - left.b) * (a - left.a) / da
    return max(apex - chord, 0.0)


def ib_curve(
    pxy,
    alpha: float = 1.0,
    n_clusters: int | None = None,
    n_restarts: int = 3,
    gap: float = 0.05,
    coverage: float = 0.99,
    resolution: float = 0.002,
    max_betas: int = 120,
    tol: float = 1e-5,
    max_iter: int = 1000,
    random_state: int | np.random.Generator | None = None,
) -> IBCurve:
    """The whole IB curve, from one cluster to ``coverage`` of I(X;Y), with betas it chooses.

    How the betas are chosen is described in :mod:`aekit.ib.curve`: the curve starts at
    beta = 1 (one cluster, optimal for every beta <= 1) and at a beta large enough for T = X to
    keep ``coverage`` of I(X;Y); between neighbouring points the next beta is the one at which
    both cost the same (the inverse slope of the chord between them), until no gap exceeds
    ``gap`` of the range of I(X;T) (H(T) for DIB) and no stretch of the curve is uncertain by
    more than ``resolution`` bits, except gaps whose two ends are optimal at one beta: those
    are edges of the convex hull of solutions, reported in ``gaps``, not filled.

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y)
        The joint distribution (see :func:`aekit.ib.check_joint`), at least 2 x 2.
    alpha : float, default 1.0
        Weight of H(T|X): 1 is IB, 0 is DIB, between is generalized IB.
    n_clusters : int or None, default None
        Most clusters an encoder may use; ``None`` means one per value of X (fewer may keep
        the curve from reaching ``coverage``; ``settings["coverage_reached"]`` says).
    n_restarts : int, default 3
        At each new beta ``n_restarts - 1`` random starts besides the two neighbours'
        solutions (and ``n_restarts`` more before a gap is called an edge).
    gap : float, default 0.05
        Largest gap between neighbouring points, as a fraction of the curve's range of I(X;T)
        (of H(T) for DIB).
    coverage : float, default 0.99
        The curve ends at its first point with ``I(T;Y) >= coverage I(X;Y)``; in (0, 1).
    resolution : float, default 0.002
        Bits: refine also where the optimal curve between neighbours could lie this far above
        the chord between them (0 turns this off; the gap rule still applies).
    max_betas : int, default 120
        Most betas to solve at; gaps still open then are reported with reason "max_betas".
    tol, max_iter, random_state
        As in :func:`beta_sweep`.

    Returns
    -------
    IBCurve
        The points in increasing beta (all on the hull of the solutions found), ``gaps``,
        and ``settings`` with the arguments, ``coverage_reached`` and ``beta_top``.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit.ib import ib_curve
    >>> pxy = np.array([[0.3, 0.05], [0.25, 0.1], [0.05, 0.25]])
    >>> curve = ib_curve(pxy, alpha=0.0, random_state=0)
    >>> bool(curve.i_ty[0] == 0.0), bool(curve.i_ty[-1] >= 0.99 * curve.i_xy)
    (True, True)
    """
    gap = _check_number(gap, "gap")
    coverage = _check_number(coverage, "coverage")
    resolution = _check_number(resolution, "resolution")
    max_betas = _check_int(max_betas, "max_betas", minimum=2)
    if not 0 < gap < 1:
        raise ValueError(f"gap must be a fraction of the range in (0, 1), e.g. 0.05; got {gap}")
    if not 0 < coverage < 1:
        raise ValueError(
            f"coverage must be in (0, 1) (0.99: the curve reaches 99% of I(X;Y)); got {coverage}"
        )
    pool = _make_pool(pxy, alpha, n_clusters, n_restarts, tol, max_iter, random_state)
    problem, alpha = pool.problem, pool.alpha
    settings: dict[str, Any] = {
        "n_clusters": pool.n_t,
        "n_restarts": pool.n_restarts,
        "tol": pool.tol,
        "max_iter": pool.max_iter,
        "betas": "auto",
        "gap": gap,
        "coverage": coverage,
        "resolution": resolution,
        "max_betas": max_betas,
    }
    betas = [1.0]
    pool.solve(1.0, [])
    if problem.i_xy <= 1e-12 * max(problem.h_y, 1.0):
        # X says nothing about Y: one cluster is the whole curve.
        return pool.curve(betas, {**settings, "coverage_reached": True, "beta_top": 1.0})
    beta_top = max(problem.h_x / ((1.0 - coverage) * problem.i_xy), 2.0)
    starts = [np.eye(pool.n_x)] if pool.n_t == pool.n_x else []
    pool.solve(beta_top, starts, pool.n_restarts - len(starts))
    betas.append(beta_top)
    gaps, top = _refine(pool, betas, gap, coverage, resolution, max_betas)
    kept = [b for b in betas if pool.best(b).key in top]
    reached = max(pool.best(b).b for b in kept) >= coverage * problem.i_xy
    return pool.curve(
        kept, {**settings, "coverage_reached": bool(reached), "beta_top": beta_top}, gaps
    )


def _refine(pool: _Pool, betas: list, gap: float, coverage: float, resolution: float, budget):
    """Add betas between neighbours until the curve is fine enough; returns (gaps, the keys of
    the points up to the first that reaches ``coverage``)."""
    alpha, target = pool.alpha, coverage * pool.problem.i_xy
    margin = 10 * pool.tol
    edges: set[tuple[int, int]] = set()
    while True:
        pool.settle(betas)
        chain: list[tuple[_Entry, list[float]]] = []  # distinct points, each with its betas
        for beta in sorted(betas):
            entry = pool.best(beta)
            if chain and chain[-1][0].key == entry.key:
                chain[-1][1].append(beta)
            else:
                chain.append((entry, [beta]))
        top = next((i for i, (e, _) in enumerate(chain) if e.b >= target), len(chain) - 1)
        span = _x(chain[top][0], alpha) - _x(chain[0][0], alpha)
        open_pairs = []
        for i in range(top):
            (left, b_left), (right, b_right) = chain[i], chain[i + 1]
            if (left.key, right.key) in edges or right.b <= left.b:
                continue
            width = _x(right, alpha) - _x(left, alpha)
            unsure = _uncertainty(left, max(b_left), right, min(b_right))
            if width > gap * span or (resolution > 0 and unsure > resolution):
                open_pairs.append((width, i))
        if not open_pairs or len(betas) >= budget:
            break
        _, i = max(open_pairs)
        left, right = chain[i][0], chain[i + 1][0]
        beta = (right.a - left.a) / (right.b - left.b)
        if any(abs(beta - b) <= 1e-12 * beta for b in betas):
            edges.add((left.key, right.key))
            continue
        pool.solve(beta, [right.fit.encoder, left.fit.encoder], pool.n_restarts - 1)
        betas.append(beta)
        if not pool.best(beta).cost(beta) < left.cost(beta) - margin:
            # Before calling it an edge (a gap never filled), as many random starts again.
            pool.solve(beta, [], pool.n_restarts, one_cluster=False)
        best = pool.best(beta)
        if not best.cost(beta) < left.cost(beta) - margin:
            # Nothing beats both ends at the beta where they tie: an edge of the hull (a new
            # point within the margin of the chord is on it, as far as the solver can tell).
            edges.update({(left.key, right.key), (left.key, best.key), (best.key, right.key)})
    gaps = []
    for i in range(top):
        (left, _), (right, _) = chain[i], chain[i + 1]
        width = _x(right, alpha) - _x(left, alpha)
        if width > gap * span and right.b > left.b:
            gaps.append(
                {
                    "beta": float((right.a - left.a) / (right.b - left.b)),
                    "x": "h_t" if alpha == 0 else "i_xt",
                    "x_left": float(_x(left, alpha)),
                    "x_right": float(_x(right, alpha)),
                    "i_ty_left": float(left.b),
                    "i_ty_right": float(right.b),
                    "reason": "optimal at one beta"
                    if (left.key, right.key) in edges
                    else "max_betas",
                }
            )
    return gaps, {e.key for e, _ in chain[: top + 1]}
