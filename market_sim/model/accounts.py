"""Units and money, week by week: what the metrics report and the conservation checks use.

Conservation (tested every week):

- units: ``in production at the start + started = delivered + vendor inventory + in
  pipelines``; ``delivered = units held by firms + units held by startups`` (gray-market
  trades move units between holders and change neither side);
- money: what buyers pay in the primary market equals vendors' accelerator sales; what
  gray-market buyers pay equals what sellers receive; what renters pay equals what
  lessors receive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from market_sim.model.state import Holdings
from market_sim.scenario.schema import BUYER_CLASSES

N_CLASSES = len(BUYER_CLASSES)


class Accounts:
    """Weekly and cumulative ledgers of a model run.

    Args:
        product_vendor: vendor index of each product.
        n_nodes: supply nodes in the world.
        holdings: the firms' holdings (for the unit balance).
        vendors, holders: the vendor and holder agents (for the balances).
        startups: the startup population (its size sets the per-startup arrays).
    """

    def __init__(
        self,
        product_vendor: np.ndarray,
        n_nodes: int,
        holdings: Holdings,
        vendors: Sequence[Any],
        holders: Sequence[Any],
        startups: Any,
    ):
        n_p, n_h = len(product_vendor), len(holders)
        self.n_p, self.n_h, self.n_v = n_p, n_h, len(vendors)
        self.product_vendor = product_vendor
        self.holdings, self.vendors, self.holders, self.startups = (
            holdings,
            vendors,
            holders,
            startups,
        )
        self.primed_units = 0.0  # set after the pipelines are primed
        self.delivered_units_total = 0.0
        self.startup_units = np.zeros(n_p)  # units held by startups (as a pool)
        self.cancelled_units = 0.0
        self.capacity_ordered = np.zeros(n_nodes)
        self.initial_legacy_h100e = float(holdings.legacy_h100e.sum())
        # money, cumulative USD
        self.primary_paid = 0.0
        self.gray_paid = 0.0
        self.rental_paid = 0.0
        self.startup_delivered_h100e = np.zeros(0)
        self.startup_paid_usd = np.zeros(0)
        self.open_week()

    def open_week(self) -> None:
        """Reset the week's flows (the per-product, holder, class and startup arrays to
        zeros, the market scalars to none)."""
        self.deliveries_product = np.zeros(self.n_p)
        self.deliveries_holder = np.zeros(self.n_h)
        self.deliveries_holder_h100e = np.zeros(self.n_h)
        self.deliveries_firm_vendor = np.zeros(self.n_h * self.n_v)  # [holder * n_v + vendor]
        self.deliveries_firm_vendor_h100e = np.zeros(self.n_h * self.n_v)
        self.class_units = np.zeros(N_CLASSES)
        self.class_h100e = np.zeros(N_CLASSES)
        self.class_paid = np.zeros(N_CLASSES)
        self.waits: tuple[np.ndarray, np.ndarray, np.ndarray] = (
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.zeros(0),
        )
        self.gray_volume = 0.0
        self.gray_price = float("nan")
        self.rental_volume = 0.0
        self.rental_price = float("nan")
        n_s = len(self.startups.live)  # per active startup, aligned with its live rows
        self.startup_delivered_h100e = np.zeros(n_s)
        self.startup_paid_usd = np.zeros(n_s)

    def open_trading_week(self) -> None:
        """Reset the week's market scalars before the markets settle. The week's arrays
        (deliveries, classes, waits, the startups' deliveries and payments) need no reset
        there: the primary settlement replaces every one of them
        (:meth:`record_primary` and ``startup_delivered_h100e``/``startup_paid_usd``)."""
        self.gray_volume = 0.0
        self.gray_price = float("nan")
        self.rental_volume = 0.0
        self.rental_price = float("nan")

    def record_primary(
        self,
        filled: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        units_by_product: np.ndarray,
        by_holder: tuple[np.ndarray, np.ndarray],
        by_cell: tuple[np.ndarray, np.ndarray],
        by_class: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Book a week's primary deliveries (once a week, after :meth:`open_week`): the
        filled orders' ``(class, weeks waited, units, USD paid)`` and the sums of
        :func:`market_sim.model.settle.settle_primary_sums` (units per product; units
        and H100e per holder and per holder x vendor; units, H100e and USD per class)."""
        klass, waited, units, paid = filled
        self.deliveries_product = units_by_product
        self.deliveries_holder, self.deliveries_holder_h100e = by_holder
        self.deliveries_firm_vendor, self.deliveries_firm_vendor_h100e = by_cell
        self.class_units, self.class_h100e, self.class_paid = by_class
        self.waits = (klass, waited, units)
        self.delivered_units_total += float(np.add.reduce(units))
        self.primary_paid += float(np.add.reduce(paid))

    def record_gray(self, price: float, volume_h100e: float, paid_usd: float) -> None:
        self.gray_price = price
        self.gray_volume = volume_h100e
        self.gray_paid += paid_usd

    def record_rental(self, price: float, volume_h100e: float, paid_usd: float) -> None:
        self.rental_price = price
        self.rental_volume = volume_h100e
        self.rental_paid += paid_usd

    # ------------------------------------------------------------------ checks
    def unit_balance(self) -> dict[str, float]:
        """The terms of both unit identities (see the module docstring)."""
        vendors, holdings = self.vendors, self.holdings
        started = sum(v.units_started_total for v in vendors)
        inventory = sum(v.inventory_units() for v in vendors)
        pipeline = sum(float(p.sum()) for v in vendors for p in v.pipeline.values())
        return {
            "primed": self.primed_units,
            "started": started,
            "delivered": self.delivered_units_total,
            "inventory": inventory,
            "pipeline": pipeline,
            "held_by_firms": float(holdings.fleet.sum()),
            "held_by_startups": float(self.startup_units.sum()),
            "legacy_h100e": float(holdings.legacy_h100e.sum()),
            "initial_legacy_h100e": self.initial_legacy_h100e,
        }

    def money_balance(self) -> dict[str, float]:
        """Cumulative payments and receipts per market, USD."""
        return {
            "primary_paid": self.primary_paid,
            "vendor_sales": sum(v.sales_total_usd for v in self.vendors),
            "gray_paid": self.gray_paid,
            "gray_received": sum(h.gray_received_usd for h in self.holders),
            "rental_paid": self.rental_paid,
            "rental_received": sum(h.rental_received_usd for h in self.holders),
        }
