"""Fault injection, scenario input: colliding ids, non-finite and huge numbers, extreme
dates and seeds, rich markup, special files and pathological TOML. Each is refused with
one line and exit code 2 (never a traceback), or printed as written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fault_helpers import SHORT, TINY, cli, ok, one_line
from market_sim.scenario import ScenarioError, load_scenario
from market_sim.scenario.loader import MAX_EXTENDS
from market_sim.scenario.names import reserved_group_names
from market_sim.scenario.tomlfile import MAX_TOML_BYTES

# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("override", "where", "other"),
    [
        ('agents.bigco.id="G1"', "agents.G1", "products.G1"),  # a buyer named like a product
        ('agents.bigco.id="g1"', "agents.g1", "products.G1"),  # differs only in case
        ('agents.cloudy.id="FAB"', "agents.FAB", "supply.nodes.fab"),
        ('supply.nodes.mem.id="Pack"', "supply.nodes.Pack", "supply.nodes.pack"),
    ],
)
def test_colliding_ids_name_both_places(override: str, where: str, other: str) -> None:
    result = cli("validate", TINY, "--set", override)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    line = next(x for x in lines if f": {where}: " in x)
    assert f"is also {other}'s id (ids are case-insensitive); rename one" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize("group", ["hyperscalers", "big4", "top5", "All", "STARTUPS", "neoclouds"])
def test_ids_may_not_take_a_group_name(group: str) -> None:
    result = cli("validate", TINY, "--set", f'agents.cloudy.id="{group}"')
    assert result.exit_code == 2, result.output
    assert f"agents.{group}: id '{group}' is a reserved group name" in result.stderr


def test_reserved_groups_cover_the_classes_and_the_scenarios_groups() -> None:
    from market_sim.scenario import load_scenario
    from market_sim.scenario.checks import event_groups, group_names
    from market_sim.scenario.schema import CLASS_IDS

    names = reserved_group_names()
    assert {"all", *CLASS_IDS, "big4", "top5"} <= set(names)
    baseline = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
    with_groups = reserved_group_names(baseline)
    assert set(group_names(baseline)) <= set(with_groups)
    assert set(event_groups(baseline)) <= set(with_groups)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("products.G1.h100e=inf", "finite"),
        ("products.G1.list_price_usd=nan", "finite"),
        ("startups.entry_per_week=-inf", "finite"),
        ("agents.bigco.product_weights={G1=inf}", "finite"),
        ("supply.nodes.fab.capacity_per_week=1e300", "beyond the model's bound"),
        ("economics.opex_usd_per_gpu_hour=2e12", "beyond the model's bound"),
        ("supply.nodes.fab.cycle_time_weeks=5000", "longer than 2,600 weeks"),
        ("products.G1.launch=999999999999999999999", "weeks from the start"),
        ("startups.entry_per_week=1e9", "less than or equal to 10000"),
        ("startups.value_sigma=100", "less than or equal to 5"),
        ("policy.ordering.lead_time_smoothing_weeks=1e-12", "greater than or equal to 1"),
        ("simulation.seed=-1", "greater than or equal to 0"),
        ("simulation.seed=99999999999999999999999", "from 0 to 2^63-1"),
        ("simulation.start_date=9999-12-01", "outside 1900-01-01 to 2199-12-31"),
        ("simulation.start_date=0001-01-01", "outside 1900-01-01 to 2199-12-31"),
        ("agents.bigco.fleet_targets[0].date=9999-12-31", "outside 1900-01-01"),
        (f"startups.count={'9' * 5000}", "too deeply nested or too large"),
    ],
)
def test_non_finite_huge_and_extreme_values_are_one_line(override: str, needle: str) -> None:
    line = one_line(cli("validate", TINY, "--set", override))
    assert needle in line
    assert len(line) < 400  # a huge value is not echoed whole


def test_non_finite_in_a_file(tmp_path: Path) -> None:
    f = tmp_path / "inf.toml"
    f.write_text(f'extends = "{TINY}"\n[economics]\nresale_haircut = nan\n')
    line = one_line(cli("validate", f))
    assert line.startswith(f"{f}: economics.resale_haircut: ") and "finite" in line
    f.write_text(f'extends = "{TINY}"\n[startups]\nfunding_max_usd = +inf\n')
    assert "finite" in one_line(cli("run", f, "--out", tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_extreme_seed_on_the_command_line(tmp_path: Path) -> None:
    for seed in ("-5", str(2**64)):
        line = one_line(cli("run", TINY, "--seed", seed, "--out", tmp_path / "r", *SHORT))
        assert line.startswith("--seed: ") and "2^63-1" in line
    assert not (tmp_path / "r").exists()


def test_huge_field_is_not_echoed_whole(tmp_path: Path) -> None:
    f = tmp_path / "big.toml"
    f.write_text(f'extends = "{TINY}"\n[simulation]\nname = "{"x" * 3_000_000}"\n')
    line = one_line(cli("validate", f))
    assert "simulation.name" in line and len(line) < 400


# --------------------------------------------------------------------------- markup


def test_markup_in_names_prints_as_written(tmp_path: Path) -> None:
    f = tmp_path / "markup.toml"
    name = "[/]odd [bold]name[/bold] [link=x]"
    f.write_text(f'extends = "{TINY}"\n[simulation]\nname = "{name}"\ndescription = "[/]"\n')
    out = ok(cli("validate", f)).stdout
    assert name in out
    out = ok(cli("graph", f)).stdout
    assert name in out
    result = ok(cli("run", f, "--out", tmp_path / "r", *SHORT))
    assert name in result.stdout
    assert (tmp_path / "r" / "report.html").is_file()


def test_markup_in_errors_and_paths_prints_as_written(tmp_path: Path) -> None:
    line = one_line(cli("validate", TINY, "--set", "policy.allocation=[/]x"))
    assert "'[/]x' is not allowed" in line
    line = one_line(cli("validate", tmp_path / "[/]" / "[bold]x.toml"))
    assert "[/]" in line and "[bold]x.toml" in line


# --------------------------------------------------------------------------- files


def test_special_files_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # reading it would block forever
    for target in (fifo, Path("/dev/zero"), Path("/dev/null")):
        line = one_line(cli("validate", target))
        assert "not a regular file" in line
        child = tmp_path / "child.toml"
        child.write_text(f'extends = "{target}"\n')
        line = one_line(cli("validate", child))
        assert "not a regular file" in line
    line = one_line(cli("validate", tmp_path))
    assert "is a folder" in line


def test_sweep_file_that_is_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "sweep.toml"
    os.mkfifo(fifo)
    line = one_line(cli("sweep", fifo, "--out", tmp_path / "out"))
    assert "not a regular file" in line and not (tmp_path / "out").exists()


def test_pathological_toml(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested too deeply" in one_line(cli("validate", deep))
    nested = tmp_path / "nested.toml"
    nested.write_text("a = " + "[" * 40 + "]" * 40 + "\n")
    assert "nested too deeply" in one_line(cli("validate", nested))
    huge = tmp_path / "huge.toml"
    with huge.open("w") as fh:
        fh.write("# padding\n" * (MAX_TOML_BYTES // 10 + 1))
    assert "at most 4 MiB" in one_line(cli("validate", huge))
    digits = tmp_path / "digits.toml"
    digits.write_text(f'extends = "{TINY}"\n[startups]\ncount = {"9" * 5000}\n')
    assert "too many digits" in one_line(cli("validate", digits))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name = 1\n")
    assert "not UTF-8" in one_line(cli("validate", binary))


def test_long_extends_chain(tmp_path: Path) -> None:
    previous = TINY
    for k in range(MAX_EXTENDS + 5):
        f = tmp_path / f"level{k}.toml"
        f.write_text(f'extends = "{previous}"\n')
        previous = f
    line = one_line(cli("validate", previous))
    assert f"longer than {MAX_EXTENDS} files" in line


def test_self_extending_file(tmp_path: Path) -> None:
    f = tmp_path / "me.toml"
    f.write_text('extends = "me.toml"\n')
    assert "inheritance cycle" in one_line(cli("validate", f))
    link = tmp_path / "loop.toml"
    link.symlink_to(link)
    line = one_line(cli("validate", link))
    assert str(link) in line


def test_library_raises_scenario_error_not_crashes() -> None:
    with pytest.raises(ScenarioError):
        load_scenario(TINY, ['agents.bigco.id="hyperscalers"'])
