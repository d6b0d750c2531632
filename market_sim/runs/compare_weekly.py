"""Differences over time: arm B minus arm A, week by week, over the paired runs.

For each weekly metric and each B arm, every pair (the same seed offset, and with an
ensemble the same member: ``arms[k].runs[i]`` pairs with ``arms[0].runs[i]``) gives a
weekly series of differences, B's value minus A's for the week starting on the same
date (weeks only one run has are left out of that pair). Over the pairs, each week gets
the median (``p50``) and a 90% band, the 5th and 95th percentiles (``p05``, ``p95``;
numpy's linear interpolation between order statistics), and ``n``, the number of pairs
with a finite difference that week. The band covers what differs between the pairs:
seed noise only, or with an ensemble the parameter sets x the seeds; it is not a
confidence interval for the median. With one pair the three are that pair's difference.

The comparison folder's ``deltas_weekly.csv`` holds these rows (``a``, ``b``, ``metric``,
``date``, ``p05``, ``p50``, ``p95``, ``n``); the comparison report draws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from market_sim.facts import WeeklyRun, weekly_series
from market_sim.runs.compare import Arm
from market_sim.runs.folder import Run
from market_sim.scenario import Scenario

QUANTILES = (0.05, 0.5, 0.95)
"""The band's lower edge, the median and its upper edge, as fractions of the pairs."""
WEEKLY_COLUMNS = ("a", "b", "metric", "date", "p05", "p50", "p95", "n")
"""Columns of ``deltas_weekly.csv``."""


def main_keys(scenario: Scenario) -> list[str]:
    """The main weekly metrics of a comparison, for ``scenario``'s reference product
    (``outcomes.reference_product``): its quoted lead time, spot and rental price; the
    startups' median quoted lead time, effective price and deliveries; the top-4 share of
    installed compute; the incumbent's revenue; alternative chips' share of new compute;
    active startups."""
    ref = scenario.outcomes.reference_product or scenario.products[0].id
    return [
        f"lead_time_weeks@{ref}",
        "lead_time_weeks_median@startups",
        f"spot_price_usd@{ref}",
        f"rental_usd_per_gpu_hour@{ref}",
        "effective_price_usd_per_h100e@startups",
        "deliveries_units@startups",
        "top4_share_pct",
        "nvidia_dc_revenue_usd_bn",
        "alt_chip_share_pct",
        "startups_active",
    ]


def _series(run: Run, key: str) -> pd.Series | None:
    """A run's weekly values of ``key`` (a column or a ``+`` sum) indexed by week date."""
    weekly = WeeklyRun(run.timeseries)
    values = weekly_series(weekly, key)
    if values is None:
        return None
    return pd.Series(values, index=pd.DatetimeIndex(weekly.dates), dtype=float)


def pair_differences(base: Arm, arm: Arm, key: str) -> pd.DataFrame:
    """B minus A of ``key`` for every pair: one column per pair (in run order), one row
    per week date; empty when no pair has the metric."""
    n = min(len(base.runs), len(arm.runs))
    columns = {}
    for i, (ra, rb) in enumerate(zip(base.runs[:n], arm.runs[:n], strict=True)):
        a, b = _series(ra, key), _series(rb, key)
        if a is None or b is None:
            continue
        columns[i] = b.sub(a).dropna()  # weeks both runs have
    if not columns:
        return pd.DataFrame()
    return pd.DataFrame(columns).sort_index()


def weekly_deltas(arms: Sequence[Arm], keys: Iterable[str]) -> pd.DataFrame:
    """The rows of ``deltas_weekly.csv`` (module docstring): for each B arm and each key
    the runs record, per week date, the 5%, 50% and 95% quantiles of the paired
    differences B - A in the metric's unit, and how many pairs had one."""
    base = arms[0]
    parts = []
    for arm in arms[1:]:
        for key in dict.fromkeys(keys):
            diff = pair_differences(base, arm, key)
            values = diff.to_numpy(dtype=float)
            finite = np.isfinite(values)
            keep = finite.any(axis=1) if values.size else np.zeros(0, dtype=bool)
            if not keep.any():
                continue
            values, count = values[keep], finite[keep].sum(axis=1)
            q = np.nanquantile(values, QUANTILES, axis=1)
            parts.append(
                pd.DataFrame(
                    {
                        "a": base.label,
                        "b": arm.label,
                        "metric": key,
                        "date": diff.index[keep].strftime("%Y-%m-%d"),
                        "p05": q[0],
                        "p50": q[1],
                        "p95": q[2],
                        "n": count.astype(np.int64),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=list(WEEKLY_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def band_note(arms: Sequence[Arm]) -> str:
    """What the band of :func:`weekly_deltas` covers for these arms, in words."""
    runs = arms[0].runs
    n = min(len(a.runs) for a in arms)
    members = {r.member for r in runs if r.member is not None}
    if n < 2:
        return "one pair: the line is its difference, no band"
    if members:
        seeds = len(runs) // len(members)
        return (
            f"median and 5-95% of {n} pairs: {len(members)} ensemble parameter sets x "
            f"{seeds} seed{'s' if seeds != 1 else ''}"
        )
    return f"median and 5-95% of {n} paired seeds: seed noise only"
