"""Numba kernels of the price-ordered mechanisms: the uniform-price auction allocation
(``allocate(policy="auction")``) and the double auction (gray and rental markets).

Both are built from the streaming passes of ``kernels_buckets``:

1. ``bucket_scatter``: validate, write each order's price bucket (int32) on a grid taken
   from a fixed strided sample (``kernels_select.sample_grid``), and sum quantity per
   bucket; a scan of the sums finds the bucket holding the marginal tie group (for the
   double auction first the crossing bucket, whose orders are gathered and solved
   exactly to give the traded volume);
2. ``fill_gather``: every order in a bucket served before the marginal bucket gets its
   full quantity, every other order nothing, while the marginal bucket and its non-empty
   neighbours are gathered;
3. ``resolve_side``: the marginal tie group by ``select_level``; those fills are patched.

Only a bucket's worth of orders is ever sorted, so the cost is O(n).  There is no
randomness.  The rules, and the rounding slack ``ALLOC_RTOL``, are in
docs/market_clearing.md.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_buckets import (
    bucket_scatter,
    fill_gather,
    gather_range,
    marginal_bucket,
    neighbours,
    resolve_side,
    span,
)
from market_sim.market.kernels_common import ALLOC_RTOL, ERR_OK, ERR_PRICE, ERR_QTY
from market_sim.market.kernels_cross import cross_refine
from market_sim.market.kernels_select import n_buckets, sample_grid


# --------------------------------------------------------------------------- auction
@njit(cache=True)
def auction_allocate(supply, qty, price, list_price, out):
    """``allocate`` under the ``auction`` policy; returns (error code, price in USD).

    Orders with ``price >= list_price`` (the reserve) are served from the highest limit
    price down, ties pro rata; the price is the highest limit price not served in full,
    or ``list_price`` when all are.  ``supply``/``list_price`` are checked by the caller.
    """
    n = price.size
    nb = n_buckets(n)
    nbk = nb + 2
    ok, kmax, scale = sample_grid(price, qty, 1.0, list_price, price[:0], qty[:0], 1.0, nb)
    if not ok:  # degenerate sample: one bucket, refined by select_level
        kmax = 0.0
        scale = 0.0
    jj = np.empty(n, dtype=np.int32)
    ok_q, ok_p, hist = bucket_scatter(price, qty, list_price, kmax, scale, nb, jj)
    if not ok_q:
        return ERR_QTY, np.nan
    if not ok_p:
        return ERR_PRICE, np.nan
    slack = ALLOC_RTOL * supply
    lo = supply - slack
    hi = supply + slack
    jm, before = marginal_bucket(hist, nbk, lo, True)
    if jm < 0:  # every eligible order is served in full
        fill_gather(jj, qty, nbk, 1, 0, -1, out)
        return ERR_OK, list_price
    _, nxt = neighbours(hist, nbk, jm, True)
    jlo, jhi = span(-1, jm, nxt)
    gidx = fill_gather(jj, qty, jm, 1, jlo, jhi, out)
    found, key_m, _, _, next_top = resolve_side(
        gidx, jj, price, qty, 1.0, jm, -1, nxt, before, supply, lo, hi, out
    )
    if found:
        return ERR_OK, key_m
    if next_top > -np.inf:  # supply ran out exactly at the end of the bucket
        return ERR_OK, next_top
    return ERR_OK, list_price


# --------------------------------------------------------------------------- double auction
@njit(cache=True)
def _settle_side(jj, price, qty, sign, hist, nbk, window, wlo, whi, volume, lo, hi, out):
    """Fills of one side of a double auction that trades ``volume`` units.

    ``window`` holds the orders of buckets ``wlo..whi``, gathered while finding the
    volume; they are reused when the marginal bucket and its neighbours fall inside.
    Returns (smallest key with a fill > 0, largest key with a fill below its qty).
    """
    descending = sign > 0.0
    jm, before = marginal_bucket(hist, nbk, lo, descending)
    prev, nxt = neighbours(hist, nbk, jm, descending)
    rlo, rhi = span(prev, jm, nxt)
    inside = rlo >= wlo and rhi <= whi
    settle_at = jm if jm >= 0 else (nbk if descending else -1)
    if inside:
        fill_gather(jj, qty, settle_at, np.int64(sign), 0, -1, out)
        gidx = window
    else:
        gidx = fill_gather(jj, qty, settle_at, np.int64(sign), rlo, rhi, out)
    _, _, acc_min, unf_max, _ = resolve_side(
        gidx, jj, price, qty, sign, jm, prev, nxt, before, volume, lo, hi, out
    )
    return acc_min, unf_max


@njit(cache=True)
def _pick(gidx, jj, price, qty, j):
    """Prices and quantities of the gathered orders in bucket ``j``."""
    cnt = 0
    for t in range(gidx.size):
        cnt += jj[gidx[t]] == j
    p = np.empty(cnt)
    q = np.empty(cnt)
    c = 0
    for t in range(gidx.size):
        i = gidx[t]
        if jj[i] == j:
            p[c] = price[i]
            q[c] = qty[i]
            c += 1
    return p, q


@njit(cache=True)
def double_auction_core(bid_price, bid_qty, ask_price, ask_qty, bid_out, ask_out):
    """Clear one double auction; fills go to ``bid_out``/``ask_out`` (units).

    Returns (error code, price in USD per unit; NaN when nothing trades).
    """
    nb = n_buckets(bid_price.size + ask_price.size)
    nbk = nb + 2
    ok, kmax, scale = sample_grid(bid_price, bid_qty, 1.0, -np.inf, ask_price, ask_qty, 1.0, nb)
    if not ok:
        kmax = 0.0
        scale = 0.0
    jb = np.empty(bid_price.size, dtype=np.int32)
    ja = np.empty(ask_price.size, dtype=np.int32)
    ok_q, ok_p, hb = bucket_scatter(bid_price, bid_qty, -np.inf, kmax, scale, nb, jb)
    ok_q2, ok_p2, ha = bucket_scatter(ask_price, ask_qty, -np.inf, kmax, scale, nb, ja)
    if not (ok_q and ok_q2):
        return ERR_QTY, np.nan
    if not (ok_p and ok_p2):
        return ERR_PRICE, np.nan

    # Crossing bucket: the lowest-priced bucket j where the asks at or below it reach the
    # bids strictly above it (buckets are numbered from the highest price down).
    bids_above = np.empty(nbk + 1)  # bids_above[j]: bid units in buckets < j
    bids_above[0] = 0.0
    for j in range(nbk):
        bids_above[j + 1] = bids_above[j] + hb[j]
    asks_to = 0.0
    asks_below = 0.0
    jstar = 0
    for j in range(nbk - 1, -1, -1):
        asks_below = asks_to
        asks_to = asks_to + ha[j]
        if asks_to >= bids_above[j]:
            jstar = j
            break
    # Gather a window of buckets around it: the marginal buckets of both sides and their
    # neighbours usually lie inside, which saves a gather per side later.
    wlo = jstar
    seen = 0
    while wlo > 0 and seen < 3:
        wlo -= 1
        seen += (hb[wlo] + ha[wlo]) > 0.0
    whi = jstar
    seen = 0
    while whi < nbk - 1 and seen < 3:
        whi += 1
        seen += (hb[whi] + ha[whi]) > 0.0
    wb = gather_range(jb, wlo, whi)
    wa = gather_range(ja, wlo, whi)
    obp, obq = _pick(wb, jb, bid_price, bid_qty, jstar)
    oap, oaq = _pick(wa, ja, ask_price, ask_qty, jstar)
    volume = cross_refine(obp, obq, obp.size, oap, oaq, oap.size, asks_below, bids_above[jstar], -1)
    if not volume > 0.0:  # no bid reaches any ask
        bid_out[:] = 0.0
        ask_out[:] = 0.0
        return ERR_OK, np.nan

    slack = ALLOC_RTOL * volume
    lo = volume - slack
    hi = volume + slack
    bid_acc_min, bid_unf_max = _settle_side(
        jb, bid_price, bid_qty, 1.0, hb, nbk, wb, wlo, whi, volume, lo, hi, bid_out
    )
    ask_acc_min, ask_unf_max = _settle_side(
        ja, ask_price, ask_qty, -1.0, ha, nbk, wa, wlo, whi, volume, lo, hi, ask_out
    )
    # In ask keys (-price): the highest accepted ask is -ask_acc_min, the lowest unsold
    # ask is -ask_unf_max.
    lo_price = max(-ask_acc_min, bid_unf_max)
    hi_price = min(bid_acc_min, -ask_unf_max)
    price = 0.5 * lo_price + 0.5 * hi_price  # no overflow; clamped against underflow
    if lo_price <= hi_price:
        price = min(max(price, lo_price), hi_price)
    return ERR_OK, price
