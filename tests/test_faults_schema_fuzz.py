"""Fault injection, every schema field: random TOML values of every type (numbers huge,
tiny, non-finite; text with markup and control characters; dates far away; arrays,
tables) go into each field through ``--set``. A value is accepted, or refused with one
line per problem and exit code 2: never a traceback, never a hang."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from fault_helpers import TINY, cli
from market_sim.scenario import ScenarioError, load_scenario
from market_sim.scenario import schema as S

BASE = f"""
extends = "{TINY}"

[[agents]]
role = "enterprise"
id = "corp"
capex = [{{ year = 2024, usd_bn = 1.0 }}]

[[agents]]
id = "bigco"
ordering = {{ stock_adjust_weeks = 10 }}

[[supply.nodes]]
id = "pack"
expansion = {{ step_fraction = 0.1 }}

[[events]]
at = 3
kind = "demand_surge"
target = "startups"
magnitude = 1.5
duration_weeks = 4
"""

TABLES: dict[str, type[BaseModel]] = {
    "simulation": S.Simulation,
    "products.G1": S.Product,
    "products.G1.bom.logic": S.LogicInput,
    "products.G1.bom.packaging": S.PackagingInput,
    "products.G1.bom.hbm": S.MemoryInput,
    "supply.nodes.pack": S.SupplyNode,
    "supply.nodes.pack.schedule[0]": S.CapacityPoint,
    "supply.nodes.pack.expansion": S.Expansion,
    "supply.edges[0]": S.SupplyEdge,
    "agents.acme": S.VendorSpec,
    "agents.bigco": S.HyperscalerSpec,
    "agents.bigco.fleet_targets[0]": S.FleetPoint,
    "agents.bigco.ordering": S.OrderingRule,
    "agents.corp": S.EnterpriseSpec,
    "agents.corp.capex[0]": S.CapexPoint,
    "agents.cloudy": S.NeocloudSpec,
    "startups": S.Startups,
    "policy": S.Policy,
    "policy.ordering": S.OrderingRule,
    "policy.pricing": S.Pricing,
    "policy.production": S.ProductionRule,
    "outcomes": S.Outcomes,
    "economics": S.Economics,
    "events[0]": S.Event,
}


def _fields() -> list[str]:
    out = []
    for prefix, cls in TABLES.items():
        for name, info in cls.model_fields.items():
            out.append(f"{prefix}.{info.alias or name}")
    return out


FIELDS = _fields()

EVERY_TYPE = [
    "0",
    "-1",
    "1",
    "7",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "0.5",
    "1e-300",
    "1e300",
    "-1e300",
    "inf",
    "-inf",
    "nan",
    "true",
    '""',
    '"[/]"',
    '"x [bold]y[/bold] [link=z]"',
    '"' + "x" * 10_000 + '"',
    "plain text",
    "2024-01-01",
    "0001-01-01",
    "9999-12-31",
    "2024-01-01T12:30:00",
    "12:30:00",
    "[1, 2, 3]",
    '["a", "b"]',
    "[]",
    "{}",
    "{ a = 1 }",
    "[[[[[[[[[[1]]]]]]]]]]",
]


def _check_problems(err: ScenarioError) -> None:
    assert err.problems
    for p in err.problems:
        line = str(p)
        assert "\n" not in line and len(line) < 2500, line[:300]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = tmp_path_factory.mktemp("fuzz") / "base.toml"
    f.write_text(BASE)
    load_scenario(f)  # the base itself is valid
    return f


@pytest.mark.parametrize("path", FIELDS)
def test_every_type_into_every_field(base: Path, path: str) -> None:
    for value in EVERY_TYPE:
        try:
            load_scenario(base, [f"{path}={value}"])
        except ScenarioError as err:
            _check_problems(err)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


SCALARS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.floats(min_value=-1e15, max_value=1e15),
    st.booleans(),
    st.text(max_size=40),
    st.sampled_from(["[/]", "[bold]", "\x00", "\u202e", "../../etc/passwd", "a.b", "H100"]),
    st.dates(),
    st.datetimes(),
)
VALUES = st.one_of(
    SCALARS.map(_toml),
    st.lists(SCALARS, max_size=4).map(_toml),
    st.dictionaries(st.sampled_from(["a", "b", "date", "h100e"]), SCALARS, max_size=3).map(_toml),
    st.text(max_size=30),  # raw text: read as TOML if it parses, else kept as written
)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(FIELDS), value=VALUES)
def test_random_values_on_the_command_line(base: Path, path: str, value: str) -> None:
    result = cli("validate", base, "--set", f"{path}={value}")
    assert result.exit_code in (0, 2), (path, value, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert lines, result.output
        for line in lines:
            assert ": " in line and len(line) < 2500, line[:300]


EXTREMES = ["1e12", "1e6", "2600", "100", "1e-12", "0", "9999", "2199-12-31", "1900-01-01"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(FIELDS), value=st.sampled_from(EXTREMES))
def test_accepted_extremes_run_to_finite_outcomes(base: Path, path: str, value: str) -> None:
    """A value the schema accepts, however extreme, gives a finite run (or a clean
    error): the bounds are where the model would overflow."""
    from market_sim.model import GPUMarketModel
    from market_sim.outcomes.finite import check_finite

    try:
        scenario = load_scenario(base, [f"{path}={value}", "simulation.weeks=8"])
    except ScenarioError:
        return
    frame = GPUMarketModel(scenario, seed=1).run()
    check_finite(frame)
