"""The fleet buyers' weekly rules as numba kernels, one call for every buyer of the role.

:func:`fleet_decide_kernel` is :meth:`market_sim.agents.buyers.FleetBuyer.decide` (its
oracle, with its helpers ``_give_up`` and ``budget_left_usd``) and
:func:`fleet_gray_kernel` is :meth:`FleetBuyer.gray_orders`, for every fleet buyer at
once, with the same arithmetic in the same order: Python's ``min``/``max`` are written out
as the comparisons they make (``max(a, b)`` is ``b`` only when ``b > a``). Tests:
tests/test_fleet_kernel.py (each kernel against the agents' methods, bit for bit).

Units: H100e (compute), weeks (lead times), USD (budgets, prices per H100e).
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit

NOTHING, ORDER, CANCEL = 0, 1, 2
"""``fleet_decide_kernel``'s actions: no order; order ``amount`` H100e (before its split
over the buyer's product mix); cancel ``amount`` H100e of open orders."""

RULE_COLUMNS = (
    "lead_time_smoothing_weeks",
    "give_up_weeks",  # NaN: None
    "give_up_return_weeks",  # NaN: None
    "normal_lead_weeks",
    "phantom_cancel",
    "padding",
    "stock_adjust_weeks",
    "supply_line_weight",
)
"""The columns of ``fleet_decide_kernel``'s ``rules`` (one row per buyer), from its
``ordering`` rule (:class:`market_sim.scenario.schema.OrderingPolicy`)."""

GRAY_COLUMNS = ("max_price_per_h100e_usd", "gray_market_share", "gray_ask_min_h100e")
"""The columns of ``fleet_gray_kernel``'s ``spec`` (one row per buyer), from its spec."""


@njit(cache=True)
def fleet_decide_kernel(
    week: int,
    index: np.ndarray,
    desired: np.ndarray,
    quote: np.ndarray,
    can_order: np.ndarray,
    installed: np.ndarray,
    open_h100e: np.ndarray,
    open_usd: np.ndarray,
    usd_per_h100e: np.ndarray,
    budget: np.ndarray,
    paid: np.ndarray,
    rules: np.ndarray,
    expected_lead: np.ndarray,
    given_up: np.ndarray,
    amount: np.ndarray,
    action: np.ndarray,
) -> None:
    """Every fleet buyer's decision this week (``FleetBuyer.decide``); buyer j is holder
    ``index[j]``. Per holder (indexed by holder): ``desired`` [holders, weeks + 1] H100e;
    the week's choices (``quote`` weeks, ``can_order``, ``usd_per_h100e`` USD); installed
    compute and open orders (H100e, and ``open_usd`` USD at list prices). Per buyer:
    ``budget`` (this year's accelerator budget, USD; inf without a plan), ``paid`` (USD
    charged to it so far this year), ``rules`` (``RULE_COLUMNS``). Updates
    ``expected_lead`` and ``given_up`` (weeks, H100e; indexed by holder) and writes
    ``action[j]`` and ``amount[j]`` (H100e; see ``ORDER``)."""
    for j in range(index.shape[0]):
        h = index[j]
        smoothing = rules[j, 0]
        give_up_weeks = rules[j, 1]
        return_weeks = rules[j, 2]
        normal = rules[j, 3]
        phantom_cancel = rules[j, 4]
        padding = rules[j, 5]
        adjust = rules[j, 6]
        weight = rules[j, 7]
        lines = can_order[h]
        lead = expected_lead[h]
        q = quote[h] if lines else lead
        shortening = q < lead
        lead += (q - lead) / smoothing
        expected_lead[h] = lead
        now = desired[h, week]
        ahead = desired[h, week + 1]
        step = ahead - now
        need = step if step > 0.0 else 0.0  # max(0.0, ahead - now)
        gap = (now - given_up[h]) - installed[h]
        if not np.isnan(give_up_weeks):  # FleetBuyer._give_up
            if not np.isnan(return_weeks) and lead <= normal:
                given_up[h] -= given_up[h] / return_weeks
            elif gap > 0:
                given_up[h] += gap / give_up_weeks
        supply_line = open_h100e[h]
        if phantom_cancel > 0 and shortening:
            behind = 0.0 if 0.0 > gap else gap  # max(gap, 0.0)
            phantom = supply_line - need * q - behind
            if phantom > 0:
                action[j] = CANCEL
                amount[j] = phantom_cancel * phantom
                continue
        desired_line = need * lead
        if padding > 0:
            x = (lead - normal) / normal
            x = x if x > 0.0 else 0.0  # max(0.0, x)
            excess = x if x < 1.0 else 1.0  # min(1.0, x)
            desired_line *= 1.0 + padding * excess
        indicated = need + gap / adjust + weight * (desired_line - supply_line) / adjust
        if indicated < 0:
            action[j] = CANCEL
            amount[j] = -indicated
            continue
        if not lines:
            action[j] = NOTHING
            amount[j] = 0.0
            continue
        usd = usd_per_h100e[h]
        left = np.inf  # budget_left_usd: inf without a plan
        if np.isfinite(budget[j]):
            left = budget[j] - paid[j] - open_usd[h]
            left = left if left > 0.0 else 0.0  # max(0.0, ...)
        if usd > 0 and np.isfinite(left):
            capped = left / usd
            if capped < indicated:  # min(indicated, left / usd)
                indicated = capped
        action[j] = ORDER
        amount[j] = indicated


