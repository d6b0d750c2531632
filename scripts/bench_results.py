"""Where the benchmark scripts keep what they measured: one JSON file a run.

``scripts/results/<name>-<UTC timestamp>.json`` (generated output, not in git), with the
time, the machine and the Python version beside the script's own fields.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, fields: dict[str, Any]) -> Path:
    """Write ``fields`` (with ``timestamp``, ``machine`` and ``python``) to a new results
    file for the script ``name`` (e.g. ``"bench_week"``); print and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    data = {
        "timestamp": stamp,
        "machine": platform.platform(),
        "python": platform.python_version(),
        **fields,
    }
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path.relative_to(RESULTS.parents[1])}")
    return path


def tree_env(tree: Path) -> dict[str, str]:
    """The environment for a child process that measures ``tree``: this one with
    ``tree`` on ``PYTHONPATH`` and without ``PYTHONDONTWRITEBYTECODE``. A user's Python
    keeps each module's bytecode in ``__pycache__``; with the variable set (as on some
    CI and sandbox machines) every edited module is compiled from source again at every
    start (~0.1 s of a warm ``run`` after an edit), which a warm run does not pay."""
    import os

    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
