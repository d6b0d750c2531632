"""Chipmakers: a foundry line, CoWoS packaging or an HBM maker, one agent per supply node.

Weekly: capacity = (scheduled + endogenous expansions that have arrived) x outage factor.
Vendors' requests are served by contract first (each vendor up to its contracted share
of capacity), then the rest of the capacity is split pro rata to the unmet requests.
A chipmaker expands when utilisation has stayed at or above its trigger, with requests
left unmet, for ``trigger_weeks`` in a row: it adds ``step_fraction`` of its current
capacity, which arrives after ``build_lag_weeks``; then it waits ``cooldown_weeks``.
"""

from __future__ import annotations

import mesa
import numpy as np

from market_sim.agents.state_field import state_field
from market_sim.scenario.schema import SupplyNode


def split_capacity(
    capacity: float, requests: np.ndarray, shares: np.ndarray, reserved: float = 0.0
) -> np.ndarray:
    """Grant capacity to requests: contracted shares first, then pro rata to what is unmet.

    Args:
        capacity: node units available this week (>= 0).
        requests: node units each vendor asks for (>= 0).
        shares: each vendor's contracted share of capacity.
        reserved: share of capacity taken by customers outside the model
            (``reserved + shares.sum() <= 1``).

    Returns:
        Grants with ``grants <= requests`` and ``grants.sum() <= capacity * (1 - reserved)``.
    """
    contract = np.minimum(requests, shares * capacity)
    rest = max(0.0, capacity * (1.0 - reserved) - float(contract.sum()))
    unmet = requests - contract
    total_unmet = float(unmet.sum())
    if total_unmet <= 0.0 or rest <= 0.0:
        return contract
    if total_unmet <= rest:
        return requests.copy()
    return contract + unmet * (rest / total_unmet)


def split_capacities(
    capacity: np.ndarray, requests: np.ndarray, shares: np.ndarray, reserved: np.ndarray
) -> np.ndarray:
    """:func:`split_capacity` for every node at once.

    ``capacity`` and ``reserved`` have one entry per node; ``requests`` and ``shares`` are
    [vendors, nodes]. Column j of the result is ``split_capacity(capacity[j],
    requests[:, j], shares[:, j], reserved[j])``.
    """
    contract = np.minimum(requests, shares * capacity[None, :])
    rest = np.maximum(0.0, capacity * (1.0 - reserved) - contract.sum(axis=0))
    unmet = requests - contract
    total_unmet = unmet.sum(axis=0)
    more = (total_unmet > 0.0) & (rest > 0.0)  # capacity left for unmet requests
    rationed = more & (total_unmet > rest)  # ... but not enough for all of them
    scale = np.divide(rest, total_unmet, out=np.zeros_like(rest), where=rationed)  # < 1
    grants = np.where(rationed[None, :], contract + unmet * scale[None, :], contract)
    return np.where((more & ~rationed)[None, :], requests, grants)


class ChipmakerAgent(mesa.Agent):
    """One supply node: capacity over time, allocation to vendors, expansion.

    Its state is its entry of the model's ``node_state``
    (:class:`market_sim.agents.chipmaker_kernel.NodeState`), which the model updates for
    every node at once with kernels; its methods (``open_week``, ``invest``) are their
    oracle."""

    capacity = state_field(
        "node_state", "capacity", "index", "this week's capacity, node units per week"
    )
    used = state_field("node_state", "used", "index", "node units used this week")
    requested = state_field(
        "node_state", "requested", "index", "node units the vendors asked for this week"
    )
    granted = state_field("node_state", "granted", "index", "node units granted this week")
    reserved_share = state_field(
        "node_state", "reserved_share", "index", "share reserved for outside customers"
    )
    expansion = state_field(
        "node_state", "expansion", "index", "endogenous capacity in service, node units/week"
    )
    _high_weeks = state_field("node_state", "high_weeks", "index", cast=int)
    _next_decision = state_field("node_state", "next_decision", "index", cast=int)

    def __init__(self, model: mesa.Model, node: SupplyNode, index: int, scheduled: np.ndarray):
        super().__init__(model)
        self.node_id = node.id
        self.kind = node.kind
        self.owner = node.owner
        self.unit = node.unit
        self.index = index
        self.spec = node.expansion
        self.node_state = model.node_state
        self.scheduled = scheduled  # node units per week, for every week of the run
        self._arrivals = self.node_state.arrivals[index]  # endogenous capacity by week
        self.expansion = 0.0  # endogenous capacity in service, node units per week
        self.capacity = float(scheduled[0])
        self.requested = 0.0
        self.granted = 0.0
        self.reserved_share = 0.0
        self.used = 0.0
        self._high_weeks = 0
        self._next_decision = 0

    def open_week(self, week: int, factor: float) -> float:
        """Set and return this week's capacity (node units/week)."""
        self.expansion += self._arrivals[week]
        self.capacity = (float(self.scheduled[week]) + self.expansion) * factor
        return self.capacity

    def record_allocation(self, requested: float, granted: float, reserved: float) -> None:
        """Keep this week's requests and grants (node units; the model splits every
        node's capacity at once with :func:`split_capacities`) and reserved share."""
        self.requested = requested
        self.granted = granted
        self.reserved_share = reserved

    @property
    def utilisation(self) -> float:
        """Share of this week's capacity in use (reserved customers count as using theirs)."""
        if self.capacity <= 0:
            return 0.0
        return min(1.0, self.used / self.capacity + self.reserved_share)

    def invest(self, week: int) -> float:
        """Decide on expansion after this week's production; return capacity ordered."""
        if self.spec is None:
            return 0.0
        tight = self.utilisation >= self.spec.utilisation_trigger and (
            self.requested > self.granted * (1 + 1e-9)
        )
        self._high_weeks = self._high_weeks + 1 if tight else 0
        if self._high_weeks < self.spec.trigger_weeks or week < self._next_decision:
            return 0.0
        added = self.spec.step_fraction * self.capacity
        self._arrivals[week + self.spec.build_lag_weeks] += added
        self._next_decision = week + self.spec.cooldown_weeks
        self._high_weeks = 0
        return added
