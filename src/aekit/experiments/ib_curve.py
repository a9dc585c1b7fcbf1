"""`aekit ib curve`: the whole information plane of a joint distribution stored in a file.

Reads ``p(x, y)`` (rows: values of X, columns: values of Y) from a ``.npy`` file (or ``.npz``,
``.csv``, ``.tsv``, ``.txt``), traces the generalized IB curve with betas chosen by
:func:`aekit.ib.ib_curve` (Strouse & Schwab, Neural Computation 2017: IB at ``alpha = 1``,
the deterministic IB at ``alpha = 0``), and writes ``curve.json`` (the points, the gaps the
curve reports, every solution found) and ``information_plane.png`` into an output folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from aekit.atomic import atomic_write_json
from aekit.data.files import SUPPORTED_SUFFIXES, load_array
from aekit.ib import IBCurve, ib_curve
from aekit.viz.figures import save_figure
from aekit.viz.ib import information_plane

__all__ = ["format_curve_summary", "load_joint", "run_curve"]

FIGURE = "information_plane.png"
RESULTS = "curve.json"


def load_joint(path: str | Path) -> np.ndarray:
    """A joint distribution from a file, as a 2-D float64 array (not yet checked as one).

    ``.npy`` files are read without pickles; other formats as :func:`aekit.data.load_array`
    reads them. An array of more than two dimensions is refused here (the data loader would
    flatten an image stack).
    """
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"{path}: a joint p(x, y) is read from {', '.join(SUPPORTED_SUFFIXES)}; save it "
            "with numpy.save(path, pxy)"
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file; save the joint first, e.g. numpy.save('{path.name}', pxy)"
        )
    if path.suffix.lower() == ".npy":
        try:
            ndim = np.load(path, mmap_mode="r", allow_pickle=False).ndim
        except ValueError:
            ndim = 2  # load_array names what is wrong with the file
        if ndim != 2:
            raise ValueError(
                f"{path}: p(x, y) must be a 2-D array (rows: values of X, columns: values of "
                f"Y); the file holds a {ndim}-D array"
            )
    return np.asarray(load_array(path), dtype=np.float64)


def _kind(alpha: float) -> str:
    return {0.0: "DIB", 1.0: "IB"}.get(alpha, f"generalized IB (alpha {alpha:g})")


def _points(curve: IBCurve) -> list[dict[str, float]]:
    return [
        {
            "beta": float(s.beta),
            "i_xt": float(s.i_xt),
            "h_t": float(s.h_t),
            "i_ty": float(s.i_ty),
            "objective": float(s.objective),
            "n_clusters": int(s.n_clusters),
        }
        for s in curve.solutions
    ]


def run_curve(
    joint: str | Path,
    out_dir: str | Path,
    alpha: float = 1.0,
    n_clusters: int | None = None,
    n_restarts: int = 3,
    gap: float = 0.05,
    coverage: float = 0.99,
    seed: int = 0,
) -> dict[str, Any]:
    """Trace the IB curve of the joint in a file; write ``curve.json`` and the figure.

    Parameters
    ----------
    joint : str or Path
        A file holding ``p(x, y)`` of shape (n_x, n_y), summing to 1 (see
        :func:`aekit.ib.check_joint`).
    out_dir : str or Path
        Output folder (created).
    alpha : float, default 1.0
        Weight of H(T|X): 1 is IB, 0 is DIB.
    n_clusters, n_restarts, gap, coverage
        As in :func:`aekit.ib.ib_curve`.
    seed : int, default 0
        Seed of the random starts.

    Returns
    -------
    dict
        What ``curve.json`` holds: the points in increasing beta (``beta``, ``i_xt``, ``h_t``,
        ``i_ty``, ``objective``, ``n_clusters``), the ``gaps`` the curve reports, ``found``
        (every solution), the joint's ``i_xy_bits``, ``h_x_bits`` and ``h_y_bits``, the
        settings and the seconds it took.
    """
    pxy = load_joint(joint)
    start = time.perf_counter()
    curve = ib_curve(
        pxy,
        alpha=alpha,
        n_clusters=n_clusters,
        n_restarts=n_restarts,
        gap=gap,
        coverage=coverage,
        random_state=seed,
    )
    seconds = time.perf_counter() - start
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    axis = "h_t" if curve.alpha == 0 else "i_xt"
    figure = information_plane(
        {_kind(curve.alpha): curve},
        x=axis,
        title=f"{_kind(curve.alpha)} curve of {Path(joint).name}: {len(curve.betas)} betas, "
        f"{len(curve.gaps)} gap(s)",
    )
    save_figure(figure, out / FIGURE)
    data = curve.to_dict()
    results = {
        "joint": str(joint),
        "shape": list(pxy.shape),
        "alpha": curve.alpha,
        "kind": _kind(curve.alpha),
        "i_xy_bits": curve.i_xy,
        "h_x_bits": curve.h_x,
        "h_y_bits": curve.h_y,
        "points": _points(curve),
        "gaps": data["gaps"],
        "x_axis": axis,
        "coverage_reached": curve.settings.get("coverage_reached"),
        "settings": {**data["settings"], "seed": seed},
        "found": data["found"],
        "figure": FIGURE,
        "seconds": seconds,
    }
    atomic_write_json(out / RESULTS, results)
    return results


def format_curve_summary(results: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    points, axis = results["points"], results["x_axis"]
    label = "H(T)" if axis == "h_t" else "I(X;T)"
    top = points[-1]
    lines = [
        f"{results['kind']} curve of p(x, y) {results['shape'][0]} x {results['shape'][1]}: "
        f"I(X;Y) = {results['i_xy_bits']:.4f} bits",
        f"{len(points)} betas from {points[0]['beta']:.4g} to {top['beta']:.4g}; the last "
        f"point keeps I(T;Y) = {top['i_ty']:.4f} bits at {label} = {top[axis]:.4f} "
        f"({top['n_clusters']} clusters)",
    ]
    for g in results["gaps"]:
        lines.append(
            f"gap at beta {g['beta']:.4g}: {label} {g['x_left']:.4f} -> {g['x_right']:.4f} "
            f"({g['reason']})"
        )
    if not results["coverage_reached"]:
        lines.append(
            f"the curve stops short of {results['settings']['coverage']:.0%} of I(X;Y) "
            "(too few clusters allowed?)"
        )
    return "\n".join(lines)
