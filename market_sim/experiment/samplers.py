"""Designs: which parameter values each sample point of a sweep takes.

Every sampler but ``grid`` draws points in the unit hypercube (one axis per parameter)
with SALib, seeded by the sweep's ``seed``; each parameter then maps its coordinate to a
value (:meth:`market_sim.experiment.sweep.Parameter.from_unit`). Sample points per
sampler, for ``samples = N`` and ``D`` parameters:

- ``grid``: the Cartesian product of every parameter's grid values (no ``samples``);
- ``lhs``: N points, a Latin hypercube (SALib ``latin``);
- ``sobol``: N * (D + 2) points, Saltelli's scheme for first and total order indices
  (SALib ``sobol``, scrambled; N a power of two);
- ``morris``: N * (D + 1) points, N trajectories over ``levels`` levels (SALib ``morris``);
- ``ensemble``: one point per chosen member of a calibrated ensemble (its parameter set).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from market_sim.experiment.spec import Scalar
from market_sim.experiment.sweep import Sweep, as_python


@dataclass
class Design:
    """The sample points: unit coordinates (None for a grid) and parameter values."""

    unit: np.ndarray | None
    """Shape (points, parameters), in [0, 1]; what SALib analyses."""
    values: list[dict[str, Scalar]]
    """Per point, the value of each parameter by path."""

    @property
    def size(self) -> int:
        return len(self.values)


def design_size(sweep: Sweep) -> int:
    """How many sample points the sweep's sampler makes (without building them)."""
    d = len(sweep.parameters)
    n = sweep.samples or 0
    if sweep.sampler == "ensemble":
        return len(sweep.members or ())
    if sweep.sampler == "grid":
        return int(np.prod([len(p.grid_values()) for p in sweep.parameters]))
    if sweep.sampler == "sobol":
        return n * (d + 2)
    if sweep.sampler == "morris":
        return n * (d + 1)
    return n


def make_design(sweep: Sweep) -> Design:
    """Build the sweep's design; deterministic in the sweep file (seed included)."""
    params = sweep.parameters
    if sweep.sampler == "ensemble":
        return Design(None, [dict(m) for m in sweep.members or ()])
    if sweep.sampler == "grid":
        combos = itertools.product(*(p.grid_values() for p in params))
        values = [{p.path: as_python(v) for p, v in zip(params, c, strict=True)} for c in combos]
        return Design(None, values)
    problem = sweep.unit_problem()
    n = int(sweep.samples or 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's notes on sample sizes; checked at load
        if sweep.sampler == "lhs":
            from SALib.sample import latin

            unit = latin.sample(problem, n, seed=sweep.seed)
        elif sweep.sampler == "sobol":
            from SALib.sample import sobol

            unit = sobol.sample(problem, n, calc_second_order=False, seed=sweep.seed)
        else:
            from SALib.sample import morris

            unit = morris.sample(problem, n, num_levels=sweep.levels, seed=sweep.seed)
    unit = np.asarray(unit, dtype=float).reshape(-1, len(params))
    values = [
        {p.path: as_python(p.from_unit(u)) for p, u in zip(params, row, strict=True)}
        for row in unit
    ]
    return Design(unit, values)
