"""The generalized information bottleneck of a discrete ``p(x, y)``: IB, DIB and between.

Implements

    N. Tishby, F. C. Pereira and W. Bialek, "The information bottleneck method", Proc. 37th
    Allerton Conference on Communication, Control and Computing, 1999 (arXiv:physics/0004057);

    DJ Strouse and D. J. Schwab, "The deterministic information bottleneck", Neural
    Computation 29(6):1611-1630, 2017 (arXiv:1604.00268), Algorithms 1 (generalized IB) and 2
    (DIB).

An encoder ``q(t|x)`` compresses X into a cluster variable T. For ``alpha >= 0`` and
``beta >= 0`` the generalized IB minimises

    L = H(T) - alpha H(T|X) - beta I(T;Y),

so ``alpha = 1`` is IB (``H(T) - H(T|X) = I(X;T)``) and ``alpha = 0`` is DIB. With
``d(x, t) = KL[p(y|x) || q(y|t)]`` the fixed-point iteration is

    q(t|x) = exp[(log q(t) - beta d(x, t)) / alpha] / Z(x)        (alpha > 0)
    q(t|x) = 1[t = argmax_t' (log q(t') - beta d(x, t'))]         (alpha = 0)
    q(t)   = sum_x p(x) q(t|x)
    q(y|t) = sum_x q(t|x) p(x, y) / q(t).

For ``alpha > 0`` each step lowers the free energy ``F = -alpha sum_x p(x) log Z(x)`` (each
update minimises it with the others held fixed, as in Tishby et al.'s convergence argument),
and the iteration runs until F changes by at most ``tol`` bits. DIB's argmax step scores each
x against clusters that still contain it, so its fixed points are refined by an exact local
search (single-x moves, to another cluster or a new one, and cluster merges that lower L),
then kicked once (:mod:`aekit.ib._hard`). Restarts, annealing in beta, the one-cluster
candidate and pricing every solution found at every beta (:mod:`aekit.ib.curve`) look for
the global optimum. Clusters whose ``q(t)`` falls to zero are dropped (DIB empties clusters
outright), and soft clusters whose ``q(y|t)`` coincide are merged, which keeps I(T;Y) and
cannot raise L.

The hot loop is two matrix products per step: ``q(t, y) = q(t|x)^T p(x, y)`` of shape
(n_t, n_y), and the scores ``log q(t) - beta d(x, t)`` of shape (n_x, n_t), which up to a
constant per x are ``[p(y|x), 1] @ [beta log q(y|t), log q(t)]^T`` since
``d = sum_y p(y|x) log p(y|x) - p(y|x) @ log q(y|t)^T``. A zero in ``q(y|t)`` where
``p(y|x) > 0`` makes ``d`` infinite through a product of supports, never a ``log 0``.
:func:`_step` writes one step in NumPy; the solvers run the same steps compiled by numba
(:mod:`aekit.ib._soft`), where a step of a small joint would otherwise cost more in NumPy's
per-call overhead than in arithmetic. Internally logarithms are natural; every reported
quantity is in bits (beta is the same number in either unit).

Values of X with ``p(x) = 0`` carry no information and take no part in the iteration; their
row of the encoder is set to ``q(t)`` (for DIB: the largest cluster).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import entr

from aekit.ib.information import LN2, check_joint

__all__ = ["IBSolution", "InformationBottleneck"]

# q(t) at or below this is an empty cluster: it is dropped and its rows renormalised.
EMPTY = 1e-12
# Stands in for an infinite KL (p(y|x) > 0 where q(y|t) = 0): finite, so 0 * INF_KL = 0, and
# exp(-beta * INF_KL / alpha) underflows to exactly 0 for any beta / alpha in (1e-150, 1e100).
INF_KL = 1e153
# Soft clusters whose q(y|t) differ by less than this in every entry are one cluster. Merging
# two clusters with equal q(y|t) keeps I(T;Y) and cannot raise the cost; at this distance the
# loss in I(T;Y) is of order q(t) MERGE_TOL^2, far below any useful tolerance.
MERGE_TOL = 1e-4
# Kicks after each DIB search (see aekit.ib._hard.solve): on 300 random joints of at most 6 x
# and 4 y, swept over 15 betas with one annealed start each, the returned cost missed the
# optimum found by enumerating all clusterings on 2 joints without kicks, on none with one.
N_KICKS = 1
# Merge duplicate soft clusters every this many steps (a merge is cheap, but not free).
MERGE_EVERY = 8


@dataclass(frozen=True)
class _Problem:
    """p(x, y) restricted to x and y of positive probability, with what every step reuses."""

    pxy: np.ndarray  # (n_x, n_y)
    px: np.ndarray  # (n_x,)
    py: np.ndarray  # (n_y,)
    py_x: np.ndarray  # (n_x, n_y) p(y|x)
    neg_h_y_x: np.ndarray  # (n_x,) sum_y p(y|x) ln p(y|x)
    support: np.ndarray  # (n_x, n_y) 1.0 where p(y|x) > 0
    py_x_and_1: np.ndarray  # (n_x, n_y + 1) [p(y|x), 1]
    sup_ptr: np.ndarray  # (n_x + 1,) int64: the y with p(x, y) > 0 of row x are
    sup_idx: np.ndarray  # sup_idx[sup_ptr[x]:sup_ptr[x + 1]] (CSR), for the DIB search
    hash_weights: np.ndarray  # (n_y,) int64, for hashing rows of q(y|t)
    x_rows: np.ndarray  # indices of these x in the caller's p(x, y)
    y_cols: np.ndarray  # indices of these y in the caller's p(x, y)
    shape: tuple[int, int]  # the caller's (n_x, n_y)
    h_x: float  # bits
    h_y: float  # bits
    i_xy: float  # bits


def _prepare(pxy: np.ndarray) -> _Problem:
    px_all, py_all = pxy.sum(1), pxy.sum(0)
    x_rows, y_cols = np.flatnonzero(px_all > 0), np.flatnonzero(py_all > 0)
    sub = pxy[np.ix_(x_rows, y_cols)]
    px, py = sub.sum(1), sub.sum(0)
    py_x = sub / px[:, None]
    rows, cols = np.nonzero(sub > 0)  # row-major order: each row's columns together
    h_x, h_y, h_xy = entr(px).sum() / LN2, entr(py).sum() / LN2, entr(sub).sum() / LN2
    return _Problem(
        pxy=sub,
        px=px,
        py=py,
        py_x=py_x,
        neg_h_y_x=-entr(py_x).sum(1),
        support=(py_x > 0).astype(np.float64),
        py_x_and_1=np.hstack([py_x, np.ones((len(px), 1))]),
        sup_ptr=np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(px)))]).astype(
            np.int64
        ),
        sup_idx=cols.astype(np.int64),
        hash_weights=np.random.default_rng(0).integers(1, 2**40, size=len(py)),
        x_rows=x_rows,
        y_cols=y_cols,
        shape=pxy.shape,
        h_x=float(h_x),
        h_y=float(h_y),
        i_xy=max(float(h_x + h_y - h_xy), 0.0),
    )


# One step of the iteration -----------------------------------------------------------------


def _decoder(problem: _Problem, encoder: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q(t) of shape (n_t,) and the joint q(t, y) of shape (n_t, n_y) of an encoder (n_x, n_t)."""
    qty = encoder.T @ problem.pxy  # (n_t, n_y)
    return qty.sum(1), qty


