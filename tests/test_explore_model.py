"""The explorer's model and controls, without a browser: controls become scenario
overrides, a live model steps, a run folder replays week by week, a bad source is a
one-line problem on the page (never an exception)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the explorer needs the viz extra: pip install -e .[viz]")

from market_sim.explore.charts import LIVE_CHARTS, draw_chart, draw_supply
from market_sim.explore.controls import controls_for, overrides_of
from market_sim.explore.model import ExplorerModel
from market_sim.report.sections import SECTIONS, Names
from market_sim.runs.folder import execute, write_run
from market_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = ["simulation.weeks=6"]


def test_controls_map_to_scenario_overrides() -> None:
    s = load_scenario(BASELINE)
    controls = {c.name: c for c in controls_for(s)}
    assert set(controls) == {
        "meta_targets", "allocation", "cowos_capacity", "startup_funding_musd",
        "startup_entry", "supply_line_weight", "stock_adjust_weeks",
    }  # fmt: skip
    assert overrides_of(list(controls.values()), {}) == []  # defaults change nothing
    sets = overrides_of(list(controls.values()), {"meta_targets": 2.0, "allocation": "auction"})
    assert "agents.meta.fleet_targets[2].h100e=1200000" in sets
    assert "policy.allocation=auction" in sets
    cowos = controls["cowos_capacity"].overrides(0.5)
    assert "supply.nodes.tsmc_cowos.capacity_per_month=4000.0" in cowos
    assert any(o.startswith("supply.nodes.tsmc_cowos.schedule[") for o in cowos)
    # every override is one the scenario accepts
    load_scenario(BASELINE, [*sets, *cowos, *controls["startup_funding_musd"].overrides(5.0)])


def test_live_model_steps_with_control_values() -> None:
    m = ExplorerModel(str(BASELINE), seed="3", fixed=SHORT, supply_line_weight=0.5)
    assert (
        m.problem == ""
        and m.weeks == 6
        and m.overrides == ["policy.ordering.supply_line_weight=0.5"]
    )
    for _ in range(4):
        m.step()
    assert m.week == 4 and len(m.frame()) == 4 and m.running
    assert m.live is not None and m.live.scenario.policy.ordering.supply_line_weight == 0.5
    names = Names.of(m.scenario)
    charts = {c.id: c for s in SECTIONS for c in s.charts}
    for chart_id in LIVE_CHARTS:
        assert draw_chart(charts[chart_id], m.frame(), names).axes
    assert draw_supply(m.supply_summary()).axes
    for _ in range(5):
        m.step()
    assert m.week == 6 and not m.running


def test_run_folder_replays_week_by_week(tmp_path: Path) -> None:
    run = execute(BASELINE, overrides=SHORT)
    folder = write_run(run, tmp_path / "run")
    m = ExplorerModel(str(folder))
    assert m.replay and m.problem == "" and m.weeks == 6 and len(m.frame()) == 0
    m.step()
    m.step()
    assert m.frame()["week"].tolist() == [0, 1]
    assert m.supply_summary() == run.supply
    assert "Replaying run folder" in m.describe()


@pytest.mark.parametrize(
    ("source", "seed", "needle"),
    [("nowhere.toml", "", "nowhere.toml"), (str(BASELINE), "x1", "seed: 'x1'")],
)
def test_bad_source_or_seed_is_a_line_on_the_page(source: str, seed: str, needle: str) -> None:
    m = ExplorerModel(source, seed=seed)
    assert needle in m.problem and "\n" not in m.problem and not m.running
    m.step()  # a no-op
    assert m.week == 0 and m.frame().empty
