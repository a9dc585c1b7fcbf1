"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

The format is described on Yann LeCun's MNIST page (LeCun, Bottou, Bengio & Haffner, 1998): a
4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim`` big-endian uint32 sizes,
then the values in C order, big-endian. The files are usually distributed gzipped; this module
recognises gzip by its magic bytes, so a renamed or un-suffixed file still reads.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx"]

# IDX type code -> big-endian NumPy dtype; the codes are those of the MNIST page.
_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_NAMES = {
    0x08: "ubyte",
    0x09: "byte",
    0x0B: "short",
    0x0C: "int",
    0x0D: "float",
    0x0E: "double",
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(
            f"IDX file {str(path)!r} does not exist (or is not a file); check the path, or set "
            "--data-dir / AEKIT_DATA_DIR to the folder that holds it."
        )
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        # A download cut short is the usual cause: the gzip stream ends before its trailer.
        raise ValueError(
            f"IDX file {str(path)!r} starts like gzip but cannot be decompressed ({err}); the "
            "file is probably truncated or corrupt: download it again."
        ) from err


def _parse_header(data: bytes, size: int, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check the header at the start of ``data`` against the value bytes a file of ``size``
    bytes holds; return the dtype, the shape and the header's length."""
    if size < 4:
        raise ValueError(
            f"IDX file {name!r} is {size} bytes long, too short for the 4-byte magic "
            "number; the file is empty or truncated: download it again."
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"IDX file {name!r} has a bad magic number 0x{data[:4].hex()}: IDX files start with "
            "two zero bytes. Is this really an MNIST-format file (and not, say, an HTML error "
            "page saved by a failed download)?"
        )
    code, ndim = data[2], data[3]
    if code not in _CODE_TO_DTYPE:
        known = ", ".join(f"0x{c:02X} ({n})" for c, n in _CODE_NAMES.items())
        raise ValueError(
            f"IDX file {name!r} has unknown type code 0x{code:02X} in its magic number; "
            f"known codes are {known}. The file is corrupt or not IDX."
        )
    if ndim == 0:
        raise ValueError(
            f"IDX file {name!r} declares 0 dimensions; an IDX array needs at least one. "
            "The file is corrupt or not IDX."
        )
    header_len = 4 + 4 * ndim
    if size < header_len:
        raise ValueError(
            f"IDX file {name!r} is truncated inside its header: {ndim} dimensions need "
            f"{header_len} header bytes but the file has {size}; download it again."
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(shape) * dtype.itemsize
    found = size - header_len
    if found < expected:
        raise ValueError(
            f"IDX file {name!r} is truncated: its header declares shape {shape} of "
            f"{_CODE_NAMES[code]} ({expected} bytes of values) but only {found} bytes follow "
            "the header; download the file again."
        )
    if found > expected:
        raise ValueError(
            f"IDX file {name!r} has {found - expected} bytes of trailing data after the "
            f"{expected} bytes that its shape {shape} implies; the file is corrupt or two "
            "files were concatenated: download it again."
        )
    return dtype, shape, header_len


def _map_idx(path: Path) -> np.memmap:
    """A read-only memmap of an uncompressed IDX file's values, in the file's byte order."""
    name = str(path)
    if not path.is_file():
        _read_bytes(path)  # raises the FileNotFoundError
    with open(path, "rb") as f:
        head = f.read(4 + 4 * 255)
    if head[:2] == _GZIP_MAGIC:
        raise ValueError(
            f"IDX file {name!r} is gzip-compressed and cannot be memory-mapped; decompress it "
            f"first (gunzip -k {name!r}) and map the result, or read it with mmap=False."
        )
    dtype, shape, header_len = _parse_header(head, path.stat().st_size, name)
    return np.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=shape)


def read_idx(path: str | os.PathLike[str], mmap: bool = False) -> np.ndarray:
    """Read an IDX file (MNIST format), gzipped or raw.

    Parameters
    ----------
    path : str or path-like
        The file. Gzip compression is detected from the first bytes, not from the suffix.
    mmap : bool, default=False
        Memory-map an uncompressed file instead of reading it: the result is a read-only
        ``np.memmap`` in the file's (big-endian) byte order, for
        :class:`~aekit.rows.MemmapRows` (``scale=1 / 255`` for uint8 images) to read a batch
        at a time. A gzipped file cannot be mapped.

    Returns
    -------
    array : ndarray of shape given by the file's header
        The values, in native byte order, with the file's dtype (``uint8`` for MNIST images
        and labels). The array is a fresh, writable copy (a read-only memmap with ``mmap``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not IDX (bad magic number), uses an unknown type code, is truncated
        (fewer value bytes than its dimensions imply) or has trailing bytes after the values;
        or, with ``mmap``, if it is gzipped. The message names the file.

    Examples
    --------
    >>> images = read_idx("mnist/train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    if mmap:
        return _map_idx(path)
    data = _read_bytes(path)
    dtype, shape, header_len = _parse_header(data, len(data), str(path))
    values = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=header_len)
    # astype copies, which both converts to native byte order and detaches the result from
    # the read-only bytes buffer.
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array as an IDX file, gzipped when ``path`` ends in ``.gz``.

    Parameters
    ----------
    path : str or path-like
        Destination. A ``.gz`` suffix selects gzip compression (with no timestamp or file name
        in the gzip header, so the same array always gives the same bytes).
    array : array_like
        At least 1-D, of dtype uint8, int8, int16, int32, float32 or float64 (the six IDX
        types); every dimension must fit in an unsigned 32-bit integer.

    Raises
    ------
    TypeError
        If the dtype has no IDX type code.
    ValueError
        If the array is 0-D, has more than 255 dimensions or a dimension of 2**32 or more.
    """
    array = np.asarray(array)
    native = {dt.newbyteorder("="): code for code, dt in _CODE_TO_DTYPE.items()}
    dtype = array.dtype.newbyteorder("=")
    if dtype not in native:
        raise TypeError(
            f"cannot write {str(path)!r} as IDX: dtype {array.dtype} has no IDX type code; "
            "convert the array to uint8, int8, int16, int32, float32 or float64 first."
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(
            f"cannot write {str(path)!r} as IDX: the array has {array.ndim} dimensions, "
            "IDX stores 1 to 255."
        )
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(
            f"cannot write {str(path)!r} as IDX: shape {array.shape} has a dimension that "
            "does not fit in 32 bits."
        )
    code = native[dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    path = Path(path)
    if path.name.endswith(".gz"):
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f,
        ):
            f.write(header + payload)
    else:
        path.write_bytes(header + payload)
