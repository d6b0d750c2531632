"""Facts: loading, window reductions, ratio metrics, bands and scoring.

Synthetic runs start on Monday 2023-01-02 (week 0); week w covers the 7 days from
2023-01-02 + 7w. A week counts in a window by its share of days inside it, and the shares are
scaled by (window days / 7) / (sum of shares), which is 1 when the run covers every day of
the window (docs/facts.md). Hand counts used below (days inside the window per week):

- Nov 2023 (30 days): week 43 (Oct 30-Nov 5) 5, weeks 44-46 7 each, week 47 (Nov 27-Dec 3) 4.
- Jan 2024 (31 days): weeks 52-55 (Jan 1-28) 7 each, week 56 (Jan 29-Feb 4) 3.
- 2024-Q3 (92 days): weeks 78-90 (Jul 1-Sep 29) 7 each, week 91 (Sep 30-Oct 6) 1.
- 2023 (365 days): weeks 0-51 (Jan 2-Dec 31) are wholly inside; the run misses Sunday Jan 1,
  so the shares add up to 52 and a flow is scaled by (365/7)/52 = 365/364.
- 2024 (366 days): weeks 52-103 whole, week 104 (Dec 30-Jan 5) 2; fully covered.
- 2025 (365 days): week 104 5, weeks 105-155 whole, week 156 (Dec 29-Jan 4) 3; fully covered
  by the default 157-week run (a 156-week run misses Dec 29-31).

So a constant flow of c per week gives c * days / 7 over any covered window.
"""

from __future__ import annotations

import calendar
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.table import Table

from market_sim.facts import (
    DEFAULT_FACTS,
    FACT_COLUMNS,
    FactsFileError,
    band,
    format_table,
    in_band,
    load_facts,
    metric_kind,
    reduce_fact,
    reduce_fact_detail,
    run_covers,
    score_facts,
    summary_line,
    window_bounds,
)
from market_sim.outcomes.catalogue import UnknownMetric

SHARED_FACTS = DEFAULT_FACTS  # the packaged copy of shared/data/market_facts.csv
START = "2023-01-02"


def make_frame(weeks: int = 157, start: str = START, **columns) -> pd.DataFrame:
    """Weekly frame; each column is a scalar or a function of the week index array."""
    week = np.arange(weeks)
    frame = pd.DataFrame({"date": pd.date_range(start, periods=weeks, freq="7D"), "week": week})
    for name, spec in columns.items():
        frame[name] = (spec(week) if callable(spec) else np.full(weeks, spec)).astype(float)
    return frame


def cols(**kw) -> dict:
    """Column names contain '@' and ':' which cannot be keyword names: use a__b for a@b."""
    return {k.replace("__", "@").replace("_COLON_", ":"): v for k, v in kw.items()}


def facts_frame(rows: list[dict]) -> pd.DataFrame:
    """A facts table as load_facts returns it, from partial rows."""
    base = {"low": math.nan, "high": math.nan, "unit": "", "role": "target", "description": ""}
    out = [{"source": "", **base, **r} for r in rows]
    for i, r in enumerate(out):
        r.setdefault("fact_id", f"T{i:03d}")
    return pd.DataFrame(out, columns=list(FACT_COLUMNS))


# --------------------------------------------------------------------------- windows


def test_window_bounds():
    ts = pd.Timestamp
    assert window_bounds("2023-11", "month") == (ts("2023-11-01"), ts("2023-12-01"))
    assert window_bounds("2023-12", "month") == (ts("2023-12-01"), ts("2024-01-01"))
    assert window_bounds("2024-Q3", "quarter") == (ts("2024-07-01"), ts("2024-10-01"))
    assert window_bounds("2024-01", "quarter_ending") == (ts("2023-11-01"), ts("2024-02-01"))
    assert window_bounds("2024", "year") == (ts("2024-01-01"), ts("2025-01-01"))
    for date, window in [("2024-13", "month"), ("2024-Q5", "quarter"), ("24", "year")]:
        with pytest.raises(ValueError):
            window_bounds(date, window)
    with pytest.raises(ValueError, match="unknown window"):
        window_bounds("2024", "decade")


