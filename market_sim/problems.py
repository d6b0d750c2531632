"""Expected failures as one line for the user: ``PLACE: problem; fix``.

:class:`LineError` is the base of every error the command line reports without a
traceback (bad run folders, sweep stores, non-finite outcomes); its ``exit_code`` says
whose problem it is: 2 the user's input, 1 the environment (disk, permissions, network,
memory). :func:`os_problem` turns an ``OSError`` into such a line. This module imports
nothing from market_sim, so every layer may use it.
"""

from __future__ import annotations

import errno
from pathlib import Path

INPUT = 2
"""Exit code of a problem with the user's input."""
ENVIRONMENT = 1
"""Exit code of a problem with the environment (disk, permissions, network, memory)."""
MAX_LINE = 2000
"""Characters of one error line shown at most (a huge value is cut, not echoed)."""


class LineError(Exception):
    """A problem already phrased as one line; ``exit_code`` 2 (input) or 1 (environment)."""

    def __init__(self, line: str, exit_code: int = INPUT):
        super().__init__(line)
        self.exit_code = exit_code


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` on one line, at most about ``limit`` characters: a longer text keeps its
    start (the place) and its end (the fix), and says how much was cut from the middle."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head, tail = int(limit * 0.45), int(limit * 0.45)
    cut = len(text) - head - tail
    return f"{text[:head]} …({cut:,} characters cut)… {text[-tail:]}"


_ERRNO: dict[int, tuple[str, str, int]] = {
    errno.ENOSPC: ("no space left on the device", "free some space or write elsewhere", 1),
    errno.EDQUOT: ("disk quota exceeded", "free some space or write elsewhere", 1),
    errno.EFBIG: ("file too large for this place", "write elsewhere", 1),
    errno.EACCES: (
        "permission denied",
        "choose a place you may use, or change its permissions",
        1,
    ),
    errno.EPERM: (
        "operation not permitted",
        "choose a place you may use, or change its permissions",
        1,
    ),
    errno.EROFS: ("read-only file system", "choose a writable place", 1),
    errno.EIO: ("input/output error", "check the disk", 1),
    errno.EBUSY: ("busy (in use, or a mount point)", "choose another path", 1),
    errno.EMFILE: ("too many open files", "close other programs or raise `ulimit -n`", 1),
    errno.ENFILE: ("too many open files in the system", "close other programs", 1),
    errno.ENOMEM: ("out of memory", "close other programs or use a smaller input", 1),
    errno.ECONNREFUSED: ("connection refused", "check the address and that the server runs", 1),
    errno.ECONNRESET: ("connection reset", "check the network and try again", 1),
    errno.ETIMEDOUT: ("timed out", "check the address and the network", 1),
    errno.EHOSTUNREACH: ("host unreachable", "check the address and the network", 1),
    errno.ENETUNREACH: ("network unreachable", "check the network", 1),
    errno.ENAMETOOLONG: ("path or file name too long", "use a shorter path", 2),
    errno.ENOENT: ("no such file or folder", "check the path", 2),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path", 2),
    errno.EISDIR: ("is a folder", "give a file", 2),
    errno.ELOOP: ("too many levels of symbolic links", "check the path", 2),
    errno.EEXIST: ("already exists", "choose another path", 2),
    errno.ENOTEMPTY: ("folder not empty", "choose another path", 2),
    errno.EINVAL: ("invalid path or argument", "choose another path", 2),
    errno.EXDEV: ("cannot move across file systems", "choose a path on the same disk", 1),
}


def os_problem(err: OSError, where: str | Path | None = None) -> LineError:
    """An ``OSError`` as a :class:`LineError`: ``PATH: problem; fix``.

    The path is the error's own file name when it has one, else ``where``.
    """
    place = err.filename if err.filename not in (None, "") else where
    place = str(place) if place is not None else "market-sim"
    known = _ERRNO.get(err.errno) if err.errno is not None else None
    if known is None and isinstance(err, TimeoutError):
        known = _ERRNO[errno.ETIMEDOUT]
    if known is None and isinstance(err, ConnectionError):
        known = _ERRNO[errno.ECONNREFUSED]
    if known is None:
        text = err.strerror or str(err) or type(err).__name__
        return LineError(shorten(f"{place}: {text}"), ENVIRONMENT)
    problem, fix, code = known
    return LineError(shorten(f"{place}: {problem}; {fix}"), code)
