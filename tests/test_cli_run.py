"""The ``run``, ``compare``, ``report`` and ``query`` commands (in-process, small runs)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from market_sim.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny.toml"
SHORT = ["--set", "simulation.weeks=20"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = runner.invoke(app, ["run", str(TINY), "--out", str(out), "--seed", "7", *SHORT])
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def run_dir(first_run) -> Path:
    return first_run[0]


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _no_leftovers(parent: Path) -> None:
    assert [p.name for p in parent.iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------- run


def test_run_writes_the_folder_and_prints_headlines(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert {"timeseries.parquet", "agents.parquet", "run.json", "report.html"} <= names
    data = json.loads((run_dir / "run.json").read_text())
    assert set(data["timings_s"]) == {"build", "simulate", "write", "report"}
    assert data["seed"] == 7 and data["version"]
    _no_leftovers(run_dir.parent)


def test_csv_copies_on_request(run_dir: Path, tmp_path: Path) -> None:
    assert not list(run_dir.glob("*.csv"))  # Parquet only by default
    out = tmp_path / "csv"
    args = ["run", str(TINY), "--out", str(out), "--seed", "7", "--csv", *SHORT]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    ts = pd.read_csv(out / "timeseries.csv")
    back = pd.read_parquet(run_dir / "timeseries.parquet")
    assert list(ts.columns) == list(back.columns) and len(ts) == len(back) == 20
    data = json.loads((out / "run.json").read_text())
    assert {"timeseries.csv", "agents.csv"} <= set(data["checksums"])


def test_run_output(first_run) -> None:
    out, result = first_run
    for label in (
        "Peak lead time",
        "Peak rental price",
        "Startups' share of deliveries",
        "Top-5 compute share",
        "Nvidia gross margin",
    ):
        assert label in result.stdout
    assert f"Report: {out / 'report.html'}" in result.stdout
    assert "Wall time: build" in result.stdout


def test_existing_folder_needs_force(run_dir: Path) -> None:
    before = (run_dir / "run.json").read_text()
    line = _one_line_error(runner.invoke(app, ["run", str(TINY), "--out", str(run_dir), *SHORT]))
    assert line == f"{run_dir}: already exists; pass --force to replace it, or choose --out"
    assert (run_dir / "run.json").read_text() == before


def test_force_replaces_only_after_success(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    shutil.copytree(run_dir, out)
    first = json.loads((out / "run.json").read_text())["created"]
    bad = runner.invoke(
        app, ["run", str(TINY), "--out", str(out), "--force", "--set", "simulation.weeks=-1"]
    )
    _one_line_error(bad)
    assert json.loads((out / "run.json").read_text())["created"] == first
    ok = runner.invoke(app, ["run", str(TINY), "--out", str(out), "--force", *SHORT])
    assert ok.exit_code == 0, ok.output
    _no_leftovers(tmp_path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no/such.toml"], "no/such.toml: (top level): file not found; check the path"),
        (["run", str(FIXTURES / "bad" / "unknown_key.toml")], "unknown key 'nmae'"),
        (["run", str(TINY), "--facts", "no/facts.csv"], "no/facts.csv: --facts: file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert expected in _one_line_error(runner.invoke(app, args))
    assert list(tmp_path.iterdir()) == []  # not even reports/


def test_the_process_runs_with_fewer_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """``market-sim`` (market_sim.cli.main) raises the collector's thresholds for its
    process before the command line runs and freezes what is alive when it is done; a
    command run in-process leaves the collector alone."""
    import gc

    import market_sim.cli as cli

    before = gc.get_threshold()
    assert before != cli.GC_THRESHOLDS
    runner.invoke(app, ["validate", str(TINY)])
    assert gc.get_threshold() == before
    seen = []
    monkeypatch.setattr(cli, "app", lambda: seen.append(gc.get_threshold()))
    monkeypatch.setitem(cli._IN_MAIN, "process", False)  # main() sets it
    frozen = gc.get_freeze_count()
    try:
        cli.main()
        assert gc.get_freeze_count() > frozen  # the exit's final collection skips them
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert seen == [cli.GC_THRESHOLDS]


def test_start_up_pauses_the_collector_and_freezes_only_in_a_market_sim_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import market_sim.cli as cli

    frozen = gc.get_freeze_count()
    with cli.start_up():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == frozen  # in-process: paused only
    monkeypatch.setitem(cli._IN_MAIN, "process", True)
    try:
        with pytest.raises(KeyError), cli.start_up():
            raise KeyError("an error in start-up")
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_unwritable_out_and_non_run_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    line = _one_line_error(
        runner.invoke(app, ["run", str(TINY), "--out", str(tmp_path / "file" / "out"), *SHORT])
    )
    assert "cannot write here" in line
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("mine")
    line = _one_line_error(
        runner.invoke(app, ["run", str(TINY), "--out", str(tmp_path / "mine"), "--force", *SHORT])
    )
    assert "not a run folder" in line and (tmp_path / "mine" / "keep.txt").exists()
    _no_leftovers(tmp_path)


def test_rerun_from_the_folder_reproduces_the_numbers(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(run_dir), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    stored = pd.read_parquet(run_dir / "timeseries.parquet")
    again = pd.read_parquet(tmp_path / "again" / "timeseries.parquet")
    pd.testing.assert_frame_equal(stored, again, check_exact=True)
    assert json.loads((tmp_path / "again" / "run.json").read_text())["source"] == str(run_dir)


# --------------------------------------------------------------------------- report


def test_report_renders_again_without_rerun(run_dir: Path) -> None:
    (run_dir / "report.html").write_text("stale")
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    html = (run_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "market_sim run: tiny" in html
    line = _one_line_error(runner.invoke(app, ["report", str(run_dir.parent / "nope")]))
    assert "not a folder" in line


# --------------------------------------------------------------------------- query


def test_query_table_and_csv(run_dir: Path) -> None:
    result = runner.invoke(
        app, ["query", str(run_dir), "SELECT count(*) AS n, max(week) AS last FROM timeseries"]
    )
    assert result.exit_code == 0, result.output
    assert "20" in result.stdout and "19" in result.stdout
    result = runner.invoke(
        app,
        ["query", str(run_dir), "--csv", "SELECT DISTINCT agent_id FROM agents ORDER BY agent_id"],
    )
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["agent_id"] and ["bigco"] in rows


def test_query_bad_sql_exits_2(run_dir: Path) -> None:
    line = _one_line_error(runner.invoke(app, ["query", str(run_dir), "SELEC 1"]))
    assert line.startswith("SQL: Parser Error")
    line = _one_line_error(runner.invoke(app, ["query", str(run_dir), "SELECT * FROM nope"]))
    assert line.startswith("SQL: Catalog Error")


def test_query_sweep_folder(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    for i in range(3):
        pd.DataFrame({"run_id": [i] * 2, "week": [0, 1], "x": [1.0, 2.0 * i]}).to_parquet(
            tmp_path / "runs" / f"run{i}.parquet"
        )
    pd.DataFrame({"run_id": [0, 1, 2], "seed": [1, 2, 3]}).to_parquet(tmp_path / "manifest.parquet")
    result = runner.invoke(
        app,
        [
            "query",
            str(tmp_path),
            "--csv",
            "SELECT m.seed, sum(r.x) AS x FROM runs r JOIN manifest m "
            "USING (run_id) GROUP BY m.seed ORDER BY m.seed",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["seed,x", "1,1.0", "2,3.0", "3,5.0"]


# --------------------------------------------------------------------------- compare


def test_compare_scenario_and_run_folder(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "more_startups.toml"
    other.write_text(
        f'extends = "{TINY}"\n[simulation]\nname = "more"\nweeks = 20\n[startups]\ncount = 80\n'
    )
    out = tmp_path / "cmp"
    result = runner.invoke(
        app, ["compare", str(run_dir), str(other), "--seeds", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # the run folder's arm is labelled with the --set it was run with
    assert "more minus tiny (simulation.weeks=20) (2 paired seeds)" in result.stdout
    assert {"report.html", "compare.json", "deltas.csv", "runs"} <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "more-seed7.parquet",
        "more-seed8.parquet",
        "tiny_simulation.weeks_20-seed7.parquet",
        "tiny_simulation.weeks_20-seed8.parquet",
    ]
    table = pd.read_csv(out / "deltas.csv")
    assert set(table["b"]) == {"more"} and table["n_pairs"].eq(2).all()
    # the run folder's stored run is seed offset 0: re-reading it must match
    stored = pd.read_parquet(run_dir / "timeseries.parquet")
    kept = pd.read_parquet(out / "runs" / "tiny_simulation.weeks_20-seed7.parquet")
    kept = kept.drop(columns=["scenario", "seed"])
    pd.testing.assert_frame_equal(stored, kept)
    q = runner.invoke(
        app,
        [
            "query",
            str(out),
            "--csv",
            "SELECT scenario, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1",
        ],
    )
    assert q.stdout.splitlines() == ["scenario,n", "more,40", "tiny (simulation.weeks=20),40"]
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    _no_leftovers(tmp_path)


def test_compare_needs_two_inputs_and_checks_them_first(tmp_path: Path) -> None:
    line = _one_line_error(runner.invoke(app, ["compare", str(TINY)]))
    assert "at least two" in line
    line = _one_line_error(
        runner.invoke(app, ["compare", str(TINY), str(tmp_path), "--out", str(tmp_path / "c")])
    )
    assert "without run.json" in line
    assert not (tmp_path / "c").exists()
