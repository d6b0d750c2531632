"""Answers to the article's claims with honest uncertainty (docs/claims.md).

``market-sim claims`` and :func:`evaluate` run every claim as paired runs (scenario and
counterfactual, same parameter set, same seed) over a calibrated ensemble's members x
seeds, or over a sweep's design, and answer each claim with its effect, a 90% interval
that separates parameter uncertainty from model noise, the probability that it holds and
a verdict (:mod:`market_sim.claims.stats`), and what decides it
(:mod:`market_sim.claims.sensitivity`).

    from market_sim.claims import evaluate
    table = evaluate("scenarios/claims.toml", seeds=5, workers=2, out="reports/claims")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from market_sim.claims.plan import (
    DEFAULT_CLAIMS,
    DEFAULT_MEMBERS,
    DEFAULT_SEED,
    DEFAULT_SEEDS,
    ClaimsInputError,
    claims_sweep,
    sweep_with,
)
from market_sim.claims.sensitivity import Sensitivity, sensitivities
from market_sim.claims.stats import ClaimAnswer, answer

__all__ = [
    "DEFAULT_CLAIMS",
    "Answers",
    "ClaimAnswer",
    "ClaimsInputError",
    "Sensitivity",
    "answers",
    "claims_sweep",
    "evaluate",
]


@dataclass
class Answers:
    """Every claim of a claims folder, answered."""

    folder: Path
    manifest: dict[str, Any]
    claims: list[ClaimAnswer]
    points: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Per claim id: each sample point's mean difference (``sample``, ``mean_delta``,
    ``seeds``, ``holds``) joined with its parameter values."""
    sensitivity: dict[str, Sensitivity] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """Run files left out (damaged or of another sweep), one line each."""

    def frame(self) -> pd.DataFrame:
        """One row per claim (the fields of :class:`ClaimAnswer` and ``decided_by``)."""
        rows = []
        for a in self.claims:
            row = a.to_dict()
            row["decided_by"] = self.sensitivity[a.id].decides()
            rows.append(row)
        return pd.DataFrame(rows)


def answers(
    folder: str | Path,
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> Answers:
    """Answer every claim from a finished (or partly finished) claims or sweep folder.

    The answers themselves take a moment; what takes minutes is each claim's sensitivity
    (SALib's bootstrap, :mod:`market_sim.claims.sensitivity`): ``workers`` processes
    share the claims (the same numbers with any count), and ``progress(done, total,
    claim_id)`` is called as each claim's sensitivity is finished.
    """
    from market_sim.experiment.results import results_frame
    from market_sim.experiment.storage import SweepStore
    from market_sim.experiment.verify import verify_store

    store = SweepStore(folder)
    manifest = store.manifest()
    planned = {r["run_id"] for r in manifest["runs"]}
    check = verify_store(store, planned, manifest.get("fingerprint"), repair=False)
    frame = results_frame(store, manifest)
    design = pd.DataFrame([d["values"] for d in manifest["design"]])
    design.insert(0, "sample", [d["sample"] for d in manifest["design"]])
    out = Answers(Path(folder), manifest, [], warnings=check.lines(store, "left out"))
    raw = {}
    for claim in manifest.get("claims", []):
        result, points = answer(frame, claim)
        out.claims.append(result)
        out.points[claim["id"]] = points.merge(design, on="sample", how="left")
        raw[claim["id"]] = points
    out.sensitivity = sensitivities(raw, manifest, workers, progress)
    return out


def evaluate(
    claims_file: str | Path = DEFAULT_CLAIMS,
    *,
    ensemble: str | Path | None = None,
    sweep: str | Path | None = None,
    seeds: int | None = None,
    members: int | None = DEFAULT_MEMBERS,
    sets: list[str] | tuple[str, ...] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path = Path("reports") / "claims",
    resume: bool = False,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Run the claims' paired runs into ``out`` and return one row per claim (see
    :meth:`Answers.frame`); ``market-sim claims`` with the same arguments, without the
    page. With ``sweep`` the claims are those of the sweep file, over its design."""
    from market_sim.experiment import prepare, run_prepared

    if sweep is not None:
        sw = sweep_with(Path(sweep), seeds, sets)
    else:
        sw = claims_sweep(
            Path(claims_file),
            None if ensemble is None else Path(ensemble),
            seeds or DEFAULT_SEEDS,
            members,
            sets,
            seed,
        )
    prepared = prepare(sw, out, resume)
    run_prepared(sw, prepared, workers, scheduler)
    return answers(out, workers=local_workers(workers)).frame()


def local_workers(workers: int | None) -> int:
    """Processes for the claims' sensitivity (on this machine, also with a remote
    cluster): ``workers``, or one per core."""
    import os

    return workers if workers else (os.cpu_count() or 1)