@njit(cache=True)
def fleet_gray_kernel(
    week: int,
    index: np.ndarray,
    desired: np.ndarray,
    given_up: np.ndarray,
    installed: np.ndarray,
    expected_lead: np.ndarray,
    spec: np.ndarray,
    reference_usd: float,
    rental_usd_per_hour: float,
    hours_per_week: float,
    wait_value_share: float,
    resale_haircut: float,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Every fleet buyer's gray-market bid and ask (``FleetBuyer.gray_orders``): those
    with a quantity, in buyer order, as ``(values, holders, bids, asks)``: the first
    ``bids`` entries of ``values[0]``, ``values[1]`` and ``holders[0]`` are the bids'
    price (USD/H100e), H100e and holder, the first ``asks`` of ``values[2]``,
    ``values[3]`` and ``holders[1]`` the asks' (two arrays to hand over instead of six:
    numba takes ~1 us an array). Buyer j is holder ``index[j]``; ``desired``,
    ``given_up``, ``installed`` and ``expected_lead`` are indexed by holder, ``spec``
    (``GRAY_COLUMNS``) by buyer; ``reference_usd`` is the reference product's list price
    per H100e, ``rental_usd_per_hour`` the rental price per H100e-hour."""
    m = index.shape[0]
    values = np.empty((4, m))
    holders = np.empty((2, m), dtype=np.int64)
    bid_price, bid_qty, ask_price, ask_qty = values[0], values[1], values[2], values[3]
    bid_holder, ask_holder = holders[0], holders[1]
    nb = 0
    na = 0
    for j in range(m):
        h = index[j]
        gap = (desired[h, week] - given_up[h]) - installed[h]  # wanted(week) - installed
        if gap > 0:  # _gray_bid
            wait = rental_usd_per_hour * hours_per_week * expected_lead[h]
            value = reference_usd + wait * wait_value_share
            cap = spec[j, 0]
            price = value if value < cap else cap  # min(cap, value)
            qty = gap * spec[j, 1]
            if qty > 0:
                bid_price[nb] = price
                bid_qty[nb] = qty
                bid_holder[nb] = h
                nb += 1
        surplus = -gap  # _gray_ask
        if surplus > spec[j, 2] and surplus > 0:
            ask_price[na] = reference_usd / (1.0 - resale_haircut)
            ask_qty[na] = surplus
            ask_holder[na] = h
            na += 1
    return values, holders, nb, na


@njit(cache=True)
def rental_asks_kernel(
    offers: np.ndarray,
    share: np.ndarray,
    utilisation: np.ndarray,
    installed: np.ndarray,
    paid_usd_total: np.ndarray,
    received_h100e_total: np.ndarray,
    reference_usd: float,
    service_hours: float,
    opex_usd_per_hour: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every holder's rental ask (``Holder.rental_ask``): those with a quantity, in
    holder order, as ``(values, holders, k)``: the first ``k`` entries of ``values[0]``
    (price, USD per H100e-hour: the cost of owning, ``own_cost_per_hour``),
    ``values[1]`` (H100e: ``share`` x ``installed``) and ``holders``. A holder offers
    when ``offers``; its price per H100e paid so far is ``paid_usd_total /
    received_h100e_total`` (``reference_usd`` before any purchase), spread over
    ``service_hours`` at its ``utilisation``, plus ``opex_usd_per_hour``."""
    n = offers.shape[0]
    values = np.empty((2, n))
    holders = np.empty(n, dtype=np.int64)
    k = 0
    for h in range(n):
        if not offers[h]:
            continue
        qty = share[h] * installed[h]
        if not qty > 0:
            continue
        received = received_h100e_total[h]
        paid = paid_usd_total[h] / received if received > 0 else reference_usd
        capital = paid / service_hours
        values[0, k] = capital / utilisation[h] + opex_usd_per_hour
        values[1, k] = qty
        holders[k] = h
        k += 1
    return values, holders, k
