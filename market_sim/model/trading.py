"""The demand side of a week: orders, one call that clears every market, settlement.

Markets (all cleared by :func:`market_sim.market.clear_markets` in one call):

- primary: one market per product; the vendor's inventory is allocated over the open
  orders by its policy; buyers pay the list price (the clearing price under ``auction``)
  on delivery;
- gray (double auction 0): holders ahead of their fleet plan sell H100e to buyers behind
  it; its price is ``spot_price_usd@H100`` (USD per H100e);
- rental (double auction 1): GPU-weeks from neoclouds and hyperscalers' spare capacity to
  startups; its price is ``rental_usd_per_gpu_hour@H100`` (USD per H100e-hour).

A double auction with no trade carries its last price forward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from market_sim.agents.startup_kernels import compact_bids
from market_sim.market import clear_markets
from market_sim.model.book import STARTUP_HOLDER, Batch
from market_sim.model.production import policy_codes
from market_sim.model.world import STARTUP_CLASS

if TYPE_CHECKING:
    from market_sim.model import GPUMarketModel

GRAY, RENTAL = 0, 1


# --------------------------------------------------------------------------- 4. orders


def place_orders(model: GPUMarketModel, week: int) -> None:
    """Collect this week's orders from every buyer and the startups into the book."""
    rows: list[tuple] = []
    for h in model.holders:
        for p, units, limit in h.decide(week):
            rows.append((p, h.holder, h.klass, units, limit, h.spec.priority_tier))
    firms = np.array(rows, dtype=np.float64).reshape(len(rows), 6)
    st_product, st_index, st_qty, st_limit = _startup_orders(model, week)
    n_s = len(st_index)
    batch = Batch(
        product=np.concatenate([firms[:, 0].astype(np.int64), st_product]),
        holder=np.concatenate([firms[:, 1].astype(np.int64), np.full(n_s, STARTUP_HOLDER)]),
        startup=np.concatenate([np.full(len(rows), -1), st_index]),
        klass=np.concatenate([firms[:, 2].astype(np.int64), np.full(n_s, STARTUP_CLASS)]),
        qty=np.concatenate([firms[:, 3], st_qty]),
        limit_price=np.concatenate([firms[:, 4], st_limit]),
        priority=np.concatenate(
            [firms[:, 5].astype(np.int64), np.full(n_s, model.scenario.startups.priority_tier)]
        ),
        order_week=np.full(len(rows) + n_s, week, dtype=np.int64),
    )
    if len(batch.qty):
        model.book.add(batch)
    model.new_orders = np.bincount(
        batch.product, weights=batch.qty, minlength=len(model.world.products)
    )


def _startup_product(model: GPUMarketModel) -> int:
    """The product direct-buying startups order this week (best choice score), or -1."""
    pr = model.world.products
    ok = model.orderable & (pr.owner_holder < 0) & (pr.demand_weight > 0)
    if not ok.any():
        return -1
    spec = model.scenario.startups
    price = model.list_price / pr.h100e
    quotes = model.quotes[:, min(spec.priority_tier, model.quotes.shape[1] - 1)]
    score = pr.demand_weight * np.exp(
        -spec.price_elasticity * np.log(price) - spec.lead_time_sensitivity * quotes
    )
    score = np.where(ok, score, -1.0)
    return int(np.argmax(score))


def _startup_orders(model: GPUMarketModel, week: int) -> tuple[np.ndarray, ...]:
    """Startups' rental bids (kept in ``model.rental_bids``) and direct orders:
    ``(product, startup index, units, limit USD per unit)`` arrays, one row per order.

    A startup bids for rent in two tranches (``startups_demand``); the bids with a
    quantity (inactive startups and met needs bid nothing) go to the rental auction as
    ``(price, H100e, startup index)``."""
    pop = model.startups
    spec = model.scenario.startups
    p = _startup_product(model)
    pr = model.world.products
    price = float(model.list_price[p] / pr.h100e[p]) if p >= 0 else 0.0
    mult = float(model.events.startup_demand[week])
    # what each startup has on order, from the book (cancellations included)
    book = model.book
    mine = book.holder == STARTUP_HOLDER
    pop.on_order[:] = np.bincount(
        book.startup[mine], weights=book.qty[mine] * pr.h100e[book.product[mine]], minlength=pop.n
    )[: pop.n]
    bid_price, bid_qty, buy = pop.demand(mult, price)
    model.rental_bids = compact_bids(bid_price, bid_qty, pop.n)
    if p < 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    hours = model.scenario.economics.hours_per_week
    idx = np.flatnonzero(buy > 0)
    limit = pop.value[idx] * hours * spec.willingness_weeks * pr.h100e[p]  # USD per unit
    ok = limit >= model.list_price[p]  # else the list price is more than it would pay
    idx, limit = idx[ok], limit[ok]
    pop.on_order[idx] += buy[idx]
    return np.full(len(idx), p, dtype=np.int64), idx, buy[idx] / pr.h100e[p], limit