def test_run_covers_allows_partial_edge_weeks():
    start, end = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-01-01")
    last = pd.Timestamp("2023-12-25")  # covers Dec 25-31
    assert run_covers(pd.Timestamp("2023-01-07"), last, start, end)  # starts 6 days in
    assert not run_covers(pd.Timestamp("2023-01-08"), last, start, end)  # a week missing
    assert run_covers(pd.Timestamp("2022-06-06"), last, start, end)
    # the last week ends on Dec 24: a week (Dec 25-31) is missing
    assert not run_covers(pd.Timestamp("2023-01-02"), pd.Timestamp("2023-12-17"), start, end)
    # the last week starts Dec 22 and ends Dec 28: only 3 days are missing
    assert run_covers(pd.Timestamp("2023-01-02"), pd.Timestamp("2023-12-22"), start, end)


def test_metric_kinds():
    assert metric_kind("lead_time_weeks@H100") == "level"
    assert metric_kind("deliveries_units") == "flow"
    assert metric_kind("installed_h100e@meta") == "stock"
    assert metric_kind("compute_share_pct@top5") == "stock"
    with pytest.raises(UnknownMetric, match="something_new"):  # never a silent default
        metric_kind("something_new@x")


# --------------------------------------------------------------------------- reductions


def test_month_mean_of_level():
    frame = make_frame(**cols(lead_time_weeks__H100=lambda w: w))
    key = "lead_time_weeks@H100"
    # Nov 2023: (43*5 + (44+45+46)*7 + 47*4) / 30 = (215 + 945 + 188) / 30 = 1348/30 = 44.93
    assert reduce_fact(frame, key, "2023-11", "month") == pytest.approx(1348 / 30)
    # Jan 2024: ((52+53+54+55)*7 + 56*3) / 31 = (1498 + 168) / 31 = 1666/31 = 53.74
    assert reduce_fact(frame, key, "2024-01", "month") == pytest.approx(1666 / 31)


def test_month_quarter_year_sums_of_flow():
    frame = make_frame(**cols(deliveries_units__meta=100.0))
    key = "deliveries_units@meta"
    # 100/week over d days of a covered window = 100 * d / 7
    assert reduce_fact(frame, key, "2023-11", "month") == pytest.approx(100 * 30 / 7)  # 5+21+4
    assert reduce_fact(frame, key, "2024-01", "month") == pytest.approx(100 * 31 / 7)  # 28+3
    # Jul 31 + Aug 31 + Sep 30 = 92 days (91 in weeks 78-90, 1 in week 91)
    assert reduce_fact(frame, key, "2024-Q3", "quarter") == pytest.approx(100 * 92 / 7)
    # 52 whole weeks = 5200, scaled by 365/364 for the missed Jan 1: 36500/7 = 5214.29
    assert reduce_fact(frame, key, "2023", "year") == pytest.approx(100 * 365 / 7)
    # 52 whole weeks + 2/7 of week 104 (Dec 30-31) = 366/7 weeks, not 53 week starts
    assert reduce_fact(frame, key, "2024", "year") == pytest.approx(100 * 366 / 7)
    # 5/7 (Jan 1-5) + 51 whole weeks + 3/7 (Dec 29-31) = 365/7
    assert reduce_fact(frame, key, "2025", "year") == pytest.approx(100 * 365 / 7)


def test_quarter_ending_spans_year_boundary():
    frame = make_frame(nvidia_dc_revenue_usd_bn=lambda w: w, demand_units=1.0)
    # Nov 1 2023 - Jan 31 2024 (30 + 31 + 31 = 92 days): week 43 has 5 days inside (Nov 1-5),
    # weeks 44-55 are whole (44 + ... + 55 = 594), week 56 has 3 (Jan 29-31):
    # (43*5 + 594*7 + 56*3) / 7 = (215 + 4158 + 168) / 7 = 4541/7 = 648.71
    revenue = reduce_fact(frame, "nvidia_dc_revenue_usd_bn", "2024-01", "quarter_ending")
    assert revenue == pytest.approx(4541 / 7)
    assert reduce_fact(frame, "demand_units", "2024-01", "quarter_ending") == pytest.approx(92 / 7)


def test_stock_takes_last_value():
    frame = make_frame(**cols(installed_units__meta=lambda w: 1000 + 10 * w))
    key = "installed_units@meta"
    # the last week with any day inside the window, even if it ends after the window
    assert reduce_fact(frame, key, "2023-11", "month") == 1470.0  # week 47 (Nov 27-Dec 3)
    assert reduce_fact(frame, key, "2023", "year") == 1510.0  # week 51 (Dec 25-31)
    assert reduce_fact(frame, key, "2024-Q3", "quarter") == 1910.0  # week 91 (Sep 30-Oct 6)


