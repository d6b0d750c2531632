"""``--ensemble`` on ``run``, ``compare`` and ``facts``: every member's parameters run, the
pairs share them, and the spreads say what they cover."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.calibration.outputs import load_ensemble, write_ensemble
from market_sim.model import GPUMarketModel
from market_sim.runs.compare import deltas, read_comparison

runner = CliRunner()
TINY = Path(__file__).resolve().parent / "fixtures" / "tiny.toml"
SHORT = ["--set", "simulation.weeks=20"]
PATH = "policy.ordering.stock_adjust_weeks"


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-member ensemble of the tiny scenario (one parameter, far apart)."""
    out = tmp_path_factory.mktemp("ens")
    members = pd.DataFrame({"member": [0, 1, 2], PATH: [4.0, 13.0, 30.0], "objective": 0.0})
    return write_ensemble(out, TINY, "cal-test", members, [PATH], {}, {"tolerance": 0.5})


def test_the_ensemble_file_reads_back(ensemble: Path) -> None:
    ens = load_ensemble(ensemble)
    assert ens.calibration == "cal-test" and ens.scenario == TINY.resolve()
    assert [m[PATH] for m in ens.members] == [4.0, 13.0, 30.0]
    assert ens.overrides(1) == [f"{PATH}=13.0"]


def test_run_with_an_ensemble_runs_every_member(ensemble: Path, tmp_path: Path) -> None:
    out = tmp_path / "ens"
    result = runner.invoke(
        app,
        ["run", str(TINY), "--ensemble", str(ensemble), "--seed", "3", "--out", str(out), *SHORT],
    )
    assert result.exit_code == 0, result.output
    assert "3 ensemble members" in result.stdout and "not a forecast interval" in result.stdout
    files = sorted(p.name for p in (out / "runs").iterdir())
    assert files == [f"tiny-m00{k}-seed3.parquet" for k in range(3)]
    # each member's run is the model run with that member's value, same seed
    for k, value in enumerate([4.0, 13.0, 30.0]):
        stored = pd.read_parquet(out / "runs" / files[k])
        assert stored["member"].eq(k).all()
        model = GPUMarketModel(TINY, seed=3, overrides=[f"{PATH}={value}", "simulation.weeks=20"])
        direct = model.run()
        np.testing.assert_allclose(
            stored["backlog_units"].to_numpy(), direct["backlog_units"].to_numpy(), rtol=1e-12
        )
    html = (out / "report.html").read_text()
    assert "Headlines across the ensemble" in html and "ensemble run" in html
    arms = read_comparison(out)
    assert [r.member for r in arms[0].runs] == [0, 1, 2]
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output


def test_compare_with_an_ensemble_pairs_members_and_seeds(ensemble: Path, tmp_path: Path) -> None:
    other = tmp_path / "more.toml"
    base = tmp_path / "tiny.toml"
    base.write_text(f'extends = "{TINY}"\n[simulation]\nweeks = 20\n')
    other.write_text(f'extends = "{base}"\n[simulation]\nname = "more"\n[startups]\ncount = 80\n')
    out = tmp_path / "cmp"
    args = ["compare", str(base), str(other), "--ensemble", str(ensemble), "--seeds", "2"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "more minus tiny (3 ensemble members x 2 paired seeds)" in result.stdout
    assert "5-95% of pairs" in result.stdout
    assert len(list((out / "runs").iterdir())) == 2 * 3 * 2
    arms = read_comparison(out)
    table = deltas(arms)
    assert table["n_pairs"].eq(6).all()
    # the spread of the pairs contains their mean; the t-interval is about the mean
    ok = table.dropna(subset=["delta_p05"])
    assert (ok["delta_p05"] <= ok["delta_mean"] + 1e-9).all()
    assert (ok["delta_mean"] <= ok["delta_p95"] + 1e-9).all()
    # pairs share member and seed: A's and B's k-th runs match
    for ra, rb in zip(arms[0].runs, arms[1].runs, strict=True):
        assert (ra.member, ra.seed) == (rb.member, rb.seed)
    html = (out / "report.html").read_text()
    assert "5-95% of pairs" in html
    # the weekly band covers the members x seeds: 6 pairs, parameter sets and seeds
    weekly = pd.read_csv(out / "deltas_weekly.csv")
    assert weekly["n"].eq(6).all()
    assert (weekly["p05"] <= weekly["p50"]).all() and (weekly["p50"] <= weekly["p95"]).all()
    note = "median and 5-95% of 6 pairs: 3 ensemble parameter sets x 2 seeds"
    assert note in html


def test_a_bad_ensemble_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.ensemble.toml"
    bad.write_text('calibration = "c"\nscenario = "s.toml"\n')
    result = runner.invoke(app, ["run", str(TINY), "--ensemble", str(bad), *SHORT])
    assert result.exit_code == 2
    assert "field 'members' is missing" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["run", str(TINY), "--ensemble", str(tmp_path / "no.toml")])
    assert result.exit_code == 2 and "no such ensemble file" in result.output


def test_facts_with_an_ensemble_reports_coverage(ensemble: Path) -> None:
    result = runner.invoke(
        app, ["facts", str(TINY), "--ensemble", str(ensemble), "--role", "target", *SHORT]
    )
    assert result.exit_code == 0, result.output
    assert "inside the 5-95% range of the 3 members x 1 seed(s)" in result.stdout
    assert "inside the predictive 5-95% range" in " ".join(result.stdout.split())
