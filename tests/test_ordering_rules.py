"""The buyers' rules added so the shortage can ease (issue 11): geometric target paths,
followers tied to the named buyers, double orders cancelled as quotes shorten, giving
up a shortfall, the gray bid's value of waiting, and yield learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.agents.buyers import target_path
from market_sim.model import GPUMarketModel
from market_sim.scenario import load_scenario
from model_helpers import BASELINE, FAST

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny.toml"


def _tiny(*overrides: str):
    return load_scenario(TINY, list(overrides))


def test_geometric_paths_pass_through_the_targets_at_a_constant_rate():
    s = _tiny(
        'policy.ordering.target_path="geometric"',
        "agents.bigco.fleet_targets=[{date=2024-07-01,h100e=4000},{date=2024-12-30,h100e=6000}]",
    )
    spec = next(a for a in s.agents if a.id == "bigco")
    path = target_path(spec, s, s.simulation.weeks)
    w1 = s.week_of(spec.fleet_targets[0].date)
    assert path[0] == pytest.approx(1000) and path[w1] == pytest.approx(4000)
    ratios = path[1 : w1 + 1] / path[:w1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)  # constant growth rate
    linear = target_path(spec, _tiny(), s.simulation.weeks)  # same targets, linear default
    assert linear[w1] == pytest.approx(4000) and (path[1:w1] < linear[1:w1]).all()


@settings(max_examples=15, deadline=None)
@given(share=st.floats(0.01, 2.0))
def test_a_follower_grows_by_its_share_of_the_named_buyers(share):
    model = GPUMarketModel(BASELINE, overrides=[*FAST, f"agents.other_buyers.follow_share={share}"])
    w = model.world
    ids = list(w.holder_ids)
    follower = ids.index("other_buyers")
    named = [
        h
        for h, spec in enumerate(w.holder_specs)
        if hasattr(spec, "fleet_targets") and spec.follow_share is None and not spec.aggregate
    ]
    growth = np.diff(model.desired_path, axis=1)
    np.testing.assert_allclose(
        growth[follower], share * growth[named].sum(axis=0), rtol=1e-9, atol=1e-6
    )


def test_a_follower_may_not_also_have_targets():
    from market_sim.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="follow_share"):
        load_scenario(
            BASELINE,
            ["agents.other_buyers.fleet_targets=[{date=2024-12-30,h100e=9000000}]"],
        )


def _buyer_with_orders(*overrides: str):
    """A baseline model stepped into the 2023 shortage, and a fleet buyer with open orders."""
    model = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=60", *overrides])
    for _ in range(40):
        model.step()
    buyer = next(b for b in model.fleet_buyers() if b.open_orders_h100e() > 1000)
    return model, buyer


def test_double_orders_are_cancelled_while_quotes_shorten():
    model, _ = _buyer_with_orders(
        "policy.ordering.phantom_cancel=0.5", "policy.ordering.max_cancel_fraction=1.0"
    )
    week = model.week

    def phantom(b) -> float:
        need = max(0.0, b.desired[week + 1] - b.desired[week])
        gap = max(0.0, b.wanted(week) - b.installed_h100e)
        return b.open_orders_h100e() - need * b.expected_quote() - gap

    buyer = max(model.fleet_buyers(), key=lambda b: b.open_orders_h100e())
    buyer.desired[week + 1 :] = buyer.desired[week]  # its plans stop growing
    buyer.given_up_h100e = buyer.desired[week] - buyer.installed_h100e  # no fleet gap left
    excess = phantom(buyer)
    assert excess > 0, "set-up: a buyer holds more than the quote needs"
    buyer.expected_lead = buyer.expected_quote() + 30.0  # it expected longer waits
    line = buyer.open_orders_h100e()
    assert buyer.decide(week) == []  # orders nothing
    assert buyer.open_orders_h100e() == pytest.approx(line - 0.5 * excess, rel=1e-6)


def test_no_double_order_cancelled_while_quotes_lengthen():
    model, buyer = _buyer_with_orders("policy.ordering.phantom_cancel=0.5")
    week = model.week
    buyer.expected_lead = 0.5 * buyer.expected_quote()  # quotes above expectations
    before = model.holdings.cancelled_h100e[buyer.holder]
    buyer.decide(week)
    indicated_cancels = model.holdings.cancelled_h100e[buyer.holder] - before
    # only the supply-line rule may cancel (it does not here: the buyer is short)
    assert indicated_cancels == 0.0


def test_a_shortfall_is_given_up_at_the_stated_rate():
    # a shortfall is given up only while waits are long: the buyer is made to expect one
    # (and to learn slowly from this week's quote), since whether the buyer the set-up
    # picks still waits long in week 40 depends on the calibration
    model, _ = _buyer_with_orders(
        "policy.ordering.give_up_weeks=20", "policy.ordering.lead_time_smoothing_weeks=1000"
    )
    week = model.week
    buyer = max(model.fleet_buyers(), key=lambda b: b.wanted(week) - b.installed_h100e)
    buyer.expected_lead = model.scenario.policy.ordering.normal_lead_weeks + 10.0
    gap = buyer.wanted(week) - buyer.installed_h100e
    assert gap > 0, "set-up: a buyer short of its plan"
    before = buyer.given_up_h100e
    buyer.decide(week)
    assert buyer.given_up_h100e - before == pytest.approx(gap / 20)
    assert buyer.wanted(week) == pytest.approx(buyer.desired[week] - buyer.given_up_h100e)


@pytest.mark.parametrize("share", [0.0, 0.4, 1.0])
def test_the_gray_bid_values_a_share_of_the_wait(share):
    model, _ = _buyer_with_orders(f"economics.gray_wait_value_share={share}")
    week = model.week
    buyer = max(model.fleet_buyers(), key=lambda b: b.wanted(week) - b.installed_h100e)
    gap = buyer.wanted(week) - buyer.installed_h100e
    buyer.given_up_h100e -= max(0.0, -gap) + 1000.0  # behind plan by 1,000 H100e at least
    econ = model.scenario.economics
    price, qty = buyer.gray_bid(week)
    assert qty > 0
    wait = model.rental_price * econ.hours_per_week * buyer.expected_lead
    expected = min(
        buyer.spec.max_price_per_h100e_usd, model.reference_price_per_h100e() + share * wait
    )
    assert price == pytest.approx(expected)


def test_yield_learning_lowers_inputs_per_unit_and_raises_output():
    learning = "[{date=2024-07-01,yield=0.9}]"
    base = [
        "products.G1.bom.packaging.yield=0.45",
        "agents.bigco.fleet_targets=[{date=2024-12-30,h100e=200000}]",  # packaging binds
    ]
    plain = GPUMarketModel(TINY, overrides=base)
    learn = GPUMarketModel(
        TINY, overrides=[*base, f"products.G1.bom.packaging.yield_schedule={learning}"]
    )
    scale = learn.world.products.stage_scale[0]
    names = [name for name, _, _ in learn.scenario.products[0].bom.stages()]
    pack = scale[names.index("packaging")]
    assert pack[0] == pytest.approx(1.0)
    w = learn.scenario.week_of(learn.scenario.products[0].bom.packaging.yield_schedule[0].date)
    assert pack[w] == pytest.approx(0.5) and pack[-1] == pytest.approx(0.5)
    assert np.all(np.diff(pack[: w + 1]) <= 1e-12)  # inputs per unit fall as yield climbs
    assert scale[names.index("logic")] is None
    a, b = plain.run(), learn.run()
    assert (a["utilisation_pct@pack"] > 99).all()
    # the same packaging capacity makes more
    assert b["output_units@G1"].sum() > a["output_units@G1"].sum() * 1.2


def _most_behind(model):
    """The fleet buyer furthest behind its plan, with nothing given up yet."""
    for b in model.fleet_buyers():
        b.given_up_h100e = 0.0
    return max(model.fleet_buyers(), key=lambda b: b.wanted(model.week) - b.installed_h100e)


def test_with_a_return_rule_a_shortfall_is_given_up_only_while_waits_are_long():
    model, buyer = _buyer_with_orders(
        "policy.ordering.give_up_weeks=20",
        "policy.ordering.give_up_return_weeks=10",
        "policy.ordering.lead_time_smoothing_weeks=2600",  # the buyer's expectation holds still
    )
    week, normal = model.week, buyer.ordering.normal_lead_weeks
    buyer = _most_behind(model)
    gap = buyer.wanted(week) - buyer.installed_h100e
    assert gap > 0, "set-up: a buyer behind its plan in the 2023 shortage"
    buyer.expected_lead = normal + 10.0  # long waits: it gives up as before
    buyer.decide(week)
    assert buyer.given_up_h100e == pytest.approx(gap / 20, rel=1e-6)


def test_with_a_return_rule_given_up_compute_comes_back_while_waits_are_normal():
    model, buyer = _buyer_with_orders(
        "policy.ordering.give_up_weeks=20",
        "policy.ordering.give_up_return_weeks=10",
        "policy.ordering.lead_time_smoothing_weeks=2600",
    )
    week = model.week
    buyer.given_up_h100e = 5000.0
    buyer.expected_lead = 0.5 * buyer.ordering.normal_lead_weeks  # short waits
    buyer.decide(week)
    assert buyer.given_up_h100e == pytest.approx(5000.0 * (1 - 1 / 10), rel=1e-6)
    assert buyer.wanted(week) == pytest.approx(buyer.desired[week] - 4500.0)


def test_without_a_return_rule_a_shortfall_is_given_up_at_any_wait_for_good():
    model, buyer = _buyer_with_orders(
        "policy.ordering.give_up_weeks=20",
        "policy.ordering.lead_time_smoothing_weeks=2600",
    )
    week = model.week
    buyer = _most_behind(model)
    buyer.ordering = buyer.ordering.model_copy(update={"give_up_return_weeks": None})
    gap = buyer.wanted(week) - buyer.installed_h100e
    buyer.expected_lead = 0.5 * buyer.ordering.normal_lead_weeks
    buyer.decide(week)
    assert gap > 0 and buyer.given_up_h100e == pytest.approx(gap / 20, rel=1e-6)


@pytest.mark.parametrize("share", [0.3, 0.5, 1.0])
def test_production_in_flight_at_the_start_is_a_share_of_week_0_demand(share):
    """``policy.initial_pipeline_share`` scales the week-0 start rates: exactly where the
    capacity does not bind (TPU in the baseline), never above the full-demand rate nor
    below ``share`` of it where it does (Nvidia's products)."""
    over = [*FAST, 'policy.initial_pipeline="demand"']
    model = GPUMarketModel(BASELINE, overrides=[*over, "policy.initial_pipeline_share=1"])
    full = model.supply.initial_start_rates()[0]
    part = GPUMarketModel(
        BASELINE, overrides=[*over, f"policy.initial_pipeline_share={share}"]
    ).supply.initial_start_rates()[0]
    tpu = list(model.world.products.ids).index("TPU")
    assert full[tpu] > 0
    assert part[tpu] == pytest.approx(share * full[tpu], rel=1e-9)
    assert (part <= full * (1 + 1e-9)).all() and (part >= share * full * (1 - 1e-9)).all()