def test_level_over_quarter_and_year():
    frame = make_frame(**cols(spot_price_usd__H100=lambda w: w))
    # Q3 2024: (7 * (78 + ... + 90) + 91 * 1) / 92 = (7 * 1092 + 91) / 92 = 7735/92 = 84.08
    assert reduce_fact(frame, "spot_price_usd@H100", "2024-Q3", "quarter") == pytest.approx(
        7735 / 92
    )
    # 2023: weeks 0..51 are all whole weeks of 2023 (the missed Jan 1 does not move a mean)
    assert reduce_fact(frame, "spot_price_usd@H100", "2023", "year") == pytest.approx(25.5)


def test_nan_weeks_are_ignored_and_all_nan_is_not_simulated():
    frame = make_frame(**cols(spot_price_usd__H100=lambda w: np.where(w == 44, np.nan, w)))
    # Nov 2023 without week 44: (43*5 + 45*7 + 46*7 + 47*4) / (5+7+7+4) = 1040/23 = 45.22
    assert reduce_fact(frame, "spot_price_usd@H100", "2023-11", "month") == pytest.approx(1040 / 23)
    frame["spot_price_usd@H100"] = np.nan
    result = reduce_fact_detail(frame, "spot_price_usd@H100", "2023-11", "month")
    assert math.isnan(result.value) and result.reason == "no data in the window"


def test_window_outside_run():
    frame = make_frame(156, **cols(deliveries_units__meta=1.0))  # last week 2025-12-22..28
    # misses only Dec 29-31 of 2025: covered; 5/7 (Jan 1-5) + 51 whole weeks = 362/7 weeks,
    # scaled by (365/7)/(362/7): the sum is extrapolated to 365/7 = 52.14
    assert reduce_fact(frame, "deliveries_units@meta", "2025", "year") == pytest.approx(365 / 7)
    short = make_frame(155, **cols(deliveries_units__meta=1.0))  # ends 2025-12-21
    result = reduce_fact_detail(short, "deliveries_units@meta", "2025", "year")
    assert math.isnan(result.value) and result.reason == "window outside the run"
    # Nov 2025: Oct 27 week (Nov 1-2: 2/7) + 4 whole weeks (Nov 3-30) = 30/7
    assert reduce_fact(frame, "deliveries_units@meta", "2025-11", "month") == pytest.approx(30 / 7)
    assert math.isnan(reduce_fact(frame, "deliveries_units@meta", "2022-12", "month"))
    late = make_frame(52, start="2023-01-09", **cols(deliveries_units__meta=1.0))
    # first week starts 8 days after Jan 1 (Jan 1-8 missed): not covered
    assert math.isnan(reduce_fact(late, "deliveries_units@meta", "2023", "year"))
    # Feb 2023: Jan 30 week (Feb 1-5: 5/7) + 3 whole weeks + Feb 27 week (Feb 27-28: 2/7) = 4
    assert reduce_fact(late, "deliveries_units@meta", "2023-02", "month") == pytest.approx(4.0)


def test_missing_column_is_nan():
    frame = make_frame(deliveries_units=1.0)
    result = reduce_fact_detail(frame, "rental_usd_per_gpu_hour@H100", "2023-11", "month")
    assert math.isnan(result.value) and "rental_usd_per_gpu_hour@H100" in result.reason


# --------------------------------------------------------------------------- ratios, selectors


def share_frame() -> pd.DataFrame:
    return make_frame(
        **cols(
            deliveries_units=1000.0,
            deliveries_units__nvidia=800.0,
            incumbent_deliveries_units=800.0,  # the incumbent (outcomes.incumbent_vendor)
            deliveries_units__meta=100.0,
            deliveries_units__microsoft=250.0,
            deliveries_h100e=2000.0,
            deliveries_h100e__nvidia=1800.0,
            incumbent_deliveries_h100e=1800.0,
            deliveries_h100e__meta=300.0,
            output_wafers__tsmc_cowos=3000.0,
            output_wafers__tsmc_cowos_COLON_nvidia=1800.0,
            output_wafers__tsmc_cowos_COLON_amd=300.0,
            installed_units__meta=lambda w: 10.0 * w,
            installed_units__microsoft=lambda w: 20.0 * w,
            lead_time_weeks__H100=30.0,
            lead_time_weeks__B200=40.0,
            # a weekly share column that must be ignored while components exist
            delivery_share_pct__meta=99.0,
        )
    )


