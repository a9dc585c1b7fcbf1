"""Files that are either whole or absent: atomic writes of text, JSON and safetensors.

Every file aekit writes into a run or model folder goes through here, so a crash (or ``kill
-9``) leaves the old file or the new one, never a torn one. Nothing here imports torch at module
level, so the data layer can use it too.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it, so set it straight back
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then rename it over ``path``.

    A crash leaves either the old file or the new one, never a torn one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; give it the permissions a plain open() would have.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically. NaN and infinity are refused:
    they are not JSON, and a file holding them could not be read back by other tools."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, text + "\n")


def atomic_save_tensors(path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
    """Save a flat dict of tensors as safetensors, atomically (tensors made contiguous)."""
    from safetensors.torch import save_file

    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write(Path(path), lambda tmp: save_file(flat, tmp))


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file (no pickle involved)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    try:
        return load_file(str(path))
    except SafetensorError as exc:
        raise ValueError(
            f"{path} is not a readable safetensors file ({exc}): it is truncated or corrupt; "
            "save or train the model again"
        ) from None


def read_tensor_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a safetensors file, read from its JSON header
    alone (8 bytes of length, then the header), so nothing is allocated for the weights."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if n <= 0 or n > min(size - 8, 100_000_000):
            raise ValueError(
                f"{path} is not a readable safetensors file (bad header length): it is "
                "truncated or corrupt; save or train the model again"
            )
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError):
            header = None
    if not isinstance(header, dict):
        raise ValueError(
            f"{path} is not a readable safetensors file (corrupt header); save or train the "
            "model again"
        )
    return {
        k: tuple(int(s) for s in v["shape"])
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict) and "shape" in v
    }


def read_json(path: str | Path, fix: str = "") -> Any:
    """Parse a JSON file; a corrupt one is a ValueError that names it (and ``fix``, the way
    out, when the caller knows one)."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path} is not valid JSON ({exc}); it is truncated or corrupt"
            + (f": {fix}" if fix else "")
        ) from None
