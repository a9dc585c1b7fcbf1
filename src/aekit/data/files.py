"""Loading a user's own data matrix from ``.npy``, ``.npz`` or delimited text files.

Every loader returns a 2-D ``(n_samples, n_features)`` matrix, the shape the models expect.
A 3-D stack of images ``(n, h, w)`` is accepted and flattened row by row, and its image shape
``(h, w)`` is kept so that figures can show reconstructions as images. Files are checked where
they enter: a missing file, text that is not numbers, a wrong number of dimensions or NaN/inf
values fail with a message that names the file and says what to change. ``.npy``/``.npz`` are
read with ``allow_pickle=False``: loading data never runs code from the file.
"""

from __future__ import annotations

import mmap
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SUPPORTED_SUFFIXES", "load_array", "load_labeled"]

SUPPORTED_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".txt")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
# Keys tried, in order, for the data matrix and for the labels in an .npz archive.
_NPZ_X_KEYS = ("x", "X", "data")
_NPZ_Y_KEYS = ("y", "Y", "labels", "label", "target", "targets")
# Header names that mark a text file's label column when no column is given.
_LABEL_NAMES = ("label", "labels", "y", "target", "class")


@dataclass(frozen=True)
class _Matrix:
    """What a file holds: the 2-D matrix, labels if asked for and found, the image shape."""

    x: np.ndarray  # (n_samples, n_features)
    y: np.ndarray | None  # (n_samples,) int64
    image_shape: tuple[int, int] | None


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(
            f"data file {str(path)!r} does not exist (relative paths start from "
            f"{os.getcwd()!r}); check the path, or pass a registered data set name instead."
        )
    if not path.is_file():
        raise ValueError(
            f"{str(path)!r} is a directory, not a data file; give the path of a "
            f"{'/'.join(SUPPORTED_SUFFIXES)} file inside it."
        )


def _check_magic(path: Path, magic: tuple[bytes, ...], kind: str, writer: str) -> None:
    """Refuse a file that is not what its suffix says (an HTML error page saved as .npz, say)
    before numpy guesses at it: numpy would call it pickled data and suggest allow_pickle."""
    with open(path, "rb") as f:
        head = f.read(max(len(m) for m in magic))
    if not head.startswith(magic):
        raise ValueError(
            f"{str(path)!r} is not a {kind} file (it does not start with the {kind} signature; "
            f"first bytes {head[:8]!r}); write it with {writer}, or download it again"
        )


def _load_npy(path: Path, mmap: bool) -> np.ndarray:
    _check_magic(path, (b"\x93NUMPY",), ".npy", "np.save")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise ValueError(
                f"{str(path)!r} holds Python objects (an object array), which aekit does not "
                "unpickle; save a numeric array instead, e.g. np.save(path, x.astype(np.float32))."
            ) from err
        raise ValueError(f"cannot read {str(path)!r} as a .npy array: {err}") from err
    except OSError as err:
        raise ValueError(
            f"cannot read {str(path)!r} as a .npy array ({err}); was it written by np.save?"
        ) from err


def _load_npz(
    path: Path, label_column: int | str | None, find_labels: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    # A zip archive: a local file header, or the end record of an empty archive.
    _check_magic(path, (b"PK\x03\x04", b"PK\x05\x06"), ".npz", "np.savez")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"cannot read {str(path)!r} as a .npz archive ({err}); was it written by np.savez?"
        ) from err
    with archive:
        keys = list(archive.files)
        y_key = None
        if isinstance(label_column, str):
            if label_column not in keys:
                raise ValueError(
                    f"{str(path)!r} has no array named {label_column!r} for the labels; its "
                    f"arrays are {keys}. Pass one of those as label_column."
                )
            y_key = label_column
        elif label_column is None and find_labels:
            y_key = next((k for k in _NPZ_Y_KEYS if k in keys), None)
        x_key = next((k for k in _NPZ_X_KEYS if k in keys), None)
        if x_key is None:
            others = [k for k in keys if k != y_key]
            if len(others) != 1:
                raise ValueError(
                    f"cannot tell which array of {str(path)!r} is the data: its arrays are "
                    f"{keys}. Save the data matrix under the key 'x' (np.savez(path, x=..., "
                    "y=...)) or keep a single array in the archive."
                )
            x_key = others[0]
        try:
            x = archive[x_key]
            y = None if y_key is None else archive[y_key]
        except (zipfile.BadZipFile, OSError, EOFError) as err:  # truncated, or a bad CRC
            raise ValueError(
                f"{str(path)!r} is a damaged .npz archive ({err}); write or download it again"
            ) from None
        except ValueError as err:
            raise ValueError(
                f"{str(path)!r} holds Python objects, which aekit does not unpickle; save "
                "numeric arrays instead."
            ) from err
    return x, y


