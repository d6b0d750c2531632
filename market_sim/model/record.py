"""Phase 7 of a week: the outcomes, one value per key of the metric catalogue.

The keys and what they mean are declared in :mod:`market_sim.outcomes.catalogue`; this
module computes them, one collector per family (``products``, ``vendors``, ``market``,
``firms``, ``groups``, ``classes``, ``concentration``, ``markets``, ``nodes``,
``startups``), from the week (:class:`Week`: totals several families share, computed
once). Each collector computes its values as a few arrays over the products, vendors,
holders, groups, classes or nodes and writes them into the week's row
(:class:`MetricRow`, one float64 per catalogue key) through index arrays fixed for the
run (:class:`RecordLayout`); a value carried forward is the row's, left as last week's.

Concentration: ``compute_share_pct@X``, ``top4_share_pct`` and ``hhi_compute`` measure
ownership of installed H100e (each firm, each startup); ``gini_compute`` measures access:
firms' installed compute and each active startup's compute in use (owned plus rented).

Every value is finite: a quantity undefined in a week carries its last value forward,
starting from a stated default (an effective price without purchases: the reference list
price per H100e). A realised lead time in a week without deliveries to a class is how long
that class's open orders have waited so far (a lower bound on what they will wait); with
neither deliveries nor open orders it carries forward (from 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from market_sim.agents.chipmaker_kernel import node_record_kernel
from market_sim.agents.vendor_accounts import vendor_record_kernel
from market_sim.model.accounts import Accounts
from market_sim.model.book import OrderBook
from market_sim.model.production_kernel import ProductionState
from market_sim.model.record_kernels import (
    class_outcomes,
    concentration_outcomes,
    group_outcomes,
    holder_outcomes,
    market_outcomes,
    node_outcomes,
    vendor_outcomes,
)
from market_sim.model.record_layout import RecordLayout
from market_sim.model.record_parts import (
    AGENT_VARIABLES,
    FAMILIES,
    HOLDER_VARIABLES,
    MetricRow,
    Week,
)
from market_sim.model.state import Holdings, Market, WeekFlows
from market_sim.model.world import World
from market_sim.outcomes.catalogue import metric_keys
from market_sim.outcomes.measures import QS, gini, hhi_of_parts
from market_sim.scenario.schema import STARTUP_CLASS

QUANTILES = np.array(QS)
"""The lead times' quantiles (median, p90), as the class kernel takes them."""


