"""Entropy, mutual information and KL divergence of discrete distributions, in bits.

Every function is safe at zero probabilities by the conventions of Cover & Thomas, *Elements of
Information Theory* (2nd ed., 2006), section 2.3: ``0 log 0 = 0``, ``0 log(0/q) = 0`` and
``p log(p/0) = inf`` for ``p > 0``. Nothing here takes a logarithm of zero, so no warning is
raised and no NaN appears.

A joint distribution ``p(x, y)`` enters either as an array (checked by :func:`check_joint`) or
as paired samples (estimated by :func:`joint_from_samples`, which bins continuous values and
returns the binning it used).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import entr, rel_entr

__all__ = [
    "EstimatedJoint",
    "check_joint",
    "conditional_entropy",
    "entropy",
    "joint_from_samples",
    "kl_divergence",
    "mutual_information",
]

LN2 = np.log(2.0)
SUM_ATOL = 1e-6


def _as_float_array(p, name: str) -> np.ndarray:
    arr = np.asarray(p)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be an array of real numbers, not of dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued; it has complex dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} contains NaN or infinite entries; a probability must be a finite number "
            "in [0, 1] (check how the array was computed)"
        )
    if np.any(arr < 0):
        raise ValueError(
            f"{name} has negative entries (smallest {arr.min():.3g}); probabilities must be >= 0 "
            "(if they are rounding noise, use np.clip(p, 0, None) and renormalise; otherwise "
            "check how the array was computed)"
        )
    return arr


def _check_distribution(p, name: str, axis=None) -> np.ndarray:
    arr = _as_float_array(p, name)
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); give at least one probability (for a joint: "
            "a row per value of X and a column per value of Y)"
        )
    total = arr.sum(axis=axis)
    if not np.allclose(total, 1.0, rtol=0, atol=SUM_ATOL):
        worst = float(np.ravel(total)[np.argmax(np.abs(np.ravel(total) - 1.0))])
        where = "in total" if axis is None else f"along axis {axis}"
        raise ValueError(
            f"{name} sums to {worst:.6g} {where}, not 1 (tolerance {SUM_ATOL:g}); normalise it "
            "first, e.g. p / p.sum()"
        )
    return arr


def check_joint(pxy) -> np.ndarray:
    """Validate a joint distribution ``p(x, y)`` and return it as float64.

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y)
        ``pxy[i, j]`` is the probability of the i-th value of X together with the j-th of Y.

    Returns
    -------
    ndarray of shape (n_x, n_y)
        The same numbers as float64 (not renormalised: a sum off 1 by more than ``1e-6`` is an
        error, since it usually means a wrong array rather than rounding).

    Raises
    ------
    TypeError
        If the entries are not real numbers.
    ValueError
        If the array is not 2-D, is empty, holds NaN, infinite or negative entries, or does not
        sum to 1.
    """
    arr = np.asarray(pxy)
    if arr.ndim != 2:
        raise ValueError(
            f"p(x, y) must be a 2-D array of shape (n_x, n_y); got {arr.ndim}-D shape {arr.shape}"
            " (for samples of x and y use joint_from_samples(x, y))"
        )
    return _check_distribution(arr, "p(x, y)")


def entropy(p, axis: int | None = None) -> float | np.ndarray:
    """Shannon entropy in bits, ``H = -sum p log2 p`` with ``0 log 0 = 0``.

    Parameters
    ----------
    p : array-like
        Probabilities summing to 1 (over everything, or along ``axis``).
    axis : int or None, default None
        Sum over all entries (a joint entropy) or along one axis (one entropy per slice).

    Returns
    -------
    float or ndarray
        Entropy in bits; an array of the remaining shape when ``axis`` is given.
    """
    arr = _check_distribution(p, "p", axis=axis)
    h = entr(arr).sum(axis=axis) / LN2
    return float(h) if np.ndim(h) == 0 else h


def kl_divergence(p, q, axis: int | None = None) -> float | np.ndarray:
    """Kullback-Leibler divergence ``KL[p || q]`` in bits.

    Parameters
    ----------
    p, q : array-like of the same shape
        Probabilities, each summing to 1 (over everything, or along ``axis``).
    axis : int or None, default None
        As in :func:`entropy`.

    Returns
    -------
    float or ndarray
        ``sum p log2(p / q)``; ``inf`` where some ``p > 0`` meets ``q = 0``, and terms with
        ``p = 0`` count zero.
    """
    p_arr = _check_distribution(p, "p", axis=axis)
    q_arr = _check_distribution(q, "q", axis=axis)
    if p_arr.shape != q_arr.shape:
        raise ValueError(
            f"p has shape {p_arr.shape} but q has shape {q_arr.shape}; KL compares two "
            "distributions over the same outcomes"
        )
    d = rel_entr(p_arr, q_arr).sum(axis=axis) / LN2
    return float(d) if np.ndim(d) == 0 else d


def mutual_information(pxy) -> float:
    """Mutual information ``I(X;Y) = H(X) + H(Y) - H(X,Y)`` in bits of a joint ``p(x, y)``.

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y)
        A joint distribution (see :func:`check_joint`).

    Returns
    -------
    float
        ``I(X;Y) >= 0``, clipped at 0 against rounding.
    """
    pxy = check_joint(pxy)
    mi = (entr(pxy.sum(1)).sum() + entr(pxy.sum(0)).sum() - entr(pxy).sum()) / LN2
    return max(float(mi), 0.0)


def conditional_entropy(pxy) -> float:
    """``H(Y|X) = H(X,Y) - H(X)`` in bits of a joint ``p(x, y)`` of shape (n_x, n_y)."""
    pxy = check_joint(pxy)
    return max(float((entr(pxy).sum() - entr(pxy.sum(1)).sum()) / LN2), 0.0)


@dataclass(frozen=True)
class EstimatedJoint:
    """A joint distribution estimated from samples, with the values each index stands for.

    Attributes
    ----------
    pxy : ndarray of shape (n_x, n_y)
        Empirical frequencies ``count(x_i, y_j) / n_samples``.
    x_values : ndarray of shape (n_x,) or (n_x, n_x_features)
        The distinct (binned) values of X in index order: row ``i`` is what index ``i`` means.
        For binned columns the entries are bin indices into ``x_bin_edges``.
    y_values : ndarray of shape (n_y,) or (n_y, n_y_features)
        The same for Y.
    x_index : ndarray of shape (n_samples,)
        The index of each sample's X value, so ``x_values[x_index]`` recovers the (binned)
        samples; use it to map cluster labels of X values back to samples.
    y_index : ndarray of shape (n_samples,)
        The same for Y.
    x_bin_edges : list of ndarray or None
        Per column of X, the bin edges used (``None`` for a column taken as discrete); ``None``
        when no column was binned.
    n_samples : int
        How many samples the frequencies come from.
    """

    pxy: np.ndarray
    x_values: np.ndarray
    y_values: np.ndarray
    x_index: np.ndarray
    y_index: np.ndarray
    x_bin_edges: list | None
    n_samples: int


def _as_rows(v, name: str) -> np.ndarray:
    arr = np.asarray(v)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (one value per sample) or 2-D (one row of features per "
            f"sample); got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no samples; give at least one")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; drop or impute those samples")
    return arr


def _is_continuous(col: np.ndarray) -> bool:
    return col.dtype.kind in "fc" and not np.all(col == np.round(col))


def _bin_columns(x: np.ndarray, bins) -> tuple[np.ndarray, list | None]:
    """Bin the non-integer columns of x (equal-width, or at given edges); keep the others."""
    x2 = x.reshape(len(x), -1)
    continuous = [_is_continuous(x2[:, j]) for j in range(x2.shape[1])]
    if not any(continuous):
        return x, None
    if bins is None:
        raise ValueError(
            "x has non-integer values; IB needs discrete X, so pass x_bins=K (K equal-width "
            "bins per continuous column) or x_bins=edges (an increasing array of bin edges)"
        )
    if isinstance(bins, int | np.integer):
        if bins < 1:
            raise ValueError(f"x_bins must be a positive number of bins; got {bins}")
    else:
        given = np.asarray(bins, dtype=np.float64)
        if given.ndim != 1 or len(given) < 2 or np.any(np.diff(given) <= 0):
            raise ValueError("x_bins as edges must be a 1-D increasing array of at least 2 numbers")
    out = x2.astype(np.float64)
    edges_per_col: list = []
    for j, is_cont in enumerate(continuous):
        if not is_cont:
            edges_per_col.append(None)
            continue
        col = x2[:, j].astype(np.float64)
        edges = (
            np.histogram_bin_edges(col, bins=int(bins))
            if isinstance(bins, int | np.integer)
            else given
        )
        # Bin i holds edges[i] <= v < edges[i + 1], the last bin closed on the right, as in
        # numpy.histogram; values outside the edges go to the outermost bins.
        out[:, j] = np.clip(np.searchsorted(edges, col, side="right") - 1, 0, len(edges) - 2)
        edges_per_col.append(edges)
    return out.astype(np.int64).reshape(x.shape), edges_per_col


def _index(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, inverse = np.unique(v, axis=0, return_inverse=True)
    return values, inverse.reshape(-1)


def joint_from_samples(x, y, x_bins: int | np.ndarray | None = None) -> EstimatedJoint:
    """Estimate ``p(x, y)`` from paired samples by counting.

    Parameters
    ----------
    x : array-like of shape (n_samples,) or (n_samples, n_x_features)
        Values of X. A row of several features is one value of X (e.g. a window of past
        symbols or a person's attributes). Non-integer columns must be binned via ``x_bins``.
    y : array-like of shape (n_samples,) or (n_samples, n_y_features)
        Values of Y, discrete.
    x_bins : int or array-like or None, default None
        For non-integer columns of X: an int is a number of equal-width bins spanning each
        such column's range (``numpy.histogram_bin_edges``); an array is the bin edges to use
        for every column. The edges used are returned in ``x_bin_edges``.

    Returns
    -------
    EstimatedJoint
        The frequencies, the value each index stands for and the binning.

    Raises
    ------
    ValueError
        If x and y hold different numbers of samples, have NaN, are not 1-D or 2-D, are empty,
        or X is continuous and ``x_bins`` is not given; y continuous likewise.
    """
    x_arr = _as_rows(x, "x")
    y_arr = _as_rows(y, "y")
    if len(x_arr) != len(y_arr):
        raise ValueError(
            f"x has {len(x_arr)} samples but y has {len(y_arr)}; pass one y per x (paired samples)"
        )
    if any(_is_continuous(c) for c in y_arr.reshape(len(y_arr), -1).T):
        raise ValueError(
            "y has non-integer values; bin it into discrete classes first (e.g. with "
            "numpy.digitize), since p(y|x) is estimated by counting"
        )
    x_binned, edges = _bin_columns(x_arr, x_bins)
    x_values, x_index = _index(x_binned)
    y_values, y_index = _index(y_arr)
    counts = np.zeros((len(x_values), len(y_values)))
    np.add.at(counts, (x_index, y_index), 1.0)
    return EstimatedJoint(
        pxy=counts / len(x_arr),
        x_values=x_values,
        y_values=y_values,
        x_index=x_index,
        y_index=y_index,
        x_bin_edges=edges,
        n_samples=len(x_arr),
    )