# --------------------------------------------------------------------------- 5. markets


def clear_and_settle(model: GPUMarketModel, week: int) -> None:
    """Clear all markets of the week in one kernel call, then settle every trade."""
    book = model.book
    pr = model.world.products
    n_p = len(pr)
    perm, offsets = book.by_market(n_p)
    supply, rate = np.zeros(n_p), np.zeros(n_p)
    for v in model.vendors:
        for p in v.products:
            supply[p] = v.inventory[p]
            rate[p] = v.start_rate[p]
    gray_bids, gray_asks = _gray_orders(model, week)
    rent_bids, rent_asks = _rental_orders(model, week)
    bid_price = np.concatenate([gray_bids[0], rent_bids[0]])
    bid_qty = np.concatenate([gray_bids[1], rent_bids[1]])
    ask_price = np.concatenate([gray_asks[0], rent_asks[0]])
    ask_qty = np.concatenate([gray_asks[1], rent_asks[1]])
    bid_off = np.array([0, len(gray_bids[0]), len(bid_price)], dtype=np.int64)
    ask_off = np.array([0, len(gray_asks[0]), len(ask_price)], dtype=np.int64)
    res = clear_markets(
        order_offsets=offsets,
        supply=supply,
        list_price=model.list_price,
        policy_code=policy_codes(model),
        qty=book.qty[perm],
        limit_price=book.limit_price[perm],
        priority=book.priority[perm],
        order_week=book.order_week[perm],
        pipeline_offsets=model.pipeline_offsets,
        pipeline=model.pipelines,
        capacity_per_week=rate,
        max_weeks=model.scenario.policy.max_lead_weeks,
        bid_offsets=bid_off,
        bid_price=bid_price,
        bid_qty=bid_qty,
        ask_offsets=ask_off,
        ask_price=ask_price,
        ask_qty=ask_qty,
    )
    fills = np.empty(len(book))
    fills[perm] = res.fills
    book.lead_weeks[perm] = res.lead_weeks
    book.touch()
    model.market_price = res.price.copy()
    acc = model.accounts
    acc.open_week()
    _settle_primary(model, week, fills, res.price)
    nb = len(gray_bids[0])
    na = len(gray_asks[0])
    _settle_gray(
        model,
        week,
        res.da_price[GRAY],
        res.bid_fills[:nb],
        res.ask_fills[:na],
        gray_bids[2],
        gray_asks[2],
    )
    bid_fills = _settle_rental(
        model, week, res.da_price[RENTAL], res.bid_fills[nb:], res.ask_fills[na:], rent_asks[2]
    )
    n_s = model.startups.n
    rented = np.bincount(rent_bids[2], weights=bid_fills, minlength=n_s)  # both tranches
    exited = model.startups.settle(
        week,
        rented,
        acc.startup_delivered_h100e,
        acc.startup_paid_usd,
        model.rental_price,
        float(model.events.startup_demand[week]),
        model.scenario.economics.opex_usd_per_gpu_hour,
    )
    if len(exited):
        mask = (book.holder == STARTUP_HOLDER) & np.isin(book.startup, exited)
        acc.cancelled_units += book.cancel_where(mask)
    book.compact()
    entries = model.rng.poisson(
        model.scenario.startups.entry_per_week * float(model.events.startup_demand[week])
    )
    model.startups.enter(int(entries), week + 1)