def test_share_metrics_from_components():
    frame = share_frame()
    assert reduce_fact(frame, "delivery_share_pct@meta", "2023", "year") == pytest.approx(10.0)
    assert reduce_fact(frame, "nvidia_unit_share_pct", "2024-Q3", "quarter") == pytest.approx(80)
    assert reduce_fact(frame, "nvidia_new_compute_share_pct", "2023", "year") == pytest.approx(90)
    assert reduce_fact(frame, "new_compute_share_pct@meta", "2023-11", "month") == pytest.approx(
        15.0
    )
    assert reduce_fact(frame, "delivery_share_pct@microsoft+meta", "2024", "year") == pytest.approx(
        35.0
    )


def test_capacity_share_node_vendor():
    frame = share_frame()
    key = "capacity_share_pct@tsmc_cowos:nvidia"
    assert reduce_fact(frame, key, "2023-11", "month") == pytest.approx(60.0)
    assert reduce_fact(frame, "capacity_share_pct@tsmc_cowos:nvidia+amd", "2024", "year") == (
        pytest.approx(70.0)
    )
    assert math.isnan(reduce_fact(frame, "capacity_share_pct@tsmc_cowos", "2024", "year"))


def test_gross_margin_is_ratio_of_sums():
    # revenue 2/week in 2023 and 4/week in 2024, cogs 0.5/week throughout
    frame = make_frame(
        nvidia_dc_revenue_usd_bn=lambda w: np.where(w < 52, 2.0, 4.0), nvidia_cogs_usd_bn=0.5
    )
    # quarter ending Jan 2024 (Nov 1 - Jan 31, 92 days): in 2023 week 43 (5 days) + weeks 44-51
    # (56 days) = 61/7 weeks at 2; in 2024 weeks 52-55 (28 days) + week 56 (3 days) = 31/7 weeks
    # at 4. Revenue (2*61 + 4*31)/7 = 246/7, cogs 0.5 * 92/7 = 46/7: margin 100 * (1 - 46/246)
    got = reduce_fact(frame, "nvidia_gross_margin_pct", "2024-01", "quarter_ending")
    assert got == pytest.approx(100 * (1 - 46 / 246))  # 81.30
    # not the day-weighted mean of the weekly margins, (75*61 + 87.5*31)/92 = 79.21
    assert got != pytest.approx((75 * 61 + 87.5 * 31) / 92)
    assert reduce_fact(frame, "nvidia_gross_margin_pct", "2023", "year") == pytest.approx(75.0)


def test_ratio_zero_denominator_and_fallback():
    frame = make_frame(**cols(deliveries_units=0.0, deliveries_units__meta=0.0))
    result = reduce_fact_detail(frame, "delivery_share_pct@meta", "2023", "year")
    assert math.isnan(result.value) and result.reason == "zero denominator"
    only_column = make_frame(nvidia_gross_margin_pct=lambda w: np.where(w % 2, 60.0, 80.0))
    # weeks 0-51 are the whole weeks of 2023, equal weights: 26 at 80, 26 at 60 -> mean 70
    assert reduce_fact(only_column, "nvidia_gross_margin_pct", "2023", "year") == pytest.approx(
        70.0
    )
    none = reduce_fact_detail(make_frame(), "nvidia_unit_share_pct", "2023", "year")
    assert math.isnan(none.value) and "incumbent_deliveries_units" in none.reason


def test_plus_selectors():
    frame = share_frame()
    # 350/week: 52 whole weeks scaled by 365/364 (missed Jan 1) = 350 * 365/7 = 18250
    assert reduce_fact(frame, "deliveries_units@microsoft+meta", "2023", "year") == (
        pytest.approx(18250.0)
    )
    assert reduce_fact(frame, "installed_units@microsoft+meta", "2023", "year") == 30 * 51
    level = reduce_fact_detail(frame, "lead_time_weeks@H100+B200", "2023-11", "month")
    assert math.isnan(level.value) and "level" in level.reason
    assert math.isnan(reduce_fact(frame, "deliveries_units@meta+oracle", "2023", "year"))


def test_group_alias_big4():
    parts = {f"capex_usd_bn@{a}": 1.0 for a in ("microsoft", "google", "meta", "amazon")}
    frame = make_frame(**parts)
    # 2024 has 366 days = 366/7 weeks: 4 * 366/7 = 209.14
    assert reduce_fact(frame, "capex_usd_bn@big4", "2024", "year") == pytest.approx(4 * 366 / 7)
    frame["capex_usd_bn@big4"] = 2.0  # an exact column wins
    assert reduce_fact(frame, "capex_usd_bn@big4", "2024", "year") == pytest.approx(2 * 366 / 7)


# --------------------------------------------------------------------------- bands, scoring


