"""Forecasts: a calibrated ensemble run past the observed record, and its quantile bands.

:func:`forecast` runs a scenario to a horizon (``until``) once per ensemble member x
seed, each member's parameters applied as ``--set`` lines, and bands the outcomes
(:mod:`market_sim.runs.bands`). The spread is the one the ensemble and the seeds give:
parameter sets that fit the 2023-25 record about equally well, and model noise. It is
not the model's structural uncertainty, nor a calibrated forecast interval
(docs/forecast.md, docs/calibration.md).

The horizon may not run past the last date the scenario's demand inputs cover
(:func:`market_sim.scenario.dated.input_limit`) unless the scenario itself runs that
far. A forecast folder (``market-sim forecast``) holds ``report.html``,
``forecast.json`` (inputs, members, seeds, quantile levels, the dated assumptions),
``bands.csv`` and ``runs/<name>-m<member>-seed<seed>.parquet``, each run's weekly frame
with ``scenario``, ``member`` and ``seed`` columns (``market-sim query`` reads them as
the view ``runs``).
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from market_sim.facts import score_facts, window_bounds
from market_sim.facts.discrepancy import fact_coverage
from market_sim.problems import LineError
from market_sim.runs.bands import BandMetric, bands, default_metrics
from market_sim.runs.bands import needed_columns as _needed
from market_sim.runs.compare import slug
from market_sim.scenario import Scenario
from market_sim.scenario.bounds import MAX_SEED
from market_sim.scenario.dated import (
    DatedInput,
    InputLimit,
    dated_inputs,
    held_capacities,
    input_limit,
    last_day,
    parse_until,
    weeks_until,
)

OBSERVED_END = dt.date(2025, 12, 31)
"""End of the observed record when no facts file says otherwise (the shipped facts' last
target window ends with 2025)."""
MAX_WEEKS = 2600
"""Longest horizon a scenario allows (``simulation.weeks``)."""
COLLECT_EVERY = 10
"""Runs between two garbage collections (closed models are freed by the collector)."""


class ForecastError(LineError):
    """A forecast's input that cannot be used (one line, exit code 2)."""


def observed_end(facts: pd.DataFrame | None) -> dt.date:
    """The last day of the observed record: the end of the latest window of a target fact
    (:data:`OBSERVED_END` without facts or targets)."""
    if facts is None or facts.empty:
        return OBSERVED_END
    targets = facts[facts["role"].astype(str).str.strip() == "target"]
    ends = [window_bounds(d, w)[1] for d, w in zip(targets["date"], targets["window"], strict=True)]
    return (max(ends) - pd.Timedelta(days=1)).date() if ends else OBSERVED_END


@dataclass
class Plan:
    """What a forecast runs: the scenario with its horizon set, the members' ``--set``
    lines (member k is ``members[k]``), the seeds, and the dates that frame the page."""

    scenario: Scenario
    members: list[list[str]]
    seeds: list[int]
    until: dt.date
    observed_end: dt.date
    limit: InputLimit | None = None
    source: str = ""
    overrides: list[str] = field(default_factory=list)
    member_scenarios: list[Scenario] = field(default_factory=list, repr=False)
    """Each member's scenario (its lines applied), checked when the plan is made."""

    @property
    def weeks(self) -> int:
        return self.scenario.simulation.weeks

    @property
    def last_day(self) -> dt.date:
        """The last day simulated (the last week's Sunday)."""
        return last_day(self.scenario, self.weeks)

    @property
    def runs(self) -> list[tuple[int, int]]:
        """(member, seed) of every run, member-major."""
        return [(k, s) for k in range(len(self.members)) for s in self.seeds]

    def run_file(self, member: int, seed: int) -> str:
        """A run's file in a forecast folder, relative to it."""
        return f"runs/{slug(self.scenario.simulation.name)}-m{member:03d}-seed{seed}.parquet"


