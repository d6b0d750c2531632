"""A loaded sweep: resolved scenarios, parameters with their value mapping, outputs, claims.

A parameter maps a point ``u`` of the unit interval (what every sampler draws) to a
scenario value: ``values`` pick the ``floor(u * n)``-th entry; a uniform range is
``min + u * (max - min)``; loguniform the same in log space; ``normal``, ``lognormal``
and ``triangular`` use their inverse CDF (``normal``/``lognormal`` cut at ``min``/``max``
when given; without bounds ``u`` is kept inside [0.001, 0.999] so Morris's end levels stay
finite). ``integer`` rounds to the nearest whole number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from market_sim.experiment.spec import OutputSpec, ParameterSpec, Scalar

_STD = NormalDist()
_TAIL = 0.001
"""Quantile kept off each end of an unbounded distribution (Morris samples u = 0 and 1)."""


@dataclass(frozen=True)
class Parameter:
    """One swept scenario value, by dotted path (as ``--set`` takes it)."""

    path: str
    spec: ParameterSpec
    integer: bool
    scenarios: tuple[str, ...]
    """Scenario labels the parameter is applied to (default: every scenario of the sweep)."""
    ensemble: bool = False
    """True when the values come from a calibrated ensemble's members (the spec then only
    spans them)."""

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def categorical(self) -> bool:
        """True for a list holding text or booleans (no order to correlate with)."""
        vals = self.spec.values
        return vals is not None and any(isinstance(v, str | bool) for v in vals)

    def from_unit(self, u: float) -> Scalar:
        """The parameter's value at the point ``u`` in [0, 1] of its unit interval."""
        u = min(max(float(u), 0.0), 1.0)
        s = self.spec
        if s.values is not None:
            return s.values[min(int(u * len(s.values)), len(s.values) - 1)]
        x = self._continuous(u)
        return round(x) if self.integer else float(x)

    def _continuous(self, u: float) -> float:
        s, kind = self.spec, self.kind
        if kind == "uniform":
            return s.min + u * (s.max - s.min)  # type: ignore[operator]
        if kind == "loguniform":
            lo, hi = math.log(s.min), math.log(s.max)  # type: ignore[arg-type]
            return math.exp(lo + u * (hi - lo))
        if kind == "triangular":
            a, c, b = s.min, s.mode, s.max
            f = (c - a) / (b - a)  # type: ignore[operator]
            if u < f:
                return a + math.sqrt(u * (b - a) * (c - a))  # type: ignore[operator]
            return b - math.sqrt((1 - u) * (b - a) * (b - c))  # type: ignore[operator]
        if kind == "normal":
            loc, scale, to_z = s.mean, s.sd, lambda x: x
        else:  # lognormal: log(value) ~ N(log(median), sigma)
            loc, scale, to_z = math.log(s.median), s.sigma, math.log  # type: ignore[arg-type]
        dist = NormalDist(loc, scale)  # type: ignore[arg-type]
        lo = dist.cdf(to_z(s.min)) if s.min is not None and (kind == "normal" or s.min > 0) else 0
        hi = dist.cdf(to_z(s.max)) if s.max is not None else 1
        if s.min is None and s.max is None:
            lo, hi = _TAIL, 1 - _TAIL
        q = min(max(lo + u * (hi - lo), 1e-12), 1 - 1e-12)
        z = dist.inv_cdf(q)
        return z if kind == "normal" else math.exp(z)

    def grid_values(self) -> list[Scalar]:
        """The values a grid takes: the list, or ``levels`` points (for a range evenly
        spaced from min to max, log-spaced if loguniform; for a distribution its
        quantiles at (i + 0.5) / levels)."""
        s = self.spec
        if s.values is not None:
            return list(s.values)
        n = int(s.levels or 0)
        if self.kind in ("uniform", "loguniform"):
            points = [i / (n - 1) for i in range(n)]
        else:
            points = [(i + 0.5) / n for i in range(n)]
        out = [self.from_unit(p) for p in points]
        return list(dict.fromkeys(out))  # integer rounding may merge neighbours

    def describe(self) -> str:
        """A short human description of the range (for reports)."""
        s = self.spec
        if self.ensemble:
            span = f"{s.values[0]:g}" if s.values is not None else f"{s.min:g} to {s.max:g}"
            return f"from the ensemble's members: {span}"
        if s.values is not None:
            return "one of " + ", ".join(str(v) for v in s.values)
        if self.kind in ("uniform", "loguniform"):
            return f"{self.kind} {s.min:g} to {s.max:g}"
        if self.kind == "triangular":
            return f"triangular {s.min:g} / {s.mode:g} / {s.max:g}"
        bounds = "" if s.min is None and s.max is None else f", within [{s.min}, {s.max}]"
        if self.kind == "normal":
            return f"normal mean {s.mean:g} sd {s.sd:g}{bounds}"
        return f"lognormal median {s.median:g} sigma {s.sigma:g}{bounds}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "describe": self.describe(),
            "categorical": self.categorical,
            "integer": self.integer,
            "scenarios": list(self.scenarios),
            "ensemble": self.ensemble,
        }


@dataclass(frozen=True)
class Output:
    """A named scalar summary of a run (see :class:`OutputSpec`)."""

    name: str
    metric: str
    window: str
    agg: str
    label: str = ""

    @classmethod
    def from_spec(cls, name: str, spec: OutputSpec) -> Output:
        return cls(name, spec.metric, spec.window, spec.agg, spec.label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "window": self.window,
            "agg": self.agg,
            "label": self.label,
        }


@dataclass(frozen=True)
class Claim:
    """A claim with its scenarios as labels of the sweep's scenarios."""

    id: str
    text: str
    output: str
    scenario: str
    counterfactual: str
    direction: str
    threshold: float
    relative: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def rule(self) -> str:
        """The test in words, e.g. ``baseline - no_meta_surge > +4``."""
        sign = ">" if self.direction == "increase" else "<"
        unit = "%" if self.relative else ""
        bound = self.threshold if self.direction == "increase" else -self.threshold
        what = "relative change" if self.relative else "difference"
        return (
            f"{what} {self.scenario} vs {self.counterfactual} of {self.output} "
            f"{sign} {bound:+g}{unit}"
        )


@dataclass(frozen=True)
class ScenarioRef:
    """A scenario the sweep runs: its file and its merged (not yet overridden) data."""

    label: str
    file: str
    data: dict[str, Any]


@dataclass
class Sweep:
    """A validated sweep file, ready to plan (see :func:`market_sim.experiment.load_sweep`)."""

    file: str
    name: str
    description: str
    seed: int
    sampler: str
    samples: int | None
    replicates: int
    levels: int
    fixed: list[str]
    base: str
    scenarios: dict[str, ScenarioRef]
    parameters: list[Parameter]
    outputs: dict[str, Output]
    claims: list[Claim] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    members: list[dict[str, Scalar]] | None = None
    """With ``sampler = "ensemble"``: each sample point's parameter values (a member)."""
    ensemble: str | None = None
    """With ``sampler = "ensemble"``: the ensemble file."""

    def unit_problem(self) -> dict[str, Any]:
        """The SALib problem: every parameter on the unit interval."""
        return {
            "num_vars": len(self.parameters),
            "names": [p.path for p in self.parameters],
            "bounds": [[0.0, 1.0]] * len(self.parameters),
        }


def as_python(value: Any) -> Scalar:
    """A numpy scalar as the plain Python value (for JSON and overrides)."""
    if isinstance(value, np.generic):
        return value.item()
    return value
