"""The model as a Mesa user expects it: a default scenario, mesa.batch_run with
iterations, agent data through the DataCollector, and a state declared at construction."""

from __future__ import annotations

import os
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from market_sim.model import GPUMarketModel
from market_sim.model.inputs import PACKAGED_BASELINE

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"simulation.weeks": 8, "startups.count": 200, "startups.entry_per_week": 5}


def test_default_scenario_is_the_packaged_baseline_from_any_folder(tmp_path):
    assert PACKAGED_BASELINE.read_bytes() == (ROOT / "scenarios" / "baseline.toml").read_bytes()
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        model = GPUMarketModel(**SMALL)
    finally:
        os.chdir(here)
    assert model.scenario.simulation.name == "baseline"
    assert model.seed_used == model.scenario.simulation.seed


def test_batch_run_iterations_are_different_and_reproducible():
    def run() -> pd.DataFrame:
        rows = mesa.batch_run(
            GPUMarketModel,
            parameters=SMALL,
            iterations=3,
            max_steps=100,
            display_progress=False,
        )
        # one row per firm and iteration (the model's outcomes repeated on each)
        return pd.DataFrame(rows).groupby("iteration").first()

    first, again = run(), run()
    values = first["startups_entered"]
    assert values.nunique() == 3, values  # each iteration draws its own startups
    pd.testing.assert_frame_equal(first, again)
    # iteration 0 is the plain run (the scenario's seed)
    plain = GPUMarketModel(**SMALL)
    plain.run()
    assert values.loc[0] == plain.timeseries()["startups_entered"].iloc[-1]


def test_batch_run_reports_the_firms_records():
    rows = pd.DataFrame(
        mesa.batch_run(GPUMarketModel, parameters=SMALL, iterations=1, display_progress=False)
    )
    firms = rows.dropna(subset=["AgentID"])
    assert {"meta", "nvidia", "tsmc_cowos"} <= set(firms["AgentID"])
    assert firms.loc[firms["AgentID"] == "meta", "installed_h100e"].iloc[0] > 0


def test_agent_vars_dataframe_matches_agents_frame():
    model = GPUMarketModel(**SMALL)
    model.run()
    wide = model.datacollector.get_agent_vars_dataframe()
    assert list(wide.index.names) == ["Step", "AgentID"]
    assert len(wide) == 8 * (len(model.holders) + len(model.vendors) + len(model.chipmakers))
    tidy = model.agents_frame()
    row = tidy[(tidy.week == 7) & (tidy.agent_id == "meta") & (tidy.variable == "installed_h100e")]
    assert wide.loc[(7, "meta"), "installed_h100e"] == row["value"].iloc[0]
    assert wide.loc[(7, "meta"), "role"] == "hyperscaler"
    assert np.isnan(wide.loc[(7, "meta"), "revenue_usd"])  # a vendor's variable


def test_no_state_appears_after_construction():
    """Every attribute of the model exists once it is built: the phases of a week change
    declared state, they never create any."""
    model = GPUMarketModel(**SMALL)
    firms = [*model.vendors, *model.holders, *model.chipmakers]
    before = set(vars(model))
    before_firms = [set(vars(a)) for a in firms]
    for _ in range(8):
        model.step()
    assert set(vars(model)) == before
    for agent, names in zip(firms, before_firms, strict=True):
        assert set(vars(agent)) == names, type(agent).__name__
