"""Linear-time selection: the bucket grid, a stable sort, and the marginal tie group.

The marginal tie group (and, in ``kernels_cross``, the crossing volume of a double
auction) asks "where does a running quantity sum, taken in price order, cross a
target?" — which needs the order of the few items near the crossing, not a full sort.
The kernels use *bucket selection*: one pass spreads the items over ``nb`` equal-width
price buckets and sums their quantities per bucket; a scan of the bucket sums finds the
one bucket that holds the crossing; a second pass gathers that bucket's items, and the
search repeats on them (sorting only once a handful of items, or a single price, is
left).  Each round costs O(n) and keeps about n/nb items, so the whole search is O(n)
for any price distribution that is not astronomically skewed; a round that makes no
progress falls back to sorting, so the worst case is O(n log n).  There is no
randomness: the same input always takes the same path and gives the same floats.

Keys are ``sign * price`` with ``sign = +1`` (highest price served first: bids, auction
orders) or ``sign = -1`` (lowest price first: asks); negation is exact.
"""

from __future__ import annotations

import math

import numpy as np

from market_sim.jit import njit

#: Items at or below this count are sorted directly.
SMALL = 48
#: Upper bound on buckets per round (bucket sums must stay in L1/L2 cache).
MAX_BUCKETS = 2048


@njit(cache=True)
def n_buckets(m):
    """Buckets for a round over ``m`` items: about 8 items per bucket, 16..MAX_BUCKETS."""
    b = m // 8
    if b < 16:
        b = 16
    if b > MAX_BUCKETS:
        b = MAX_BUCKETS
    return b


@njit(cache=True)
def usable_range(lo_key, hi_key, nb):
    """True when ``nb / (hi_key - lo_key)`` is a finite positive bucket scale."""
    if not hi_key > lo_key:
        return False
    scale = nb / (hi_key - lo_key)
    return math.isfinite(scale) and scale > 0.0


