"""A sweep's run file: its table (:data:`RUN_SCHEMA`), its bytes, and how it is written.

This is the part of the store a worker uses: it builds a run's table, encodes it, and
writes it atomically into ``OUT/runs/`` when it sees the sweep's writer token there
(:func:`worker_can_write`); the command records the file's size and checksum
(:mod:`market_sim.experiment.storage`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from market_sim.fileio import atomic_write

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


TOKEN_PREFIX = ".writer-"
"""Name of the hidden file in runs/ that lets workers write there (see
:meth:`SweepStore.open_for_workers`)."""


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


def encode_run(table: pa.Table, meta: Mapping[str, Any]) -> bytes:
    """A run file's bytes: the table as Parquet, with ``meta`` as its key-value metadata
    (``market_sim.<key>``: JSON)."""
    table = table.replace_schema_metadata(
        {f"market_sim.{k}": json.dumps(v, default=str) for k, v in meta.items()}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def write_run_file(runs_dir: Path, run_id: str, data: bytes) -> dict[str, Any] | None:
    """Write ``runs_dir/<run_id>.parquet`` atomically (temporary file, fsync, rename);
    its record ``{"bytes", "sha256"}``, or None (nothing written) if it exists: a
    finished run is never rewritten."""
    final = Path(runs_dir) / f"{run_id}.parquet"
    if final.exists():
        return None
    atomic_write(final, lambda fh: fh.write(data))
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def worker_can_write(runs_dir: str | Path, token: str | None) -> bool:
    """Whether this process sees the sweep's runs/ folder with the writer token in it."""
    return bool(token) and (Path(runs_dir) / f"{TOKEN_PREFIX}{token}").is_file()
