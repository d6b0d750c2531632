"""The chipmakers' state in arrays (one entry per supply node) and their weekly rules as
numba kernels, one call for every node.

:class:`NodeState` is the model's (each :class:`market_sim.agents.chipmaker.ChipmakerAgent`
reads and writes its entry through properties). :func:`open_nodes_kernel` is
``ChipmakerAgent.open_week`` and :func:`invest_nodes_kernel` ``ChipmakerAgent.invest`` for
every node at once, with the same arithmetic in the same order (the agents' methods are
the oracle: tests/test_chipmaker_kernel.py); :func:`node_record_kernel` is the recorder's
``(capacity, used, expansion, utilisation)`` of each node.

Units: node units per week (capacity, use, requests), shares (utilisation), weeks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market_sim.jit import njit

NOT_IN_A_RUN = ("utilisation_of",)
"""Inlined into the kernels that call it, never called on its own in a run (the compile
notice, :mod:`market_sim.runs.jit_cache`, does not wait for its cache)."""

INVEST_COLUMNS = (
    "utilisation_trigger",
    "trigger_weeks",
    "step_fraction",
    "build_lag_weeks",
    "cooldown_weeks",
)
"""The columns of :func:`invest_nodes_kernel`'s ``rules`` (a node's ``expansion`` spec;
a node without one has a row of zeros and ``invests`` False)."""


@dataclass
class NodeState:
    """Per node: this week's ``capacity``, ``used``, ``requested`` and ``granted`` (node
    units), ``reserved_share``; ``expansion`` (endogenous capacity in service, node units
    per week); the investment rule's ``high_weeks`` and ``next_decision`` (weeks);
    ``arrivals`` [nodes, weeks]: endogenous capacity arriving each week."""

    capacity: np.ndarray
    used: np.ndarray
    requested: np.ndarray
    granted: np.ndarray
    reserved_share: np.ndarray
    expansion: np.ndarray
    high_weeks: np.ndarray
    next_decision: np.ndarray
    arrivals: np.ndarray

    @classmethod
    def empty(cls, n_nodes: int, weeks: int) -> NodeState:
        floats = (np.zeros(n_nodes) for _ in range(6))
        ints = (np.zeros(n_nodes, dtype=np.int64) for _ in range(2))
        return cls(*floats, *ints, np.zeros((n_nodes, weeks)))


@njit(cache=True)
def utilisation_of(capacity: float, used: float, reserved_share: float) -> float:
    """``ChipmakerAgent.utilisation``: ``min(1, used / capacity + reserved_share)``, 0
    without capacity."""
    if capacity <= 0:
        return 0.0
    x = used / capacity + reserved_share
    return x if x < 1.0 else 1.0  # min(1.0, x)


@njit(cache=True)
def open_nodes_kernel(
    week: int,
    scheduled: np.ndarray,
    factor: np.ndarray,
    expansion: np.ndarray,
    arrivals: np.ndarray,
    capacity: np.ndarray,
) -> None:
    """Every node's ``open_week``: the expansion arriving this week joins ``expansion``;
    ``capacity`` = (scheduled [weeks, nodes] + expansion) x the week's ``factor``."""
    for j in range(capacity.shape[0]):
        expansion[j] += arrivals[j, week]
        capacity[j] = (scheduled[week, j] + expansion[j]) * factor[j]


@njit(cache=True)
def invest_nodes_kernel(
    week: int,
    invests: np.ndarray,
    rules: np.ndarray,
    capacity: np.ndarray,
    used: np.ndarray,
    reserved_share: np.ndarray,
    requested: np.ndarray,
    granted: np.ndarray,
    high_weeks: np.ndarray,
    next_decision: np.ndarray,
    arrivals: np.ndarray,
) -> np.ndarray:
    """Every node's ``invest``: the capacity each orders this week (node units per week,
    0 for most), booked into ``arrivals`` after its build lag; ``rules`` has
    ``INVEST_COLUMNS``."""
    n = capacity.shape[0]
    added = np.zeros(n)
    for j in range(n):
        if not invests[j]:
            continue
        util = utilisation_of(capacity[j], used[j], reserved_share[j])
        tight = util >= rules[j, 0] and requested[j] > granted[j] * (1 + 1e-9)
        high_weeks[j] = high_weeks[j] + 1 if tight else 0
        if high_weeks[j] < rules[j, 1] or week < next_decision[j]:
            continue
        a = rules[j, 2] * capacity[j]
        arrivals[j, week + int(rules[j, 3])] += a
        next_decision[j] = week + int(rules[j, 4])
        high_weeks[j] = 0
        added[j] = a
    return added


@njit(cache=True)
def node_record_kernel(
    capacity: np.ndarray, used: np.ndarray, expansion: np.ndarray, reserved_share: np.ndarray
) -> np.ndarray:
    """[nodes, 4]: each node's capacity, use, expansion and utilisation."""
    n = capacity.shape[0]
    out = np.empty((n, 4))
    for j in range(n):
        out[j, 0] = capacity[j]
        out[j, 1] = used[j]
        out[j, 2] = expansion[j]
        out[j, 3] = utilisation_of(capacity[j], used[j], reserved_share[j])
    return out
