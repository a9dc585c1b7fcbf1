"""Training from a memory-mapped ``.npy`` without loading it: peak RSS and speed.

Generates a float32 ``.npy`` of ``--gb`` GB (uniform [0, 1), ``--cols`` columns) in chunks,
then, each in a fresh process so that ``ru_maxrss`` is that run's own peak:

- ``pread``: ``np.load(path, mmap_mode="r")`` handed to the Trainer, which reads it through
  :class:`aekit.rows.MemmapRows` (rows fetched with ``os.pread``): the whole array is scanned
  once (finiteness, min/max for the Bernoulli check), then ``--rows`` random rows are trained
  for one epoch;
- ``mapping``: the same, reading through the mapping and ``madvise(MADV_DONTNEED)`` every
  256 MB (the path for memmaps whose rows are not contiguous);
- ``mapping_no_release``: reading through the mapping and never releasing: what peak RSS
  would be without either measure;
- ``memory``: the same training from an in-memory array of ``--rows`` rows (the fast path).

Target: peak RSS near model + batch + the interpreter, not the array size; memmap samples/s
close to in-memory. Writes ``results/memmap.json``; the generated file is deleted at the end.

``--cli`` measures the command line instead: ``aekit encode`` and ``aekit reconstruct`` of
the whole ``.npy`` into a ``.npy`` with a saved ``cols-256-32`` autoencoder, each in a fresh
process (streamed by default; ``mmap=false`` reads the input whole, for contrast). Target:
peak RSS under 500 MB for a 1 GB input. Writes ``results/memmap_cli.json``.

Usage::

    python benchmarks/memmap.py --gb 10
    python benchmarks/memmap.py --gb 2 --rows 76800
    python benchmarks/memmap.py --cli --gb 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def generate(path: Path, gb: float, cols: int) -> tuple[int, int]:
    n = int(gb * 2**30) // (4 * cols)
    header = {"descr": "<f4", "fortran_order": False, "shape": (n, cols)}
    rng = np.random.default_rng(0)
    step = max(1, (128 << 20) // (4 * cols))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for start in range(0, n, step):
            f.write(rng.random((min(step, n - start), cols), dtype=np.float32).tobytes())
    return n, cols


def child(mode: str, path: str, rows: int, cols: int, batch: int) -> dict:
    import torch

    import aekit.rows as rows_mod
    from aekit import Autoencoder, AutoencoderConfig, TrainConfig, Trainer
    from aekit.rows import MemmapRows

    torch.set_num_threads(os.cpu_count() or 1)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = Autoencoder(AutoencoderConfig(layers=[cols, 256, 32]))
    n_params = sum(p.numel() for p in model.parameters())
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    if mode == "memory":
        x = rng.random((rows, cols), dtype=np.float32)
        scan_s = 0.0
    else:
        mm = np.load(path, mmap_mode="r")
        source = MemmapRows(mm)
        if mode != "pread":
            source._file = None  # read through the mapping
        if mode == "mapping_no_release":
            rows_mod._RELEASE_BYTES = 1 << 62
        source.nonfinite()  # the Trainer's streamed check over the whole array
        scan_s = time.perf_counter() - t0
        x = source.select(np.sort(rng.choice(len(source), size=rows, replace=False)))
    cfg = TrainConfig(epochs=1, batch_size=batch, val_fraction=0.0, progress=False)
    hist = Trainer(model, cfg).fit(x)
    return {
        "mode": mode,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_imports_mb": rss0 / 1024,
        "model_mb": n_params * 4 * 4 / 2**20,  # weights, grads, two Adam moments
        "batch_mb": batch * cols * 4 / 2**20,
        "full_scan_s": scan_s,
        "samples_per_s": hist.values("samples_per_s")[0],
        "train_loss": hist.values("train_loss")[0],
    }


CLI_TARGET_MB = 500.0


def cli_child(mode: str, path: str, model_dir: str) -> dict:
    """One ``aekit encode``/``reconstruct`` run in this process; its own peak RSS."""
    from aekit.cli import main as aekit_main

    command, _, how = mode.partition("-")
    out = Path(path).with_name(f"bench_{command}.npy")
    args = [command, model_dir, "--data", path, "--out", str(out)]
    if how == "whole":
        args += ["--data-option", "mmap=false"]
    t0 = time.perf_counter()
    aekit_main.main(args, standalone_mode=False)
    seconds = time.perf_counter() - t0
    shape = list(np.load(out, mmap_mode="r").shape)
    out.unlink()
    return {
        "mode": mode,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds": seconds,
        "output_shape": shape,
    }


def run_cli(path: Path, n: int, cols: int, out: Path, gb: float) -> None:
    import torch

    from aekit import Autoencoder, AutoencoderConfig
    from aekit.saving import save_model

    torch.manual_seed(0)
    model_dir = path.with_name("aekit_memmap_bench_model")
    save_model(Autoencoder(AutoencoderConfig(layers=[cols, 256, 32])), model_dir)
    runs = []
    try:
        for mode in ("encode", "reconstruct", "encode-whole", "reconstruct-whole"):
            cmd = [sys.executable, __file__, "--child", "cli:" + mode, "--path", str(path)]
            cmd += ["--model-dir", str(model_dir)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                runs.append({"mode": mode, "failed": res.stderr.strip().splitlines()[-1:]})
            else:
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]))
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    by = {r["mode"]: r for r in runs}
    streamed = [by[m].get("peak_rss_mb", float("inf")) for m in ("encode", "reconstruct")]
    result = {
        "target": f"peak RSS under {CLI_TARGET_MB:.0f} MB for a 1 GB .npy (streamed default)",
        "target_peak_rss_mb": CLI_TARGET_MB,
        "array": {"rows": n, "cols": cols, "dtype": "float32", "size_mb": n * cols * 4 / 2**20},
        "gb": gb,
        "model": f"autoencoder {cols}-256-32",
        "measured": by,
        "streamed_peak_rss_mb": max(streamed),
        "met": max(streamed) < CLI_TARGET_MB,
        "machine": _machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    from _common import write_result

    write_result(out, result)


def _machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{os.cpu_count()}-core CPU, {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return f"{os.cpu_count()}-core CPU"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gb", type=float, default=10.0)
    p.add_argument("--cols", type=int, default=1024)
    p.add_argument("--rows", type=int, default=76_800, help="rows trained (one epoch)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--dir", default=tempfile.gettempdir())
    p.add_argument("--out", type=Path, default=HERE / "results" / "memmap.json")
    p.add_argument("--cli", action="store_true", help="measure aekit encode/reconstruct")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--path", help=argparse.SUPPRESS)
    p.add_argument("--model-dir", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child and a.child.startswith("cli:"):
        print(json.dumps(cli_child(a.child[4:], a.path, a.model_dir)))
        return
    if a.child:
        print(json.dumps(child(a.child, a.path, a.rows, a.cols, a.batch)))
        return
    if a.cli and a.out == HERE / "results" / "memmap.json":
        a.out = HERE / "results" / "memmap_cli.json"
    gb = a.gb
    free = shutil.disk_usage(a.dir).free / 2**30
    if free < 2 * gb:
        gb = max(0.1, free / 2 - 0.5)
        print(f"only {free:.1f} GB free in {a.dir}: generating {gb:.1f} GB instead of {a.gb}")
    path = Path(a.dir) / "aekit_memmap_bench.npy"
    try:
        t0 = time.perf_counter()
        n, cols = generate(path, gb, a.cols)
        print(
            f"wrote {path} ({n} x {cols} float32, {gb:.2f} GB) in {time.perf_counter() - t0:.0f}s"
        )
        if a.cli:
            run_cli(path, n, cols, a.out, gb)
            return
        runs = []
        for mode in ("pread", "mapping", "mapping_no_release", "memory"):
            cmd = [sys.executable, __file__, "--child", mode, "--path", str(path)]
            cmd += ["--rows", str(a.rows), "--cols", str(cols), "--batch", str(a.batch)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]))
    finally:
        path.unlink(missing_ok=True)
    by = {r["mode"]: r for r in runs}
    array_mb = n * cols * 4 / 2**20
    result = {
        "target": "peak RSS near model + batch (+ interpreter), not the array size; "
        "memmap samples/s near in-memory",
        "array": {"rows": n, "cols": cols, "dtype": "float32", "size_mb": array_mb},
        "trained_rows": a.rows,
        "batch_size": a.batch,
        "cpu_threads": os.cpu_count(),
        "measured": by,
        "peak_rss_over_array": {m: r["peak_rss_mb"] / array_mb for m, r in by.items()},
        "memmap_speed_vs_memory": by["pread"]["samples_per_s"] / by["memory"]["samples_per_s"],
    }
    from _common import write_result

    write_result(a.out, result)


if __name__ == "__main__":
    main()
