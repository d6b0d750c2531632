"""``market-sim forecast``: the ensemble run past the observed record, its bands, the
files it writes, the horizon's limits and the user's mistakes.

One small forecast (the tiny scenario moved to mid-2025, a three-member ensemble, one
seed, to 2026-03) is run through the command line once and read by the tests below.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.calibration.outputs import load_ensemble, write_ensemble
from market_sim.facts import load_facts, reduce_between, reduce_fact
from market_sim.runs.bands import PERCENTS, quarters
from market_sim.runs.forecast import ForecastError, forecast, plan_forecast
from market_sim.scenario import load_scenario
from market_sim.scenario.dated import dated_inputs, input_limit, parse_until, weeks_until

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCENARIO = FIXTURES / "tiny_forecast.toml"
BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
PATH = "policy.ordering.stock_adjust_weeks"
UNTIL = "2026-03"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-member ensemble of the test scenario (one parameter, far apart)."""
    out = tmp_path_factory.mktemp("ens")
    members = pd.DataFrame({"member": [0, 1, 2], PATH: [4.0, 13.0, 30.0], "objective": 0.0})
    return write_ensemble(out, SCENARIO, "cal-test", members, [PATH], {}, {"tolerance": 0.5})


@pytest.fixture(scope="module")
def folder(ensemble: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fc") / "out"
    args = ["forecast", str(SCENARIO), "--ensemble", str(ensemble), "--until", UNTIL]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not a calibrated forecast interval" in result.stdout
    return out


def _bands(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "bands.csv", parse_dates=["date"])


def test_the_command_writes_the_folder(folder: Path) -> None:
    names = sorted(p.name for p in (folder / "runs").iterdir())
    assert names == [f"tiny_forecast-m00{k}-seed7.parquet" for k in range(3)]
    for name in ("report.html", "forecast.json", "bands.csv"):
        assert (folder / name).is_file()
    data = json.loads((folder / "forecast.json").read_text())
    assert data["format"] == "market_sim.forecast/1"
    assert [m["member"] for m in data["members"]] == [0, 1, 2]
    assert data["members"][1]["overrides"] == [f"{PATH}=13.0"]
    assert data["seeds"] == [7] and data["until"] == "2026-03-31"
    assert data["observed_end"] == "2025-12-31" and data["last_day"] == "2026-03-29"
    assert data["weeks"] == 43 and data["quantiles"] == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert data["ensemble"]["calibration"] == "cal-test" and data["ensemble"]["size"] == 3
    assert [a["path"] for a in data["assumptions"]] == ["agents.bigco.capex[1]"]
    stored = pd.read_parquet(folder / "runs" / names[2])
    assert stored["member"].eq(2).all() and stored["seed"].eq(7).all()
    assert len(stored) == 43
    html = (folder / "report.html").read_text()
    for text in ("scenario assumptions", "end of observed data", "NOT a calibrated forecast"):
        assert text in html
    assert "agents.bigco.capex[1]" in html


def test_bands_are_ordered_and_count_every_run(folder: Path) -> None:
    table = _bands(folder)
    assert set(table["period"]) == {"week", "quarter"}
    cols = ["p05", "p25", "p50", "p75", "p95"]
    values = table[cols].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert table["n"].eq(3).all()
    weekly = table[table["metric"] == "list_price_usd@G1"]
    assert len(weekly) == 43  # every week; quarters only where the run covers them
    revenue = table[table["metric"] == "nvidia_dc_revenue_usd_bn"]
    assert [f"{d:%Y-%m}" for d in revenue["date"]] == ["2025-07", "2025-10", "2026-01"]


def test_bands_are_numpy_percentiles_of_the_stored_runs(folder: Path) -> None:
    table = _bands(folder)
    runs = [pd.read_parquet(p) for p in sorted((folder / "runs").glob("*.parquet"))]
    for key in ("list_price_usd@G1", "lead_time_weeks@G1", "top4_share_pct"):
        stack = np.vstack([r[key].to_numpy(dtype=float) for r in runs])
        expected = np.percentile(stack, PERCENTS, axis=0).T
        got = table[table["metric"] == key].sort_values("date")
        np.testing.assert_allclose(got[["p05", "p25", "p50", "p75", "p95"]], expected, rtol=1e-12)
    # flows and ratios: each run reduced per quarter (the facts rules) first
    dates = pd.to_datetime(runs[0]["date"])
    for key in ("nvidia_dc_revenue_usd_bn", "alt_chip_share_pct"):
        got = table[table["metric"] == key].set_index("date")
        for start, end in quarters(dates.min(), dates.max()):
            values = [reduce_between(r, key, start, end).value for r in runs]
            if not np.isfinite(values).all():
                assert start not in got.index
                continue
            expected = np.percentile(values, PERCENTS)
            row = got.loc[start, ["p05", "p25", "p50", "p75", "p95"]].to_numpy(dtype=float)
            np.testing.assert_allclose(row, expected, rtol=1e-12)


def test_same_inputs_give_the_same_bands(folder: Path, ensemble: Path) -> None:
    s = load_scenario(SCENARIO)
    ens = load_ensemble(ensemble)
    members = [ens.overrides(k) for k in range(3)]
    first = forecast(s, members, seeds=1, until=UNTIL).bands
    again = forecast(s, members, seeds=1, until=UNTIL).bands
    pd.testing.assert_frame_equal(first, again)
    stored = _bands(folder)
    pd.testing.assert_frame_equal(
        first.reset_index(drop=True), stored, check_exact=False, rtol=1e-12, check_dtype=False
    )


def test_coverage_counts_facts_inside_the_runs_range(
    folder: Path, ensemble: Path, tmp_path: Path
) -> None:
    runs = [pd.read_parquet(p) for p in sorted((folder / "runs").glob("*.parquet"))]
    values = [reduce_fact(r, "list_price_usd@G1", "2025-09", "month") for r in runs]
    lo, hi = np.percentile(values, [5, 95])
    csv = tmp_path / "facts.csv"
    csv.write_text(
        "fact_id,metric_key,date,window,value,low,high,unit,role,description,source\n"
        f"T1,list_price_usd@G1,2025-09,month,{(lo + hi) / 2},,,USD,target,in,x\n"
        f"T2,list_price_usd@G1,2025-09,month,{2 * hi},,,USD,target,out,x\n"
        "T3,lead_time_weeks@G1,2027-01,month,3,,,weeks,target,after the horizon,x\n"
    )
    facts = load_facts(csv)
    ens = load_ensemble(ensemble)
    members = [ens.overrides(k) for k in range(3)]
    fc = forecast(load_scenario(SCENARIO), members, until=UNTIL, facts=facts)
    assert fc.plan.observed_end == dt.date(2027, 1, 31)  # the last target window's end
    cov = fc.coverage.set_index("fact_id")
    assert cov["inside"].tolist() == [True, False, False]
    assert cov["n"].tolist() == [3, 3, 0]
    np.testing.assert_allclose(cov.loc["T1", ["p05", "p95"]].to_numpy(float), [lo, hi])


def test_query_and_report_read_the_folder(folder: Path) -> None:
    sql = 'SELECT member, count(*) AS weeks, max("list_price_usd@G1") FROM runs GROUP BY 1'
    result = runner.invoke(app, ["query", str(folder), sql + " ORDER BY 1", "--csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("0,43,")
    again = runner.invoke(app, ["report", str(folder)])
    assert again.exit_code == 0, again.output
    assert "scenario assumptions" in (folder / "report.html").read_text()


def test_a_damaged_forecast_folder_is_one_line(folder: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bands.csv").write_bytes((folder / "bands.csv").read_bytes())
    data = json.loads((folder / "forecast.json").read_text())
    del data["metrics"]
    (broken / "forecast.json").write_text(json.dumps(data))
    result = runner.invoke(app, ["report", str(broken)])
    assert result.exit_code == 2 and "field 'metrics' is missing" in result.output
    (broken / "forecast.json").write_text("{not json")
    result = runner.invoke(app, ["report", str(broken)])
    assert result.exit_code == 2 and "cannot read the forecast" in result.output
    assert "Traceback" not in result.output


def test_an_existing_folder_needs_force(folder: Path, ensemble: Path) -> None:
    args = ["forecast", str(SCENARIO), "--ensemble", str(ensemble), "--until", "2025-07"]
    result = runner.invoke(app, [*args, "--out", str(folder), "--members", "1"])
    assert result.exit_code == 2 and "pass --force" in result.output
    copy = folder.parent / "copy"
    first = runner.invoke(app, [*args, "--out", str(copy), "--members", "1"])
    assert first.exit_code == 0, first.output
    forced = runner.invoke(app, [*args, "--out", str(copy), "--members", "2", "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(list((copy / "runs").iterdir())) == 2


@pytest.mark.parametrize(
    ("until", "words"),
    [
        ("soon", "is not a month YYYY-MM"),
        ("2026-13", "is not a month YYYY-MM"),
        ("2025-01", "before the scenario's first week ends"),
        ("2027-06", "agents.bigco.fleet_targets: its last fleet target is 2026-12-28"),
    ],
)
def test_a_bad_until_is_one_line(until: str, words: str, ensemble: Path, tmp_path: Path) -> None:
    args = ["forecast", str(SCENARIO), "--ensemble", str(ensemble), "--until", until]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
    assert result.output.startswith("--until") and words in result.output
    assert not (tmp_path / "x").exists()


def test_beyond_the_inputs_names_the_fix(ensemble: Path) -> None:
    args = ["forecast", str(SCENARIO), "--ensemble", str(ensemble), "--until", "2027-06"]
    result = runner.invoke(app, args)
    assert "choose --until 2026-12 or earlier" in result.output


def test_ensemble_mistakes_are_one_line(ensemble: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["forecast", str(SCENARIO), "--ensemble", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "no such ensemble file" in missing.output
    lone = tmp_path / "lone.toml"
    lone.write_text(f'extends = "{SCENARIO}"\n')
    none = runner.invoke(app, ["forecast", str(lone)])
    assert none.exit_code == 2 and "pass --ensemble FILE" in none.output
    many = runner.invoke(app, ["forecast", str(SCENARIO), "--ensemble", str(ensemble),
                               "--members", "5"])  # fmt: skip
    assert many.exit_code == 2 and "the ensemble has 3" in many.output
    bad = tmp_path / "bad"
    bad.mkdir()
    frame = pd.DataFrame({"member": [0], "policy.ordering.no_such_knob": [1.0], "objective": 0.0})
    wrong = write_ensemble(bad, SCENARIO, "cal-x", frame, ["policy.ordering.no_such_knob"], {}, {})
    refused = runner.invoke(app, ["forecast", str(SCENARIO), "--ensemble", str(wrong)])
    assert refused.exit_code == 2
    assert refused.output.startswith("ensemble member 0: --set: policy.ordering.no_such_knob")
    for r in (missing, none, many, refused):
        assert r.output.strip().count("\n") == 0 and "Traceback" not in r.output


# --------------------------------------------------------------------------- the horizon


def test_until_means_whole_weeks_through_the_month() -> None:
    s = load_scenario(BASELINE)
    assert parse_until("2027-12") == dt.date(2027, 12, 31)
    assert parse_until("2026-02-14") == dt.date(2026, 2, 14)
    with pytest.raises(ValueError):
        parse_until("2026-02-30")
    assert weeks_until(s, parse_until("2025-12")) == s.simulation.weeks == 156
    assert weeks_until(s, parse_until("2027-12")) == 260


def test_the_baseline_forecast_runs_as_far_as_its_demand_inputs() -> None:
    s = load_scenario(BASELINE)
    limit = input_limit(s)
    assert limit is not None and limit.day == dt.date(2027, 12, 26)
    plan = plan_forecast(s, None)  # default horizon: no runs are made here
    assert plan.weeks == 260 and plan.last_day == dt.date(2027, 12, 26)
    assert plan_forecast(s, None, until="2027-12").weeks == 260
    with pytest.raises(ForecastError, match="choose --until 2027-12 or earlier"):
        plan_forecast(s, None, until="2028-01")
    # a scenario whose own horizon is longer than its inputs may still run it
    longer = load_scenario(BASELINE, ["simulation.weeks=270"])
    assert plan_forecast(longer, None, until="2028-02").weeks == 269


def test_assumptions_are_the_resolved_dated_inputs_after_the_record() -> None:
    s = load_scenario(BASELINE, ["agents.meta.fleet_targets[4].h100e=2500000"])
    found = dated_inputs(s, dt.date(2025, 12, 31), dt.date(2027, 12, 26))
    by_path = {d.path: d for d in found}
    assert by_path["agents.meta.fleet_targets[4]"].value == "2,500,000 H100e"  # --set wins
    assert by_path["agents.meta.fleet_targets[4]"].date == dt.date(2026, 12, 28)
    assert "agents.meta.capex[4]" in by_path
    assert all(dt.date(2025, 12, 31) < d.date <= dt.date(2027, 12, 26) for d in found)
    assert "agents.meta.fleet_targets[3]" not in by_path  # 2025-12-29: observed period
