"""Sweep file schema (pydantic v2): what a sweep file and a claims file may hold.

Only the shape is checked here; :mod:`market_sim.experiment.load` adds the checks that
need the scenarios (parameter paths, metric keys, scenario labels). docs/sweeps.md is the
user's reference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from market_sim.scenario.bounds import Bounded

Scalar = int | float | bool | str

SAMPLERS = ("grid", "lhs", "sobol", "morris", "ensemble")
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "lognormal", "triangular")
AGGREGATIONS = ("auto", "mean", "sum", "min", "max", "first", "last", "median", "p10", "p90")


class _Strict(Bounded):
    """Unknown keys rejected; numbers finite and bounded like a scenario's
    (:mod:`market_sim.scenario.bounds`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ParameterSpec(_Strict):
    """How one scenario value varies across the sweep.

    A list in the file (``"policy.allocation" = ["priority", "pro_rata"]``) is read as
    ``values``. A range is ``min``/``max`` (uniform, or ``distribution = "loguniform"``);
    ``normal`` takes ``mean``/``sd``, ``lognormal`` ``median``/``sigma`` (sd of the log),
    both optionally cut at ``min``/``max``; ``triangular`` takes ``min``/``mode``/``max``.
    ``levels`` is how many points a continuous parameter takes in a grid.
    """

    values: list[Scalar] | None = Field(default=None, min_length=1)
    distribution: Literal[DISTRIBUTIONS] | None = None  # type: ignore[valid-type]
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0)
    mode: float | None = None
    levels: int | None = Field(default=None, ge=2, le=1000)
    integer: bool | None = None
    scenarios: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        if self.values is not None:
            extra = [
                k
                for k in (
                    "distribution",
                    "min",
                    "max",
                    "mean",
                    "sd",
                    "median",
                    "sigma",
                    "mode",
                    "levels",
                )
                if getattr(self, k) is not None
            ]
            if extra:
                raise ValueError(f"a list of values takes no {', '.join(extra)}; remove them")
            return self
        dist = self.kind
        need = {
            "uniform": ("min", "max"),
            "loguniform": ("min", "max"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
            "triangular": ("min", "mode", "max"),
        }[dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {dist} parameter needs {', '.join(need)}; add {missing[0]}")
        allowed = set(need) | {"min", "max"} if dist in ("normal", "lognormal") else set(need)
        extra = [
            k
            for k in ("min", "max", "mean", "sd", "median", "sigma", "mode")
            if getattr(self, k) is not None and k not in allowed
        ]
        if extra:
            raise ValueError(f"a {dist} parameter takes no {', '.join(extra)}; remove it")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        if dist == "loguniform" and self.min is not None and self.min <= 0:
            raise ValueError("a loguniform range needs min > 0")
        if dist == "triangular" and not self.min <= self.mode <= self.max:  # type: ignore[operator]
            raise ValueError("mode must lie between min and max")
        return self

    @property
    def kind(self) -> str:
        """``values`` or the distribution's name (a bare range is uniform)."""
        if self.values is not None:
            return "values"
        return self.distribution or ("uniform" if self.mean is None else "normal")


class OutputSpec(_Strict):
    """A scalar summary of a run: a metric key reduced over a window.

    ``window``: ``"all"``, a year ``"2024"``, a quarter ``"2024-Q3"``, a month
    ``"2024-06"``, or ``"first:N"``/``"last:N"`` weeks of the run. ``agg``: ``auto``
    (the facts rules: mean of a level, sum of a flow, last of a stock, ratio of sums for
    shares and margins) or one of mean, sum, min, max, first, last, median, p10, p90
    over the weeks that start inside the window.
    """

    metric: str = Field(min_length=1)
    window: str = "all"
    agg: Literal[AGGREGATIONS] = "auto"  # type: ignore[valid-type]
    label: str = ""


class ClaimSpec(_Strict):
    """A testable claim: ``output`` in ``scenario`` minus the same output in
    ``counterfactual`` (same parameters, same seed) moves in ``direction`` by more than
    ``threshold`` (in the output's unit, or in percent of the counterfactual's value when
    ``relative``)."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    text: str = Field(min_length=1)
    output: str = Field(min_length=1)
    scenario: str | None = None
    counterfactual: str = Field(min_length=1)
    direction: Literal["increase", "decrease"]
    threshold: float = Field(default=0.0, ge=0)
    relative: bool = False


class ClaimsFile(_Strict):
    """A file of claims (``scenarios/claims.toml``) with the outputs they need."""

    description: str = ""
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    claims: list[ClaimSpec] = Field(default_factory=list)


class SweepFile(_Strict):
    """A sweep: a base scenario, parameters to vary, a sampler, outputs and claims.

    ``sampler = "ensemble"`` takes its sample points from a calibrated ensemble
    (``ensemble``: a ``*.ensemble.toml``; ``members``: how many of its members, spread
    evenly over it; default all) instead of ``[parameters]``.
    """

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-]+$")
    description: str = ""
    base: str = Field(min_length=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    sampler: Literal[SAMPLERS]  # type: ignore[valid-type]
    samples: int | None = Field(default=None, ge=1, le=1_000_000)
    replicates: int = Field(default=1, ge=1, le=10_000)
    levels: int = Field(default=4, ge=2, le=100)
    set: list[str] = Field(default_factory=list)
    series: list[str] = Field(default_factory=list)
    claims_file: str | None = None
    ensemble: str | None = None
    members: int | None = Field(default=None, ge=1, le=100_000)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    claims: list[ClaimSpec] = Field(default_factory=list)