def test_band_defaults():
    assert band(100.0) == (75.0, 125.0)
    assert band(100.0, low=90.0) == (90.0, 125.0)
    assert band(100.0, high=110.0) == (75.0, 110.0)
    assert band(100.0, 80.0, 130.0) == (80.0, 130.0)
    assert band(-8.0) == (-10.0, -6.0)


def test_in_band_edges_inclusive():
    assert in_band(75.0, 75.0, 125.0) and in_band(125.0, 75.0, 125.0)
    assert in_band(75.0 * (1 - 1e-12), 75.0, 125.0)
    assert not in_band(75.0 * (1 - 1e-6), 75.0, 125.0)
    assert not in_band(125.0 * (1 + 1e-6), 75.0, 125.0)
    assert not in_band(math.nan, 75.0, 125.0)


def test_score_facts_statuses_and_band():
    frame = make_frame(**cols(deliveries_units__meta=100.0, lead_time_weeks__H100=40.0))
    facts = facts_frame(
        [
            {"metric_key": "deliveries_units@meta", "date": "2023", "window": "year",
             "value": 7000.0},  # default band 5250-8750: 100 * 365/7 = 5214.29 is below
            {"metric_key": "deliveries_units@meta", "date": "2023", "window": "year",
             "value": 29200 / 7},  # 36500/7 = 1.25 * 29200/7: upper default edge, inclusive
            {"metric_key": "lead_time_weeks@H100", "date": "2023-11", "window": "month",
             "value": 44.0, "low": 36.0, "high": 52.0, "role": "input"},
            {"metric_key": "lead_time_weeks@H100", "date": "2023-11", "window": "month",
             "value": 44.0, "low": 41.0},  # only low given: high = 55
            {"metric_key": "spot_price_usd@H100", "date": "2023-04", "window": "month",
             "value": 43000.0},
            {"metric_key": "deliveries_units@meta", "date": "2022", "window": "year",
             "value": 1.0},
        ]
    )  # fmt: skip
    scored = score_facts(frame, facts)
    assert list(scored["status"]) == [
        "outside",
        "inside",
        "inside",
        "outside",
        "not simulated",
        "not simulated",
    ]
    assert (scored.loc[0, "low"], scored.loc[0, "high"]) == (5250.0, 8750.0)
    assert scored.loc[1, "rel_error"] == pytest.approx(0.25)
    assert (scored.loc[3, "low"], scored.loc[3, "high"]) == (41.0, 55.0)
    assert scored.loc[2, "rel_error"] == pytest.approx(-4 / 44)
    assert math.isnan(scored.loc[4, "rel_error"]) and math.isnan(scored.loc[4, "simulated"])
    assert scored.loc[5, "reason"] == "window outside the run"
    assert summary_line(scored) == "2/6 facts inside their band (33%)"
    inputs = score_facts(frame, facts, role="input")
    assert list(inputs["fact_id"]) == ["T002"] and summary_line(inputs).startswith("1/1 ")


def test_several_seeds_mean_min_max():
    frames = [make_frame(**cols(deliveries_units__meta=v)) for v in (100.0, 120.0, 140.0)]
    facts = facts_frame(
        [{"metric_key": "deliveries_units@meta", "date": "2023", "window": "year", "value": 6000}]
    )
    row = score_facts(frames, facts).iloc[0]
    # 2023 = v * 365/7 per run (52 whole weeks scaled by 365/364): mean 120 * 365/7 = 6257.14
    assert row["simulated"] == pytest.approx(120 * 365 / 7)
    assert (row["sim_min"], row["sim_max"]) == pytest.approx((100 * 365 / 7, 140 * 365 / 7))
    assert row["n_seeds"] == 3
    assert row["status"] == "inside"  # band 4500-7500
    table = format_table(score_facts(frames, facts))
    assert isinstance(table, Table) and table.row_count == 1


def test_summary_line_rounding():
    def scored(inside: int, total: int) -> pd.DataFrame:
        return pd.DataFrame({"status": ["inside"] * inside + ["outside"] * (total - inside)})

    assert summary_line(scored(14, 20)) == "14/20 facts inside their band (70%)"
    assert summary_line(scored(1, 8)) == "1/8 facts inside their band (13%)"  # half up
    assert summary_line(scored(2, 3)) == "2/3 facts inside their band (67%)"
    assert summary_line(scored(0, 0)) == "0/0 facts inside their band (0%)"


# --------------------------------------------------------------------------- the shared file


