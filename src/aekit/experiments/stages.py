"""What resumable experiments share: a stage's wall time summed over the processes that ran it.

A reproduction that is interrupted and resumed finishes its stages in a later process; timing
only that process would report the resumed part (a 4 s pretraining shown as 0.2 s). The ledger
keeps each stage's time so far on disk, and an interrupted stage adds its part on the way out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aekit.atomic import atomic_write_json, read_json


@contextmanager
def timed_stage(ledger: Path, key: str, timings: dict[str, float]) -> Iterator[None]:
    """Time the ``with`` block as stage ``key``: its seconds are added to what ``ledger`` (a
    JSON file) already holds for it, also when the block is interrupted, and the total lands in
    ``timings[key]``. A finished stage that a rerun only reloads adds its loading time."""
    fix = "delete it to start the stage clocks afresh"

    def saved() -> dict[str, float]:
        return read_json(ledger, fix=fix) if ledger.is_file() else {}

    before = float(saved().get(key, 0.0))
    t0 = time.perf_counter()
    try:
        yield
    finally:
        total = before + time.perf_counter() - t0
        ledger.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(ledger, {**saved(), key: total})
        timings[key] = total
