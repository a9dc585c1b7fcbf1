"""What the MNIST benchmark scripts share: finding the data (or saying why not) and writing
their JSON result."""

from __future__ import annotations

import json
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


def write_result(out: Path, result: dict) -> None:
    """Write ``result`` as indented JSON to ``out`` (folders created) and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
