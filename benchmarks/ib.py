"""Discrete IB and DIB: aekit against embo, the maintained reference implementation, over a
family of joints, reporting the worst case.

embo (E. Piasini, A. Filipowicz, J. Levine, J. Gold, "Embo: a Python package for empirical data
analysis using the Information Bottleneck", Journal of Open Research Software 9(1), 2021; PyPI
``embo``) is installed by this script into its own virtual environment,
``benchmarks/.venv-embo`` (git-ignored), and run in a subprocess of that environment, which times
itself. Both libraries get the same p(x, y), embo's default beta grid (30 values, linearly
spaced in [0.01, 5]) and 3 restarts per beta, on one thread.

The joints (:data:`JOINTS`), each generated from a seed, differ in shape and structure: small
and dense, the 8-prototype mixture of earlier versions of this benchmark, a joint drawn flat
over all its cells (no structure beyond chance), a smooth ordinal one (p(y|x) a bump whose
centre moves with x), a tall one with many more values of X than of Y, a near-deterministic
one (y = f(x) with 1% noise) and a near-independent one (p(y|x) = 95% p(y) + 5% noise).

embo runs as a bare loop over its per-beta solver ``InformationBottleneck.beta_iter`` (its
public API adds a one-process ``multiprocessing.Pool`` around the same work). Speeds compare
CPU seconds (a shared machine stretches wall time, not the CPU time one thread needs); wall
times are reported beside them. embo's settings are its defaults (at most 100 iterations,
relative tolerance 1e-3 on the cost); aekit's are its own (``beta_sweep`` and ``ib_curve``
defaults: tolerance 1e-5 bits, annealing both ways, every solution priced at every beta).

Targets (issue 21), each reported as the worst case over the joints:

- embo's CPU time >= 5x aekit's, for IB and for DIB, on every joint (embo's grid);
- on embo's grid: where aekit's upper envelope of I(T;Y) against I(X;T) (IB) or H(T) (DIB)
  falls below embo's, and by how much (each envelope interpolated linearly, compared at the
  union of their points over the range both cover); and at how many betas aekit's objective
  is no worse than embo's;
- with the automatic curve (``aekit.ib.ib_curve``), aekit's upper envelope (the concave hull of
  every solution it found, flat beyond its last point, as any encoder can spend more bits
  without losing any) is nowhere below embo's by more than 0.005 bits over the range embo
  covers.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ib.py [--repeats 3] [--joints NAME ...]``
(about half an hour on a 2-core machine, most of it embo on the two largest joints).
"""

from __future__ import annotations

import os

# One thread, as in the measurement; set before NumPy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import venv  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from aekit.ib import beta_sweep, ib_curve, mutual_information, upper_envelope  # noqa: E402

HERE = Path(__file__).resolve().parent
EMBO_VENV = HERE / ".venv-embo"
EMBO_REQUIREMENT = "embo==1.1.0"
BETAS = dict(minbeta=0.01, maxbeta=5.0, numbeta=30)  # embo's defaults
RESTARTS = 3
SPEEDUP_TARGET = 5.0
AUTO_SLACK = 0.005  # bits: the automatic curve against embo's
# embo's work per step grows as n_x^2 n_y; joints above this run once (not --repeats times).
EMBO_REPEAT_LIMIT = 5e6

EMBO_SCRIPT = r"""
import json, sys, time
import numpy as np
import embo
from embo import InformationBottleneck

args = json.loads(sys.argv[1])
pxy = np.load(args["pxy"])
px, py = pxy.sum(1), pxy.sum(0)
pyx_c = pxy.T / px
betas = np.linspace(args["minbeta"], args["maxbeta"], args["numbeta"])
out = {"embo_version": getattr(embo, "__version__", None), "numpy": np.__version__}
for name, alpha in (("ib", 1), ("dib", 0)):
    wall, cpu = [], []
    for r in range(args["repeats"]):
        np.random.seed(args["seed"] + r)
        t, c = time.perf_counter(), time.process_time()
        rows = [InformationBottleneck.beta_iter(alpha, b, px, py, pyx_c, px.size,
                                                args["restarts"], 100) for b in betas]
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    out[name] = {
        "wall_seconds": wall, "cpu_seconds": cpu,
        "beta": [float(r[3]) for r in rows], "i_xt": [float(r[0]) for r in rows],
        "i_ty": [float(r[1]) for r in rows], "h_t": [float(r[2]) for r in rows],
    }
print(json.dumps(out))
"""


# The joints ----------------------------------------------------------------------------------


