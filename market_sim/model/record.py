"""Phase 7 of a week: the outcomes, one value per key of the metric catalogue.

The keys and what they mean are declared in :mod:`market_sim.outcomes.catalogue`; this
module computes them, one collector per family (``products``, ``vendors``, ``market``,
``firms``, ``groups``, ``classes``, ``markets``, ``nodes``, ``startups``), from the week
(:class:`Week`: totals several families share, computed once).

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

from market_sim.model.accounts import Accounts
from market_sim.model.book import OrderBook
from market_sim.model.record_parts import (
    FAMILIES,
    FAMILY_NEEDS,
    HOLDER_VARIABLES,
    PRODUCT_VARIABLES,
    VENDOR_VARIABLES,
    Week,
)
from market_sim.model.record_parts import pct_or_last as _pct
from market_sim.model.state import Holdings, Market, WeekFlows
from market_sim.model.world import World
from market_sim.outcomes.catalogue import Entities, metric_keys
from market_sim.outcomes.measures import QS, class_week_quantiles, gini, hhi_of_parts, top_share
from market_sim.scenario.schema import CLASS_IDS, STARTUP_CLASS


class Recorder:
    """The week's outcomes, keyed by the catalogue (:func:`metric_keys` of the scenario).

    Args: the world and the weekly state it reads (see :class:`GPUMarketModel`), and two
    of the model's cached views: ``installed_h100e()`` and ``open_orders()``;
    ``outputs``: the metric keys a run asks for (None: every key of the catalogue). With
    ``outputs``, :attr:`keys` are those (in catalogue order), and from the second week on
    only the collectors that make one of them run (and ``firms``, which makes the firms'
    record); each computes what it computes in a full run, so the values are the same.
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
        outputs: Sequence[str] | None = None,
    ):
        self.world, self.market, self.holdings, self.book = world, market, holdings, book
        self.accounts, self.flows = accounts, flows
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
        scenario = world.scenario
        every = metric_keys(scenario)
        self.catalogue_keys = every
        """Every key of the catalogue for this scenario (what a full run records)."""
        self.full = outputs is None
        if outputs is None:
            self.keys: list[str] = every
        else:
            unknown = sorted(set(outputs) - set(every))
            if unknown:
                raise ValueError(f"outputs not in the metric catalogue: {unknown}")
            wanted = set(outputs)
            self.keys = [k for k in every if k in wanted]
        self.families: tuple[str, ...] = FAMILIES
        """The collectors that run each week (all of them until the first week shows
        which make the keys asked for)."""
        ent = Entities.of(scenario)
        w = world
        self.product_keys = [[f"{v}@{p}" for p in w.products.ids] for v in PRODUCT_VARIABLES]
        self.vendor_keys = [[f"{v}@{vid}" for v in VENDOR_VARIABLES] for vid in w.vendor_ids]
        self.holder_keys = [[f"{v}@{h}" for h in w.holder_ids] for v in HOLDER_VARIABLES]
        self.product_flat_keys = [k for names in self.product_keys for k in names]
        self.holder_flat_keys = [k for names in self.holder_keys for k in names]
        self.product_vendor = [vendors[v] for v in w.products.vendor.tolist()]
        vendor_index = {v: i for i, v in enumerate(w.vendor_ids)}
        holder_index = {h: i for i, h in enumerate(w.holder_ids)}
        n_v = len(w.vendor_ids)
        self.firm_vendor_cells = np.array(
            [holder_index[f] * n_v + vendor_index[v] for f, v in ent.firm_vendors], dtype=np.int64
        )
        self.firm_vendor_keys = (
            [f"deliveries_units@{f}:{v}" for f, v in ent.firm_vendors],
            [f"deliveries_h100e@{f}:{v}" for f, v in ent.firm_vendors],
        )
        self.class_keys = [
            {
                "quoted": [f"lead_time_weeks_{q}@{c}" for q in ("median", "p90")],
                "realised": [f"realised_lead_time_weeks_{q}@{c}" for q in ("median", "p90")],
                "price": f"effective_price_usd_per_h100e@{c}",
                "share": f"delivery_share_pct@{c}",
            }
            for c in CLASS_IDS
        ]
        self.group_members = {g: idx.tolist() for g, idx in w.groups.items()}
        self.group_names = list(ent.groups)
        nodes = scenario.supply.nodes
        self.node_keys = [
            [f"capacity_per_week@{n.id}" for n in nodes],
            [f"utilisation_pct@{n.id}" for n in nodes],
            [f"output_{n.unit}@{n.id}" for n in nodes],
            [f"capacity_ordered@{n.id}" for n in nodes],
        ]
        self.wafer_nodes = np.array([n.unit == "wafers" for n in nodes], dtype=bool)
        self.wafers_per_month_keys = [
            f"capacity_wafers_per_month@{n.id}" for n in nodes if n.unit == "wafers"
        ]
        # node_output is [vendor, node]; its transpose, flattened, is node-major
        self.node_vendor_keys = [f"output_{n.unit}@{n.id}:{v}" for n in nodes for v in w.vendor_ids]
        ref = w.products.ids[w.reference_product]
        self.spot_key = f"spot_price_usd@{ref}"
        pr = w.products  # fixed per run: the incumbent's products and the in-house ones
        self.incumbent_products = pr.vendor == w.incumbent
        self.alt_products = ~self.incumbent_products
        self.in_house_products = pr.owner_holder >= 0
        self.incumbent_h100e = pr.h100e[self.incumbent_products]
        self.rental_key = f"rental_usd_per_gpu_hour@{ref}"

    # ------------------------------------------------------------------ the week
    def collect(self, week: int, prev: dict[str, float]) -> tuple[dict[str, float], np.ndarray]:
        """The week's outcomes (a dict with at least :attr:`keys`; the data collector
        reads and orders those) and the holders' record ([holders, HOLDER_VARIABLES])."""
        v = self._shared(week, prev)
        found: dict[str, float] = {}
        made: dict[str, list[str]] = {}
        record = np.zeros(0)
        track = not self.full and self.families is FAMILIES
        for family in self.families:
            before = len(found)
            out = getattr(self, f"_{family}")(v, found)
            if family == "firms":
                record = out
            if track:
                made[family] = list(found)[before:]
        if self.full:
            if len(found) != len(self.keys):  # a collector and the catalogue disagree
                extra = sorted(set(found) - set(self.keys))
                missing = sorted(set(self.keys) - set(found))
                raise RuntimeError(
                    f"outcomes not in the catalogue: {extra}; not computed: {missing}"
                )
        elif self.families is FAMILIES:  # the first week: keep what makes the keys asked for
            wanted = set(self.keys)
            need = {f for f, keys in made.items() if wanted.intersection(keys)} | {"firms"}
            need |= {d for f in need for d in FAMILY_NEEDS.get(f, ())}
            self.families = tuple(f for f in FAMILIES if f in need)
        return found, record

    def _shared(self, week: int, prev: dict[str, float]) -> Week:
        acc, pr, w = self.accounts, self.world.products, self.world
        h100e_delivered = acc.deliveries_product * pr.h100e
        installed = self.installed_h100e()
        # an aggregate holder (many small firms) is not one firm: it counts in totals only
        aggregate = w.buyers.aggregate
        firms = np.where(aggregate, 0.0, installed)
        pop = self.startups.summary(firms, 4)
        return Week(
            week=week,
            prev=prev,
            backlog=self.backlog_units(),
            h100e_delivered=h100e_delivered,
            total_units=float(acc.deliveries_product.sum()),
            total_h100e=float(h100e_delivered.sum()),
            installed=installed,
            firms=firms,
            firms_or_none=np.where(aggregate, -1.0, installed),
            population=pop,
            all_installed=float(installed.sum()) + pop[4],
            incumbent_products=self.incumbent_products,
        )

    # ------------------------------------------------------------------ families
    def _products(self, v: Week, out: dict[str, float]) -> None:
        pr, acc, market, flows = self.world.products, self.accounts, self.market, self.flows
        vendors = self.product_vendor
        inventory = np.array([vd.inventory[p] for p, vd in enumerate(vendors)])
        started = np.array([vd.started[p] for p, vd in enumerate(vendors)])
        tier = self.world.scenario.outcomes.standard_tier
        values = (
            market.quotes[:, tier].astype(float),
            market.list_price,
            pr.unit_cost_usd,
            market.list_price / pr.unit_cost_usd,
            acc.deliveries_product,
            flows.new_orders,
            v.backlog,
            inventory,
            flows.arrivals,
            started,
        )
        out.update(zip(self.product_flat_keys, np.concatenate(values).tolist(), strict=True))

    def _vendors(self, v: Week, out: dict[str, float]) -> None:
        pr, acc = self.world.products, self.accounts
        n_v = len(self.vendors)
        by_vendor = zip(  # products' sums by vendor, each in product order
            np.bincount(pr.vendor, weights=acc.deliveries_product, minlength=n_v).tolist(),
            np.bincount(pr.vendor, weights=v.h100e_delivered, minlength=n_v).tolist(),
            np.bincount(pr.vendor, weights=v.backlog, minlength=n_v).tolist(),
            strict=True,
        )
        prev = v.prev
        for vendor, keys, (units, h100e, waiting) in zip(
            self.vendors, self.vendor_keys, by_vendor, strict=True
        ):
            rev, cogs = vendor.revenue_usd, vendor.cogs_usd
            margin = 100.0 * (1.0 - cogs / rev) if rev > 0 else prev.get(keys[4], 0.0)
            asp = rev / units if units > 0 else prev.get(keys[6], 0.0)
            values = (units, h100e, rev / 1e9, cogs / 1e9, margin, waiting, asp)
            out.update(zip(keys, values, strict=True))

    def _market(self, v: Week, out: dict[str, float]) -> None:
        w, pr, acc, prev = self.world, self.world.products, self.accounts, v.prev
        inc = w.vendor_ids[w.incumbent] if w.incumbent >= 0 else None
        out["nvidia_dc_revenue_usd_bn"] = out.get(f"revenue_usd_bn@{inc}", 0.0)
        out["nvidia_cogs_usd_bn"] = out.get(f"cogs_usd_bn@{inc}", 0.0)
        out["nvidia_gross_margin_pct"] = out.get(f"gross_margin_pct@{inc}", 0.0)
        inc_units = out.get(f"deliveries_units@{inc}", 0.0)
        inc_h100e = out.get(f"deliveries_h100e@{inc}", 0.0)
        out["nvidia_unit_share_pct"] = _pct(inc_units, v.total_units, prev, "nvidia_unit_share_pct")
        out["nvidia_new_compute_share_pct"] = _pct(
            inc_h100e, v.total_h100e, prev, "nvidia_new_compute_share_pct"
        )
        fleet, inc_products = self.holdings.fleet, v.incumbent_products
        inc_h100e_per_unit = self.incumbent_h100e
        inc_bought = float((fleet[:, inc_products] @ inc_h100e_per_unit).sum()) + float(
            (acc.startup_units[inc_products] * inc_h100e_per_unit).sum()
        )
        all_bought = float((fleet @ pr.h100e).sum()) + float((acc.startup_units * pr.h100e).sum())
        share = 100.0 * inc_bought / all_bought if all_bought else 0.0
        out["nvidia_installed_share_pct"] = share
        out["incumbent_deliveries_units"] = inc_units
        out["incumbent_deliveries_h100e"] = inc_h100e
        out["deliveries_units"] = v.total_units
        out["deliveries_h100e"] = v.total_h100e
        out["backlog_units"] = float(v.backlog.sum())
        out["installed_h100e"] = v.all_installed
        out["alt_chip_installed_share_pct"] = 100.0 - share if all_bought else 0.0

    def _firms(self, v: Week, out: dict[str, float]) -> np.ndarray:
        acc, holders = self.accounts, self.holders
        values = (
            acc.deliveries_holder,
            acc.deliveries_holder_h100e,
            self.holdings.fleet.sum(axis=1),
            v.installed,
            100.0 * v.installed / v.all_installed,
            np.array([h.week_spend_usd for h in holders]) / 1e9,
            np.array([h.expected_lead for h in holders]),
            self.open_orders()[0],
        )
        record = np.array(values)  # [variables, holders]
        out.update(zip(self.holder_flat_keys, record.ravel().tolist(), strict=True))
        cells = self.firm_vendor_cells
        units_keys, h100e_keys = self.firm_vendor_keys
        out.update(zip(units_keys, acc.deliveries_firm_vendor[cells].tolist(), strict=True))
        out.update(zip(h100e_keys, acc.deliveries_firm_vendor_h100e[cells].tolist(), strict=True))
        return record.T  # [holders, variables]; agents_frame

    def _groups(self, v: Week, out: dict[str, float]) -> None:
        acc = self.accounts
        delivered, installed = acc.deliveries_holder.tolist(), v.installed.tolist()
        largest = self.world.largest_groups
        startups = CLASS_IDS[STARTUP_CLASS]
        ranked = None  # firms by installed compute this week, largest first (made once)
        for g in self.group_names:
            if g == startups:
                units, inst = float(acc.class_units[STARTUP_CLASS]), v.population[4]
            else:
                if g in largest:  # the N largest firms by installed compute this week
                    if ranked is None:
                        ranked = np.argsort(v.firms_or_none, kind="stable")[::-1]
                    idx = ranked[: largest[g]].tolist()
                else:
                    idx = self.group_members[g]
                units = sum(delivered[i] for i in idx)
                inst = sum(installed[i] for i in idx)
            out[f"deliveries_units@{g}"] = units
            out[f"installed_h100e@{g}"] = inst
            total = v.all_installed
            out[f"compute_share_pct@{g}"] = 100.0 * inst / total if total else 0.0

    def _classes(self, v: Week, out: dict[str, float]) -> None:
        """Quantiles of whole weeks, weighted by units, all classes at once."""
        acc, book, prev = self.accounts, self.book, v.prev
        n = len(CLASS_IDS)
        klass, waited, units = acc.waits
        quoted_q = class_week_quantiles(book.klass, book.lead_weeks, book.qty, n)
        realised_q = class_week_quantiles(klass, waited.astype(np.int64), units, n)
        undelivered = ~np.isfinite(realised_q).all(axis=1)
        if undelivered.any():  # how long such a class's open orders have waited so far
            waiting_q = class_week_quantiles(book.klass, v.week - book.order_week, book.qty, n)
            realised_q[undelivered] = waiting_q[undelivered]
        class_h100e, class_paid = acc.class_h100e.tolist(), acc.class_paid.tolist()
        class_units = acc.class_units.tolist()
        ref = self.world.reference_product
        for c, keys in enumerate(self.class_keys):
            quoted, realised = quoted_q[c].tolist(), realised_q[c].tolist()
            for j in range(len(QS)):  # NaN (no orders, no deliveries) fails the comparison
                out[keys["quoted"][j]] = quoted[j] if quoted[j] >= 0 else 0.0
                key = keys["realised"][j]
                out[key] = realised[j] if realised[j] >= 0 else prev.get(key, 0.0)
            key = keys["price"]
            h = class_h100e[c]
            reference = float(self.market.list_price[ref] / self.world.products.h100e[ref])
            out[key] = class_paid[c] / h if h > 0 else prev.get(key) or reference
            out[keys["share"]] = _pct(class_units[c], v.total_units, prev, keys["share"])

    def _concentration(self, v: Week, out: dict[str, float]) -> None:
        """Ownership (each firm and each startup, the kernel summed over the startups) and
        access (compute in use); alternative and in-house chips' deliveries."""
        prev = v.prev
        st_owned, st_squares, st_top, access = v.population[4], *v.population[6:9]
        total = float(v.installed.sum()) + st_owned
        out["hhi_compute"] = hhi_of_parts(v.firms, st_squares, total)
        out["gini_compute"] = gini(access)
        out["top4_share_pct"] = top_share(np.concatenate([v.firms, st_top]), 4, total)
        alt = float(v.h100e_delivered[self.alt_products].sum())
        in_house = float(v.h100e_delivered[self.in_house_products].sum())
        out["alt_chip_deliveries_h100e"] = alt
        out["in_house_deliveries_h100e"] = in_house
        out["alt_chip_share_pct"] = _pct(alt, v.total_h100e, prev, "alt_chip_share_pct")
        out["in_house_share_pct"] = _pct(in_house, v.total_h100e, prev, "in_house_share_pct")

    def _markets(self, v: Week, out: dict[str, float]) -> None:
        market, acc, w = self.market, self.accounts, self.world
        out[self.spot_key] = float(market.spot_price)
        out[self.rental_key] = float(market.rental_price)
        ref = w.reference_product
        reference = float(market.list_price[ref] / w.products.h100e[ref])
        out["spot_premium_pct"] = 100.0 * (market.spot_price / reference - 1.0)
        out["gray_volume_h100e"] = float(acc.gray_volume)
        out["rental_volume_h100e"] = float(acc.rental_volume)

    def _nodes(self, v: Week, out: dict[str, float]) -> None:
        chips = self.chipmakers
        capacity = np.array([c.capacity for c in chips])
        values = (
            capacity,
            np.array([100.0 * c.utilisation for c in chips]),
            np.array([c.used for c in chips]),
            self.accounts.capacity_ordered,
        )
        for names, column in zip(self.node_keys, values, strict=True):
            out.update(zip(names, column.tolist(), strict=True))
        per_month = (capacity[self.wafer_nodes] * 52.0 / 12.0).tolist()
        out.update(zip(self.wafers_per_month_keys, per_month, strict=True))
        by_vendor = self.flows.node_output.T.ravel().tolist()
        out.update(zip(self.node_vendor_keys, by_vendor, strict=True))

    def _startups(self, v: Week, out: dict[str, float]) -> None:
        n_active, n_starved, n_exited, compute, owned, rented = v.population[:6]
        out["startups_active"] = float(n_active)
        out["startups_starved"] = float(n_starved)
        out["startups_exited"] = float(n_exited)
        out["startups_entered"] = float(self.startups.entered_total)
        out["startups_compute_h100e"] = compute
        out["startups_owned_h100e"] = owned
        out["startups_rented_h100e"] = rented
        vendors = self.vendors
        out["units_in_pipeline"] = float(sum(sum(vd.pipeline_total.values()) for vd in vendors))
        out["units_inventory"] = float(sum(sum(vd.inventory.values()) for vd in vendors))
        out["in_house_programs_started"] = float(
            sum(1 for h in self.holders if getattr(h, "program_started", None) is not None)
        )
