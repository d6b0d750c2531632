"""The per-agent oracles of :class:`market_sim.model.trading.Trading`'s batched steps.

Each method here does what a batched step of :class:`~market_sim.model.trading.Trading`
does in a kernel call, through the agents' own methods, one agent at a time: the buyers'
``decide``, ``gray_orders`` and ``rental_ask``, the vendors' ``book_sales``, and the
startups' product choice in numpy. They are the kernels' test oracle
(tests/test_fleet_kernel.py, tests/test_vendor_accounts.py,
tests/test_choice_kernel.py) and a readable statement of the rules; ``Trading`` inherits
them.
"""

from __future__ import annotations

import numpy as np

from market_sim.model.book import Batch
from market_sim.model.markets import Orders


class TradingReference:
    """The oracles (a mix-in of :class:`~market_sim.model.trading.Trading`, whose
    attributes they read)."""

    def place_orders_reference(self, week: int) -> np.ndarray:
        """:meth:`place_orders` by each holder's own ``decide`` (the test oracle)."""
        product: list[int] = []
        holder: list[int] = []
        klass: list[int] = []
        qty: list[float] = []
        limit: list[float] = []
        priority: list[int] = []
        views = self.holders[0].model.week_views() if self.holders else None
        for h in self.holders:
            lines = h.decide(week, views)
            if not lines:
                continue
            ps, units, usd = zip(*lines, strict=True)
            product += ps
            qty += units
            limit += usd
            k = len(lines)
            holder += [h.holder] * k
            klass += [h.klass] * k
            priority += [h.spec.priority_tier] * k
        firms = Batch(product, holder, -1, klass, qty, limit, priority, week) if qty else None
        return self._add_orders(week, firms)

    def _best_startup_product_reference(self) -> int:
        """The product with the best score among the orderable merchant products with a
        demand weight, or -1 (numpy; the test oracle)."""
        pr, market = self.world.products, self.market
        ok = market.orderable & self._startup_products  # merchant, with demand weight
        if not ok.any():
            return -1
        spec = self.world.scenario.startups
        price = market.list_price / pr.h100e
        quotes = market.quotes[:, min(spec.priority_tier, market.quotes.shape[1] - 1)]
        score = pr.demand_weight * np.exp(
            -spec.price_elasticity * np.log(price) - spec.lead_time_sensitivity * quotes
        )
        score = np.where(ok, score, -1.0)
        return int(np.argmax(score))

    def book_sales_reference(self, units_by: np.ndarray, paid_by: np.ndarray) -> None:
        """:meth:`book_sales` by each vendor's ``book_sales`` (the oracle)."""
        vendors, product_vendor = self.vendors, self._product_vendor
        inventory = self.production.inventory
        paid_list = paid_by.tolist()
        for p, units in enumerate(units_by.tolist()):
            if units > 0:
                inventory[p] = max(0.0, inventory[p] - units)
                vendors[product_vendor[p]].book_sales(p, units, paid_list[p])

    def _gray_orders_reference(self, week: int) -> tuple[Orders, Orders]:
        """:meth:`_gray_orders` by each fleet buyer's ``gray_orders`` (the oracle)."""
        bids: tuple[list, list, list] = ([], [], [])
        asks: tuple[list, list, list] = ([], [], [])
        buyers = self.fleet_buyers
        installed = buyers[0].model.installed_h100e().tolist() if buyers else []
        for h in buyers:
            (price, qty), ask = h.gray_orders(week, installed)  # gray_bid(week), gray_ask(week)
            if qty > 0:
                bids[0].append(price), bids[1].append(qty), bids[2].append(h.holder)
            price, qty = ask
            if qty > 0:
                asks[0].append(price), asks[1].append(qty), asks[2].append(h.holder)
        return _arrays(bids), _arrays(asks)

    def _rental_orders_reference(self, week: int) -> tuple[Orders, Orders]:
        """:meth:`_rental_orders` by each holder's ``rental_ask`` (the oracle)."""
        ask: tuple[list, list, list] = ([], [], [])
        holders = self.holders
        installed = holders[0].model.installed_h100e().tolist() if holders else []
        for h in holders:
            price, qty = h.rental_ask(week, installed)
            if qty > 0:
                ask[0].append(price), ask[1].append(qty), ask[2].append(h.holder)
        return self.rental_bids, _arrays(ask)


def _arrays(t: tuple[list, list, list]) -> Orders:
    return (
        np.array(t[0], dtype=float),
        np.array(t[1], dtype=float),
        np.array(t[2], dtype=np.int64),
    )
