"""``compare`` with ``--set``/``--set-b``, the claims' windowed outputs and the weekly
differences with their band (in-process, tiny 20-week runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.compare_claims import (
    OTHER,
    REVERSED,
    SAME,
    pairing,
    read_claim_outputs,
    rule_text,
)
from market_sim.experiment.outputs import compute_output
from market_sim.experiment.spec import ClaimSpec
from market_sim.experiment.sweep import Output
from market_sim.runs.compare import t_interval
from market_sim.scenario import ScenarioError, load_scenario

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
SHORT = ["--set", "simulation.weeks=20"]

CLAIMS = """\
description = "test claims on the tiny scenario (it starts 2024-01-01)"
[outputs]
lead_q1 = { metric = "lead_time_weeks_median@startups", window = "2024-Q1", label = "Lead, Q1" }
rental_first = { metric = "rental_usd_per_gpu_hour@G1", window = "first:8", agg = "max" }
deliveries_q1 = { metric = "deliveries_units@startups", window = "2024-Q1" }
share_end = { metric = "compute_share_pct@startups", window = "last:1" }
lead_2025 = { metric = "lead_time_weeks@G1", window = "2025" }

[[claims]]
id = "lead"
text = "more startups wait longer"
output = "lead_q1"
scenario = "more.toml"
counterfactual = "base.toml"
direction = "increase"
threshold = 1.0

[[claims]]
id = "rent"
text = "more startups raise the rental price by 2%"
output = "rental_first"
scenario = "more.toml"
counterfactual = "base.toml"
direction = "increase"
threshold = 2.0
relative = true
"""


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base.toml (tiny, 20 weeks), more.toml (more startups) and claims.toml beside them."""
    d = tmp_path_factory.mktemp("scen")
    (d / "base.toml").write_text(f'extends = "{TINY}"\n[simulation]\nname = "base"\nweeks = 20\n')
    (d / "more.toml").write_text(
        'extends = "base.toml"\n[simulation]\nname = "more"\n[startups]\ncount = 80\n'
    )
    (d / "claims.toml").write_text(CLAIMS)
    return d


