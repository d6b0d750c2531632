"""The model's economics, reproducibility and Mesa idioms."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from market_sim.model import GPUMarketModel
from model_helpers import BASELINE, FAST, ROOT_SCENARIOS

SEEDS = (1, 2, 3)
PRICES = ("spot_price_usd@H100", "rental_usd_per_gpu_hour@H100", "list_price_usd@H100")
OTHERS_LEADS = (
    "lead_time_weeks@H100",
    "lead_time_weeks_median@enterprises",
    "lead_time_weeks_median@startups",
)
MORE_META = [
    "agents.meta.fleet_targets[2].h100e=1200000",
    "agents.meta.fleet_targets[3].h100e=2600000",
]


def horizon_means(overrides: list[str], seed: int, scenario=BASELINE) -> pd.Series:
    frame = GPUMarketModel(scenario, seed=seed, overrides=[*FAST, *overrides]).run()
    return frame[list(PRICES + OTHERS_LEADS)].mean()


@pytest.fixture(scope="module")
def base_means() -> dict[int, pd.Series]:
    return {seed: horizon_means([], seed) for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
def test_more_demand_from_one_buyer_never_lowers_prices_or_others_lead_times(seed, base_means):
    more = horizon_means(MORE_META, seed)
    base = base_means[seed]
    for key in PRICES + OTHERS_LEADS:
        assert more[key] >= base[key] - 1e-9, key
    assert more["lead_time_weeks@H100"] > base["lead_time_weeks@H100"]


NO_MAKE_OR_BUY_BOOST = [
    f"agents.{owner}.in_house.boost_per_week=0" for owner in ("meta", "amazon", "google")
]
"""In-house commitment held at its plan: the make-or-buy rule's strain channel shut."""


@pytest.mark.parametrize("seed", SEEDS)
def test_more_cowos_never_raises_prices_or_lead_times(seed):
    """The supply law, with the in-house programs' commitment held at its plan. With it
    free, less strain means less commitment to cheap in-house chips, so the marginal
    lessor's cost per H100e (the rental floor) can rise with supply: Amazon, the marginal
    lessor in 2024, holds more Nvidia and less Trainium. That channel is the claim that
    shortages speed up alternative chips (tests/test_make_or_buy.py), not a price rising
    with supply.

    The rental price gets a stated tolerance: where startups' demand is met (as in these
    small runs) it sits at the marginal lessor's floor, the average price that lessor paid
    per H100e (``own_cost_per_hour``, a historical cost), and more CoWoS moves what
    lessors buy and when. With cal-3676c819b2 the horizon's mean rental rose +0.30% at
    seed 1 and +0.18% at seed 2 (fell 0.12% at seed 3), and still +0.27% and +0.12% with
    every buyer's lead-time sensitivity at 0 (product mix fixed): lessors own more compute
    bought earlier, at 2023's prices. With today's values (cal-8b95cfffe2 and two scanned
    values, 2026-12-02) it rose +0.08% at seed 1 and did not rise at seeds 2-3. docs/ODD.md
    section 9 says so; a floor at replacement cost would remove it.

    The list price is held to the law exactly, and it is the one that fails first: under
    cal-48a99ece57 (a nearby fit, not shipped) it rose +0.15% at seed 2 and +0.07% at seed
    3, through the A100's last cycle in the 2023 surge and buyers' double orders (it fell
    with the A100's end moved to mid-2024, or with padding or phantom cancels at 0). Today
    it falls 0.38-0.40% at seeds 1-3."""
    base = horizon_means(NO_MAKE_OR_BUY_BOOST, seed)
    more = horizon_means(
        [*NO_MAKE_OR_BUY_BOOST, "supply.nodes.tsmc_cowos.capacity_per_month=12000"], seed
    )
    for key in PRICES + OTHERS_LEADS:
        slack = RENTAL_FLOOR_SLACK * base[key] if key == RENTAL else 1e-9
        assert more[key] <= base[key] + slack, key
    assert more["lead_time_weeks@H100"] < base["lead_time_weeks@H100"]
    assert more["spot_price_usd@H100"] < base["spot_price_usd@H100"]


RENTAL = "rental_usd_per_gpu_hour@H100"
RENTAL_FLOOR_SLACK = 0.005
"""How far the horizon's mean rental price may rise with more CoWoS (a share of it): the
lessors' floor is a historical cost (see the test above; measured at most +0.30%, +0.08%
today)."""


@pytest.mark.parametrize("seed", SEEDS)
def test_cowos_outage_raises_lead_times_and_spot_price_while_it_lasts(seed):
    outage = GPUMarketModel(ROOT_SCENARIOS / "cowos_outage.toml", seed=seed, overrides=FAST)
    base = GPUMarketModel(BASELINE, seed=seed, overrides=FAST)
    a, b = outage.run(), base.run()
    start = outage.scenario.week_of(outage.scenario.events[0].at)
    weeks = np.arange(start, start + outage.scenario.events[0].duration_weeks)
    window = a.index[weeks]
    assert (
        a.loc[window, "capacity_per_week@tsmc_cowos"]
        < b.loc[window, "capacity_per_week@tsmc_cowos"]
    ).all()
    lead = "lead_time_weeks@H100"
    assert a.loc[window, lead].mean() > b.loc[window, lead].mean()
    assert (
        a.loc[window, "spot_price_usd@H100"].mean() >= b.loc[window, "spot_price_usd@H100"].mean()
    )
    # before the outage the two runs are the same
    pd.testing.assert_frame_equal(a.iloc[:start], b.iloc[:start])