def _horizon(scenario: Scenario, until: dt.date | str | None) -> tuple[int, dt.date]:
    """(weeks, until) of a forecast's horizon; raise ForecastError naming ``--until``."""
    limit = input_limit(scenario)
    own = scenario.simulation.weeks
    reach = max(own, weeks_until(scenario, limit.day)) if limit is not None else own
    if until is None:  # as far as the demand inputs go (no dated demand: the scenario's own)
        reach = min(reach, MAX_WEEKS)
        return reach, last_day(scenario, reach)
    allowed = min(reach if limit is not None else MAX_WEEKS, MAX_WEEKS)
    text = str(until)
    if not isinstance(until, dt.date):
        try:
            until = parse_until(text)
        except ValueError as err:
            raise ForecastError(f"--until: {err}; write a month, e.g. --until 2027-12") from None
    weeks = weeks_until(scenario, until)
    start = scenario.simulation.start_date
    if weeks < 1:
        raise ForecastError(
            f"--until {text}: before the scenario's first week ends ({last_day(scenario, 1)}; "
            f"it starts {start}); choose a later month, e.g. --until {_month(scenario, own)}"
        )
    if weeks > allowed:
        if limit is None or allowed >= MAX_WEEKS:
            raise ForecastError(
                f"--until {text}: more than {MAX_WEEKS} weeks from {start}; choose an earlier month"
            )
        raise ForecastError(
            f"--until {text}: past the last date the scenario's demand inputs cover "
            f"({limit.path}: {limit.what}; after it that buyer's demand stops growing); "
            f"choose --until {_month(scenario, allowed)} or earlier, or extend "
            f"{limit.path} in a scenario that extends this one"
        )
    return weeks, until


def _month(scenario: Scenario, weeks: int) -> str:
    """The latest ``--until`` spelling that gives at most ``weeks`` weeks (a month when
    one fits, else a date)."""
    end = last_day(scenario, weeks)
    month = f"{end:%Y-%m}"
    return month if weeks_until(scenario, parse_until(month)) <= weeks else end.isoformat()


def plan_forecast(
    scenario: Scenario,
    members: Sequence[Sequence[str]] | None = None,
    seeds: int = 1,
    until: dt.date | str | None = None,
    observed: dt.date = OBSERVED_END,
    source: str = "",
    overrides: Sequence[str] = (),
) -> Plan:
    """Check a forecast's inputs and set its horizon (raises :class:`ForecastError`).

    ``until``: a date, ``YYYY-MM`` (through that month) or ``YYYY-MM-DD``; the run ends
    with the last whole week ending on or before it. Default: as far as the demand inputs
    go. ``members``: each member's ``--set`` lines (None: the scenario's own values, one
    member); each is applied and checked here, before any run. Seeds are
    ``simulation.seed + 0 .. seeds-1``.
    """
    from market_sim.model import resolve_scenario

    if seeds < 1:
        raise ForecastError(f"--seeds {seeds}: give at least 1")
    base = scenario.simulation.seed
    if base + seeds - 1 > MAX_SEED:
        raise ForecastError(f"--seeds {seeds}: seed {base} + {seeds - 1} exceeds 2^63-1; lower it")
    lines = [list(m) for m in members] if members is not None else [[]]
    if not lines:
        raise ForecastError("--members: the ensemble has no members; give another ensemble")
    weeks, until_date = _horizon(scenario, until)
    resolved = resolve_scenario(scenario, [f"simulation.weeks={weeks}"])
    return Plan(
        scenario=resolved,
        members=lines,
        member_scenarios=[_member(resolved, k, m) for k, m in enumerate(lines)],  # fail fast
        seeds=[base + i for i in range(seeds)],
        until=until_date,
        observed_end=observed,
        limit=input_limit(scenario),
        source=source,
        overrides=list(overrides),
    )


def _member(scenario: Scenario, k: int, lines: list[str]) -> Scenario:
    """Member ``k``'s scenario; a value the scenario refuses is a ForecastError."""
    from market_sim.model import resolve_scenario
    from market_sim.scenario import ScenarioError

    try:
        return resolve_scenario(scenario, lines)
    except ScenarioError as err:
        raise ForecastError(f"ensemble member {k}: {err.problems[0]}") from None


# --------------------------------------------------------------------------- running


