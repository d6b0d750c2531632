"""Forecast folders: ``forecast.json`` and ``bands.csv`` written and read back.

A forecast folder (``market-sim forecast``; docs/forecast.md) holds ``report.html``,
``forecast.json`` (the inputs, members and seeds, the quantile levels, the horizon and
the dates that frame it, the dated assumptions, the target facts' coverage, the resolved
scenario), ``bands.csv`` (:data:`market_sim.runs.bands.BAND_COLUMNS`) and the runs'
Parquet files (written by :func:`market_sim.runs.forecast.simulate`). The report is
redrawn from these files alone (``market-sim report DIR``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from market_sim.runs.bands import BAND_COLUMNS, PERCENTS
from market_sim.runs.forecast import Forecast, ForecastError
from market_sim.scenario.dated import DatedInput

FORECAST_FORMAT = "market_sim.forecast/1"
"""``format`` field of forecast.json."""
REQUIRED = ("name", "members", "seeds", "start_date", "last_day", "observed_end", "weeks",
            "metrics", "runs", "scenario")  # fmt: skip
"""Fields of forecast.json the report reads."""


def _dated(items: Sequence[DatedInput]) -> list[dict[str, str]]:
    return [{**dataclasses.asdict(d), "date": d.date.isoformat()} for d in items]


def _coverage(table: pd.DataFrame | None) -> dict[str, Any] | None:
    """The target facts' coverage as JSON: counts and one record per fact."""
    if table is None:
        return None
    scored = table[table["n"] > 0]
    return {
        "role": "target",
        "inside": int(scored["inside"].sum()),
        "scored": len(scored),
        "inside_predictive": int(scored["inside_predictive"].sum()),
        "discrepancy_sd": float(scored["discrepancy_sd"].median()) if len(scored) else None,
        "facts": json.loads(table.to_json(orient="records")),
    }


def forecast_record(fc: Forecast, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """forecast.json's content: inputs, members, seeds, quantile levels, files."""
    from market_sim import __version__

    plan = fc.plan
    present = set(fc.bands["metric"])
    return {
        "format": FORECAST_FORMAT,
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "name": plan.scenario.simulation.name,
        "description": plan.scenario.simulation.description,
        "source": plan.source,
        "overrides": plan.overrides,
        **(extra or {}),
        "members": [{"member": k, "overrides": m} for k, m in enumerate(plan.members)],
        "seeds": plan.seeds,
        "start_date": plan.scenario.simulation.start_date.isoformat(),
        "until": plan.until.isoformat(),
        "weeks": plan.weeks,
        "last_day": plan.last_day.isoformat(),
        "observed_end": plan.observed_end.isoformat(),
        "input_limit": None
        if plan.limit is None
        else {"day": plan.limit.day.isoformat(), "path": plan.limit.path, "what": plan.limit.what},
        "quantiles": [p / 100 for p in PERCENTS],
        "bands_file": "bands.csv",
        "metrics": [
            {**dataclasses.asdict(m), "unit_text": m.unit_text}
            for m in fc.metrics
            if m.key in present
        ],
        "skipped_metrics": [m.key for m in fc.metrics if m.key not in present],
        "runs": [{"member": k, "seed": s, "file": plan.run_file(k, s)} for k, s in plan.runs],
        "events": [
            {
                "date": plan.scenario.date_of(plan.scenario.week_of(e.at)).isoformat(),
                "label": e.description or f"{e.kind} {e.target}",
            }
            for e in plan.scenario.events
        ],
        "assumptions": _dated(fc.assumptions),
        "held": _dated(fc.held),
        "coverage": _coverage(fc.coverage),
        "timings_s": {k: round(v, 4) for k, v in fc.timings_s.items()},
        "scenario": plan.scenario.model_dump(mode="json", by_alias=True),
    }


def write_forecast(folder: Path, fc: Forecast, extra: dict[str, Any] | None = None) -> None:
    """Write forecast.json and bands.csv into ``folder`` (the runs are written by
    :func:`simulate`)."""
    from market_sim.fileio import write_json

    table = fc.bands.copy()
    table["date"] = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d")
    table.to_csv(folder / "bands.csv", index=False)
    write_json(folder / "forecast.json", forecast_record(fc, extra))


def is_forecast_folder(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "forecast.json").is_file()


def read_forecast(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """(forecast.json's content, the bands table) of a forecast folder (no rerun)."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "forecast.json").read_text(encoding="utf-8"))
        table = pd.read_csv(folder / "bands.csv", parse_dates=["date"])
    except (OSError, ValueError) as err:
        raise ForecastError(f"{folder}: cannot read the forecast ({err}); run it again") from None
    if not isinstance(data, dict) or data.get("format") != FORECAST_FORMAT:
        raise ForecastError(
            f"{folder / 'forecast.json'}: not a market_sim forecast "
            f"(format {FORECAST_FORMAT} expected)"
        )
    absent = [k for k in REQUIRED if k not in data]
    if absent:
        raise ForecastError(
            f"{folder / 'forecast.json'}: field '{absent[0]}' is missing; run it again"
        )
    missing = [c for c in BAND_COLUMNS if c not in table.columns]
    if missing:
        raise ForecastError(f"{folder / 'bands.csv'}: no column {missing[0]}; run it again")
    return data, table
