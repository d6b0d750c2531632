"""A sweep's folder: the manifest of planned runs and one Parquet file per finished run.

Layout of ``OUT/``::

    manifest.json         the plan: sweep settings, design, every planned run (written once)
    runs/<run_id>.parquet one file per finished run (ok or failed), written atomically
    report.html           the sweep report

A run file is a tidy table with a fixed schema (:data:`RUN_SCHEMA`), one row per output
(``kind = "output"``, ``week`` null) and per week of each kept series (``kind =
"series"``). A value that cannot be computed (NaN) is stored as null; a failed run has
null outputs, ``status = "failed"`` and the error.
Nothing in the table depends on the machine or the clock: timings (``elapsed_s``) and the
worker's name are kept in the file's key-value metadata, so two sweeps of one file give
equal tables whatever ran them. A file appears under its final name only when complete
(written to a hidden temporary name, then renamed), so a killed sweep leaves finished
runs or nothing; ``--resume`` runs the planned runs that have no file.

DuckDB reads the files directly, e.g.
``SELECT name, avg(value) FROM 'OUT/runs/*.parquet' WHERE kind = 'output' GROUP BY name``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from market_sim.fileio import atomic_write, remove_temporary, write_text

MANIFEST = "manifest.json"
RUNS = "runs"
FORMAT_VERSION = 1

RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("scenario", pa.string()),
        ("sample", pa.int32()),
        ("replicate", pa.int32()),
        ("seed", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("week", pa.int32()),
        ("date", pa.date32()),
        ("value", pa.float64()),
    ]
)


class StoreError(Exception):
    """A sweep folder that cannot be used as asked (message says how to fix it)."""


def run_table(
    run: Mapping[str, Any],
    status: str,
    error: str | None,
    outputs: Mapping[str, float],
    series: Mapping[str, np.ndarray] | None = None,
    dates: Iterable[Any] | None = None,
) -> pa.Table:
    """One run's rows in :data:`RUN_SCHEMA` order: outputs (in the given order), then
    each series (weeks 0..n-1, with their start dates)."""
    names = list(outputs)
    vals = [float(outputs[n]) for n in names]
    kinds = ["output"] * len(names)
    weeks: list[int | None] = [None] * len(names)
    day: list[Any] = [None] * len(names)
    date_list = list(pd.to_datetime(list(dates)).date) if dates is not None else []
    for key, arr in (series or {}).items():
        arr = np.asarray(arr, dtype=float)
        names += [key] * len(arr)
        vals += arr.tolist()
        kinds += ["series"] * len(arr)
        weeks += list(range(len(arr)))
        day += date_list[: len(arr)] if date_list else [None] * len(arr)
    vals = [v if math.isfinite(v) else None for v in vals]  # no value: null, not NaN
    n = len(names)
    cols = {
        "run_id": [run["run_id"]] * n,
        "scenario": [run["scenario"]] * n,
        "sample": [int(run["sample"])] * n,
        "replicate": [int(run["replicate"])] * n,
        "seed": [int(run["seed"])] * n,
        "status": [status] * n,
        "error": [error] * n,
        "kind": kinds,
        "name": names,
        "week": weeks,
        "date": day,
        "value": vals,
    }
    return pa.table(cols, schema=RUN_SCHEMA)


class SweepStore:
    """The folder of one sweep."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.runs_dir = self.out / RUNS
        self.manifest_path = self.out / MANIFEST

    # ---------------------------------------------------------------- manifest
    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def create(self, manifest: Mapping[str, Any]) -> None:
        """Start a new sweep here; refuses a folder that already holds one."""
        if self.exists():
            raise StoreError(
                f"{self.out} already holds a sweep; add --resume to finish it, "
                "or choose another --out"
            )
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        write_text(self.manifest_path, json.dumps(manifest, indent=1, default=str))

    def manifest(self) -> dict[str, Any]:
        if not self.exists():
            raise StoreError(
                f"no sweep in {self.out} (no {MANIFEST}); run without --resume to start one"
            )
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as err:
            raise StoreError(f"cannot read {self.manifest_path}: {err}") from None
        if data.get("format") != FORMAT_VERSION:
            raise StoreError(
                f"{self.manifest_path} has format {data.get('format')}, this "
                f"version reads {FORMAT_VERSION}; rerun into another --out"
            )
        return data

    def discard_if_empty(self) -> None:
        """Remove a sweep that has no run file yet (manifest, empty folders)."""
        if self.finished():
            return
        self.manifest_path.unlink(missing_ok=True)
        for folder in (self.runs_dir, self.out):
            try:
                folder.rmdir()
            except OSError:
                pass

    # ---------------------------------------------------------------- runs
    def run_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.parquet"

    def finished(self) -> set[str]:
        """Ids of runs with a file (ok or failed)."""
        if not self.runs_dir.is_dir():
            return set()
        return {p.stem for p in self.runs_dir.glob("*.parquet") if not p.name.startswith(".")}

    def failed(self) -> set[str]:
        """Ids of finished runs recorded as failed."""
        frame = self.query("SELECT DISTINCT run_id FROM runs WHERE status = 'failed'")
        return set(frame["run_id"]) if not frame.empty else set()

    def write_run(self, run_id: str, table: pa.Table, meta: Mapping[str, Any]) -> bool:
        """Write a run's file atomically; False (nothing written) if it already exists."""
        final = self.run_path(run_id)
        if final.exists():
            return False
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        table = table.replace_schema_metadata(
            {f"market_sim.{k}": json.dumps(v, default=str) for k, v in meta.items()}
        )
        atomic_write(final, lambda fh: pq.write_table(table, fh))
        return True

    def remove_runs(self, run_ids: Iterable[str]) -> None:
        """Delete run files (``--retry-failed`` before running them again)."""
        for run_id in run_ids:
            self.run_path(run_id).unlink(missing_ok=True)

    def clean_temporary(self) -> None:
        """Remove temporary files left by a killed writer."""
        remove_temporary(self.runs_dir)

    def read_run(self, run_id: str) -> pa.Table:
        return pq.read_table(self.run_path(run_id))

    def run_meta(self, run_id: str) -> dict[str, Any]:
        """A run file's metadata (``elapsed_s``, ``worker``), decoded."""
        md = pq.read_schema(self.run_path(run_id)).metadata or {}
        out = {}
        for k, v in md.items():
            key = k.decode()
            if key.startswith("market_sim."):
                out[key.removeprefix("market_sim.")] = json.loads(v)
        return out

    # ---------------------------------------------------------------- queries
    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL over the run files, visible as the view ``runs``."""
        import duckdb

        if not self.finished():
            return pd.DataFrame()
        pattern = str(self.runs_dir / "[!.]*.parquet")
        con = duckdb.connect()
        try:
            con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{_sql_str(pattern)}')")
            return con.execute(sql).df()
        finally:
            con.close()

    def outputs_long(self) -> pd.DataFrame:
        """Every run's outputs: run_id, scenario, sample, replicate, seed, status, error,
        name, value."""
        return self.query(
            "SELECT run_id, scenario, sample, replicate, seed, status, error, name, value "
            "FROM runs WHERE kind = 'output' ORDER BY run_id, name"
        )

    def series(self, name: str) -> pd.DataFrame:
        """One kept weekly series of every run: run_id, scenario, sample, week, date, value."""
        return self.query(
            "SELECT run_id, scenario, sample, replicate, week, date, value FROM runs "
            f"WHERE kind = 'series' AND name = '{_sql_str(name)}' ORDER BY run_id, week"
        )

    def series_names(self) -> list[str]:
        frame = self.query("SELECT DISTINCT name FROM runs WHERE kind = 'series' ORDER BY 1")
        return list(frame["name"]) if not frame.empty else []


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
