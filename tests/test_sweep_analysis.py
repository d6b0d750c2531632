"""Sensitivity indices and claims on synthetic results with a known answer (no runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market_sim.experiment import load_sweep, make_plan, manifest_for
from market_sim.experiment.claims import evaluate_claims, wilson
from market_sim.experiment.sensitivity import correlations, salib_indices

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"


def _manifest(tmp_path: Path, sampler: str, samples: int, claims: bool = False) -> dict:
    claim = (
        '[[claims]]\nid = "up"\ntext = "a raises y"\noutput = "y"\n'
        f'counterfactual = "{SCEN / "no_meta_surge.toml"}"\ndirection = "increase"\n'
        "threshold = 1.0\n"
    )
    path = tmp_path / "s.toml"
    path.write_text(
        f'base = "{SCEN / "baseline.toml"}"\nsampler = "{sampler}"\nsamples = {samples}\n'
        "seed = 3\n[parameters]\n"
        '"startups.value_usd_per_gpu_hour" = { min = 1, max = 9 }\n'
        '"policy.ordering.supply_line_weight" = { min = 0.1, max = 0.5 }\n'
        '"policy.allocation" = ["priority", "pro_rata"]\n'
        '[outputs]\ny = { metric = "lead_time_weeks_median@startups" }\n'
        + (claim if claims else "")
    )
    sweep = load_sweep(path, check_metrics=False)
    return manifest_for(sweep, make_plan(sweep))


def _frame(manifest: dict, fn) -> pd.DataFrame:
    rows = []
    for run in manifest["runs"]:
        values = manifest["design"][run["sample"]]["values"]
        rows.append(
            {**run, "status": "ok", "error": None, **values, "y": fn(values, run["scenario"])}
        )
    return pd.DataFrame(rows)


def _y(values: dict, scenario: str) -> float:
    a = values["startups.value_usd_per_gpu_hour"]
    b = values["policy.ordering.supply_line_weight"]
    return 3.0 * a + 2.0 * b  # allocation does not matter


def test_sobol_ranks_parameters(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "sobol", 64)
    idx, skipped = salib_indices(_frame(manifest, _y), manifest)
    assert not skipped
    st = idx[idx["measure"] == "ST"].set_index("parameter")["value"]
    assert st["startups.value_usd_per_gpu_hour"] > 0.9
    assert st["policy.allocation"] < 0.05
    s1 = idx[idx["measure"] == "S1"].set_index("parameter")
    assert (s1["conf"] >= 0).all()


def test_morris_ranks_parameters(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "morris", 8)
    idx, _ = salib_indices(_frame(manifest, _y), manifest)
    mu = idx[idx["measure"] == "mu_star"].set_index("parameter")["value"]
    assert mu["startups.value_usd_per_gpu_hour"] > mu["policy.ordering.supply_line_weight"]
    assert mu["policy.allocation"] == pytest.approx(0.0)


def test_failed_points_skip_indices_but_not_correlations(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "sobol", 8)
    frame = _frame(manifest, _y)
    frame.loc[3, "status"] = "failed"
    idx, skipped = salib_indices(frame, manifest)
    assert idx.empty and "y" in skipped
    corr = correlations(frame, manifest).set_index("parameter")["value"]
    assert corr["startups.value_usd_per_gpu_hour"] > 0.8


def test_claim_share_interval_and_driver(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "lhs", 40, claims=True)

    def y(values: dict, scenario: str) -> float:  # the claim holds when b > 0.3
        b = values["policy.ordering.supply_line_weight"]
        return 10.0 * (b - 0.3) if scenario == "baseline" else 0.0

    [result] = evaluate_claims(_frame(manifest, y), manifest)
    design_b = np.array(
        [d["values"]["policy.ordering.supply_line_weight"] for d in manifest["design"]]
    )
    expected = int((10.0 * (design_b - 0.3) > 1.0).sum())
    assert result.n == 40 and result.holds == expected
    assert result.low <= result.share <= result.high
    top = result.drivers[0]
    assert top.parameter == "policy.ordering.supply_line_weight"
    assert top.association == pytest.approx(1.0)
    assert "> 0.4" in top.rule and "at 100%" in top.rule and "at 0% below" in top.rule


def test_claim_pairs_skip_failed_runs(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "lhs", 5, claims=True)
    frame = _frame(manifest, lambda v, s: 5.0 if s == "baseline" else 1.0)
    frame.loc[frame["run_id"] == manifest["runs"][1]["run_id"], "status"] = "failed"
    [result] = evaluate_claims(frame, manifest)
    assert (result.n, result.holds, result.excluded) == (4, 4, 1)
    assert result.verdict == "holds mostly"


def test_wilson() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0
    assert all(np.isnan(wilson(0, 0)))


def test_sweep_report_claims_sensitivity_on_two_processes_with_progress(tmp_path: Path) -> None:
    """The sweep report's claims: their sensitivities (the delta method on a Latin
    hypercube, minutes for a big sweep) shared out over processes give the same tables
    as one process, and report progress one claim at a time."""
    from market_sim.report.sweep_report import _answers

    manifest = _manifest(tmp_path, "lhs", 40, claims=True)
    second = {**manifest["claims"][0], "id": "up-more", "threshold": 3.0}
    manifest["claims"].append(second)

    def y(values: dict, scenario: str) -> float:
        b = values["policy.ordering.supply_line_weight"]
        return 10.0 * (b - 0.3) if scenario == "baseline" else 0.0

    frame = _frame(manifest, y)
    calls: list[tuple] = []
    one = _answers(frame, manifest, manifest["claims"], 1, None)
    two = _answers(frame, manifest, manifest["claims"], 2, lambda *a: calls.append(a))
    assert [a.id for a, _ in two] == ["up", "up-more"]
    for (a1, s1), (a2, s2) in zip(one, two, strict=True):
        assert a1 == a2
        pd.testing.assert_frame_equal(s1.table, s2.table)
        assert set(s1.table["parameter"]) == {
            "policy.ordering.supply_line_weight",
            "startups.value_usd_per_gpu_hour",
        }
    assert calls[0][:2] == (0, 2) and calls[-1][:2] == (2, 2)
