"""Checking a sweep folder before it is resumed or reported: the manifest's shape, and
every run file against the checksum index and the design's fingerprint.

A run file is

- **good** when its size and SHA-256 match its line in ``checksums.jsonl``;
- **damaged** when they do not (truncated, grown, changed in place), when it cannot be
  read, or when it is not a run of this sweep (a foreign id, another design's
  fingerprint);
- **missing** when the index lists it but the file is gone;
- **unrecorded** when it has no index line (the driver was killed between writing the
  file and its line, or an older version wrote it): it is then read whole and kept only
  if its schema, run id and fingerprint are this sweep's (``adopted``; recorded now when
  repairing).

``--resume`` moves damaged files to ``OUT/damaged/`` and runs them again with the missing
ones; ``report`` and ``query`` leave the folder alone, warn, and read only the good files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from market_sim.experiment.runfile import RUN_SCHEMA
from market_sim.experiment.storage import DAMAGED, SweepStore
from market_sim.integrity import check_file, file_record

MAX_LISTED = 10
"""Damaged or missing files named one by one in warnings (the rest are counted)."""


@dataclass
class StoreCheck:
    """What :func:`verify_store` found (run ids)."""

    good: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)
    """run id -> what is wrong with its file"""
    missing: list[str] = field(default_factory=list)

    @property
    def usable(self) -> list[str]:
        return sorted({*self.good, *self.adopted})

    def lines(self, store: SweepStore, action: str) -> list[str]:
        """Warnings, one line per damaged or missing file (at most MAX_LISTED of each,
        then a count); ``action`` says what happens to them."""
        out = []
        damaged = sorted(self.damaged.items())
        for run_id, problem in damaged[:MAX_LISTED]:
            out.append(f"{store.run_path(run_id)}: {problem}; {action}")
        if len(damaged) > MAX_LISTED:
            out.append(
                f"{store.runs_dir}: {len(damaged) - MAX_LISTED:,} more damaged files; {action}"
            )
        missing = sorted(self.missing)
        for run_id in missing[:MAX_LISTED]:
            out.append(f"{store.run_path(run_id)}: recorded as written but missing; {action}")
        if len(missing) > MAX_LISTED:
            out.append(
                f"{store.runs_dir}: {len(missing) - MAX_LISTED:,} more recorded files missing; "
                f"{action}"
            )
        return out


def file_fingerprint(path: Path) -> str | None:
    """The design fingerprint kept in a run file's metadata (None if absent/unreadable)."""
    try:
        md = pq.read_schema(path).metadata or {}
        value = md.get(b"market_sim.fingerprint")
        return json.loads(value) if value is not None else None
    except (OSError, ValueError):
        return None


def inspect_run_file(
    path: Path, run_id: str, fingerprint: str | None, strict: bool = False
) -> str | None:
    """Read a run file whole: what is wrong with it, or None if it is a run of this sweep
    (schema, run id and fingerprint match; without ``strict`` a file with no fingerprint,
    from an older version, passes)."""
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as err:
        return f"cannot be read ({' '.join(str(err).split())[:160]})"
    if not table.schema.remove_metadata().equals(RUN_SCHEMA):
        return "is not a sweep run file (unexpected columns)"
    ids = set(table.column("run_id").to_pylist())
    if ids != {run_id}:
        return f"holds rows of other runs ({', '.join(sorted(map(str, ids)))[:80]})"
    found = file_fingerprint(path)
    if fingerprint is not None and found is not None and found != fingerprint:
        return "was written by another design of the sweep (fingerprint differs)"
    if strict and found is None:
        return "has no design fingerprint, so it cannot be matched with this sweep"
    return None


def verify_store(
    store: SweepStore,
    planned: set[str] | None,
    fingerprint: str | None,
    repair: bool = False,
    strict: bool = False,
) -> StoreCheck:
    """Check every run file (see the module docstring) and set ``store.usable``.

    ``planned``: the run ids of the sweep (a file of another id is damaged); None skips
    that test. ``repair``: record adopted files in the index. ``strict``: an unrecorded
    file must carry ``fingerprint``.
    """
    check = StoreCheck()
    records = store.records()
    present = store.finished()
    for run_id in sorted(present):
        path = store.run_path(run_id)
        if planned is not None and run_id not in planned:
            check.damaged[run_id] = "is not a run of this sweep"
            continue
        record = records.get(run_id)
        if record is not None:
            problem = check_file(path, record)
            if problem is None:
                check.good.append(run_id)
            else:
                check.damaged[run_id] = problem
            continue
        problem = inspect_run_file(path, run_id, fingerprint, strict)
        if problem is None:
            check.adopted.append(run_id)
        else:
            check.damaged[run_id] = problem
    check.missing = sorted(r for r, rec in records.items() if rec is not None and r not in present)
    if planned is not None:
        check.missing = [r for r in check.missing if r in planned]
    if repair:
        new = []
        for run_id in check.adopted:
            try:
                new.append({"run_id": run_id, **file_record(store.run_path(run_id))})
            except OSError:
                continue
        store.record(new)
        store.record([{"run_id": r, "removed": True} for r in check.missing])
    store.usable = check.usable
    return check


def set_aside(store: SweepStore, run_ids: list[str]) -> Path:
    """Move run files to ``OUT/damaged/`` (a name already there gets a number) and mark
    them removed in the index; returns the folder."""
    folder = store.out / DAMAGED
    if not run_ids:
        return folder
    folder.mkdir(exist_ok=True)
    for run_id in run_ids:
        src = store.run_path(run_id)
        dest = folder / src.name
        k = 1
        while dest.exists():
            dest = folder / f"{run_id}.{k}.parquet"
            k += 1
        try:
            os.replace(src, dest)
        except FileNotFoundError:
            continue
        except OSError:
            shutil.move(str(src), str(dest))
    store.record([{"run_id": r, "removed": True} for r in run_ids])
    if store.usable is not None:
        gone = set(run_ids)
        store.usable = [r for r in store.usable if r not in gone]
    return folder
