"""Headline numbers of a run: one number per outcome, reduced from the weekly frame.

:data:`HEADLINES` are the five numbers ``market-sim run`` prints and the run report shows
as cards; :data:`OUTCOMES` adds the numbers a comparison tabulates (who gets compute, at
what price, how fast). Each reduction is written in its ``how`` text, which the reports
show next to the number. A column missing from a run gives NaN (shown ``n/a``). ``REF``
in a text is the run's reference product (``outcomes.reference_product``, H100 in the
baseline), found from the frame's columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_sim.scenario.schema import CLASS_IDS

Reducer = Callable[[pd.DataFrame], tuple[float, str]]
"""Weekly frame -> (value, note); the note dates the value (e.g. the week of a peak)."""


@dataclass(frozen=True)
class Outcome:
    """A number reduced from a run: ``unit`` is one of ``weeks``, ``usd``,
    ``usd_per_gpu_hour``, ``pct``, ``units``, ``h100e``, ``usd_bn``, ``index``, ``count``."""

    key: str
    label: str
    unit: str
    how: str
    reduce: Reducer

    def value(self, ts: pd.DataFrame) -> float:
        return self.reduce(ts)[0]

    def text(self, value: float) -> str:
        """The value formatted with its unit (``n/a`` for NaN)."""
        return format_value(value, self.unit)

    def delta_text(self, delta: float) -> str:
        """A difference formatted with its unit (percentages in points), with its sign."""
        return format_value(delta, self.unit, signed=True)


_FORMATS = {
    "weeks": ("{:.1f}", " weeks"),
    "usd": ("${:,.0f}", ""),
    "usd_per_gpu_hour": ("${:,.2f}", "/GPU-h"),
    "pct": ("{:.3g}", "%"),
    "units": ("{:,.0f}", " units"),
    "h100e": ("{:,.0f}", " H100e"),
    "usd_bn": ("${:,.1f}", " bn"),
    "index": ("{:,.0f}", ""),
    "ratio": ("{:.3f}", ""),
    "count": ("{:,.0f}", ""),
}


def format_value(value: float, unit: str, signed: bool = False) -> str:
    """``value`` formatted for ``unit``; ``signed`` adds ``+`` and shows % as points."""
    if value is None or not math.isfinite(value):
        return "n/a"
    spec, suffix = _FORMATS.get(unit, ("{:,.4g}", ""))
    if unit == "weeks" and abs(value - round(value)) < 1e-9:
        spec = "{:.0f}"  # quotes are whole weeks
    if signed and unit == "pct":
        suffix = " pp"
    text = spec.format(abs(value) if signed else value)
    if signed:
        text = ("+" if value > 0 else "−" if value < 0 else "") + text
    return text + suffix


# --------------------------------------------------------------------------- reducers


def _date(ts: pd.DataFrame, i: int) -> str:
    return pd.Timestamp(ts["date"].iloc[i]).strftime("%Y-%m-%d")


def reference_product(ts: pd.DataFrame) -> str | None:
    """The run's reference product (``outcomes.reference_product``): the one product
    whose gray-market or rental price the weekly frame records (``spot_price_usd@P``,
    ``rental_usd_per_gpu_hour@P``)."""
    prefixes = ("spot_price_usd@", "rental_usd_per_gpu_hour@")
    found = {c.split("@", 1)[1] for c in map(str, ts.columns) if c.startswith(prefixes)}
    return found.pop() if len(found) == 1 else None


def _resolve(ts: pd.DataFrame, text: str) -> str:
    """``text`` with ``{ref}`` replaced by the run's reference product."""
    if "{ref}" not in text:
        return text
    return text.replace("{ref}", reference_product(ts) or "?")


def _series(ts: pd.DataFrame, key: str) -> pd.Series | None:
    key = _resolve(ts, key)
    return ts[key].astype(float) if key in ts.columns else None


def peak(key: str, what: str, fallback_prefix: str | None = None) -> Reducer:
    """Maximum over the weeks (of ``key``; else of the row-wise max of the columns
    starting with ``fallback_prefix``), noted with the week it happens."""

    def reduce(ts: pd.DataFrame) -> tuple[float, str]:
        s, label = _series(ts, key), what
        if s is None and fallback_prefix:
            cols = [c for c in ts.columns if c.startswith(fallback_prefix)]
            if cols:
                s, label = ts[cols].astype(float).max(axis=1), "highest product quote"
        if s is None or s.empty:
            return math.nan, "not in this run"
        i = int(np.argmax(s.to_numpy()))
        return float(s.iloc[i]), f"{_resolve(ts, label)}, week of {_date(ts, i)}"

    return reduce


