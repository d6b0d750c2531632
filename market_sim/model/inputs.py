"""What a model is built from: a scenario (object, file, data or the packaged baseline),
overrides, and the seed.

Seeds: ``GPUMarketModel(seed=...)`` wins; without one the scenario's
``simulation.seed`` is used, so a model is reproducible by default. Under
``mesa.batch_run(GPUMarketModel, ..., iterations=N)`` (which passes no seed), iteration
``i`` runs with ``simulation.seed + i``: N different runs, the same N every time, the
first equal to a plain run. To choose seeds yourself pass ``"seed": [...]`` among the
parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from market_sim.scenario import Scenario, load_scenario, scenario_from_dict

PACKAGED_BASELINE = Path(__file__).resolve().parents[1] / "data" / "baseline.toml"
"""The historical baseline shipped with the package (``scenarios/baseline.toml``)."""


def resolve_scenario(
    scenario: Scenario | str | Path | Mapping[str, Any] | None,
    overrides: Iterable[str] | str = (),
    dotted: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated scenario from an object, a file path or a mapping, with overrides
    (``None``: the packaged baseline).

    ``overrides`` are ``path=value`` strings (a single string may hold several separated
    by ``;``); ``dotted`` maps dotted paths to Python values (``{"policy.allocation":
    "auction"}``), as keyword arguments to the model and ``mesa.batch_run`` give them.
    """
    if scenario is None:
        scenario = PACKAGED_BASELINE
    if isinstance(overrides, str):
        overrides = [o for o in overrides.split(";") if o.strip()]
    items = list(overrides) + [f"{k}={_toml_literal(v)}" for k, v in (dotted or {}).items()]
    if isinstance(scenario, Scenario):
        if not items:
            return scenario
        scenario = scenario.model_dump(mode="json", by_alias=True)
    if isinstance(scenario, Mapping):
        from market_sim.scenario.errors import ScenarioError
        from market_sim.scenario.loader import RawScenario, apply_overrides, validate

        raw = RawScenario(json.loads(json.dumps(scenario, default=str)), "<scenario>")
        problems = apply_overrides(raw, items)
        if problems:
            raise ScenarioError(problems)
        return validate(raw) if items else scenario_from_dict(raw.data)
    return load_scenario(scenario, items)


def _toml_literal(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value)


def batch_run_iteration() -> int | None:
    """The iteration number when called (indirectly) by ``mesa.batch_run`` building a
    model, else None.

    Mesa 3.3's ``batch_run`` repeats identical keyword arguments ``iterations`` times and
    passes no seed; it builds each model in ``mesa.batchrunner._model_run_func(model_cls,
    run, ...)`` with ``run = (run_id, iteration, kwargs)``, in this process or a worker.
    The frame of that call is the one reliable place the iteration is known.
    """
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_model_run_func" and frame.f_globals.get("__name__") == (
            "mesa.batchrunner"
        ):
            run = frame.f_locals.get("run")
            if isinstance(run, tuple) and len(run) == 3 and isinstance(run[1], int):
                return run[1]
            return None
        frame = frame.f_back
    return None


def default_seed(scenario: Scenario) -> int:
    """The seed of a model built without one (see the module docstring)."""
    iteration = batch_run_iteration()
    return scenario.simulation.seed + (iteration or 0)
