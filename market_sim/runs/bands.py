"""Quantile bands of outcomes over many runs (an ensemble's members x seeds).

A metric is banded over the runs period by period:

- a **level** or **stock** (prices, lead times, shares of installed compute) week by week;
- a **flow** (revenue) or **ratio** (gross margin, alternative chips' share) per calendar
  quarter, reduced in each run *before* the quantiles are taken: a flow's quarterly sum,
  a ratio's ratio of quarterly sums of its components, by the facts rules
  (:func:`market_sim.facts.reduce_between`: day-weighted weeks at the quarter's edges; a
  quarter the run misses a week or more of is left out).

For each (metric, period) the row holds the 5th, 25th, 50th, 75th and 95th percentiles
of the runs' values (``numpy.percentile``, linear interpolation) and ``n``, the number of
runs with a finite value. Percentiles of one sample are monotone in the level, so
``p05 <= p25 <= p50 <= p75 <= p95``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_sim.facts import WeeklyRun, reduce_between, split_key
from market_sim.facts.reduce import ratio_rule
from market_sim.outcomes.catalogue import UNITS, kind_of, metrics_named
from market_sim.scenario import Scenario

PERCENTS = (5, 25, 50, 75, 95)
"""Percentiles of each band (the 50% band is p25-p75, the 90% band p05-p95)."""
BAND_COLUMNS = ("metric", "period", "date", "p05", "p25", "p50", "p75", "p95", "n")
"""Columns of a bands table (``bands.csv``); ``date`` is the period's first day."""


@dataclass(frozen=True)
class BandMetric:
    """A metric to band: its key, title, unit code (``outcomes.catalogue.UNITS``), the
    period it is banded over (``week`` or ``quarter``) and the report group it sits in."""

    key: str
    label: str
    unit: str
    period: str
    group: str

    @property
    def unit_text(self) -> str:
        return UNITS.get(self.unit, self.unit)


def band_metric(key: str, label: str = "", group: str = "other") -> BandMetric:
    """A :class:`BandMetric` for a metric key, with its unit and period from the metric
    catalogue (flows and ratios by quarter, levels and stocks by week).

    Raises :class:`market_sim.outcomes.catalogue.UnknownMetric` for an undeclared name.
    """
    name, sel = split_key(key)
    kind = kind_of(name)
    entries = metrics_named(name)
    entry = next((m for m in entries if bool(m.selector) == (sel is not None)), entries[0])
    period = "quarter" if kind in ("flow", "ratio") else "week"
    text = label or (f"{entry.label} ({sel})" if sel else entry.label)
    return BandMetric(key, text, entry.unit, period, group)


def default_metrics(scenario: Scenario) -> list[BandMetric]:
    """The forecast's metrics for a scenario: list price and quoted lead time of H100 and
    B200 (or of the reference product when it has neither), the reference product's
    gray-market and rental prices, the incumbent's revenue and gross margin by quarter,
    alternative chips' share of new compute by quarter, and the top-5 holders' share of
    installed compute (the top-4 share when the scenario has no ``top5`` group)."""
    ids = [p.id for p in scenario.products]
    ref = scenario.outcomes.reference_product or ids[0]
    products = [p for p in ("H100", "B200") if p in ids] or [ref]
    out = [band_metric(f"list_price_usd@{p}", f"{p} list price", "prices") for p in products]
    out += [
        band_metric(f"spot_price_usd@{ref}", f"{ref} gray-market price", "prices"),
        band_metric(f"rental_usd_per_gpu_hour@{ref}", f"{ref} rental price", "prices"),
    ]
    out += [
        band_metric(f"lead_time_weeks@{p}", f"{p} quoted lead time", "lead_times") for p in products
    ]
    vendor = _vendor_name(scenario)
    out += [
        band_metric("nvidia_dc_revenue_usd_bn", f"{vendor} revenue per quarter", "incumbent"),
        band_metric("nvidia_gross_margin_pct", f"{vendor} gross margin per quarter", "incumbent"),
        band_metric(
            "alt_chip_share_pct", "Alternative chips' share of new compute per quarter", "alt"
        ),
    ]
    if "top5" in scenario.outcomes.groups:
        out.append(band_metric("compute_share_pct@top5", "Top-5 holders' share of compute", "alt"))
    else:
        out.append(band_metric("top4_share_pct", "Top-4 holders' share of compute", "alt"))
    return out


