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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from market_sim.model import GPUMarketModel

N_CLASSES = 4


class Accounts:
    """Weekly and cumulative ledgers of a model run."""

    def __init__(self, model: GPUMarketModel):
        self.model = model
        n_p = len(model.world.products)
        n_h = len(model.world.holder_ids)
        self.n_p, self.n_h = n_p, n_h
        self.primed_units = 0.0  # set after the pipelines are primed
        self.delivered_units_total = 0.0
        self.startup_units = np.zeros(n_p)  # units held by startups (as a pool)
        self.cancelled_units = 0.0
        self.capacity_ordered = np.zeros(len(model.world.node_ids))
        self.initial_legacy_h100e = float(model.legacy_h100e.sum())
        # money, cumulative USD
        self.primary_paid = 0.0
        self.gray_paid = 0.0
        self.rental_paid = 0.0
        self.startup_delivered_h100e = np.zeros(0)
        self.startup_paid_usd = np.zeros(0)
        self.open_week()

    def open_week(self) -> None:
        """Reset the week's flows."""
        self.deliveries_product = np.zeros(self.n_p)
        self.deliveries_holder = np.zeros(self.n_h)
        self.deliveries_holder_h100e = np.zeros(self.n_h)
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
        n_s = self.model.startups.n
        self.startup_delivered_h100e = np.zeros(n_s)
        self.startup_paid_usd = np.zeros(n_s)

    def record_primary(self, prod, holder, klass, units, paid, h100e, waited) -> None:
        """Book a week's primary deliveries (arrays over filled orders)."""
        self.deliveries_product += np.bincount(prod, weights=units, minlength=self.n_p)
        firm = holder >= 0
        self.deliveries_holder += np.bincount(holder[firm], weights=units[firm], minlength=self.n_h)
        self.deliveries_holder_h100e += np.bincount(
            holder[firm], weights=h100e[firm], minlength=self.n_h
        )
        self.class_units += np.bincount(klass, weights=units, minlength=N_CLASSES)
        self.class_h100e += np.bincount(klass, weights=h100e, minlength=N_CLASSES)
        self.class_paid += np.bincount(klass, weights=paid, minlength=N_CLASSES)
        self.waits = (klass, waited, units)
        self.delivered_units_total += float(units.sum())
        self.primary_paid += float(paid.sum())

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
        m = self.model
        started = sum(v.units_started_total for v in m.vendors)
        inventory = sum(sum(v.inventory.values()) for v in m.vendors)
        pipeline = sum(float(p.sum()) for v in m.vendors for p in v.pipeline.values())
        return {
            "primed": self.primed_units,
            "started": started,
            "delivered": self.delivered_units_total,
            "inventory": inventory,
            "pipeline": pipeline,
            "held_by_firms": float(m.fleet.sum()),
            "held_by_startups": float(self.startup_units.sum()),
            "legacy_h100e": float(m.legacy_h100e.sum()),
            "initial_legacy_h100e": self.initial_legacy_h100e,
        }

    def money_balance(self) -> dict[str, float]:
        """Cumulative payments and receipts per market, USD."""
        m = self.model
        return {
            "primary_paid": self.primary_paid,
            "vendor_sales": sum(v.sales_total_usd for v in m.vendors),
            "gray_paid": self.gray_paid,
            "gray_received": sum(h.gray_received_usd for h in m.holders),
            "rental_paid": self.rental_paid,
            "rental_received": sum(h.rental_received_usd for h in m.holders),
        }
