"""The demand side of a week: orders, one call that clears every market, settlement.

Markets (:mod:`market_sim.model.markets`; all cleared by
:func:`market_sim.market.clear_markets` in one call): the primary market of each
product, then the double auctions of :data:`DOUBLE_AUCTIONS`:

- gray: holders ahead of their fleet plan sell H100e to buyers behind it; its price is
  ``spot_price_usd@REF`` (USD per H100e of the reference product);
- rental: H100e-weeks from neoclouds' and hyperscalers' spare capacity to startups; its
  price is ``rental_usd_per_gpu_hour@REF`` (USD per H100e-hour).

:class:`Trading` runs phases 4 and 5 of :meth:`GPUMarketModel.step` on the state it is
given when the model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from market_sim.agents.fleet import BuyerState, FleetBatch, RentalAsks
from market_sim.agents.startups import StartupPopulation
from market_sim.agents.vendor import VendorAgent
from market_sim.market.kernels_batch import clear_markets_core
from market_sim.market.kernels_common import ERR_OK, ERROR_MESSAGES, ClearingResult
from market_sim.market.policies import policy_table
from market_sim.model import book as book_module
from market_sim.model.accounts import Accounts
from market_sim.model.book import STARTUP_HOLDER, Batch, OrderBook
from market_sim.model.choice_kernel import best_startup_score, startup_exponents
from market_sim.model.events import EventSchedule
from market_sim.model.markets import DoubleAuction, Orders
from market_sim.model.production_kernel import ProductionState
from market_sim.model.settlement import Settlement
from market_sim.model.state import Holdings, Market
from market_sim.model.trading_reference import TradingReference
from market_sim.model.world import STARTUP_CLASS, World


class Trading(Settlement, TradingReference):
    """Orders, the week's markets in one kernel call, and settlement (phases 4 and 5)."""

    def __init__(
        self,
        world: World,
        events: EventSchedule,
        market: Market,
        holdings: Holdings,
        book: OrderBook,
        accounts: Accounts,
        vendors: Sequence[VendorAgent],
        holders: Sequence,
        startups: StartupPopulation,
        pipelines: np.ndarray,
        rng: np.random.Generator,
        production: ProductionState,
        buyer_state: BuyerState,
        desired_path: np.ndarray,
        year_of: Callable[[int], int],
    ):
        self.world, self.events, self.market, self.holdings = world, events, market, holdings
        self.book, self.accounts = book, accounts
        self.vendors, self.holders, self.startups = vendors, holders, startups
        self.fleet_buyers = [h for h in holders if hasattr(h, "gray_orders")]
        if [h.holder for h in holders] != list(range(len(holders))):
            raise ValueError("holders must be given in holder order")
        self.fleet = FleetBatch(self.fleet_buyers, buyer_state, desired_path)
        """The fleet buyers' decisions and gray orders, one kernel call each a week."""
        self.other_buyers = [h for h in holders if not hasattr(h, "gray_orders")]
        """Holders that decide one by one (``order_h100e``): the neoclouds."""
        self.rental_asks = RentalAsks(holders, buyer_state)
        """Every holder's rental ask, one kernel call a week."""
        self.year_of = year_of
        self._holder_klass = np.array([h.klass for h in holders], dtype=np.int64)
        self._holder_tier = np.array([h.spec.priority_tier for h in holders], dtype=np.int64)
        self.pipelines = pipelines  # every product's pipeline (World.pipeline_offsets)
        self.rng = rng
        book_module.warm()  # a kernel a run may not call: its cache loaded
        self.production = production  # the vendors' inventories and start rates
        self.rental_bids: Orders = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
        """This week's startup rental bids (set when orders are placed)."""
        self._bid_room = (np.zeros(0), np.zeros(0))
        """The arrays the rental bids' prices and quantities are views of, with room in
        front for the other auctions' bids (:meth:`_joined_bids`)."""
        self.rented: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0))
        """The rental market's fills this week, ``(startup row, H100e)`` per bid (set when
        the rental market settles; each startup rents the sum of its bids')."""
        self._product_cache: tuple[tuple[int, int], int] | None = None
        self._product_vendor = world.products.vendor.tolist()
        specs = [v.spec for v in vendors]  # fixed per run: the vendors' attached revenue
        self._attach_share = np.array([s.attach_revenue_share for s in specs], dtype=float)
        self._attach_margin = np.array([s.attach_gross_margin for s in specs], dtype=float)
        self._max_lead_weeks = int(world.scenario.policy.max_lead_weeks)  # >= 1 (schema)
        pr = world.products  # fixed per run: what startups may buy when orderable
        self._startup_products = (pr.owner_holder < 0) & (pr.demand_weight > 0)

    # ----------------------------------------------------------------------- 4. orders
    def place_orders(self, week: int) -> np.ndarray:
        """Collect this week's orders from every buyer and the startups into the book
        (and the startups' rental bids for the rental market); returns the units ordered
        per product.

        The fleet buyers decide in one kernel call (:class:`FleetBatch`), the others one
        by one, and each buyer's H100e is split over its product mix at once (the
        choices' order lines); :meth:`place_orders_reference` asks each buyer's
        ``decide`` instead (the oracle)."""
        firms = self._firm_orders(week) if self.holders else None
        return self._add_orders(week, firms)

    def _firm_orders(self, week: int) -> Batch | None:
        """The firms' orders of the week as one batch (None without any); cancellations
        go to the book directly."""
        m = self.holders[0].model
        choices = m.choices()
        open_h100e, open_usd = m.open_orders()
        amounts = np.zeros(len(self.holders))  # H100e each holder orders
        self.fleet.decide(
            week, self.year_of(week), choices, m.installed_h100e(), open_h100e, open_usd, amounts
        )
        for h in self.other_buyers:
            h100e = h.order_h100e(week)
            if h100e is not None:
                amounts[h.holder] = h100e
        # each holder's H100e over its product mix (Holder.orders_for, every line at once)
        units = amounts[choices.cell_holder] * choices.cell_units
        keep = np.flatnonzero(units >= 1e-6)
        if not len(keep):
            return None
        holder = choices.cell_holder[keep]
        return Batch(
            choices.cell_product[keep],
            holder,
            -1,
            self._holder_klass[holder],
            units[keep],
            choices.cell_limit[keep],
            self._holder_tier[holder],
            week,
        )

    def _add_orders(self, week: int, firms: Batch | None) -> np.ndarray:
        """The startups' orders and rental bids, then the firms' and the startups'
        orders into the book; the units ordered per product."""
        rental_bids, (st_product, st_index, st_qty, st_limit) = self._startup_orders(week)
        book = self.book
        start = len(book)
        if firms is not None:
            book.add(firms)
        if len(st_qty):
            tier = self.world.scenario.startups.priority_tier
            book.add(
                Batch(
                    st_product,
                    STARTUP_HOLDER,
                    st_index,
                    STARTUP_CLASS,
                    st_qty,
                    st_limit,
                    tier,
                    week,
                )
            )
        self.rental_bids = rental_bids
        # the new orders (none dropped: every line orders a positive quantity), firms first
        return np.bincount(
            book.product[start:], weights=book.qty[start:], minlength=len(self.world.products)
        )

    def _startup_product(self) -> int:
        """The product direct-buying startups order this week (best choice score), or -1
        (cached until prices, quotes or orderable products change)."""
        market = self.market
        key = (market.price_version, market.choice_version)
        if self._product_cache is None or self._product_cache[0] != key:
            self._product_cache = (key, self._best_startup_product())
        return self._product_cache[1]

    def _best_startup_product(self) -> int:
        """:meth:`_best_startup_product_reference` with the work around numpy's ``log``
        and ``exp`` in two kernel calls
        (:func:`market_sim.model.choice_kernel.startup_exponents`,
        :func:`~market_sim.model.choice_kernel.best_startup_score`)."""
        pr, market = self.world.products, self.market
        ok = market.orderable & self._startup_products  # merchant, with demand weight
        spec = self.world.scenario.startups
        tier = min(spec.priority_tier, market.quotes.shape[1] - 1)
        expo = startup_exponents(
            np.log(market.list_price / pr.h100e),
            market.quotes,
            tier,
            float(spec.price_elasticity),
            float(spec.lead_time_sensitivity),
        )
        return best_startup_score(pr.demand_weight, np.exp(expo), ok)

    def _startup_orders(self, week: int) -> tuple[Orders, tuple[np.ndarray, ...]]:
        """Startups' rental bids and direct orders: ``(bids, (product, startup index,
        units, limit USD per unit))``, the orders as arrays with one row per order.

        A startup bids for rent in two tranches (``startups_demand``); the bids with a
        quantity (inactive startups and met needs bid nothing) go to the rental auction as
        ``(price, H100e, startup index)``."""
        pop, market = self.startups, self.market
        spec = self.world.scenario.startups
        p = self._startup_product()
        pr = self.world.products
        price = float(market.list_price[p] / pr.h100e[p]) if p >= 0 else 0.0
        mult = float(self.events.startup_demand[week])
        # what each startup has on order, from the book (cancellations included)
        book = self.book
        if pop.mode == "kernel":
            pop.set_on_order(*book.startup_orders(pr.h100e))
        else:  # the oracle: every row
            rows, h100e = book.startup_orders_reference(pr.h100e)
            pop.on_order[:] = np.bincount(rows, weights=h100e, minlength=pop.n)[: pop.n]
        # the bids leave room in front for the gray market's (one auction array, no copy)
        front = len(self.fleet_buyers)
        (bid_price, bid_qty, bid_row), idx, buy = pop.demand(mult, price, front)
        self._bid_room = (bid_price, bid_qty)
        rental_bids = (bid_price[front:], bid_qty[front:], bid_row[front:])
        if p < 0:
            return rental_bids, (
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
            )
        hours = self.world.scenario.economics.hours_per_week
        # the orders whose limit (USD per unit) reaches the list price; on order now
        idx, units, limit = pop.order_direct(
            idx, buy, hours, spec.willingness_weeks, pr.h100e[p], market.list_price[p]
        )
        orders = (np.full(len(idx), p, dtype=np.int64), idx, units, limit)
        return rental_bids, orders

    # ---------------------------------------------------------------------- 5. markets
    def clear_and_settle(self, week: int) -> np.ndarray:
        """Clear all markets of the week in one kernel call, then settle every trade.

        Returns the price paid per unit in each primary market this week, USD.
        """
        book, market = self.book, self.market
        scenario = self.world.scenario
        n_p = len(self.world.products)
        perm, offsets = book.by_market(n_p)
        production = self.production  # every product is a vendor's: its entries
        supply, rate = production.inventory.copy(), production.start_rate.copy()
        orders = [auction.orders(self, week) for auction in DOUBLE_AUCTIONS]
        bids, asks = [b for b, _ in orders], [a for _, a in orders]
        bid_off, ask_off = _offsets(bids), _offsets(asks)
        bid_price, bid_qty = self._joined_bids(bids)
        res = self._clear_markets(
            offsets,
            supply,
            book.qty[perm],
            book.limit_price[perm],
            book.priority[perm],
            book.order_week[perm],
            rate,
            bid_off,
            bid_price,
            bid_qty,
            ask_off,
            np.concatenate([a[0] for a in asks]),
            np.concatenate([a[1] for a in asks]),
        )
        fills = np.empty(len(book))
        fills[perm] = res.fills
        book.lead_weeks[perm] = res.lead_weeks
        book.touch()
        acc = self.accounts
        acc.open_trading_week()  # the primary settlement replaces the week's arrays
        self._settle_primary(week, fills, res.price)
        for k, auction in enumerate(DOUBLE_AUCTIONS):
            auction.settle(
                self,
                week,
                res.da_price[k],
                res.bid_fills[bid_off[k] : bid_off[k + 1]],
                res.ask_fills[ask_off[k] : ask_off[k + 1]],
                bids[k],
                asks[k],
            )
        startups = self.startups
        demand = float(self.events.startup_demand[week])
        exited = startups.settle(
            week,
            self.rented,
            acc.startup_delivered_h100e,
            acc.startup_paid_usd,
            market.rental_price,
            demand,
            scenario.economics.opex_usd_per_gpu_hour,
        )
        if len(exited):  # their open orders
            acc.cancelled_units += book.cancel_startups(exited, startups.n)
        book.compact()
        entries = self.rng.poisson(scenario.startups.entry_per_week * demand)
        startups.enter(int(entries), week + 1)
        return res.price.copy()

    def _clear_markets(
        self,
        order_offsets: np.ndarray,
        supply: np.ndarray,
        qty: np.ndarray,
        limit_price: np.ndarray,
        priority: np.ndarray,
        order_week: np.ndarray,
        capacity_per_week: np.ndarray,
        bid_offsets: np.ndarray,
        bid_price: np.ndarray,
        bid_qty: np.ndarray,
        ask_offsets: np.ndarray,
        ask_price: np.ndarray,
        ask_qty: np.ndarray,
    ) -> ClearingResult:
        """:func:`market_sim.market.clear_markets` on the model's arrays, which need none
        of its conversions and checks (contiguous float64 and int64 arrays of matching
        lengths): its kernel called directly (``clear_markets_core``), the same result
        and errors."""
        result = ClearingResult(
            fills=np.empty(qty.size),
            price=np.empty(supply.size),
            lead_weeks=np.empty(qty.size, dtype=np.int64),
            da_price=np.empty(bid_offsets.size - 1),
            bid_fills=np.empty(bid_price.size),
            ask_fills=np.empty(ask_price.size),
        )
        world = self.world
        err, kind, index = clear_markets_core(
            order_offsets,
            supply,
            self.market.list_price,
            world.policy_codes,
            policy_table(),
            qty,
            limit_price,
            priority,
            order_week,
            world.pipeline_offsets,
            self.pipelines,
            capacity_per_week,
            self._max_lead_weeks,
            bid_offsets,
            bid_price,
            bid_qty,
            ask_offsets,
            ask_price,
            ask_qty,
            *result,
        )
        if err != ERR_OK:  # pragma: no cover - the model's arrays are well formed
            where = ("primary market", "double auction", "clear_markets")[kind]
            where = where if index < 0 else f"{where} {index}"
            raise ValueError(f"{where}: {ERROR_MESSAGES[err]}")
        return result

    def _joined_bids(self, bids: list[Orders]) -> tuple[np.ndarray, np.ndarray]:
        """The auctions' bid prices and quantities, each as one array in auction order
        (``np.concatenate``): written into the room the startups' rental bids (the last
        auction's) leave in front of them when the others' fit, else concatenated."""
        room_price, room_qty = self._bid_room
        front = len(room_price) - len(self.rental_bids[0])
        before = sum(len(b[0]) for b in bids[:-1])
        if bids[-1] is not self.rental_bids or before > front:
            return np.concatenate([b[0] for b in bids]), np.concatenate([b[1] for b in bids])
        lo = at = front - before
        for price, qty, _ in bids[:-1]:
            room_price[at : at + len(price)] = price
            room_qty[at : at + len(qty)] = qty
            at += len(price)
        return room_price[lo:], room_qty[lo:]

    def _gray_orders(self, week: int) -> tuple[Orders, Orders]:
        """Gray-market bids and asks of fleet buyers: (price, qty, holder) triples, in
        one kernel call (:meth:`FleetBatch.gray_orders`; its oracle is
        :meth:`_gray_orders_reference`)."""
        if not self.fleet_buyers:
            return self._gray_orders_reference(week)
        m = self.fleet_buyers[0].model
        return self.fleet.gray_orders(
            week, m.installed_h100e(), m.reference_price_per_h100e(), self.market.rental_price
        )

    def _rental_orders(self, week: int) -> tuple[Orders, Orders]:
        """The startups' rental bids (price USD per H100e-hour, H100e, startup) and the
        holders' asks (price, H100e, holder), in one kernel call (:class:`RentalAsks`;
        its oracle is :meth:`_rental_orders_reference`)."""
        if not self.holders:
            return self._rental_orders_reference(week)
        m = self.holders[0].model
        asks = self.rental_asks.asks(m.installed_h100e(), m.reference_price_per_h100e())
        return self.rental_bids, asks


def _offsets(sides: list[Orders]) -> np.ndarray:
    """CSR offsets of the auctions' orders: 0, then the running count."""
    ends = [0]
    for side in sides:
        ends.append(ends[-1] + len(side[0]))
    return np.array(ends, dtype=np.int64)


DOUBLE_AUCTIONS: tuple[DoubleAuction, ...] = (
    DoubleAuction(
        name="gray",
        traded="H100e of installed compute",
        price_unit="USD per H100e",
        price_metric="spot_price_usd",
        description="fleet buyers ahead of plan sell to those behind it; buyers bid the "
        "list price plus renting until an order would arrive",
        orders=Trading._gray_orders,
        settle=Trading._settle_gray,
    ),
    DoubleAuction(
        name="rental",
        traded="H100e-weeks of compute",
        price_unit="USD per H100e-hour",
        price_metric="rental_usd_per_gpu_hour",
        description="holders rent spare compute to startups at no less than their cost of "
        "owning it; startups bid what an hour is worth to them",
        orders=Trading._rental_orders,
        settle=Trading._settle_rental,
    ),
)
"""The week's double auctions, in clearing order."""
