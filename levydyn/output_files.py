"""Output files: checked before a run starts, written atomically when it ends.

A long run must not be lost at its last step, so every output path is checked up front
(:func:`check_output_path`: the directory exists and is writable, the name is not a
directory, the extension is one the writer knows) and every file is written to a
temporary sibling, flushed, fsync'ed and renamed over the target
(:func:`atomic_write_bytes`). A reader, or a rerun after a kill or a full disk, sees
the old complete file or the new complete file, never a torn or empty one; the
temporary file is removed on any failure.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from levydyn.model.validation import reject

__all__ = ["IMAGE_SUFFIXES", "atomic_savefig", "atomic_write_bytes", "atomic_write_text",
           "check_output_path", "image_suffixes"]

# what matplotlib's Agg/PDF/SVG/PS backends write (FigureCanvasBase.get_supported_filetypes)
IMAGE_SUFFIXES = (".eps", ".jpeg", ".jpg", ".pdf", ".pgf", ".png", ".ps", ".raw", ".rgba",
                  ".svg", ".svgz", ".tif", ".tiff", ".webp")


def image_suffixes() -> tuple[str, ...]:
    """The image extensions :func:`atomic_savefig` can write."""
    return IMAGE_SUFFIXES


def check_output_path(field: str, path, suffixes: tuple[str, ...] | None = None) -> Path:
    """``path`` as a :class:`~pathlib.Path` that a writer can create or replace.

    Raises one ``ValueError`` naming ``field`` when the directory is missing or not
    writable, the path is a directory, or the extension is not in ``suffixes``.
    """
    p = Path(os.fspath(path))
    if not str(p) or p.name in ("", ".", ".."):
        raise reject(field, "be a file name", str(path))
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise reject(field, "end in one of " + " ".join(suffixes), str(path))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise reject(field, f"be in an existing directory ({str(parent)!r} does not exist)",
                     str(path))
    if p.is_dir():
        raise reject(field, "name a file, not a directory", str(path))
    if p.exists() and not p.is_file():
        raise reject(field, "name a regular file (an output never replaces a device, pipe or "
                     "socket)", str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise reject(field, f"be in a writable directory ({str(parent)!r} is not)", str(path))
    return p


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, ``os.replace``);
    an existing ``path`` that is not a regular file is refused, never replaced."""
    path = Path(os.fspath(path))
    if path.exists() and not path.is_file():
        raise reject("path", "name a regular file (an output never replaces a device, pipe or "
                     "socket)", str(path))
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)          # mkstemp makes 0600; results should be readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(parent)
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_savefig(fig, path, **savefig_kwargs) -> Path:
    """``fig.savefig`` into memory in the format of ``path``'s extension, then an atomic
    write: an unknown extension or a full disk leaves no partial image behind."""
    path = Path(os.fspath(path))
    fmt = path.suffix.lower().lstrip(".")
    if "." + fmt not in IMAGE_SUFFIXES:
        raise reject("plot", "end in one of " + " ".join(IMAGE_SUFFIXES), str(path))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **savefig_kwargs)
    return atomic_write_bytes(path, buf.getvalue())


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:           # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    except OSError:           # pragma: no cover
        pass
    finally:
        os.close(fd)
