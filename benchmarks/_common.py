"""What the benchmark scripts share: finding MNIST (or saying why not), writing their JSON
result, and making a peer's side environment."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aekit.data import Dataset, load_dataset


def load_mnist(quick: bool = False) -> Dataset | None:
    """MNIST from ``AEKIT_DATA_DIR`` (10,000 / 2,000 seeded rows with ``quick``), or None after
    printing why it was skipped."""
    try:
        ds = load_dataset("mnist")
    except (ValueError, OSError) as e:
        print(f"skipped: MNIST not found ({e}); set AEKIT_DATA_DIR to the folder holding mnist/")
        return None
    return ds.subset(n_train=10_000, n_test=2_000, seed=0) if quick else ds


def cpu_machine() -> dict:
    """The CPU and its bf16 support (from /proc/cpuinfo), usable cores, Python and torch."""
    import torch

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu_model": model,
        "amx_bf16": "amx_bf16" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def write_result(out: Path, result: dict) -> None:
    """Write ``result`` as indented JSON to ``out`` (folders created) and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


#: The torch of aekit's environment, installed first in every side environment: a looser spec
#: would let pip pull a multi-GB CUDA build.
TORCH_PIN = "2.13.0"


def side_env(
    venv: Path, packages: list[str], probe: str, install: bool = True, timeout: float = 900
) -> tuple[Path | None, dict]:
    """A peer's own virtual environment at ``venv``, made when missing.

    ``torch==TORCH_PIN`` is installed first on its own pip line, then ``packages`` with torch
    held to that version by a constraints file. ``probe`` is Python code that must run in the
    environment (e.g. ``"import pyod.models.auto_encoder"``). Returns the environment's python,
    or None when it cannot be made or used, and what happened: ``skipped`` (why not, or None),
    ``created``, ``install_seconds`` and ``size_mb``.
    """
    python = venv / "bin" / "python"
    info: dict = {"venv": str(venv), "packages": packages, "created": False, "skipped": None}

    def usable() -> bool:
        code = f"import torch\n{probe}"
        return (
            python.exists()
            and subprocess.run([python, "-c", code], capture_output=True).returncode == 0
        )

    def pip(*args: str) -> subprocess.CompletedProcess:
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
        return subprocess.run(cmd, timeout=timeout, capture_output=True, text=True)

    if not usable():
        if not install:
            info["skipped"] = f"not usable in {venv} (run without --no-install to make it)"
            return None, info
        t0 = time.perf_counter()
        try:
            if not python.exists():
                print(f"creating {venv}", flush=True)
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                info["created"] = True
            print(
                f"installing torch=={TORCH_PIN}, then {' '.join(packages)} into {venv}", flush=True
            )
            proc = pip(f"torch=={TORCH_PIN}")
            if proc.returncode == 0:
                with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                    f.write(f"torch=={TORCH_PIN}\n")
                proc = pip("-c", f.name, *packages)
                os.unlink(f.name)
            if proc.returncode != 0:
                info["skipped"] = f"pip install failed: {proc.stderr.strip()[-400:]}"
        except (subprocess.SubprocessError, OSError) as e:
            info["skipped"] = f"could not make {venv}: {e}"
        info["install_seconds"] = round(time.perf_counter() - t0, 1)
        if info["skipped"] is None and not usable():
            info["skipped"] = f"installed, but `{probe}` fails in {venv}"
    if python.exists():
        size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
        info["size_mb"] = round(size / 2**20)
    if info["skipped"]:
        print(f"skipping {venv.name}: {info['skipped']}", flush=True)
        return None, info
    return python, info