def _sniff_delimiter(suffix: str, first_line: str) -> str | None:
    if suffix == ".csv":
        return ","
    if suffix == ".tsv":
        return "\t"
    # .txt is written every which way; go by the first line, whitespace when nothing else.
    for delim in (",", "\t", ";"):
        if delim in first_line:
            return delim
    return None


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _first_bad_field(lines: list[tuple[int, str]], delim: str | None, n_cols: int) -> str:
    """Describe the first unparsable line, for an error message."""
    for lineno, line in lines:
        fields = line.split(delim)
        if len(fields) != n_cols:
            return f"line {lineno} has {len(fields)} fields where earlier lines have {n_cols}"
        for col, field in enumerate(fields, start=1):
            if not _is_number(field):
                return f"line {lineno}, column {col} has the non-numeric value {field.strip()!r}"
    return "a value could not be parsed"


def _header(path: Path, lineno: int, cells: list[str]) -> list[str] | None:
    """The first line's names when every cell is a name, None when every cell is a number.

    A line of names and numbers is neither: ``0.1,hello,0.3`` is a data row with a typo as
    often as a header, and taking it for a header would drop a row without a word.
    """
    numeric = [_is_number(c) for c in cells]
    if all(numeric):
        return None
    if not any(numeric):
        return [c.strip().strip("\"'") for c in cells]
    col = numeric.index(False) + 1 if numeric[0] else numeric.index(True) + 1
    kind = "a name" if numeric[0] else "a number"
    raise ValueError(
        f"{str(path)!r}: line {lineno} mixes numbers and names (column {col} holds {kind}, "
        f"{cells[col - 1].strip()!r}, unlike column 1), so it is neither a header nor a data "
        'row; a header line holds only names (quote numeric ones, e.g. "1") and a data line '
        "only numbers: fix that line."
    )


