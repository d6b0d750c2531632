"""Vectorised numpy implementation of the market-clearing rules (lexsort and cumsum).

The benchmark's middle baseline: what one would write without numba — sort the orders
(``np.lexsort``), find tie groups with ``np.diff``, sum them with ``np.add.reduceat`` and
walk the rationing rule with ``np.cumsum``.  Same rules as docs/market_clearing.md; tested
against ``reference.py``.  Only ``clear_markets`` loops over markets in Python.

Units: quantities in units, prices in USD per unit, times in weeks.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from market_sim.market.kernels_common import ALLOC_RTOL, QUOTE_RTOL, ClearingResult
from market_sim.market.policies import AllocationPolicy, get_policy, policy_by_code

__all__ = ["allocate", "clear_markets", "double_auction", "queue_ahead", "quote_lead_times"]


def _check_qty(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr) & (arr >= 0.0)):
        raise ValueError(f"{name}: quantities must be finite and >= 0 (units)")


def _check_price(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: prices must be finite (USD)")


def _groups(sorted_keys: list[np.ndarray]) -> np.ndarray:
    """Start index of each tie group in arrays already sorted by ``sorted_keys``."""
    n = sorted_keys[0].size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in sorted_keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def _ration(qty_sorted: np.ndarray, starts: np.ndarray, supply: float):
    """Fills (sorted order) and the index of the marginal group (-1 if none)."""
    if qty_sorted.size == 0:
        return np.zeros(0), -1
    demand = np.add.reduceat(qty_sorted, starts)
    through = np.cumsum(demand)
    before = np.concatenate(([0.0], through[:-1]))
    slack = ALLOC_RTOL * supply
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(
            before >= supply - slack,
            0.0,
            np.where(through <= supply + slack, 1.0, (supply - before) / demand),
        )
    sizes = np.diff(np.append(starts, qty_sorted.size))
    share_each = np.repeat(share, sizes)
    fills = np.where(share_each == 1.0, qty_sorted, qty_sorted * share_each)
    not_full = np.flatnonzero(share != 1.0)
    return fills, (int(not_full[0]) if not_full.size else -1)


def _service_sort(
    policy: AllocationPolicy, lp: np.ndarray, pr: np.ndarray, wk: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Stable order of service (a lexsort by the policy's keys) and the keys that define
    tie groups."""
    n = lp.size
    if not policy.keys:
        return np.arange(n), [np.zeros(n)]
    columns = {"priority": pr, "order_week": wk, "limit_price": lp}
    sort_keys = []
    for field, desc in policy.keys:
        col = columns[field]
        sort_keys.append((~col if col.dtype.kind == "i" else -col) if desc else col)
    order = np.lexsort(tuple(reversed(sort_keys)))  # lexsort sorts by its last key first
    return order, [columns[f][order] for f, _ in policy.keys]


def allocate(
    supply: float,
    qty: ArrayLike,
    limit_price: ArrayLike,
    priority: ArrayLike,
    order_week: ArrayLike,
    list_price: float,
    policy: str,
) -> tuple[np.ndarray, float]:
    """numpy version of :func:`market_sim.market.allocate` (units, USD)."""
    rule = get_policy(policy)
    q = np.ascontiguousarray(qty, dtype=np.float64)
    lp = np.ascontiguousarray(limit_price, dtype=np.float64)
    pr = np.ascontiguousarray(priority, dtype=np.int64)
    wk = np.ascontiguousarray(order_week, dtype=np.int64)
    if not q.size == lp.size == pr.size == wk.size:
        raise ValueError("arrays must have equal lengths")
    _check_qty(q, "qty")
    _check_qty(np.array([supply], dtype=np.float64), "supply")
    _check_price(lp, "limit_price")
    _check_price(np.array([list_price], dtype=np.float64), "list_price")
    supply = float(supply)
    list_price = float(list_price)
    fills = np.zeros(q.size)
    idx = np.flatnonzero((lp >= list_price) & (q > 0.0))
    order, keys = _service_sort(rule, lp[idx], pr[idx], wk[idx])
    starts = _groups(keys)
    f, marginal = _ration(q[idx][order], starts, supply)
    fills[idx[order]] = f
    price = list_price
    if rule.uniform_price and marginal >= 0:
        price = float(keys[0][starts[marginal]])
    return fills, price


def _side(price, qty, descending: bool):
    """Indices (qty > 0) in price order, and the group starts."""
    idx = np.flatnonzero(qty > 0.0)
    order = np.argsort(-price[idx] if descending else price[idx], kind="stable")
    idx = idx[order]
    return idx, _groups([price[idx]])


