"""A sweep's results as one wide table: a row per planned run with its parameters and
outputs (for claims, sensitivity and the report)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.storage import SweepStore

META_COLUMNS = ("run_id", "scenario", "sample", "replicate", "seed", "status", "error")


def results_frame(store: SweepStore, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per planned run: META_COLUMNS, ``elapsed_s``, one column per parameter (by
    path; the value the run used, or the sample's value if the parameter does not apply
    to its scenario) and one per output. Runs without a file have status ``missing``."""
    manifest = manifest or store.manifest()
    runs = pd.DataFrame(manifest["runs"])
    params = [p["path"] for p in manifest["parameters"]]
    outputs = [o["name"] for o in manifest["outputs"]]
    values = pd.DataFrame([d["values"] for d in manifest["design"]], columns=params)
    values.insert(0, "sample", [d["sample"] for d in manifest["design"]])
    frame = runs[["run_id", "scenario", "sample", "replicate", "seed"]].merge(
        values, on="sample", how="left"
    )
    long = store.outputs_long()
    if long.empty:
        wide = pd.DataFrame(columns=["run_id", "status", "error", *outputs])
    else:
        status = long.groupby("run_id", sort=True)[["status", "error"]].first().reset_index()
        wide = long.pivot(index="run_id", columns="name", values="value").reset_index()
        wide.columns.name = None
        wide = status.merge(wide, on="run_id", how="left")
    for o in outputs:
        if o not in wide.columns:
            wide[o] = np.nan
    frame = frame.merge(wide[["run_id", "status", "error", *outputs]], on="run_id", how="left")
    frame["status"] = frame["status"].fillna("missing")
    frame["elapsed_s"] = [
        store.run_meta(r).get("elapsed_s", np.nan) if s != "missing" else np.nan
        for r, s in zip(frame["run_id"], frame["status"], strict=True)
    ]
    cols = [*META_COLUMNS, "elapsed_s", *params, *outputs]
    return frame[cols].reset_index(drop=True)


def per_sample(frame: pd.DataFrame, scenario: str, outputs: list[str]) -> pd.DataFrame:
    """Outputs of one scenario averaged over replicates (ok runs only), by sample."""
    ok = frame[(frame["scenario"] == scenario) & (frame["status"] == "ok")]
    return ok.groupby("sample")[outputs].mean()
