"""The search: optuna's TPE (or CMA-ES) over the parameters, model evaluations on
dask.distributed.

Why optuna: tried side by side with pyabc's ABC-SMC on this model
(``scripts/compare_calibrators.py``, 150 evaluations of 5 parameters on 2 workers), TPE
reached a 14x lower objective than ABC-SMC's third generation (0.0013 vs 0.0036 for the
best; 0.0020 vs 0.013 for the median of the 20 sets each would ship), at 3.4 vs 2.9
evaluations a second, with a light dependency (pyabc pulls in ipykernel, gitpython,
scikit-learn, matplotlib and redis). An ABC posterior needs budgets this model cannot
afford on a laptop; the ensemble here is the best trials within a stated tolerance.

The study lives in ``OUT/study.journal`` (optuna's journal storage: appended per event,
safe to read after a kill), so ``--resume`` continues where it stopped: trials still
running at the kill are marked failed (``lost``) and asked again. Evaluations run as
dask tasks, a few more in flight than there are workers (TPE with ``constant_liar`` so
that parallel asks spread out); the first trial is the scenario's own values.

TPE proposes every value afresh, so near a good point it rarely changes one value and
keeps the rest: three searches of 1,000-2,000 evaluations from the shipped baseline found
little or nothing better than their start. ``--sampler cmaes`` refines locally instead:
optuna's CMA-ES (Hansen's covariance matrix adaptation) starting at the scenario's values
with a small step (:data:`CMAES_STEP`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.calibration.evaluate import Evaluation, evaluate
from market_sim.experiment.calibration.params import Parameter, Params

STUDY = "calibration"
JOURNAL = "study.journal"


@dataclass
class SearchInputs:
    """What every evaluation needs (sent with each task; a few kB)."""

    scenario: dict[str, Any]
    facts: pd.DataFrame
    weights: np.ndarray
    seeds: list[int]
    weeks: int
    fixed: list[str]
    miss_cost: float = 0.0


def _load_optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


SAMPLERS = ("tpe", "cmaes")
"""``tpe``: a global search (optuna's TPE); ``cmaes``: a local one around the scenario's
values (optuna's CMA-ES, the ``cmaes`` package)."""
CMAES_STEP = 0.02
"""CMA-ES's first step, a share of each parameter's range (of its log range for a log
parameter). Tried from the shipped baseline (20 parameters, 500 evaluations, 2 seeds):
0.08 found nothing better than the start; 0.02 found 0.0184 against 0.0205 by the 160th
evaluation, where TPE's 1,000 found 0.0198."""


def make_sampler(kind: str, seed: int, start: dict[str, float] | None):
    """The search's optuna sampler: ``kind`` one of :data:`SAMPLERS`; CMA-ES starts at
    ``start`` (the scenario's values) with a step of :data:`CMAES_STEP`."""
    optuna = _load_optuna()
    if kind == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed, constant_liar=True, multivariate=True, n_startup_trials=20
        )
    if kind != "cmaes":
        raise ValueError(f"sampler {kind!r}: use one of {', '.join(SAMPLERS)}")
    import warnings

    # Trials asked before any has finished (the first few, with several workers) are
    # sampled "independently": at the start itself, not at random over the bounds
    with warnings.catch_warnings():  # optuna 4.9 deprecates x0 and sigma0 (gone in 6)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        independent = optuna.samplers.RandomSampler(seed=seed)
        if start:
            independent = optuna.samplers.PartialFixedSampler(dict(start), independent)
        return optuna.samplers.CmaEsSampler(
            x0=dict(start) if start else None,
            sigma0=CMAES_STEP if start else None,
            seed=seed,
            n_startup_trials=0,
            independent_sampler=independent,
            warn_independent_sampling=False,
        )


def open_study(
    out: Path,
    seed: int,
    resume: bool,
    sampler: str = "tpe",
    start: dict[str, float] | None = None,
):
    """The study in ``out`` (new, or the stored one with ``resume``), searched by
    ``sampler`` (:func:`make_sampler`)."""
    optuna = _load_optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(out / JOURNAL)))
    sampler = make_sampler(sampler, seed, start)
    if resume:
        study = optuna.load_study(study_name=STUDY, storage=storage, sampler=sampler)
        for t in study.get_trials(deepcopy=False):
            if t.state == optuna.trial.TrialState.RUNNING:  # killed while it ran: lost
                study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        return study
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler)


def suggest(trial: Any, parameters: Sequence[Parameter]) -> dict[str, float]:
    """A trial's parameter set."""
    out = {}
    for p in parameters:
        if p.integer:
            out[p.path] = float(trial.suggest_int(p.path, math.ceil(p.low), int(p.high)))
        else:
            out[p.path] = trial.suggest_float(p.path, p.low, p.high, log=p.log)
    return out