def _logits(
    problem: _Problem, qt: np.ndarray, qty: np.ndarray, beta: float, scale: float
) -> np.ndarray:
    """``scale * (log q(t) - beta KL[p(y|x) || q(y|t)])`` up to a constant per row, (n_x, n_t).

    With ``KL = sum_y p(y|x) log p(y|x) - p(y|x) @ log q(y|t)^T`` the first term is the same
    for every t, and neither the argmax nor the softmax over t sees a per-row constant, so one
    product of ``[p(y|x), 1]`` with ``[beta log q(y|t), log q(t)]`` is the whole score. A zero
    of q(y|t) where p(y|x) > 0 (an infinite KL) costs INF_KL through a product of supports.
    """
    n_t, n_y = qty.shape
    qy_t = qty / qt[:, None]  # (n_t, n_y)
    zero = qy_t <= 0
    factors = np.empty((n_t, n_y + 1))
    np.log(np.where(zero, 1.0, qy_t), out=factors[:, :n_y])
    factors[:, :n_y] *= beta * scale
    factors[:, n_y] = scale * np.log(qt)
    logits = problem.py_x_and_1 @ factors.T  # (n_x, n_t)
    if beta > 0 and zero.any():
        logits -= (beta * scale * INF_KL) * (problem.support @ zero.T)
    return logits