@pytest.mark.skipif(not SHARED_FACTS.exists(), reason="shared facts file not present")
def test_real_facts_file_scores():
    facts = load_facts(SHARED_FACTS)
    assert len(facts) >= 50 and facts["value"].dtype == float
    frame = make_frame(
        **cols(lead_time_weeks__H100=40.0, deliveries_units__nvidia=25000.0,
               nvidia_dc_revenue_usd_bn=1.0, nvidia_cogs_usd_bn=0.3)
    )  # fmt: skip
    scored = score_facts(frame, facts)
    assert len(scored) == len(facts)
    by_id = scored.set_index("fact_id")
    assert by_id.loc["F001", "status"] == "inside"  # 40 weeks in 36-52
    assert by_id.loc["F069", "simulated"] == pytest.approx(70.0)
    # F115 is 2023 (year): 25000 * 365/7 = 1303571.43 (52 whole weeks, scaled by 365/364)
    assert by_id.loc["F115", "simulated"] == pytest.approx(25000 * 365 / 7)
    assert by_id.loc["F010", "status"] == "not simulated"  # no list price column
    assert by_id.loc["F091", "reason"] == "window outside the run"  # 2026-12
    simulated = {"lead_time_weeks", "deliveries_units@nvidia", "nvidia_dc", "nvidia_gross"}
    others = scored[~scored["metric_key"].str.startswith(tuple(simulated))]
    assert (others["status"] == "not simulated").all()
    targets = score_facts(frame, facts, role="target")
    assert set(targets["role"]) == {"target"}
    assert summary_line(scored).endswith("%)")


# --------------------------------------------------------------------------- load errors


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facts.csv"
    path.write_text(text)
    return path


HEADER = ",".join(FACT_COLUMNS)