def _with_px(rng: np.random.Generator, py_x: np.ndarray, concentration: float) -> np.ndarray:
    px = rng.dirichlet(np.full(len(py_x), concentration))
    return px[:, None] * py_x


def prototypes(seed: int = 0, n_x: int = 200, n_y: int = 20, k: int = 8) -> np.ndarray:
    """Each x mixes a few of k sparse prototypes p(y|k) (the earlier benchmark's joint)."""
    rng = np.random.default_rng(seed)
    protos = rng.dirichlet(np.full(n_y, 0.1), size=k)
    weights = rng.dirichlet(np.full(k, 0.05), size=n_x)
    return _with_px(rng, weights @ protos, 2.0)


def dirichlet_rows(n_x: int, n_y: int, concentration: float, seed: int = 0) -> np.ndarray:
    """Every p(y|x) drawn on its own from Dirichlet(concentration); p(x) ~ Dirichlet(1)."""
    rng = np.random.default_rng(seed)
    return _with_px(rng, rng.dirichlet(np.full(n_y, concentration), size=n_x), 1.0)


def flat(n_x: int, n_y: int, seed: int = 0) -> np.ndarray:
    """The whole joint drawn from a flat Dirichlet over its n_x n_y cells."""
    return np.random.default_rng(seed).dirichlet(np.ones(n_x * n_y)).reshape(n_x, n_y)


def ordinal(n_x: int, n_y: int, width: float = 3.0, seed: int = 0) -> np.ndarray:
    """p(y|x) a Gaussian bump of the given width whose centre moves along Y with x."""
    rng = np.random.default_rng(seed)
    centre = np.linspace(0, n_y - 1, n_x) + rng.normal(0, 1, n_x)
    py_x = np.exp(-0.5 * ((np.arange(n_y)[None] - centre[:, None]) / width) ** 2)
    return _with_px(rng, py_x / py_x.sum(1, keepdims=True), 2.0)


