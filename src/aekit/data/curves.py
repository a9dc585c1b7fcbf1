"""The synthetic "curves" data set of Hinton & Salakhutdinov (2006).

G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of data with neural
networks", Science 313(5786):504-507, 2006. The paper's first experiment trains a
784-400-200-100-50-25-6 autoencoder on 20,000 training and 10,000 test 28x28 images of curves
"generated from three randomly chosen points in two dimensions"; each image therefore has six
true degrees of freedom, which is why the code layer has six units.

The paper's own images are not distributed, so this module regenerates the set from that
description. One image is made as follows (coordinates in pixels, pixel ``(row, col)`` has its
centre at ``(x, y) = (col, row)``):

1. Draw three control points ``P0, P1, P2``. The default layout, ``"paper"``, follows the
   paper's supporting online material: "we constrained the x coordinate of each point to be at
   least 2 greater than the x coordinate of the previous point. We also constrained all
   coordinates to lie in the range [2, 25]". So every curve runs from left to right (it is
   the graph of a function of x, and the order of its points is fixed by the image), with
   the three x coordinates drawn uniformly over the allowed region (three sorted uniforms on
   ``[2, 21]`` shifted by ``0, 2, 4``) and the y coordinates independently uniform on
   ``[2, 25]``; at other sizes the constants scale with ``size / 28``. The ``"free"``
   layout drops the ordering: the points are uniform in ``[m, size - 1 - m]^2`` with a
   margin ``m = 0.1 * size``, so curves take any orientation, can fold back, and the same
   image arises from the points in either order (a harder set). A free triple whose
   polyline ``|P1 - P0| + |P2 - P1|`` is shorter than ``0.15 * size`` would draw a dot
   rather than a curve, so each image draws four candidate triples at once and keeps the
   first long enough one (the last if none is, which happens with probability about 2e-11).
2. Pass a natural cubic spline through the three points, parametrised by chord length
   (knots at ``0``, ``|P1 - P0|`` and ``|P1 - P0| + |P2 - P1|``): two cubic pieces, zero
   curvature at both ends, continuous tangent and curvature at ``P1``.
3. Ink the image with a Gaussian pen: evaluate the spline at 127 points (at size 28) and sum,
   over those points, a Gaussian of standard deviation 0.5 pixel centred on the point, each
   weighted by the arc length it stands for. This is the line integral of the pen along the
   curve, so a pixel at distance ``d`` from a straight stretch of curve gets ink
   ``1.5 * exp(-d**2 / 0.5)``, a smooth function of the distance; clipping to ``[0, 1]`` then
   gives a solid core and a stroke about 1.5 pixels wide (ink >= 0.5 within 0.74 pixel of
   the curve), anti-aliased at its edges. Where the curve folds back on itself the ink adds
   up and is clipped as well.

The Gaussian is separable, so the image is the matrix product ``Gy.T @ Gx`` of two
``(n_points, size)`` tables of 1-D Gaussians; all images in a chunk go through one batched
matrix product, which is what makes 30,000 images take about a second.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["make_curves"]

# Pen and layout constants; the module docstring explains each one.
_PEN_SIGMA = 0.5
_PEN_PEAK = 1.5
_MARGIN_FRACTION = 0.1
_MIN_LENGTH_FRACTION = 0.15
_N_CANDIDATES = 4
# The paper's layout at size 28: coordinates in [2, 25] (a margin of 2 on each side of the
# pixel centres 0..27), x steps of at least 2.
_PAPER_MARGIN = 2.0
_PAPER_MIN_STEP = 2.0
LAYOUTS = ("paper", "free")
# Samples per spline piece at size 28, scaled up with the size. A piece is at most ~32 pixels
# of arc at size 28 and the parametrisation is not exactly arc length, so samples end up at
# most ~0.8 pixel apart; a sum of Gaussians of width 0.5 spaced that closely equals the line
# integral to within 1e-3 (Poisson summation: the error falls like exp(-2 pi^2 sigma^2 / h^2)).
_SAMPLES_PER_PIECE_28 = 64
# Images rendered per batched matrix product; bounds the temporary tables to a few MB.
_CHUNK = 512


def _control_points(
    rng: np.random.Generator, n: int, size: int, layout: str = "paper"
) -> np.ndarray:
    """Draw ``(n, 3, 2)`` control points ``(x, y)`` in the given layout (step 1)."""
    if layout == "paper":
        scale = size / 28.0
        low, high = _PAPER_MARGIN * scale, size - 1 - _PAPER_MARGIN * scale
        step = _PAPER_MIN_STEP * scale
        # Sorting three uniforms on [low, high - 2 step] and adding 0, step, 2 step maps the
        # ordered triples one to one, with unit Jacobian, onto the triples whose steps are at
        # least `step`: the result is uniform over the allowed region, without rejection.
        # One draw, image by image in C order, so that a set of k images is the start of a
        # set of n > k with the same seed.
        xy = rng.uniform(size=(n, 2, 3))
        x = np.sort(low + (high - 2 * step - low) * xy[:, 0], axis=1) + step * np.arange(3)
        y = low + (high - low) * xy[:, 1]
        return np.stack([x, y], axis=-1)
    margin = _MARGIN_FRACTION * size
    # All candidates come from one draw of shape (n, C, 3, 2), image by image in C order, so
    # the first k images of a set of n are the k images of a set of k with the same seed.
    cand = rng.uniform(margin, size - 1 - margin, size=(n, _N_CANDIDATES, 3, 2))
    length = np.linalg.norm(np.diff(cand, axis=2), axis=-1).sum(axis=-1)  # (n, C)
    ok = length >= _MIN_LENGTH_FRACTION * size
    pick = np.where(ok.any(axis=1), ok.argmax(axis=1), _N_CANDIDATES - 1)
    return cand[np.arange(n), pick]


def _spline(points: np.ndarray, k: int) -> np.ndarray:
    """Sample the chord-length natural cubic spline through ``points`` (step 2).

    ``points`` is ``(n, 3, 2)``; returns ``(n, 2k - 1, 2)`` points, ``k`` per piece with the
    shared middle point once.
    """
    p0, p1, p2 = points[:, 0], points[:, 1], points[:, 2]  # (n, 2) each
    d0, d1 = p1 - p0, p2 - p1
    # The floor only matters for coincident points, where the unit chord d/h is then 0.
    h0 = np.maximum(np.linalg.norm(d0, axis=-1, keepdims=True), 1e-9)  # (n, 1)
    h1 = np.maximum(np.linalg.norm(d1, axis=-1, keepdims=True), 1e-9)
    # Second derivative at the middle knot; the natural end conditions set it to zero at the
    # ends. This is the single row of the tridiagonal spline system for three knots.
    m1 = 3.0 * (d1 / h1 - d0 / h0) / (h0 + h1)  # (n, 2)
    s = np.linspace(0.0, 1.0, k)[None, :, None]  # (1, k, 1), position within a piece
    r = 1.0 - s
    piece0 = p0[:, None] * r + p1[:, None] * s + (m1 * h0**2 / 6.0)[:, None] * (s**3 - s)
    piece1 = p1[:, None] * r + p2[:, None] * s + (m1 * h1**2 / 6.0)[:, None] * (r**3 - r)
    return np.concatenate([piece0, piece1[:, 1:]], axis=1)


def _render(points: np.ndarray, size: int) -> np.ndarray:
    """Ink ``(n, size * size)`` float32 images of the splines through ``points`` (step 3)."""
    k = max(_SAMPLES_PER_PIECE_28, math.ceil(_SAMPLES_PER_PIECE_28 * size / 28))
    q = _spline(points, k)  # (n, K, 2) with K = 2k - 1
    step = np.linalg.norm(np.diff(q, axis=1), axis=-1)  # (n, K - 1)
    # Trapezoid weights: each sample stands for half of the arc on either side of it.
    weight = np.zeros(q.shape[:2])
    weight[:, :-1] += step / 2
    weight[:, 1:] += step / 2
    weight *= _PEN_PEAK / (_PEN_SIGMA * math.sqrt(2.0 * math.pi))
    grid = np.arange(size, dtype=np.float32)
    inv = np.float32(-0.5 / _PEN_SIGMA**2)
    q = q.astype(np.float32)
    gx = np.exp(inv * (grid - q[..., 0:1]) ** 2)  # (n, K, size): columns
    gy = np.exp(inv * (grid - q[..., 1:2]) ** 2)  # (n, K, size): rows
    gx *= weight.astype(np.float32)[..., None]
    images = np.matmul(gy.transpose(0, 2, 1), gx)  # (n, size rows, size cols)
    np.clip(images, 0.0, 1.0, out=images)
    return images.reshape(len(points), size * size)


def _generate(rng: np.random.Generator, n: int, size: int, layout: str) -> np.ndarray:
    points = _control_points(rng, n, size, layout)
    out = np.empty((n, size * size), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        out[start : start + _CHUNK] = _render(points[start : start + _CHUNK], size)
    return out


def make_curves(
    n_train: int = 20000,
    n_test: int = 10000,
    seed: int = 0,
    size: int = 28,
    layout: str = "paper",
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the curves data set of Hinton & Salakhutdinov (2006).

    Each image is a smooth curve (a natural cubic spline) through three random points, drawn
    with an anti-aliased Gaussian pen; see the module docstring for the construction.

    Parameters
    ----------
    n_train : int, default=20000
        Number of training images (the paper's count).
    n_test : int, default=10000
        Number of test images (the paper's count).
    seed : int, default=0
        Seed. The same seed gives the same bytes. Training and test images come from two
        independent streams spawned from it, so changing ``n_test`` leaves the training set
        unchanged (and vice versa); within a set, the first ``k`` of ``n`` images equal the
        ``k`` images generated with ``n = k``.
    size : int, default=28
        Side of the square image in pixels.
    layout : {"paper", "free"}, default="paper"
        Where the three points may lie: ``"paper"`` as in the paper's supporting material
        (left to right, x steps of at least 2, coordinates in [2, 25]); ``"free"`` anywhere
        in the square, in any order. See the module docstring.

    Returns
    -------
    x_train : ndarray of shape (n_train, size * size), dtype float32
        Training images, flattened row by row, values in [0, 1].
    x_test : ndarray of shape (n_test, size * size), dtype float32
        Test images, likewise.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If a count or the seed is negative, ``size`` is below 8, or ``layout`` is unknown.

    Examples
    --------
    >>> x_train, x_test = make_curves(n_train=100, n_test=10, seed=0)
    >>> x_train.shape, x_test.shape
    ((100, 784), (10, 784))
    """
    for arg, value in (("n_train", n_train), ("n_test", n_test), ("seed", seed), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(
                f"make_curves: {arg} must be an int, got {type(value).__name__} {value!r}."
            )
    if n_train < 0 or n_test < 0:
        raise ValueError(
            f"make_curves: image counts must be >= 0, got n_train={n_train}, n_test={n_test}."
        )
    if seed < 0:
        raise ValueError(f"make_curves: seed must be >= 0, got {seed}.")
    if size < 8:
        raise ValueError(
            f"make_curves: size={size} is too small to draw a curve on; use 8 or more "
            "(the paper uses 28)."
        )
    if layout not in LAYOUTS:
        raise ValueError(
            f"make_curves: layout={layout!r} is not one of {LAYOUTS}; use 'paper' for the "
            "paper's curves or 'free' for points anywhere in any order."
        )
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    x_train = _generate(np.random.default_rng(train_seq), int(n_train), int(size), layout)
    x_test = _generate(np.random.default_rng(test_seq), int(n_test), int(size), layout)
    return x_train, x_test
