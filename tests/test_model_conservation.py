"""Conservation of units and money, clean outputs: every scenario, random perturbations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_helpers import BASELINE, FAST, ROOT_SCENARIOS, assert_clean_frame, run_checked

SCENARIO_FILES = sorted(
    p
    for p in ROOT_SCENARIOS.glob("*.toml")
    if p.name != "claims.toml" and not p.name.endswith(".ensemble.toml")
)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: Path(p).stem)
def test_every_scenario_conserves_units_and_money(path):
    model, frame = run_checked(path, FAST)
    assert len(frame) == model.world.weeks
    assert_clean_frame(frame)
    assert frame["deliveries_units"].sum() > 0


def test_tiny_scenario_conserves(tiny_path):
    _, frame = run_checked(tiny_path)
    assert_clean_frame(frame)


perturbation = st.fixed_dictionaries(
    {
        "cowos": st.floats(0.2, 3.0),
        "demand": st.floats(0.3, 3.0),
        "meta": st.floats(0.5, 4.0),
        "startups": st.integers(0, 400),
        "policy": st.sampled_from(["priority", "pro_rata", "fifo", "auction"]),
        "weight": st.floats(0.0, 1.0),
        "value": st.floats(0.5, 20.0),
        "opex": st.floats(0.0, 3.0),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbation, st.integers(0, 2**16))
def test_random_perturbations_of_the_baseline_conserve(p, seed):
    overrides = [
        "simulation.weeks=70",
        f"startups.count={p['startups']}",
        "startups.entry_per_week=3",
        f"startups.value_usd_per_gpu_hour={p['value']}",
        f"supply.nodes.tsmc_cowos.capacity_per_month={8000 * p['cowos']}",
        f"agents.meta.fleet_targets[2].h100e={600000 * p['meta']}",
        f"agents.other_buyers.follow_share={0.7 * p['demand']}",
        f"policy.allocation={p['policy']}",
        f"policy.ordering.supply_line_weight={p['weight']}",
        f"economics.opex_usd_per_gpu_hour={p['opex']}",
    ]
    _, frame = run_checked(BASELINE, overrides, seed=seed)
    assert_clean_frame(frame)


@pytest.mark.parametrize(
    "overrides",
    [
        # zero supply: all CoWoS lost from the start (every product but MTIA needs it)
        [
            "simulation.weeks=40",
            'events=[{at=0, kind="capacity_outage", target="tsmc_cowos", magnitude=1.0}]',
        ],
        # huge demand
        ["simulation.weeks=40", "agents.meta.fleet_targets[1].h100e=1e9"],
        # one buyer
        ["simulation.weeks=40", "startups.count=0", "startups.entry_per_week=0"],
    ],
    ids=["zero-supply", "huge-demand", "few-buyers"],
)
def test_extreme_but_valid_parameters_stay_finite(overrides):
    model, frame = run_checked(BASELINE, [*FAST, *overrides])
    assert_clean_frame(frame)
    assert (frame["lead_time_weeks@H100"] <= model.scenario.policy.max_lead_weeks).all()