def test_load_valid_minimal(tmp_path):
    path = write(tmp_path, f"{HEADER}\nX1,lead_time_weeks@H100,2023-11,month,44,,50,w,target,d,s\n")
    facts = load_facts(path)
    assert facts.loc[0, "value"] == 44.0 and math.isnan(facts.loc[0, "low"])
    assert facts.loc[0, "date"] == "2023-11"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "X1,deliveries_units,2023-11,weekly,1,,,u,target,d,s",
            "X1 column window has unknown window 'weekly'",
        ),
        (
            "X1,nonsense@H100,2023,year,1,,,u,target,d,s",
            "X1 column metric_key names an unknown metric",
        ),
        ("X1,deliveries_units,2023-13,month,1,,,u,target,d,s", "X1 column date '2023-13'"),
        ("X1,deliveries_units,2023-11,quarter,1,,,u,target,d,s", "X1 column date '2023-11'"),
        (
            "X1,deliveries_units,2023,year,lots,,,u,target,d,s",
            "X1 column value 'lots' is not a number",
        ),
        ("X1,deliveries_units,2023,year,5,x,,u,target,d,s", "X1 column low 'x' is not a number"),
        ("X1,deliveries_units,2023,year,,,,u,target,d,s", "X1 column value is empty"),
        ("X1,deliveries_units,2023,year,5,9,1,u,target,d,s", "X1 has low 9 above high 1"),
        (
            "X1,deliveries_units,2023,year,5,,,u,t,d,s\nX1,deliveries_units,2023,year,5,,,u,t,d,s",
            "X1 appears twice",
        ),
    ],
)
def test_load_errors_name_fact_and_column(tmp_path, row, expected):
    path = write(tmp_path, f"{HEADER}\n{row}\n")
    with pytest.raises(FactsFileError) as info:
        load_facts(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message and ";" in message
    assert "\n" not in message


def test_load_missing_file_and_columns(tmp_path):
    with pytest.raises(FactsFileError, match="no such file"):
        load_facts(tmp_path / "nope.csv")
    path = write(tmp_path, "fact_id,metric_key,date,value\nX1,k,2023,1\n")
    with pytest.raises(FactsFileError, match=r"missing column\(s\) window, low, high"):
        load_facts(path)
    assert issubclass(FactsFileError, ValueError)


# --------------------------------------------------------------------------- day shares


def one_week(week: int, value: float = 7.0, weeks: int = 157) -> pd.DataFrame:
    """A flow of ``value`` in week ``week`` only (0 elsewhere)."""
    return make_frame(weeks, demand_units=lambda w: np.where(w == week, value, 0.0))


def test_week_straddling_two_months_splits_by_days():
    # week 47 = Mon 2023-11-27 .. Sun 2023-12-03: 4 days in Nov (27-30), 3 in Dec (1-3)
    frame = one_week(47)
    assert reduce_fact(frame, "demand_units", "2023-11", "month") == pytest.approx(7 * 4 / 7)
    assert reduce_fact(frame, "demand_units", "2023-12", "month") == pytest.approx(7 * 3 / 7)
    assert reduce_fact(frame, "demand_units", "2023-Q4", "quarter") == pytest.approx(7.0)
    # week 104 = Mon 2024-12-30 .. Sun 2025-01-05: 2 days in 2024, 5 in 2025
    edge = one_week(104)
    for date, window in [("2024-12", "month"), ("2024-Q4", "quarter"), ("2024", "year")]:
        assert reduce_fact(edge, "demand_units", date, window) == pytest.approx(2.0)
    for date, window in [("2025-01", "month"), ("2025-Q1", "quarter"), ("2025", "year")]:
        assert reduce_fact(edge, "demand_units", date, window) == pytest.approx(5.0)
    # quarter_ending Jan 2025 = Nov 1 2024 - Jan 31 2025 holds all 7 days of the week
    assert reduce_fact(edge, "demand_units", "2025-01", "quarter_ending") == pytest.approx(7.0)


def test_156_week_run_covers_2025_and_extrapolates_the_missing_days():
    ts = pd.Timestamp
    year = (ts("2025-01-01"), ts("2026-01-01"))
    # last week 2025-12-22..28 ends on Dec 29: Dec 29-31 missed, 3 days < 7
    assert run_covers(ts("2023-01-02"), ts("2025-12-22"), *year)
    frame = make_frame(156, **cols(deliveries_units__meta=1.0))
    assert frame["date"].iloc[-1] == ts("2025-12-22")
    # shares in 2025: week 104 5/7 (Jan 1-5) + weeks 105-155 (51) = 362/7 weeks;
    # scaled by (365/7)/(362/7): 1/week -> 362/7 * 365/362 = 365/7 = 52.14 (not 52)
    assert reduce_fact(frame, "deliveries_units@meta", "2025", "year") == pytest.approx(365 / 7)
    # the scale multiplies whatever the covered weeks hold: 7 in week 155 only -> 7 * 365/362
    assert reduce_fact(one_week(155, weeks=156), "demand_units", "2025", "year") == (
        pytest.approx(7 * 365 / 362)
    )
    # Dec 2025: weeks 152-155 (Dec 1-28) = 28 days, scaled by (31/7)/(28/7) = 31/28
    assert reduce_fact(frame, "deliveries_units@meta", "2025-12", "month") == pytest.approx(31 / 7)
    assert reduce_fact(one_week(155, weeks=156), "demand_units", "2025-12", "month") == (
        pytest.approx(7 * 31 / 28)
    )
    # a stock takes the last week the run has: week 155
    stock = make_frame(156, **cols(installed_units__meta=lambda w: w))
    assert reduce_fact(stock, "installed_units@meta", "2025", "year") == 155.0


def test_155_week_run_does_not_cover_2025():
    ts = pd.Timestamp
    # last week 2025-12-15..21 ends on Dec 22: Dec 22-31 missed, 10 days >= 7
    assert not run_covers(ts("2023-01-02"), ts("2025-12-15"), ts("2025-01-01"), ts("2026-01-01"))
    short = make_frame(155, **cols(deliveries_units__meta=1.0))
    for date, window in [("2025", "year"), ("2025-Q4", "quarter"), ("2025-12", "month")]:
        result = reduce_fact_detail(short, "deliveries_units@meta", date, window)
        assert math.isnan(result.value) and result.reason == "window outside the run"
    # Nov 2025 is still wholly inside the run (which reaches Dec 21): 30/7
    assert reduce_fact(short, "deliveries_units@meta", "2025-11", "month") == pytest.approx(30 / 7)


def test_missed_start_days_are_extrapolated_per_window():
    # the default run starts Mon 2023-01-02 and misses Sun Jan 1; 7 units in week 0 (Jan 2-8)
    frame = one_week(0)
    assert reduce_fact(frame, "demand_units", "2023-01", "month") == pytest.approx(7 * 31 / 30)
    assert reduce_fact(frame, "demand_units", "2023-Q1", "quarter") == pytest.approx(7 * 90 / 89)
    year = reduce_fact(frame, "demand_units", "2023", "year")
    assert year == pytest.approx(7 * 365 / 364)
    # each window is extrapolated from its own weeks, so this year (missing Jan 1) is not the
    # sum of its quarters: 7 * 365/364 = 7.0192 vs 7 * 90/89 + 0 + 0 + 0 = 7.0787
    quarters = [reduce_fact(frame, "demand_units", f"2023-Q{q}", "quarter") for q in range(1, 5)]
    assert quarters[1:] == [0.0, 0.0, 0.0]
    assert year != pytest.approx(sum(quarters))


def test_level_is_day_weighted_mean():
    # price 0 up to week 43 (Oct 30-Nov 5, 2023), 30 from week 44 (Nov 6) on
    frame = make_frame(**cols(spot_price_usd__H100=lambda w: np.where(w <= 43, 0.0, 30.0)))
    key = "spot_price_usd@H100"
    # Nov 2023: Nov 1-5 at 0, Nov 6-30 (25 days) at 30: 750/30 = 25 (whole weeks by start
    # date would give 30, a plain mean of the 5 weeks touching November 24)
    assert reduce_fact(frame, key, "2023-11", "month") == pytest.approx(25.0)
    # Q4 2023: week 38 (Oct 1) + weeks 39-43 (Oct 2-Nov 5) = 36 days at 0, Nov 6-Dec 31 = 56
    # days at 30: 30 * 56/92 = 18.26
    assert reduce_fact(frame, key, "2023-Q4", "quarter") == pytest.approx(30 * 56 / 92)
    # a level is not extrapolated: Jan 2023 is the mean of the 30 days the run has (Jan 2-31),
    # weeks 0-3 whole and week 4 (Jan 30-31) 2 days: (7 * (0+1+2+3) + 4*2) / 30 = 50/30
    ramp = make_frame(**cols(spot_price_usd__H100=lambda w: w))
    assert reduce_fact(ramp, key, "2023-01", "month") == pytest.approx(50 / 30)


# --------------------------------------------------------------------------- properties

MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]


