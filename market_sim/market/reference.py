"""Plain-Python reference implementation of the market-clearing rules.

This module is the test oracle and the slow baseline of ``scripts/bench_kernels.py``.  It
is written for clarity, with lists and loops, and follows docs/market_clearing.md line by
line.  Sums are accumulated left to right with ``+=`` (never ``sum()``, whose algorithm
differs between Python versions) so that results are reproducible.

Units: quantities in units (GPUs or GPU-weeks), prices in USD per unit, times in weeks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from market_sim.market.kernels_common import ALLOC_RTOL, QUOTE_RTOL, ClearingResult
from market_sim.market.policies import AllocationPolicy, get_policy, policy_by_code

__all__ = ["allocate", "clear_markets", "double_auction", "queue_ahead", "quote_lead_times"]


# --------------------------------------------------------------------------- validation
def _floats(values, name: str) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def _ints(values) -> list[int]:
    return [int(v) for v in np.asarray(values, dtype=np.int64).ravel()]


def _check_quantities(values: list[float], name: str) -> None:
    for v in values:
        if not (math.isfinite(v) and v >= 0.0):
            raise ValueError(f"{name}: quantities must be finite and >= 0 (units), got {v}")


def _check_prices(values: list[float], name: str) -> None:
    for v in values:
        if not math.isfinite(v):
            raise ValueError(f"{name}: prices must be finite (USD), got {v}")


def _check_lengths(**arrays: Sequence) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have equal lengths, got {lengths}")


# --------------------------------------------------------------------------- rationing
def _service_groups(
    candidates: list[int],
    policy: AllocationPolicy,
    limit_price: list[float],
    priority: list[int],
    order_week: list[int],
) -> list[list[int]]:
    """Split ``candidates`` into tie groups, in the order the policy serves them: sorted
    by the policy's keys (a descending key negated), ties in index order."""
    if not policy.keys:
        return [list(candidates)] if candidates else []
    columns = {"priority": priority, "order_week": order_week, "limit_price": limit_price}

    def key(i):
        return tuple(-columns[f][i] if desc else columns[f][i] for f, desc in policy.keys)

    groups: list[list[int]] = []
    last = None
    for i in sorted(candidates, key=key):  # sorted() is stable: index order inside a tie
        k = key(i)
        if groups and k == last:
            groups[-1].append(i)
        else:
            groups.append([i])
            last = k
    return groups


def _ration(groups: list[list[int]], qty: list[float], supply: float, fills: list[float]):
    """Serve tie groups in order from ``supply`` units; write ``fills``.

    Returns the index of the first group that is not served in full (the marginal
    group), or None when every group is served in full.
    """
    slack = ALLOC_RTOL * supply
    exhausted_at = supply - slack  # supply counts as used up from here on
    covers_up_to = supply + slack  # demand up to here is served in full
    served = 0.0  # units demanded by the groups ahead
    marginal = None
    for g, group in enumerate(groups):
        demand = 0.0
        for i in group:
            demand += qty[i]
        before = served
        through = served + demand
        if before >= exhausted_at:
            share = 0.0
        elif through <= covers_up_to:
            share = 1.0
        else:
            share = (supply - before) / demand
        for i in group:
            fills[i] = qty[i] if share == 1.0 else qty[i] * share
        if share != 1.0 and marginal is None:
            marginal = g
        served = through
    return marginal


# --------------------------------------------------------------------------- allocate
def allocate(
    supply: float,
    qty,
    limit_price,
    priority,
    order_week,
    list_price: float,
    policy: str,
) -> tuple[np.ndarray, float]:
    """Reference of :func:`market_sim.market.allocate` (units, USD)."""
    rule = get_policy(policy)
    q = _floats(qty, "qty")
    lp = _floats(limit_price, "limit_price")
    pr = _ints(priority)
    wk = _ints(order_week)
    _check_lengths(qty=q, limit_price=lp, priority=pr, order_week=wk)
    _check_quantities(q, "qty")
    _check_quantities([float(supply)], "supply")
    _check_prices(lp, "limit_price")
    _check_prices([float(list_price)], "list_price")
    supply = float(supply)
    list_price = float(list_price)

    fills = [0.0] * len(q)
    eligible = [i for i in range(len(q)) if lp[i] >= list_price and q[i] > 0.0]
    groups = _service_groups(eligible, rule, lp, pr, wk)
    marginal = _ration(groups, q, supply, fills)
    price = list_price
    if rule.uniform_price and marginal is not None:
        price = lp[groups[marginal][0]]
    return np.array(fills, dtype=np.float64), price


