"""Atomic file writes: the one writer used by run folders, reports and sweep stores.

A file appears under its final name only when complete: the content goes to a hidden
temporary file in the same folder (``.NAME.XXXX.tmp``), is flushed to disk, and is then
renamed over the final name. A failure (or a kill) leaves the old file, or none, plus at
most a temporary file that :func:`remove_temporary` clears. This module imports nothing
from market_sim, so every layer may use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

TEMP_SUFFIX = ".tmp"


def atomic_write(
    path: str | Path,
    write: Callable[[BinaryIO], None],
    mode: int = 0o644,
    fsync: bool = True,
) -> Path:
    """Write ``path`` atomically: ``write`` gets an open binary file to fill.

    ``fsync`` flushes the content to disk before the rename (durable against a power
    loss, at the cost of a disk round trip). Returns the final path.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | Path, data: bytes, fsync: bool = True) -> Path:
    """Write bytes atomically."""
    return atomic_write(path, lambda fh: fh.write(data), fsync=fsync)


def write_text(path: str | Path, text: str, fsync: bool = True) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(path, text.encode("utf-8"), fsync=fsync)


def write_json(path: str | Path, data: Mapping[str, Any] | list, indent: int = 2) -> Path:
    """Write JSON (indented, UTF-8, a final newline) atomically."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n"
    return write_text(path, text)


def remove_temporary(folder: str | Path) -> int:
    """Remove temporary files a killed writer left in ``folder``; returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for p in folder.glob(f".*{TEMP_SUFFIX}"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def sha256_of(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()