def double_auction(
    bid_price: ArrayLike, bid_qty: ArrayLike, ask_price: ArrayLike, ask_qty: ArrayLike
) -> tuple[float, np.ndarray, np.ndarray]:
    """numpy version of :func:`market_sim.market.double_auction` (USD, units)."""
    bp = np.ascontiguousarray(bid_price, dtype=np.float64)
    bq = np.ascontiguousarray(bid_qty, dtype=np.float64)
    ap = np.ascontiguousarray(ask_price, dtype=np.float64)
    aq = np.ascontiguousarray(ask_qty, dtype=np.float64)
    if bp.size != bq.size or ap.size != aq.size:
        raise ValueError("arrays must have equal lengths")
    _check_qty(bq, "bid_qty")
    _check_qty(aq, "ask_qty")
    _check_price(bp, "bid_price")
    _check_price(ap, "ask_price")
    bid_fills = np.zeros(bp.size)
    ask_fills = np.zeros(ap.size)
    bidx, bstarts = _side(bp, bq, descending=True)
    aidx, astarts = _side(ap, aq, descending=False)
    if bidx.size == 0 or aidx.size == 0 or bp[bidx[0]] < ap[aidx[0]]:
        return float("nan"), bid_fills, ask_fills

    # Volume = max over candidate prices p of min(D(p), S(p)), with D(p) the bid units at
    # or above p and S(p) the ask units at or below p (prices ascending for searchsorted).
    b_desc = bp[bidx]
    b_cum = np.concatenate(([0.0], np.cumsum(bq[bidx])))  # bid units from the top down
    a_asc = ap[aidx]
    a_cum = np.concatenate(([0.0], np.cumsum(aq[aidx])))  # ask units from the bottom up
    cand = np.unique(np.concatenate((b_desc, a_asc)))
    cand = cand[(cand >= a_asc[0]) & (cand <= b_desc[0])]
    demand = b_cum[np.searchsorted(-b_desc, -cand, side="right")]
    supply = a_cum[np.searchsorted(a_asc, cand, side="right")]
    volume = float(np.max(np.minimum(demand, supply)))

    f, _ = _ration(bq[bidx], bstarts, volume)
    bid_fills[bidx] = f
    f, _ = _ration(aq[aidx], astarts, volume)
    ask_fills[aidx] = f
    bpos = bq > 0.0
    apos = aq > 0.0
    lo = max(
        np.max(ap[apos & (ask_fills > 0.0)], initial=-np.inf),
        np.max(bp[bpos & (bid_fills < bq)], initial=-np.inf),
    )
    hi = min(
        np.min(bp[bpos & (bid_fills > 0.0)], initial=np.inf),
        np.min(ap[apos & (ask_fills < aq)], initial=np.inf),
    )
    price = 0.5 * lo + 0.5 * hi
    if lo <= hi:
        price = min(max(price, lo), hi)
    return float(price), bid_fills, ask_fills


def queue_ahead(
    remaining: ArrayLike,
    limit_price: ArrayLike,
    priority: ArrayLike,
    order_week: ArrayLike,
    list_price: float,
    policy: str,
) -> np.ndarray:
    """numpy version of :func:`market_sim.market.queue_ahead` (units; +inf if ineligible)."""
    rule = get_policy(policy)
    rem = np.ascontiguousarray(remaining, dtype=np.float64)
    lp = np.ascontiguousarray(limit_price, dtype=np.float64)
    pr = np.ascontiguousarray(priority, dtype=np.int64)
    wk = np.ascontiguousarray(order_week, dtype=np.int64)
    if not rem.size == lp.size == pr.size == wk.size:
        raise ValueError("arrays must have equal lengths")
    _check_qty(rem, "remaining")
    _check_price(lp, "limit_price")
    out = np.full(rem.size, np.inf)
    idx = np.flatnonzero(lp >= list_price)
    if idx.size == 0:
        return out
    order, keys = _service_sort(rule, lp[idx], pr[idx], wk[idx])
    r = rem[idx][order]
    starts = _groups(keys)
    through = np.cumsum(np.add.reduceat(r, starts))  # through each tie group
    group_through = np.repeat(through, np.diff(np.append(starts, r.size)))
    out[idx[order]] = group_through - r
    return out