def test_same_seed_same_frames_different_seed_different():
    over = [*FAST, "simulation.weeks=60"]
    a = GPUMarketModel(BASELINE, seed=5, overrides=over)
    b = GPUMarketModel(BASELINE, seed=5, overrides=over)
    c = GPUMarketModel(BASELINE, seed=6, overrides=over)
    fa, fb, fc = a.run(), b.run(), c.run()
    pd.testing.assert_frame_equal(fa, fb)
    pd.testing.assert_frame_equal(a.agents_frame(), b.agents_frame())
    assert not fa.equals(fc)


def test_default_seed_is_the_scenarios():
    m = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=2"])
    assert m.seed_used == m.scenario.simulation.seed


def test_mesa_idioms():
    m = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=3"])
    roles = {type(a).__name__ for a in m.agents}
    assert {
        "ChipmakerAgent",
        "VendorAgent",
        "HyperscalerAgent",
        "EnterpriseAgent",
        "NeocloudAgent",
        "StartupAgent",
    } <= roles
    assert len(m.agents_by_type[type(m.startup_agents[0])]) == m.startups.n
    m.run()
    frame = m.datacollector.get_model_vars_dataframe()
    assert len(frame) == 3 and "lead_time_weeks@H100" in frame
    # a startup agent reads through to the population's arrays
    s = m.startup_agents[0]
    assert s.cash_usd == m.startups.cash[0] and s.need_h100e == m.startups.need[0]
    # entrants' agents are made when looked at: every public view has all of them, with
    # unique ids in row order whenever they are made
    startup_type = type(s)
    assert m.startups.n > 300  # startups entered during the run
    assert len(m.agents_by_type[startup_type]) == m.startups.n
    assert sum(isinstance(a, startup_type) for a in m.agents) == m.startups.n
    assert startup_type in m.agent_types
    ids = [a.unique_id for a in m.startup_agents]
    assert ids == list(range(ids[0], ids[0] + m.startups.n))
    late = m.startup_agents[-1]
    assert late.cash_usd == m.startups.cash[-1] and late.index == m.startups.n - 1


def test_batch_run_sweeps_dotted_parameters():
    results = mesa.batch_run(
        GPUMarketModel,
        parameters={
            "scenario": str(BASELINE),
            "startups.count": 50,
            "simulation.weeks": 4,
            "policy.allocation": ["priority", "auction"],
        },
        iterations=1,
        max_steps=10,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert sorted(frame["policy.allocation"].unique()) == ["auction", "priority"]
    assert frame["Step"].max() == 3
    assert np.isfinite(frame["lead_time_weeks@H100"]).all()


def test_startup_kernels_equal_the_per_agent_oracle():
    over = [*FAST, "simulation.weeks=50", "startups.count=400", "startups.entry_per_week=10"]
    fast = GPUMarketModel(BASELINE, seed=11, overrides=over, startup_mode="kernel")
    slow = GPUMarketModel(BASELINE, seed=11, overrides=over, startup_mode="agents")
    pd.testing.assert_frame_equal(fast.run(), slow.run())
    for name, col in fast.startups.cols.items():
        np.testing.assert_array_equal(
            col[: fast.startups.n], slow.startups.cols[name][: slow.startups.n], err_msg=name
        )
    for name in ("live", "visit", "live_pos"):  # entrants' rows: kernel and numpy alike
        np.testing.assert_array_equal(
            getattr(fast.startups, name), getattr(slow.startups, name), err_msg=name
        )


def test_export_controls_cut_chinese_buyers_off():
    over = [*FAST, "simulation.weeks=80"]
    m = GPUMarketModel(ROOT_SCENARIOS / "export_controls.toml", overrides=over)
    frame = m.run()
    h100 = m.world.product_index("H100")
    cn = [h.holder for h in m.holders if h.spec.region == "cn"]
    assert not m.allowed[cn, h100].any()
    week = m.scenario.week_of(m.scenario.events[0].at)
    after = frame.iloc[week + 1 :]
    cn_ids = [m.world.holder_ids[h] for h in cn]
    # Chinese buyers' H100 orders are gone: nothing of them is open any more
    book = m.book
    assert not ((book.product == h100) & np.isin(book.holder, cn)).any()
    assert after[[f"installed_h100e@{c}" for c in cn_ids]].notna().all().all()


def test_meta_bulk_buy_lengthens_queues_and_concentrates_compute():
    """The bulk buy against its counterfactual, 2024: a standard order waits longer, no
    fewer startups starve, the top five hold more of the compute."""
    base = GPUMarketModel(BASELINE, overrides=FAST).run()
    calm = GPUMarketModel(ROOT_SCENARIOS / "no_meta_surge.toml", overrides=FAST).run()
    y2024 = (base["date"] >= "2024-01-01") & (base["date"] < "2025-01-01")
    for key in ("lead_time_weeks@H100", "compute_share_pct@top5"):
        assert base.loc[y2024, key].mean() > calm.loc[y2024, key].mean(), key
    starved = "startups_starved"
    assert base.loc[y2024, starved].mean() >= calm.loc[y2024, starved].mean()
    meta = "installed_h100e@meta"
    assert base.loc[y2024, meta].iloc[-1] > calm.loc[y2024, meta].iloc[-1]