def _load_text(path: Path) -> tuple[np.ndarray, list[str] | None]:
    """Parse a numeric text matrix; returns it and the header names, if there is a header."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is not part of the first cell
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{str(path)!r} is not a text file ({err}); give a .npy/.npz file for binary data."
        ) from err
    lines = [
        (i + 1, line)
        for i, line in enumerate(text.splitlines())
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ValueError(f"{str(path)!r} holds no data: every line is empty or a # comment.")
    delim = _sniff_delimiter(path.suffix.lower(), lines[0][1])
    # Only a first line of names is a header; column names that are themselves numbers
    # cannot be told from data unless quoted, and a mix of the two is refused (_header).
    header = _header(path, lines[0][0], lines[0][1].split(delim))
    if header is not None:
        lines = lines[1:]
        if not lines:
            raise ValueError(f"{str(path)!r} has a header line but no data rows.")
    n_cols = len(lines[0][1].split(delim))
    try:
        x = np.loadtxt([line for _, line in lines], delimiter=delim, ndmin=2, dtype=np.float64)
    except ValueError as err:
        where = _first_bad_field(lines, delim, n_cols)
        shown = {None: "whitespace", "\t": "tab"}.get(delim, repr(delim))
        raise ValueError(
            f"{str(path)!r} is not a numeric matrix: {where}. Text files must hold numbers "
            f"only, separated by {shown}, with at most one header line; remove or encode "
            "other columns before loading."
        ) from err
    if header is not None and len(header) != x.shape[1]:
        raise ValueError(
            f"{str(path)!r} has {len(header)} header names but {x.shape[1]} data columns; "
            "make the header line match the data."
        )
    return x, header


def _column_index(path: Path, label_column: int | str, header: list[str] | None, n: int) -> int:
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            names = "no header line" if header is None else f"columns {header}"
            raise ValueError(
                f"{str(path)!r} has no column named {label_column!r} ({names}); pass the "
                "label column by name as it appears in the header, or by integer position."
            )
        return header.index(label_column)
    if not -n <= label_column < n:
        raise ValueError(
            f"label_column={label_column} is out of range for {str(path)!r}, which has {n} "
            f"columns; use 0..{n - 1} or a negative index from the end."
        )
    return label_column % n


def _check_labels(path: Path, y: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(
            f"labels in {str(path)!r} have shape {y.shape} but the data has {n} rows; give "
            f"one label per row, shape ({n},)."
        )
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isfinite(y)):
            raise ValueError(
                f"labels in {str(path)!r} must be integer class ids, got dtype {y.dtype}."
            )
        bad = np.flatnonzero(y != np.round(y))
        if len(bad):
            raise ValueError(
                f"labels in {str(path)!r} must be integer class ids, but {len(bad)} are not "
                f"whole numbers (first {y[bad[0]].item()!r} at row {bad[0]}); for regression "
                "targets load the file with load_array instead."
            )
    return y.astype(np.int64)


def _check_matrix(path: Path, x: np.ndarray) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Check a loaded array and bring it to 2-D; returns it and the image shape if 3-D."""
    if not (np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.bool_)):
        raise ValueError(
            f"{str(path)!r} holds dtype {x.dtype}, not numbers; convert it to a numeric "
            "array (e.g. float32) before saving."
        )
    if np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{str(path)!r} holds complex numbers; give real-valued data.")
    image_shape = None
    if x.ndim == 3:
        image_shape = (int(x.shape[1]), int(x.shape[2]))
        x = x.reshape(x.shape[0], -1)
    elif x.ndim != 2:
        raise ValueError(
            f"{str(path)!r} holds an array of shape {x.shape}; aekit needs a 2-D matrix "
            "(n_samples, n_features), or a 3-D stack of images (n_samples, height, width). "
            "Reshape it before saving, e.g. x.reshape(len(x), -1)."
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{str(path)!r} holds an empty matrix of shape {x.shape}.")
    if np.issubdtype(x.dtype, np.floating):
        n_bad, first = _count_nonfinite(x)
        if n_bad:
            assert first is not None  # found with the first bad value
            row, col = first
            raise ValueError(
                f"{str(path)!r} contains {n_bad} NaN or infinite values (the first at row "
                f"{row}, column {col}); remove or impute them before loading."
            )
    return x, image_shape


def _count_nonfinite(x: np.ndarray) -> tuple[int, tuple[int, int] | None]:
    """NaN/inf count and the first one's (row, column); a memmap is checked in chunks of
    rows (about 16 MB each), so it is never held whole."""
    step = len(x) if not isinstance(x, np.memmap) else max(1, (16 << 20) // max(1, x[0].nbytes))
    n_bad, first = 0, None
    for start in range(0, len(x), step):
        chunk = np.asarray(x[start : start + step])
        finite = np.isfinite(chunk)
        bad = chunk.size - int(np.count_nonzero(finite))
        if bad and first is None:
            row, col = np.argwhere(~finite)[0]
            first = (start + int(row), int(col))
        n_bad += bad
        mm = getattr(x, "_mmap", None)
        if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
            mm.madvise(mmap.MADV_DONTNEED)  # drop the pages read from the resident set
    return n_bad, first


def _load_matrix(
    path: str | os.PathLike[str],
    *,
    mmap: bool = False,
    label_column: int | str | None = None,
    find_labels: bool = False,
) -> _Matrix:
    """Load, check and flatten a data file; the one code path behind the public loaders.

    ``find_labels`` looks for labels by name (an ``.npz`` key or a header name such as
    ``label``) when no ``label_column`` is given.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"cannot load {str(path)!r}: unsupported file type {suffix or '(no suffix)'!r}; "
            f"aekit reads {', '.join(SUPPORTED_SUFFIXES)}. Convert the data to one of these "
            "(np.save is simplest)."
        )
    _check_exists(path)
    if label_column is not None and (
        isinstance(label_column, bool) or not isinstance(label_column, int | str | np.integer)
    ):
        raise TypeError(
            f"label_column must be an int (column position), a str (column or .npz key name) "
            f"or None, got {type(label_column).__name__}."
        )
    y = None
    header = None
    if suffix == ".npy":
        x = _load_npy(path, mmap)
    elif suffix == ".npz":
        x, y = _load_npz(path, label_column, find_labels)
    else:
        x, header = _load_text(path)
    column = None
    # An .npz names its label array by key (handled above); everywhere else the labels are a
    # column of the matrix.
    if label_column is not None and not (suffix == ".npz" and isinstance(label_column, str)):
        if x.ndim != 2:
            raise ValueError(
                f"label_column={label_column!r} needs a 2-D matrix, but {str(path)!r} holds "
                f"shape {x.shape}; store the labels separately (e.g. an .npz with keys 'x' "
                "and 'y')."
            )
        column = _column_index(path, label_column, header, x.shape[1])
    elif label_column is None and find_labels and header is not None:
        column = next((header.index(n) for n in _LABEL_NAMES if n in header), None)
    if column is not None:
        y = x[:, column]
        x = np.delete(x, column, axis=1)
    x, image_shape = _check_matrix(path, x)
    if y is not None:
        y = _check_labels(path, y, x.shape[0])
    return _Matrix(x=x, y=y, image_shape=image_shape)


def load_array(path: str | os.PathLike[str], mmap: bool = False) -> np.ndarray:
    """Load a data matrix from a ``.npy``, ``.npz``, ``.csv``, ``.tsv`` or ``.txt`` file.

    Parameters
    ----------
    path : str or path-like
        The file; its suffix selects the format.

        - ``.npy``: one array.
        - ``.npz``: the array under key ``x``, ``X`` or ``data``, or the archive's only array.
        - ``.csv`` (comma), ``.tsv`` (tab), ``.txt`` (comma, tab, semicolon or whitespace, from
          the first line): numbers, one sample per line; a first line of names (no cell a
          number) is a header and is skipped, a first line mixing names and numbers is an
          error; lines starting with ``#`` are comments.
    mmap : bool, default=False
        Memory-map a ``.npy`` file instead of reading it (read-only); other formats ignore it.

    Returns
    -------
    x : ndarray of shape (n_samples, n_features)
        The values with the file's dtype (float64 for text). A 3-D image stack
        ``(n_samples, h, w)`` comes back flattened to ``(n_samples, h * w)``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the suffix is unsupported, the text is not a numeric matrix, the array is not 2-D
        or 3-D, is empty, or contains NaN or infinite values; the message names the file.
    """
    return _load_matrix(path, mmap=mmap).x


def load_labeled(
    path: str | os.PathLike[str], label_column: int | str | None = None, mmap: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Load a data matrix and its labels from one file.

    Parameters
    ----------
    path : str or path-like
        The file, in any format :func:`load_array` reads.
    label_column : int or str, optional
        Where the labels are. An int is a column position in the matrix (negative counts
        from the end); a str is a header name in a text file or a key in an ``.npz``. The
        label column is removed from the returned features. When omitted, labels are found
        by name: ``.npz`` keys ``y``, ``Y``, ``labels``, ``label``, ``target``, ``targets`` or
        a text header column ``label``, ``labels``, ``y``, ``target`` or ``class``.
    mmap : bool, default=False
        As in :func:`load_array`.

    Returns
    -------
    x : ndarray of shape (n_samples, n_features)
        The features.
    y : ndarray of shape (n_samples,), dtype int64, or None
        The class labels, or None when no ``label_column`` is given and none is found.

    Raises
    ------
    TypeError
        If ``label_column`` is neither int, str nor None.
    ValueError
        As :func:`load_array`, and when the label column does not exist or holds values that
        are not whole numbers.
    """
    loaded = _load_matrix(path, mmap=mmap, label_column=label_column, find_labels=True)
    return loaded.x, loaded.y
