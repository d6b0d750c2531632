"""Scoring simulation runs against facts: bands, status, summary table."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from market_sim.facts.reduce import WeeklyRun, _reduce

DEFAULT_BAND = 0.25
"""Relative half-width of the band used when a fact gives no low/high (±25% of value)."""

REL_TOL = 1e-9
"""Relative tolerance on the band edges (edges are inclusive)."""

INSIDE, OUTSIDE, NOT_SIMULATED = "inside", "outside", "not simulated"

SCORE_COLUMNS: tuple[str, ...] = (
    "fact_id",
    "metric_key",
    "date",
    "window",
    "role",
    "observed",
    "low",
    "high",
    "simulated",
    "status",
    "rel_error",
    "sim_min",
    "sim_max",
    "n_seeds",
    "unit",
    "reason",
)


def band(value: float, low: float = math.nan, high: float = math.nan) -> tuple[float, float]:
    """The band a fact is judged by: ``low``/``high`` where given, else value × (1 ∓ 0.25)."""
    lo_default, hi_default = sorted((value * (1 - DEFAULT_BAND), value * (1 + DEFAULT_BAND)))
    return (
        lo_default if math.isnan(low) else float(low),
        hi_default if math.isnan(high) else float(high),
    )


def in_band(simulated: float, low: float, high: float) -> bool:
    """``low <= simulated <= high`` with a 1e-9 relative tolerance on each edge."""
    if math.isnan(simulated):
        return False
    above = simulated >= low or math.isclose(simulated, low, rel_tol=REL_TOL, abs_tol=1e-12)
    below = simulated <= high or math.isclose(simulated, high, rel_tol=REL_TOL, abs_tol=1e-12)
    return above and below


def score_facts(
    frames: pd.DataFrame | Sequence[pd.DataFrame],
    facts: pd.DataFrame,
    role: str | None = None,
) -> pd.DataFrame:
    """Compare one or several runs (seeds) with facts; one row per fact.

    ``facts`` is a :func:`load_facts` frame. With several frames each is reduced and
    ``simulated`` is the mean over the seeds that produced a value (``n_seeds`` of them),
    ``sim_min``/``sim_max`` their range. ``low``/``high`` are the band actually used,
    ``status`` is ``inside``, ``outside`` or ``not simulated`` (then ``reason`` says why),
    ``rel_error`` is ``(simulated - observed) / observed`` (NaN if not simulated or
    observed is 0). ``role=None`` scores every fact, else only facts with that role.
    """
    runs = (
        [WeeklyRun(frames)] if isinstance(frames, pd.DataFrame) else [WeeklyRun(f) for f in frames]
    )
    if not runs:
        raise ValueError("score_facts needs at least one simulation frame")
    chosen = facts if role is None else facts[facts["role"] == role]
    rows = []
    for fact in chosen.itertuples(index=False):
        results = [_reduce(run, fact.metric_key, fact.date, fact.window) for run in runs]
        values = np.array([r.value for r in results], dtype=float)
        got = values[~np.isnan(values)]
        value = float(fact.value)
        low, high = band(value, float(fact.low), float(fact.high))
        if got.size:
            simulated, lo_seed, hi_seed = float(got.mean()), float(got.min()), float(got.max())
            status = INSIDE if in_band(simulated, low, high) else OUTSIDE
            rel_error = (simulated - value) / value if value != 0 else math.nan
            reason = ""
        else:
            simulated = lo_seed = hi_seed = rel_error = math.nan
            status = NOT_SIMULATED
            reason = results[0].reason
        rows.append(
            {
                "fact_id": fact.fact_id,
                "metric_key": fact.metric_key,
                "date": fact.date,
                "window": fact.window,
                "role": fact.role,
                "observed": value,
                "low": low,
                "high": high,
                "simulated": simulated,
                "status": status,
                "rel_error": rel_error,
                "sim_min": lo_seed,
                "sim_max": hi_seed,
                "n_seeds": int(got.size),
                "unit": getattr(fact, "unit", ""),
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def _fmt(x: float) -> str:
    """Compact number: thousands separators from 1000, else 3 significant digits."""
    if math.isnan(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def format_table(scored: pd.DataFrame) -> Table:
    """A rich table of a :func:`score_facts` result (one row per fact)."""
    table = Table(title="Simulated vs observed market facts", box=None, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("fact", "left"),
        ("metric", "left"),
        ("date", "left"),
        ("window", "left"),
        ("band", "right"),
        ("simulated", "right"),
        ("status", "left"),
        ("rel. error", "right"),
        ("note", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    style = {INSIDE: "green", OUTSIDE: "red", NOT_SIMULATED: "dim"}
    for row in scored.itertuples(index=False):
        sim = _fmt(row.simulated)
        if row.n_seeds > 1 and row.sim_min != row.sim_max:
            sim += f" ({_fmt(row.sim_min)}…{_fmt(row.sim_max)})"
        rel = "–" if math.isnan(row.rel_error) else f"{row.rel_error:+.0%}"
        table.add_row(
            str(row.fact_id),
            str(row.metric_key),
            str(row.date),
            str(row.window),
            f"{_fmt(row.low)}–{_fmt(row.high)}",
            sim,
            Text(str(row.status), style=style.get(row.status, "")),
            rel,
            Text(str(row.reason), style="dim") if row.reason else "",
        )
    return table


def summary_line(scored: pd.DataFrame) -> str:
    """``N/M facts inside their band (P%)``; not-simulated facts count in M, as outside.

    P is rounded half up to a whole percent (0% when there are no facts).
    """
    total = len(scored)
    inside = int((scored["status"] == INSIDE).sum()) if total else 0
    pct = math.floor(100 * inside / total + 0.5) if total else 0
    return f"{inside}/{total} facts inside their band ({pct}%)"
