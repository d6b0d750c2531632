"""Sweeps: sweep files, samplers, execution on dask.distributed, Parquet storage with
resume, sensitivity indices (SALib), claims and the sweep report. See docs/sweeps.md."""

from market_sim.experiment.load import load_sweep
from market_sim.experiment.plan import Plan, RunSpec, make_plan, run_seed
from market_sim.experiment.runfile import RUN_SCHEMA
from market_sim.experiment.runner import Prepared, manifest_for, prepare, run_prepared
from market_sim.experiment.storage import StoreError, SweepStore
from market_sim.experiment.sweep import Claim, Output, Parameter, Sweep

__all__ = [
    "RUN_SCHEMA",
    "Claim",
    "Output",
    "Parameter",
    "Plan",
    "Prepared",
    "RunSpec",
    "StoreError",
    "Sweep",
    "SweepStore",
    "load_sweep",
    "make_plan",
    "manifest_for",
    "prepare",
    "run_prepared",
    "run_seed",
]
