"""Observed market facts: loading them and scoring simulation runs against them.

A fact (``shared/data/market_facts.csv``) is a published figure for a metric key over a
calendar window. A run's weekly frame is reduced over the same window (mean of a level,
sum of a flow, last value of a stock, ratio of sums for shares and margins) and judged
inside or outside the fact's band. Rules: docs/facts.md.
"""

from market_sim.facts.load import DEFAULT_FACTS, FACT_COLUMNS, FactsFileError, load_facts
from market_sim.facts.reduce import (
    GROUP_ALIASES,
    METRIC_KINDS,
    RATIO_METRICS,
    Reduction,
    WeeklyRun,
    metric_kind,
    reduce_between,
    reduce_fact,
    reduce_fact_detail,
    split_key,
    weekly_series,
)
from market_sim.facts.score import (
    DEFAULT_BAND,
    INSIDE,
    NOT_SIMULATED,
    OUTSIDE,
    REL_TOL,
    SCORE_COLUMNS,
    band,
    format_table,
    in_band,
    score_facts,
    summary_line,
)
from market_sim.facts.windows import WINDOWS, run_covers, window_bounds

__all__ = [
    "DEFAULT_BAND",
    "DEFAULT_FACTS",
    "FACT_COLUMNS",
    "GROUP_ALIASES",
    "INSIDE",
    "METRIC_KINDS",
    "NOT_SIMULATED",
    "OUTSIDE",
    "RATIO_METRICS",
    "REL_TOL",
    "SCORE_COLUMNS",
    "WINDOWS",
    "FactsFileError",
    "Reduction",
    "WeeklyRun",
    "band",
    "format_table",
    "in_band",
    "load_facts",
    "metric_kind",
    "reduce_between",
    "reduce_fact",
    "reduce_fact_detail",
    "run_covers",
    "score_facts",
    "split_key",
    "summary_line",
    "weekly_series",
    "window_bounds",
]