@settings(max_examples=60, deadline=None)
@given(constant=st.floats(-1e6, 1e6, allow_nan=False), month=st.sampled_from(MONTHS))
def test_constant_level_reduces_to_constant(constant, month):
    # every month of 2023-2025 is covered by the 157-week run (Jan 2023 misses only Jan 1)
    frame = make_frame(**cols(list_price_usd__H100=constant))
    assert reduce_fact(frame, "list_price_usd@H100", month, "month") == pytest.approx(constant)


@settings(max_examples=60, deadline=None)
@given(constant=st.floats(-1e6, 1e6, allow_nan=False), month=st.sampled_from(MONTHS))
def test_constant_flow_is_days_over_seven_weeks(constant, month):
    # a covered month of d days holds d/7 weeks, extrapolated or not (Jan 2023 is)
    days = calendar.monthrange(int(month[:4]), int(month[5:]))[1]
    frame = make_frame(demand_units=constant)
    got = reduce_fact(frame, "demand_units", month, "month")
    assert got == pytest.approx(constant * days / 7, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    weekly=st.lists(st.floats(0, 1e4, allow_nan=False), min_size=157, max_size=157),
    # only years the 157-week run covers day by day: 2023 misses Jan 1 and each window is
    # extrapolated from its own weeks, so there the year need not be the sum of its quarters
    # (see test_missed_start_days_are_extrapolated_per_window)
    year=st.sampled_from(["2024", "2025"]),
)
def test_flow_year_is_sum_of_quarters_and_quarter_endings(weekly, year):
    frame = make_frame(demand_units=lambda w: np.asarray(weekly))
    total = reduce_fact(frame, "demand_units", year, "year")
    quarters = [reduce_fact(frame, "demand_units", f"{year}-Q{q}", "quarter") for q in range(1, 5)]
    assert total == pytest.approx(sum(quarters), rel=1e-9)
    months = [reduce_fact(frame, "demand_units", f"{year}-{m:02d}", "month") for m in (3, 6, 9, 12)]
    ending = [reduce_fact(frame, "demand_units", d, "quarter_ending") for d in
              (f"{year}-03", f"{year}-06", f"{year}-09", f"{year}-12")]  # fmt: skip
    assert ending == pytest.approx(quarters)
    assert all(m <= e + 1e-9 for m, e in zip(months, ending, strict=True))


def test_a_gap_inside_the_window_is_not_covered():
    frame = make_frame(**cols(demand_units=1.0))
    gappy = frame.iloc[[0, 51]]  # two weeks of 2023 only
    result = reduce_fact_detail(gappy, "demand_units", "2023", "year")
    assert math.isnan(result.value) and result.reason == "window outside the run"
    # rows in any order: a stock is the last by date
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert reduce_fact(shuffled, "demand_units", "2023-11", "month") == reduce_fact(
        frame, "demand_units", "2023-11", "month"
    )
