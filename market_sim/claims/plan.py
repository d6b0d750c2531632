"""The runs that answer a claims file: a sweep built in code.

Each claim needs paired runs: its scenario and its counterfactual with the same
parameter set and the same seed. ``market-sim claims`` builds them as a sweep
(:mod:`market_sim.experiment`) so they run on the sweep machinery (Dask, one Parquet
file per run, ``--resume``): by default its sample points are members of the claims'
scenario's calibrated ensemble (``sampler = "ensemble"``) and its replicates are seeds;
with ``--sweep FILE`` they are that sweep's design points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from market_sim.problems import LineError

DEFAULT_CLAIMS = Path("scenarios") / "claims.toml"
"""The shipped claims file, read from the current folder (a clone's root)."""
DEFAULT_MEMBERS = 20
"""Ensemble members used by default (spread evenly over the ensemble)."""
DEFAULT_SEEDS = 5
DEFAULT_SEED = 2024
"""Root of the runs' seeds (each member and replicate gets its own, see
:func:`market_sim.experiment.run_seed`)."""


class ClaimsInputError(LineError):
    """A claims input that cannot be used (exit 2)."""

    def __init__(self, line: str):
        super().__init__(line, 2)


def default_ensemble(claims_file: Path) -> Path:
    """``<scenario>.ensemble.toml`` beside the scenario of the file's first claim."""
    from market_sim.scenario.loader import read_toml

    data = read_toml(claims_file)
    claims = data.get("claims") or []
    rel = next((c.get("scenario") for c in claims if isinstance(c, dict)), None)
    if not rel:
        raise ClaimsInputError(
            f"{claims_file}: claims[0].scenario: not set, so there is no default ensemble; "
            "give --ensemble FILE"
        )
    scenario = (claims_file.parent / str(rel)).resolve()
    path = scenario.with_name(scenario.stem + ".ensemble.toml")
    if not path.is_file():
        raise ClaimsInputError(
            f"{claims_file}: no ensemble beside {scenario.name} ({path.name}); "
            "calibrate it (market-sim calibrate) or give --ensemble FILE"
        )
    return path


def claims_sweep(
    claims_file: Path,
    ensemble: Path | None = None,
    seeds: int = DEFAULT_SEEDS,
    members: int | None = DEFAULT_MEMBERS,
    sets: list[str] | tuple[str, ...] = (),
    seed: int = DEFAULT_SEED,
) -> Any:
    """The sweep of a claims file over an ensemble's members x ``seeds``.

    Raises :class:`market_sim.scenario.ScenarioError` (problems in the files) or
    :class:`ClaimsInputError`.
    """
    from market_sim.experiment import load_sweep
    from market_sim.experiment.calibration.outputs import load_ensemble

    claims_file = Path(claims_file)
    if not claims_file.is_file():
        raise ClaimsInputError(f"{claims_file}: no such claims file; give a claims TOML")
    ensemble = Path(ensemble) if ensemble is not None else default_ensemble(claims_file)
    ens = load_ensemble(ensemble)
    data = {
        "name": "claims",
        "description": f"The claims of {claims_file.name} over the ensemble {ensemble.name}.",
        "base": str(ens.scenario),
        "seed": seed,
        "sampler": "ensemble",
        "ensemble": str(ensemble.resolve()),
        "replicates": seeds,
        "set": list(sets),
        "claims_file": str(claims_file.resolve()),
    }
    if members is not None:
        data["members"] = members
    return load_sweep(claims_file, data=data)


def sweep_with(sweep_file: Path, seeds: int | None, sets: list[str] | tuple[str, ...]) -> Any:
    """A sweep file's sweep, with ``--seeds`` as its replicates and ``--set`` added."""
    from market_sim.experiment import load_sweep
    from market_sim.scenario.loader import read_toml

    data = read_toml(sweep_file)
    if seeds is not None:
        data["replicates"] = seeds
    data["set"] = [*(data.get("set") or []), *sets]
    sweep = load_sweep(sweep_file, data=data)
    if not sweep.claims:
        raise ClaimsInputError(
            f'{sweep_file}: no claims (add claims_file = "../claims.toml" or [[claims]])'
        )
    return sweep
