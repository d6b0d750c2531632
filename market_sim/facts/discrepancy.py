"""Model discrepancy: how far the model's runs sit from observed facts, as a spread.

An ensemble's 5-95% range (parameter sets x seeds) covers parameter uncertainty and model
noise. It does not cover the model's structural error: a model that is biased on a fact
puts every run on the same side of it. This module measures that error from the facts
themselves and carries it into a *predictive* range, so that an interval says what it
covers (docs/calibration.md, "Coverage").

- A fact's **log error** is ``ln(median of the runs' values / observed value)``.
- The **discrepancy** ``sd`` is the root mean square of the log errors of a set of facts
  (bias counts: it is error, not noise), in natural-log units (0.3 is about +-35%).
- The **predictive range** of a fact is the 5-95% range of the runs' values each
  multiplied by ``exp(e)``, ``e ~ Normal(0, sd^2)``: the mixture's quantiles, exact.
- **Honest coverage** never scores a fact with a discrepancy measured on that fact: in a
  backtest the sd comes from the fitted (in-sample) facts and is applied to the later
  ones; over one set of facts each fact gets the sd of all the others (leave one out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

MIN_FACTS = 5
"""Fewest facts a discrepancy is measured on; fewer give NaN (no predictive range)."""

PROBS = (0.05, 0.95)
"""The range's probabilities (the 5-95% range the coverage counts)."""


def log_error(values: Sequence[float], observed: float) -> float:
    """``ln(median(values) / observed)``; NaN when either is not positive and finite."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size or not np.isfinite(observed) or observed <= 0:
        return float("nan")
    centre = float(np.median(v))
    return float(np.log(centre / observed)) if centre > 0 else float("nan")


def discrepancy_sd(errors: Iterable[float]) -> float:
    """Root mean square of the finite log errors; NaN with fewer than ``MIN_FACTS``."""
    e = np.asarray(list(errors), dtype=float)
    e = e[np.isfinite(e)]
    if e.size < MIN_FACTS:
        return float("nan")
    return float(np.sqrt(np.mean(e**2)))


def predictive_range(values: Sequence[float], sd: float) -> tuple[float, float]:
    """The 5-95% range of the runs' ``values`` each times ``exp(Normal(0, sd^2))``.

    ``sd == 0`` gives the runs' own percentiles (numpy's, as the plain coverage counts
    them). NaN bounds when there is no finite value, when ``sd`` is NaN, or when a value
    is not positive (a log error is undefined there).
    """
    from scipy.optimize import brentq
    from scipy.special import ndtr

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    nan = (float("nan"), float("nan"))
    if not v.size or not np.isfinite(sd) or sd < 0:
        return nan
    if sd == 0:
        lo, hi = np.percentile(v, [100 * p for p in PROBS])
        return float(lo), float(hi)
    if v.min() <= 0:
        return nan
    logs = np.log(v)

    def cdf_minus(x: float, p: float) -> float:
        return float(ndtr((x - logs) / sd).mean()) - p

    a, b = logs.min() - 10 * sd, logs.max() + 10 * sd  # the cdf is ~0 and ~1 there
    lo, hi = (float(np.exp(brentq(cdf_minus, a, b, args=(p,), xtol=1e-12))) for p in PROBS)
    return lo, hi


def coverage(
    runs: Sequence[Sequence[float]],
    observed: Sequence[float],
    ids: Sequence[str],
    fitted: Iterable[str] | None = None,
) -> list[dict[str, float | bool]]:
    """Per fact: is the observed value inside the runs' 5-95% range, and inside the
    predictive range with a discrepancy measured on other facts?

    ``runs[j]`` holds fact ``j``'s simulated values (one per run). A fact's discrepancy
    sd comes from the log errors of the ``fitted`` facts other than itself (None: every
    fact), so no fact is scored with its own error. Each record: ``p05``, ``p95``, ``n``
    (finite runs), ``inside``, ``log_error``, ``discrepancy_sd``, ``pred_p05``,
    ``pred_p95``, ``inside_predictive``.
    """
    errors = np.array([log_error(v, o) for v, o in zip(runs, observed, strict=True)])
    pool = set(ids) if fitted is None else set(fitted)
    in_pool = np.array([i in pool for i in ids])
    out = []
    for j, (values, obs) in enumerate(zip(runs, observed, strict=True)):
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        lo, hi = predictive_range(v, 0.0)
        others = in_pool.copy()
        others[j] = False
        sd = discrepancy_sd(errors[others])
        plo, phi = predictive_range(v, sd)
        out.append(
            {
                "p05": lo,
                "p95": hi,
                "n": int(v.size),
                "inside": bool(v.size and lo <= obs <= hi),
                "log_error": float(errors[j]),
                "discrepancy_sd": sd,
                "pred_p05": plo,
                "pred_p95": phi,
                "inside_predictive": bool(np.isfinite(plo) and plo <= obs <= phi),
            }
        )
    return out


COVERAGE_COLUMNS = ("fact_id", "metric_key", "date", "window", "observed", "p05", "p95", "n")
"""The first columns of :func:`fact_coverage`'s table; the rest are :func:`coverage`'s."""


def fact_coverage(
    scored: Sequence[pd.DataFrame], fitted: Iterable[str] | None = None
) -> pd.DataFrame:
    """Each fact's coverage by many runs, plain and predictive (:func:`coverage`).

    ``scored`` holds one :func:`market_sim.facts.score_facts` table per run (same facts,
    same order); ``fitted`` the facts the discrepancy is measured on (None: all, each
    fact leaving itself out). A row per fact: the observed value, the runs' 5th and 95th
    percentiles, ``n`` (runs that simulate it; 0: outside the horizon or not simulated),
    ``inside`` (as ``market-sim facts --ensemble`` counts it) and the predictive columns.
    """
    values = np.array([s["simulated"].to_numpy(dtype=float) for s in scored])
    first = scored[0]
    observed = first["observed"].to_numpy(dtype=float)
    records = coverage(list(values.T), observed, first["fact_id"].tolist(), fitted)
    rows = []
    for fact, rec in zip(first.itertuples(index=False), records, strict=True):
        rows.append({**{c: getattr(fact, c) for c in COVERAGE_COLUMNS[:5]}, **rec})
    columns = [*COVERAGE_COLUMNS, *(k for k in records[0] if k not in COVERAGE_COLUMNS)]
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
