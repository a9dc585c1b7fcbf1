"""The run folder: what a training run leaves on disk, written so that nothing can spoil it.

Layout::

    .lock                 held (flock) for the life of a run; holds the holder's PID
    run.json              model name + config, train config, the run's specification
    metrics.jsonl         one JSON record per finished epoch
    latest.json           {"checkpoint": "ckpt-0007", "epoch": 6}: replaced atomically
    ckpt-0007/            model.safetensors, optimizer.safetensors, best.safetensors,
                          ema.safetensors, state.json (a :class:`RunState`)
    model/                the final model (best weights if early stopping restored them)

Guarantees:

- A checkpoint directory is written under a temporary name and renamed into place, and only
  then does ``latest.json`` point at it, so an interrupted save never replaces the last good one.
- Two runs never share a folder: :meth:`RunFolder.lock` takes an OS lock that dies with its
  process (``kill -9`` leaves no stale lock) and refuses a second run, naming the holder's PID.
- A new run over an old one (``--overwrite``) is built in ``.staging/`` beside the old run,
  which stays whole until the new one has finished its first epoch; then the two are swapped
  (:meth:`RunFolder.promote`), and a crash in the middle of the swap is finished or undone the
  next time the folder is opened (:meth:`RunFolder.recover`).
- The data a run trained on is fingerprinted (:func:`data_fingerprint`), so a resume with
  other data is refused rather than silently mixing two data sets.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aekit.atomic import atomic_save_tensors, atomic_write_json, load_tensors, read_json

STAGING = ".staging"
REPLACED = ".replaced"
LOCK = ".lock"
# What a run writes into its folder (anything else there, say a user's notes, is left alone).
RUN_ENTRIES = ("run.json", "metrics.jsonl", "latest.json", "model")


class RunFolderBusyError(OSError):
    """Another live process holds the run folder's lock."""


@dataclass
class RunState:
    """The loop's state between epochs: what a checkpoint's state.json saves and a resume
    restores. ``epoch`` is the last finished epoch (0-based; -1 before the first)."""

    epoch: int = -1
    records: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    finished: bool = False
    n_train: int | None = None
    fingerprint: dict[str, Any] | None = None
    #: Seconds of the time budget used up to this checkpoint, over every session of the run.
    seconds: float = 0.0
    #: Seconds of the budget used when the run's first batch began (where its schedule starts).
    budget_origin: float | None = None
    #: The time budget ended the run.
    out_of_time: bool = False

    @property
    def best(self) -> float:
        return self.best_value if self.best_value is not None else float("inf")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def data_fingerprint(x) -> dict[str, Any]:
    """Shape, dtype and a hash of up to 64 evenly spaced rows of ``x`` (an array, a tensor or
    a row source): cheap on any size, and different for any other data set in practice."""
    n = x.shape[0]
    idx = np.unique(np.linspace(0, n - 1, num=min(n, 64)).round().astype(np.int64))
    rows = x[torch.from_numpy(idx)] if isinstance(x, torch.Tensor) else x[idx]
    if hasattr(rows, "toarray"):  # a scipy sparse batch
        rows = rows.toarray()
    elif hasattr(rows, "to_dense"):  # a sparse row source's torch batch
        rows = rows.to_dense()
    if isinstance(rows, torch.Tensor):
        rows = rows.detach().cpu().numpy()
    sample = np.ascontiguousarray(np.asarray(rows, dtype=np.float32))
    return {
        "shape": [int(s) for s in x.shape],
        "dtype": str(getattr(x, "dtype", "float32")).removeprefix("torch."),
        "sample_sha256": hashlib.sha256(sample.tobytes()).hexdigest(),
    }


def check_same_data(
    saved: RunState, n_train: int, fingerprint: dict[str, Any], where: Path, force: bool
) -> None:
    """Refuse to resume on other data than the run's (``force`` says it on purpose).
    ``n_train`` counts the rows trained on (after the validation split)."""
    if saved.n_train is not None and saved.n_train != n_train and not force:
        raise ValueError(
            f"cannot resume {where}: it trained on {saved.n_train} samples, this call passes "
            f"{n_train}; resume with the same data"
        )
    if saved.fingerprint is None:
        warnings.warn(
            f"{where} was saved before runs recorded a fingerprint of their data: only the "
            "sample count is checked",
            stacklevel=3,
        )
        return
    changed = [k for k in ("shape", "sample_sha256") if saved.fingerprint.get(k) != fingerprint[k]]
    if changed and not force:
        raise ValueError(
            f"cannot resume {where}: the data differs from the data it trained on "
            f"({', '.join(changed)} changed: {saved.fingerprint.get('shape')} -> "
            f"{fingerprint['shape']}); resume with "
            "the same data, or force it (`aekit resume --force-data`, fit(..., force_data=True))"
        )


