"""Samplers, seeds, parameter value mapping and run outputs (no simulation runs)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_sim.experiment import load_sweep, make_plan, run_seed
from market_sim.experiment.outputs import compute_outputs, parse_window
from market_sim.experiment.samplers import design_size
from market_sim.experiment.spec import ParameterSpec
from market_sim.experiment.sweep import Output, Parameter

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def _sweep(tmp_path: Path, sampler: str, extra: str = "", params: str = "") -> Path:
    params = params or (
        '"startups.count" = { min = 100, max = 400 }\n'
        '"startups.value_usd_per_gpu_hour" = { distribution = "lognormal", median = 5, '
        "sigma = 0.4 }\n"
        '"policy.allocation" = ["priority", "pro_rata", "fifo"]\n'
    )
    path = tmp_path / f"{sampler}.toml"
    path.write_text(
        f'base = "{BASELINE}"\nsampler = "{sampler}"\nseed = 5\n{extra}\n'
        f"[parameters]\n{params}\n"
        '[outputs]\nlead = { metric = "lead_time_weeks_median@startups" }\n'
    )
    return path


@pytest.mark.parametrize(
    ("sampler", "extra", "points"),
    [
        ("lhs", "samples = 6", 6),
        ("sobol", "samples = 4", 4 * (3 + 2)),
        ("morris", "samples = 3", 3 * (3 + 1)),
    ],
)
def test_sampler_sizes_and_determinism(tmp_path: Path, sampler: str, extra: str, points: int):
    sweep = load_sweep(_sweep(tmp_path, sampler, extra), check_metrics=False)
    plan = make_plan(sweep)
    assert design_size(sweep) == plan.design.size == points
    assert len(plan.runs) == points * sweep.replicates * len(sweep.scenarios)
    again = make_plan(load_sweep(_sweep(tmp_path, sampler, extra), check_metrics=False))
    assert again.design.values == plan.design.values and again.fingerprint == plan.fingerprint
    for values in plan.design.values:
        assert 100 <= values["startups.count"] <= 400
        assert isinstance(values["startups.count"], int)
        assert values["policy.allocation"] in ("priority", "pro_rata", "fifo")
        assert values["startups.value_usd_per_gpu_hour"] > 0


def test_grid_is_the_product_and_replicates_share_seeds(tmp_path: Path) -> None:
    params = (
        '"startups.count" = { min = 100, max = 300, levels = 3 }\n'
        '"policy.allocation" = ["priority", "pro_rata"]\n'
    )
    sweep = load_sweep(_sweep(tmp_path, "grid", "replicates = 2", params), check_metrics=False)
    plan = make_plan(sweep)
    combos = {(v["startups.count"], v["policy.allocation"]) for v in plan.design.values}
    assert combos == {(c, a) for c in (100, 200, 300) for a in ("priority", "pro_rata")}
    assert len(plan.runs) == 6 * 2
    seeds = {(r.sample, r.replicate): r.seed for r in plan.runs}
    assert len(set(seeds.values())) == len(seeds)  # distinct per (sample, replicate)
    assert all(r.seed == run_seed(5, r.sample, r.replicate) for r in plan.runs)
    assert plan.runs[0].overrides == ("startups.count=100", "policy.allocation=priority")


def test_run_seed_is_numpy_spawn() -> None:
    child = np.random.SeedSequence(7).spawn(4)[3].spawn(3)[2]
    assert run_seed(7, 3, 2) == int(child.generate_state(1, dtype=np.uint32)[0])


@given(u=st.floats(0, 1))
def test_parameter_mapping_stays_in_bounds(u: float) -> None:
    cases = [
        ParameterSpec(min=2, max=8),
        ParameterSpec(distribution="loguniform", min=1, max=100),
        ParameterSpec(distribution="triangular", min=0, mode=1, max=4),
        ParameterSpec(distribution="normal", mean=0, sd=1, min=-1, max=2),
        ParameterSpec(distribution="lognormal", median=5, sigma=0.5, max=20),
    ]
    for spec in cases:
        x = Parameter("p", spec, False, ("a",)).from_unit(u)
        assert math.isfinite(x)
        lo = spec.min if spec.min is not None else -math.inf
        hi = spec.max if spec.max is not None else math.inf
        assert lo - 1e-9 <= x <= hi + 1e-9


def test_parameter_mapping_values() -> None:
    p = Parameter("p", ParameterSpec(min=0, max=10), True, ("a",))
    assert (p.from_unit(0), p.from_unit(0.55), p.from_unit(1)) == (0, 6, 10)
    v = Parameter("p", ParameterSpec(values=["a", "b"]), False, ("a",))
    assert [v.from_unit(u) for u in (0, 0.49, 0.5, 1)] == ["a", "a", "b", "b"]
    normal = Parameter("p", ParameterSpec(distribution="normal", mean=3, sd=2), False, ("a",))
    assert normal.from_unit(0.5) == pytest.approx(3)
    assert math.isfinite(normal.from_unit(0)) and math.isfinite(normal.from_unit(1))


def _frame() -> pd.DataFrame:
    weeks = 104  # 2023-01-02 .. 2024-12-23
    dates = pd.date_range("2023-01-02", periods=weeks, freq="7D")
    return pd.DataFrame(
        {
            "week": np.arange(weeks),
            "date": dates,
            "lead_time_weeks@H100": np.where(dates.year == 2024, 30.0, 10.0),
            "deliveries_units@a": np.ones(weeks),
            "deliveries_units@b": np.full(weeks, 3.0),
            "deliveries_units": np.full(weeks, 4.0),
            "compute_share_pct@top5": np.linspace(40, 60, weeks),
        }
    )


def test_outputs_follow_the_facts_rules() -> None:
    outs = [
        Output("lead24", "lead_time_weeks@H100", "2024", "auto"),
        Output("lead_last8", "lead_time_weeks@H100", "last:8", "mean"),
        Output("lead_all_max", "lead_time_weeks@H100", "all", "max"),
        Output("units23", "deliveries_units@a", "2023", "auto"),  # a flow: summed
        Output("units_ab", "deliveries_units@a+b", "first:4", "sum"),
        Output("share_a", "delivery_share_pct@a", "2024-Q1", "auto"),  # ratio of sums
        Output("top5_end", "compute_share_pct@top5", "all", "auto"),  # a stock: last
        Output("missing", "lead_time_weeks@H100", "2026", "auto"),
    ]
    got = compute_outputs(_frame(), outs)
    assert got["lead24"] == pytest.approx(30.0)
    assert got["lead_last8"] == 30.0 and got["lead_all_max"] == 30.0
    assert got["units23"] == pytest.approx(365 / 7, rel=1e-6)
    assert got["units_ab"] == 16.0
    assert got["share_a"] == pytest.approx(25.0)
    assert got["top5_end"] == pytest.approx(60.0)
    assert math.isnan(got["missing"])


@pytest.mark.parametrize("text", ["all", "2024", "2024-Q3", "2024-q1", "2023-11", "last:4"])
def test_windows_parse(text: str) -> None:
    parse_window(text)


@pytest.mark.parametrize("text", ["2024-H1", "last:0", "2024-13", "weeks 1-4", ""])
def test_bad_windows(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)
