"""The buyers' kernels (market_sim.agents.fleet_kernel, run by
market_sim.agents.fleet.FleetBatch and RentalAsks) against their oracle, the buyers' own
methods (``FleetBuyer.decide`` through ``Trading.place_orders_reference``,
``FleetBuyer.gray_orders`` through ``Trading._gray_orders_reference``, each holder's
``rental_ask`` through ``Trading._rental_orders_reference``): bit for bit, over the
golden runs and on perturbed buyers (expectations, give-ups, rules, budgets, what they
paid)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest
from golden import CASES
from hypothesis import given, settings
from hypothesis import strategies as st

import market_sim.model.trading as trading_module
from market_sim.model import GPUMarketModel
from market_sim.model.trading import DOUBLE_AUCTIONS, Trading


def _run(case, weeks: int, reference: bool, monkeypatch) -> tuple[pd.DataFrame, GPUMarketModel]:
    model = GPUMarketModel(case.scenario, seed=case.seed, overrides=list(case.overrides))
    if reference:  # every week's firm, gray and rental orders by the buyers' own methods
        model.trading.place_orders = model.trading.place_orders_reference
        gray, rental = DOUBLE_AUCTIONS
        gray = dataclasses.replace(gray, orders=Trading._gray_orders_reference)
        rental = dataclasses.replace(rental, orders=Trading._rental_orders_reference)
        monkeypatch.setattr(trading_module, "DOUBLE_AUCTIONS", (gray, rental))
    for _ in range(weeks):
        model.step()
    monkeypatch.undo()
    return model.timeseries(), model


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fleet_kernels_equal_the_buyers_methods(case, monkeypatch) -> None:
    """Two runs, one with the kernels and one with the buyers' methods: every outcome,
    firm record and buyer state the same, bit for bit."""
    weeks = 120
    kernel, k_model = _run(case, weeks, reference=False, monkeypatch=monkeypatch)
    oracle, o_model = _run(case, weeks, reference=True, monkeypatch=monkeypatch)
    pd.testing.assert_frame_equal(kernel, oracle, check_exact=True)
    pd.testing.assert_frame_equal(k_model.agents_frame(), o_model.agents_frame(), check_exact=True)
    for name in ("expected_lead", "given_up_h100e", "paid_usd_total", "received_h100e_total"):
        np.testing.assert_array_equal(
            getattr(k_model.buyer_state, name), getattr(o_model.buyer_state, name)
        )
    np.testing.assert_array_equal(k_model.book.qty, o_model.book.qty)
    np.testing.assert_array_equal(k_model.holdings.fleet, o_model.holdings.fleet)


@pytest.fixture(scope="module")
def steady_model() -> bytes:
    """A small baseline model at week 60, pickled (each example loads its own copies)."""
    model = GPUMarketModel("scenarios/baseline.toml", overrides=["startups.count=200"], seed=2)
    for _ in range(60):
        model.step()
    return pickle.dumps(model)


def _perturb(model: GPUMarketModel, seed: int) -> None:
    """Random expectations, give-ups, ordering rules and spending for every fleet buyer."""
    rng = np.random.default_rng(seed)
    year = model.year_of(model.week)
    for b in model.trading.fleet_buyers:
        b.expected_lead = float(rng.choice([rng.uniform(0.0, 80.0), b.expected_lead]))
        b.given_up_h100e = float(rng.uniform(-0.5, 0.5) * b.desired[model.week])
        b.ordering = b.ordering.model_copy(
            update={
                "give_up_weeks": rng.choice([None, 20, 3.5]),
                "give_up_return_weeks": rng.choice([None, 10]),
                "phantom_cancel": float(rng.choice([0.0, 0.5, 1.0])),
                "padding": float(rng.choice([0.0, 0.3, 2.0])),
                "max_cancel_fraction": float(rng.uniform(0.0, 1.0)),
                "supply_line_weight": float(rng.uniform(0.0, 1.0)),
                "lead_time_smoothing_weeks": float(rng.choice([1.0, 4.0, 26.0])),
            }
        )
        if rng.random() < 0.3:  # nothing bought yet: the rental floor at the list price
            b.paid_usd_total, b.received_h100e_total = 0.0, 0.0
        if rng.random() < 0.5:  # spent (or not) some of this year's budget
            budget = b.year_budget_usd(year)
            spent = rng.uniform(0.0, 1.2) * (budget if np.isfinite(budget) else 1e10)
            b.paid_by_year[year] = float(spent)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_batch_decisions_equal_each_buyers_decide(steady_model, seed) -> None:
    """The week's firm orders, cancellations and buyer states from the kernel and from
    each buyer's ``decide``, on buyers in random states with random rules."""
    k_model, o_model = pickle.loads(steady_model), pickle.loads(steady_model)
    for model in (k_model, o_model):
        _perturb(model, seed)
    week = k_model.week
    k_new = k_model.trading.place_orders(week)
    o_new = o_model.trading.place_orders_reference(week)
    np.testing.assert_array_equal(k_new, o_new)
    for name in ("product", "holder", "startup", "klass", "qty", "limit_price", "priority"):
        np.testing.assert_array_equal(getattr(k_model.book, name), getattr(o_model.book, name))
    for name in ("expected_lead", "given_up_h100e"):
        np.testing.assert_array_equal(
            getattr(k_model.buyer_state, name), getattr(o_model.buyer_state, name)
        )
    np.testing.assert_array_equal(
        k_model.holdings.cancelled_h100e, o_model.holdings.cancelled_h100e
    )
    # and the gray market's orders on the buyers' new state
    got, want = k_model.trading._gray_orders(week), o_model.trading._gray_orders_reference(week)
    for side_got, side_want in zip(got, want, strict=True):
        for a, b in zip(side_got, side_want, strict=True):
            np.testing.assert_array_equal(a, b)
    # and every holder's rental ask
    got, want = k_model.trading._rental_orders(week), o_model.trading._rental_orders_reference(week)
    for a, b in zip(got[1], want[1], strict=True):
        np.testing.assert_array_equal(a, b)
    k_model.close()
    o_model.close()
