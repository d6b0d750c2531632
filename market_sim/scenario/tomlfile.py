"""Reading one TOML file (scenario, sweep or claims file) safely: only a regular file
(a pipe, device or socket is refused without blocking on it), at most
:data:`MAX_TOML_BYTES`, nested at most :data:`MAX_NESTING` deep; every problem is a
:class:`ScenarioError` naming the file and, for a syntax error, the line.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from market_sim.scenario.errors import Problem, ScenarioError

MAX_TOML_BYTES = 4 * 2**20
"""Largest scenario or sweep file read (4 MiB; the baseline is ~40 kB)."""
MAX_NESTING = 32
"""Deepest nesting of tables and arrays in a file."""


def file_problem(file: str, path: str, message: str) -> ScenarioError:
    """A ScenarioError with one problem."""
    return ScenarioError([Problem(file, path, message)])


def _read_bytes(path: Path, who: str) -> bytes:
    """A regular file's content, refusing FIFOs, devices, sockets and files over the
    size bound (the file is opened without blocking, then checked, then read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise file_problem(who, "", f"cannot read '{path}': {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise file_problem(
                who,
                "",
                f"'{path}' is not a regular file (a pipe, device or socket); give a .toml file",
            )
        if st.st_size > MAX_TOML_BYTES:
            raise file_problem(
                who,
                "",
                f"'{path}' is {st.st_size / 2**20:,.1f} MiB; a scenario or sweep file may be "
                f"at most {MAX_TOML_BYTES // 2**20} MiB: give the right file",
            )
        chunks, size = [], 0
        while size <= MAX_TOML_BYTES:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            chunks.append(block)
            size += len(block)
        if size > MAX_TOML_BYTES:
            raise file_problem(who, "", f"'{path}' grew while being read; try again")
        return b"".join(chunks)
    except OSError as err:
        raise file_problem(who, "", f"cannot read '{path}': {err.strerror or err}") from None
    finally:
        os.close(fd)


def depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed TOML (tables and arrays), stopping past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def read_toml(path: Path, referrer: str | None = None) -> dict[str, Any]:
    """Parse one TOML file; problems name the file and the line.

    Only regular files of at most :data:`MAX_TOML_BYTES` are read, nested at most
    :data:`MAX_NESTING` deep.
    """
    who = referrer or str(path)
    if not path.exists():
        where = f"extends: file '{path}' not found" if referrer else "file not found"
        raise file_problem(who, "", f"{where}; check the path")
    if path.is_dir():
        raise file_problem(who, "", f"'{path}' is a folder; give a .toml file")
    raw = _read_bytes(path, who)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        message = f"not UTF-8 text ({err.reason}); save it as UTF-8"
        raise file_problem(str(path), "", message) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        text = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", text)
        where = f"line {m.group(1)}, column {m.group(2)}" if m else "(syntax)"
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", text)
        problem = Problem(str(path), where, f"invalid TOML: {msg}; fix the syntax")
        raise ScenarioError([problem]) from None
    except RecursionError:
        raise file_problem(
            str(path), "", f"nested too deeply (more than {MAX_NESTING} levels); flatten it"
        ) from None
    except ValueError as err:  # e.g. an integer with too many digits
        message = " ".join(str(err).split())[:200]
        if "digits" in message:
            message = "an integer has too many digits (more than 4,300)"
        raise file_problem(str(path), "", f"invalid value: {message}; fix the value") from None
    if depth(data, MAX_NESTING) > MAX_NESTING:
        raise file_problem(
            str(path), "", f"nested too deeply (more than {MAX_NESTING} levels); flatten it"
        )
    return data