class RunFolder:
    """One run's folder on disk (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path)
        self.path = self.root  # where the run writes now: .staging/ until promoted
        self._lock_fd: int | None = None

    # The lock -------------------------------------------------------------------------------

    def lock(self) -> None:
        """Hold the folder for this process, or raise :class:`RunFolderBusyError` naming the
        process that holds it. The OS drops the lock when the process ends, however it ends."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunFolderBusyError(
                f"{self.root} is in use by another aekit run (PID {holder}); wait for it to "
                "finish, stop it, or pick another --out folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def close(self) -> None:
        """End this process's use of the folder: a staged run that never finished its first
        epoch is dropped (the old run was never touched), and the lock is released."""
        if self.staged and self._lock_fd is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = self.root
        self.unlock()

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    @contextlib.contextmanager
    def locked(self):
        self.lock()
        try:
            yield self
        finally:
            self.unlock()

    # Opening ---------------------------------------------------------------------------------

    def holds_run(self) -> bool:
        """Whether the folder holds something of a previous run worth keeping."""
        return any((self.root / name).exists() for name in ("latest.json", "model"))

    def recover(self) -> None:
        """Finish or undo a swap that a crash interrupted (see :meth:`promote`)."""
        replaced, staging = self.root / REPLACED, self.root / STAGING
        if replaced.is_dir():
            if (self.root / "latest.json").is_file():  # the new run was fully moved in
                shutil.rmtree(replaced)
            else:  # put the old run back
                for entry in replaced.iterdir():
                    _remove(self.root / entry.name)
                    entry.rename(self.root / entry.name)
                replaced.rmdir()
        if staging.exists():
            shutil.rmtree(staging)  # a new run that never finished its first epoch

    def start_fresh(self) -> None:
        """Open for a new run: beside the old run when there is one (in ``.staging/``),
        else in the folder itself, which keeps nothing of a run that never checkpointed."""
        self.recover()
        if self.holds_run():
            self.path = self.root / STAGING
            self.path.mkdir()
        else:
            self.path = self.root
            for old in [*self.root.glob("ckpt-*"), *self.root.glob(".ckpt-*.tmp")]:
                _remove(old)

    @property
    def staged(self) -> bool:
        return self.path != self.root

    def promote(self) -> None:
        """Swap the staged new run in for the old one: the old run's entries move aside, the
        new run's move in (``latest.json`` last), then the old ones go."""
        if not self.staged:
            return
        replaced = self.root / REPLACED
        replaced.mkdir()
        for entry in self.root.iterdir():
            if entry.name in RUN_ENTRIES or entry.name.startswith("ckpt-"):
                entry.rename(replaced / entry.name)
        entries = sorted(self.path.iterdir(), key=lambda e: e.name == "latest.json")
        for entry in entries:
            entry.rename(self.root / entry.name)
        self.path.rmdir()
        self.path = self.root
        shutil.rmtree(replaced)

    # Files -----------------------------------------------------------------------------------

    def write_run(self, run: dict[str, Any]) -> None:
        atomic_write_json(self.path / "run.json", run)

    def read_run(self) -> dict[str, Any] | None:
        path = self.path / "run.json"
        return read_json(path, "start the run again with --overwrite") if path.is_file() else None

    def write_metrics(self, records: list[dict[str, Any]]) -> None:
        """metrics.jsonl rebuilt from a checkpoint's records, so a crash between the two writes
        never leaves a duplicate or a gap."""
        with open(self.path / "metrics.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in records)

    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    # Checkpoints -----------------------------------------------------------------------------

    def save_checkpoint(
        self, state: RunState, tensors: dict[str, dict[str, torch.Tensor]], extra: dict[str, Any]
    ) -> None:
        """Write ``ckpt-NNNN/`` (each entry of ``tensors`` as ``NAME.safetensors``, the state
        and ``extra`` as state.json) under a temporary name, rename it into place, point
        ``latest.json`` at it and drop the older checkpoints."""
        name = f"ckpt-{state.epoch:04d}"
        final, tmp = self.path / name, self.path / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for file, values in tensors.items():
            atomic_save_tensors(tmp / f"{file}.safetensors", values)
        atomic_write_json(tmp / "state.json", {**state.to_json(), **extra})
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        atomic_write_json(self.path / "latest.json", {"checkpoint": name, "epoch": state.epoch})
        for old in self.path.glob("ckpt-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    def model_dir(self) -> Path:
        """Where the finished run's model is saved."""
        return self.path / "model"

    def latest(self) -> Path | None:
        pointer = self.path / "latest.json"
        return self.path / read_json(pointer)["checkpoint"] if pointer.is_file() else None

    def load_checkpoint(
        self,
    ) -> tuple[RunState, dict[str, Any], dict[str, dict[str, torch.Tensor]]]:
        """The last checkpoint: its state, the rest of its state.json, and its tensor files."""
        ckpt = self.latest()
        if ckpt is None:
            raise FileNotFoundError(f"no checkpoint in {self.path}")
        raw = read_json(ckpt / "state.json")
        tensors = {p.stem: load_tensors(p) for p in ckpt.glob("*.safetensors")}
        return RunState.from_json(raw), raw, tensors

    def mark_finished(self) -> None:
        """Record in the last checkpoint that the run ended there (a callback stopped it), so a
        resume ends there too."""
        ckpt = self.latest()
        if ckpt is not None:
            path = ckpt / "state.json"
            atomic_write_json(path, {**read_json(path), "finished": True})


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
