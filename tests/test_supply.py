"""Supply graph: Leontief throughput, minimum cut, cycle time, capacity path, disruptions."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.scenario import load_scenario
from market_sim.supply import (
    STARTUPS_NODE,
    Stage,
    allowed_products,
    bottleneck,
    build_graph,
    capacity_path,
    cycle_time_weeks,
    flow_network,
    leontief,
    max_output,
    node_capacity,
    restrict_products,
    scale_capacity,
)
from market_sim.supply.capacity import SINK, SOURCE


def test_leontief_by_hand():
    # 1000 logic wafers/wk at 40 good dies each = 40,000 dies -> 40,000 units
    # 100 CoWoS wafers/wk at 20 packages = 2,000 units   <- binding
    # 20,000 HBM stacks/wk at 4 per unit = 5,000 units
    stages = [
        Stage("logic", 1 / 40, {"fab": 1000}),
        Stage("packaging", 1 / 20, {"pack": 100}),
        Stage("hbm", 4, {"mem": 20000}),
    ]
    assert leontief(stages) == (pytest.approx(2000.0), "packaging")
    value, cut = bottleneck(stages)
    assert value == pytest.approx(2000.0)
    assert cut == ("pack",)


def test_substitute_suppliers_add_up():
    # HBM from two makers: (6,000 + 2,000) / 4 = 2,000 units; packaging allows 2,500
    stages = [
        Stage("packaging", 0.02, {"pack": 50}),
        Stage("hbm", 4, {"hynix": 6000, "micron": 2000}),
    ]
    assert leontief(stages) == (pytest.approx(2000.0), "hbm")
    assert bottleneck(stages) == (pytest.approx(2000.0), ("hynix", "micron"))


def test_tiny_scenario_throughput_and_cycle_time(tiny_path):
    s = load_scenario(tiny_path)
    g = build_graph(s, week=0)
    th = max_output(s, g, "G1")
    # logic: 1000 * 50 * 0.8 = 40,000; packaging: 100 * 20 = 2,000 (acme 50% + 50% free)
    # hbm: 20,000 / 4 = 5,000
    assert th.units_per_week == pytest.approx(2000.0)
    assert th.binding_input == "packaging" and th.cut_nodes == ("pack",)
    assert th.by_input == pytest.approx({"logic": 40000, "packaging": 2000, "hbm": 5000})
    # slowest path: mem (20) + transit 2 + pack (4) + transit 0 + assembly 3 = 29
    # (fab: 10 + 1 + 4 + 0 + 3 = 18)
    assert cycle_time_weeks(g, s, "G1") == pytest.approx(29.0)


def test_capacity_schedule_is_linear_then_flat(tiny_path):
    s = load_scenario(tiny_path)
    pack = s.node("pack")
    # 100/wk at week 0, 200/wk on 2024-07-01 (week 26), flat after
    assert node_capacity(pack, s, 0) == pytest.approx(100)
    assert node_capacity(pack, s, 13) == pytest.approx(150)
    assert node_capacity(pack, s, 26) == pytest.approx(200)
    assert node_capacity(pack, s, 51) == pytest.approx(200)
    assert node_capacity(s.node("fab"), s, 40) == 1000


def test_capacity_path_is_node_capacity_week_by_week(tiny_path, baseline_path):
    for path in (tiny_path, baseline_path):
        s = load_scenario(path)
        for node in s.supply.nodes:
            want = [node_capacity(node, s, w) for w in range(s.simulation.weeks)]
            np.testing.assert_array_equal(capacity_path(node, s), want)


def test_graph_has_every_firm_and_downstream_edges(baseline_path):
    s = load_scenario(baseline_path)
    g = build_graph(s)
    kinds = nx.get_node_attributes(g, "kind")
    assert kinds["tsmc_cowos"] == "packaging" and kinds["nvidia"] == "vendor"
    assert kinds["meta"] == "cloud" and kinds[STARTUPS_NODE] == "buyer"
    assert "H100" in allowed_products(g, "nvidia", "meta")
    assert allowed_products(g, "meta_mtia", "meta") == ["MTIA"]
    assert not g.has_edge("meta_mtia", "microsoft")  # in-house programs serve their owner
    assert nx.is_directed_acyclic_graph(g)


def test_baseline_cowos_binds_h100_through_2023(baseline_path):
    s = load_scenario(baseline_path)
    for week in range(0, 52, 4):
        th = max_output(s, build_graph(s, week), "H100")
        assert th.binding_input == "packaging" and th.cut_nodes == ("tsmc_cowos",), week


def test_graph_command_reports_cowos_binding(baseline_path, tmp_path):
    dot = tmp_path / "g.dot"
    result = CliRunner().invoke(app, ["graph", str(baseline_path), "--dot", str(dot)])
    assert result.exit_code == 0, result.output
    h100 = next(line for line in result.stdout.splitlines() if line.startswith("H100 "))
    assert "packaging" in h100 and "tsmc_cowos" in h100
    assert dot.read_text().startswith(("digraph", "strict digraph"))
    result = CliRunner().invoke(app, ["graph", str(baseline_path), "--at", "2023-07-03"])
    assert result.exit_code == 0 and "week 26" in result.stdout
    result = CliRunner().invoke(app, ["graph", str(baseline_path), "--at", "2031-01-01"])
    assert result.exit_code == 2 and "--at" in result.stderr


def test_disruptions(baseline_path):
    s = load_scenario(baseline_path)
    g = build_graph(s)
    half = scale_capacity(g, "tsmc_cowos", 0.5)
    assert half.nodes["tsmc_cowos"]["capacity_per_week"] == pytest.approx(
        g.nodes["tsmc_cowos"]["capacity_per_week"] / 2
    )
    assert max_output(s, half, "H100").units_per_week == pytest.approx(
        max_output(s, g, "H100").units_per_week / 2
    )
    assert g.nodes["tsmc_cowos"]["capacity_per_week"] > 0  # the original is untouched
    cut = restrict_products(g, "cn", ["H100", "H200", "B200", "A100"])
    assert allowed_products(cut, "nvidia", "tencent") == ["H20"]
    assert "H100" in allowed_products(cut, "nvidia", "meta")
    assert not restrict_products(g, "cn", ["MI300X"]).has_edge("amd", "tencent")
    with pytest.raises(ValueError):
        scale_capacity(g, "tsmc_cowos", -1)


# ----------------------------------------------------------------------------- property

capacities = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)
per_unit = st.floats(min_value=1e-3, max_value=50.0, allow_nan=False)


@st.composite
def layered_stages(draw):
    n_stages = draw(st.integers(1, 5))
    stages = []
    for k in range(n_stages):
        n = draw(st.integers(1, 4))
        suppliers = {f"s{k}_{i}": draw(capacities) for i in range(n)}
        stages.append(Stage(f"input{k}", draw(per_unit), suppliers))
    return stages


@settings(max_examples=150, deadline=None)
@given(layered_stages())
def test_min_cut_equals_networkx_max_flow(stages):
    value, cut = bottleneck(stages)
    flow = nx.maximum_flow_value(flow_network(stages), SOURCE, SINK)
    units, _ = leontief(stages)
    assert value == pytest.approx(flow, rel=1e-9, abs=1e-6)
    assert units == pytest.approx(flow, rel=1e-9, abs=1e-6)
    # the cut nodes' capacity in product units adds up to the flow
    cap = {n: c / st.per_unit for st in stages for n, c in st.suppliers.items()}
    assert sum(cap[n] for n in cut) == pytest.approx(flow, rel=1e-9, abs=1e-6)
    assert math.isfinite(units) and units >= 0


@settings(max_examples=60, deadline=None)
@given(layered_stages(), st.floats(min_value=1.0, max_value=10.0))
def test_more_capacity_never_lowers_throughput(stages, factor):
    more = [
        Stage(s.name, s.per_unit, {n: c * factor for n, c in s.suppliers.items()}) for s in stages
    ]
    assert leontief(more)[0] >= leontief(stages)[0] * (1 - 1e-12)
