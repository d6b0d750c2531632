"""The supply side of a week: events, capacities, production, prices and quotes.

Functions here are steps of :meth:`GPUMarketModel.step`; they read and write the model's
state and call its agents. Units: product units, node units (wafers or stacks), weeks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from market_sim.agents.chipmaker import split_capacities
from market_sim.market import POLICIES, quote_markets
from market_sim.model.world import allowed_matrix
from market_sim.supply import restrict_products

if TYPE_CHECKING:
    from market_sim.model import GPUMarketModel

START_RATE_SMOOTHING = 0.25
"""Weight of the latest week in a vendor's start rate (the capacity quoted beyond the
pipeline)."""


def policy_codes(model: GPUMarketModel) -> np.ndarray:
    """Allocation policy code of each product's market (its vendor's, else the default);
    fixed for a run, computed once."""
    codes = getattr(model, "_policy_codes", None)
    if codes is None:
        default = model.scenario.policy.allocation
        specs = model.world.vendor_specs
        codes = np.array(
            [POLICIES[specs[v].allocation or default] for v in model.world.products.vendor],
            dtype=np.int64,
        )
        model._policy_codes = codes
    return codes


def backlog_units(model: GPUMarketModel) -> np.ndarray:
    """Open order quantity per product, units."""
    book = model.book
    return np.bincount(book.product, weights=book.qty, minlength=len(model.world.products))


def reachable_capacity(model: GPUMarketModel, week: int) -> np.ndarray:
    """[vendors, nodes]: capacity each vendor can get (its share + the uncontracted rest)."""
    cap = np.array([c.capacity for c in model.chipmakers])
    return cap[None, :] * model.world.reachable_share[week]


# --------------------------------------------------------------------------- 1-3


def apply_events(model: GPUMarketModel, week: int) -> None:
    """Export controls, product launches and in-house program starts due this week."""
    w = model.world
    for region, products in model.events.export_controls.get(week, []):
        model.graph = restrict_products(model.graph, region, [w.products.ids[p] for p in products])
        now = allowed_matrix(model.graph, w)
        model._choice_version += 1
        lost = model.allowed & ~now  # firms that just lost a product
        model.allowed = now
        holders, lost_products = np.nonzero(lost)
        mask = np.zeros(len(model.book), dtype=bool)
        for h, p in zip(holders, lost_products, strict=True):
            mask |= (model.book.holder == h) & (model.book.product == p)
        model.accounts.cancelled_units += model.book.cancel_where(mask)
    for v, start in model.events.program_start.items():
        vendor = model.vendors[v]
        if start == week and not vendor.active:
            owner = next((h for h in model.holders if h.firm_id == vendor.owner), None)
            trig = getattr(owner.spec, "in_house", None) if owner is not None else None
            lag = trig.dev_lag_weeks if trig is not None and trig.vendor == vendor.vendor_id else 0
            model.start_program(vendor, week, lag)
            if owner is not None and hasattr(owner, "program_started"):
                owner.program_started = week


def open_week(model: GPUMarketModel, week: int) -> None:
    """Set capacities and which products can be ordered; open the vendors' books."""
    for chip in model.chipmakers:
        chip.open_week(week, float(model.events.node_factor[week, chip.index]))
    model.orderable = orderable(model, week)
    model._choice_version += 1
    for vendor in model.vendors:
        vendor.open_books()
    for h in model.holders:
        h.week_spend_usd = 0.0


def orderable(model: GPUMarketModel, week: int) -> np.ndarray:
    """Products a buyer can order this week: in production or about to be."""
    pr = model.world.products
    active = np.array([model.vendors[v].active for v in pr.vendor])
    return (
        active
        & (model.launch_week - pr.cycle_weeks <= week)
        & (week <= pr.end_week - pr.cycle_weeks)
    )


def produce(model: GPUMarketModel, week: int) -> None:
    """Vendors plan, chipmakers allocate inputs, vendors start; finished units arrive."""
    arrivals = np.zeros(len(model.world.products))
    for vendor in model.vendors:
        for p, units in vendor.receive().items():
            arrivals[p] = units
    model.arrivals = arrivals
    backlog = backlog_units(model)
    reach = reachable_capacity(model, week)
    requests = np.array([v.plan(week, backlog, reach[v.index]) for v in model.vendors])
    shares = model.world.vendor_shares[week]
    reserved = model.world.reserved_share[week]
    capacity = np.array([c.capacity for c in model.chipmakers])
    grants = split_capacities(capacity, requests, shares, reserved)
    asked, got = requests.sum(axis=0).tolist(), grants.sum(axis=0).tolist()
    for j, chip in enumerate(model.chipmakers):
        chip.record_allocation(asked[j], got[j], float(reserved[j]))
    used = np.array([v.start(week, grants[v.index]) for v in model.vendors])
    for j, chip in enumerate(model.chipmakers):
        chip.used = float(used[:, j].sum())
    model.node_output = used  # [vendors, nodes] node units used this week
    for vendor in model.vendors:
        for p in vendor.products:
            vendor.start_rate[p] += START_RATE_SMOOTHING * (
                vendor.started[p] - vendor.start_rate[p]
            )


# --------------------------------------------------------------------------- 6


