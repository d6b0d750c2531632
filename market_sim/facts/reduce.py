"""Reducing a simulated weekly series to the single number a fact is compared with.

Kinds (from the facts README): a *level* is the day-weighted mean over the window, a *flow*
the day-weighted sum (a week straddling the window's edge counts by its days inside), a
*stock* the window's last value. Ratio metrics (shares, gross
margin) are computed from their components as sum(numerator) / sum(denominator) over the
window. See docs/facts.md for the rules in prose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from market_sim.facts.windows import run_covers, window_bounds
from market_sim.outcomes.catalogue import kind_of
from market_sim.outcomes.catalogue import names as catalogue_names
from market_sim.outcomes.catalogue import ratio_of as catalogue_ratio

Kind = Literal["level", "flow", "stock"]
"""How a weekly series is reduced (a ratio metric is reduced from its components)."""

METRIC_KINDS: dict[str, str] = {name: kind_of(name) for name in catalogue_names()}
"""Metric name (the part before ``@``) -> its kind in the catalogue
(:mod:`market_sim.outcomes.catalogue`): flow, level, stock, ratio or input."""


GROUP_ALIASES: dict[str, str] = {"big4": "microsoft+google+meta+amazon"}
"""Groups the facts vocabulary defines as fixed sums; used only when the group's own column
is missing (a scenario without these agents still gets "not simulated")."""

NOT_COVERED = "window outside the run"


def metric_kind(name: str) -> Kind:
    """How a series of this metric is reduced (``name`` or a full ``name@selector`` key):
    the catalogue's kind, a ratio's fallback (its weekly values) and an input as a level.

    Raises :class:`market_sim.outcomes.catalogue.UnknownMetric` for an undeclared name.
    """
    kind = kind_of(name)
    return "level" if kind in ("ratio", "input") else kind  # type: ignore[return-value]


def split_key(metric_key: str) -> tuple[str, str | None]:
    """``"name@selector"`` -> ``("name", "selector")``; ``"name"`` -> ``("name", None)``."""
    name, _, selector = metric_key.strip().partition("@")
    return name, (selector or None)


class Reduction(NamedTuple):
    """A reduced value and, when it is NaN, why (``reason`` is ``""`` when computed)."""

    value: float
    reason: str


# --------------------------------------------------------------------------- ratio metrics


@dataclass(frozen=True)
class _Ratio:
    """``scale * sum(num) / sum(den)`` (or ``scale * (1 - ...)`` when ``complement``)."""

    num: tuple[str, str | None]
    den: tuple[str, str | None]
    complement: bool = False
    scale: float = 100.0


def _capacity_share(sel: str | None) -> _Ratio | None:
    """``node:vendor`` (or ``node:a+b``, ``node:a+node:b``) over ``output_wafers@node``."""
    if sel is None or ":" not in sel.split("+", 1)[0]:
        return None
    node = sel.split(":", 1)[0]
    parts = [p if ":" in p else f"{node}:{p}" for p in sel.split("+")]
    if any(p.split(":", 1)[0] != node or not p.split(":", 1)[1] for p in parts):
        return None
    return _Ratio(("output_wafers", "+".join(parts)), ("output_wafers", node))


def ratio_rule(name: str, sel: str | None) -> _Ratio | None:
    """The components of a ratio metric key (None: not a ratio for this selector).

    From the catalogue's rule (:class:`market_sim.outcomes.catalogue.Ratio`);
    ``capacity_share_pct`` also accepts ``node:a+b`` selectors.
    """
    if name == "capacity_share_pct":
        return _capacity_share(sel)
    rule = catalogue_ratio(name, sel)
    if rule is None:
        return None
    num, den = rule.components(sel)
    return _Ratio(split_key(num), split_key(den), rule.complement, rule.scale)


RATIO_METRICS: tuple[str, ...] = tuple(n for n in catalogue_names() if kind_of(n) == "ratio")
"""Metrics always computed from components (the exact column is used only if a component
is missing)."""


# --------------------------------------------------------------------------- weekly frames


class WeeklyRun:
    """A weekly frame prepared once: week start dates as ``datetime64[ns]``, first and last."""

    def __init__(self, frame: pd.DataFrame):
        if "date" not in frame.columns:
            raise ValueError("simulation frame has no 'date' column (the Monday each week starts)")
        frame = frame.sort_values("date", kind="stable")  # a stock's "last" is by date
        self.frame = frame
        self.dates = pd.to_datetime(frame["date"]).to_numpy(dtype="datetime64[ns]")
        self.first = pd.Timestamp(self.dates.min()) if len(self.dates) else None
        self.last = pd.Timestamp(self.dates.max()) if len(self.dates) else None
        self._cache: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        """Column ``column`` as a float array (cached)."""
        if column not in self._cache:
            self._cache[column] = self.frame[column].to_numpy(dtype=float, na_value=np.nan)
        return self._cache[column]

    def mask(self, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray | None:
        """Each week's share of its 7 days inside ``[start, end)``, scaled so the shares
        add up to the window's length in weeks; None if the run does not cover it.

        A week straddling the window's edge counts in proportion to its days inside; the
        few days a covering run misses at an edge are made up by the scaling (a flow's
        sum is extrapolated to the whole window; a mean is unaffected).
        """
        if self.first is None or not run_covers(self.first, self.last, start, end):
            return None
        day = np.timedelta64(1, "D")
        week_start = self.dates
        week_end = week_start + 7 * day
        lo = np.maximum(week_start, start.to_datetime64())
        hi = np.minimum(week_end, end.to_datetime64())
        frac = np.clip((hi - lo) / day, 0.0, 7.0) / 7.0
        covered = frac.sum()
        length = (end - start) / pd.Timedelta(days=7)
        if covered <= 0 or length - covered >= 1.0:  # a week or more missing (edges or gaps)
            return None
        return frac * (length / covered)


def _weekly(
    run: WeeklyRun, name: str, sel: str | None, kind: Kind
) -> tuple[np.ndarray | None, str]:
    """Weekly series for ``name@sel``: the exact column, else the sum of ``+`` parts."""
    key = name if sel is None else f"{name}@{sel}"
    if key in run.frame.columns:
        return run.values(key), ""
    if sel is None:
        return None, f"no column {key}"
    expanded = GROUP_ALIASES.get(sel, sel)
    if "+" not in expanded:
        return None, f"no column {key}"
    if kind == "level":
        return None, f"a level cannot be summed over {sel!r}"
    columns = [f"{name}@{part}" for part in expanded.split("+")]
    missing = [c for c in columns if c not in run.frame.columns]
    if len(missing) == len(columns):
        return None, f"no column {key} nor its parts"
    if missing:
        return None, f"no column {', '.join(missing)}"
    stacked = np.vstack([run.values(c) for c in columns])
    return stacked.sum(axis=0), ""  # NaN in any part -> NaN that week


def _reduce_series(values: np.ndarray, kind: Kind, weights: np.ndarray) -> Reduction:
    """Weighted sum (flow), weighted mean (level) or last value (stock) of the window's
    non-NaN weeks; ``weights`` are the weeks' shares in the window (see ``WeeklyRun.mask``)."""
    keep = (weights > 0) & ~np.isnan(values)
    if not keep.any():
        return Reduction(math.nan, "no data in the window")
    v, w = values[keep], weights[keep]
    if kind == "flow":
        return Reduction(float((v * w).sum()), "")
    if kind == "stock":
        return Reduction(float(v[-1]), "")
    return Reduction(float((v * w).sum() / w.sum()), "")


