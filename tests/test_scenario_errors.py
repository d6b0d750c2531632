"""Bad scenario files: exit code 2, one line per problem naming file and field, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from market_sim.cli import app

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"

# file -> (field path that must appear, fragment of the message)
CASES = {
    "unknown_key.toml": ("simulation.nmae", "did you mean 'name'"),
    "misspelt_agent_key.toml": ("agents.bigco.fleet_targts", "did you mean 'fleet_targets'"),
    "wrong_type.toml": ("simulation.weeks", "valid integer"),
    "negative_capacity.toml": ("supply.nodes.fab.capacity_per_week", "greater than 0"),
    "zero_capacity.toml": ("supply.nodes.mem.capacity_per_week", "greater than 0"),
    "unknown_role.toml": ("agents.newco", "did you mean 'hyperscaler'"),
    "edge_unknown_node.toml": ("supply.edges[3].from", "unknown supply node 'nowhere'"),
    "supply_cycle.toml": ("supply.edges", "cycle"),
    "bom_no_supplier.toml": ("products.G2.bom", "names no supplier"),
    "bom_unknown_node.toml": ("products.G1.bom.packaging.node", "did you mean 'pack'"),
    "bom_wrong_kind.toml": ("products.G1.bom.hbm.nodes", "needs a memory node"),
    "event_outside_horizon.toml": ("events[0].at", "outside the horizon"),
    "event_unknown_target.toml": ("events[0].target", "did you mean 'pack'"),
    "duplicate_product.toml": ("products.X", "duplicate id 'X'"),
    "duplicate_agent.toml": ("agents.twin", "duplicate id 'twin'"),
    "extends_missing.toml": ("extends", "not found"),
    "extends_cycle_a.toml": ("extends", "inheritance cycle"),
    "syntax_error.toml": ("line 2", "invalid TOML"),
    "missing_required.toml": ("products.G3.h100e", "required key is missing"),
    "unknown_vendor.toml": ("products.G1.vendor", "did you mean 'acme'"),
    "shares_over_one.toml": ("agents.rival.capacity_share.pack", "node pack: reserved and vendors"),
    "bad_policy.toml": ("policy.allocation", "'lottery' is not allowed"),
    "no_path_to_vendor.toml": ("products.G1.bom.hbm.nodes", "no supply edge path from 'mem2'"),
    "id_with_dot.toml": ("agents[3].id", "should match pattern"),
    "yield_above_one.toml": ("products.G1.bom.logic.yield", "less than or equal to 1"),
}

runner = CliRunner()


def test_every_bad_file_has_a_case():
    assert {p.name for p in BAD.glob("*.toml")} - {"extends_cycle_b.toml"} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "graph"])
def test_bad_scenario_exits_2_with_field_path(name: str, command: str):
    path_fragment, message = CASES[name]
    result = runner.invoke(app, [command, str(BAD / name)])
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert "Traceback" not in result.output and "Traceback" not in err
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = [line for line in err.splitlines() if line.strip()]
    matching = [line for line in lines if path_fragment in line]
    assert matching, f"no line names {path_fragment!r}:\n{err}"
    assert any(message in line for line in matching), err
    # every line starts with the file it blames
    assert all(line.split(":", 1)[0].endswith(".toml") or line.startswith("--") for line in lines)


def test_misspelt_required_key_is_reported_once():
    # 'fleet_targts' is unknown; reporting 'fleet_targets' missing as well would be noise
    result = runner.invoke(app, ["validate", str(BAD / "misspelt_agent_key.toml")])
    assert len(result.stderr.strip().splitlines()) == 1


def test_problem_is_blamed_on_the_file_that_wrote_it():
    result = runner.invoke(app, ["validate", str(BAD / "unknown_key.toml")])
    assert result.stderr.startswith(str(BAD / "unknown_key.toml"))


def test_missing_scenario_file():
    result = runner.invoke(app, ["validate", "no/such/file.toml"])
    assert result.exit_code == 2
    assert "no/such/file.toml: " in result.stderr and "not found" in result.stderr


def test_bad_set_override_names_the_path(tiny_path):
    result = runner.invoke(app, ["validate", str(tiny_path), "--set", "agents.bigcoo.x=1"])
    assert result.exit_code == 2
    assert "--set: agents.bigcoo: no element with id 'bigcoo'; did you mean 'bigco'" in (
        result.stderr
    )
    result = runner.invoke(app, ["validate", str(tiny_path), "--set", "simulation.weeks"])
    assert result.exit_code == 2 and "PATH=VALUE" in result.stderr


def test_set_value_is_validated_like_file_values(tiny_path):
    result = runner.invoke(app, ["validate", str(tiny_path), "--set", "simulation.weeks=-3"])
    assert result.exit_code == 2
    assert "--set: simulation.weeks: input should be greater than or equal to 1" in result.stderr


def test_console_script_reports_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "market_sim.cli", "validate", str(BAD / "wrong_type.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "simulation.weeks" in proc.stderr
