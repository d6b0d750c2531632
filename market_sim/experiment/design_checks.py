"""A sweep's design, checked before it is built: the sampler's settings, the number of
runs it plans, and an ensemble's members as sample points (``sampler = "ensemble"``).
Problems are added to the caller's list (:mod:`market_sim.experiment.load`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

from market_sim.experiment.spec import ParameterSpec, Scalar, SweepFile

MAX_RUNS = 250_000
"""Most runs one sweep may plan (its manifest lists every run); checked before the design
is built, so a huge grid is refused instead of filling the memory."""


class Problems(Protocol):
    def add(self, file: str, path: str, message: str) -> None: ...


def check_sampler(spec: SweepFile, file: str, problems: Problems) -> None:
    if spec.sampler == "ensemble":
        if spec.ensemble is None:
            problems.add(
                file, "ensemble", "the ensemble sampler needs an ensemble file; add ensemble"
            )
        for key in ("samples", "levels"):
            if key in spec.model_fields_set:
                problems.add(file, key, f"an ensemble sweep takes no {key}; remove it")
        if spec.parameters:
            problems.add(
                file,
                "parameters",
                "an ensemble sweep takes its parameters from the ensemble; remove [parameters]",
            )
        return
    for key in ("ensemble", "members"):
        if getattr(spec, key) is not None:
            problems.add(file, key, f'{key} is for sampler = "ensemble"; remove it')
    if not spec.parameters:
        problems.add(file, "parameters", "no parameters; add at least one under [parameters]")
    if spec.sampler == "grid":
        if spec.samples is not None:
            problems.add(
                file, "samples", "a grid's size is the product of its values; remove samples"
            )
        for key, p in spec.parameters.items():
            if p.values is None and p.levels is None:
                problems.add(
                    file,
                    f'parameters."{key}"',
                    "a range in a grid needs levels (how many points); add levels = 3",
                )
        return
    if spec.samples is None:
        problems.add(file, "samples", f"the {spec.sampler} sampler needs samples; add it")
    elif spec.sampler == "sobol" and spec.samples & (spec.samples - 1):
        problems.add(
            file,
            "samples",
            f"sobol needs a power of two (got {spec.samples}); use e.g. 8, 16 or 32",
        )
    for key, p in spec.parameters.items():
        if p.levels is not None:
            problems.add(
                file,
                f'parameters."{key}".levels',
                f"levels is for grid sweeps, not {spec.sampler}; remove it",
            )


def planned_runs(spec: SweepFile, scenarios: int, members: int | None = None) -> int:
    """How many runs a sweep file plans (a grid counted before its values are built):
    sample points x replicates x scenarios (``members``: an ensemble's chosen size)."""
    d = len(spec.parameters)
    if spec.sampler == "ensemble":
        points = members or 0
    elif spec.sampler == "grid":
        points = math.prod(
            len(p.values) if p.values is not None else int(p.levels or 0)
            for p in spec.parameters.values()
        )
    elif spec.sampler == "sobol":
        points = (spec.samples or 0) * (d + 2)
    elif spec.sampler == "morris":
        points = (spec.samples or 0) * (d + 1)
    else:
        points = spec.samples or 0
    return points * spec.replicates * max(scenarios, 1)


def check_size(
    spec: SweepFile, scenarios: int, file: str, problems: Problems, members: int | None = None
) -> None:
    n = planned_runs(spec, scenarios, members)
    if n > MAX_RUNS:
        what = "the product of the grid's values" if spec.sampler == "grid" else "samples"
        problems.add(
            file,
            "parameters" if spec.sampler == "grid" else "samples",
            f"the sweep plans {n:,} runs ({what} x {spec.replicates} replicates x "
            f"{scenarios} scenarios); the most is {MAX_RUNS:,}: use fewer values, levels "
            "or samples, or split the sweep",
        )


def pick_members(size: int, wanted: int | None) -> list[int]:
    """Indices of ``wanted`` members of an ensemble of ``size``, spread evenly over its
    order (all of them when ``wanted`` is None or at least ``size``)."""
    if wanted is None or wanted >= size:
        return list(range(size))
    return sorted({round(i * (size - 1) / max(wanted - 1, 1)) for i in range(wanted)})


def ensemble_parameters(
    spec: SweepFile, path: Path, file: str, problems: Problems
) -> tuple[dict[str, ParameterSpec], list[dict[str, Scalar]] | None]:
    """The ensemble's parameters (a range spanning its members) and the chosen members."""
    from market_sim.experiment.calibration.outputs import EnsembleError, load_ensemble

    try:
        ens = load_ensemble(path.parent / str(spec.ensemble))
    except EnsembleError as err:
        problems.add(file, "ensemble", str(err))
        return {}, None
    chosen = pick_members(len(ens.members), spec.members)
    members: list[dict[str, Scalar]] = []
    for k in chosen:
        row = ens.members[k]
        members.append({p: round(v) if ens.integer.get(p) else float(v) for p, v in row.items()})
    specs: dict[str, ParameterSpec] = {}
    for p in ens.members[0]:
        values = sorted({m[p] for m in members})
        specs[p] = (
            ParameterSpec(min=values[0], max=values[-1], integer=bool(ens.integer.get(p)))
            if values[0] < values[-1]
            else ParameterSpec(values=[values[0]])
        )
    return specs, members
