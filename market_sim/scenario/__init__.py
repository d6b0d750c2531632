"""Scenario files: schema, loading with ``extends`` and ``--set``, and checks."""

from market_sim.scenario.errors import Problem, ScenarioError
from market_sim.scenario.loader import load_scenario, resolve, scenario_from_dict, validate
from market_sim.scenario.schema import Scenario

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "resolve",
    "scenario_from_dict",
    "validate",
]
