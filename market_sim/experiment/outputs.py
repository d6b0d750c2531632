"""Scalar summaries of a run: a metric key reduced over a window of weeks.

Windows: ``all`` (the whole run), ``YYYY`` (a calendar year), ``YYYY-Qn`` (a quarter),
``YYYY-MM`` (a month), ``first:N`` / ``last:N`` (the run's first or last N weeks).

Aggregation ``auto`` applies the facts rules (``market_sim.facts.reduce_between``,
docs/facts.md):
the day-weighted mean of a level (prices, lead times), the sum of a flow (deliveries,
revenue), the last value of a stock (installed base, compute shares), and for shares and
margins the ratio of the components' sums. The other aggregations (``mean``, ``sum``,
``min``, ``max``, ``first``, ``last``, ``median``, ``p10``, ``p90``) take the weeks that
start inside the window, unweighted. The result is in the metric's unit (a flow summed
over the window); NaN when the run does not cover the window or the metric is missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_sim.experiment.sweep import Output
from market_sim.facts import (
    GROUP_ALIASES,
    WeeklyRun,
    reduce_between,
    split_key,
    weekly_series,
)
from market_sim.facts.reduce import ratio_rule
from market_sim.facts.windows import run_covers, window_bounds

_YEAR = re.compile(r"^\d{4}$")
_QUARTER = re.compile(r"^\d{4}-[Qq][1-4]$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_WEEKS = re.compile(r"^(first|last):(\d+)$")

WINDOW_FORMS = "all, YYYY, YYYY-Qn, YYYY-MM, first:N or last:N"


@dataclass(frozen=True)
class Window:
    """A parsed window: a calendar one (``date`` and facts ``window`` name) or weeks."""

    kind: str  # "calendar", "all", "first", "last"
    date: str = ""
    calendar: str = ""
    weeks: int = 0


def parse_window(text: str) -> Window:
    """Parse a window string; raise ValueError with the accepted forms."""
    t = str(text).strip()
    if t == "all":
        return Window("all")
    m = _WEEKS.match(t)
    if m:
        if int(m.group(2)) < 1:
            raise ValueError(f"window '{t}' needs N >= 1")
        return Window(m.group(1), weeks=int(m.group(2)))
    for pattern, cal in ((_YEAR, "year"), (_QUARTER, "quarter"), (_MONTH, "month")):
        if pattern.match(t):
            window_bounds(t.upper() if cal == "quarter" else t, cal)  # raises if malformed
            return Window("calendar", date=t.upper() if cal == "quarter" else t, calendar=cal)
    raise ValueError(f"window '{t}' is not one of {WINDOW_FORMS}")


def _bounds(run: WeeklyRun, window: Window) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The window as ``[start, end)`` timestamps for this run; None for an empty run."""
    if window.kind == "calendar":
        return window_bounds(window.date, window.calendar)
    if run.first is None:
        return None
    week = pd.Timedelta(days=7)
    if window.kind == "all":
        return run.first, run.last + week
    if window.kind == "first":
        return run.first, run.first + window.weeks * week
    return run.last + week - window.weeks * week, run.last + week


def _auto(run: WeeklyRun, key: str, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The facts reduction of ``key`` over ``[start, end)``."""
    return reduce_between(run, key, start, end).value


_SIMPLE = {
    "mean": np.mean,
    "sum": np.sum,
    "min": np.min,
    "max": np.max,
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
    "median": np.median,
    "p10": lambda v: np.quantile(v, 0.1),
    "p90": lambda v: np.quantile(v, 0.9),
}


def _simple(run: WeeklyRun, key: str, agg: str, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """An unweighted aggregation of the weeks that start inside ``[start, end)``."""
    if run.first is None or not run_covers(run.first, run.last, start, end):
        return math.nan
    series = weekly_series(run, key)
    if series is None:
        return math.nan
    inside = (run.dates >= start.to_datetime64()) & (run.dates < end.to_datetime64())
    values = series[inside]
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan
    return float(_SIMPLE[agg](values))


def compute_output(frame: pd.DataFrame | WeeklyRun, output: Output) -> float:
    """One output of a run's weekly frame (see the module docstring)."""
    run = frame if isinstance(frame, WeeklyRun) else WeeklyRun(frame)
    bounds = _bounds(run, parse_window(output.window))
    if bounds is None:
        return math.nan
    start, end = bounds
    if output.agg == "auto":
        value = _auto(run, output.metric, start, end)
    else:
        value = _simple(run, output.metric, output.agg, start, end)
    return float(value)


def compute_outputs(frame: pd.DataFrame, outputs: Iterable[Output]) -> dict[str, float]:
    """Every output of a run, by name (NaN where it cannot be computed)."""
    run = WeeklyRun(frame)
    return {o.name: compute_output(run, o) for o in outputs}


class _Reads(WeeklyRun):
    """A :class:`WeeklyRun` that notes every column read."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__(frame)
        self.read: set[str] = set()

    def values(self, column: str) -> np.ndarray:
        self.read.add(column)
        return super().values(column)


def probe_columns(
    read: Callable[[WeeklyRun], object], columns: Sequence[str], dates: Sequence[object]
) -> set[str]:
    """The columns ``read`` reads from a run that records ``columns`` (metric keys) over
    weeks starting on ``dates``.

    Found by calling it once on a frame of zeros: which columns a reduction reads
    depends on the columns there are and on the dates (whether a window is covered),
    not on the values. A worker asks its model for these columns only.
    """
    frame = pd.DataFrame(np.zeros((len(dates), len(columns))), columns=list(columns))
    frame.insert(0, "date", pd.to_datetime(list(dates)))
    probe = _Reads(frame)
    read(probe)
    return probe.read


def columns_read(
    outputs: Iterable[Output], columns: Sequence[str], dates: Sequence[object]
) -> list[str]:
    """The weekly columns that computing ``outputs`` reads (:func:`probe_columns`, with
    each output's own :func:`metric_columns`), in ``columns`` order."""
    outputs = list(outputs)

    def read(run: WeeklyRun) -> None:
        for o in outputs:
            compute_output(run, o)

    found = probe_columns(read, columns, dates)
    for o in outputs:
        found.update(metric_columns(o.metric, columns))
    return [c for c in columns if c in found]


def metric_columns(metric: str, columns: Iterable[str]) -> list[str]:
    """The weekly columns a metric key reads (itself, its ``+`` parts, a ratio's parts)."""
    cols = set(columns)
    if metric in cols:
        found = [metric]
    else:
        name, sel = split_key(metric)
        sel = GROUP_ALIASES.get(sel or "", sel)
        parts = [f"{name}@{p}" for p in sel.split("+")] if sel else []
        found = [c for c in parts if c in cols]
    return found


def unknown_metric(metric: str, columns: Mapping[str, object] | Iterable[str]) -> bool:
    """True when no weekly column (nor the parts of a ``+`` sum or a ratio) matches."""
    cols = set(columns)
    if metric_columns(metric, cols):
        return False
    name, sel = split_key(metric)
    ratio = ratio_rule(name, sel)
    if ratio is None:
        return True
    return not all(metric_columns(f"{n}@{s}" if s else n, cols) for n, s in (ratio.num, ratio.den))
