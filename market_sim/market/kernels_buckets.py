"""Streaming passes over a bucketed order book, shared by the price-ordered kernels.

Orders are bucketed by price on a grid from ``kernels_select.sample_grid``; bucket 0 holds
the highest prices, ``nb + 1`` the lowest, and ``nb + 2`` is the spare bucket of orders
that take no part (zero quantity, below the reserve).  Loops run over blocks of 64 orders
with a fixed trip count so that LLVM vectorises the arithmetic; the rare orders that
must be gathered are found by a vectorised count per block and a scan of the blocks
that hold them.  ``resolve_side`` then settles the one marginal bucket exactly.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_select import bucket_of, select_level

BLOCK = 64


@njit(cache=True)
def bucket_scatter(price, qty, cutoff, kmax, scale, nb, jj):
    """Validate; write each order's bucket to ``jj`` (``nb + 2`` unless ``qty > 0`` and
    ``price >= cutoff``) and sum quantity per bucket.

    Returns (quantities ok, prices ok, bucket sums[nb + 3]).  Two plain loops: the first
    vectorises, the second is the scatter (fusing them measured slower).
    """
    ok_q = True
    ok_p = True
    skip = nb + 2
    for i in range(price.size):
        q = qty[i]
        p = price[i]
        ok_q &= (q >= 0.0) & (q < np.inf)
        ok_p &= (p > -np.inf) & (p < np.inf)
        j = bucket_of(p, kmax, scale, nb)
        jj[i] = j if (q > 0.0) & (p >= cutoff) else skip
    hist = np.zeros(nb + 3)
    for i in range(price.size):
        hist[jj[i]] += qty[i]
    return ok_q, ok_p, hist


@njit(cache=True)
def _gather_block(jj, jlo, w, b0, b1, gidx, cnt):
    for i in range(b0, b1):
        if np.uint32(jj[i] - jlo) <= w:
            gidx[cnt] = i
            cnt += 1
    return cnt


@njit(cache=True)
def fill_gather(jj, qty, jm, sign, jlo, jhi, out):
    """Settled fills and a gather, in one pass.

    ``out[i]`` = ``qty[i]`` if order i's bucket is served before bucket ``jm`` (buckets
    below ``jm`` for ``sign = +1``, above it for ``sign = -1``), else 0.  Returns the
    indices of the orders in buckets ``jlo..jhi`` (none if ``jhi < jlo``).
    """
    n = jj.size
    gidx = np.empty(n, dtype=np.int64)
    cnt = 0
    w = np.uint32(max(jhi - jlo, 0))  # j in jlo..jhi  <=>  uint32(j - jlo) <= w
    gather = jhi >= jlo
    s = np.int64(sign)
    full = n - n % BLOCK
    for b0 in range(0, full, BLOCK):
        hits = 0
        for i in range(b0, b0 + BLOCK):  # fixed trip count: vectorised
            j = np.int64(jj[i])
            out[i] = qty[i] if s * (jm - j) > 0 else 0.0
            hits += np.uint32(j - jlo) <= w
        if gather and hits > 0:
            cnt = _gather_block(jj, jlo, w, b0, b0 + BLOCK, gidx, cnt)
    for i in range(full, n):
        out[i] = qty[i] if s * (jm - np.int64(jj[i])) > 0 else 0.0
    if gather:
        cnt = _gather_block(jj, jlo, w, full, n, gidx, cnt)
    return gidx[:cnt]


@njit(cache=True)
def gather_range(jj, jlo, jhi):
    """Indices of the orders in buckets ``jlo..jhi`` (none if ``jhi < jlo``)."""
    n = jj.size
    if jhi < jlo:
        return np.empty(0, dtype=np.int64)
    w = np.uint32(jhi - jlo)
    cnt = 0
    for i in range(n):  # vectorised count
        cnt += np.uint32(jj[i] - jlo) <= w
    gidx = np.empty(cnt, dtype=np.int64)
    t = 0
    full = n - n % BLOCK
    for b0 in range(0, full, BLOCK):
        hits = 0
        for i in range(b0, b0 + BLOCK):  # fixed trip count: vectorised
            hits += np.uint32(jj[i] - jlo) <= w
        if hits > 0:
            t = _gather_block(jj, jlo, w, b0, b0 + BLOCK, gidx, t)
    _gather_block(jj, jlo, w, full, n, gidx, t)
    return gidx


@njit(cache=True)
def marginal_bucket(hist, nbk, lo, descending):
    """First non-empty bucket, in service order, where the running sum reaches ``lo``.

    Returns (bucket, or -1 when every bucket is served in full; units ahead of it).
    """
    c = 0.0
    for t in range(nbk):
        j = t if descending else nbk - 1 - t
        before = c
        c = c + hist[j]
        if c >= lo and hist[j] > 0.0:  # empty buckets hold no tie group
            return j, before
    return -1, c


@njit(cache=True)
def neighbours(hist, nbk, jm, descending):
    """Nearest non-empty buckets before and after ``jm`` in service order (-1: none).

    With ``jm = -1`` (every bucket served in full) "before" is the last non-empty bucket.
    """
    tm = nbk if jm < 0 else (jm if descending else nbk - 1 - jm)
    prev = -1
    nxt = -1
    for t in range(tm - 1, -1, -1):
        j = t if descending else nbk - 1 - t
        if hist[j] > 0.0:
            prev = j
            break
    for t in range(tm + 1, nbk):
        j = t if descending else nbk - 1 - t
        if hist[j] > 0.0:
            nxt = j
            break
    return prev, nxt


@njit(cache=True)
def span(a, b, c):
    """Smallest and largest of the non-negative ones of three bucket numbers."""
    lo = 1 << 62
    hi = -1
    for j in (a, b, c):
        if j >= 0:
            lo = min(lo, j)
            hi = max(hi, j)
    return lo, hi


@njit(cache=True)
def resolve_side(gidx, jj, price, qty, sign, jm, prev, nxt, before, supply, lo, hi, out):
    """Settle the marginal bucket ``jm`` from gathered orders and write their fills.

    ``gidx`` holds (at least) every order of ``jm`` and of its non-empty neighbours
    ``prev`` and ``nxt`` (others are skipped).  Keys are ``sign * price`` (served from the
    highest key down); ``before`` is the demand ahead of ``jm``.  Orders of ``prev``
    (served in full) and of the next bucket (nothing) only feed the statistics.  Returns
    (found, marginal key, smallest key with a fill > 0, largest key with a fill below its
    qty, top key after ``jm``), +inf/-inf meaning none.
    """
    cnt = gidx.size
    mk = np.empty(cnt)
    mq = np.empty(cnt)
    m = 0
    kmin = np.inf
    kmax = -np.inf
    for t in range(cnt):
        i = gidx[t]
        if jj[i] == jm:
            k = sign * price[i]
            mk[m] = k
            mq[m] = qty[i]
            m += 1
            kmin = min(kmin, k)
            kmax = max(kmax, k)
    found, key_m, g_before, g = select_level(
        mk[:m], mq[:m], 1.0, -np.inf, kmin, kmax, m, before, lo, hi
    )
    if g_before >= lo:
        share = 0.0
    elif g_before + g <= hi:
        share = 1.0
    else:
        share = (supply - g_before) / g
    acc_min = np.inf
    unf_max = -np.inf
    next_top = -np.inf
    rlo, rhi = span(prev, jm, nxt)
    for t in range(cnt):
        i = gidx[t]
        j = jj[i]
        if j < rlo or j > rhi:
            continue
        q = qty[i]
        k = sign * price[i]
        if j == jm:
            f = 0.0
            if not found or k > key_m:
                f = q
            elif k == key_m:
                f = q if share == 1.0 else q * share
            out[i] = f
        elif j == prev:
            f = q
        else:
            f = 0.0
            next_top = max(next_top, k)
        if f > 0.0:
            acc_min = min(acc_min, k)
        if f < q:
            unf_max = max(unf_max, k)
    return found, key_m, acc_min, unf_max, next_top
