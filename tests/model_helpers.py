"""Helpers shared by the model tests: invariant checks and small runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from market_sim.model import GPUMarketModel

ROOT_SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios"
BASELINE = ROOT_SCENARIOS / "baseline.toml"
FAST = ["startups.count=300", "startups.entry_per_week=5"]
"""Overrides that keep a baseline run quick but keep every mechanism at work."""


def assert_balanced(model: GPUMarketModel) -> None:
    """Units and money are conserved; no negative stock, backlog or price (this week)."""
    u = model.accounts.unit_balance()
    made = u["primed"] + u["started"]
    accounted = u["delivered"] + u["inventory"] + u["pipeline"]
    assert np.isclose(made, accounted, rtol=1e-9, atol=1e-6), u
    held = u["held_by_firms"] + u["held_by_startups"]
    assert np.isclose(u["delivered"], held, rtol=1e-9, atol=1e-6), u
    assert np.isclose(u["legacy_h100e"], u["initial_legacy_h100e"], rtol=1e-9, atol=1e-6), u
    m = model.accounts.money_balance()
    assert np.isclose(m["primary_paid"], m["vendor_sales"], rtol=1e-9, atol=1e-3), m
    assert np.isclose(m["gray_paid"], m["gray_received"], rtol=1e-9, atol=1e-3), m
    assert np.isclose(m["rental_paid"], m["rental_received"], rtol=1e-9, atol=1e-3), m
    assert (model.fleet >= -1e-9).all() and (model.legacy_h100e >= -1e-6).all()
    assert (model.book.qty >= 0).all()
    assert (model.list_price > 0).all() and model.spot_price > 0 and model.rental_price > 0
    for v in model.vendors:
        assert all(v.inventory[p] >= -1e-9 for p in v.products)
        assert all((p >= -1e-9).all() for p in v.pipeline.values())
    pop = model.startups
    assert (pop.cash[pop.status == 1] > 0).all()
    assert (pop.owned >= -1e-9).all() and (pop.on_order >= -1e-9).all()


def run_checked(scenario, overrides=(), seed=None) -> tuple[GPUMarketModel, pd.DataFrame]:
    """Run to the end, checking the balances every week; return model and frame."""
    model = GPUMarketModel(scenario, seed=seed, overrides=list(overrides))
    while model.running:
        model.step()
        assert_balanced(model)
    return model, model.timeseries()


def assert_clean_frame(frame: pd.DataFrame) -> None:
    """No NaN or infinity anywhere; nothing negative but where a sign is meaningful."""
    numbers = frame.drop(columns=["date"]).to_numpy(dtype=float)
    assert np.isfinite(numbers).all(), [
        c for c in frame if c != "date" and not np.isfinite(frame[c].to_numpy(dtype=float)).all()
    ]
    # signed by nature: the gray market may trade below list; a week of small sales with
    # fixed costs of goods is a loss
    signed = {"spot_premium_pct", "nvidia_gross_margin_pct"}
    cols = [
        c
        for c in frame.columns
        if c not in ("date", *signed) and not c.startswith("gross_margin_pct@")
    ]
    negative = [c for c in cols if (frame[c].to_numpy(dtype=float) < -1e-9).any()]
    assert not negative, negative