def _settle_primary(model, week, fills, price) -> None:
    book, acc, pr = model.book, model.accounts, model.world.products
    filled = np.flatnonzero(fills > 0)
    prod = book.product[filled]
    f = fills[filled]
    paid = f * price[prod]
    h100e = f * pr.h100e[prod]
    holder = book.holder[filled]
    klass = book.klass[filled]
    waited = (week - book.order_week[filled]).astype(float)
    book.qty[filled] -= f
    np.maximum(book.qty, 0.0, out=book.qty)
    book.touch()
    firm = holder >= 0
    np.add.at(model.fleet, (holder[firm], prod[firm]), f[firm])
    model.fleets_changed()
    n_h = len(model.holders)
    usd_by = np.bincount(holder[firm], weights=paid[firm], minlength=n_h)
    h100e_by = np.bincount(holder[firm], weights=h100e[firm], minlength=n_h)
    for h in np.flatnonzero(h100e_by > 0):
        model.holders[h].pay(week, float(usd_by[h]), float(h100e_by[h]))
    st = ~firm
    np.add.at(acc.startup_units, prod[st], f[st])
    n_s = model.startups.n
    acc.startup_delivered_h100e = np.bincount(
        book.startup[filled][st], weights=h100e[st], minlength=n_s
    )[:n_s]
    acc.startup_paid_usd = np.bincount(book.startup[filled][st], weights=paid[st], minlength=n_s)[
        :n_s
    ]
    n_p = len(pr)
    units_by = np.bincount(prod, weights=f, minlength=n_p)
    paid_by = np.bincount(prod, weights=paid, minlength=n_p)
    for p in np.flatnonzero(units_by > 0):
        v = model.vendors[pr.vendor[p]]
        v.inventory[p] = max(0.0, v.inventory[p] - float(units_by[p]))
        v.book_sales(int(p), float(units_by[p]), float(paid_by[p]))
    acc.record_primary(prod, holder, klass, f, paid, h100e, waited)


def _gray_orders(model, week):
    """Gray-market bids and asks of fleet buyers: (price, qty, holder) triples."""
    bids, asks = ([], [], []), ([], [], [])
    for h in model.fleet_buyers():
        price, qty = h.gray_bid(week)
        if qty > 0:
            bids[0].append(price), bids[1].append(qty), bids[2].append(h.holder)
        price, qty = h.gray_ask(week)
        if qty > 0:
            asks[0].append(price), asks[1].append(qty), asks[2].append(h.holder)

    def arr(t):
        return (
            np.array(t[0], dtype=float),
            np.array(t[1], dtype=float),
            np.array(t[2], dtype=np.int64),
        )

    return arr(bids), arr(asks)


def _rental_orders(model, week):
    """Rental bids (price, H100e, startup) of startups and asks (price, H100e, holder)."""
    bids = model.rental_bids
    ask = ([], [], [])
    for h in model.holders:
        price, qty = h.rental_ask(week)
        if qty > 0:
            ask[0].append(price), ask[1].append(qty), ask[2].append(h.holder)
    asks = (
        np.array(ask[0], dtype=float),
        np.array(ask[1], dtype=float),
        np.array(ask[2], dtype=np.int64),
    )
    return bids, asks


def _settle_gray(model, week, price, bid_fills, ask_fills, buyers, sellers) -> None:
    """Move sold H100e from sellers to buyers (as a pool of the sellers' mix); pay."""
    acc, pr = model.accounts, model.world.products
    volume = float(ask_fills.sum())
    if not np.isfinite(price) or volume <= 0:
        return
    model.spot_price = float(price)
    pool_units = np.zeros(len(pr))
    pool_legacy = 0.0
    for h, q in zip(sellers, ask_fills, strict=True):
        if q <= 0:
            continue
        units = model.fleet[h]
        fleet_h = float(units @ pr.h100e)
        from_units = min(q, fleet_h)
        share = from_units / fleet_h if fleet_h > 0 else 0.0
        moved = units * share
        model.fleet[h] -= moved
        pool_units += moved
        legacy = q - from_units
        model.legacy_h100e[h] -= legacy
        pool_legacy += legacy
        model.holders[h].gray_received_usd += float(q * price)
    paid = 0.0
    for h, q in zip(buyers, bid_fills, strict=True):
        if q <= 0:
            continue
        share = q / volume
        model.fleet[h] += pool_units * share
        model.legacy_h100e[h] += pool_legacy * share
        model.holders[h].pay(week, float(q * price), float(q))
        paid += float(q * price)
    model.fleets_changed()
    acc.record_gray(price, volume, paid)


def _settle_rental(model, week, price, bid_fills, ask_fills, lessors) -> np.ndarray:
    """Startups pay for rented H100e-weeks; lessors receive it. Returns rented per startup."""
    acc = model.accounts
    hours = model.scenario.economics.hours_per_week
    volume = float(ask_fills.sum())
    if np.isfinite(price) and volume > 0:
        model.rental_price = float(price)
        for h, q in zip(lessors, ask_fills, strict=True):
            if q > 0:
                model.holders[h].rental_received_usd += float(q * price * hours)
        acc.record_rental(price, volume, float(bid_fills.sum() * price * hours))
        return bid_fills
    acc.record_rental(model.rental_price, 0.0, 0.0)
    return np.zeros_like(bid_fills)
