"""Crossing volume of a double auction from the orders of the crossing bucket.

``double_auction_core`` locates the price bucket where the supply curve meets the demand
curve; the functions here solve that bucket exactly, repeating bucket rounds while it is
large and walking the sorted prices once it is small (see ``kernels_select``).
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_select import SMALL, n_buckets, stable_argsort, usable_range


# --------------------------------------------------------------------------- crossing
@njit(cache=True)
def _cross_exact(bp, bq, nbid, ap, aq, nask, a_below, b_above):
    """Traded volume from a small set of bids and asks, by a walk over sorted prices.

    ``a_below``: ask units priced below every item here; ``b_above``: bid units priced
    above every item here.  Finds the lowest price p with S(p) >= D(p), where S(p) are the
    ask units at or below p and D(p) the bid units at or above p, and returns
    max(S(p-), D(p)), with S(p-) the ask units strictly below p.
    """
    ob = stable_argsort(bp[:nbid])
    oa = stable_argsort(ap[:nask])
    # bids_from[t]: bid units at or above the t-th lowest bid, summed from the top down
    # (no cancellation for small bids beside large ones)
    bids_from = np.empty(nbid + 1)
    bids_from[nbid] = b_above
    for t in range(nbid - 1, -1, -1):
        bids_from[t] = bids_from[t + 1] + bq[ob[t]]
    i = 0
    j = 0
    asks_below = a_below
    while i < nbid or j < nask:
        if j >= nask or (i < nbid and bp[ob[i]] < ap[oa[j]]):
            p = bp[ob[i]]
        else:
            p = ap[oa[j]]
        asks_here = 0.0
        while j < nask and ap[oa[j]] == p:
            asks_here += aq[oa[j]]
            j += 1
        demand = bids_from[i]  # bids at or above p
        while i < nbid and bp[ob[i]] == p:
            i += 1
        if asks_below + asks_here >= demand:
            return max(asks_below, demand)
        asks_below = asks_below + asks_here
    return max(asks_below, b_above)


@njit(cache=True)
def _cross_round(bp, bq, ap, aq, lo_p, hi_p, nb, a_below, b_above, obp, obq, oap, oaq):
    """One bucket round of :func:`cross_refine` over prices in [lo_p, hi_p].

    Returns (state, nbid, nask, lo_p, hi_p, a_below, b_above, volume): state 0 when the
    crossing lies beyond this window (volume is then final), else the bids/asks of the
    crossing bucket are gathered into ``obp/obq`` and ``oap/oaq``.
    """
    scale = nb / (hi_p - lo_p)
    top = nb - 1
    hb = np.zeros(nb)
    ha = np.zeros(nb)
    for i in range(bp.size):
        q = bq[i]
        p = bp[i]
        if q > 0.0 and p >= lo_p:
            hb[min(int((p - lo_p) * scale), top)] += q
    for i in range(ap.size):
        q = aq[i]
        p = ap[i]
        if q > 0.0 and p <= hi_p:
            ha[min(int((p - lo_p) * scale), top)] += q
    bids_from = np.empty(nb + 1)  # bids_from[j]: bid units in buckets >= j, plus b_above
    bids_from[nb] = b_above
    for j in range(nb - 1, -1, -1):
        bids_from[j] = bids_from[j + 1] + hb[j]
    asks_to = a_below
    jstar = -1
    asks_before = a_below
    for j in range(nb):
        asks_before = asks_to
        asks_to = asks_to + ha[j]
        if asks_to >= bids_from[j + 1]:
            jstar = j
            break
    if jstar < 0:
        return 0, 0, 0, 0.0, 0.0, 0.0, 0.0, max(asks_to, b_above)
    nbid = 0
    nask = 0
    new_lo = np.inf
    new_hi = -np.inf
    for i in range(bp.size):
        q = bq[i]
        p = bp[i]
        if q > 0.0 and p >= lo_p and min(int((p - lo_p) * scale), top) == jstar:
            obp[nbid] = p
            obq[nbid] = q
            nbid += 1
            new_lo = min(new_lo, p)
            new_hi = max(new_hi, p)
    for i in range(ap.size):
        q = aq[i]
        p = ap[i]
        if q > 0.0 and p <= hi_p and min(int((p - lo_p) * scale), top) == jstar:
            oap[nask] = p
            oaq[nask] = q
            nask += 1
            new_lo = min(new_lo, p)
            new_hi = max(new_hi, p)
    return 1, nbid, nask, new_lo, new_hi, asks_before, bids_from[jstar + 1], 0.0


@njit(cache=True)
def cross_refine(obp, obq, cb, oap, oaq, ca, a_below, b_above, previous):
    """Traded volume from gathered bids ``obp/obq[:cb]`` and asks ``oap/oaq[:ca]`` that
    hold the crossing; ``a_below``/``b_above``: ask/bid units priced below/above all of
    them; ``previous``: item count of the round that gathered them (to detect a round
    without progress).  Repeats bucket rounds, then solves exactly.
    """
    while True:
        total = cb + ca
        lo_p = np.inf
        hi_p = -np.inf
        for i in range(cb):
            lo_p = min(lo_p, obp[i])
            hi_p = max(hi_p, obp[i])
        for i in range(ca):
            lo_p = min(lo_p, oap[i])
            hi_p = max(hi_p, oap[i])
        nb = n_buckets(total)
        if total <= SMALL or total == previous or not usable_range(lo_p, hi_p, nb):
            return _cross_exact(obp, obq, cb, oap, oaq, ca, a_below, b_above)
        nbp = np.empty(cb)
        nbq = np.empty(cb)
        nap = np.empty(ca)
        naq = np.empty(ca)
        state, cb2, ca2, _, _, a_below, b_above, vol = _cross_round(
            obp[:cb], obq[:cb], oap[:ca], oaq[:ca], lo_p, hi_p, nb, a_below, b_above,
            nbp, nbq, nap, naq,
        )  # fmt: skip
        if state == 0:
            return vol
        previous = total
        cb, ca = cb2, ca2
        obp, obq, oap, oaq = nbp, nbq, nap, naq
