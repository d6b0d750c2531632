"""A run that names its outputs records only those columns, with the values of a full
run (GPUMarketModel(outputs=...), the recorder's families, the sweep worker)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fault_helpers import SMALL_SWEEP
from market_sim.experiment import load_sweep, make_plan
from market_sim.experiment.outputs import columns_read, compute_outputs
from market_sim.experiment.sweep import Output
from market_sim.experiment.worker import reduce_run, run_context, simulate
from market_sim.model import GPUMarketModel
from model_helpers import BASELINE, FAST

OVER = [*FAST, "simulation.weeks=60"]


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    return simulate(BASELINE, 5, OVER)


@pytest.mark.parametrize(
    "keys",
    [
        ["lead_time_weeks@H100"],  # products only
        ["nvidia_gross_margin_pct", "startups_active"],  # market needs vendors' values
        ["gini_compute", "compute_share_pct@top5", "realised_lead_time_weeks_p90@startups"],
        ["utilisation_pct@cowos", "rental_usd_per_gpu_hour@H100", "spot_premium_pct"],
    ],
)
def test_named_columns_equal_the_full_run(full: pd.DataFrame, keys: list[str]) -> None:
    keys = [k for k in keys if k in full.columns] or keys[:0]
    assert keys, "the keys exist in the catalogue"
    with GPUMarketModel(BASELINE, seed=5, overrides=OVER, outputs=keys) as model:
        part = model.run()
        ran = model.recorder.families
    assert list(part.columns) == ["week", "date", *[k for k in full.columns if k in keys]]
    pd.testing.assert_frame_equal(part, full[part.columns], check_exact=True)
    assert len(ran) < 10 and "firms" in ran  # fewer collectors; the firms' record stays


def test_unknown_output_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in the metric catalogue"):
        GPUMarketModel(BASELINE, seed=5, overrides=OVER, outputs=["no_such_metric"])


def test_columns_read_covers_sums_ratios_and_windows(full: pd.DataFrame) -> None:
    columns = [c for c in full.columns if c not in ("week", "date")]
    outputs = [
        Output("a", "compute_share_pct@top5", "all", "auto"),
        Output("b", "nvidia_gross_margin_pct", "2023", "auto"),  # a ratio: its components
        Output("c", "deliveries_units@meta+microsoft", "first:20", "sum"),
        Output("d", "rental_usd_per_gpu_hour@H100", "2031", "mean"),  # window not covered
    ]
    read = columns_read(outputs, columns, full["date"])
    assert {"deliveries_units@meta", "deliveries_units@microsoft"} <= set(read)
    assert "compute_share_pct@top5" in read
    assert len(read) < 15
    values = compute_outputs(full[["week", "date", *read]], outputs)
    want = compute_outputs(full, outputs)
    assert values.keys() == want.keys()
    for k in want:
        assert values[k] == want[k] or (np.isnan(values[k]) and np.isnan(want[k])), k


def test_sweep_worker_records_what_its_outputs_read() -> None:
    sweep = load_sweep(SMALL_SWEEP, check_metrics=False)
    spec = make_plan(sweep).runs[0]
    outputs = list(sweep.outputs.values())
    context = run_context({k: v.data for k, v in sweep.scenarios.items()}, outputs, sweep.series)
    status, error, table = reduce_run(spec, context)
    assert (status, error) == ("ok", None)
    frame = simulate(sweep.scenarios[spec.scenario].data, spec.seed, spec.overrides)
    want = compute_outputs(frame, outputs)
    rows = table.to_pandas()
    rows = rows[rows["kind"] == "output"]
    got = dict(zip(rows["name"], rows["value"], strict=True))
    assert got == pytest.approx(want, rel=0, abs=0)  # equal, value for value
    assert set(got) == {o.name for o in outputs}


def test_calibration_evaluation_equals_one_that_records_everything(monkeypatch) -> None:
    from market_sim.experiment.calibration import evaluate as ev
    from market_sim.facts import DEFAULT_FACTS, load_facts
    from market_sim.scenario import load_scenario

    scenario = load_scenario(BASELINE, FAST)
    facts = load_facts(DEFAULT_FACTS)
    weights = np.ones(len(facts))
    params = {"policy.ordering.supply_line_weight": 0.4}
    args = (scenario, params, [3], facts, weights, [], None, 70)
    assert len(ev.recorded_columns(scenario, facts)) < len(scenario_keys(scenario))
    part = ev.evaluate(*args)
    monkeypatch.setattr(ev, "recorded_columns", lambda s, f: None)  # every column
    full = ev.evaluate(*args)
    assert part.error is None and full.error is None
    for name in ("objective", "simulated", "distance", "inside", "breach_weeks"):
        np.testing.assert_equal(getattr(part, name), getattr(full, name), err_msg=name)


def scenario_keys(scenario) -> list[str]:
    from market_sim.outcomes.catalogue import metric_keys

    return metric_keys(scenario)
