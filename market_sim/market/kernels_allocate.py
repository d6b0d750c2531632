"""Numba kernels of one primary market: allocation, queue position and lead-time quote.

All functions are ``@njit(cache=True)``, nopython, and pure: they read their input arrays
and write only the ``out`` array they are given.  They return an error code (see
``kernels_common.ERR_*``) instead of raising, so the Python wrappers can word the message.
The rules are in docs/market_clearing.md; ``reference.py`` is the plain-Python oracle.
"""

from __future__ import annotations

import math

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_auction import auction_allocate
from market_sim.market.kernels_common import (
    ALLOC_RTOL,
    ERR_OK,
    ERR_PIPELINE,
    ERR_POLICY,
    ERR_PRICE,
    ERR_QTY,
    ERR_QUEUE,
    ERR_SUPPLY,
    QUOTE_RTOL,
)
from market_sim.market.kernels_select import stable_argsort
from market_sim.market.policies import FIELD_LIMIT, FIELD_PRIORITY, FIELD_WEEK

# --------------------------------------------------------------------------- shared passes
# A policy reaches the kernels as its row of ``policies.policy_table()`` (``spec``):
# spec[0] uniform price (the auction), spec[1] number of keys, then (field, descending)
# per key, fields FIELD_PRIORITY, FIELD_WEEK (int64 columns) and FIELD_LIMIT (float64).


@njit(cache=True)
def _int_field(field, priority, order_week):
    return priority if field == FIELD_PRIORITY else order_week


@njit(cache=True)
def _service_order(spec, idx, limit_price, priority, order_week):
    """Positions 0..m-1 of ``idx`` in service order (stable: index order inside a tie):
    a stable sort per key, the last key first."""
    m = idx.size
    order = np.arange(m)
    for k in range(spec[1] - 1, -1, -1):
        field = spec[2 + 2 * k]
        desc = spec[3 + 2 * k] == 1
        if field == FIELD_LIMIT:
            fkeys = np.empty(m)
            for t in range(m):
                v = limit_price[idx[order[t]]]
                fkeys[t] = -v if desc else v
            order = order[stable_argsort(fkeys)]
        else:
            col = _int_field(field, priority, order_week)
            ikeys = np.empty(m, dtype=np.int64)
            for t in range(m):
                v = col[idx[order[t]]]
                ikeys[t] = ~v if desc else v  # ~v == -v - 1 is decreasing, never overflows
            order = order[stable_argsort(ikeys)]
    return order


@njit(cache=True)
def _same_group(spec, a, b, limit_price, priority, order_week):
    """True when orders ``a`` and ``b`` tie on every key of the policy."""
    for k in range(spec[1]):
        field = spec[2 + 2 * k]
        if field == FIELD_LIMIT:
            if limit_price[a] != limit_price[b]:
                return False
        else:
            col = _int_field(field, priority, order_week)
            if col[a] != col[b]:
                return False
    return True


