"""``market-sim calibrate``: search, pick the ensemble, score it in and out of sample,
write the calibration's folder.

``OUT/`` holds ``calibration.json`` (settings, id, summary), ``study.journal`` (the
search, resumable), ``evaluations.parquet`` (every trial), ``validation.parquet`` (every
target fact scored for the scenario as given and for each ensemble member, full
horizon), the calibrated scenario, the ensemble and its file, and ``report.html``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.calibration.evaluate import Evaluation, evaluate, weeks_needed
from market_sim.experiment.calibration.objective import fact_weights, select_facts
from market_sim.experiment.calibration.outputs import (
    held_fixed,
    write_calibrated,
    write_ensemble,
)
from market_sim.experiment.calibration.params import Params, current_value, load_params
from market_sim.experiment.calibration.search import (
    SearchInputs,
    counted,
    open_study,
    search,
    select_ensemble,
    trials_frame,
)
from market_sim.experiment.sweep import ScenarioRef
from market_sim.facts.discrepancy import coverage, discrepancy_sd
from market_sim.fileio import atomic_write, write_json
from market_sim.problems import LineError

SETTINGS = "calibration.json"


class CalibrationError(LineError):
    """A calibration folder or input that cannot be used (one line; exit 2)."""


@dataclass
class Settings:
    scenario_file: str
    params_file: str
    facts_file: str
    role: str
    until: str | None
    budget: int
    seeds: list[int]
    overrides: list[str]
    search_seed: int = 0
    cold: bool = False  # True: the search does not start from the scenario's own values
    sampler: str = "tpe"  # search.SAMPLERS: "tpe" (global) or "cmaes" (local, from the start)

    def fingerprint(self, scenario: dict, params: Params, facts: pd.DataFrame) -> str:
        blob = json.dumps(
            {
                "scenario": scenario,
                "parameters": [p.to_dict() for p in params.parameters],
                "weights": params.weights,
                "miss_cost": params.miss_cost,
                "facts": facts.to_dict(orient="records"),
                "role": self.role,
                "until": self.until,
                "seeds": self.seeds,
                "overrides": self.overrides,
                "search_seed": self.search_seed,
                "cold": self.cold,
                "sampler": self.sampler,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Result:
    out: Path
    id: str
    trials: pd.DataFrame
    ensemble: pd.DataFrame
    validation: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    calibrated: Path | None = None
    ensemble_file: Path | None = None


def calibrate(
    settings: Settings,
    out: Path,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    on_phase: Callable[[str], None] | None = None,
    on_result: Callable[[int, Evaluation, float], None] | None = None,
) -> Result:
    """Run a calibration into ``out`` (see the module docstring)."""
    from market_sim.experiment.execute import connect
    from market_sim.facts import load_facts
    from market_sim.model import resolve_scenario

    def phase(text: str) -> None:
        if on_phase is not None:
            on_phase(text)

    scenario_file = Path(settings.scenario_file)
    scenario = resolve_scenario(scenario_file, settings.overrides)
    data = scenario.model_dump(mode="json", by_alias=True)
    params = load_params(settings.params_file, ScenarioRef("scenario", str(scenario_file), data))
    facts_all = load_facts(settings.facts_file)
    until = pd.Timestamp(settings.until) if settings.until else None
    in_sample, out_sample = select_facts(facts_all, settings.role, until)
    if in_sample.empty:
        raise CalibrationError(
            f"{settings.facts_file}: no {settings.role} facts end by {settings.until}; "
            "choose a later --until or another --role"
        )
    key = settings.fingerprint(data, params, in_sample)
    cal_id = f"cal-{key[:10]}"
    _prepare(out, resume, key)
    weeks = weeks_needed(
        pd.Timestamp(scenario.simulation.start_date), in_sample, scenario.simulation.weeks
    )
    inputs = SearchInputs(
        scenario=data,
        facts=in_sample,
        weights=fact_weights(in_sample, params.weights),
        seeds=list(settings.seeds),
        weeks=weeks,
        fixed=[],
        miss_cost=params.miss_cost,
    )
    start = _start(data, params)
    first = None if settings.cold else start
    study = open_study(out, settings.search_seed, resume, settings.sampler, first)
    from market_sim.experiment.warm import start_cache_warm, warm_workers

    cache = None if scheduler else start_cache_warm()  # while the local cluster starts
    with connect(workers=workers, scheduler=scheduler) as client:
        phase("warming up the workers (numba's kernel cache, once)")
        if cache is not None:  # before any local worker loads a kernel
            cache.wait()
        warm_workers(client)
        done = counted(study)
        phase(
            f"searching: {settings.budget} evaluations ({done} done), {len(in_sample)} facts, "
            f"{len(settings.seeds)} seed(s), {weeks} weeks each"
        )
        search(client, study, params, inputs, settings.budget, first, on_result)
        trials = trials_frame(study, params)
        ensemble = select_ensemble(trials, params.ensemble_size, params.tolerance)
        if ensemble.empty:
            raise CalibrationError(f"{out}: no evaluation succeeded; see evaluations.parquet")
        phase(
            f"scoring the scenario as given and {len(ensemble)} members on every "
            f"{settings.role} fact, in and out of sample"
        )
        validation = _validate(client, data, params, ensemble, facts_all, settings, start)
    atomic_write(out / "evaluations.parquet", lambda fh: trials.to_parquet(fh, index=False))
    atomic_write(out / "validation.parquet", lambda fh: validation.to_parquet(fh, index=False))
    summary = summarise(validation, in_sample, out_sample, ensemble)
    best = {p.path: float(ensemble[p.path].iloc[0]) for p in params.parameters}
    integer = {p.path: p.integer for p in params.parameters}
    bounds = {p.path: (p.low, p.high) for p in params.parameters}
    obj = float(ensemble["objective"].iloc[0])
    comments = {
        path: f"calibrated: {cal_id}, objective {obj:.4g}, bounds [{lo:g}, {hi:g}]"
        for path, (lo, hi) in bounds.items()
    }
    header = [
        f"Calibrated {scenario_file.name} ({cal_id}, {dt.date.today().isoformat()}): "
        f"{len(trials)} evaluations, {len(settings.seeds)} seed(s) each.",
        f"In-sample facts ({settings.role}, window ending by {settings.until or 'any date'}): "
        f"{summary['in_sample_inside_before']}/{summary['in_sample_n']} inside before, "
        f"{summary['in_sample_inside_after']}/{summary['in_sample_n']} after.",
        f"Out of sample: {summary['out_sample_inside_after']}/{summary['out_sample_n']} inside.",
        "The ensemble file next to this one lists every parameter set that fits.",
    ]
    # the --set values the fit ran with: the calibrated scenario must reproduce them
    fixed, notes = held_fixed(scenario_file, settings.overrides, best, cal_id)
    comments.update(notes)
    calibrated = write_calibrated(out, scenario_file, {**fixed, **best}, comments, header, integer)
    members = ensemble.rename(columns={"objective": "objective_in_sample"})
    ensemble_file = write_ensemble(
        out,
        scenario_file,
        cal_id,
        members,
        [p.path for p in params.parameters],
        integer,
        {"tolerance": params.tolerance, "objective_best": obj},
        settings.overrides,
    )
    result = Result(out, cal_id, trials, ensemble, validation, summary, calibrated, ensemble_file)
    write_json(
        out / SETTINGS,
        {
            "format": "market_sim.calibration/1",
            "id": cal_id,
            "fingerprint": key,
            "settings": settings.__dict__,
            "parameters": [p.to_dict() for p in params.parameters],
            "weights": params.weights,
            "miss_cost": params.miss_cost,
            "weeks": weeks,
            "start": start,
            "summary": summary,
            "calibrated": calibrated.name,
            "ensemble": ensemble_file.name,
        },
    )
    return result


def _prepare(out: Path, resume: bool, key: str) -> None:
    settings = out / SETTINGS
    journal = out / "study.journal"
    if resume:
        if not journal.is_file():
            raise CalibrationError(f"{out}: no calibration to resume here; run without --resume")
        marker = out / ".fingerprint"
        if marker.is_file() and marker.read_text().strip() != key:
            raise CalibrationError(
                f"{out}: holds a calibration of other inputs (scenario, parameters, facts, "
                "seeds, --until, --cold or --sampler changed); choose another --out"
            )
        return
    if out.exists() and any(out.iterdir()):
        raise CalibrationError(
            f"{out}: not empty; choose another --out, or add --resume to finish the "
            "calibration there"
        )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / ".fingerprint", lambda fh: fh.write(key.encode()))
    del settings


def _start(data: dict, params: Params) -> dict[str, float]:
    """The scenario's own values (clipped into the bounds): the search's first trial."""
    start = {}
    for p in params.parameters:
        v = current_value(data, p.path)
        if v is None or not math.isfinite(v):
            continue
        start[p.path] = float(min(max(v, p.low), p.high))
    return start


def _validate(
    client: Any,
    data: dict,
    params: Params,
    ensemble: pd.DataFrame,
    facts: pd.DataFrame,
    settings: Settings,
    start: dict[str, float],
) -> pd.DataFrame:
    """Every fact of the role scored over the full horizon, for the scenario as given
    (member -1) and for each member: member, fact_id, simulated, distance."""
    chosen = facts[facts["role"] == settings.role].reset_index(drop=True)
    weights = np.ones(len(chosen))
    integer = {p.path: p.integer for p in params.parameters}
    sets: list[tuple[int, dict[str, float]]] = [(-1, {})]
    for _, row in ensemble.iterrows():
        sets.append((int(row["member"]), {p.path: float(row[p.path]) for p in params.parameters}))
    futures = [
        client.submit(
            evaluate,
            data,
            values,
            settings.seeds,
            chosen,
            weights,
            [],
            integer,
            None,
            params.miss_cost,
            pure=False,
        )
        for _, values in sets
    ]
    rows = []
    for (member, _), ev in zip(sets, client.gather(futures), strict=True):
        for fid in chosen["fact_id"]:
            rows.append(
                {
                    "member": member,
                    "fact_id": fid,
                    "simulated": ev.simulated.get(fid, math.nan),
                    "distance": ev.distance.get(fid, math.nan),
                    "error": ev.error,
                }
            )
    frame = pd.DataFrame(rows)
    info = chosen.set_index("fact_id")
    frame["metric_key"] = frame["fact_id"].map(info["metric_key"])
    frame["date"] = frame["fact_id"].map(info["date"])
    return frame


def summarise(
    validation: pd.DataFrame,
    in_sample: pd.DataFrame,
    out_sample: pd.DataFrame,
    ensemble: pd.DataFrame,
) -> dict[str, Any]:
    """In-band counts before (the scenario as given) and after (the best member), in and
    out of sample, and the ensemble's coverage: the observed value inside the members'
    5-95% range of simulated values, and inside the predictive range that adds the
    model's discrepancy measured on the fitted facts (each fitted fact leaving itself
    out; :mod:`market_sim.facts.discrepancy`), counted in and out of sample."""
    ins, outs = set(in_sample["fact_id"]), set(out_sample["fact_id"])

    def inside(member: int, ids: set[str]) -> int:
        part = validation[(validation["member"] == member) & validation["fact_id"].isin(ids)]
        return int((part["distance"] == 0).sum())

    members = validation[validation["member"] >= 0]
    observed = pd.concat([in_sample, out_sample]).set_index("fact_id")["value"].astype(float)
    ids = [f for f in observed.index if f in set(members["fact_id"])]
    runs = [members.loc[members["fact_id"] == f, "simulated"].to_numpy(float) for f in ids]
    cov = pd.DataFrame(coverage(runs, observed[ids].to_numpy(float), ids, fitted=ins), index=ids)
    covered = int(cov["inside"].sum()) if len(cov) else 0

    def predictive(part: set[str]) -> int:
        return int(cov.loc[[f for f in ids if f in part], "inside_predictive"].sum())

    n_all = len(ins | outs)
    return {
        "in_sample_n": len(ins),
        "out_sample_n": len(outs),
        "in_sample_inside_before": inside(-1, ins),
        "in_sample_inside_after": inside(0, ins),
        "out_sample_inside_before": inside(-1, outs),
        "out_sample_inside_after": inside(0, outs),
        "ensemble_size": len(ensemble),
        "ensemble_within_tolerance": int(ensemble["within_tolerance"].sum()),
        "coverage": covered,
        "coverage_n": n_all,
        "coverage_predictive_in_sample": predictive(ins),
        "coverage_predictive_out_sample": predictive(outs),
        "discrepancy_sd": _finite_or_none(
            discrepancy_sd(cov.loc[[f for f in ids if f in ins], "log_error"]) if len(cov) else 0
        ),
    }


def _finite_or_none(x: float) -> float | None:
    """``x``, or None (JSON null) when it is NaN or infinite (e.g. too few facts)."""
    return float(x) if math.isfinite(x) else None


def seeds_from(first: int, k: int) -> list[int]:
    """The K seeds of each evaluation: the scenario's seed and the next ones."""
    return [first + i for i in range(max(1, k))]


__all__: Sequence[str] = ("CalibrationError", "Result", "Settings", "calibrate", "seeds_from")
