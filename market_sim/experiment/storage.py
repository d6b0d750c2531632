"""A sweep's folder: the manifest of planned runs and one Parquet file per finished run.

Layout of ``OUT/``::

    manifest.json         the plan: sweep settings, design, every planned run, and the
                          design's fingerprint (written once)
    checksums.jsonl       one line per run file written: run id, size and SHA-256
                          (appended as each file is written; the last line of a run wins)
    runs/<run_id>.parquet one file per finished run (ok or failed), written atomically
    damaged/              run files found damaged on resume, moved aside (then rerun)
    report.html           the sweep report

A run file is a tidy table with a fixed schema (:data:`RUN_SCHEMA`), one row per output
(``kind = "output"``, ``week`` null) and per week of each kept series (``kind =
"series"``). A value that cannot be computed (NaN) is stored as null; a failed run has
null outputs, ``status = "failed"`` and the error.
Nothing in the table depends on the machine or the clock: timings (``elapsed_s``) and the
worker's name are kept in the file's key-value metadata, so two sweeps of one file give
equal tables whatever ran them. A file appears under its final name only when complete
(written to a hidden temporary name, then renamed), so a killed sweep leaves finished
runs or nothing; ``--resume`` runs the planned runs that have no file. Each file's
metadata also holds the design's fingerprint, and its size and checksum go to
``checksums.jsonl``: :mod:`market_sim.experiment.verify` finds missing, truncated, altered
and foreign files before a resume or a report uses them.

DuckDB reads the files directly, e.g.
``SELECT name, avg(value) FROM 'OUT/runs/*.parquet' WHERE kind = 'output' GROUP BY name``.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from market_sim.experiment.manifest import check_manifest
from market_sim.experiment.runfile import RUN_SCHEMA as RUN_SCHEMA  # re-exported
from market_sim.experiment.runfile import TOKEN_PREFIX, encode_run, write_run_file
from market_sim.experiment.runfile import run_table as run_table  # re-exported
from market_sim.fileio import remove_temporary, write_text
from market_sim.problems import LineError

MANIFEST = "manifest.json"
INDEX = "checksums.jsonl"
RUNS = "runs"
DAMAGED = "damaged"
FORMAT_VERSION = 1
FLUSH_RECORDS = 256
FLUSH_SECONDS = 0.5
"""Index lines are appended in batches: at most this many lines or seconds apart."""


class StoreError(LineError):
    """A sweep folder that cannot be used as asked (message says how to fix it)."""


class SweepStore:
    """The folder of one sweep."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.runs_dir = self.out / RUNS
        self.manifest_path = self.out / MANIFEST
        self.index_path = self.out / INDEX
        self.usable: list[str] | None = None
        """Run ids whose files passed verification (set by
        :func:`market_sim.experiment.verify.verify_store`); queries read only these.
        None: every file in runs/."""
        self._pending: list[dict[str, Any]] = []  # index lines not yet appended
        self._flushed_at = time.monotonic()

    # ---------------------------------------------------------------- manifest
    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def create(self, manifest: Mapping[str, Any]) -> None:
        """Start a new sweep here; refuses a folder that already holds one, or holds
        anything at all (run files of a sweep whose manifest was lost, other files)."""
        if self.exists():
            raise StoreError(
                f"{self.out}: already holds a sweep; add --resume to finish it, "
                "or choose another --out"
            )
        if self.out.exists() and not self.out.is_dir():
            raise StoreError(f"{self.out}: is not a folder; choose another --out")
        if self.finished() or self.index_path.exists():
            raise StoreError(
                f"{self.out}: holds {len(self.finished()):,} run files but no {MANIFEST} "
                "(lost?); add --resume to keep those that match this sweep file, "
                "or choose another --out"
            )
        if self.out.is_dir() and any(self.out.iterdir()):
            raise StoreError(
                f"{self.out}: is not empty and holds no sweep; choose a new or empty --out"
            )
        self.write_manifest(manifest)

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write the manifest (atomically) and create runs/."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        write_text(self.manifest_path, json.dumps(manifest, indent=1, default=str))

    def manifest(self) -> dict[str, Any]:
        """The manifest, checked for the fields readers rely on (:class:`StoreError`)."""
        if not self.exists():
            raise StoreError(
                f"{self.out}: no sweep here (no {MANIFEST}); run without --resume to start one"
            )
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except OSError as err:
            raise StoreError(
                f"{self.manifest_path}: cannot read: {err.strerror or err}", 1
            ) from None
        except (ValueError, RecursionError) as err:
            raise StoreError(
                f"{self.manifest_path}: not valid JSON ({str(err)[:200]}); restore it, or "
                "run the sweep again into another --out"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            got = data.get("format") if isinstance(data, dict) else None
            raise StoreError(
                f"{self.manifest_path}: has format {got!r:.40}, this "
                f"version reads {FORMAT_VERSION}; rerun into another --out"
            )
        problem = check_manifest(data)
        if problem:
            raise StoreError(
                f"{self.manifest_path}: {problem}; restore it, or run the sweep again into "
                "another --out"
            )
        return data

    # ---------------------------------------------------------------- index
    def records(self) -> dict[str, dict[str, Any] | None]:
        """Run id -> its file's record ``{"bytes", "sha256"}`` from the index (None: the
        file was removed on purpose). Lines that do not parse (a torn last line) are
        skipped; for a run listed twice the last line wins."""
        out: dict[str, dict[str, Any] | None] = {}
        try:
            raw = self.index_path.read_bytes()
        except FileNotFoundError:
            return out
        for line in raw.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("run_id"), str):
                continue
            if entry.get("removed"):
                out[entry["run_id"]] = None
            elif isinstance(entry.get("bytes"), int) and isinstance(entry.get("sha256"), str):
                out[entry["run_id"]] = {"bytes": entry["bytes"], "sha256": entry["sha256"]}
        return out

    def record(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Append lines to the index (one ``write`` per call, then fsync). A torn last
        line left by a kill is closed first, so it cannot merge with the new one."""
        text = "".join(json.dumps(dict(e), separators=(",", ":")) + "\n" for e in entries)
        if not text:
            return
        fd = os.open(self.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size:
                with open(self.index_path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        text = "\n" + text
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def discard_if_empty(self) -> None:
        """Remove a sweep that has no run file yet (manifest, empty folders)."""
        if self.finished():
            return
        self.manifest_path.unlink(missing_ok=True)
        self.index_path.unlink(missing_ok=True)
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
        """Write a run's file atomically and record its size and checksum in the index;
        False (nothing written) if the file already exists."""
        return self.write_run_data(run_id, encode_run(table, meta), batch=False)

    def write_run_data(self, run_id: str, data: bytes, batch: bool = True) -> bool:
        """Write a run file's bytes (:func:`encode_run`) atomically and record them (with
        ``batch``, in the next :meth:`flush_records`); False if the file exists."""
        record = write_run_file(self.runs_dir, run_id, data)
        if record is None:
            return False
        self.add_record(run_id, record, batch)
        return True

    def add_record(self, run_id: str, record: Mapping[str, Any], batch: bool = True) -> None:
        """Record a run file written (by this process or a worker) in the index: now, or
        with ``batch`` at the next :meth:`flush_records` (at most ``FLUSH_RECORDS`` lines
        or ``FLUSH_SECONDS`` later)."""
        self._pending.append(
            {"run_id": run_id, "bytes": record["bytes"], "sha256": record["sha256"]}
        )
        if self.usable is not None:
            self.usable.append(run_id)
        if not batch or len(self._pending) >= FLUSH_RECORDS:
            self.flush_records()
        elif time.monotonic() - self._flushed_at >= FLUSH_SECONDS:
            self.flush_records()

    def flush_records(self) -> None:
        """Append the records not yet in the index (one write and fsync)."""
        pending, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        if pending:
            try:
                self.record(pending)
            except BaseException:
                self._pending = pending + self._pending
                raise

    def remove_runs(self, run_ids: Iterable[str]) -> None:
        """Delete run files (``--retry-failed`` before running them again)."""
        run_ids = list(run_ids)
        for run_id in run_ids:
            self.run_path(run_id).unlink(missing_ok=True)
        self.record([{"run_id": r, "removed": True} for r in run_ids])
        if self.usable is not None:
            gone = set(run_ids)
            self.usable = [r for r in self.usable if r not in gone]

    def clean_temporary(self) -> None:
        """Remove temporary files left by a killed writer, and writer tokens of a
        killed sweep (:meth:`open_for_workers`)."""
        remove_temporary(self.runs_dir)
        if self.runs_dir.is_dir():
            for p in self.runs_dir.glob(f"{TOKEN_PREFIX}*"):
                p.unlink(missing_ok=True)

    def open_for_workers(self) -> str | None:
        """Put a writer token in runs/ (a hidden empty file with a random name) and return
        it; None if it cannot be written. A worker writes run files itself only where it
        finds the token (:func:`worker_can_write`): the same folder, seen locally or
        on shared storage. :meth:`close_for_workers` removes it."""
        token = secrets.token_hex(8)
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            (self.runs_dir / f"{TOKEN_PREFIX}{token}").touch(exist_ok=False)
        except OSError:
            return None
        return token

    def close_for_workers(self, token: str | None) -> None:
        if token:
            try:
                (self.runs_dir / f"{TOKEN_PREFIX}{token}").unlink(missing_ok=True)
            except OSError:
                pass

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

        source = self.parquet_source()
        if source is None:
            return pd.DataFrame()
        con = duckdb.connect()
        try:
            con.execute(f"CREATE VIEW runs AS SELECT * FROM {source}")
            return con.execute(sql).df()
        finally:
            con.close()

    def parquet_source(self) -> str | None:
        """DuckDB's ``read_parquet(...)`` over the usable run files (after verification)
        or every run file; None when there is none."""
        if self.usable is not None:
            files = [str(self.run_path(r).resolve()) for r in sorted(set(self.usable))]
            if not files:
                return None
            listed = ", ".join(f"'{_sql_str(f)}'" for f in files)
            return f"read_parquet([{listed}])"
        if not self.finished():
            return None
        pattern = str(self.runs_dir.resolve() / "[!.]*.parquet")
        return f"read_parquet('{_sql_str(pattern)}')"

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
