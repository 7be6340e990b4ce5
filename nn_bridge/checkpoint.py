"""Atomic file writes and the on-disk store that lets long measurements resume.

A file is written to a temporary sibling, flushed, fsync'ed and moved over its target
with ``os.replace`` (atomic on POSIX and Windows), so a reader -- or a rerun after a
kill -- sees either the old complete file or the new complete file, never a torn one.

``PartStore`` keeps finished pieces of a measurement (one per batch size) under keys
that hash every input the piece depends on; a rerun loads finished pieces and computes
only the missing ones.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_save_npz", "config_key", "json_safe",
           "PartStore"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)           # mkstemp makes 0600; a result file should be readable
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented, NaN-free JSON (NaN/inf become null)."""
    text = json.dumps(json_safe(obj), indent=2, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode())


def atomic_save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """Atomically write arrays to a compressed ``.npz`` file."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def config_key(obj: Any) -> str:
    """Stable 16-hex-digit key of a JSON-able configuration (sha256 of sorted JSON)."""
    text = json.dumps(json_safe(obj), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def json_safe(obj: Any) -> Any:
    """Recursively turn numpy scalars/arrays into Python types and non-finite floats into None."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if np.isfinite(x) else None
    return obj


class PartStore:
    """Finished pieces of a measurement, one ``.npz`` per key, written atomically.

    Parameters
    ----------
    root : directory holding the pieces (created on first write). ``None`` disables
        storage: every ``load`` misses and ``save`` does nothing.
    """

    def __init__(self, root: str | os.PathLike | None):
        self.root = None if root is None else Path(root)

    def path(self, kind: str, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{kind}-{key}.npz"

    def load(self, kind: str, key: str) -> dict[str, np.ndarray] | None:
        """The arrays saved under ``(kind, key)``, or ``None`` when absent."""
        p = self.path(kind, key)
        if p is None or not p.exists():
            return None
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def save(self, kind: str, key: str, **arrays: Any) -> None:
        p = self.path(kind, key)
        if p is not None:
            atomic_save_npz(p, **arrays)
