"""Loading scenarios: extends (deep merge, by id), --set overrides typed by the schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from market_sim.scenario import ScenarioError, load_scenario, scenario_from_dict
from market_sim.scenario.loader import resolve

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_baseline_is_valid(baseline_path):
    s = load_scenario(baseline_path)
    assert s.simulation.weeks == 156
    assert s.simulation.start_date == dt.date(2023, 1, 2)
    ids = {p.id for p in s.products}
    assert {"A100", "H100", "H200", "B200", "H20", "MI300X", "TPU", "Trainium", "MTIA"} <= ids
    agents = {a.id: a.role for a in s.agents}
    for hyperscaler in (
        "meta",
        "microsoft",
        "google",
        "amazon",
        "oracle",
        "bytedance",
        "tencent",
        "baidu",
        "alibaba",
    ):
        assert agents[hyperscaler] == "hyperscaler"
    assert agents["coreweave"] == agents["lambda"] == "neocloud"
    for vendor in ("nvidia", "amd", "google_tpu", "amazon_trainium", "meta_mtia"):
        assert agents[vendor] == "vendor"
    assert s.startups.count > 0


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in SCENARIOS.glob("*.toml")
        if p.name != "claims.toml" and not p.name.endswith(".ensemble.toml")
    ),
    ids=lambda p: p.name,
)
def test_every_shipped_scenario_is_valid(path):
    load_scenario(path)


def test_extends_merges_tables_and_ids(tmp_path, tiny_path):
    child = write(
        tmp_path,
        "child.toml",
        f"""
extends = "{tiny_path}"
[simulation]
name = "child"
[[agents]]
id = "bigco"
rent_out_share = 0.3
[[agents]]
role = "neocloud"
id = "newcloud"
[[supply.edges]]
from = "mem"
to = "pack"
transit_weeks = 5
""",
    )
    s = load_scenario(child)
    assert s.simulation.name == "child"
    assert s.simulation.weeks == 52  # inherited
    bigco = s.agent("bigco")
    assert bigco.rent_out_share == 0.3
    assert bigco.initial_fleet_h100e == 1000  # inherited key of the same element
    assert [a.id for a in s.agents] == ["acme", "bigco", "cloudy", "newcloud"]
    edges = {(e.from_, e.to): e for e in s.supply.edges}
    assert len(edges) == 3 and edges["mem", "pack"].transit_weeks == 5
    assert edges["mem", "pack"].flow == "hbm_stacks"


def test_extends_replaces_plain_arrays(tmp_path, tiny_path):
    child = write(
        tmp_path,
        "c.toml",
        f"""
extends = "{tiny_path}"
[[supply.nodes]]
id = "pack"
schedule = [{{ date = 2024-03-04, capacity_per_week = 150 }}]
""",
    )
    node = load_scenario(child).node("pack")
    assert [p.date for p in node.schedule] == [dt.date(2024, 3, 4)]


def test_extends_chain_is_relative_to_each_file(tmp_path, tiny_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "mid.toml", f'extends = "{tiny_path}"\n[simulation]\nweeks = 30\n')
    leaf = write(tmp_path / "sub", "leaf.toml", 'extends = "../mid.toml"\n[simulation]\nseed = 3\n')
    s = load_scenario(leaf)
    assert (s.simulation.weeks, s.simulation.seed, s.simulation.name) == (30, 3, "tiny")


def test_set_overrides_are_typed_by_the_schema(tiny_path):
    s = load_scenario(
        tiny_path,
        [
            "simulation.name=123",  # a text field keeps the text
            "simulation.weeks=40",
            "agents.bigco.rent_out_share=0.25",
            "agents.bigco.fleet_targets[0].h100e=9000",
            "policy.allocation=auction",
            "simulation.start_date=2024-02-05",
            "agents.bigco.product_weights={ G1 = 2.0 }",
        ],
    )
    assert s.simulation.name == "123"
    assert s.simulation.weeks == 40
    assert s.agent("bigco").rent_out_share == 0.25
    assert s.agent("bigco").fleet_targets[0].h100e == 9000
    assert s.policy.allocation == "auction"
    assert s.simulation.start_date == dt.date(2024, 2, 5)
    assert s.agent("bigco").product_weights == {"G1": 2.0}


def test_set_errors_name_the_override(tiny_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tiny_path, ["agents.bigco.fleet_targets[5].h100e=1"])
    assert str(info.value).startswith("--set: agents.bigco.fleet_targets[5]: no element 5")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tiny_path, ["agents.bigco.rent_out_shar=0.1"])
    problem = info.value.problems[0]
    assert problem.file == "--set"
    assert "did you mean 'rent_out_share'" in problem.message


def test_all_problems_are_reported_at_once(tmp_path, tiny_path):
    child = write(
        tmp_path,
        "many.toml",
        f'extends = "{tiny_path}"\n[simulation]\nweeks = 0\nseeed = 1\n'
        '[policy]\nallocation = "x"\n',
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    paths = {p.path for p in info.value.problems}
    assert {"simulation.weeks", "simulation.seeed", "policy.allocation"} <= paths


def test_scenario_from_dict_validates_like_a_file(tiny_path):
    raw = resolve(tiny_path).data
    s = scenario_from_dict(raw)
    assert s == load_scenario(tiny_path)
    raw["simulation"]["weeks"] = -1
    with pytest.raises(ScenarioError):
        scenario_from_dict(raw)


def test_week_and_date_conversions(tiny_path):
    s = load_scenario(tiny_path)
    assert s.week_of(dt.date(2024, 1, 1)) == 0
    assert s.week_of(dt.date(2024, 1, 7)) == 0
    assert s.week_of(dt.date(2024, 1, 8)) == 1
    assert s.week_of(5) == 5
    assert s.date_of(2) == dt.date(2024, 1, 15)


def test_monthly_capacity_converts_to_weekly(tmp_path, tiny_path):
    child = write(
        tmp_path,
        "m.toml",
        f'extends = "{tiny_path}"\n[[supply.nodes]]\nid = "fab"\ncapacity_per_week = 520\n',
    )
    assert load_scenario(child).node("fab").initial_capacity_per_week == 520
    raw = resolve(tiny_path).data
    node = raw["supply"]["nodes"][0]
    del node["capacity_per_week"]
    node["capacity_per_month"] = 1300
    s = scenario_from_dict(raw)
    assert s.node("fab").initial_capacity_per_week == pytest.approx(300.0)
    node["capacity_per_week"] = 1
    with pytest.raises(ScenarioError, match="exactly one of capacity_per_week"):
        scenario_from_dict(raw)