# --------------------------------------------------------------------------- double auction
def double_auction(bid_price, bid_qty, ask_price, ask_qty) -> tuple[float, np.ndarray, np.ndarray]:
    """Reference of :func:`market_sim.market.double_auction` (USD, units)."""
    bp = _floats(bid_price, "bid_price")
    bq = _floats(bid_qty, "bid_qty")
    ap = _floats(ask_price, "ask_price")
    aq = _floats(ask_qty, "ask_qty")
    _check_lengths(bid_price=bp, bid_qty=bq)
    _check_lengths(ask_price=ap, ask_qty=aq)
    _check_quantities(bq, "bid_qty")
    _check_quantities(aq, "ask_qty")
    _check_prices(bp, "bid_price")
    _check_prices(ap, "ask_price")

    bid_fills = [0.0] * len(bp)
    ask_fills = [0.0] * len(ap)
    # Tie groups: bids by price high to low, asks by price low to high.
    bid_groups = _price_groups([i for i in range(len(bp)) if bq[i] > 0.0], bp, descending=True)
    ask_groups = _price_groups([j for j in range(len(ap)) if aq[j] > 0.0], ap, descending=False)

    # Traded volume: match the best remaining bid with the best remaining ask while the
    # bid is at least the ask (two pointers over the price levels).
    volume = 0.0
    b = a = 0
    bid_left = _group_total(bid_groups[0], bq) if bid_groups else 0.0
    ask_left = _group_total(ask_groups[0], aq) if ask_groups else 0.0
    while b < len(bid_groups) and a < len(ask_groups):
        if bp[bid_groups[b][0]] < ap[ask_groups[a][0]]:
            break
        traded = min(bid_left, ask_left)
        volume += traded
        bid_left -= traded
        ask_left -= traded
        if bid_left <= 0.0:
            b += 1
            bid_left = _group_total(bid_groups[b], bq) if b < len(bid_groups) else 0.0
        if ask_left <= 0.0:
            a += 1
            ask_left = _group_total(ask_groups[a], aq) if a < len(ask_groups) else 0.0

    if volume <= 0.0:
        return math.nan, np.array(bid_fills), np.array(ask_fills)

    # Who trades: each side is rationed like an auction allocation of `volume` units.
    _ration(bid_groups, bq, volume, bid_fills)
    _ration(ask_groups, aq, volume, ask_fills)

    # Price: midpoint of the interval of prices that clear the market.
    lo = -math.inf
    hi = math.inf
    for i in range(len(bp)):
        if bq[i] > 0.0:
            if bid_fills[i] > 0.0:
                hi = min(hi, bp[i])  # an accepted bid must pay at most its bid
            if bid_fills[i] < bq[i]:
                lo = max(lo, bp[i])  # a bid left wanting must not be willing to pay more
    for j in range(len(ap)):
        if aq[j] > 0.0:
            if ask_fills[j] > 0.0:
                lo = max(lo, ap[j])  # an accepted ask must receive at least its ask
            if ask_fills[j] < aq[j]:
                hi = min(hi, ap[j])  # an unsold ask must not accept less
    price = 0.5 * lo + 0.5 * hi  # written so it cannot overflow; clamped so it
    if lo <= hi:  # cannot underflow out of [lo, hi] either
        price = min(max(price, lo), hi)
    return price, np.array(bid_fills, dtype=np.float64), np.array(ask_fills, dtype=np.float64)


def _group_total(group: list[int], qty: list[float]) -> float:
    total = 0.0
    for i in group:
        total += qty[i]
    return total


def _price_groups(candidates: list[int], price: list[float], descending: bool) -> list[list[int]]:
    groups: list[list[int]] = []
    order = sorted(candidates, key=lambda i: -price[i] if descending else price[i])
    for i in order:
        if groups and price[groups[-1][0]] == price[i]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


# --------------------------------------------------------------------------- lead times
def queue_ahead(
    remaining, limit_price, priority, order_week, list_price: float, policy: str
) -> np.ndarray:
    """Reference of :func:`market_sim.market.queue_ahead` (units; +inf if ineligible)."""
    rule = get_policy(policy)
    rem = _floats(remaining, "remaining")
    lp = _floats(limit_price, "limit_price")
    pr = _ints(priority)
    wk = _ints(order_week)
    _check_lengths(remaining=rem, limit_price=lp, priority=pr, order_week=wk)
    _check_quantities(rem, "remaining")
    _check_prices(lp, "limit_price")
    _check_prices([float(list_price)], "list_price")
    list_price = float(list_price)

    out = [math.inf] * len(rem)
    eligible = [i for i in range(len(rem)) if lp[i] >= list_price]
    through = 0.0  # remaining units of every order up to and including the current group
    for group in _service_groups(eligible, rule, lp, pr, wk):
        group_total = 0.0
        for i in group:
            group_total += rem[i]
        through += group_total
        for i in group:
            out[i] = through - rem[i]  # the others in its group finish with it
    return np.array(out, dtype=np.float64)


