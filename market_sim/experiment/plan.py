"""The runs of a sweep: one per (sample point, replicate, scenario), with seeds and overrides.

Seeds: replicate ``r`` of sample point ``i`` runs with
``SeedSequence(sweep_seed, spawn_key=(i, r)).generate_state(1, uint32)[0]``, the seed
NumPy's ``SeedSequence(sweep_seed).spawn`` would give the (i, r)-th child: stable across
machines and versions, independent of the sampler, the number of workers and the order
runs finish in. Every scenario of a sample point and replicate (a claim's scenario and
its counterfactual) runs with the same seed and the same parameter overrides, so claims
compare paired runs (common random numbers).

Run ids read ``<scenario>-s<sample>-r<replicate>`` (e.g. ``baseline-s0003-r01``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from market_sim.experiment.samplers import Design, make_design
from market_sim.experiment.spec import Scalar
from market_sim.experiment.sweep import Sweep


@dataclass(frozen=True)
class RunSpec:
    """One planned run."""

    run_id: str
    scenario: str
    sample: int
    replicate: int
    seed: int
    overrides: tuple[str, ...]


@dataclass
class Plan:
    """A sweep's design and runs, and a fingerprint of everything that decides results."""

    design: Design
    runs: list[RunSpec]
    fingerprint: str


def run_seed(sweep_seed: int, sample: int, replicate: int) -> int:
    """The model seed of replicate ``replicate`` at sample point ``sample``."""
    seq = np.random.SeedSequence(sweep_seed, spawn_key=(sample, replicate))
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def literal(value: Scalar) -> str:
    """A parameter value as ``--set`` text (TOML literal; text as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def make_plan(sweep: Sweep) -> Plan:
    """Design the sweep and list its runs, ordered by sample, replicate, scenario."""
    design = make_design(sweep)
    w_s = max(4, len(str(max(design.size - 1, 0))))
    w_r = max(2, len(str(sweep.replicates - 1)))
    runs: list[RunSpec] = []
    for i, values in enumerate(design.values):
        for r in range(sweep.replicates):
            seed = run_seed(sweep.seed, i, r)
            for label in sweep.scenarios:
                sets = [
                    f"{p.path}={literal(values[p.path])}"
                    for p in sweep.parameters
                    if label in p.scenarios
                ]
                runs.append(
                    RunSpec(
                        f"{label}-s{i:0{w_s}d}-r{r:0{w_r}d}",
                        label,
                        i,
                        r,
                        seed,
                        (*sweep.fixed, *sets),
                    )
                )
    return Plan(design, runs, fingerprint(sweep, runs))


def fingerprint(sweep: Sweep, runs: list[RunSpec]) -> str:
    """SHA-256 over what decides a run's file: scenarios, runs, outputs and series."""
    payload: dict[str, Any] = {
        "scenarios": {k: v.data for k, v in sweep.scenarios.items()},
        "runs": [asdict(r) for r in runs],
        "outputs": [o.to_dict() for o in sweep.outputs.values()],
        "series": sweep.series,
    }
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
