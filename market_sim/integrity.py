"""Checksums of data files: what a run folder's run.json and a sweep's index record, and
the check that a file still is what was written.

A record is ``{"bytes": size, "sha256": hex digest}``. :func:`check_file` compares a file
with its record: the size first (a truncated or grown file is found without reading it),
then the SHA-256 (a file changed in place). This module imports only
:mod:`market_sim.fileio`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from market_sim.fileio import sha256_of


def file_record(path: str | Path) -> dict[str, Any]:
    """Size in bytes and SHA-256 of a file, as stored in run.json and a sweep's index."""
    return {"bytes": Path(path).stat().st_size, "sha256": sha256_of(path)}


def is_record(value: Any) -> bool:
    """Whether ``value`` has the shape of a :func:`file_record`."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("bytes"), int)
        and isinstance(value.get("sha256"), str)
    )


def check_file(path: str | Path, record: Any, full: bool = True) -> str | None:
    """What is wrong with ``path`` compared with its record, or None if it matches.

    ``full=False`` compares only the size (no read). Problems read like "missing",
    "truncated or changed since it was written (1,024 bytes, 2,048 written)", "changed
    since it was written (checksum differs)".
    """
    path = Path(path)
    if not is_record(record):
        return "has no valid checksum record"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_size != record["bytes"]:
        how = "truncated or changed" if st.st_size < record["bytes"] else "changed"
        return f"{how} since it was written ({st.st_size:,} bytes, {record['bytes']:,} written)"
    if not full:
        return None
    try:
        digest = sha256_of(path)
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if digest != record["sha256"]:
        return "changed since it was written (checksum differs)"
    return None