def simulate(
    plan: Plan,
    columns: set[str] | None = None,
    folder: Path | None = None,
    on_run: Callable[[int, int, int, int, float], None] | None = None,
    on_frame: Callable[[pd.DataFrame], None] | None = None,
) -> list[pd.DataFrame]:
    """Run every member x seed of ``plan``; return each run's weekly frame (only
    ``columns`` of it when given). With ``folder`` each run's whole frame is written to
    ``folder / plan.run_file(...)`` as it finishes; ``on_frame(frame)`` gets each whole
    frame too. ``on_run(done, total, member, seed, seconds)`` is called after each run.
    Every model is closed.
    """
    from market_sim.model import GPUMarketModel

    frames = []
    runs = plan.runs
    if folder is not None:
        (folder / "runs").mkdir(parents=True, exist_ok=True)
    for i, (member, seed) in enumerate(runs):
        t0 = time.perf_counter()
        spec = plan.member_scenarios[member] if plan.member_scenarios else plan.scenario
        lines = [] if plan.member_scenarios else plan.members[member]
        with GPUMarketModel(spec, seed=seed, overrides=lines) as model:
            ts = model.run()  # raises NonFiniteError (one line) on a NaN or infinite outcome
        if folder is not None:
            stored = ts.copy()
            stored.insert(0, "seed", np.int64(seed))
            stored.insert(0, "member", np.int64(member))
            stored.insert(0, "scenario", plan.scenario.simulation.name)
            stored.to_parquet(folder / plan.run_file(member, seed), index=False)
        if on_frame is not None:
            on_frame(ts)
        frames.append(ts[[c for c in ts.columns if c in columns]] if columns else ts)
        if (i + 1) % COLLECT_EVERY == 0:
            gc.collect()
        if on_run is not None:
            on_run(i + 1, len(runs), member, seed, time.perf_counter() - t0)
    return frames


@dataclass
class Forecast:
    """A forecast's plan, metrics, bands (:data:`market_sim.runs.bands.BAND_COLUMNS`), the
    dated inputs after the observed record (``assumptions``), the supply capacities that
    hold flat over it (``held``), the target facts' coverage by the runs
    (:func:`market_sim.runs.bands.fact_coverage`; None without facts) and wall times in
    seconds."""

    plan: Plan
    metrics: list[BandMetric]
    bands: pd.DataFrame
    assumptions: list[DatedInput]
    held: list[DatedInput]
    coverage: pd.DataFrame | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


def forecast(
    scenario: Scenario,
    members: Sequence[Sequence[str]] | None = None,
    seeds: int = 1,
    until: dt.date | str | None = None,
    metrics: Sequence[BandMetric] | None = None,
    facts: pd.DataFrame | None = None,
    folder: Path | None = None,
    on_run: Callable[[int, int, int, int, float], None] | None = None,
) -> Forecast:
    """Run ``scenario`` to ``until`` for every ensemble member x seed and band the outcomes.

    ``members``: each member's ``--set`` lines (``load_ensemble(file).overrides(k)``;
    None: the scenario's own values); ``metrics``: default
    :func:`market_sim.runs.bands.default_metrics`; ``facts``: a
    :func:`market_sim.facts.load_facts` table, which sets the end of the observed record
    (:func:`observed_end`) and whose target facts' coverage is measured. ``folder``
    receives each run's Parquet file (see :func:`simulate`). Returns the bands with the
    plan (``.bands``, a frame of :data:`market_sim.runs.bands.BAND_COLUMNS`).
    """
    plan = plan_forecast(scenario, members, seeds, until, observed_end(facts))
    return run_plan(plan, metrics, facts, folder, on_run)


def run_plan(
    plan: Plan,
    metrics: Sequence[BandMetric] | None = None,
    facts: pd.DataFrame | None = None,
    folder: Path | None = None,
    on_run: Callable[[int, int, int, int, float], None] | None = None,
) -> Forecast:
    """:func:`forecast` for a checked :class:`Plan`."""
    metrics = list(metrics) if metrics is not None else default_metrics(plan.scenario)
    scored: list[pd.DataFrame] = []
    targets = None if facts is None else facts[facts["role"] == "target"]

    def score(frame: pd.DataFrame) -> None:
        scored.append(score_facts(frame, targets))

    t0 = time.perf_counter()
    on_frame = score if targets is not None and not targets.empty else None
    frames = simulate(plan, _needed(metrics), folder, on_run, on_frame)
    t1 = time.perf_counter()
    table = bands(frames, metrics)
    timings = {"simulate": t1 - t0, "bands": time.perf_counter() - t1}
    after, until = plan.observed_end, plan.last_day
    return Forecast(
        plan,
        metrics,
        table,
        dated_inputs(plan.scenario, after, until),
        held_capacities(plan.scenario, after),
        fact_coverage(scored) if scored else None,
        timings,
    )