def quote_lead_times(
    queue_ahead, qty, pipeline, capacity_per_week: float, max_weeks: int
) -> np.ndarray:
    """Reference of :func:`market_sim.market.quote_lead_times` (weeks, int64)."""
    qa = _floats(queue_ahead, "queue_ahead")
    q = _floats(qty, "qty")
    pipe = _floats(pipeline, "pipeline")
    _check_lengths(queue_ahead=qa, qty=q)
    _check_quantities(q, "qty")
    _check_quantities(pipe, "pipeline")
    _check_quantities([float(capacity_per_week)], "capacity_per_week")
    for v in qa:
        if math.isnan(v) or v < 0.0:
            raise ValueError(f"queue_ahead must be >= 0 (units; +inf allowed), got {v}")
    capacity = float(capacity_per_week)
    max_weeks = int(max_weeks)
    if max_weeks < 0:
        raise ValueError(f"max_weeks must be >= 0, got {max_weeks}")

    pipeline_total = 0.0
    for units in pipe:
        pipeline_total += units
    weeks = []
    for queue, units in zip(qa, q, strict=True):
        if units == 0.0:
            weeks.append(0)  # nothing left to deliver
            continue
        target = (queue + units) * (1.0 - QUOTE_RTOL)
        answer = max_weeks
        arrived = 0.0
        for k in range(1, max_weeks + 1):
            if k <= len(pipe):
                arrived += pipe[k - 1]
                reached = arrived >= target
            else:
                reached = pipeline_total + capacity * (k - len(pipe)) >= target
            if reached:
                answer = k
                break
        weeks.append(answer)
    return np.array(weeks, dtype=np.int64)


# --------------------------------------------------------------------------- batch
def clear_markets(
    order_offsets,
    supply,
    list_price,
    policy_code,
    qty,
    limit_price,
    priority,
    order_week,
    pipeline_offsets,
    pipeline,
    capacity_per_week,
    max_weeks: int,
    bid_offsets,
    bid_price,
    bid_qty,
    ask_offsets,
    ask_price,
    ask_qty,
) -> ClearingResult:
    """Reference of :func:`market_sim.market.clear_markets`: a loop over markets."""
    oo = _ints(order_offsets)
    po = _ints(pipeline_offsets)
    q = np.asarray(qty, dtype=np.float64)
    lp = np.asarray(limit_price, dtype=np.float64)
    pr = np.asarray(priority, dtype=np.int64)
    wk = np.asarray(order_week, dtype=np.int64)
    pipe = np.asarray(pipeline, dtype=np.float64)
    codes = _ints(policy_code)
    n_markets = len(oo) - 1
    fills = np.zeros(len(q))
    lead = np.zeros(len(q), dtype=np.int64)
    prices = np.zeros(n_markets)
    for m in range(n_markets):
        s, e = oo[m], oo[m + 1]
        name = policy_by_code(codes[m]).name
        f, p = allocate(supply[m], q[s:e], lp[s:e], pr[s:e], wk[s:e], list_price[m], name)
        fills[s:e] = f
        prices[m] = p
        rem = q[s:e] - f
        qa = queue_ahead(rem, lp[s:e], pr[s:e], wk[s:e], list_price[m], name)
        lead[s:e] = quote_lead_times(
            qa, rem, pipe[po[m] : po[m + 1]], capacity_per_week[m], max_weeks
        )

    bo = _ints(bid_offsets)
    ao = _ints(ask_offsets)
    bp = np.asarray(bid_price, dtype=np.float64)
    bq = np.asarray(bid_qty, dtype=np.float64)
    ap = np.asarray(ask_price, dtype=np.float64)
    aq = np.asarray(ask_qty, dtype=np.float64)
    n_auctions = len(bo) - 1
    da_price = np.zeros(n_auctions)
    bid_fills = np.zeros(len(bp))
    ask_fills = np.zeros(len(ap))
    for k in range(n_auctions):
        b0, b1, a0, a1 = bo[k], bo[k + 1], ao[k], ao[k + 1]
        p, bf, af = double_auction(bp[b0:b1], bq[b0:b1], ap[a0:a1], aq[a0:a1])
        da_price[k] = p
        bid_fills[b0:b1] = bf
        ask_fills[a0:a1] = af
    return ClearingResult(fills, prices, lead, da_price, bid_fills, ask_fills)
