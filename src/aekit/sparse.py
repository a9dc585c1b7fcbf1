"""Sparse data sets that stay sparse: rows are gathered into dense minibatches on demand.

A bag-of-words corpus is a few percent non-zero; densifying all of it to train would cost
20-50x the memory for nothing. :class:`SparseRows` holds a CSR matrix as three tensors on the
training device and hands the trainer dense batches of the rows it asks for, so only one
minibatch is ever dense.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch


class SparseRows:
    """A CSR matrix whose rows come out as dense float32 batches.

    Parameters
    ----------
    crow : LongTensor, shape (n_rows + 1,)
        Row pointers: the entries of row ``i`` are ``crow[i]:crow[i + 1]``.
    col : LongTensor, shape (nnz,)
    values : FloatTensor, shape (nnz,)
    n_cols : int

    Indexing with a slice or a tensor/array of row indices returns a dense
    ``(n_selected, n_cols)`` tensor; :meth:`select` returns the rows as a new ``SparseRows``.
    """

    ndim = 2

    def __init__(
        self, crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, n_cols: int
    ) -> None:
        self.crow, self.col, self.values = crow, col, values
        self.n_cols = int(n_cols)

    @classmethod
    def from_scipy(cls, matrix, device: torch.device | str | None = None) -> SparseRows:
        """From any scipy sparse matrix or array (converted to CSR, duplicates summed)."""
        m = sp.csr_matrix(matrix, dtype=np.float32)
        m.sum_duplicates()
        out = cls(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32, copy=False)),
            m.shape[1],
        )
        return out.to(device) if device is not None else out

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.crow) - 1, self.n_cols)

    @property
    def device(self) -> torch.device:
        return self.values.device

    def __len__(self) -> int:
        return len(self.crow) - 1

    def to(self, device: torch.device | str) -> SparseRows:
        return SparseRows(
            self.crow.to(device), self.col.to(device), self.values.to(device), self.n_cols
        )

    def min(self) -> torch.Tensor:
        """Smallest entry, the implicit zeros included (as for a dense tensor)."""
        lo = self.values.min() if len(self.values) else torch.zeros(())
        return torch.clamp(lo, max=0.0) if len(self.values) < len(self) * self.n_cols else lo

    def max(self) -> torch.Tensor:
        hi = self.values.max() if len(self.values) else torch.zeros(())
        return torch.clamp(hi, min=0.0) if len(self.values) < len(self) * self.n_cols else hi

    def row_sums(self) -> torch.Tensor:
        """Sum of each row, shape ``(n_rows,)``."""
        rows = torch.repeat_interleave(
            torch.arange(len(self), device=self.device), self.crow.diff()
        )
        return torch.zeros(len(self), device=self.device).index_add_(0, rows, self.values)

    def nonfinite(self) -> tuple[int, int | None]:
        """Count of NaN/inf values and the first row holding one (``None`` when all finite)."""
        bad = ~torch.isfinite(self.values)
        n_bad = int(bad.sum())
        if not n_bad:
            return 0, None
        first = torch.nonzero(bad)[0]
        return n_bad, int(torch.searchsorted(self.crow, first, right=True)[0]) - 1

    def _gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Row ids (within the selection), entry positions and lengths of rows ``idx``."""
        starts = self.crow[idx]
        lengths = self.crow[idx + 1] - starts  # (batch,)
        rows = torch.repeat_interleave(torch.arange(len(idx), device=idx.device), lengths)
        # Position of every selected entry: its row's start plus its offset within the row.
        first = torch.cumsum(lengths, 0) - lengths
        offsets = torch.arange(len(rows), device=idx.device) - first[rows]
        return rows, starts[rows] + offsets, lengths

    def _index(self, key) -> torch.Tensor:
        if isinstance(key, slice):
            return torch.arange(len(self), device=self.device)[key]
        idx = torch.as_tensor(np.asarray(key) if not isinstance(key, torch.Tensor) else key)
        return idx.to(device=self.device, dtype=torch.long)

    def __getitem__(self, key) -> torch.Tensor:
        idx = self._index(key)
        rows, pos, _ = self._gather(idx)
        out = torch.zeros(len(idx), self.n_cols, device=self.device)  # (batch, n_cols)
        out.index_put_((rows, self.col[pos]), self.values[pos], accumulate=True)
        return out

    def select(self, key) -> SparseRows:
        """Rows ``key`` as a new (still sparse) ``SparseRows``."""
        idx = self._index(key)
        _, pos, lengths = self._gather(idx)
        crow = torch.zeros(len(idx) + 1, dtype=torch.long, device=self.device)
        torch.cumsum(lengths, 0, out=crow[1:])
        return SparseRows(crow, self.col[pos], self.values[pos], self.n_cols)

    def to_scipy(self) -> sp.csr_matrix:
        return sp.csr_matrix(
            (self.values.cpu().numpy(), self.col.cpu().numpy(), self.crow.cpu().numpy()),
            shape=self.shape,
        )

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, nnz={len(self.values)}, device={self.device})"


def is_sparse(x) -> bool:
    """True for scipy sparse matrices/arrays and :class:`SparseRows`."""
    return isinstance(x, SparseRows) or sp.issparse(x)
