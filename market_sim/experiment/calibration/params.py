"""The parameters file of a calibration (TOML): what is fitted, within which bounds.

::

    # scenarios/calibration/params.toml
    [parameters."policy.ordering.stock_adjust_weeks"]
    low = 4
    high = 26
    scale = "log"                 # "linear" (default) or "log": how the search samples it
    prior = { mean = 11, sd = 4 } # optional: a normal prior, on the sampling scale

    [weights]                     # optional: weight of a fact in the objective (default 1)
    F004 = 2.0

    miss_cost = 0.1               # optional: added to the distance of a fact outside its band

    [ensemble]                    # optional
    size = 20                     # members shipped (at least 20)
    tolerance = 0.5               # members' objective within best + tolerance x (best + 0.01)

Each key is a dotted scenario path, as ``--set`` takes it (``agents.meta.priority_tier``,
``supply.nodes.tsmc_cowos.expansion.step_fraction``); a path that does not name a value of
the scenario, bounds outside the field's own range, or a path whose field takes whole
numbers with a log scale are refused with one line each. A prior adds ``prior_weight x
z^2 / 2`` to the objective for each parameter (z: distance from the prior mean in prior
sds, on the sampling scale): a gentle pull, documented in docs/calibration.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from market_sim.experiment.paths import check_path, takes_int
from market_sim.experiment.sweep import ScenarioRef
from market_sim.scenario import ScenarioError
from market_sim.scenario.errors import Problem, problems_from_validation
from market_sim.scenario.tomlfile import read_toml

MIN_ENSEMBLE = 20
"""Members an ensemble has at least (the issue's bar; fewer would hide the spread)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PriorSpec(_Strict):
    mean: float = Field(description="prior mean, on the sampling scale's values")
    sd: float = Field(gt=0, description="prior standard deviation (in log units for log)")


class ParameterSpec(_Strict):
    low: float = Field(description="lowest value searched")
    high: float = Field(description="highest value searched")
    scale: Literal["linear", "log"] = Field("linear", description="how the search samples")
    prior: PriorSpec | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ParameterSpec:
        if not self.low < self.high:
            raise ValueError("low must be below high")
        if self.scale == "log" and self.low <= 0:
            raise ValueError("a log scale needs low > 0")
        return self


class EnsembleSpec(_Strict):
    size: int = Field(MIN_ENSEMBLE, ge=MIN_ENSEMBLE, le=1000, description="members shipped")
    tolerance: float = Field(
        0.5,
        ge=0,
        le=100,
        description="members' objective within best + tolerance x (best + 0.01)",
    )


class ParamsFile(_Strict):
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    weights: dict[str, float] = Field(default_factory=dict)
    ensemble: EnsembleSpec = EnsembleSpec()
    prior_weight: float = Field(0.002, ge=0, le=10, description="strength of the priors")
    miss_cost: float = Field(
        0.0, ge=0, le=5, description="added to the band distance of a fact outside its band"
    )


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: its path, bounds, scale, prior, and whether it is whole."""

    path: str
    low: float
    high: float
    log: bool
    integer: bool
    prior_mean: float | None = None
    prior_sd: float | None = None

    def penalty(self, value: float) -> float:
        """``z^2 / 2`` of the value under the prior (0 without one)."""
        if self.prior_mean is None or self.prior_sd is None:
            return 0.0
        x = math.log(value) if self.log else value
        mean = math.log(self.prior_mean) if self.log else self.prior_mean
        return 0.5 * ((x - mean) / self.prior_sd) ** 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "low": self.low,
            "high": self.high,
            "scale": "log" if self.log else "linear",
            "integer": self.integer,
            "prior_mean": self.prior_mean,
            "prior_sd": self.prior_sd,
        }


@dataclass(frozen=True)
class Params:
    file: str
    parameters: list[Parameter]
    weights: dict[str, float]
    ensemble_size: int
    tolerance: float
    prior_weight: float
    miss_cost: float = 0.0


def load_params(path: str | Path, scenario: ScenarioRef) -> Params:
    """Read and check a parameters file against the scenario it calibrates."""
    path = Path(path)
    file = str(path)
    data = read_toml(path)
    try:
        spec = ParamsFile.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(
            problems_from_validation(err, ParamsFile, data, lambda loc: file)
        ) from None
    problems: list[Problem] = []
    out: list[Parameter] = []
    for key, p in spec.parameters.items():
        where = f'parameters."{key}"'
        message, ann = check_path(scenario, key, p.low)
        if message:
            problems.append(Problem(file, where, f"{message} (in {scenario.file})"))
            continue
        integer = takes_int(ann)
        if integer and p.scale == "log":
            problems.append(Problem(file, f"{where}.scale", "whole-number field: use linear"))
            continue
        for bound in ("low", "high"):
            message = _outside(scenario, key, getattr(p, bound), integer)
            if message:
                problems.append(Problem(file, f"{where}.{bound}", f"{message}; narrow the bounds"))
        prior = p.prior
        out.append(
            Parameter(
                key,
                p.low,
                p.high,
                p.scale == "log",
                integer,
                prior.mean if prior else None,
                prior.sd if prior else None,
            )
        )
    if problems:
        raise ScenarioError(problems)
    return Params(
        file,
        out,
        dict(spec.weights),
        spec.ensemble.size,
        spec.ensemble.tolerance,
        spec.prior_weight,
        spec.miss_cost,
    )


def _outside(scenario: ScenarioRef, path: str, value: float, integer: bool) -> str | None:
    """Why the scenario refuses ``path = value`` (None: it takes it)."""
    from market_sim.model.inputs import resolve_scenario

    v = round(value) if integer else value
    try:
        resolve_scenario(scenario.data, [f"{path}={v}"])
    except ScenarioError as err:
        first = err.problems[0]
        return f"{value:g} is refused by the scenario ({first.message})"
    return None


def current_value(scenario_data: dict[str, Any], path: str) -> float | None:
    """The value a path has in a resolved scenario's data (None if unset there)."""
    from market_sim.experiment.paths import _loc

    try:
        loc = _loc(scenario_data, path)
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    cur: Any = scenario_data
    for step in loc:
        try:
            cur = cur[step]
        except (KeyError, IndexError, TypeError):
            return None
    return float(cur) if isinstance(cur, int | float) and not isinstance(cur, bool) else None