def quote_lead_times(
    queue_ahead: ArrayLike,
    qty: ArrayLike,
    pipeline: ArrayLike,
    capacity_per_week: float,
    max_weeks: int,
) -> np.ndarray:
    """numpy version of :func:`market_sim.market.quote_lead_times` (weeks, int64)."""
    qa = np.ascontiguousarray(queue_ahead, dtype=np.float64)
    q = np.ascontiguousarray(qty, dtype=np.float64)
    pipe = np.ascontiguousarray(pipeline, dtype=np.float64)
    if qa.size != q.size:
        raise ValueError("arrays must have equal lengths")
    _check_qty(q, "qty")
    _check_qty(pipe, "pipeline")
    if np.any(np.isnan(qa) | (qa < 0.0)):
        raise ValueError("queue_ahead must be >= 0 (units; +inf allowed)")
    capacity = float(capacity_per_week)
    if not (np.isfinite(capacity) and capacity >= 0.0):
        raise ValueError("capacity_per_week must be finite and >= 0 (units/week)")
    max_weeks = int(max_weeks)
    if max_weeks < 0:
        raise ValueError("max_weeks must be >= 0 (weeks)")
    n_pipe = pipe.size
    cum = np.cumsum(pipe)  # sequential sums, bit-equal to a running total
    total = float(cum[-1]) if n_pipe else 0.0
    target = (qa + q) * (1.0 - QUOTE_RTOL)
    # inside the pipeline: first k with cum[k-1] >= target
    weeks = np.searchsorted(cum, target, side="left").astype(np.int64) + 1
    beyond = weeks > n_pipe
    if capacity > 0.0:
        with np.errstate(invalid="ignore", over="ignore"):
            x = (target - total) / capacity
        ok = beyond & np.isfinite(x) & (x <= max_weeks - n_pipe + 2)
        j = np.where(ok, np.maximum(1, np.ceil(np.where(ok, x, 1.0))), 1).astype(np.int64)

        def reached(jj):
            return total + capacity * jj >= target

        for _ in range(3):  # the float estimate is off by at most one week
            j = np.where(ok & (j > 1) & reached(j - 1), j - 1, j)
            j = np.where(ok & ~reached(j), j + 1, j)
        weeks = np.where(beyond, np.where(ok, n_pipe + j, max_weeks + 1), weeks)
    else:
        weeks = np.where(beyond, max_weeks + 1, weeks)
    weeks = np.minimum(weeks, max_weeks)
    return np.where(q == 0.0, 0, weeks).astype(np.int64)


def clear_markets(*args, **kwargs) -> ClearingResult:
    """numpy version of :func:`market_sim.market.clear_markets` (a Python loop over markets).

    Same arguments as the kernel version.
    """
    names = ("order_offsets", "supply", "list_price", "policy_code", "qty", "limit_price",
             "priority", "order_week", "pipeline_offsets", "pipeline", "capacity_per_week",
             "max_weeks", "bid_offsets", "bid_price", "bid_qty", "ask_offsets", "ask_price",
             "ask_qty")  # fmt: skip
    a = dict(zip(names, args, strict=False)) | kwargs
    oo = np.asarray(a["order_offsets"], dtype=np.int64)
    po = np.asarray(a["pipeline_offsets"], dtype=np.int64)
    q = np.asarray(a["qty"], dtype=np.float64)
    lp = np.asarray(a["limit_price"], dtype=np.float64)
    pr = np.asarray(a["priority"], dtype=np.int64)
    wk = np.asarray(a["order_week"], dtype=np.int64)
    pipe = np.asarray(a["pipeline"], dtype=np.float64)
    fills = np.zeros(q.size)
    lead = np.zeros(q.size, dtype=np.int64)
    prices = np.zeros(oo.size - 1)
    for m in range(oo.size - 1):
        s, e = oo[m], oo[m + 1]
        pol = policy_by_code(int(a["policy_code"][m])).name
        lpm = float(a["list_price"][m])
        f, p = allocate(a["supply"][m], q[s:e], lp[s:e], pr[s:e], wk[s:e], lpm, pol)
        fills[s:e] = f
        prices[m] = p
        rem = q[s:e] - f
        qa = queue_ahead(rem, lp[s:e], pr[s:e], wk[s:e], lpm, pol)
        pm = pipe[po[m] : po[m + 1]]
        lead[s:e] = quote_lead_times(qa, rem, pm, a["capacity_per_week"][m], a["max_weeks"])
    bo = np.asarray(a["bid_offsets"], dtype=np.int64)
    ao = np.asarray(a["ask_offsets"], dtype=np.int64)
    bp = np.asarray(a["bid_price"], dtype=np.float64)
    bq = np.asarray(a["bid_qty"], dtype=np.float64)
    ap = np.asarray(a["ask_price"], dtype=np.float64)
    aq = np.asarray(a["ask_qty"], dtype=np.float64)
    da_price = np.zeros(bo.size - 1)
    bid_fills = np.zeros(bp.size)
    ask_fills = np.zeros(ap.size)
    for k in range(bo.size - 1):
        b0, b1, a0, a1 = bo[k], bo[k + 1], ao[k], ao[k + 1]
        p, bf, af = double_auction(bp[b0:b1], bq[b0:b1], ap[a0:a1], aq[a0:a1])
        da_price[k] = p
        bid_fills[b0:b1] = bf
        ask_fills[a0:a1] = af
    return ClearingResult(fills, prices, lead, da_price, bid_fills, ask_fills)