def last(key: str, what: str) -> Reducer:
    """Value in the run's last week."""

    def reduce(ts: pd.DataFrame) -> tuple[float, str]:
        s = _series(ts, key)
        if s is None or s.empty:
            return math.nan, "not in this run"
        return float(s.iloc[-1]), f"{what}, week of {_date(ts, len(ts) - 1)}"

    return reduce


def mean(key: str, what: str) -> Reducer:
    """Mean over the weeks (each week counts once)."""

    def reduce(ts: pd.DataFrame) -> tuple[float, str]:
        s = _series(ts, key)
        if s is None or s.empty:
            return math.nan, "not in this run"
        return float(s.mean()), what

    return reduce


def total(key: str, what: str) -> Reducer:
    """Sum over the weeks (of a weekly flow)."""

    def reduce(ts: pd.DataFrame) -> tuple[float, str]:
        s = _series(ts, key)
        return (math.nan, "not in this run") if s is None else (float(s.sum()), what)

    return reduce


def share_of_sums(part: str, whole: str, what: str, complement_of: str | None = None) -> Reducer:
    """``100 * sum(part) / sum(whole)`` over the run; with ``complement_of``,
    ``100 * (1 - sum(complement_of) / sum(whole))`` (a margin from costs and revenue)."""

    def reduce(ts: pd.DataFrame) -> tuple[float, str]:
        num = _series(ts, complement_of or part)
        den = _series(ts, whole)
        if num is None or den is None or den.sum() <= 0:
            return math.nan, "not in this run"
        ratio = float(num.sum() / den.sum())
        return 100.0 * (1.0 - ratio if complement_of else ratio), what

    return reduce


# --------------------------------------------------------------------------- the lists

HEADLINES: tuple[Outcome, ...] = (
    Outcome(
        "peak_lead_time_weeks",
        "Peak lead time",
        "weeks",
        "highest weekly quote of the reference product for a new standard order "
        "(lead_time_weeks@REF)",
        peak("lead_time_weeks@{ref}", "{ref} quote", "lead_time_weeks@"),
    ),
    Outcome(
        "peak_rental_usd_per_gpu_hour",
        "Peak rental price",
        "usd_per_gpu_hour",
        "highest weekly rental price (rental_usd_per_gpu_hour@REF)",
        peak("rental_usd_per_gpu_hour@{ref}", "{ref} rental"),
    ),
    Outcome(
        "startup_delivery_share_pct",
        "Startups' share of deliveries",
        "pct",
        "units delivered to startups / all units delivered, whole run",
        share_of_sums(
            "deliveries_units@startups", "deliveries_units", "of all units delivered, whole run"
        ),
    ),
    Outcome(
        "top5_compute_share_pct",
        "Top-5 compute share",
        "pct",
        "share of installed H100e held by the five largest firms, last week",
        last("compute_share_pct@top5", "of installed H100e"),
    ),
    Outcome(
        "nvidia_gross_margin_pct",
        "Nvidia gross margin",
        "pct",
        "1 - cost of goods / data-centre revenue, both summed over the run",
        share_of_sums(
            "", "nvidia_dc_revenue_usd_bn", "whole run", complement_of="nvidia_cogs_usd_bn"
        ),
    ),
)
"""The five numbers of a run: printed by ``market-sim run``, the run report's cards."""

_CLASSES = CLASS_IDS

