"""What the recorder (:mod:`market_sim.model.record`) computes: the firms' weekly
variables, the per-product and per-vendor outcome names, the collectors (families) in
the order they run, the values several of them share in a week (:class:`Week`) and the
row they write (:class:`MetricRow`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

HOLDER_VARIABLES = (
    "deliveries_units",
    "deliveries_h100e",
    "installed_units",
    "installed_h100e",
    "compute_share_pct",
    "capex_usd_bn",
    "expected_lead_weeks",
    "open_orders_h100e",
)
AGENT_VARIABLES = {
    "holders": HOLDER_VARIABLES,
    "vendors": ("revenue_usd", "cogs_usd", "sales_usd", "inventory_units"),
    "chipmakers": ("capacity_per_week", "used_per_week", "expansion_per_week", "utilisation"),
}
"""Per-firm variables recorded weekly (model.agents_frame), by firm group."""
PRODUCT_VARIABLES = (
    "lead_time_weeks",
    "list_price_usd",
    "unit_cost_usd",
    "price_to_cost_ratio",
    "deliveries_units",
    "demand_units",
    "backlog_units",
    "inventory_units",
    "output_units",
    "started_units",
)
VENDOR_VARIABLES = (
    "deliveries_units",
    "deliveries_h100e",
    "revenue_usd_bn",
    "cogs_usd_bn",
    "gross_margin_pct",
    "backlog_units",
    "implied_asp_usd",
)


FAMILIES = (
    "products",
    "vendors",
    "market",
    "firms",
    "groups",
    "classes",
    "concentration",
    "markets",
    "nodes",
    "startups",
)
"""The collectors (``Recorder._<family>``), in the order they run."""
FAMILY_NEEDS = {"market": ("vendors",)}
"""Collectors that read another's values of the week (the incumbent vendor's)."""


@dataclass
class Week:
    """Values several collectors share, computed once a week."""

    week: int
    backlog: np.ndarray  # [products] units
    h100e_delivered: np.ndarray  # [products]
    total_units: float
    total_h100e: float
    installed: np.ndarray  # [holders] H100e
    firms: np.ndarray  # installed, 0 for aggregate holders
    population: tuple  # population_summary's result
    all_installed: float


class MetricRow(Mapping[str, float]):
    """The week's outcomes: one float64 per key of the catalogue (:attr:`values`, in
    catalogue order, 0.0 before the first week), which the recorder's collectors write
    in place; read as a mapping of the keys the run records (``model.metrics``).

    Args: ``catalogue``, every key of the catalogue for the scenario; ``recorded``, the
    keys the run records (a subsequence of it).
    """

    def __init__(self, catalogue: Sequence[str], recorded: Sequence[str]):
        self.values = np.zeros(len(catalogue))
        self.position = {k: i for i, k in enumerate(catalogue)}
        self.names = tuple(recorded)
        self._recorded = frozenset(recorded)
        self._full = self.names == tuple(catalogue)
        self._columns = np.array([self.position[k] for k in recorded], dtype=np.intp)

    def __getitem__(self, key: str) -> float:
        if key not in self._recorded:
            raise KeyError(key)
        return float(self.values[self.position[key]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def row(self) -> np.ndarray:
        """A copy of the recorded keys' values, in :attr:`names` order."""
        return self.values.copy() if self._full else self.values[self._columns]
