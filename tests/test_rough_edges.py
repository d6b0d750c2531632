"""Rough edges an analyst hit, each with the test that would have caught it: default
output folders (help text = what is written; ``--set`` runs get their own folder),
comparison labels that show overrides, stated baseline values in sweep files, no
unmeasured run times in the docs, the Dask dashboard port, the compile notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.runs.compare import Source, arm_labels, default_run_folder
from market_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
runner = CliRunner()


def _help(command: str) -> str:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "400"})
    return " ".join(result.output.replace("│", " ").split())


def test_default_folders_are_what_the_help_says(tmp_path: Path, monkeypatch) -> None:
    """A plain run, a --set run and a comparison each write the folder their --help
    names, and the --set run does not replace the plain one."""
    monkeypatch.chdir(tmp_path)
    short = ["--set", "simulation.weeks=8"]
    assert runner.invoke(app, ["run", str(TINY), *short]).exit_code == 0
    assert (
        runner.invoke(app, ["run", str(TINY), *short, "--set", "startups.count=10"]).exit_code == 0
    )
    result = runner.invoke(app, ["compare", str(TINY), str(TINY), "--seeds", "1"])
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert made == [
        "compare-tiny-vs-tiny-2",
        "tiny--simulation.weeks-8",
        "tiny--simulation.weeks-8--startups.count-10",
    ]
    assert "reports/<name>/" in _help("run") and "--seed-2--" in _help("run")
    assert "reports/compare-<A>-vs-<B>/" in _help("compare")


def test_run_with_set_does_not_share_the_plain_folder() -> None:
    plain = default_run_folder("baseline", None, [])
    assert plain == Path("reports/baseline")
    changed = default_run_folder("baseline", None, ["policy.allocation=auction"])
    assert changed == Path("reports/baseline--policy.allocation-auction")
    assert default_run_folder("baseline", 2, []) == Path("reports/baseline--seed-2")
    long = [f"agents.meta.fleet_targets[{i}].h100e={i}00000" for i in range(6)]
    assert len(default_run_folder("baseline", None, long).name) <= 80
    assert default_run_folder("baseline", None, long) != default_run_folder(
        "baseline", None, long[:5]
    )


def test_compare_labels_show_overrides() -> None:
    s = load_scenario(TINY)
    a = Source(Path("a"), s, 1, True, ())
    b = Source(Path("b"), s, 1, True, ("policy.allocation=auction",))
    assert arm_labels([a, b]) == ["tiny", "tiny (policy.allocation=auction)"]
    assert arm_labels([a, a]) == ["tiny", "tiny-2"]


def test_compare_help_names_the_folder_it_writes() -> None:
    assert "compare-<A>-vs-<B>" in _help("compare")


# --------------------------------------------------------------------------- scenario errors


def test_share_overflow_is_blamed_on_the_extending_file(tmp_path: Path) -> None:
    """The extending file adds a vendor's share that pushes a node over 1: the error
    names that file and value, not the parent that defined the node."""
    from market_sim.scenario import ScenarioError

    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{TINY.as_posix()}"\n'
        '[[agents]]\nid = "acme"\ncapacity_share = { pack = 2.0 }\n'
    )
    try:
        load_scenario(child)
    except ScenarioError as err:
        lines = [str(p) for p in err.problems]
    else:
        raise AssertionError("no error")
    assert any(line.startswith(f"{child}: agents.acme.capacity_share.pack") for line in lines), (
        lines
    )
    # a --set that causes it is blamed on --set
    try:
        load_scenario(TINY, ["agents.acme.capacity_share.pack=2.0"])
    except ScenarioError as err:
        assert str(err.problems[-1]).startswith("--set: agents.acme.capacity_share.pack")


def test_unknown_key_and_semantic_errors_come_in_one_pass(tmp_path: Path) -> None:
    from market_sim.scenario import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{TINY.as_posix()}"\n'
        "[simulation]\nwekks = 3\n"  # unknown key
        '[[events]]\nat = 900\nkind = "demand_surge"\ntarget = "nobody"\nmagnitude = 2.0\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    lines = [str(p) for p in info.value.problems]
    assert any("unknown key 'wekks'" in line for line in lines), lines
    assert any("events[0]" in line for line in lines), lines
