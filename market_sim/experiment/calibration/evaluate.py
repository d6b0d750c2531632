"""One evaluation of a parameter set: run the scenario with it for each seed and score
the runs against the chosen facts. Pure of side effects, so it runs the same in this
process or on a Dask worker."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.calibration.objective import fact_end, objective, score_runs

BREACH_WEIGHT = 1.0
"""Objective added per 52 weeks of implausible behaviour (see :func:`evaluate`)."""


@dataclass
class Evaluation:
    """What one parameter set scored: the objective (mean over seeds of the weighted mean
    band distance), each fact's mean simulated value and distance, and timings."""

    params: dict[str, float]
    objective: float
    simulated: dict[str, float] = field(default_factory=dict)  # fact id -> mean over seeds
    distance: dict[str, float] = field(default_factory=dict)  # fact id -> mean over seeds
    inside: int = 0  # facts inside their band (mean over seeds, rounded down)
    breach_weeks: float = 0.0  # weeks of implausible behaviour (mean over seeds)
    error: str | None = None
    elapsed_s: float = 0.0


def weeks_needed(scenario_start: pd.Timestamp, facts: pd.DataFrame, horizon: int) -> int:
    """Weeks a run must last to cover every fact's window (at most the horizon)."""
    if facts.empty:
        return horizon
    last = max(fact_end(d, w) for d, w in zip(facts["date"], facts["window"], strict=False))
    weeks = int((last - scenario_start).days // 7) + 2
    return max(1, min(horizon, weeks))


def override_lines(params: Mapping[str, float], integer: Mapping[str, bool]) -> list[str]:
    """``--set`` lines for a parameter set (integers rounded where the path takes one)."""
    out = []
    for path, value in params.items():
        v = round(value) if integer.get(path) else float(value)
        out.append(f"{path}={v!r}" if not isinstance(v, int) else f"{path}={v}")
    return out


def recorded_columns(scenario: Any, facts: pd.DataFrame) -> list[str]:
    """The weekly columns scoring ``facts`` and the plausibility checks read from a run of
    ``scenario`` (a resolved :class:`Scenario`): what an evaluation's models record
    (:func:`market_sim.experiment.outputs.probe_columns`)."""
    from market_sim.experiment.outputs import probe_columns
    from market_sim.facts.reduce import _reduce
    from market_sim.outcomes.catalogue import metric_keys
    from market_sim.outcomes.plausibility import plausibility_columns

    keys = metric_keys(scenario)
    dates = [scenario.date_of(w) for w in range(scenario.simulation.weeks)]
    rows = list(zip(facts["metric_key"], facts["date"], facts["window"], strict=True))

    def read(run: Any) -> None:
        for key, date, window in rows:
            _reduce(run, key, date, window)

    found = probe_columns(read, keys, dates) | set(plausibility_columns(scenario))
    return [k for k in keys if k in found]


def evaluate(
    scenario: Mapping[str, Any],
    params: Mapping[str, float],
    seeds: Sequence[int],
    facts: pd.DataFrame,
    weights: np.ndarray,
    fixed: Sequence[str] = (),
    integer: Mapping[str, bool] | None = None,
    weeks: int | None = None,
    miss_cost: float = 0.0,
) -> Evaluation:
    """Run ``scenario`` (resolved data) with ``fixed`` overrides and ``params`` for each
    seed, over ``weeks`` weeks (default: the scenario's horizon), and score the facts.

    The objective adds :data:`BREACH_WEIGHT` per 52 weeks of implausible behaviour
    (:mod:`market_sim.outcomes.plausibility`: a collapse, a negative margin, a price pinned
    at a bound), so that a fit cannot buy facts with behaviour no market showed.
    A run that fails (bad values, non-finite outcomes) gives an evaluation with
    ``error`` set and an infinite objective; it never raises. The models record only the
    columns the facts and the checks read (:func:`recorded_columns`; same values).
    """
    from market_sim.experiment.worker import collect_now_and_then
    from market_sim.model import GPUMarketModel
    from market_sim.model.inputs import resolve_scenario
    from market_sim.outcomes.plausibility import breaches

    t0 = time.perf_counter()
    lines = list(fixed) + override_lines(params, integer or {})
    if weeks is not None:
        lines.append(f"simulation.weeks={int(weeks)}")
    frames, breach_weeks = [], []
    try:
        resolved = resolve_scenario(scenario, lines)
        outputs = recorded_columns(resolved, facts)
        for seed in seeds:
            try:
                with GPUMarketModel(resolved, seed=int(seed), outputs=outputs) as model:
                    frames.append(model.run())
                    found = breaches(frames[-1], model.scenario)
                    breach_weeks.append(sum(b.weeks for b in found))
            finally:
                collect_now_and_then()  # flat memory over thousands of evaluations
        scored = score_runs(frames, facts)
    except Exception as err:  # a failed evaluation is a result, not a crash
        message = " ".join(str(err).split())[:300]
        return Evaluation(
            dict(params),
            math.inf,
            error=f"{type(err).__name__}: {message}",
            elapsed_s=time.perf_counter() - t0,
        )
    per_seed = [
        objective(part["distance"].to_numpy(), weights, miss_cost) + BREACH_WEIGHT * weeks / 52.0
        for (_, part), weeks in zip(
            scored.groupby("seed_index", sort=True), breach_weeks, strict=True
        )
    ]
    mean = scored.groupby("fact_id", sort=False).agg(
        simulated=("simulated", "mean"), distance=("distance", "mean")
    )
    inside = int(np.floor((scored["distance"] == 0).sum() / max(1, len(frames))))
    return Evaluation(
        params=dict(params),
        objective=float(np.mean(per_seed)),
        simulated={str(k): float(v) for k, v in mean["simulated"].items()},
        distance={str(k): float(v) for k, v in mean["distance"].items()},
        inside=inside,
        breach_weeks=float(np.mean(breach_weeks)),
        elapsed_s=time.perf_counter() - t0,
    )