def penalty(params: Params, values: Mapping[str, float]) -> float:
    """The priors' pull on a parameter set (added to the objective)."""
    return params.prior_weight * sum(p.penalty(values[p.path]) for p in params.parameters)


def evaluated(trial: Any) -> bool:
    """Whether a trial holds an evaluation (its detail is recorded before it is told);
    a trial lost to a kill or a lost worker holds none."""
    return "elapsed_s" in trial.user_attrs


def counted(study: Any) -> int:
    """Trials that count towards the budget: those that hold an evaluation."""
    return sum(1 for t in study.get_trials(deepcopy=False) if evaluated(t))


def search(
    client: Any,
    study: Any,
    params: Params,
    inputs: SearchInputs,
    budget: int,
    start: Mapping[str, float] | None = None,
    on_result: Callable[[int, Evaluation, float], None] | None = None,
) -> None:
    """Evaluate trials until ``budget`` count (see :func:`counted`); ``start`` (the
    scenario's own values) is enqueued as the first trial of a new study;
    ``on_result(number, evaluation, objective)`` after each."""
    from distributed import wait

    optuna = _load_optuna()
    if start is not None and not study.trials:
        study.enqueue_trial(dict(start))
    integer = {p.path: p.integer for p in params.parameters}
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    in_flight: dict[Any, Any] = {}
    asked = counted(study)
    while asked < budget or in_flight:
        while asked < budget and len(in_flight) < n_workers + 1:
            trial = study.ask()
            values = suggest(trial, params.parameters)
            future = client.submit(
                evaluate,
                inputs.scenario,
                values,
                inputs.seeds,
                inputs.facts,
                inputs.weights,
                inputs.fixed,
                integer,
                inputs.weeks,
                inputs.miss_cost,
                pure=False,
                key=f"calibrate-{trial.number}-{time.monotonic_ns()}",
            )
            in_flight[future] = trial
            asked += 1
        done, _ = wait(list(in_flight), return_when="FIRST_COMPLETED")
        for future in done:
            trial = in_flight.pop(future)
            if future.status != "finished":  # the infrastructure lost it: ask again
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                asked -= 1
                continue
            ev: Evaluation = future.result()
            record(trial, ev)
            if math.isfinite(ev.objective):
                value = ev.objective + penalty(params, ev.params)
                study.tell(trial, value)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                value = math.inf
            if on_result is not None:
                on_result(trial.number, ev, value)


def record(trial: Any, ev: Evaluation) -> None:
    """Keep an evaluation's detail with its trial (for the report and the ensemble)."""
    trial.set_user_attr("objective_raw", ev.objective if math.isfinite(ev.objective) else None)
    trial.set_user_attr("inside", ev.inside)
    trial.set_user_attr("breach_weeks", ev.breach_weeks)
    trial.set_user_attr("simulated", ev.simulated)
    trial.set_user_attr("distance", ev.distance)
    trial.set_user_attr("elapsed_s", ev.elapsed_s)
    if ev.error:
        trial.set_user_attr("error", ev.error)


def trials_frame(study: Any, params: Params) -> pd.DataFrame:
    """Every trial: ``number``, ``state``, ``objective`` (with the priors),
    ``objective_raw``, ``inside``, ``error``, ``elapsed_s`` and one column per parameter."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not evaluated(t):
            continue
        row = {
            "number": t.number,
            "state": t.state.name.lower(),
            "objective": t.value if t.value is not None else math.nan,
            "objective_raw": t.user_attrs.get("objective_raw"),
            "inside": t.user_attrs.get("inside"),
            "breach_weeks": t.user_attrs.get("breach_weeks"),
            "error": t.user_attrs.get("error"),
            "elapsed_s": t.user_attrs.get("elapsed_s"),
        }
        for p in params.parameters:
            row[p.path] = float(t.params.get(p.path, math.nan))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["objective_raw"] = frame["objective_raw"].astype(float)
    return frame.sort_values("number").reset_index(drop=True)


def select_ensemble(trials: pd.DataFrame, size: int, tolerance: float) -> pd.DataFrame:
    """The ensemble: completed trials within ``best + tolerance x (best + 0.01)`` of the
    best objective, at least ``size`` of them (the best ``size`` if fewer are within) and
    at most ``3 x size`` (the best of them), ranked by objective. ``within_tolerance``
    says which meet the bar."""
    done = trials[trials["state"] == "complete"].sort_values(["objective", "number"])
    if done.empty:
        return done
    best = float(done["objective"].iloc[0])
    bar = best + tolerance * (best + 0.01)
    within = done[done["objective"] <= bar]
    chosen = within if len(within) >= size else done.head(size)
    chosen = chosen.head(min(3 * size, max(size, len(within)))).copy()
    chosen["within_tolerance"] = chosen["objective"] <= bar
    chosen.insert(0, "member", range(len(chosen)))
    return chosen.reset_index(drop=True)