def cancel_undeliverable(model: GPUMarketModel, week: int) -> None:
    """Cancel orders that will not be filled: those whose limit price the list price has
    overtaken (the buyer will not pay it; it may order again at the new price), and, for
    a product whose last start is past, what its pipeline and inventory cannot fill
    (youngest orders first); the buyers then order something else."""
    pr = model.world.products
    book = model.book
    priced_out = book.limit_price < model.list_price[book.product]
    if priced_out.any():
        model.accounts.cancelled_units += book.cancel_where(priced_out)
    for vendor in model.vendors:
        for p in vendor.products:
            if week + int(pr.cycle_weeks[p]) <= pr.end_week[p] and vendor.active:
                continue
            idx = np.flatnonzero(book.product == p)
            excess = float(book.qty[idx].sum()) - float(vendor.pipeline[p].sum())
            excess -= vendor.inventory[p]
            if excess > 1e-9:
                model.accounts.cancelled_units += book.cancel(idx, excess)


def close_week(model: GPUMarketModel, week: int) -> None:
    """Cancellations of what cannot be made, forecasts and list prices, quotes for new
    orders, investment, make-or-buy."""
    cancel_undeliverable(model, week)
    backlog = backlog_units(model)
    pricing = model.scenario.policy.pricing
    for vendor in model.vendors:
        vendor.update_forecast(model.new_orders)
        vendor.reprice(week, backlog, model.list_price, pricing)
    model._price_version += 1
    model.quotes = new_order_quotes(model)
    model._choice_version += 1
    for chip in model.chipmakers:
        model.accounts.capacity_ordered[chip.index] += chip.invest(week)
    for h in model.holders:
        if hasattr(h, "consider_in_house"):
            h.consider_in_house(week)


def new_order_quotes(model: GPUMarketModel) -> np.ndarray:
    """[products, tiers]: quoted lead time (weeks) of a new one-unit order at each tier.

    A new order queues behind every eligible open order that the product's policy serves
    first: under ``priority`` those of its tier and above, otherwise all of them. The
    pipeline counts this week's unsold inventory as arriving next week, and beyond the
    pipeline the vendor's recent start rate.
    """
    book = model.book
    pr = model.world.products
    codes = policy_codes(model)
    max_weeks = model.scenario.policy.max_lead_weeks
    n_tiers = model.quotes.shape[1]
    eligible = book.limit_price >= model.list_price[book.product]
    # remaining qty per (product, tier), then "tier k and above" by a reverse cumsum
    cells = np.bincount(
        book.product[eligible] * n_tiers + np.minimum(book.priority[eligible], n_tiers - 1),
        weights=book.qty[eligible],
        minlength=len(pr) * n_tiers,
    ).reshape(len(pr), n_tiers)
    at_or_above = np.cumsum(cells[:, ::-1], axis=1)[:, ::-1]
    total = cells.sum(axis=1)
    ahead = np.where((codes == POLICIES["priority"])[:, None], at_or_above, total[:, None])
    vendors = [model.vendors[v] for v in pr.vendor.tolist()]
    inventory = np.array([v.inventory[p] for p, v in enumerate(vendors)])
    rate = np.maximum([v.start_rate[p] for p, v in enumerate(vendors)], 0.0)
    offsets = model.pipeline_offsets
    pipe = model.pipelines.copy()
    has = offsets[1:] > offsets[:-1]  # a product with a pipeline
    pipe[offsets[:-1][has]] += inventory[has]  # unsold units are available next week
    return quote_markets(ahead, offsets, pipe, rate, max_weeks)


def initial_start_rates(model: GPUMarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Start rates (units/week) of production in flight at the start, per product.

    Returns ``(near, far)``: the rate of the units arriving next week and of those
    arriving a whole cycle from now. ``near`` is the week-0 demand (buyers' target growth
    split by their product choice), scaled down to what the vendor's reachable capacity
    allows; ``far`` equals it, or with ``policy.initial_pipeline = "capacity_ramp"`` the
    capacity-feasible rate for the same product mix. The pipeline ramps linearly between.
    """
    pr = model.world.products
    for chip in model.chipmakers:
        chip.open_week(0, float(model.events.node_factor[0, chip.index]))
    model.orderable = orderable(model, 0)
    model._choice_version += 1
    demand = np.zeros(len(pr))
    for h in model.holders:
        if not hasattr(h, "desired"):
            continue
        shares = h.choose(0)
        need = max(0.0, h.desired[1] - h.desired[0])
        demand += need * shares / pr.h100e
    near, far = np.zeros(len(pr)), np.zeros(len(pr))
    reach = reachable_capacity(model, 0)
    ramp = model.scenario.policy.initial_pipeline == "capacity_ramp"
    for vendor in model.vendors:
        usage = np.zeros(len(model.chipmakers))
        for p in vendor.products:
            for _name, per_unit, nodes in pr.stages[p]:
                split = reach[vendor.index, nodes]
                w = split / split.sum() if split.sum() > 0 else np.full(len(nodes), 1 / len(nodes))
                usage[nodes] += demand[p] * per_unit * w
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(usage > 0, reach[vendor.index] / usage, np.inf)
        room = float(ratio.min()) if len(ratio) and np.isfinite(ratio.min()) else 1.0
        for p in vendor.products:
            near[p] = demand[p] * min(1.0, room)
            far[p] = demand[p] * room if ramp else near[p]
    return near, far
