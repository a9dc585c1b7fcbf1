"""Row sources: data sets the trainer reads a minibatch at a time instead of holding whole.

Two kinds share one duck-typed surface (``x[idx]`` -> dense float32 batch tensor, ``select``,
``min``, ``max``, ``row_sums``, ``nonfinite``, ``shape``, ``device``, ``to``, ``len``):

- :class:`~aekit.sparse.SparseRows`, a CSR matrix kept sparse on the device;
- :class:`MemmapRows`, a (memory-mapped) 2-D NumPy array on disk, of any numeric dtype.

A memory-mapped file read through its mapping leaves every touched page mapped, and those
pages count in the process's resident set: one epoch over a 10 GB ``.npy`` would show 10 GB of
RSS. :class:`MemmapRows` therefore reads the rows of a file-backed ``np.memmap`` with explicit
``os.pread`` calls into a fresh batch buffer (the page cache still serves repeats), so peak
RSS stays near the model plus a batch.
"""

from __future__ import annotations

import mmap
import os
import weakref

import numpy as np
import scipy.sparse as sp
import torch

from aekit.sparse import SparseRows

__all__ = ["MemmapRows", "SparseRows", "as_row_source", "is_row_source"]

_CHUNK_BYTES = 64 << 20  # rows per streaming pass: about 64 MB of file at a time
_RELEASE_BYTES = 256 << 20  # unmap pages read through a mapping after this many bytes