def _soft_encoder(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over t of (n_x, n_t) logits, in place: q(t|x) and log Z(x) of shape (n_x,)."""
    top = logits.max(1, keepdims=True)
    logits -= top
    encoder = np.exp(logits, out=logits)
    z = encoder.sum(1)
    encoder /= z[:, None]
    return encoder, np.log(z) + top[:, 0]


def _cost(
    problem: _Problem, qt: np.ndarray, qty: np.ndarray, h_t_x: float, beta: float, alpha: float
) -> tuple[float, float, float]:
    """(L, H(T), I(T;Y)) in bits for a consistent (q(t|x), q(t), q(t, y)); h_t_x in bits."""
    h_t = entr(qt).sum() / LN2
    # I(T;Y) = H(Y) - H(Y|T), with H(Y|T) = H(T, Y) - H(T).
    i_ty = max(problem.h_y - (entr(qty).sum() / LN2 - h_t), 0.0)
    return h_t - alpha * h_t_x - beta * i_ty, h_t, i_ty


def _step(problem: _Problem, encoder: np.ndarray, beta: float, alpha: float) -> np.ndarray:
    """One full update: decoder from the encoder, then the new encoder (dense (n_x, n_t))."""
    qt, qty = _decoder(problem, encoder)
    if alpha == 0:
        return np.eye(len(qt))[np.argmax(_logits(problem, qt, qty, beta, 1.0), axis=1)]
    return _soft_encoder(_logits(problem, qt, qty, beta, 1.0 / alpha))[0]


# Solving at one beta -----------------------------------------------------------------------


@dataclass
class _Fit:
    encoder: np.ndarray  # (n_x, n_t) over the problem's x
    qt: np.ndarray
    qty: np.ndarray
    h_t_x: float  # bits
    objective: float
    h_t: float
    i_ty: float
    n_iter: int
    converged: bool


def _drop_empty(encoder: np.ndarray, qt: np.ndarray) -> np.ndarray:
    keep = qt > EMPTY
    if keep.all():
        return encoder
    encoder = encoder[:, keep]
    return encoder / encoder.sum(1, keepdims=True)


def _solve_soft(
    problem: _Problem, encoder: np.ndarray, beta: float, alpha: float, tol: float, max_iter: int
) -> _Fit:
    """Algorithm 1 from a starting encoder until the free energy settles within ``tol`` bits.

    For the encoder just computed from the decoder (q(t), q(y|t)),
    ``-alpha log Z(x) = sum_t q(t|x) [alpha log q(t|x) - log q(t) + beta d(x, t)]``, the
    generalized IB free energy per x; its average costs one dot product per step, where the
    cost itself would need the entropy of the whole encoder. (The logits here differ from the
    paper's by a constant per x, which shifts F by a constant of the solve.)
    """
    from aekit.ib import _soft  # numba: compiled (or loaded from its cache) on first use

    encoder, n_iter, converged = _soft.solve(
        problem.pxy,
        problem.px,
        problem.py_x_and_1,
        problem.support,
        problem.hash_weights,
        np.ascontiguousarray(encoder, dtype=np.float64),
        float(beta),
        float(alpha),
        float(tol),
        int(max_iter),
        MERGE_EVERY,
        MERGE_TOL,
        EMPTY,
        INF_KL,
    )
    return _evaluate(problem, encoder, beta, alpha, int(n_iter), bool(converged))


def _evaluate(
    problem: _Problem, encoder: np.ndarray, beta: float, alpha: float, n_iter: int, converged: bool
) -> _Fit:
    qt, qty = _decoder(problem, encoder)
    h_t_x = float(problem.px @ entr(encoder).sum(1)) / LN2
    objective, h_t, i_ty = _cost(problem, qt, qty, h_t_x, beta, alpha)
    return _Fit(encoder, qt, qty, h_t_x, objective, h_t, i_ty, n_iter, converged)


def _polish(problem: _Problem, fit: _Fit, beta: float, alpha: float, tol: float) -> _Fit:
    """A soft solution without clusters that copy each other to within the tolerance."""
    if alpha == 0 or len(fit.qt) == 1:
        return fit  # DIB's argmax already merged identical clusters
    from aekit.ib import _soft

    encoder = _soft._merge_rounded(fit.encoder, fit.qt, fit.qty, problem.hash_weights, MERGE_TOL)
    encoder = _soft.merge_within(encoder, *_decoder(problem, encoder), float(beta), float(tol))
    return _evaluate(problem, encoder, beta, alpha, fit.n_iter, fit.converged)


def _solve_hard(
    problem: _Problem,
    encoder: np.ndarray,
    beta: float,
    max_iter: int,
    max_clusters: int,
    seed: int = 0,
) -> _Fit:
    """DIB from any starting encoder: argmax steps, then an exact local search (compiled).

    The argmax step of Strouse & Schwab's Algorithm 2 reassigns every x at once against the
    current q(t) and q(y|t), which still count x in its own cluster; its fixed points can
    often be improved by moving one x, or by merging two clusters (which no argmax step can
    do). :func:`aekit.ib._hard.solve` takes argmax steps while they lower the cost, then makes
    exact improving merges and single-x moves (to another cluster or a new one) until none is
    left. A hard start is taken as it is, so the result never costs more than the start; a
    soft one is first made hard by one argmax step.
    """
    from aekit.ib import _hard  # numba: compiled (or loaded from its cache) on first use

    if np.all((encoder == 0) | (encoder == 1)):
        labels = np.argmax(encoder, axis=1)
    else:
        qt, qty = _decoder(problem, encoder)
        keep = qt > EMPTY
        labels = np.argmax(_logits(problem, qt[keep], qty[keep], beta, 1.0), axis=1)
    labels, n_iter, converged = _hard.solve(
        problem.pxy,
        problem.px,
        problem.sup_ptr,
        problem.sup_idx,
        labels.astype(np.int64),
        max_clusters,
        float(beta),
        max_iter,
        N_KICKS,
        seed,
    )
    onehot = np.zeros((len(labels), int(labels.max()) + 1))
    onehot[np.arange(len(labels)), labels] = 1.0
    return _evaluate(problem, onehot, beta, 0.0, int(n_iter), bool(converged))


def _solve(
    problem: _Problem,
    encoder: np.ndarray,
    beta: float,
    alpha: float,
    tol: float,
    max_iter: int,
    max_clusters: int,
    seed: int = 0,
) -> _Fit:
    """A solution at one beta from one starting encoder (n_x, n_t); soft ones unpolished.
    ``seed`` seeds DIB's kicks."""
    if alpha == 0:
        return _solve_hard(problem, encoder, beta, max_iter, max_clusters, seed)
    return _solve_soft(problem, encoder, beta, alpha, tol, max_iter)


def _one_cluster(problem: _Problem, beta: float, alpha: float) -> _Fit:
    """T independent of X: cost 0, always feasible, and the optimum for every beta <= 1."""
    return _evaluate(problem, np.ones((len(problem.px), 1)), beta, alpha, 0, True)


def _random_encoder(rng: np.random.Generator, n_x: int, n_t: int) -> np.ndarray:
    """A random start in the spirit of Strouse & Schwab's: each x leans on one cluster.

    Each x puts 55-75% of its mass on an anchor cluster (a random permutation when
    ``n_t = n_x``, a random balanced partition otherwise) and spreads the rest at random, so
    every cluster starts distinct and the restarts differ.
    """
    anchor = rng.permutation(n_x) % n_t
    own = rng.uniform(0.55, 0.75, size=n_x)
    rest = rng.uniform(1.0, 2.0, size=(n_x, n_t))
    rest[np.arange(n_x), anchor] = 0.0
    encoder = rest * ((1.0 - own) / rest.sum(1))[:, None] if n_t > 1 else rest
    encoder[np.arange(n_x), anchor] = own if n_t > 1 else 1.0
    return encoder


# Public results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IBSolution:
    """One (local) optimum of the generalized IB at one beta.

    Attributes
    ----------
    beta, alpha : float
        The trade-off and the H(T|X) weight it was solved for.
    encoder : ndarray of shape (n_x, n_clusters)
        ``q(t|x)``, rows summing to 1 (one-hot for ``alpha = 0``).
    p_t : ndarray of shape (n_clusters,)
        ``q(t)``.
    p_y_given_t : ndarray of shape (n_clusters, n_y)
        ``q(y|t)``, the decoder.
    i_xt, h_t, h_t_given_x, i_ty : float
        I(X;T), H(T), H(T|X) and I(T;Y) in bits.
    objective : float
        ``H(T) - alpha H(T|X) - beta I(T;Y)`` in bits.
    n_iter : int
        Steps taken by the restart that produced it.
    converged : bool
        Whether the objective settled within ``tol`` (DIB: the assignment stopped changing)
        before ``max_iter``.
    """

    beta: float
    alpha: float
    encoder: np.ndarray
    p_t: np.ndarray
    p_y_given_t: np.ndarray
    i_xt: float
    h_t: float
    h_t_given_x: float
    i_ty: float
    objective: float
    n_iter: int
    converged: bool

    @property
    def n_clusters(self) -> int:
        """Number of clusters in use (empty ones are dropped, duplicates merged)."""
        return int(self.encoder.shape[1])

    @property
    def labels(self) -> np.ndarray:
        """The most probable cluster of each x, shape (n_x,)."""
        return np.argmax(self.encoder, axis=1)


def _to_solution(problem: _Problem, fit: _Fit, beta: float, alpha: float) -> IBSolution:
    """Map a fit over the positive-probability x and y back to the caller's index space, with
    its objective at ``beta``."""
    n_x, n_y = problem.shape
    n_t = len(fit.qt)
    encoder = np.empty((n_x, n_t))
    # x of zero probability: no evidence, so the prior q(t) (DIB: the largest cluster).
    encoder[:] = fit.qt if alpha > 0 else np.eye(n_t)[np.argmax(fit.qt)]
    encoder[problem.x_rows] = fit.encoder
    p_y_given_t = np.zeros((n_t, n_y))
    p_y_given_t[:, problem.y_cols] = fit.qty / fit.qt[:, None]
    return IBSolution(
        beta=float(beta),
        alpha=float(alpha),
        encoder=encoder,
        p_t=fit.qt.copy(),
        p_y_given_t=p_y_given_t,
        i_xt=max(fit.h_t - fit.h_t_x, 0.0),
        h_t=float(fit.h_t),
        h_t_given_x=float(fit.h_t_x),
        i_ty=float(fit.i_ty),
        # At the beta asked for, which need not be the one the fit was solved at.
        objective=float(fit.h_t - alpha * fit.h_t_x - beta * fit.i_ty),
        n_iter=int(fit.n_iter),
        converged=bool(fit.converged),
    )


# Argument checks -----------------------------------------------------------------------------


def _check_number(value, name: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}; got {value}")
    return value


def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def _check_ib_joint(pxy) -> np.ndarray:
    """:func:`aekit.ib.check_joint`, and at least two values of X and of Y."""
    pxy = check_joint(pxy)
    n_x, n_y = pxy.shape
    if n_x < 2 or n_y < 2:
        which = "row (one value of X)" if n_x < 2 else "column (one value of Y)"
        raise ValueError(
            f"p(x, y) has shape {pxy.shape}: a single {which} leaves nothing to compress or to "
            "predict (I(X;Y) = 0); give rows for the values of X and columns for those of Y "
            "(if it is transposed, pass pxy.T)"
        )
    return pxy


def _check_settings(alpha, n_clusters, n_restarts, tol, max_iter, problem: _Problem):
    alpha = _check_number(alpha, "alpha")
    if alpha > 1:
        raise ValueError(
            f"alpha must be in [0, 1] (0 DIB, 1 IB, between: generalized IB); got {alpha}. "
            "Above 1 the cost rewards spreading x over clusters at random"
        )
    n_x = len(problem.px)
    n_t = n_x if n_clusters is None else _check_int(n_clusters, "n_clusters")
    return (
        alpha,
        min(n_t, n_x),
        _check_int(n_restarts, "n_restarts"),
        _check_number(tol, "tol"),
        _check_int(max_iter, "max_iter"),
    )


# The estimator --------------------------------------------------------------------------------


class InformationBottleneck:
    """The generalized information bottleneck at one beta, as an estimator.

    Parameters
    ----------
    beta : float, default 10.0
        Trade-off: larger keeps more information about Y.
    alpha : float, default 1.0
        Weight of H(T|X): 1 is IB (soft clusters), 0 is DIB (hard clusters).
    n_clusters : int or None, default None
        Most clusters; ``None`` means one per value of X.
    n_restarts : int, default 5
        Random starts; the best objective is kept.
    tol : float, default 1e-6
        Convergence tolerance on the objective, in bits.
    max_iter : int, default 2000
        Most steps per start.
    random_state : int, Generator or None
        Seed of the random starts.

    Attributes
    ----------
    encoder_ : ndarray of shape (n_x, n_clusters_)
        ``q(t|x)``.
    labels_ : ndarray of shape (n_x,)
        The most probable cluster of each value of X.
    p_t_ : ndarray of shape (n_clusters_,)
        ``q(t)``.
    p_y_given_t_ : ndarray of shape (n_clusters_, n_y)
        ``q(y|t)``.
    n_clusters_ : int
        Clusters in use.
    i_xt_, h_t_, i_ty_, objective_ : float
        I(X;T), H(T), I(T;Y) and the objective, in bits.
    i_xy_ : float
        I(X;Y) of the data, the ceiling of ``i_ty_``.
    n_iter_ : int
        Steps taken by the best start.
    converged_ : bool
        Whether the best start converged within ``max_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> pxy = np.array([[0.25, 0.0], [0.25, 0.0], [0.0, 0.25], [0.0, 0.25]])
    >>> ib = InformationBottleneck(beta=20.0, alpha=0.0, random_state=0).fit(pxy)
    >>> ib.n_clusters_, round(ib.i_ty_, 6)
    (2, 1.0)
    """

    def __init__(
        self,
        beta: float = 10.0,
        alpha: float = 1.0,
        n_clusters: int | None = None,
        n_restarts: int = 5,
        tol: float = 1e-6,
        max_iter: int = 2000,
        random_state: int | np.random.Generator | None = None,
    ):
        self.beta = beta
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.n_restarts = n_restarts
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, pxy, y=None) -> InformationBottleneck:
        """Find the encoder for a joint distribution.

        Parameters
        ----------
        pxy : array-like of shape (n_x, n_y)
            The joint distribution ``p(x, y)``; for samples, pass
            ``aekit.ib.joint_from_samples(x, y).pxy``.
        y : None
            Ignored; here for the scikit-learn signature.

        Returns
        -------
        self
        """
        problem = _prepare(_check_ib_joint(pxy))
        beta = _check_number(self.beta, "beta")
        alpha, n_t, n_restarts, tol, max_iter = _check_settings(
            self.alpha, self.n_clusters, self.n_restarts, self.tol, self.max_iter, problem
        )
        rng = np.random.default_rng(self.random_state)
        n_x = len(problem.px)
        fits = [_one_cluster(problem, beta, alpha)]
        for _ in range(n_restarts):
            start = _random_encoder(rng, n_x, n_t)
            seed = int(rng.integers(2**31))
            fits.append(_solve(problem, start, beta, alpha, tol, max_iter, n_t, seed))
        best = _polish(problem, min(fits, key=lambda f: f.objective), beta, alpha, tol)
        s = _to_solution(problem, best, beta, alpha)
        self.solution_ = s
        self.encoder_ = s.encoder
        self.labels_ = s.labels
        self.p_t_ = s.p_t
        self.p_y_given_t_ = s.p_y_given_t
        self.n_clusters_ = s.n_clusters
        self.i_xt_, self.h_t_, self.i_ty_ = s.i_xt, s.h_t, s.i_ty
        self.objective_ = s.objective
        self.i_xy_ = problem.i_xy
        self.n_iter_ = s.n_iter
        self.converged_ = s.converged
        return self

    def fit_predict(self, pxy, y=None) -> np.ndarray:
        """Fit, then return ``labels_`` of shape (n_x,)."""
        return self.fit(pxy).labels_