OUTCOMES: tuple[Outcome, ...] = (
    *HEADLINES,
    *(
        Outcome(
            f"lead_time_p90_{c}_mean",
            f"Quoted lead time p90, {c} (mean)",
            "weeks",
            f"mean over weeks of lead_time_weeks_p90@{c}",
            mean(f"lead_time_weeks_p90@{c}", "mean over weeks"),
        )
        for c in _CLASSES
    ),
    *(
        Outcome(
            f"realised_lead_time_p90_{c}_mean",
            f"Realised lead time p90, {c} (mean)",
            "weeks",
            f"mean over weeks of realised_lead_time_weeks_p90@{c}",
            mean(f"realised_lead_time_weeks_p90@{c}", "mean over weeks"),
        )
        for c in _CLASSES
    ),
    *(
        Outcome(
            f"effective_price_{c}_mean",
            f"Effective price per H100e, {c} (mean)",
            "usd",
            f"mean over weeks of effective_price_usd_per_h100e@{c}",
            mean(f"effective_price_usd_per_h100e@{c}", "mean over weeks"),
        )
        for c in _CLASSES
    ),
    Outcome(
        "peak_spot_price_usd",
        "Peak spot (gray-market) price",
        "usd",
        "highest weekly spot_price_usd@REF",
        peak("spot_price_usd@{ref}", "{ref} spot"),
    ),
    Outcome(
        "mean_rental_usd_per_gpu_hour",
        "Rental price (mean)",
        "usd_per_gpu_hour",
        "mean over weeks of rental_usd_per_gpu_hour@REF",
        mean("rental_usd_per_gpu_hour@{ref}", "mean over weeks"),
    ),
    *(
        Outcome(
            f"deliveries_{c}_units",
            f"Units delivered to {c}",
            "units",
            f"sum over weeks of deliveries_units@{c}",
            total(f"deliveries_units@{c}", "whole run"),
        )
        for c in _CLASSES
    ),
    *(
        Outcome(
            f"compute_share_{c}_end_pct",
            f"Compute share of {c}, end",
            "pct",
            f"compute_share_pct@{c} in the last week",
            last(f"compute_share_pct@{c}", "of installed H100e"),
        )
        for c in _CLASSES
    ),
    Outcome(
        "startups_exited_end",
        "Startups exited (cumulative, end)",
        "count",
        "startups_exited in the last week",
        last("startups_exited", "cumulative"),
    ),
    Outcome(
        "startups_starved_mean",
        "Startups starved (mean)",
        "count",
        "mean over weeks of startups_starved",
        mean("startups_starved", "mean over weeks"),
    ),
    Outcome(
        "hhi_compute_end",
        "HHI of installed compute, end",
        "index",
        "hhi_compute in the last week (0-10,000)",
        last("hhi_compute", "0-10,000"),
    ),
    Outcome(
        "gini_compute_end",
        "Gini of compute in use, end",
        "ratio",
        "gini_compute in the last week (0-1)",
        last("gini_compute", "0-1"),
    ),
    Outcome(
        "top4_share_end_pct",
        "Top-4 share of installed compute, end",
        "pct",
        "top4_share_pct in the last week",
        last("top4_share_pct", "of installed H100e"),
    ),
    Outcome(
        "nvidia_revenue_usd_bn",
        "Nvidia data-centre revenue, total",
        "usd_bn",
        "sum over weeks of nvidia_dc_revenue_usd_bn",
        total("nvidia_dc_revenue_usd_bn", "whole run"),
    ),
    Outcome(
        "nvidia_new_compute_share_pct",
        "Nvidia share of new compute",
        "pct",
        "sum of incumbent_deliveries_h100e / sum of deliveries_h100e, whole run",
        share_of_sums("incumbent_deliveries_h100e", "deliveries_h100e", "of H100e delivered"),
    ),
    Outcome(
        "alt_chip_share_pct",
        "Alternative chips' share of new compute",
        "pct",
        "sum of alt_chip_deliveries_h100e / sum of deliveries_h100e, whole run",
        share_of_sums("alt_chip_deliveries_h100e", "deliveries_h100e", "of H100e delivered"),
    ),
    Outcome(
        "in_house_share_pct",
        "In-house chips' share of new compute",
        "pct",
        "sum of in_house_deliveries_h100e / sum of deliveries_h100e, whole run",
        share_of_sums("in_house_deliveries_h100e", "deliveries_h100e", "of H100e delivered"),
    ),
)
"""Every outcome a comparison tabulates (the headlines first)."""


def headline_values(ts: pd.DataFrame) -> dict[str, float | None]:
    """The five headline numbers by key (None where not computable), for run.json."""
    out: dict[str, float | None] = {}
    for o in HEADLINES:
        v = o.value(ts)
        out[o.key] = v if math.isfinite(v) else None
    return out


def outcome_values(ts: pd.DataFrame, outcomes: tuple[Outcome, ...] = OUTCOMES) -> dict[str, float]:
    """Every outcome's value by key (NaN where not computable)."""
    return {o.key: o.value(ts) for o in outcomes}