class MemmapRows:
    """The rows of a 2-D array (usually an ``np.memmap``) as dense float32 batches.

    Parameters
    ----------
    array : ndarray or np.memmap of shape (n_rows, n_features)
        Any real or integer dtype, either byte order. Never loaded whole.
    rows : array of int, optional
        The rows of ``array`` this source exposes, in order (all of them when ``None``).
        :meth:`select` composes these, so a subset costs 8 bytes per row, not a copy.
    scale : float, optional
        Multiplies every value after conversion to float32, batch by batch (``1 / 255`` turns
        uint8 pixels into [0, 1]).
    device : torch.device or str, default="cpu"
        Where the batches are put.

    Indexing with a slice or an array/tensor of positions returns a ``(n_selected,
    n_features)`` float32 tensor on ``device``; the rows are read in file order (sorted) for
    locality and handed back in the order asked for.
    """

    ndim = 2

    def __init__(
        self,
        array: np.ndarray,
        rows: np.ndarray | None = None,
        scale: float | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        if not isinstance(array, np.ndarray):
            raise TypeError(f"MemmapRows wraps a NumPy array or np.memmap, got {type(array)}")
        if array.ndim != 2:
            raise ValueError(
                f"MemmapRows needs a 2-D array (n_samples, n_features), got shape "
                f"{array.shape}; reshape it first, e.g. x.reshape(len(x), -1)"
            )
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise TypeError(f"MemmapRows needs a real or integer dtype, got {array.dtype}")
        self.array = array
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        self.scale = None if scale is None else float(scale)
        self._device = torch.device(device)
        self._stats: dict | None = None
        self._file = _file_layout(array)
        self._fd: int | None = None
        self._mapped_bytes = 0  # read through the mapping since the last release

    # The duck-typed surface ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), int(self.array.shape[1]))

    @property
    def device(self) -> torch.device:
        return self._device

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else int(self.array.shape[0])

    def to(self, device: torch.device | str) -> MemmapRows:
        out = MemmapRows(self.array, self.rows, self.scale, device)
        out._stats = self._stats  # same rows, same statistics
        return out

    def select(self, key) -> MemmapRows:
        """Rows ``key`` as a new ``MemmapRows`` over the same array (no data is read)."""
        return MemmapRows(self.array, self._file_rows(key), self.scale, self._device)

    def __getitem__(self, key) -> torch.Tensor:
        batch = self._read(self._file_rows(key))  # (batch, n_features) float32
        return torch.from_numpy(batch).to(self._device)

    def min(self) -> torch.Tensor:
        return torch.tensor(self._scan()["min"])

    def max(self) -> torch.Tensor:
        return torch.tensor(self._scan()["max"])

    def row_sums(self) -> torch.Tensor:
        """Sum of each row, shape ``(n_rows,)``, streamed."""
        return torch.from_numpy(self._scan()["row_sums"]).to(self._device)

    def nonfinite(self) -> tuple[int, int | None]:
        """Count of NaN/inf values and the first row (position in this source) holding one."""
        stats = self._scan()
        return stats["n_nonfinite"], stats["first_nonfinite_row"]

    def __repr__(self) -> str:
        kind = "memmap" if isinstance(self.array, np.memmap) else "array"
        return f"MemmapRows(shape={self.shape}, {kind} {self.array.dtype}, device={self.device})"

    # Reading ---------------------------------------------------------------------------------

    def _file_rows(self, key) -> np.ndarray:
        """Rows of ``array`` (int64) for positions ``key`` of this source."""
        if isinstance(key, slice):
            pos = np.arange(len(self))[key]
        else:
            if isinstance(key, torch.Tensor):
                key = key.detach().cpu().numpy()
            pos = np.asarray(key, dtype=np.int64).reshape(-1)
            if len(pos) and (pos.min() < -len(self) or pos.max() >= len(self)):
                raise IndexError(f"row index out of range for {len(self)} rows")
            pos = np.where(pos < 0, pos + len(self), pos)
        return self.rows[pos] if self.rows is not None else pos

    def _read(self, file_rows: np.ndarray) -> np.ndarray:
        """Rows ``file_rows`` of ``array`` as float32, in the order given."""
        order = np.argsort(file_rows, kind="stable")
        sorted_rows = file_rows[order]
        raw = self._read_sorted(sorted_rows)
        out = np.empty((len(file_rows), self.array.shape[1]), dtype=np.float32)
        out[order] = raw  # back to the order asked for (converts the dtype too)
        if self.scale is not None:
            out *= np.float32(self.scale)
        return out

    def _read_sorted(self, rows: np.ndarray) -> np.ndarray:
        if self._file is None or len(rows) == 0:
            out = self.array[rows]
            self._mapped_bytes += out.nbytes
            if self._mapped_bytes > _RELEASE_BYTES:
                self._release()
            return out
        path, start, row_bytes = self._file
        if self._fd is None:
            self._fd = os.open(path, os.O_RDONLY)
            weakref.finalize(self, os.close, self._fd)
        buf = np.empty((len(rows), self.array.shape[1]), dtype=self.array.dtype)
        view = buf.reshape(-1).view(np.uint8).data  # a memoryview of its bytes
        # One read per run of consecutive rows: a slice or a sorted window is one syscall.
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        firsts = np.concatenate([[0], breaks])
        lasts = np.concatenate([breaks, [len(rows)]])
        for a, b in zip(firsts.tolist(), lasts.tolist()):
            want = (b - a) * row_bytes
            got = os.preadv(
                self._fd, [view[a * row_bytes : b * row_bytes]], start + int(rows[a]) * row_bytes
            )
            if got != want:
                raise OSError(f"short read from {path}: {got} of {want} bytes (file truncated?)")
        return buf

    def _scan(self) -> dict:
        """One streaming pass: min, max, non-finite count, first bad row, row sums."""
        if self._stats is not None:
            return self._stats
        n, width = self.shape
        step = max(1, _CHUNK_BYTES // max(1, width * self.array.dtype.itemsize))
        lo, hi = np.inf, -np.inf
        n_bad, first_bad = 0, None
        sums = np.empty(n, dtype=np.float32)
        for start in range(0, n, step):
            chunk = self._read(self._file_rows(slice(start, start + step)))  # (step, width)
            finite = np.isfinite(chunk)
            if finite.all():
                lo, hi = min(lo, float(chunk.min())), max(hi, float(chunk.max()))
            else:
                n_bad += int(finite.size - np.count_nonzero(finite))
                if first_bad is None:
                    first_bad = start + int(np.flatnonzero(~finite.all(axis=1))[0])
                if finite.any():
                    good = chunk[finite]
                    lo, hi = min(lo, float(good.min())), max(hi, float(good.max()))
            sums[start : start + len(chunk)] = chunk.sum(axis=1)
        self._stats = {
            "min": lo,
            "max": hi,
            "n_nonfinite": n_bad,
            "first_nonfinite_row": first_bad,
            "row_sums": sums,
        }
        return self._stats

    def _release(self) -> None:
        """Unmap the pages a read through the mapping touched (they stay in the page cache)."""
        mm = getattr(self.array, "_mmap", None)
        self._mapped_bytes = 0
        if mm is not None and hasattr(mmap, "MADV_DONTNEED"):
            mm.madvise(mmap.MADV_DONTNEED)


def _file_layout(array: np.ndarray) -> tuple[str, int, int] | None:
    """``(path, byte offset of row 0, row stride)`` when the rows of a file-backed memmap can
    be read with ``pread``; ``None`` otherwise (an in-memory array, or non-contiguous rows)."""
    mm = getattr(array, "_mmap", None)
    path = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or mm is None or path is None:
        return None
    if getattr(array, "mode", None) == "c":
        return None  # copy-on-write: changes made in memory never reach the file pread reads
    itemsize = array.dtype.itemsize
    if array.strides[1] != itemsize or array.strides[0] != itemsize * array.shape[1]:
        return None
    # The mapping starts at the page boundary below the memmap's offset; the array may be a
    # view into it, so locate row 0 by address.
    base = np.frombuffer(mm, dtype=np.uint8)
    map_start = array.offset - array.offset % mmap.ALLOCATIONGRANULARITY
    start = map_start + (array.__array_interface__["data"][0] - base.ctypes.data)
    del base
    return str(path), int(start), int(array.strides[0])


def is_row_source(x) -> bool:
    """True for inputs the trainer reads a batch at a time: :class:`SparseRows`,
    :class:`MemmapRows`, scipy sparse matrices and ``np.memmap`` arrays."""
    return isinstance(x, SparseRows | MemmapRows | np.memmap) or sp.issparse(x)


def as_row_source(x, device: torch.device | str | None = None) -> SparseRows | MemmapRows:
    """Wrap a row-source input (see :func:`is_row_source`) as ``SparseRows`` / ``MemmapRows``."""
    if isinstance(x, SparseRows | MemmapRows):
        out = x
    elif sp.issparse(x):
        out = SparseRows.from_scipy(x)
    elif isinstance(x, np.memmap):
        out = MemmapRows(x)
    else:
        raise TypeError(f"not a row source: {type(x).__name__}")
    return out.to(device) if device is not None else out