@njit(cache=True)
def service_groups(spec, idx, limit_price, priority, order_week):
    """Tie group of each candidate order ``idx[t]``, numbered in service order.

    Returns (group id per candidate, number of ids).  A policy keyed by integer fields
    only (priority, order week) with a small range of values uses the dense key (the
    keys' ranks, mixed radix) directly — a counting sort, O(n), where some ids may be
    empty; otherwise a stable sort numbers the tie groups 0, 1, ... .  A policy without
    keys (``pro_rata``) is a single group.
    """
    m = idx.size
    gid = np.zeros(m, dtype=np.int64)
    if m == 0:
        return gid, 0
    n_keys = spec[1]
    if n_keys == 0:
        return gid, 1
    int_only = True
    for k in range(n_keys):
        int_only &= spec[2 + 2 * k] != FIELD_LIMIT
    if int_only:
        # each key's values, gathered once: ranks[k, t] = value (descending: max - value)
        ranks = np.empty((n_keys, m), dtype=np.int64)
        widths = np.empty(n_keys, dtype=np.int64)
        span = 1.0
        for k in range(n_keys):
            col = _int_field(spec[2 + 2 * k], priority, order_week)
            row = ranks[k]
            for t in range(m):
                row[t] = col[idx[t]]
            a = b = row[0]
            for t in range(m):
                v = row[t]
                a = min(a, v)
                b = max(b, v)
            if spec[3 + 2 * k] == 1:
                for t in range(m):
                    row[t] = b - row[t]
            else:
                for t in range(m):
                    row[t] = row[t] - a
            widths[k] = b - a + 1
            span = span * (float(b) - float(a) + 1.0)
        if span <= max(4.0 * m, 4096.0):
            if n_keys == 1:
                gid[:] = ranks[0]
            else:
                for t in range(m):
                    key = 0
                    for k in range(n_keys):
                        key = key * widths[k] + ranks[k, t]
                    gid[t] = key
            return gid, int(span)
    order = _service_order(spec, idx, limit_price, priority, order_week)
    g = 0
    for t in range(m):
        if t > 0 and not _same_group(
            spec, idx[order[t - 1]], idx[order[t]], limit_price, priority, order_week
        ):
            g += 1
        gid[order[t]] = g
    return gid, g + 1


@njit(cache=True)
def spec_ok(spec):
    """True when ``spec`` is a well-formed policy row."""
    if spec.size < 2 or spec[1] < 0 or 2 + 2 * spec[1] > spec.size:
        return False
    for k in range(spec[1]):
        f = spec[2 + 2 * k]
        if f != FIELD_PRIORITY and f != FIELD_WEEK and f != FIELD_LIMIT:
            return False
    return True


# --------------------------------------------------------------------------- allocate
@njit(cache=True)
def allocate_core(supply, qty, limit_price, priority, order_week, list_price, spec, out):
    """Allocate ``supply`` units over one order book; fills go to ``out``.

    Returns (error code, price in USD).  See :func:`market_sim.market.allocate`.
    """
    n = qty.size
    if not (math.isfinite(supply) and supply >= 0.0):
        return ERR_SUPPLY, np.nan
    if not math.isfinite(list_price):
        return ERR_PRICE, np.nan
    if not spec_ok(spec):
        return ERR_POLICY, np.nan
    if spec[0] == 1:  # uniform price: the auction
        return auction_allocate(supply, qty, limit_price, list_price, out)
    # validation pass, fused with the demand of the eligible orders
    m = 0
    demand = 0.0
    valid_qty = True
    valid_price = True
    for i in range(n):
        q = qty[i]
        p = limit_price[i]
        valid_qty &= (q >= 0.0) & (q < np.inf)
        valid_price &= (p > -np.inf) & (p < np.inf)
        if q > 0.0 and p >= list_price:
            m += 1
            demand += q
    if not valid_qty:
        return ERR_QTY, np.nan
    if not valid_price:
        return ERR_PRICE, np.nan
    slack = ALLOC_RTOL * supply
    lo = supply - slack  # supply is used up once demand ahead reaches this
    hi = supply + slack  # demand through a group up to this is served in full
    if spec[1] == 0:  # no keys: one tie group with nothing ahead of it
        if 0.0 >= lo:
            share = 0.0
        elif demand <= hi:
            share = 1.0
        else:
            share = supply / demand
        for i in range(n):
            q = qty[i]
            f = 0.0
            if q > 0.0 and limit_price[i] >= list_price:
                f = q if share == 1.0 else q * share
            out[i] = f
        return ERR_OK, list_price
    # number the tie groups in service order, then walk them
    idx = np.empty(m, dtype=np.int64)
    j = 0
    for i in range(n):
        out[i] = 0.0
        if qty[i] > 0.0 and limit_price[i] >= list_price:
            idx[j] = i
            j += 1
    gid, ngroups = service_groups(spec, idx, limit_price, priority, order_week)
    demand_of = np.zeros(ngroups)
    for t in range(m):
        demand_of[gid[t]] += qty[idx[t]]
    share_of = np.ones(ngroups)
    before = 0.0
    for k in range(ngroups):
        g = demand_of[k]
        if g > 0.0:  # dense ids may be empty
            if before >= lo:
                share_of[k] = 0.0
            elif before + g > hi:
                share_of[k] = (supply - before) / g
            before = before + g
    for t in range(m):
        q = qty[idx[t]]
        share = share_of[gid[t]]
        out[idx[t]] = q if share == 1.0 else q * share
    return ERR_OK, list_price


