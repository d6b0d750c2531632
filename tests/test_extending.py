"""The recipes of docs/extending.md work: a policy registered from outside the package
is validated by the schema, cleared by the numba kernels (and their reference), quoted,
and runs a scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from market_sim import market
from market_sim.market import policies
from market_sim.market import reference as ref
from market_sim.scenario import ScenarioError, load_scenario
from model_helpers import run_checked

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"


@pytest.fixture
def tiered():
    """A test-only policy: higher tiers first, pro rata within a tier whatever the week."""
    policy = policies.register_policy(
        "tiered", (("priority", True),), "higher tier first; pro rata within a tier"
    )
    try:
        yield policy
    finally:
        policies.unregister_policy("tiered")


def test_unknown_policy_is_refused_until_registered(tiered):
    assert "tiered" in policies.POLICIES
    s = load_scenario(TINY, ["policy.allocation=tiered"])
    assert s.policy.allocation == "tiered"
    policies.unregister_policy("tiered")
    try:
        with pytest.raises(ScenarioError, match="'tiered' is not allowed"):
            load_scenario(TINY, ["policy.allocation=tiered"])
    finally:
        policies.register_policy("tiered", (("priority", True),), "again")


def test_kernels_and_reference_agree_on_the_new_policy(tiered):
    qty = np.array([10.0, 10.0, 10.0, 10.0])
    limit = np.full(4, 100.0)
    priority = np.array([2, 1, 2, 1])
    week = np.array([5, 0, 1, 3])  # a week order would change fifo-within-tier, not this
    fills, price = market.allocate(25.0, qty, limit, priority, week, 50.0, "tiered")
    expect, _ = ref.allocate(25.0, qty, limit, priority, week, 50.0, "tiered")
    np.testing.assert_allclose(fills, expect)
    np.testing.assert_allclose(fills, [10.0, 2.5, 10.0, 2.5])  # tier 2 in full, tier 1 halves
    assert price == 50.0
    queue = market.queue_ahead(qty - fills, limit, priority, week, 50.0, "tiered")
    np.testing.assert_allclose(
        queue, ref.queue_ahead(qty - fills, limit, priority, week, 50.0, "tiered")
    )
    # under priority the older tier-1 order would be served first
    prio, _ = market.allocate(25.0, qty, limit, priority, week, 50.0, "priority")
    assert prio[1] == 5.0 and prio[3] == 0.0


def test_a_scenario_runs_under_the_new_policy(tiered):
    overrides = ["policy.allocation=tiered", "simulation.weeks=30"]
    model, frame = run_checked(TINY, overrides)  # units and money balance every week
    assert model.world.policy_codes.tolist() == [tiered.code] * len(model.world.products)
    assert frame["deliveries_units"].sum() > 0
    _, prio = run_checked(TINY, ["policy.allocation=priority", "simulation.weeks=30"])
    assert not np.allclose(frame["deliveries_units@bigco"], prio["deliveries_units@bigco"]) or (
        not np.allclose(frame["lead_time_weeks_median@hyperscalers"],
                        prio["lead_time_weeks_median@hyperscalers"])
    )  # fmt: skip
