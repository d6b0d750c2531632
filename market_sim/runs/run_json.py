"""What a run folder's run.json must hold, and whether the folder's data files are still
the ones it records (:mod:`market_sim.runs.folder` writes and reads run folders)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from market_sim.integrity import check_file

DATA_FILES = (
    "timeseries.parquet",
    "agents.parquet",
    "timeseries.csv",
    "agents.csv",
    "supply.json",
)
"""The data files of a run folder (Parquet and CSV of the weekly and the firms' tables,
and the supply graph at the start)."""


def check_run_json(data: Mapping[str, Any]) -> str | None:
    """The first problem with run.json's content (fields a reader relies on), or None."""
    seed = data.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        return "seed: missing or not a whole number from 0 to 2^63-1"
    if not isinstance(data.get("scenario"), dict):
        return "scenario: missing or not a table"
    events = data.get("events", [])
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("week"), int) and "label" in e for e in events
    ):
        return "events: not a list of {week, date, label}"
    timings = data.get("timings_s", {})
    if not isinstance(timings, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in timings.values()
    ):
        return "timings_s: not a table of seconds"
    for key in ("overrides", "files"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key}: not a list of text"
    if not isinstance(data.get("checksums", {}), dict):
        return "checksums: not a table"
    return None


def verify_run_folder(folder: Path, data: Mapping[str, Any]) -> list[str]:
    """One line per data file of a run folder that no longer matches the checksum in its
    run.json ``data`` (empty if all match, or for a folder written before checksums)."""
    folder = Path(folder)
    lines = []
    for name, record in sorted((data.get("checksums") or {}).items()):
        if name not in DATA_FILES:
            continue
        problem = check_file(folder / name, record)
        if problem:
            lines.append(
                f"{folder / name}: {problem}; its numbers may not be the run's "
                "(rerun with `market-sim run FOLDER --out FOLDER --force`)"
            )
    return lines
