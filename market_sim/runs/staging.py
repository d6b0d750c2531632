"""Hidden working folders of output folders: their names, and removing the ones a killed
command left behind.

An output folder ``NAME`` is built as ``.NAME.tmp-<host><pid>-XXXX`` next to it and
renamed into place when complete; an existing folder being replaced is first moved to
``.NAME.old-<host><pid>-XXXX``. ``<host>`` is a short hash of the machine's name and
``<pid>`` the creating process, so a later command can tell a folder whose creator died
(stale) from a concurrent command's (left alone). :func:`clean_stale` runs when an output
folder is about to be written and removes stale working folders in the same parent:

- created on this machine: stale when the creating process no longer exists;
- created elsewhere (a shared disk) or named without a process id (an older version):
  stale when untouched for :data:`STALE_AFTER_S` seconds.

A stale ``.old-`` folder is a replaced folder whose replacement was interrupted: if
``NAME`` is missing it is moved back to ``NAME``, else removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import time
from pathlib import Path

STALE_AFTER_S = 3600.0
"""Age (seconds since last change) after which a working folder of unknown origin is stale."""

_PATTERN = re.compile(
    r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?:(?P<host>[0-9a-f]{6})p(?P<pid>\d+)-)?[A-Za-z0-9_]+$"
)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def prefix(name: str, kind: str = "tmp") -> str:
    """The name prefix of a working folder for output ``name`` (``tmp`` or ``old``)."""
    return f".{name}.{kind}-{_host_tag()}p{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """Whether a working folder was left by a command that is gone (see module doc)."""
    m = _PATTERN.match(path.name)
    if m is None:
        return False
    if m.group("pid") is not None and m.group("host") == _host_tag():
        return int(m.group("pid")) != os.getpid() and not _alive(int(m.group("pid")))
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    return age > STALE_AFTER_S


def clean_stale(parent: str | Path) -> list[Path]:
    """Remove (or restore, see module doc) stale working folders in ``parent``; returns
    what was removed or restored. Never raises for a folder it cannot touch."""
    parent = Path(parent)
    done: list[Path] = []
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(".")]
    except OSError:
        return done
    for path in entries:
        m = _PATTERN.match(path.name)
        if m is None or path.is_symlink() or not path.is_dir() or not is_stale(path):
            continue
        try:
            final = parent / m.group("name")
            if m.group("kind") == "old" and not final.exists() and not final.is_symlink():
                os.rename(path, final)
            else:
                shutil.rmtree(path)
            done.append(path)
        except OSError:
            continue
    return done
