"""What a claim's paired runs say: the effect, intervals that separate parameter
uncertainty from model noise, the probability that the claim holds, and a verdict.

For a claim with scenario S and counterfactual C, each pair is one sample point ``i``
(a parameter set: an ensemble member, or a sweep's design point) run with one seed
``r`` in both S and C. The pair's *difference* is ``d_ir = out_S - out_C`` in the
output's unit (in percent of ``|out_C|`` for a ``relative`` claim; a pair whose
counterfactual value is 0, or where either run failed or gave no value, is left out and
counted). From the differences:

- ``effect``: their median over all pairs.
- ``p05``/``p95``: the 90% interval over all pairs: parameter sets x seeds, so it holds
  both the spread across parameter sets that fit and the model's noise (startup draws).
  It is *not* a confidence interval for the median, and it does not hold structural
  uncertainty (the model's form, its fixed inputs).
- ``members_p05``/``members_p95``: the 5-95% range of the parameter sets' mean
  differences ``m_i = mean_r d_ir``: parameter uncertainty (plus what noise is left in a
  mean over the seeds).
- ``noise_p05``/``noise_p95``: the 5-95% range of ``d_ir - m_i`` (points run with two
  seeds or more): model noise, how far one seed's run lands from its parameter set's mean.
- ``parameter_share``: the share of the pairs' variance that is between parameter sets
  (one-way random-effects ANOVA: ``var(m_i) - s_w^2 / n_seeds`` over that plus ``s_w^2``,
  ``s_w`` the pooled within-set standard deviation; NaN with one seed).
- ``probability``: the share of pairs whose difference passes the threshold in the
  claim's direction (``d > t`` for increase, ``d < -t`` for decrease).

Verdict (docs/claims.md): **holds** when ``probability >= HOLDS_AT``; **does not hold**
when ``probability <= FAILS_AT``; **undecided** in between, or with fewer than
``MIN_PAIRS`` pairs. Quantiles are numpy's default (linear), DuckDB's ``quantile_cont``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.claims import paired_differences, passes

HOLDS_AT = 0.8
"""A claim holds when at least this share of the paired runs shows it."""
FAILS_AT = 0.2
"""A claim does not hold when at most this share of the paired runs shows it."""
MIN_PAIRS = 10
"""Fewer pairs than this give no verdict ("undecided")."""
LOW, HIGH = 0.05, 0.95
"""The interval's quantiles (90%)."""


@dataclass
class ClaimAnswer:
    """One claim's answer (units: the output's, or percent for a relative claim)."""

    id: str
    text: str
    scenario: str
    counterfactual: str
    output: str
    direction: str
    threshold: float
    relative: bool
    members: int
    seeds: int
    pairs: int
    excluded: int
    effect: float
    p05: float
    p95: float
    members_p05: float
    members_p95: float
    noise_p05: float
    noise_p95: float
    parameter_share: float
    probability: float
    members_holding: float
    verdict: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(probability: float, pairs: int) -> tuple[str, str]:
    """(verdict, the rule that gave it) from the share of pairs showing the claim."""
    if pairs < MIN_PAIRS:
        return "undecided", f"only {pairs} paired runs (fewer than {MIN_PAIRS})"
    if probability >= HOLDS_AT:
        return "holds", f"{probability:.0%} of paired runs show it (>= {HOLDS_AT:.0%})"
    if probability <= FAILS_AT:
        return "does not hold", f"{probability:.0%} of paired runs show it (<= {FAILS_AT:.0%})"
    return (
        "undecided",
        f"{probability:.0%} of paired runs show it (between {FAILS_AT:.0%} and {HOLDS_AT:.0%})",
    )


def _q(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else math.nan


def answer(frame: pd.DataFrame, claim: dict[str, Any]) -> tuple[ClaimAnswer, pd.DataFrame]:
    """The claim's answer over the paired runs in ``frame``, and its per-sample-point
    table (``sample``, ``mean_delta``, ``seeds``, ``holds``)."""
    pairs, excluded = paired_differences(frame, claim)
    d = pairs["delta"].to_numpy(dtype=float)
    grouped = pairs.groupby("sample")["delta"]
    points = pd.DataFrame({"mean_delta": grouped.mean(), "seeds": grouped.size()})
    points["holds"] = passes(points["mean_delta"], claim)
    m = points["mean_delta"].to_numpy(dtype=float)
    several = pairs["sample"].map(points["seeds"]).to_numpy() > 1
    resid = (d - pairs["sample"].map(points["mean_delta"]).to_numpy(dtype=float))[several]
    seeds = int(points["seeds"].max()) if len(points) else 0
    probability = float(passes(d, claim).mean()) if len(d) else math.nan
    word, why = verdict(probability, len(d))
    result = ClaimAnswer(
        id=claim["id"],
        text=claim["text"],
        scenario=claim["scenario"],
        counterfactual=claim["counterfactual"],
        output=claim["output"],
        direction=claim["direction"],
        threshold=float(claim["threshold"]),
        relative=bool(claim["relative"]),
        members=len(points),
        seeds=seeds,
        pairs=len(d),
        excluded=excluded,
        effect=_q(d, 0.5),
        p05=_q(d, LOW),
        p95=_q(d, HIGH),
        members_p05=_q(m, LOW),
        members_p95=_q(m, HIGH),
        noise_p05=_q(resid, LOW),
        noise_p95=_q(resid, HIGH),
        parameter_share=parameter_share(pairs),
        probability=probability,
        members_holding=float(points["holds"].mean()) if len(points) else math.nan,
        verdict=word,
        why=why,
    )
    return result, points.reset_index()


def parameter_share(pairs: pd.DataFrame) -> float:
    """Share of the differences' variance that lies between sample points (parameter
    sets) rather than between seeds of one point; NaN without two seeds at some point
    or without variance."""
    groups = pairs.groupby("sample")["delta"]
    n = groups.size()
    if len(n) < 2 or (n < 2).all():
        return math.nan
    within = float(((pairs["delta"] - groups.transform("mean")) ** 2).sum()) / float(
        (n - 1).clip(lower=0).sum()
    )
    between = float(groups.mean().var(ddof=1)) - within / float(n.mean())
    between = max(between, 0.0)
    total = between + within
    return between / total if total > 0 else math.nan
