"""The model's discrepancy and the predictive range (market_sim/facts/discrepancy.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from market_sim.facts.discrepancy import (
    MIN_FACTS,
    coverage,
    discrepancy_sd,
    fact_coverage,
    log_error,
    predictive_range,
)

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)


def test_sd_zero_is_the_runs_own_percentiles():
    values = [3.0, 1.0, 7.0, 4.0, 10.0]
    assert predictive_range(values, 0.0) == tuple(np.percentile(values, [5, 95]))


@given(v=positive, sd=st.floats(min_value=0.01, max_value=2.0))
def test_one_run_gives_the_lognormal_quantiles(v, sd):
    lo, hi = predictive_range([v], sd)
    z = norm.ppf(0.95)
    assert lo == pytest.approx(v * math.exp(-z * sd), rel=1e-8)
    assert hi == pytest.approx(v * math.exp(z * sd), rel=1e-8)


@settings(max_examples=50)
@given(
    values=st.lists(positive, min_size=1, max_size=12),
    sd=st.floats(min_value=0.01, max_value=1.5),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_the_range_scales_with_the_values_and_holds_them(values, sd, scale):
    lo, hi = predictive_range(values, sd)
    slo, shi = predictive_range([scale * v for v in values], sd)
    assert slo == pytest.approx(scale * lo, rel=1e-6)
    assert shi == pytest.approx(scale * hi, rel=1e-6)
    # the mixture's 5-95% range reaches at least as far as the median run either side
    assert lo <= np.median(values) <= hi


def test_no_value_or_no_sd_gives_nan():
    assert all(math.isnan(x) for x in predictive_range([], 0.3))
    assert all(math.isnan(x) for x in predictive_range([1.0, 2.0], math.nan))
    assert all(math.isnan(x) for x in predictive_range([-1.0, 2.0], 0.3))


def test_log_error_and_sd():
    assert log_error([2.0, 4.0, 100.0], 2.0) == pytest.approx(math.log(2.0))
    assert math.isnan(log_error([1.0], 0.0))
    assert math.isnan(discrepancy_sd([0.1] * (MIN_FACTS - 1)))
    assert discrepancy_sd([0.3, -0.3, 0.3, -0.3, 0.3, math.nan]) == pytest.approx(0.3)


def test_no_fact_is_scored_with_its_own_error():
    # five facts the runs hit within 10%, and one they miss by a factor 5
    runs = [[1.1, 1.0, 0.9]] * 5 + [[5.0, 5.2, 4.8]]
    observed = [1.0] * 6
    ids = [f"F{i}" for i in range(6)]
    rec = coverage(runs, observed, ids)
    errs = [r["log_error"] for r in rec]
    assert errs[5] == pytest.approx(math.log(5.0))
    # the missed fact's range is widened by the others' small error only: still missed
    assert rec[5]["discrepancy_sd"] == pytest.approx(discrepancy_sd(errs[:5]))
    assert not rec[5]["inside_predictive"]
    # each well-hit fact's sd includes the big miss (others), so it is covered
    assert all(r["inside_predictive"] for r in rec[:5])
    assert all(r["inside"] for r in rec[:5]) and not rec[5]["inside"]


def test_out_of_sample_facts_use_the_fitted_facts_error_only():
    runs = [[1.0, 1.05]] * 5 + [[3.0, 3.1], [1.0, 1.0]]
    observed = [1.0] * 7
    ids = [f"F{i}" for i in range(7)]
    fitted = ids[:5]
    rec = coverage(runs, observed, ids, fitted=fitted)
    fitted_sd = discrepancy_sd([r["log_error"] for r in rec[:5]])
    assert rec[5]["discrepancy_sd"] == pytest.approx(fitted_sd)
    assert rec[6]["discrepancy_sd"] == pytest.approx(fitted_sd)
    assert not rec[5]["inside_predictive"]  # a factor 3 miss a small in-sample error can't hide


def test_fact_coverage_table():
    facts = pd.DataFrame(
        {
            "fact_id": [f"F{i}" for i in range(6)],
            "metric_key": ["m"] * 6,
            "date": ["2024"] * 6,
            "window": ["year"] * 6,
            "observed": [1.0] * 6,
        }
    )
    scored = [facts.assign(simulated=[x] * 5 + [2 * x]) for x in (0.9, 1.0, 1.2)]
    table = fact_coverage(scored)
    assert list(table["n"]) == [3] * 6
    assert table.loc[:4, "inside"].all() and not table.loc[5, "inside"]
    assert {"pred_p05", "pred_p95", "inside_predictive", "discrepancy_sd"} <= set(table)