# --------------------------------------------------------------------------- queue position
@njit(cache=True)
def queue_ahead_core(remaining, limit_price, priority, order_week, list_price, spec, out):
    """Units that finish no later than each order, besides the order itself; ``out``.

    Ineligible orders (``limit_price < list_price``) get +inf.  Returns an error code.
    """
    n = remaining.size
    if not math.isfinite(list_price):
        return ERR_PRICE
    if not spec_ok(spec):
        return ERR_POLICY
    m = 0
    for i in range(n):
        r = remaining[i]
        p = limit_price[i]
        if not (r >= 0.0 and r < np.inf):
            return ERR_QTY
        if not (p > -np.inf and p < np.inf):
            return ERR_PRICE
        if p >= list_price:
            m += 1
    idx = np.empty(m, dtype=np.int64)
    j = 0
    for i in range(n):
        out[i] = np.inf
        if limit_price[i] >= list_price:
            idx[j] = i
            j += 1
    gid, ngroups = service_groups(spec, idx, limit_price, priority, order_week)
    through_of = np.zeros(ngroups)  # remaining units of each tie group, then cumulated
    for t in range(m):
        through_of[gid[t]] += remaining[idx[t]]
    through = 0.0
    for k in range(ngroups):
        through = through + through_of[k]
        through_of[k] = through
    for t in range(m):
        out[idx[t]] = through_of[gid[t]] - remaining[idx[t]]
    return ERR_OK


# --------------------------------------------------------------------------- lead-time quote
@njit(cache=True)
def _beyond_reached(total, capacity, j, target):
    return total + capacity * j >= target


@njit(cache=True)
def quote_core(queue, qty, pipeline, capacity, max_weeks, out):
    """Quote lead times (weeks) into ``out``; returns an error code.

    Week k >= 1 is reached when the cumulative arrivals through week k (the pipeline,
    then ``capacity`` units a week) are >= ``(queue + qty) * (1 - QUOTE_RTOL)``.  Binary
    search over the pipeline, closed form beyond it; capped at ``max_weeks``; 0 when
    ``qty == 0``.
    """
    n = qty.size
    npipe = pipeline.size
    if not (math.isfinite(capacity) and capacity >= 0.0):
        return ERR_SUPPLY
    cum = np.empty(npipe)
    total = 0.0
    for k in range(npipe):
        u = pipeline[k]
        if not (u >= 0.0 and u < np.inf):
            return ERR_PIPELINE
        total += u
        cum[k] = total
    for i in range(n):
        if not (qty[i] >= 0.0 and qty[i] < np.inf):
            return ERR_QTY
        if not queue[i] >= 0.0:
            return ERR_QUEUE
    for i in range(n):
        if qty[i] == 0.0:
            out[i] = 0
            continue
        target = (queue[i] + qty[i]) * (1.0 - QUOTE_RTOL)
        week = max_weeks
        if npipe > 0 and cum[npipe - 1] >= target:
            base = 0  # branch-free binary search: first index with cum >= target
            width = npipe
            while width > 1:
                half = width // 2
                base = base + half if cum[base + half] < target else base
                width -= half
            base += cum[base] < target
            week = min(base + 1, max_weeks)
        elif capacity > 0.0 and target < np.inf:
            x = (target - total) / capacity  # weeks after the pipeline, roughly
            if x <= max_weeks - npipe + 2:
                j = max(1, math.ceil(x))
                while j > 1 and _beyond_reached(total, capacity, j - 1, target):
                    j -= 1
                while j <= max_weeks - npipe and not _beyond_reached(total, capacity, j, target):
                    j += 1
                week = min(npipe + j, max_weeks)
        out[i] = week
    return ERR_OK
