"""Behaviour a historical run must not show unless an event causes it.

A model can match a handful of facts and still do something no market did. These checks
read a run's weekly frame (and, for the bounds, its scenario) and name every breach:

- **negative gross margin**: the incumbent's weekly gross margin below 0;
- **deliveries collapse**: H100e delivered in a week below :data:`COLLAPSE_SHARE` of the
  mean of the 13 weeks before (after the first 13 weeks);
- **price pinned at a bound** for more than :data:`MAX_PINNED_WEEKS` weeks in a row: the
  gray-market price at a buyer's ceiling (``max_price_per_h100e_usd``), the reference
  product's list price at its floor (unit cost x ``floor_markup``) or quote at
  ``policy.max_lead_weeks``.

Weeks within 13 weeks after a scenario event are exempt (an outage may well collapse
deliveries). ``market-sim facts`` prints the breaches; the calibration counts them in
its objective; a test keeps the baseline free of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from market_sim.scenario.schema import BUYER_ROLES, Scenario

COLLAPSE_SHARE = 0.5
"""A week's deliveries below this share of the previous 13 weeks' mean is a collapse."""
MAX_PINNED_WEEKS = 8
"""Weeks in a row a price may sit at a bound."""
EVENT_GRACE_WEEKS = 13
"""Weeks after an event whose breaches the event may explain."""
_REL = 1e-6


@dataclass(frozen=True)
class Breach:
    kind: str
    column: str
    first_week: int
    weeks: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.column} from week {self.first_week} for {self.weeks} week(s)"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    out, start = [], None
    for i, v in enumerate(np.append(mask, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i - start))
            start = None
    return out


def _exempt(n: int, event_weeks: list[int]) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for w in event_weeks:
        mask[max(0, w) : max(0, w) + EVENT_GRACE_WEEKS] = True
    return mask


def _bounds(scenario: Scenario) -> list[tuple[str, float, str]]:
    """(column, bound, what) of each price or quote that must not sit at its bound."""
    ref = scenario.outcomes.reference_product or scenario.products[0].id
    product = scenario.product(ref)
    ceilings = {a.max_price_per_h100e_usd for a in scenario.agents if a.role in BUYER_ROLES}
    bounds = [(f"spot_price_usd@{ref}", c * product.h100e, "ceiling") for c in sorted(ceilings)]
    floor = product.unit_cost_usd * scenario.policy.pricing.floor_markup
    bounds.append((f"list_price_usd@{ref}", floor, "floor"))
    bounds.append((f"lead_time_weeks@{ref}", float(scenario.policy.max_lead_weeks), "cap"))
    return bounds


_MARGIN, _DELIVERIES = "nvidia_gross_margin_pct", "deliveries_h100e"


def plausibility_columns(scenario: Scenario) -> list[str]:
    """The weekly columns :func:`breaches` reads (a run that records only some columns,
    as the calibration's, must record these)."""
    return list(dict.fromkeys([_MARGIN, _DELIVERIES, *(c for c, _, _ in _bounds(scenario))]))


def breaches(frame: pd.DataFrame, scenario: Scenario) -> list[Breach]:
    """Every breach of the rules above in a run's weekly frame."""
    n = len(frame)
    if n == 0:
        return []
    exempt = _exempt(n, [scenario.week_of(e.at) for e in scenario.events])
    out: list[Breach] = []
    margin = _MARGIN
    if margin in frame and scenario.outcomes.incumbent_vendor is not None:
        bad = (frame[margin].to_numpy(dtype=float) < 0) & ~exempt
        out += [Breach("negative gross margin", margin, s, k) for s, k in _runs(bad)]
    if _DELIVERIES in frame:
        d = frame[_DELIVERIES].to_numpy(dtype=float)
        trailing = pd.Series(d).rolling(13).mean().shift(1).to_numpy()
        bad = np.zeros(n, dtype=bool)
        bad[13:] = d[13:] < COLLAPSE_SHARE * trailing[13:]
        bad &= ~exempt
        out += [Breach("deliveries collapse", _DELIVERIES, s, k) for s, k in _runs(bad)]
    for column, bound, what in _bounds(scenario):
        if column not in frame:
            continue
        v = frame[column].to_numpy(dtype=float)
        at = np.abs(v - bound) <= _REL * max(abs(bound), 1.0)
        for s, k in _runs(at & ~exempt):
            if k > MAX_PINNED_WEEKS:
                out.append(Breach(f"price pinned at its {what}", column, s, k))
    return out