class Recorder:
    """The week's outcomes, keyed by the catalogue (:func:`metric_keys` of the scenario).

    Args: the world and the weekly state it reads (see :class:`GPUMarketModel`), and two
    of the model's cached views: ``installed_h100e()`` and ``open_orders()``;
    ``outputs``: the metric keys a run asks for (None: every key of the catalogue). With
    ``outputs``, :attr:`keys` are those (in catalogue order), and only the collectors
    that make one of them run (and ``firms``, which makes the firms' record); each
    computes what it computes in a full run, so the values are the same.
    """

    def __init__(
        self,
        world: World,
        market: Market,
        holdings: Holdings,
        book: OrderBook,
        accounts: Accounts,
        flows: WeekFlows,
        vendors: Sequence[Any],
        holders: Sequence[Any],
        chipmakers: Sequence[Any],
        startups: Any,
        backlog_units: Callable[[], np.ndarray],
        installed_h100e: Callable[[], np.ndarray],
        open_orders: Callable[[], tuple[np.ndarray, np.ndarray]],
        production: ProductionState,
        outputs: Sequence[str] | None = None,
    ):
        self.world, self.market, self.holdings, self.book = world, market, holdings, book
        self.accounts, self.flows = accounts, flows
        self.production = production  # the vendors' [products] state
        self.vendors, self.holders, self.chipmakers, self.startups = (
            vendors,
            holders,
            chipmakers,
            startups,
        )
        self.backlog_units, self.installed_h100e, self.open_orders = (
            backlog_units,
            installed_h100e,
            open_orders,
        )
        every = metric_keys(world.scenario)
        self.catalogue_keys = every
        """Every key of the catalogue for this scenario (what a full run records)."""
        self.layout = RecordLayout(world, every)
        self.full = outputs is None
        if outputs is None:
            self.keys: list[str] = every
        else:
            unknown = sorted(set(outputs) - set(every))
            if unknown:
                raise ValueError(f"outputs not in the metric catalogue: {unknown}")
            wanted = set(outputs)
            self.keys = [k for k in every if k in wanted]
        self.families: tuple[str, ...] = (
            FAMILIES if outputs is None else self.layout.families_for(self.keys)
        )
        """The collectors that run each week."""
        self._collectors = [getattr(self, f"_{f}") for f in self.families]
        self.metrics = MetricRow(every, self.keys)
        """The last week's outcomes (0.0 before the first week): ``model.metrics``."""
        self.row = self.metrics.values  # what the collectors write, in place
        self.holder_record = np.zeros((len(holders), len(AGENT_VARIABLES["holders"])))
        """[holders, HOLDER_VARIABLES] of the last week (the ``firms`` collector's)."""
        self.vendor_record = np.zeros((len(vendors), len(AGENT_VARIABLES["vendors"])))
        """[vendors, AGENT_VARIABLES["vendors"]] of the last week."""
        self.chipmaker_record = np.zeros((len(chipmakers), len(AGENT_VARIABLES["chipmakers"])))
        """[chipmakers, AGENT_VARIABLES["chipmakers"]] of the last week."""
        w, pr = world, world.products
        self.program_holders = [h for h in holders if hasattr(h, "program_started")]
        self._nodes = chipmakers[0].node_state if len(chipmakers) else None  # the model's
        self._books = vendors[0].accounts if len(vendors) else None  # the vendors' books
        sizes = [len(d.products) for d in vendors]  # vendor v's products, ascending
        self._vendor_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._vendor_products = np.array(
            [p for d in vendors for p in d.products], dtype=np.int64
        ).reshape(-1)
        state = holders[0].buyer_state if len(holders) else None  # the model's, by holder
        self._expected_lead = state.expected_lead if state else np.zeros(0)  # weeks
        self._week_spend = state.week_spend_usd if state else np.zeros(0)  # USD
        """Holders that may start an in-house program (make-or-buy)."""
        incumbent = pr.vendor == w.incumbent  # fixed per run, as the holders below
        self.incumbent_index = np.flatnonzero(incumbent)
        self.alt_index = np.flatnonzero(~incumbent)
        self.in_house_index = np.flatnonzero(pr.owner_holder >= 0)
        self.incumbent_h100e = pr.h100e[incumbent]
        self.aggregate_index = np.flatnonzero(w.buyers.aggregate)
        """Aggregate holders (many small firms): in totals, never ranked as one firm."""

    # ------------------------------------------------------------------ the week
    def collect(self, week: int) -> np.ndarray:
        """Write the week's outcomes into :attr:`metrics` (at least :attr:`keys`) and
        return the holders' record ([holders, HOLDER_VARIABLES]); the vendors' and
        chipmakers' records are :attr:`vendor_record` and :attr:`chipmaker_record`."""
        v = self._shared(week)
        for collector in self._collectors:
            collector(v)
        return self.holder_record

    def _shared(self, week: int) -> Week:
        acc, pr = self.accounts, self.world.products
        books = self._books  # each vendor's (revenue, cogs, sales, inventory over products)
        self.vendor_record = (
            vendor_record_kernel(
                books.revenue_usd,
                books.cogs_usd,
                books.sales_usd,
                self.production.inventory,
                self._vendor_offsets,
                self._vendor_products,
            )
            if books is not None
            else np.zeros((0, 4))
        )
        n = self._nodes  # each chipmaker's (capacity, used, expansion, utilisation)
        self.chipmaker_record = (
            node_record_kernel(n.capacity, n.used, n.expansion, n.reserved_share)
            if n is not None
            else np.zeros((0, 4))
        )
        h100e_delivered = acc.deliveries_product * pr.h100e
        installed = self.installed_h100e()
        # an aggregate holder (many small firms) is not one firm: it counts in totals only
        firms = installed.copy()
        firms[self.aggregate_index] = 0.0
        pop = self.startups.summary(firms, 4)
        return Week(
            week=week,
            backlog=self.backlog_units(),
            h100e_delivered=h100e_delivered,
            total_units=float(np.add.reduce(acc.deliveries_product)),
            total_h100e=float(np.add.reduce(h100e_delivered)),
            installed=installed,
            firms=firms,
            population=pop,
            all_installed=float(np.add.reduce(installed)) + pop[4],
        )

    # ------------------------------------------------------------------ families
    def _products(self, v: Week) -> None:
        pr, acc, market, flows = self.world.products, self.accounts, self.market, self.flows
        tier = self.world.scenario.outcomes.standard_tier
        self.row[self.layout.products_at] = (
            market.quotes[:, tier],
            market.list_price,
            pr.unit_cost_usd,
            market.list_price / pr.unit_cost_usd,
            acc.deliveries_product,
            flows.new_orders,
            v.backlog,
            self.production.inventory,  # every product is a vendor's
            flows.arrivals,
            self.production.started,
        )

    def _vendors(self, v: Week) -> None:
        acc, product_vendor = self.accounts, self.world.products.vendor
        vendor_outcomes(
            product_vendor,
            acc.deliveries_product,
            v.h100e_delivered,
            v.backlog,
            self.vendor_record,
            self.row,
            self.layout.vendors_at,
        )

    def _market(self, v: Week) -> None:
        pr, acc, fleet = self.world.products, self.accounts, self.holdings.fleet
        incumbent = self.incumbent_index
        market_outcomes(
            v.total_units,
            v.total_h100e,
            float(np.add.reduce(fleet[:, incumbent] @ self.incumbent_h100e)),  # numpy's matmul
            float(np.add.reduce(fleet @ pr.h100e)),
            acc.startup_units,
            pr.h100e,
            incumbent,
            v.backlog,
            v.all_installed,
            self.row,
            self.layout.market_at,
            self.layout.incumbent_at,
        )

    def _firms(self, v: Week) -> None:
        acc, holders, layout = self.accounts, self.holders, self.layout
        record = np.empty((len(HOLDER_VARIABLES), len(holders)))  # [variables, holders]
        holder_outcomes(
            acc.deliveries_holder,
            acc.deliveries_holder_h100e,
            self.holdings.fleet,
            v.installed,
            v.all_installed,
            self._week_spend,
            self._expected_lead,
            self.open_orders()[0],
            acc.deliveries_firm_vendor,
            acc.deliveries_firm_vendor_h100e,
            layout.firm_vendor_cells,
            self.row,
            layout.holders_at,
            layout.firm_vendors_at,
            record,
        )
        self.holder_record = record.T  # [holders, variables]; agents_frame

    def _groups(self, v: Week) -> None:
        acc, layout = self.accounts, self.layout
        group_outcomes(
            acc.deliveries_holder,
            v.installed,
            self.world.buyers.aggregate,
            layout.group_members,
            layout.group_largest,
            layout.startup_group,
            float(acc.class_units[STARTUP_CLASS]),
            v.population[4],
            v.all_installed,
            self.row,
            layout.groups_at,
        )

    def _classes(self, v: Week) -> None:
        """Quantiles of whole weeks, weighted by units, all classes at once."""
        acc, book, layout, w = self.accounts, self.book, self.layout, self.world
        klass, waited, units = acc.waits
        ref = w.reference_product
        class_outcomes(
            book.klass,
            book.lead_weeks,
            book.qty,
            book.order_week,
            v.week,
            klass,
            waited,
            units,
            acc.class_units,
            acc.class_h100e,
            acc.class_paid,
            v.total_units,
            float(self.market.list_price[ref] / w.products.h100e[ref]),
            QUANTILES,
            self.row,
            layout.classes_quoted_at,
            layout.classes_realised_at,
            layout.classes_price_at,
            layout.classes_share_at,
        )

    def _concentration(self, v: Week) -> None:
        """Ownership (each firm and each startup, the kernel summed over the startups) and
        access (compute in use); alternative and in-house chips' deliveries."""
        row, at = self.row, self.layout.concentration_at
        st_squares, st_top, access = v.population[6:9]
        total = v.all_installed  # the firms' installed H100e and the startups' owned
        row[at[0]] = hhi_of_parts(v.firms, st_squares, total)  # numpy's dot
        row[at[1]] = gini(access, in_place=True)  # numpy's sort of the summary's array
        concentration_outcomes(
            v.firms,
            st_top,
            4,
            total,
            v.h100e_delivered,
            self.alt_index,
            self.in_house_index,
            v.total_h100e,
            row,
            at,
        )

    def _markets(self, v: Week) -> None:
        market, acc, w = self.market, self.accounts, self.world
        ref = w.reference_product
        reference = float(market.list_price[ref] / w.products.h100e[ref])
        self.row[self.layout.markets_at] = (
            float(market.spot_price),
            float(market.rental_price),
            100.0 * (market.spot_price / reference - 1.0),
            float(acc.gray_volume),
            float(acc.rental_volume),
        )

    def _nodes(self, v: Week) -> None:
        layout = self.layout
        node_outcomes(
            self.chipmaker_record,
            self.accounts.capacity_ordered,
            self.flows.node_output,
            layout.wafer_nodes,
            self.row,
            layout.nodes_at,
            layout.wafers_per_month_at,
            layout.node_vendors_at,
        )

    def _startups(self, v: Week) -> None:
        n_active, n_starved, n_exited, compute, owned, rented = v.population[:6]
        vendors = self.vendors
        piped = self.production.pipeline_total.tolist()  # each vendor's, over its products
        self.row[self.layout.startups_at] = (
            float(n_active),
            float(n_starved),
            float(n_exited),
            float(self.startups.entered_total),
            compute,
            owned,
            rented,
            float(sum([sum([piped[p] for p in d.products]) for d in vendors])),
            float(sum(self.vendor_record[:, 3].tolist())),  # each vendor's, in order
            float(len([h for h in self.program_holders if h.program_started is not None])),
        )
