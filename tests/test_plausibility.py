"""The plausibility checks find what they say, and the historical baseline has none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from market_sim.model import GPUMarketModel
from market_sim.outcomes.plausibility import MAX_PINNED_WEEKS, breaches
from market_sim.scenario import load_scenario
from model_helpers import BASELINE


def _frame(n: int = 60, **cols) -> pd.DataFrame:
    base = {
        "week": np.arange(n),
        "date": pd.date_range("2023-01-02", periods=n, freq="7D"),
        "deliveries_h100e": np.full(n, 1000.0),
        "nvidia_gross_margin_pct": np.full(n, 70.0),
        "spot_price_usd@H100": np.linspace(30000, 50000, n),
        "list_price_usd@H100": np.full(n, 27500.0),
        "lead_time_weeks@H100": np.full(n, 20.0),
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_each_breach_is_found():
    s = load_scenario(BASELINE)
    assert breaches(_frame(), s) == []
    d = np.full(60, 1000.0)
    d[40:43] = 100.0
    found = breaches(_frame(deliveries_h100e=d), s)
    assert [(b.kind, b.first_week, b.weeks) for b in found] == [("deliveries collapse", 40, 3)]
    margin = np.full(60, 70.0)
    margin[5] = -1.0
    assert breaches(_frame(nvidia_gross_margin_pct=margin), s)[0].kind == "negative gross margin"
    spot = np.full(60, 40000.0)
    spot[10 : 10 + MAX_PINNED_WEEKS] = 60000.0  # at the ceiling, but not for long
    assert breaches(_frame(**{"spot_price_usd@H100": spot}), s) == []
    spot[10 : 10 + MAX_PINNED_WEEKS + 1] = 60000.0
    assert breaches(_frame(**{"spot_price_usd@H100": spot}), s)[0].kind.startswith("price pinned")
    quote = np.full(60, float(s.policy.max_lead_weeks))
    assert breaches(_frame(**{"lead_time_weeks@H100": quote}), s)[0].column.startswith("lead")


def test_events_excuse_what_follows_them():
    outage = load_scenario(BASELINE.parent / "cowos_outage.toml")
    d = np.full(156, 1000.0)
    week = outage.week_of(outage.events[0].at)
    d[week + 2 : week + 5] = 100.0
    assert breaches(_frame(156, deliveries_h100e=d), outage) == []


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_baseline_behaves(seed):
    """The acceptance of issue 11 ("no week of the baseline...") at the five seeds that
    `facts --seeds 5` scores (the calibration fits at two seeds so that it sees a breach
    the first seed does not show)."""
    model = GPUMarketModel(BASELINE, seed=seed)
    frame = model.run()
    found = breaches(frame, model.scenario)
    assert not found, [str(b) for b in found]
