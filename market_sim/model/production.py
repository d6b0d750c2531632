"""The supply side of a week: events, capacities, production, prices and quotes.

:class:`Supply` runs phases 1-3 and 6 of :meth:`GPUMarketModel.step` on the state it is
given when the model is built (the market, the order book, the accounts and the agents).
Units: product units, node units (wafers or stacks), weeks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from market_sim.agents.chipmaker import ChipmakerAgent
from market_sim.agents.chipmaker_kernel import (
    INVEST_COLUMNS,
    invest_nodes_kernel,
    open_nodes_kernel,
)
from market_sim.agents.vendor import VendorAgent
from market_sim.market import kernels_queue
from market_sim.market.kernels_batch import quote_markets_core
from market_sim.market.kernels_common import ERR_OK, ERROR_MESSAGES
from market_sim.market.kernels_queue import queue_ahead_of_new_fast
from market_sim.market.policies import policy_by_code
from market_sim.model import close_kernels, priming
from market_sim.model.accounts import Accounts
from market_sim.model.book import OrderBook
from market_sim.model.choice import Choices
from market_sim.model.close_kernels import any_priced_out, undeliverable_excess
from market_sim.model.events import EventSchedule
from market_sim.model.pricing_kernel import reprice_kernel
from market_sim.model.production_kernel import (
    KERNEL_MAX_VENDORS,
    ProductionState,
    produce_kernel,
    production_layout,
)
from market_sim.model.production_reference import SupplyReference
from market_sim.model.state import Market
from market_sim.model.world import World, allowed_matrix
from market_sim.scenario.schema import MAX_PRIORITY_TIER
from market_sim.scenario.shares import committed_shares, reachable_shares
from market_sim.supply import restrict_products


class Supply(SupplyReference):
    """Events, chipmakers' capacity, vendors' production, list prices and quotes."""

    def __init__(
        self,
        world: World,
        events: EventSchedule,
        market: Market,
        book: OrderBook,
        accounts: Accounts,
        chipmakers: Sequence[ChipmakerAgent],
        vendors: Sequence[VendorAgent],
        holders: Sequence,
        pipelines: np.ndarray,
        choices: Callable[[], Choices],
        state: ProductionState,
    ):
        self.world, self.events, self.market = world, events, market
        self.pipelines = pipelines  # every product's pipeline (World.pipeline_offsets)
        self.book, self.accounts = book, accounts
        self.chipmakers, self.vendors, self.holders = chipmakers, vendors, holders
        self.choices = choices
        self.state = state  # the vendors' production state, [products]
        self.layout = production_layout(world, vendors)  # fixed per run
        self._in_house = np.array([v.in_house for v in vendors], dtype=np.bool_)
        self._one_unit = np.ones(MAX_PRIORITY_TIER + 1)  # a new order's units, per tier
        self._backlog: tuple[int, np.ndarray] | None = None  # (book version, backlog)
        self._books = vendors[0].accounts if len(vendors) else None  # the vendors' books
        self._fixed_cogs = np.array(  # USD a week, each vendor's (fixed per run)
            [v.spec.fixed_cogs_usd_per_week for v in vendors], dtype=float
        )
        self.nodes = chipmakers[0].node_state if len(chipmakers) else None
        """The chipmakers' state arrays (:class:`NodeState`, the model's)."""
        self._invests = np.array([c.spec is not None for c in chipmakers], dtype=np.bool_)
        self._invest_rules = np.array(  # each node's expansion rule (INVEST_COLUMNS)
            [
                [float(getattr(c.spec, k)) if c.spec else 0.0 for k in INVEST_COLUMNS]
                for c in chipmakers
            ]
        ).reshape(len(chipmakers), len(INVEST_COLUMNS))
        self._make_or_buy = [  # the holders with a make-or-buy rule (fixed per run)
            h
            for h in holders
            if hasattr(h, "consider_in_house") and getattr(h.spec, "in_house", None) is not None
        ]
        close_kernels.warm()  # kernels a run may not call: their caches loaded
        kernels_queue.warm()
        pr = world.products  # fixed per run, as Python numbers for the weekly loops
        self._last_start_week = pr.end_week - pr.cycle_weeks  # per product, week
        self._last_start = self._last_start_week.tolist()
        self._cycle_weeks = pr.cycle_weeks
        self._policy_rows = [
            (code, world.policy_codes == code) for code in np.unique(world.policy_codes).tolist()
        ]
        self._product_vendors = [vendors[v] for v in pr.vendor.tolist()]
        offsets = world.pipeline_offsets
        self._pipe_starts, self._pipe_ends = offsets[:-1].copy(), offsets[1:].copy()
        if (self._pipe_ends <= self._pipe_starts).any():  # pragma: no cover - cycle >= 1
            raise ValueError("every product needs a pipeline at least one week long")

    # ------------------------------------------------------------------ helpers
    def backlog_units(self) -> np.ndarray:
        """Open order quantity per product, units (computed once per book version: the
        week's production, prices and outcomes read the same book; callers only read
        it). float64 also for an empty book, where bincount gives int64: a second
        compiled type of every kernel it reaches (tests/test_kernel_types.py)."""
        book = self.book
        cached = self._backlog
        if cached is None or cached[0] != book.version:
            units = np.bincount(book.product, weights=book.qty, minlength=len(self.world.products))
            cached = self._backlog = (book.version, units.astype(np.float64, copy=False))
        return cached[1]

    def contract_shares(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        """([vendors, nodes] contracted shares, [vendors, nodes] reachable shares) this
        week: the scenario's, with in-house programs' make-or-buy commitment booked out of
        the uncontracted rest (:func:`market_sim.scenario.shares.committed_shares`)."""
        w = self.world
        boost = self.market.program_supply_boost
        if not boost.any():
            return w.vendor_shares[week], w.reachable_share[week]
        shares = committed_shares(w.reserved_share[week], w.vendor_shares[week], boost)
        return shares, reachable_shares(w.reserved_share[week], shares)

    def advance_pipelines(self) -> np.ndarray:
        """Move every product's pipeline one week at once (each is a slice of
        ``pipelines``, :attr:`World.pipeline_offsets`, at least one week long); returns
        the units that left each (``VendorAgent.receive`` for every product)."""
        pipes, starts, ends = self.pipelines, self._pipe_starts, self._pipe_ends
        arrivals = pipes[starts]  # a copy: the first slot of each product's pipeline
        pipes[:-1] = pipes[1:]  # (numpy buffers the overlap)
        pipes[ends - 1] = 0.0
        return arrivals

    def reachable_capacity(self, week: int) -> np.ndarray:
        """[vendors, nodes]: capacity each vendor can get (its share + the uncontracted
        rest)."""
        cap = self._node_capacity()
        return cap[None, :] * self.contract_shares(week)[1]

    def _node_capacity(self) -> np.ndarray:
        """Every node's capacity this week (a copy), node units per week."""
        if self.nodes is None:
            return np.zeros(0)
        return self.nodes.capacity.copy()

    def orderable(self, week: int) -> np.ndarray:
        """Products a buyer can order this week: in production or about to be."""
        active = np.array([v.active for v in self._product_vendors])
        return (
            active
            & (self.market.launch_week - self._cycle_weeks <= week)
            & (week <= self._last_start_week)
        )

    def start_program(self, vendor: VendorAgent, week: int, dev_lag_weeks: int) -> None:
        """Start a dormant in-house program: first output after the development lag."""
        vendor.active = True
        pr = self.world.products
        for p in vendor.products:
            self.market.launch_week[p] = max(int(pr.launch_week[p]), week + dev_lag_weeks)

    def commit_program(self, vendor: VendorAgent, commitment: float, supply_boost: float) -> None:
        """Set a program's make-or-buy commitment (>= 0): its owner's weight on its chips
        becomes 1 + ``commitment`` times the scenario's, its contracted supply shares
        1 + ``supply_boost`` times (:meth:`contract_shares`)."""
        self.market.program_commitment[vendor.index] = commitment
        self.market.program_supply_boost[vendor.index] = supply_boost
        self.market.choices_changed()

    # --------------------------------------------------------------------------- 1-3
    def apply_events(self, week: int) -> None:
        """Export controls, product launches and in-house program starts due this week."""
        w, market, book = self.world, self.market, self.book
        for region, products in self.events.export_controls.get(week, []):
            market.graph = restrict_products(
                market.graph, region, [w.products.ids[p] for p in products]
            )
            now = allowed_matrix(market.graph, w)
            market.choices_changed()
            lost = market.allowed & ~now  # firms that just lost a product
            market.allowed = now
            holders, lost_products = np.nonzero(lost)
            mask = np.zeros(len(book), dtype=bool)
            for h, p in zip(holders, lost_products, strict=True):
                mask |= (book.holder == h) & (book.product == p)
            self.accounts.cancelled_units += book.cancel_where(mask)
        for v, start in self.events.program_start.items():
            vendor = self.vendors[v]
            if start == week and not vendor.active:
                owner = next((h for h in self.holders if h.firm_id == vendor.owner), None)
                trig = getattr(owner.spec, "in_house", None) if owner is not None else None
                lag = (
                    trig.dev_lag_weeks
                    if trig is not None and trig.vendor == vendor.vendor_id
                    else 0
                )
                self.start_program(vendor, week, lag)
                if owner is not None and hasattr(owner, "program_started"):
                    owner.program_started = week

    def open_week(self, week: int) -> None:
        """Set capacities and which products can be ordered; open the vendors' books."""
        self.open_nodes(week)
        orderable = self.orderable(week)
        market_orderable = self.market.orderable
        if orderable.shape != market_orderable.shape or (orderable != market_orderable).any():
            # (else the choices still hold)
            self.market.orderable = orderable
            self.market.choices_changed()
        books = self._books
        if books is not None:  # every vendor's open_books
            books.sales_usd[:] = 0.0
            books.revenue_usd[:] = 0.0
            books.cogs_usd[:] = self._fixed_cogs
        if self.holders:  # every holder's week_spend_usd
            self.holders[0].buyer_state.week_spend_usd[:] = 0.0

    def produce(self, week: int) -> tuple[np.ndarray, np.ndarray]:
        """Vendors plan, chipmakers allocate inputs, vendors start; finished units arrive.

        Returns ``(arrivals, node_output)``: units that left the pipelines this week per
        product, and node units used [vendors, nodes]. The vendors' and chipmakers' work
        is one kernel call (:func:`market_sim.model.production_kernel.produce_kernel`);
        :meth:`produce_reference`, the agents' own methods, is its oracle (and does the
        work for ``KERNEL_MAX_VENDORS`` vendors or more, whose sums numpy orders apart).
        """
        if len(self.vendors) >= KERNEL_MAX_VENDORS:
            return self.produce_reference(week)
        arrivals = self.advance_pipelines()
        shares, reach_share = self.contract_shares(week)
        capacity = self._node_capacity()
        reserved = self.world.reserved_share[week]
        vendors, st, lay = self.vendors, self.state, self.layout
        books = self._books  # each vendor's units started so far, added to in place
        units_started = books.units_started_total if books is not None else np.zeros(0)
        requests, grants, used = produce_kernel(
            week,
            np.array([v.active for v in vendors]),
            self.market.launch_week,
            arrivals,
            self.backlog_units(),
            capacity[None, :] * reach_share,  # reachable_capacity(week)
            capacity,
            shares,
            reserved,
            lay.vendor_offsets,
            lay.vendor_products,
            lay.cycle_weeks,
            lay.end_week,
            lay.ramp_weeks,
            lay.pipeline_last,
            lay.stage_offsets,
            lay.stage_yields,
            lay.stage_per_unit,
            lay.stage_scale_row,
            lay.node_offsets,
            lay.stage_nodes,
            lay.stage_scales,
            lay.plan_weeks,
            lay.safety_weeks,
            lay.forecast_smoothing,
            lay.start_rate_smoothing,
            lay.min_ramp_yield,
            st.forecast,
            st.pipeline_total,
            st.inventory,
            st.throughput,
            st.started,
            st.start_rate,
            self.pipelines,
            units_started,
        )
        if self.nodes is not None:  # every chipmaker's record_allocation and use
            n = self.nodes
            n.requested[:] = requests.sum(axis=0)
            n.granted[:] = grants.sum(axis=0)
            n.reserved_share[:] = reserved
            # below KERNEL_MAX_VENDORS numpy sums a node's column in order from 0: as sum()
            n.used[:] = [float(sum(col)) for col in used.T.tolist()]
        return arrivals, used

    # --------------------------------------------------------------------------- 6
    def cancel_undeliverable(self, week: int) -> None:
        """Cancel orders that will not be filled: those whose limit price the list price
        has overtaken (the buyer will not pay it; it may order again at the new price),
        and, for a product whose last start is past, what its pipeline and inventory
        cannot fill (youngest orders first); the buyers then order something else."""
        book = self.book
        list_price = self.market.list_price
        if any_priced_out(book.limit_price, list_price, book.product):  # (a kernel)
            priced_out = book.limit_price < list_price[book.product]
            self.accounts.cancelled_units += book.cancel_where(priced_out)
        last_start = self._last_start
        for vendor in self.vendors:
            for p in vendor.products:
                if week <= last_start[p] and vendor.active:  # week + cycle <= end
                    continue
                idx, excess = undeliverable_excess(  # its orders; what they ask beyond
                    p, book.product, book.qty, vendor.pipeline[p], float(vendor.inventory[p])
                )
                if excess > 1e-9:
                    self.accounts.cancelled_units += book.cancel(idx, excess)

    def close_week(self, week: int, new_orders: np.ndarray) -> None:
        """Cancellations of what cannot be made, forecasts and list prices, quotes for new
        orders, investment, make-or-buy."""
        self.cancel_undeliverable(week)
        self.reprice(week, new_orders)
        market = self.market
        market.prices_changed()
        market.quotes = self.new_order_quotes(week)
        market.choices_changed()
        self.invest(week)
        for h in self._make_or_buy:  # (the others' consider_in_house does nothing)
            h.consider_in_house(week)

    def invest(self, week: int) -> None:
        """Every chipmaker's investment decision, in one kernel call
        (:func:`market_sim.agents.chipmaker_kernel.invest_nodes_kernel`; its oracle is
        :meth:`invest_reference`); the capacity ordered goes to the accounts."""
        n = self.nodes
        if n is None:
            return
        self.accounts.capacity_ordered += invest_nodes_kernel(
            week,
            self._invests,
            self._invest_rules,
            n.capacity,
            n.used,
            n.reserved_share,
            n.requested,
            n.granted,
            n.high_weeks,
            n.next_decision,
            n.arrivals,
        )

    def open_nodes(self, week: int) -> None:
        """Every chipmaker's ``open_week``: its capacity this week, in one kernel call
        (:func:`market_sim.agents.chipmaker_kernel.open_nodes_kernel`)."""
        n = self.nodes
        if n is not None:
            factor = self.events.node_factor[week]
            open_nodes_kernel(
                week, self.world.node_capacity, factor, n.expansion, n.arrivals, n.capacity
            )

    def reprice(self, week: int, new_orders: np.ndarray) -> None:
        """Every vendor's forecasts and list prices, in one kernel call
        (:func:`market_sim.model.pricing_kernel.reprice_kernel`; its oracle is
        :meth:`reprice_reference`)."""
        pricing, lay = self.world.scenario.policy.pricing, self.layout
        reprice_kernel(
            week,
            new_orders,
            self.backlog_units(),
            self.market.launch_week,
            self.world.products.unit_cost_usd,
            lay.vendor_offsets,
            lay.vendor_products,
            self._in_house,
            lay.forecast_smoothing,
            self.state.throughput,
            float(pricing.sensitivity),
            float(pricing.min_backlog_weeks),
            float(pricing.target_backlog_weeks),
            float(pricing.max_change_per_week),
            float(pricing.floor_markup),
            self.state.forecast,
            self.market.list_price,
        )

    def new_order_quotes(self, week: int) -> np.ndarray:
        """[products, tiers]: quoted lead time (weeks) of a new one-unit order at each tier.

        A new order queues behind every eligible open order that the product's policy
        serves no later (:func:`market_sim.market.policies.queue_ahead_of_new`: under
        ``priority`` those of its tier and above, under the built-in others all of them).
        The pipeline counts this week's unsold inventory as arriving next week, and beyond
        the pipeline the vendor's recent start rate.
        """
        book, pr, market = self.book, self.world.products, self.market
        n_tiers = market.quotes.shape[1]
        ahead = None
        for code, rows in self._policy_rows:
            queue = queue_ahead_of_new_fast(  # policies.queue_ahead_of_new, in a kernel
                policy_by_code(code),
                week,
                book.product,
                book.qty,
                book.priority,
                book.order_week,
                book.limit_price,
                market.list_price,
                n_tiers,
            )
            if len(self._policy_rows) == 1:  # one policy for every product
                ahead = queue
                break
            if ahead is None:
                ahead = np.zeros((len(pr), n_tiers))
            ahead[rows] = queue[rows]
        rate = np.maximum(self.state.start_rate, 0.0)
        offsets = self.world.pipeline_offsets
        pipe = self.pipelines.copy()
        # unsold units are available next week (the first slot of each pipeline)
        pipe[self._pipe_starts] += self.state.inventory
        out = np.empty((len(pr), n_tiers), dtype=np.int64)
        err, m = quote_markets_core(  # quote_markets, on arrays that need no checks
            np.ascontiguousarray(ahead),
            self._one_unit[:n_tiers],
            offsets,
            pipe,
            rate,
            int(self.world.scenario.policy.max_lead_weeks),
            out,
        )
        if err != ERR_OK:  # pragma: no cover - the model's arrays are well formed
            raise ValueError(f"quote_markets market {m}: {ERROR_MESSAGES[err]}")
        return out

    # --------------------------------------------------------------------------- start
    def prime_pipelines(self) -> float:
        """Fill vendors' pipelines with the production in flight at the start; returns
        the units primed (:func:`market_sim.model.priming.prime_pipelines`)."""
        return priming.prime_pipelines(self)

    def initial_start_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """``(near, far)`` start rates of the production in flight at the start, units a
        week per product (:func:`market_sim.model.priming.initial_start_rates`)."""
        return priming.initial_start_rates(self)