@njit(cache=True)
def sample_grid(price, qty, sign, cutoff, price2, qty2, sign2, nb):
    """Bucket grid from a fixed strided sample (no randomness) of up to ~512 items per side.

    Items are ``qty > 0`` and ``key = sign * price >= cutoff`` (the second side, possibly
    empty, uses ``sign2`` and no cutoff).  Returns (ok, kmax, scale): bucket ``j`` of
    :func:`bucket_of` then spans keys ``kmax - (j - 1) / scale`` down to ``kmax - j /
    scale`` for j in 1..nb; bucket 0 holds keys above the sample, nb + 1 keys below it.
    """
    kmin = np.inf
    kmax = -np.inf
    step = max(1, price.size // 512)
    for i in range(0, price.size, step):
        k = sign * price[i]
        if qty[i] > 0.0 and k >= cutoff and k < np.inf:
            kmin = min(kmin, k)
            kmax = max(kmax, k)
    step = max(1, price2.size // 512)
    for i in range(0, price2.size, step):
        k = sign2 * price2[i]
        if qty2[i] > 0.0 and k > -np.inf and k < np.inf:
            kmin = min(kmin, k)
            kmax = max(kmax, k)
    if not usable_range(kmin, kmax, nb):
        return False, 0.0, 0.0
    return True, kmax, nb / (kmax - kmin)


@njit(cache=True)
def bucket_of(k, kmax, scale, nb):
    """Bucket 0..nb+1 of key ``k`` on a grid from :func:`sample_grid`; non-increasing in k."""
    x = (kmax - k) * scale
    if not x > -1.0:  # also catches NaN (the caller reports invalid prices)
        x = -1.0
    if x > nb:
        x = float(nb)
    return int(x + 1.0)


# --------------------------------------------------------------------------- sorting
@njit(cache=True)
def stable_argsort(keys):
    """Indices that sort ``keys`` ascending, ties in index order (bottom-up merge sort).

    A small hand-written sort: it compiles in a fraction of the time of numba's generic
    ``np.argsort`` implementations, for float64 and int64 keys alike.
    """
    n = keys.size
    src = np.arange(n)
    dst = np.empty(n, dtype=np.int64)
    run = 16
    for s in range(0, n, run):  # insertion sort of short runs
        e = min(s + run, n)
        for i in range(s + 1, e):
            v = src[i]
            kv = keys[v]
            j = i - 1
            while j >= s and keys[src[j]] > kv:
                src[j + 1] = src[j]
                j -= 1
            src[j + 1] = v
    width = run
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                if keys[src[j]] < keys[src[i]]:
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return src


# --------------------------------------------------------------------------- marginal level
@njit(cache=True)
def _level_exact(keys, qtys, m, c0, lo, hi):
    """Walk ``m`` items from the highest key down; return the first tie group whose
    demand ahead ``before >= lo`` or whose demand through it ``before + g > hi``.

    Returns (found, key, before, g).  ``c0`` is the demand ahead of all these items.
    """
    if m == 0:
        return False, 0.0, c0, 0.0
    order = stable_argsort(-keys[:m])
    before = c0
    i = 0
    while i < m:
        k = keys[order[i]]
        g = 0.0
        j = i
        while j < m and keys[order[j]] == k:
            g += qtys[order[j]]
            j += 1
        if before >= lo or before + g > hi:
            return True, k, before, g
        before = before + g
        i = j
    return False, 0.0, before, 0.0


@njit(cache=True)
def _level_round(price, qty, sign, cutoff, kmin, kmax, c0, lo, nb, out_k, out_q):
    """One bucket round of :func:`select_level` over items ``qty > 0 and key >= cutoff``.

    Returns (state, m, kmin, kmax, c0, fb_found, fb_key, fb_before, fb_g): state 0 when
    no bucket brings the running sum to ``lo`` (the answer is not in this set; c0 is then
    the running sum through all items), else the items of the crossing bucket are in
    ``out_k/out_q[:m]`` with their key range and the demand ahead of them, and ``fb_*``
    describe the top tie group of the next non-empty bucket (the answer if none of the
    gathered items is).
    """
    n = price.size
    scale = nb / (kmax - kmin)
    top = nb - 1
    hist = np.zeros(nb)
    for i in range(n):
        q = qty[i]
        k = sign * price[i]
        if q > 0.0 and k >= cutoff:
            j = min(int((kmax - k) * scale), top)
            hist[j] += q
    c = c0
    jstar = -1
    before = c0
    for j in range(nb):
        before = c
        c = c + hist[j]
        if c >= lo:
            jstar = j
            break
    if jstar < 0:
        return 0, 0, 0.0, 0.0, c, False, 0.0, 0.0, 0.0
    j2 = -1
    for j in range(jstar + 1, nb):
        if hist[j] > 0.0:
            j2 = j
            break
    m = 0
    new_min = np.inf
    new_max = -np.inf
    fb_key = -np.inf
    fb_g = 0.0
    for i in range(n):
        q = qty[i]
        k = sign * price[i]
        if q > 0.0 and k >= cutoff:
            j = min(int((kmax - k) * scale), top)
            if j == jstar:
                out_k[m] = k
                out_q[m] = q
                m += 1
                new_min = min(new_min, k)
                new_max = max(new_max, k)
            elif j == j2:
                if k > fb_key:
                    fb_key = k
                    fb_g = q
                elif k == fb_key:
                    fb_g += q
    return 1, m, new_min, new_max, before, j2 >= 0, fb_key, c, fb_g


@njit(cache=True)
def _gather(price, qty, sign, cutoff, out_k, out_q):
    m = 0
    for i in range(price.size):
        q = qty[i]
        k = sign * price[i]
        if q > 0.0 and k >= cutoff:
            out_k[m] = k
            out_q[m] = q
            m += 1
    return m


@njit(cache=True)
def select_level(price, qty, sign, cutoff, kmin, kmax, m, c0, lo, hi):
    """Find the marginal tie group of a rationing walk without sorting.

    Items are the ``m`` entries with ``qty > 0`` and ``key = sign * price >= cutoff``;
    ``kmin``/``kmax`` are their smallest/largest key.  Tie groups (equal keys) are served
    from the highest key down, with ``c0`` units of demand ahead of them all.  Returns
    ``(found, key, before, g)``: the first group with ``before >= lo`` (supply used up)
    or ``before + g > hi`` (not served in full), where ``before`` is the demand ahead of
    it and ``g`` its own demand; ``found`` is False when every group is served in full.
    """
    if m == 0:
        return False, 0.0, c0, 0.0
    buf_k = np.empty(m)
    buf_q = np.empty(m)
    nb = n_buckets(m)
    if m <= SMALL or not usable_range(kmin, kmax, nb):
        cnt = _gather(price, qty, sign, cutoff, buf_k, buf_q)
        return _level_exact(buf_k, buf_q, cnt, c0, lo, hi)
    state, cnt, kmin, kmax, c0, fb_found, fb_key, fb_before, fb_g = _level_round(
        price, qty, sign, cutoff, kmin, kmax, c0, lo, nb, buf_k, buf_q
    )
    if state == 0:
        return False, 0.0, c0, 0.0
    cur_k = buf_k
    cur_q = buf_q
    previous = m
    while True:
        nb = n_buckets(cnt)
        if kmin == kmax:  # a single tie group
            g = 0.0
            for i in range(cnt):
                g += cur_q[i]
            if c0 >= lo or c0 + g > hi:
                return True, kmin, c0, g
        elif cnt <= SMALL or cnt == previous or not usable_range(kmin, kmax, nb):
            found, key, before, g = _level_exact(cur_k, cur_q, cnt, c0, lo, hi)
            if found:
                return True, key, before, g
        else:
            nxt_k = np.empty(cnt)
            nxt_q = np.empty(cnt)
            state, cnt2, kmin2, kmax2, c1, f2, k2, b2, g2 = _level_round(
                cur_k[:cnt], cur_q[:cnt], 1.0, -np.inf, kmin, kmax, c0, lo, nb, nxt_k, nxt_q
            )
            if state == 1:
                if f2:
                    fb_found, fb_key, fb_before, fb_g = True, k2, b2, g2
                previous = cnt
                cnt, kmin, kmax, c0 = cnt2, kmin2, kmax2, c1
                cur_k = nxt_k
                cur_q = nxt_q
                continue
        # Not among the gathered items: the answer is the fallback group, if any.
        if fb_found:
            return True, fb_key, fb_before, fb_g
        return False, 0.0, c0, 0.0