def near_deterministic(n_x: int, n_y: int, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """y = f(x) for a random f, except with probability ``noise`` (spread over the others)."""
    rng = np.random.default_rng(seed)
    py_x = np.full((n_x, n_y), noise / (n_y - 1))
    py_x[np.arange(n_x), rng.integers(n_y, size=n_x)] = 1 - noise
    return _with_px(rng, py_x, 2.0)


def near_independent(n_x: int, n_y: int, mix: float = 0.05, seed: int = 0) -> np.ndarray:
    """p(y|x) = (1 - mix) p(y) + mix Dirichlet(0.5) noise: I(X;Y) of a few millibits."""
    rng = np.random.default_rng(seed)
    py = rng.dirichlet(np.full(n_y, 2.0))
    return _with_px(rng, (1 - mix) * py + mix * rng.dirichlet(np.full(n_y, 0.5), (n_x,)), 2.0)


JOINTS: dict[str, tuple[Callable[[], np.ndarray], str]] = {
    "dirichlet-50x10": (
        lambda: dirichlet_rows(50, 10, 0.3),
        "50x10, each p(y|x) ~ Dirichlet(0.3), p(x) ~ Dirichlet(1), seed 0",
    ),
    "prototypes-200x20": (
        prototypes,
        "200x20, 8 Dirichlet(0.1) prototypes over Y mixed with Dirichlet(0.05) weights per x, "
        "p(x) ~ Dirichlet(2), seed 0",
    ),
    "flat-200x20": (lambda: flat(200, 20), "200x20, the joint ~ Dirichlet(1) over 4000 cells"),
    "near-deterministic-300x12": (
        lambda: near_deterministic(300, 12),
        "300x12, y = f(x) for a random f with probability 0.99, p(x) ~ Dirichlet(2), seed 0",
    ),
    "near-independent-200x20": (
        lambda: near_independent(200, 20),
        "200x20, p(y|x) = 0.95 p(y) + 0.05 Dirichlet(0.5), p(x) ~ Dirichlet(2), seed 0",
    ),
    "ordinal-1000x50": (
        lambda: ordinal(1000, 50),
        "1000x50, p(y|x) a Gaussian bump (sd 3) centred at x's place along Y plus N(0, 1), "
        "p(x) ~ Dirichlet(2), seed 0",
    ),
    "tall-2000x10": (
        lambda: dirichlet_rows(2000, 10, 0.5),
        "2000x10, each p(y|x) ~ Dirichlet(0.5), p(x) ~ Dirichlet(1), seed 0",
    ),
}


# embo ------------------------------------------------------------------------------------------


def ensure_embo() -> tuple[Path | None, str]:
    """The venv's python with embo installed, or None and why not."""
    python = EMBO_VENV / "bin" / "python"
    check = [str(python), "-c", "import embo"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, "already installed"
    try:
        venv.create(EMBO_VENV, with_pip=True, clear=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", EMBO_REQUIREMENT]
        done = subprocess.run(pip, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"could not create {EMBO_VENV}: {err}"
    if done.returncode != 0:
        return None, f"pip install {EMBO_REQUIREMENT} failed: {done.stderr.strip()[-500:]}"
    return python, f"installed {EMBO_REQUIREMENT}"


def run_embo(python: Path, pxy: np.ndarray, repeats: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pxy.npy"
        np.save(path, pxy)
        args = dict(pxy=str(path), repeats=repeats, seed=seed, restarts=RESTARTS, **BETAS)
        done = subprocess.run(
            [str(python), "-c", EMBO_SCRIPT, json.dumps(args)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    if done.returncode != 0:
        raise RuntimeError(f"embo failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# aekit -----------------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """fn's result, CPU seconds and wall seconds."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.process_time() - c, time.perf_counter() - t


def run_aekit(pxy: np.ndarray, repeats: int, seed: int) -> dict:
    betas = np.linspace(BETAS["minbeta"], BETAS["maxbeta"], BETAS["numbeta"])
    out = {}
    for name, alpha in (("ib", 1.0), ("dib", 0.0)):
        cpu, wall = [], []
        for r in range(repeats):
            curve, c, w = timed(
                lambda r=r, alpha=alpha: beta_sweep(
                    pxy, betas, alpha=alpha, n_restarts=RESTARTS, random_state=seed + r
                )
            )
            cpu.append(c)
            wall.append(w)
        auto, auto_cpu, auto_wall = timed(
            lambda alpha=alpha: ib_curve(pxy, alpha=alpha, n_restarts=RESTARTS, random_state=seed)
        )
        out[name] = {
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "curve": curve,
            "auto": auto,
            "auto_cpu_seconds": auto_cpu,
            "auto_wall_seconds": auto_wall,
        }
    return out


# Comparisons -----------------------------------------------------------------------------------


def compare_envelopes(x_a, y_a, x_b, y_b, hi: float | None = None) -> dict:
    """aekit (a) against embo (b): envelope of a minus envelope of b, each interpolated
    linearly (flat beyond its last point), at the union of their points up to ``hi`` (by
    default the range both cover)."""
    ea, eb = upper_envelope(x_a, y_a), upper_envelope(x_b, y_b)
    if hi is None:
        hi = min(ea[0][-1], eb[0][-1])
    grid = np.union1d(ea[0], eb[0])
    grid = grid[grid <= hi + 1e-12]
    diff = np.interp(grid, *ea) - np.interp(grid, *eb)
    worst = int(np.argmin(diff))
    below = grid[diff < -1e-4]
    return {
        "range": [0.0, float(hi)],
        "min_difference_bits": float(diff[worst]),
        "at_x": float(grid[worst]),
        "mean_difference_bits": float(diff.mean()),
        "x_where_aekit_below_by_1e-4": [float(below.min()), float(below.max())]
        if len(below)
        else None,
        "aekit_max_i_ty": float(ea[1][-1]),
        "embo_max_i_ty": float(eb[1][-1]),
    }


def concave_envelope(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The vertices of the upper concave hull of the points, left to right, up to the highest.

    Its value at x is the most I(T;Y) any mix of the points reaches with no more compression
    (IB: achievable by time-sharing), and ``min`` over the points of ``compression - beta
    I(T;Y)`` is attained at one of its vertices for every beta.
    """
    ex, ey = upper_envelope(x, y)
    hull: list[tuple[float, float]] = []
    for p in zip(ex, ey):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                hull.pop()  # the middle point is on or under the chord
            else:
                break
        hull.append(p)
    return np.array([h[0] for h in hull]), np.array([h[1] for h in hull])


def costs(compression, i_ty, betas) -> np.ndarray:
    return np.asarray(compression) - np.asarray(betas) * np.asarray(i_ty)


def compare_joint(name: str, pxy: np.ndarray, aekit: dict, embo: dict | None) -> dict:
    """Speed, curves and costs of one joint, IB and DIB."""
    report: dict = {}
    ib, dib = aekit["ib"]["curve"], aekit["dib"]["curve"]
    # DIB's cost H(T) - beta I(T;Y) of aekit's IB solutions, against its DIB solutions.
    dib_of_ib, dib_of_dib = costs(ib.h_t, ib.i_ty, ib.betas), costs(dib.h_t, dib.i_ty, dib.betas)
    report["dib_vs_ib"] = {
        "cpu_seconds_ratio_ib_over_dib": statistics.median(aekit["ib"]["cpu_seconds"])
        / statistics.median(aekit["dib"]["cpu_seconds"]),
        "betas_dib_no_worse_on_dib_cost": int(np.sum(dib_of_dib <= dib_of_ib + 1e-9)),
        "n_betas": len(ib.betas),
    }
    for kind, x_key in (("ib", "i_xt"), ("dib", "h_t")):
        mine = aekit[kind]
        grid, auto = mine["curve"], mine["auto"]
        entry: dict = {
            "aekit_cpu_seconds_median": statistics.median(mine["cpu_seconds"]),
            "aekit_wall_seconds_median": statistics.median(mine["wall_seconds"]),
            "aekit_grid": {k: v for k, v in grid.to_dict().items() if k != "found"},
            "auto": {
                "cpu_seconds": mine["auto_cpu_seconds"],
                "wall_seconds": mine["auto_wall_seconds"],
                "n_betas": len(auto.betas),
                "n_found": len(auto.found["beta"]),
                "coverage_reached": auto.settings.get("coverage_reached"),
                "largest_gap_fraction": _largest_gap(auto, x_key),
                "gaps": auto.gaps,
                "curve": {k: v for k, v in auto.to_dict().items() if k != "found"},
            },
        }
        if embo is not None:
            e = embo[kind]
            t_embo = statistics.median(e["cpu_seconds"])
            t_mine = entry["aekit_cpu_seconds_median"]
            ours = np.asarray(grid.objective)
            alpha = 1.0 if kind == "ib" else 0.0
            theirs = costs(e[x_key], e["i_ty"], e["beta"])
            assert np.allclose(e["beta"], grid.betas), "beta grids differ"
            envelope_grid = compare_envelopes(
                grid.i_xt if alpha else grid.h_t, grid.i_ty, e[x_key], e["i_ty"]
            )
            # The automatic curve is judged by the concave hull of all it found: its points
            # are the hull's vertices up to coverage of I(X;Y) (each optimal over an interval
            # of beta), and the probe at the largest beta lies beyond. Joining the Pareto
            # points of everything found by lines instead can dip below the hull (a point
            # left over from a restart becomes a corner); that is reported too.
            envelope_auto = compare_envelopes(
                *concave_envelope(auto.found[x_key], auto.found["i_ty"]),
                e[x_key],
                e["i_ty"],
                hi=float(np.max(e[x_key])),
            )
            envelope_found = compare_envelopes(
                *auto.envelope(x_key), e[x_key], e["i_ty"], hi=float(np.max(e[x_key]))
            )
            entry.update(
                {
                    "embo": e,
                    "embo_cpu_seconds_median": t_embo,
                    "embo_wall_seconds_median": statistics.median(e["wall_seconds"]),
                    "speedup": {
                        "cpu": t_embo / t_mine,
                        "target": SPEEDUP_TARGET,
                        "passed": t_embo / t_mine >= SPEEDUP_TARGET,
                    },
                    "grid_envelope_vs_embo": envelope_grid,
                    "objective_vs_embo": {
                        "betas_aekit_no_worse": int(np.sum(ours <= theirs + 1e-9)),
                        "n_betas": len(ours),
                        "largest_aekit_excess_bits": float(np.max(ours - theirs)),
                    },
                    "auto_envelope_vs_embo": {
                        **envelope_auto,
                        "slack_bits": AUTO_SLACK,
                        "passed": envelope_auto["min_difference_bits"] >= -AUTO_SLACK,
                    },
                    "auto_all_found_pareto_vs_embo": envelope_found,
                }
            )
        report[kind] = entry
    return report


def _largest_gap(curve, x_key: str) -> float:
    x = np.asarray(getattr(curve, x_key))
    span = x.max() - x.min()
    return float(np.max(np.diff(x)) / span) if len(x) > 1 and span > 0 else 0.0


def _deficit(row: dict, key: str) -> float:
    return row[key]["min_difference_bits"]


def summarise(reports: dict) -> dict:
    """The worst case of each target over the joints."""
    summary: dict = {}
    for kind in ("ib", "dib"):
        rows = {n: r[kind] for n, r in reports.items() if "speedup" in r[kind]}
        if not rows:
            continue
        slowest = min(rows, key=lambda n: rows[n]["speedup"]["cpu"])
        grid_worst = min(
            rows, key=lambda n: rows[n]["grid_envelope_vs_embo"]["min_difference_bits"]
        )
        auto_worst = min(
            rows, key=lambda n: rows[n]["auto_envelope_vs_embo"]["min_difference_bits"]
        )
        summary[kind] = {
            "worst_speedup": {
                "joint": slowest,
                "cpu": rows[slowest]["speedup"]["cpu"],
                "target": SPEEDUP_TARGET,
                "passed": all(r["speedup"]["passed"] for r in rows.values()),
            },
            "grid_envelope_worst": {
                "joint": grid_worst,
                **rows[grid_worst]["grid_envelope_vs_embo"],
            },
            "objective_no_worse": {
                n: f"{r['objective_vs_embo']['betas_aekit_no_worse']}/"
                f"{r['objective_vs_embo']['n_betas']}"
                for n, r in rows.items()
            },
            "auto_envelope_worst": {
                "joint": auto_worst,
                "min_difference_bits": rows[auto_worst]["auto_envelope_vs_embo"][
                    "min_difference_bits"
                ],
                "slack_bits": AUTO_SLACK,
                "passed": all(r["auto_envelope_vs_embo"]["passed"] for r in rows.values()),
            },
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each grid sweep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--joints", nargs="+", choices=sorted(JOINTS), default=list(JOINTS), metavar="NAME"
    )
    parser.add_argument("--no-embo", action="store_true", help="time aekit alone")
    parser.add_argument("--out", default=str(HERE / "results" / "ib.json"))
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    # Compile (or load from numba's cache) aekit's kernels before anything is timed.
    for alpha in (0.0, 1.0):
        beta_sweep(dirichlet_rows(6, 3, 1.0), [2.0, 4.0], alpha=alpha, random_state=0)
    python, how = (None, "--no-embo") if args.no_embo else ensure_embo()
    if python is None:
        print(f"SKIP embo: {how}", file=sys.stderr)
    reports: dict = {}
    setups: dict = {}
    for name in args.joints:
        make, description = JOINTS[name]
        pxy = make()
        work = pxy.shape[0] ** 2 * pxy.shape[1]
        embo_repeats = args.repeats if work <= EMBO_REPEAT_LIMIT else 1
        setups[name] = {
            "description": description,
            "shape": list(pxy.shape),
            "i_xy_bits": mutual_information(pxy),
            "aekit_repeats": args.repeats,
            "embo_repeats": embo_repeats,
        }
        print(f"{name}: {pxy.shape}, I(X;Y) = {setups[name]['i_xy_bits']:.4f} bits", flush=True)
        aekit = run_aekit(pxy, args.repeats, args.seed)
        embo = run_embo(python, pxy, embo_repeats, args.seed) if python is not None else None
        reports[name] = compare_joint(name, pxy, aekit, embo)
        for kind in ("ib", "dib"):
            r = reports[name][kind]
            line = f"  {kind}: aekit {r['aekit_cpu_seconds_median']:.3f} CPU s"
            if "speedup" in r:
                g, a = r["grid_envelope_vs_embo"], r["auto_envelope_vs_embo"]
                line += (
                    f", embo {r['embo_cpu_seconds_median']:.3f} -> {r['speedup']['cpu']:.1f}x;"
                    f" grid envelope min {g['min_difference_bits']:+.4f} bits;"
                    f" objective no worse at {r['objective_vs_embo']['betas_aekit_no_worse']}/30;"
                    f" auto ({r['auto']['n_betas']} betas, {r['auto']['cpu_seconds']:.2f} s)"
                    f" envelope min {a['min_difference_bits']:+.4f}"
                )
            print(line, flush=True)
    results = {
        "benchmark": "ib",
        "setup": {
            "joints": setups,
            "betas": "numpy.linspace(0.01, 5, 30) (embo's default grid)",
            "restarts_per_beta": RESTARTS,
            "embo_settings": "defaults: iterations=100, rtol=1e-3, n_clusters=|X|",
            "threads": os.environ.get("OMP_NUM_THREADS"),
            "load_average_1min_at_start": load_start,
            "load_average_1min_at_end": os.getloadavg()[0],
            "machine": {"cpu": _cpu_name(), "cores": os.cpu_count()},
            "python": platform.python_version(),
            "numpy": np.__version__,
            "embo": how,
            "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ib.py",
        },
        "summary": summarise(reports),
        "joints": reports,
    }
    print(json.dumps(results["summary"], indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    print(f"wrote {out}")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


if __name__ == "__main__":
    main()
