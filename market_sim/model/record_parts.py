"""What the recorder (:mod:`market_sim.model.record`) computes: the firms' weekly
variables, the per-product and per-vendor outcome names, the collectors (families) in
the order they run, and the values several of them share in a week (:class:`Week`)."""

from __future__ import annotations

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
    prev: dict[str, float]
    backlog: np.ndarray  # [products] units
    h100e_delivered: np.ndarray  # [products]
    total_units: float
    total_h100e: float
    installed: np.ndarray  # [holders] H100e
    firms: np.ndarray  # installed, 0 for aggregate holders
    firms_or_none: np.ndarray  # installed, -1 for aggregate holders (for ranking)
    population: tuple  # population_summary's result
    all_installed: float
    incumbent_products: np.ndarray  # bool [products]


def pct_or_last(part: float, total: float, prev: dict, key: str) -> float:
    """100 x part / total, or last week's value (``prev[key]``, 0 at first) when nothing
    was delivered."""
    return 100.0 * part / total if total > 0 else float(prev.get(key, 0.0))
