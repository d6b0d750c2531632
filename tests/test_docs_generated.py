"""Docs made from the code stay in step with it: the metric catalogue (docs/metrics.md)
and the parameter table of docs/ODD.md, and no model parameter hides in code."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from market_sim.outcomes.catalogue import (
    CATALOGUE,
    KINDS,
    RECORDED_FAMILIES,
    UNITS,
    Entities,
    describe,
    kind_of,
    metric_keys,
)
from market_sim.scenario import load_scenario
from market_sim.scenario.parameters import END, START, parameters

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_odd_table_names_every_schema_parameter():
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    table = odd.split(START, 1)[1].split(END, 1)[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.M))
    assert documented == {p.path for p in parameters()}
    # the knobs this refactor moved out of the code are there
    for path in (
        "policy.production.plan_weeks",
        "policy.production.safety_weeks",
        "policy.production.forecast_smoothing",
        "policy.production.start_rate_smoothing",
        "policy.production.min_ramp_yield",
        "policy.pricing.min_backlog_weeks",
        "agents[neocloud].min_growth_h100e",
        "agents[hyperscaler].gray_ask_min_h100e",
        "agents[hyperscaler].in_house.quote_tier_cap",
        "startups.first_tranche_share",
        "startups.raise_below_round_share",
        "outcomes.reference_product",
        "outcomes.incumbent_vendor",
        "outcomes.groups",
    ):
        assert path in documented, path


def test_every_parameter_says_what_it_is():
    vague = [p.path for p in parameters() if not p.description]
    assert not vague, vague
    numbers = [p for p in parameters() if re.fullmatch(r"-?[\d.e+]+", p.default)]
    assert len(numbers) > 80
    unitless = [p.path for p in numbers if not p.unit]
    assert not unitless, f"numeric parameters without a unit: {unitless}"


def test_catalogue_is_consistent_and_covers_every_column():
    assert {m.kind for m in CATALOGUE} <= set(KINDS)
    assert {m.unit for m in CATALOGUE} <= set(UNITS)
    for m in CATALOGUE:
        assert kind_of(m.name) == m.kind, f"{m.name}: one kind per name"
        assert (m.kind == "ratio") == (m.ratio is not None or m.name == "capacity_share_pct")
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    keys = metric_keys(baseline)
    assert len(keys) == len(set(keys))
    # every recorded entry of the catalogue appears in the baseline's columns
    ent = Entities.of(baseline)
    recorded = {describe(k, ent).pattern for k in keys}
    declared = {m.pattern for m in CATALOGUE if m.family in RECORDED_FAMILIES}
    assert recorded == declared, declared ^ recorded


def test_a_run_records_exactly_the_catalogue():
    from market_sim.model import GPUMarketModel

    model = GPUMarketModel(ROOT / "scenarios" / "baseline.toml", overrides=["simulation.weeks=2"])
    model.run()
    assert sorted(model.metrics) == sorted(metric_keys(model.scenario))
    assert list(model.timeseries().columns[2:]) == metric_keys(model.scenario)


_CODES = {
    # codes and sentinels, not parameters
    "EMPTY",
    "ACTIVE",
    "EXITED",
    "STARTUP_HOLDER",
    "NO_END",
    "PACKAGED_BASELINE",  # a file path (parents[1])
    "TOGETHER_MIN_ROWS",  # a storage layout; no number depends on it (test_startup_rows.py)
    "NOTHING",  # the fleet buyers' action codes (agents/fleet_kernel.py)
    "ORDER",
    "CANCEL",
}


def test_no_model_constants_in_code():
    """Numbers that shape behaviour live in the scenario; agents and the weekly core
    keep only codes (status values, sentinels)."""
    found = []
    for folder in ("agents", "model"):
        for path in (ROOT / "market_sim" / folder).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                if isinstance(node, ast.AnnAssign):
                    targets = [node.target]
                names = [
                    n.id
                    for t in targets
                    for n in ([t] if isinstance(t, ast.Name) else getattr(t, "elts", []))
                    if isinstance(n, ast.Name)
                ]
                value = getattr(node, "value", None)
                numbers = (
                    [
                        c
                        for c in ast.walk(value)
                        if isinstance(c, ast.Constant)
                        and isinstance(c.value, int | float)
                        and not isinstance(c.value, bool)
                    ]
                    if value is not None
                    else []
                )
                for name in names:
                    if numbers and name not in _CODES:
                        found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found
