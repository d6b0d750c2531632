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
