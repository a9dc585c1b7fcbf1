"""Retrieval curves at scale, and Hamming against cosine search speed.

The curves of Hinton & Salakhutdinov, Science 313 (2006), Fig. 4 (precision against documents
retrieved, every document a query against all others), computed by
:func:`aekit.evaluate.retrieval.retrieval_curve` on synthetic codes: ``--n`` documents
(default 400,000) with ``--dim``-d real codes (default 10) drawn around 20 Gaussian cluster
centres (centres N(0, I), spread 0.5), the cluster being the label. That is ``n^2`` = 1.6e11
(query, document) pairs, so the binned method runs (4,096 chord-distance bins).

Targets (the issue): the full curve in under 300 s of wall time on the 2-core machine, with a
peak resident set under 2 GB (``ru_maxrss`` of this process, which includes the data).

Also measured:

- accuracy: on the first ``--check-n`` documents (default 5,000), the binned curve against the
  exact one, with the computed error bound beside the observed difference;
- search speed (Salakhutdinov & Hinton, "Semantic hashing", IJAR 50 (2009)): top-10 retrieval
  with :func:`aekit.evaluate.retrieval.search` over ``--search-n`` documents (default 20,000,
  each a query against all the others), cosine on the real codes against Hamming distance on
  32-bit and 128-bit codes (signs of random projections of the same codes, which approximate
  the angle); queries per second (best of 3) and the precision of the top 10 for each.

Run: ``python benchmarks/retrieval.py [--n 400000] [--dim 10] [--quick] [--out PATH]``, with
``OMP_NUM_THREADS`` unset and nothing else heavy on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from _common import write_result
from aekit.evaluate.retrieval import retrieval_curve, search

TARGET_SECONDS = 300.0
TARGET_RSS_GB = 2.0
N_LABELS = 20
REPORT_K = (1, 10, 100, 1000, 10_000)


def clustered_codes(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 codes around 20 Gaussian centres, and their cluster labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(N_LABELS, dim))
    labels = rng.integers(0, N_LABELS, n)
    codes = centres[labels] + 0.5 * rng.normal(size=(n, dim))
    return codes.astype(np.float32), labels


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def time_search(codes: np.ndarray, metric: str, k: int, repeats: int = 3) -> tuple[float, float]:
    """Best wall seconds of ``search`` with every code a query (excluding itself), and the
    top-k indices of the last run."""
    best, found = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        found, _ = search(codes, codes, k=k, metric=metric, exclude_self=True)
        best = min(best, time.perf_counter() - t)
    return best, found


def search_comparison(codes: np.ndarray, labels: np.ndarray, k: int) -> dict:
    rng = np.random.default_rng(1)
    runs = {"cosine, real codes": ("cosine", codes)}
    for n_bits in (32, 128):
        planes = rng.normal(size=(codes.shape[1], n_bits))
        runs[f"hamming, {n_bits}-bit codes"] = ("hamming", codes @ planes > 0)
    out = {}
    for name, (metric, c) in runs.items():
        seconds, found = time_search(c, metric, k)
        out[name] = {
            "seconds": seconds,
            "queries_per_s": len(c) / seconds,
            f"precision_at_{k}": float((labels[found] == labels[:, None]).mean()),
        }
    base = out["cosine, real codes"]["queries_per_s"]
    for name in out:
        out[name]["speed_vs_cosine"] = out[name]["queries_per_s"] / base
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400_000, help="documents (queries = database)")
    parser.add_argument("--dim", type=int, default=10, help="code dimension")
    parser.add_argument("--check-n", type=int, default=5_000, help="documents for exact vs binned")
    parser.add_argument("--search-n", type=int, default=20_000, help="documents for search speed")
    parser.add_argument("--k", type=int, default=10, help="documents per search")
    parser.add_argument("--quick", action="store_true", help="n = 40,000, smaller checks")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.quick:
        args.n, args.check_n, args.search_n = 40_000, 2_000, 5_000
    out = Path(args.out or f"benchmarks/results/retrieval{'_quick' if args.quick else ''}.json")
    load_start = os.getloadavg()[0]

    codes, labels = clustered_codes(args.n, args.dim)
    rss_data = peak_rss_gb()
    t, cpu = time.perf_counter(), time.process_time()
    curve = retrieval_curve(codes, labels, method="binned")
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = peak_rss_gb()
    ks = [k for k in REPORT_K if k <= len(curve.n_retrieved)]

    check = curve_check(codes[: args.check_n], labels[: args.check_n])
    searches = search_comparison(codes[: args.search_n], labels[: args.search_n], args.k)
    load_end = os.getloadavg()[0]

    result = {
        "benchmark": "retrieval",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "load_average_start": load_start,
            "load_average_end": load_end,
        },
        "curve": {
            "data": f"{args.n} docs, {args.dim}-d codes, {N_LABELS} Gaussian clusters (spread 0.5)",
            "pairs": args.n * args.n,
            "method": curve.method,
            "n_bins": curve.n_bins,
            "wall_s": {"measured": wall, "target": TARGET_SECONDS},
            "cpu_s": cpu,
            "ns_per_pair_wall": wall / args.n**2 * 1e9,
            "peak_rss_gb": {"measured": rss, "target": TARGET_RSS_GB, "after_data": rss_data},
            "precision_at": {str(k): curve.precision_at(k) for k in ks},
            "precision_error_bound_at": {
                str(k): float(curve.precision_error_bound[k - 1]) for k in ks
            },
            "max_precision_error_bound": float(curve.precision_error_bound.max()),
            "max_recall_error_bound": float(curve.recall_error_bound.max()),
        },
        "binned_vs_exact": check,
        "search": {"n_docs": args.search_n, "k": args.k, "runs": searches},
    }
    result["passed"] = {
        "wall_time": wall < TARGET_SECONDS,
        "peak_rss": rss < TARGET_RSS_GB,
        "binned_within_bound": check["within_bound"],
    }
    if max(load_start, load_end) > 0.5:
        result["notes"] = [
            f"machine busy (1-min load average {load_start:.2f} at start, {load_end:.2f} at end "
            f"on {os.cpu_count()} cores): timings are noisy"
        ]
    write_result(out, result)

    print(f"retrieval curve, {args.n:,} x {args.n:,} pairs ({curve.method}, {curve.n_bins} bins):")
    print(f"  {'wall time':28s} {wall:9.1f} s   target < {TARGET_SECONDS:.0f} s   cpu {cpu:.1f} s")
    print(f"  {'peak RSS':28s} {rss:9.2f} GB  target < {TARGET_RSS_GB:.0f} GB")
    for k in ks:
        print(
            f"  precision at {k:<6d}            {curve.precision_at(k):9.4f}"
            f"   (+- {curve.precision_error_bound[k - 1]:.1e})"
        )
    print(
        f"binned vs exact on {args.check_n:,} docs: max |diff| {check['max_abs_diff']:.2e}, "
        f"max bound {check['max_bound']:.2e}, within bound: {check['within_bound']}"
    )
    print(f"top-{args.k} search over {args.search_n:,} docs (every doc a query):")
    for name, r in searches.items():
        print(
            f"  {name:24s} {r['queries_per_s']:10.0f} queries/s  x{r['speed_vs_cosine']:.2f}"
            f"   precision@{args.k} {r[f'precision_at_{args.k}']:.3f}"
        )


def curve_check(codes: np.ndarray, labels: np.ndarray) -> dict:
    """The binned curve against the exact one on a subset."""
    exact = retrieval_curve(codes, labels, method="exact")
    binned = retrieval_curve(codes, labels, method="binned")
    diff = np.abs(binned.precision - exact.precision)
    return {
        "n_docs": len(codes),
        "max_abs_diff": float(diff.max()),
        "max_bound": float(binned.precision_error_bound.max()),
        "max_diff_over_bound": float((diff - binned.precision_error_bound).max()),
        "within_bound": bool((diff <= binned.precision_error_bound + 1e-12).all()),
    }


if __name__ == "__main__":
    main()
