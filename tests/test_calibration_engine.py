"""The calibration engine: its objective, its inputs' checks, its outputs, and a small
calibration end to end (resumable)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomlkit
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.calibration.objective import (
    MISSING,
    band_distance,
    objective,
    select_facts,
)
from market_sim.experiment.calibration.outputs import (
    apply_values,
    load_ensemble,
    write_calibrated,
    write_ensemble,
)
from market_sim.experiment.calibration.search import select_ensemble
from market_sim.facts import DEFAULT_FACTS, load_facts
from market_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
runner = CliRunner()


def test_band_distance():
    assert band_distance(5.0, 4.0, 6.0) == 0.0
    assert band_distance(4.0, 4.0, 6.0) == 0.0  # edges are inside
    assert band_distance(12.0, 4.0, 6.0) == pytest.approx(math.log(2.0))
    assert band_distance(2.0, 4.0, 6.0) == pytest.approx(math.log(2.0))
    assert band_distance(math.nan, 4.0, 6.0) == MISSING
    assert band_distance(-3.0, -2.0, 2.0) == pytest.approx(0.5)  # a band through 0
    assert objective(np.array([0.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(0.75)
    # a miss costs miss_cost on top of its distance; a fact inside costs nothing
    assert objective(np.array([0.0, 1.0]), np.array([1.0, 3.0]), 0.2) == pytest.approx(0.9)
    assert objective(np.array([0.0, 0.0]), None, 0.2) == 0.0


def test_facts_split_at_the_cut_off():
    facts = load_facts(DEFAULT_FACTS)
    ins, outs = select_facts(facts, "target", pd.Timestamp("2023-12-31"))
    assert {"F001", "F002", "F115"} <= set(ins["fact_id"])
    # a quarter ending in January 2024 ends after the cut-off: out of sample
    assert {"F004", "F058", "F116"} <= set(outs["fact_id"])
    assert len(ins) + len(outs) == int((facts["role"] == "target").sum())
    everything, none = select_facts(facts, "target", None)
    assert none.empty and len(everything) == len(ins) + len(outs)


def _params(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[parameters."policy.ordering.nope"]\nlow = 1\nhigh = 2\n', "no scenario value"),
        ('[parameters."policy.ordering.stock_adjust_weeks"]\nlow = 5\nhigh = 2\n', "low must be"),
        (
            '[parameters."policy.ordering.supply_line_weight"]\nlow = 0\nhigh = 1\nscale = "log"\n',
            "log scale needs low > 0",
        ),
        ('[parameters."agents.bigco.priority_tier"]\nlow = 1\nhigh = 5\nscale = "log"\n', "whole"),
        ('[parameters."policy.ordering.supply_line_weight"]\nlow = 0\nhigh = 3\n', "narrow"),
        ('[parameter."x"]\nlow = 0\n', "unknown key"),
    ],
)
def test_bad_parameters_files_are_one_line_errors(tmp_path, text, needle):
    result = runner.invoke(
        app,
        ["calibrate", str(TINY), "--params", str(_params(tmp_path, text)),
         "--out", str(tmp_path / "out"), "--budget", "2"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and "Traceback" not in result.output


def test_apply_values_sets_nested_and_keyed_paths_and_keeps_comments():
    text = '# a scenario\nextends = "x.toml"  # keep me\n'
    out = apply_values(
        text,
        {
            "policy.ordering.supply_line_weight": 0.4,
            "agents.bigco.priority_tier": 2.0,
            "startups.value_usd_per_gpu_hour": 7.25,
        },
        {"policy.ordering.supply_line_weight": "calibrated: cal-x"},
        {"agents.bigco.priority_tier": True},
    )
    assert "# keep me" in out and "calibrated: cal-x" in out
    data = tomlkit.parse(out).unwrap()
    assert data["policy"]["ordering"]["supply_line_weight"] == 0.4
    assert data["agents"] == [{"id": "bigco", "priority_tier": 2}]
    assert data["startups"]["value_usd_per_gpu_hour"] == 7.25


def test_a_new_key_goes_before_the_comment_that_opens_the_next_table():
    """tomlkit keeps ``# --- startups`` in the body of the table above it: a fitted key
    new to that table is written above the comment, not under it."""
    text = (
        '[[agents]]\nid = "lambda"\nutilisation = 0.85\n\n'
        "# --------------------------------------------------------------- startups\n\n"
        "[startups]\ncount = 600\n"
    )
    out = apply_values(
        text,
        {"agents.lambda.contracted_share": 0.23, "agents.lambda.utilisation": 0.8},
        {"agents.lambda.contracted_share": "calibrated: cal-x"},
    )
    lines = out.splitlines()
    new = lines.index("contracted_share = 0.23 # calibrated: cal-x")
    assert lines[new - 1] == "utilisation = 0.8"  # replaced in place
    assert new < lines.index(next(x for x in lines if x.endswith(" startups")))
    data = tomlkit.parse(out).unwrap()
    assert data["agents"] == [{"id": "lambda", "utilisation": 0.8, "contracted_share": 0.23}]
    assert data["startups"] == {"count": 600}


def test_ensemble_selection():
    trials = pd.DataFrame(
        {
            "number": range(30),
            "state": ["complete"] * 29 + ["fail"],
            "objective": [0.1 + 0.01 * i for i in range(29)] + [math.nan],
        }
    )
    chosen = select_ensemble(trials, size=20, tolerance=0.5)
    assert len(chosen) == 20 and chosen["member"].tolist() == list(range(20))
    assert chosen["objective"].is_monotonic_increasing
    # within best + 0.5 x (best + 0.01) = 0.155: only six trials meet the bar
    assert int(chosen["within_tolerance"].sum()) == 6
    wide = select_ensemble(trials, size=20, tolerance=100.0)
    assert len(wide) == 29


def test_values_held_fixed_by_set_reach_the_calibrated_scenario_and_the_ensemble(tmp_path):
    """A calibration run with --set must write those values too: the fit was measured
    with them, so a scenario or ensemble without them would not reproduce it."""
    fitted = "policy.ordering.supply_line_weight"
    fixed = {"policy.initial_pipeline": "demand", "simulation.weeks": 40}
    comments = {fitted: "calibrated: cal-x", "simulation.weeks": "held fixed"}
    path = write_calibrated(
        tmp_path, TINY, {**fixed, fitted: 0.4123456789}, comments, ["header"], {}
    )
    scenario = load_scenario(path)
    assert scenario.policy.initial_pipeline == "demand"
    assert scenario.simulation.weeks == 40
    assert scenario.policy.ordering.supply_line_weight == pytest.approx(0.412346)
    assert "weeks = 40 # held fixed" in path.read_text()
    members = pd.DataFrame({fitted: [0.4, 0.5], "objective": [0.1, 0.2]})
    lines = [f"{k}={v}" for k, v in fixed.items()]
    ens = load_ensemble(write_ensemble(tmp_path, TINY, "cal-x", members, [fitted], {}, {}, lines))
    assert ens.overrides(1) == [*lines, f"{fitted}=0.5"]
    plain = load_ensemble(write_ensemble(tmp_path, TINY, "cal-x", members, [fitted], {}, {}))
    assert plain.overrides(0) == [f"{fitted}=0.4"]


@pytest.mark.slow
def test_a_small_calibration_end_to_end_and_resume(tmp_path):
    params = _params(
        tmp_path,
        '[parameters."policy.ordering.supply_line_weight"]\nlow = 0.1\nhigh = 1.0\n'
        '[parameters."policy.ordering.stock_adjust_weeks"]\nlow = 4\nhigh = 20\nscale = "log"\n',
    )
    out = tmp_path / "cal"
    common = ["calibrate", str(TINY), "--params", str(params), "--out", str(out), "--workers", "1",
              "--set", "simulation.weeks=40"]  # fmt: skip
    first = runner.invoke(app, [*common, "--budget", "5", "--no-report"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, [*common, "--budget", "5"])  # not empty, no --resume
    assert again.exit_code == 2 and "not empty" in again.stderr
    resumed = runner.invoke(app, [*common, "--budget", "8", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    trials = pd.read_parquet(out / "evaluations.parquet")
    assert len(trials) == 8 and trials["number"].tolist() == list(range(8))
    ens = load_ensemble(out / "tiny.ensemble.toml")
    assert len(ens.members) >= 5
    calibrated = load_scenario(out / "tiny.calibrated.toml")
    assert calibrated.simulation.weeks == 40  # the --set the fit ran with is kept
    assert ens.overrides(0)[0] == "simulation.weeks=40"
    best = trials.sort_values("objective").iloc[0]
    assert calibrated.policy.ordering.supply_line_weight == pytest.approx(
        best["policy.ordering.supply_line_weight"], rel=1e-5
    )
    assert (out / "report.html").is_file()
    summary = json.loads((out / "calibration.json").read_text())["summary"]
    assert 0 <= summary["coverage_predictive_in_sample"] <= summary["in_sample_n"]
    assert 0 <= summary["coverage_predictive_out_sample"] <= summary["out_sample_n"]
    assert "Predictive coverage" in (out / "report.html").read_text()


@pytest.mark.slow
def test_cmaes_searches_near_the_scenarios_values_and_resumes(tmp_path):
    """``--sampler cmaes``: the first trial is the scenario's own values and CMA-ES's
    first generation stays near them (a step of CMAES_STEP of each range); a resumed
    study goes on with the same sampler."""
    from market_sim.experiment.calibration.search import CMAES_STEP

    path = "policy.ordering.supply_line_weight"
    low, high = 0.05, 1.0
    start = load_scenario(TINY).policy.ordering.supply_line_weight
    params = _params(tmp_path, f'[parameters."{path}"]\nlow = {low}\nhigh = {high}\n')
    out = tmp_path / "cal"
    common = ["calibrate", str(TINY), "--params", str(params), "--out", str(out), "--workers", "1",
              "--set", "simulation.weeks=30", "--sampler", "cmaes", "--no-report"]  # fmt: skip
    first = runner.invoke(app, [*common, "--budget", "4"])
    assert first.exit_code == 0, first.output
    resumed = runner.invoke(app, [*common, "--budget", "7", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    other = [*common[:-3], "--sampler", "tpe", "--budget", "9", "--resume"]  # not CMA-ES's
    refused = runner.invoke(app, other)
    assert refused.exit_code == 2 and "--sampler" in refused.stderr, refused.output
    trials = pd.read_parquet(out / "evaluations.parquet").sort_values("number")
    values = trials[path].to_numpy()
    assert len(values) == 7 and values[0] == pytest.approx(start)
    assert np.all(np.abs(values[1:] - start) <= 5 * CMAES_STEP * (high - low))
    assert len(set(np.round(values[1:], 9))) > 1  # it searches: not one point again
    fingerprint = json.loads((out / "calibration.json").read_text())["settings"]
    assert fingerprint["sampler"] == "cmaes"


def test_cmaes_without_its_package_is_a_one_line_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cmaes", None)  # import cmaes raises ImportError
    params = _params(tmp_path, '[parameters."policy.ordering.padding"]\nlow = 0\nhigh = 1\n')
    result = runner.invoke(
        app,
        [
            "calibrate",
            str(TINY),
            "--params",
            str(params),
            "--sampler",
            "cmaes",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2
    assert "pip install cmaes" in result.stderr and "Traceback" not in result.stderr
