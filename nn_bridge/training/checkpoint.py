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
from pathlib import Path
from typing import Any

import numpy as np

from levydyn.output_files import atomic_write_bytes as _atomic_write_bytes
from levydyn.results import to_jsonable

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_save_npz", "read_npz_meta",
           "config_key", "json_safe",
           "PartStore"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating missing parent directories
    (:func:`levydyn.output_files.atomic_write_bytes`: temp file + fsync + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _atomic_write_bytes(path, data)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON; non-finite numbers follow levydyn's one
    convention (the strings ``"inf"``, ``"-inf"``, ``"nan"``: :func:`levydyn.results.to_jsonable`)."""
    text = json.dumps(json_safe(obj), indent=2, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode())


def atomic_save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """Atomically write arrays to a compressed ``.npz`` file."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def read_npz_meta(path: str | os.PathLike, meta_key: str, what: str, field: str = "path",
                  arrays: tuple[str, ...] | None = None) -> tuple[dict, dict]:
    """``(arrays, meta)`` of an ``.npz`` written with a JSON string under ``meta_key``:
    ``arrays`` (all, or the names given, each required) as numpy arrays, ``meta`` parsed.
    A missing or unreadable file is one ``ValueError`` naming ``field`` and ``what``."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{field}={str(path)!r}: {what} file not found")
    try:
        with np.load(p, allow_pickle=False) as z:
            meta = json.loads(str(z[meta_key]))
            names = [k for k in z.files if k != meta_key] if arrays is None else arrays
            out = {k: z[k] for k in names}
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"{field}={str(path)!r}: not a {what} ({exc})") from None
    return out, meta


def config_key(obj: Any) -> str:
    """Stable 16-hex-digit key of a JSON-able configuration (sha256 of sorted JSON)."""
    text = json.dumps(json_safe(obj), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def json_safe(obj: Any) -> Any:
    """Numpy scalars/arrays to Python types, non-finite floats to ``"inf"``/``"-inf"``/``"nan"``
    (levydyn's one JSON convention, :func:`levydyn.results.to_jsonable`)."""
    return to_jsonable(obj)


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