def _vendor_name(scenario: Scenario) -> str:
    """The incumbent vendor's display name (its id, or "The incumbent")."""
    vid = scenario.outcomes.incumbent_vendor
    try:
        agent = scenario.agent(vid) if vid else None
    except KeyError:
        agent = None
    return (getattr(agent, "name", "") or vid) if agent is not None else "The incumbent"


def needed_columns(metrics: Sequence[BandMetric]) -> set[str]:
    """Weekly columns the bands of ``metrics`` read (a ratio's components and the key)."""
    cols = {"date"}
    for m in metrics:
        cols.add(m.key)
        name, sel = split_key(m.key)
        rule = ratio_rule(name, sel)
        if rule is not None:
            for part_name, part_sel in (rule.num, rule.den):
                cols.add(part_name if part_sel is None else f"{part_name}@{part_sel}")
    return cols


def quarters(first: pd.Timestamp, last: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Calendar quarters ``[start, end)`` from the one holding ``first`` to the one holding
    ``last`` (inclusive)."""
    start = pd.Timestamp(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    out = []
    while start <= last:
        end = start + pd.DateOffset(months=3)
        out.append((start, end))
        start = end
    return out


def _rows(key: str, period: str, dates: Sequence, values: np.ndarray) -> list[dict]:
    """Rows of a (runs x periods) array: percentiles over the finite values of a period."""
    rows = []
    finite = np.isfinite(values)
    if finite.all():
        pcts = np.percentile(values, PERCENTS, axis=0)
        counts = np.full(values.shape[1], values.shape[0])
    else:
        pcts = np.full((len(PERCENTS), values.shape[1]), np.nan)
        counts = finite.sum(axis=0)
        for j in np.flatnonzero(counts):
            pcts[:, j] = np.percentile(values[finite[:, j], j], PERCENTS)
    for j, date in enumerate(dates):
        if counts[j] == 0:
            continue
        row = {"metric": key, "period": period, "date": pd.Timestamp(date)}
        row.update({f"p{p:02d}": float(pcts[i, j]) for i, p in enumerate(PERCENTS)})
        row["n"] = int(counts[j])
        rows.append(row)
    return rows


def bands(frames: Sequence[pd.DataFrame], metrics: Sequence[BandMetric]) -> pd.DataFrame:
    """The bands table (:data:`BAND_COLUMNS`) of ``metrics`` over the runs ``frames``
    (weekly frames with a ``date`` column, all of the same weeks). A metric no run has a
    column for gives no rows."""
    if not frames:
        return pd.DataFrame(columns=list(BAND_COLUMNS))
    runs = [WeeklyRun(f) for f in frames]
    dates = pd.to_datetime(runs[0].frame["date"]).tolist()
    rows: list[dict] = []
    for m in metrics:
        if m.period == "week":
            if m.key not in runs[0].frame.columns:
                continue
            stack = np.vstack([r.values(m.key) for r in runs])
            rows += _rows(m.key, "week", dates, stack)
            continue
        spans = quarters(runs[0].first, runs[0].last)
        stack = np.array(
            [[reduce_between(r, m.key, a, b).value for a, b in spans] for r in runs],
            dtype=float,
        )
        rows += _rows(m.key, "quarter", [a for a, _ in spans], stack)
    table = pd.DataFrame(rows, columns=list(BAND_COLUMNS))
    table["n"] = table["n"].astype("int64")
    return table
