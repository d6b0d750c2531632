"""How far a run is from the facts: a band distance per fact, a weighted mean over facts.

A fact is observed as a band ``[low, high]`` (``market_sim.facts.band``: the fact's range,
else its value ± 25%). A simulated value inside the band is at distance 0; outside, the
distance is the log-ratio to the nearer edge, ``|ln(simulated / edge)|`` (scale-free: twice
the upper edge is 0.69 whatever the unit), or for a band that reaches zero or below, the
gap over the band's half-width. A fact the run cannot simulate counts :data:`MISSING`.
The objective is the weighted mean over the chosen facts (weights 1 unless the parameters
file sets them) of the distance plus, for a fact outside its band, the parameters file's
``miss_cost`` (0 by default: a fit then has no reason to bring a fact from just outside its
edge to just inside, and the in-band count flips with the seed), averaged over seeds.

Which facts: those of a role (``target`` by default) whose window ends on or before
``until`` (the in-sample facts of a backtest); the rest are scored out of sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from market_sim.facts import load_facts, score_facts
from market_sim.facts.score import band
from market_sim.facts.windows import window_bounds

MISSING = 5.0
"""Distance of a fact the run does not simulate (a missing column, no data)."""


def fact_end(date: str, window: str) -> pd.Timestamp:
    """The last day of a fact's window (facts are dated by their window)."""
    _, end = window_bounds(date, window)
    return end - pd.Timedelta(days=1)


def select_facts(
    facts: pd.DataFrame, role: str | None = "target", until: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(in_sample, out_of_sample)``: the facts of ``role`` whose window ends on or
    before ``until`` (all of them without ``until``), and the later ones."""
    chosen = facts if role is None else facts[facts["role"] == role]
    if until is None:
        return chosen.reset_index(drop=True), chosen.iloc[0:0].reset_index(drop=True)
    ends = pd.to_datetime(
        [fact_end(d, w) for d, w in zip(chosen["date"], chosen["window"], strict=False)]
    )
    inside = np.asarray(ends <= until)
    return chosen[inside].reset_index(drop=True), chosen[~inside].reset_index(drop=True)


def band_distance(simulated: float, low: float, high: float) -> float:
    """0 inside ``[low, high]``; outside, the log-ratio to the nearer edge (or, for a band
    reaching 0, the gap over its half-width); :data:`MISSING` for NaN."""
    if not math.isfinite(simulated):
        return MISSING
    if low <= simulated <= high:
        return 0.0
    edge = low if simulated < low else high
    if low > 0 and simulated > 0:
        return abs(math.log(simulated / edge))
    half = max((high - low) / 2.0, 1e-12)
    return abs(simulated - edge) / half


def distances(scored: pd.DataFrame) -> np.ndarray:
    """Band distance of each row of a ``score_facts`` frame."""
    return np.array(
        [
            band_distance(s, lo, hi)
            for s, lo, hi in zip(scored["simulated"], scored["low"], scored["high"], strict=False)
        ]
    )


def objective(dist: np.ndarray, weights: np.ndarray | None = None, miss_cost: float = 0.0) -> float:
    """Weighted mean of the distance plus ``miss_cost`` for each fact outside its band
    (0: every fact inside its band)."""
    if len(dist) == 0:
        return 0.0
    w = np.ones(len(dist)) if weights is None else np.asarray(weights, dtype=float)
    dist = np.asarray(dist, dtype=float)
    cost = dist + miss_cost * (dist > 0)
    return float((w * cost).sum() / w.sum())


def fact_weights(facts: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """Each fact's weight (by fact id; 1 for facts not named)."""
    return np.array([float(weights.get(f, 1.0)) for f in facts["fact_id"]])


def score_runs(frames: Sequence[pd.DataFrame], facts: pd.DataFrame) -> pd.DataFrame:
    """Facts scored per seed: one row per (seed, fact) with ``seed_index``, the band,
    ``simulated``, ``status`` and ``distance``."""
    parts = []
    for i, frame in enumerate(frames):
        scored = score_facts(frame, facts)
        scored.insert(0, "seed_index", i)
        scored["distance"] = distances(scored)
        parts.append(scored)
    return pd.concat(parts, ignore_index=True)


def band_of(fact: pd.Series) -> tuple[float, float]:
    """The band a fact is judged by."""
    return band(float(fact["value"]), float(fact["low"]), float(fact["high"]))


__all__ = [
    "MISSING",
    "band_distance",
    "band_of",
    "distances",
    "fact_end",
    "fact_weights",
    "load_facts",
    "objective",
    "score_runs",
    "select_facts",
]