def _reduce_ratio(run: WeeklyRun, mask: np.ndarray, ratio: _Ratio) -> Reduction:
    """``100 x sum(num) / sum(den)`` over the window (weights as for flows)."""
    sums = []
    for name, sel in (ratio.num, ratio.den):
        series, reason = _weekly(run, name, sel, "flow")
        if series is None:
            return Reduction(math.nan, reason)
        total = _reduce_series(series, "flow", mask)
        if math.isnan(total.value):
            return total
        sums.append(total.value)
    num, den = sums
    if den == 0:
        return Reduction(math.nan, "zero denominator")
    share = num / den
    return Reduction(ratio.scale * (1.0 - share if ratio.complement else share), "")


def _reduce(run: WeeklyRun, metric_key: str, date: str, window: str) -> Reduction:
    start, end = window_bounds(date, window)
    return reduce_between(run, metric_key, start, end)


def reduce_between(
    run: WeeklyRun | pd.DataFrame, metric_key: str, start: pd.Timestamp, end: pd.Timestamp
) -> Reduction:
    """Reduce ``metric_key`` over the calendar interval ``[start, end)`` by the facts rules.

    The same rules as :func:`reduce_fact` (kind, day weights, coverage, ratio metrics,
    ``+`` selectors), for any interval, not only a facts window.
    """
    run = run if isinstance(run, WeeklyRun) else WeeklyRun(run)
    mask = run.mask(start, end)
    if mask is None:
        return Reduction(math.nan, NOT_COVERED)
    name, sel = split_key(metric_key)
    kind = metric_kind(name)
    if name in RATIO_METRICS:
        ratio = ratio_rule(name, sel)
        result = (
            _reduce_ratio(run, mask, ratio)
            if ratio is not None
            else Reduction(math.nan, f"cannot compute {metric_key} from components")
        )
        if not result.reason.startswith(("no column", "cannot compute")):
            return result
        if metric_key in run.frame.columns:  # fallback: weekly percentages, averaged
            return _reduce_series(run.values(metric_key), "level", mask)
        return result
    series, reason = _weekly(run, name, sel, kind)
    if series is None:
        return Reduction(math.nan, reason)
    return _reduce_series(series, kind, mask)


def weekly_series(run: WeeklyRun, metric_key: str) -> np.ndarray | None:
    """The weekly values of a metric key (a column, or the sum of a ``+`` selector's parts);
    None if the run does not have it."""
    name, sel = split_key(metric_key)
    series, _ = _weekly(run, name, sel, "flow")
    return series


def reduce_fact_detail(frame: pd.DataFrame, metric_key: str, date: str, window: str) -> Reduction:
    """Like :func:`reduce_fact` but also says why the value is NaN."""
    return _reduce(WeeklyRun(frame), metric_key, date, window)


def reduce_fact(frame: pd.DataFrame, metric_key: str, date: str, window: str) -> float:
    """Reduce a weekly simulation frame to the value comparable with one fact.

    ``frame`` has a ``date`` column (start of each week) and one float column per metric key;
    ``date``/``window`` are as in the facts file (``"2023-11"``/``"month"``,
    ``"2024-Q3"``/``"quarter"``, ``"2024-01"``/``"quarter_ending"``, ``"2024"``/``"year"``).
    The result is in the metric's own unit (a flow's unit summed over the window, e.g. units
    delivered in the year; shares and margins in percent). NaN when it cannot be computed: a
    missing column, a window the run does not cover, a zero denominator, or no data.
    Raises ``ValueError`` for an unknown window or a malformed date.
    """
    return _reduce(WeeklyRun(frame), metric_key, date, window).value