@pytest.fixture(scope="module")
def compared(scenarios: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base vs more over 3 seeds, the claims file found beside base.toml by default."""
    out = tmp_path_factory.mktemp("cmp") / "c"
    args = ["compare", str(scenarios / "base.toml"), str(scenarios / "more.toml")]
    result = runner.invoke(app, [*args, "--seeds", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "The claims' outputs" in result.stdout
    assert "for a verdict with intervals use market-sim claims" in result.stdout
    return out


def _runs(out: Path, label: str) -> list[pd.DataFrame]:
    data = json.loads((out / "compare.json").read_text())
    arm = next(a for a in data["arms"] if a["label"] == label)
    return [pd.read_parquet(out / f) for f in arm["files"]]


# --------------------------------------------------------------------------- --set


def test_set_applies_to_every_arm_and_set_b_to_b(tmp_path: Path) -> None:
    """X vs X: exactly zero; --set changes both arms alike (still zero, but the runs
    change); --set-b changes B only, which gives nonzero deltas."""
    base = ["compare", str(TINY), str(TINY), "--seeds", "2", *SHORT, "--claims", "none"]
    plain = tmp_path / "plain"
    assert runner.invoke(app, [*base, "--out", str(plain)]).exit_code == 0
    both = tmp_path / "both"
    result = runner.invoke(app, [*base, "--set", "policy.allocation=pro_rata", "--out", str(both)])
    assert result.exit_code == 0, result.output
    changed = tmp_path / "changed"
    args = [*base, "--set-b", "policy.allocation=pro_rata", "--out", str(changed)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output

    for folder in (plain, both):
        table = pd.read_csv(folder / "deltas.csv")
        assert (table["delta_mean"].fillna(0.0) == 0.0).all()
        weekly = pd.read_csv(folder / "deltas_weekly.csv")
        assert (weekly[["p05", "p50", "p95"]] == 0.0).all().all()
    # --set reached both arms: their runs differ from the plain ones
    a_plain, a_both = _runs(plain, "tiny")[0], _runs(both, "tiny")[0]
    assert len(a_both) == 20
    assert not np.allclose(a_plain["backlog_units@acme"], a_both["backlog_units@acme"])
    data = json.loads((both / "compare.json").read_text())
    assert data["overrides"] == ["simulation.weeks=20", "policy.allocation=pro_rata"]
    assert all(a["overrides"] == data["overrides"] for a in data["arms"])
    assert "policy.allocation=pro_rata" in (both / "report.html").read_text()

    table = pd.read_csv(changed / "deltas.csv")
    assert (table["delta_mean"].abs() > 0).any()
    assert set(table["b"]) == {"tiny (policy.allocation=pro_rata)"}
    data = json.loads((changed / "compare.json").read_text())
    assert data["overrides_b"] == ["policy.allocation=pro_rata"]
    assert data["arms"][0]["overrides"] == ["simulation.weeks=20"]
    assert data["arms"][1]["overrides"] == ["simulation.weeks=20", "policy.allocation=pro_rata"]
    weekly = pd.read_csv(changed / "deltas_weekly.csv")
    assert (weekly["p50"].abs() > 0).any()


def test_default_folder_names_the_set(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["compare", str(TINY), str(TINY), "--seeds", "1", "--set", "simulation.weeks=8"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [
        "compare-tiny-vs-tiny-2--simulation.weeks-8"
    ]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "tiny"
    result = runner.invoke(app, ["run", str(TINY), "--out", str(out), *SHORT])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("option", ["--set", "--set-b"])
def test_a_run_folder_takes_no_set(run_dir: Path, tmp_path: Path, option: str) -> None:
    out = tmp_path / "c"
    args = ["compare", str(TINY), str(run_dir), option, "startups.count=10", "--out", str(out)]
    line = _one_line_error(runner.invoke(app, args))
    assert line.startswith(f"{run_dir}: {option} applies to scenario files, not to a run folder")
    assert "pass the scenario file instead" in line
    assert not out.exists()


# --------------------------------------------------------------------------- claims


def test_claim_outputs_are_the_sweep_reducer_on_the_stored_runs(compared: Path) -> None:
    data = json.loads((compared / "compare.json").read_text())
    assert data["claims"]["file"].endswith("claims.toml")
    outputs = {o["name"]: Output(**o) for o in data["claims"]["outputs"]}
    assert list(outputs) == ["lead_q1", "rental_first", "deliveries_q1", "share_end", "lead_2025"]
    table = pd.read_csv(compared / "claims_deltas.csv").set_index("outcome")
    a_runs, b_runs = _runs(compared, "base"), _runs(compared, "more")
    for name, o in outputs.items():
        a = np.array([compute_output(f, o) for f in a_runs])
        b = np.array([compute_output(f, o) for f in b_runs])
        row = table.loc[name]
        assert row["metric"] == o.metric and row["window"] == o.window and row["agg"] == o.agg
        if name == "lead_2025":  # the runs end in May 2024: not covered
            assert np.isnan(a).all() and np.isnan(row["delta_mean"])
            continue
        assert np.isfinite(a).all() and np.isfinite(b).all()
        np.testing.assert_allclose(row["a_mean"], a.mean(), rtol=1e-12)
        np.testing.assert_allclose(row["b_mean"], b.mean(), rtol=1e-12)
        m, lo, hi = t_interval(b - a)
        np.testing.assert_allclose(
            [row["delta_mean"], row["delta_low"], row["delta_high"]], [m, lo, hi]
        )
        assert row["n_pairs"] == 3
    # a window reduction, not the whole run: Q1's sum of deliveries is less than the run's
    whole = sum(f["deliveries_units@startups"].sum() for f in a_runs) / 3
    assert table.loc["deliveries_q1", "a_mean"] < whole


def test_claims_show_rules_and_no_verdict(compared: Path) -> None:
    html = (compared / "report.html").read_text()
    assert "The claims&#39; outputs (B − A)" in html or "The claims' outputs (B − A)" in html
    assert "For a verdict with intervals use `market-sim claims`" in html
    assert "lead: more − base &gt; +1 weeks" in html
    assert "rent: (more − base) / base &gt; +2%" in html
    assert "B − A here is the claim&#39;s difference" in html
    section = html.split('id="claims"')[1].split("</section>")[0]
    assert not re.search(r"\b(holds|fails|verdict:)", section)


def test_report_renders_the_same_sections_again(compared: Path) -> None:
    before = (compared / "report.html").read_text()
    result = runner.invoke(app, ["report", str(compared)])
    assert result.exit_code == 0, result.output
    after = (compared / "report.html").read_text()
    for anchor in ('id="claims"', 'id="differences"', "fig-diff-main", "fig-diff-claims"):
        assert anchor in before and anchor in after


def test_claims_none_missing_and_bad(scenarios: Path, tmp_path: Path) -> None:
    pair = [str(scenarios / "base.toml"), str(scenarios / "more.toml"), "--seeds", "1"]
    out = tmp_path / "none"
    result = runner.invoke(app, ["compare", *pair, "--claims", "none", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "compare.json").read_text())["claims"] is None
    assert not (out / "claims_deltas.csv").exists()
    assert "No claims file was read" in (out / "report.html").read_text()

    missing = tmp_path / "nope.toml"
    line = _one_line_error(runner.invoke(app, ["compare", *pair, "--claims", str(missing)]))
    assert line.startswith(f"{missing}: --claims: file not found")

    bad = tmp_path / "bad.toml"
    bad.write_text('[outputs]\nx = { metric = "lead_time_weeks@H100", window = "2024" }\n')
    line = _one_line_error(runner.invoke(app, ["compare", *pair, "--claims", str(bad)]))
    assert line.startswith(f"{bad}: outputs.x.metric: 'lead_time_weeks@H100' is not recorded")
    bad.write_text('[outputs]\nx = { metric = "startups_active", window = "someday" }\n')
    line = _one_line_error(runner.invoke(app, ["compare", *pair, "--claims", str(bad)]))
    assert line.startswith(f"{bad}: outputs.x.window: window 'someday' is not one of")


def test_the_shipped_claims_file_fits_the_baseline() -> None:
    claims = read_claim_outputs(
        ROOT / "scenarios" / "claims.toml",
        {"baseline": load_scenario(ROOT / "scenarios" / "baseline.toml")},
    )
    names = [o.name for o in claims.outputs]
    assert {"startup_lead_2024", "rental_2024", "nvidia_revenue_2024", "top5_share_2025"} <= set(
        names
    )
    assert all(claims.claims_of(c.output) for c in claims.claims)
    with pytest.raises(ScenarioError):  # the tiny scenario has no top5 group, no H100
        read_claim_outputs(ROOT / "scenarios" / "claims.toml", {"tiny": load_scenario(TINY)})


def test_pairing_and_rule_text() -> None:
    claim = ClaimSpec(
        id="c",
        text="t",
        output="o",
        scenario="baseline.toml",
        counterfactual="no_meta_surge.toml",
        direction="decrease",
        threshold=0.5,
    )
    assert pairing(claim, "s/no_meta_surge.toml", "s/baseline.toml") == SAME
    assert pairing(claim, "s/baseline.toml", "x/no_meta_surge.toml") == REVERSED
    assert pairing(claim, "s/baseline.toml", "s/baseline.toml") == OTHER
    assert pairing(claim, "", "s/baseline.toml") == OTHER
    assert rule_text(claim, "pct") == "baseline − no_meta_surge < −0.5 pp"
    relative = claim.model_copy(update={"relative": True, "direction": "increase"})
    assert rule_text(relative, "usd") == "(baseline − no_meta_surge) / no_meta_surge > +0.5%"


# --------------------------------------------------------------------------- over time


def test_weekly_band_is_numpys_quantiles_of_the_stored_pairs(compared: Path) -> None:
    weekly = pd.read_csv(compared / "deltas_weekly.csv")
    assert list(weekly.columns) == ["a", "b", "metric", "date", "p05", "p50", "p95", "n"]
    assert (weekly["p05"] <= weekly["p50"]).all() and (weekly["p50"] <= weekly["p95"]).all()
    assert weekly["n"].eq(3).all()
    metrics = set(weekly["metric"])
    assert {"lead_time_weeks@G1", "spot_price_usd@G1", "startups_active"} <= metrics
    assert {"lead_time_weeks_median@startups", "compute_share_pct@startups"} <= metrics
    a_runs, b_runs = _runs(compared, "base"), _runs(compared, "more")
    for key in ("rental_usd_per_gpu_hour@G1", "startups_active", "compute_share_pct@startups"):
        diffs = np.vstack(
            [
                b[key].to_numpy(float) - a[key].to_numpy(float)
                for a, b in zip(a_runs, b_runs, strict=True)
            ]
        )
        expected = np.quantile(diffs, [0.05, 0.5, 0.95], axis=0)
        rows = weekly[weekly["metric"] == key]
        assert list(rows["date"]) == list(pd.to_datetime(a_runs[0]["date"]).dt.strftime("%Y-%m-%d"))
        np.testing.assert_allclose(rows[["p05", "p50", "p95"]].to_numpy().T, expected, rtol=1e-12)
    assert (weekly["p95"] - weekly["p05"]).max() > 0  # seeds differ: a band
    band = json.loads((compared / "compare.json").read_text())["weekly"]["band"]
    assert band == "median and 5-95% of 3 paired seeds: seed noise only"
    assert "seed noise only" in (compared / "report.html").read_text()


def test_one_pair_draws_a_line_and_says_no_band(scenarios: Path, tmp_path: Path) -> None:
    out = tmp_path / "one"
    args = ["compare", str(scenarios / "base.toml"), str(scenarios / "more.toml"), "--seeds", "1"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    weekly = pd.read_csv(out / "deltas_weekly.csv")
    assert weekly["n"].eq(1).all()
    assert (weekly["p05"] == weekly["p50"]).all() and (weekly["p50"] == weekly["p95"]).all()
    html = (out / "report.html").read_text()
    assert "one pair: the line is its difference, no band" in html


def test_several_b_arms_are_named_in_tables_and_series(scenarios: Path, tmp_path: Path) -> None:
    out = tmp_path / "three"
    base, more = str(scenarios / "base.toml"), str(scenarios / "more.toml")
    args = ["compare", base, more, base, "--seeds", "2", "--set-b", "startups.count=30"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    b_arms = ["more (startups.count=30)", "base (startups.count=30)"]
    weekly = pd.read_csv(out / "deltas_weekly.csv")
    assert list(dict.fromkeys(weekly["b"])) == b_arms
    claims = pd.read_csv(out / "claims_deltas.csv")
    assert list(dict.fromkeys(claims["b"])) == b_arms
    html = (out / "report.html").read_text()
    assert "<th>B arm</th>" in html
    assert "stated for other scenarios than these arms" in html  # base vs base: not the claim
