"""The per-agent oracles of :class:`market_sim.model.production.Supply`'s kernel calls.

Each method here does what one of ``Supply``'s kernel calls does, through the agents' own
methods, one agent at a time: the vendors' production (``plan``, ``start``), the
chipmakers' investment and weekly opening, and the vendors' forecasts and list prices.
They are the kernels' test oracle (tests/test_production_kernel.py,
tests/test_chipmaker_kernel.py) and a readable statement of the rules; ``Supply``
inherits them.
"""

from __future__ import annotations

import numpy as np

from market_sim.agents.chipmaker import split_capacities


class SupplyReference:
    """The oracles (a mix-in of :class:`~market_sim.model.production.Supply`, whose
    attributes and methods they use)."""

    def produce_reference(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`produce` by the agents' methods, vendor by vendor (the kernel's oracle)."""
        arrivals = self.advance_pipelines()
        first = arrivals.tolist()
        for vendor in self.vendors:
            vendor.take_arrivals({p: first[p] for p in vendor.products})
        backlog = self.backlog_units().tolist()
        reach = self.reachable_capacity(week).tolist()
        launch = self.market.launch_week.tolist()
        requests = np.array([v.plan(week, backlog, reach[v.index], launch) for v in self.vendors])
        shares = self.contract_shares(week)[0]
        reserved = self.world.reserved_share[week]
        capacity = self._node_capacity()
        grants = split_capacities(capacity, requests, shares, reserved)
        asked, got = requests.sum(axis=0).tolist(), grants.sum(axis=0).tolist()
        for j, chip in enumerate(self.chipmakers):
            chip.record_allocation(asked[j], got[j], float(reserved[j]))
        granted = grants.tolist()
        used = np.array([v.start(week, granted[v.index], launch) for v in self.vendors])
        for j, chip in enumerate(self.chipmakers):
            chip.used = float(used[:, j].sum())
        for vendor in self.vendors:
            vendor.smooth_start_rate()
        return arrivals, used

    def invest_reference(self, week: int) -> None:
        """:meth:`invest` by each chipmaker's own ``invest`` (the oracle)."""
        for chip in self.chipmakers:
            self.accounts.capacity_ordered[chip.index] += chip.invest(week)

    def open_nodes_reference(self, week: int) -> None:
        """The chipmakers' part of :meth:`open_week` by each one's ``open_week`` (the
        oracle of :func:`market_sim.agents.chipmaker_kernel.open_nodes_kernel`)."""
        factors = self.events.node_factor[week].tolist()
        for chip in self.chipmakers:
            chip.open_week(week, factors[chip.index])

    def reprice_reference(self, week: int, new_orders: np.ndarray) -> None:
        """:meth:`reprice` by the vendors' own methods (the kernel's oracle)."""
        backlog = self.backlog_units()
        pricing = self.world.scenario.policy.pricing
        for vendor in self.vendors:
            vendor.update_forecast(new_orders)
            vendor.reprice(week, backlog, self.market.list_price, pricing)
