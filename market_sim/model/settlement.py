"""Phase 5's settlement, after the week's markets have cleared: the primary market's
fills (payments, deliveries into fleets and startups, the vendors' sales), the gray
market's trades (installed H100e moved between fleet buyers) and the rental market's
(startups pay lessors for H100e-weeks).

:class:`Settlement` is a mix-in of :class:`market_sim.model.trading.Trading`: its methods
read and write the state Trading holds (the book, accounts, holdings, holders, vendors,
startups). Units: USD, units of a product, H100e, H100e-weeks.
"""

from __future__ import annotations

import math

import numpy as np

from market_sim.agents.vendor_accounts import book_sales_kernel
from market_sim.model.accounts import N_CLASSES
from market_sim.model.markets import quoted_price
from market_sim.model.settle import settle_primary_sums


class Settlement:
    """Settlement of the primary, gray and rental markets (a mix-in of Trading)."""

    def _settle_primary(self, week: int, fills: np.ndarray, price: np.ndarray) -> None:
        """Book the primary fills: the sums in one kernel call
        (:func:`market_sim.model.settle.settle_primary_sums`), then the firms' payments
        and the vendors' sales (in holder and product order)."""
        book, acc, pr, holdings = self.book, self.accounts, self.world.products, self.holdings
        startups = self.startups
        filled, by_holder, by_startup, by_product, *by_firm = settle_primary_sums(
            fills,
            price,
            book.product,
            book.holder,
            book.klass,
            book.startup,
            book.order_week,
            book.qty,
            pr.h100e,
            pr.vendor,
            startups.live_pos,
            holdings.fleet,
            acc.startup_units,
            acc.n_v,
            N_CLASSES,
            len(startups.live),
            week,
        )
        book.touch()
        holdings.changed()
        usd_by, h100e_by = (a.tolist() for a in by_holder)  # Python floats, in order
        holders, year = self.holders, self.year_of(week)
        for h, h100e in enumerate(h100e_by):
            if h100e > 0:
                holders[h].pay(week, usd_by[h], h100e, year)
        acc.startup_delivered_h100e, acc.startup_paid_usd = by_startup
        units_by, paid_by = by_product
        self.book_sales(units_by, paid_by)
        acc.record_primary(filled, units_by, *by_firm)

    def book_sales(self, units_by: np.ndarray, paid_by: np.ndarray) -> None:
        """Each product's units sold this week out of its inventory and into its vendor's
        books (``units_by`` units, ``paid_by`` USD per product), in one kernel call
        (:func:`market_sim.agents.vendor_accounts.book_sales_kernel`; its oracle is
        :meth:`book_sales_reference`)."""
        if not self.vendors:
            return
        books, pr = self.vendors[0].accounts, self.world.products
        book_sales_kernel(
            units_by,
            paid_by,
            pr.vendor,
            pr.unit_cost_usd,
            self._attach_share,
            self._attach_margin,
            self.production.inventory,
            books.sales_usd,
            books.revenue_usd,
            books.cogs_usd,
            books.sales_total_usd,
            books.units_sold,
        )

    def _settle_gray(self, week, price, bid_fills, ask_fills, bids, asks) -> None:
        """Move sold H100e from sellers to buyers (as a pool of the sellers' mix); pay."""
        acc, pr, holdings = self.accounts, self.world.products, self.holdings
        buyers, sellers = bids[2], asks[2]
        volume = float(np.add.reduce(ask_fills))
        if not math.isfinite(price) or volume <= 0:
            ref = self.world.reference_product
            reference = float(self.market.list_price[ref] / pr.h100e[ref])
            self.market.spot_price = quoted_price(bids[0], asks[0], reference)
            return
        self.market.spot_price = float(price)
        pool_units = np.zeros(len(pr))
        pool_legacy = 0.0
        for h, q in zip(sellers, ask_fills, strict=True):
            if q <= 0:
                continue
            units = holdings.fleet[h]
            fleet_h = float(units @ pr.h100e)
            from_units = min(q, fleet_h)
            share = from_units / fleet_h if fleet_h > 0 else 0.0
            moved = units * share
            holdings.fleet[h] -= moved
            pool_units += moved
            legacy = q - from_units
            holdings.legacy_h100e[h] -= legacy
            pool_legacy += legacy
            self.holders[h].gray_received_usd += float(q * price)
        paid = 0.0
        for h, q in zip(buyers, bid_fills, strict=True):
            if q <= 0:
                continue
            share = q / volume
            holdings.fleet[h] += pool_units * share
            holdings.legacy_h100e[h] += pool_legacy * share
            self.holders[h].pay(week, float(q * price), float(q))
            paid += float(q * price)
        holdings.changed()
        acc.record_gray(price, volume, paid)

    def _settle_rental(self, week, price, bid_fills, ask_fills, bids, asks) -> None:
        """Startups pay for rented H100e-weeks; lessors receive it; sets ``rented`` (the
        fills of the startups' bids, both tranches)."""
        acc, market = self.accounts, self.market
        hours = self.world.scenario.economics.hours_per_week
        volume = float(np.add.reduce(ask_fills))
        if math.isfinite(price) and volume > 0:
            market.rental_price = float(price)
            holders = self.holders
            for h, q in zip(asks[2].tolist(), ask_fills.tolist(), strict=True):
                if q > 0:
                    holders[h].rental_received_usd += float(q * price * hours)
            acc.record_rental(price, volume, float(np.add.reduce(bid_fills) * price * hours))
        else:
            market.rental_price = quoted_price(bids[0], asks[0], market.rental_price)
            acc.record_rental(market.rental_price, 0.0, 0.0)
            bid_fills = np.zeros_like(bid_fills)
        self.rented = (bids[2], bid_fills)  # summed per startup as it settles
