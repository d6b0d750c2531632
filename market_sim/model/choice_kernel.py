"""Every holder's product choice in one kernel pass (:func:`choice_cells`).

:func:`market_sim.model.choice.choices_for` calls it with the one numpy step a kernel
would round differently (the exponential of the scores, numpy's own ``exp``) done
first; :func:`market_sim.model.choice.choices_reference` is the all-numpy version and the
test oracle (tests/test_choice_kernel.py): the same numbers, bit for bit. Sums over a
row are numpy's pairwise summation
(:func:`market_sim.market.kernels_sum.pairwise_sum`), which ``ndarray.sum(axis=1)``
uses on a contiguous row.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_sum import pairwise_sum


@njit(cache=True)
def choice_cells(
    orderable: np.ndarray,
    allowed: np.ndarray,
    price_per_h100e: np.ndarray,
    ceiling: np.ndarray,
    weights: np.ndarray,
    commitment: np.ndarray,
    expo: np.ndarray,
    quotes: np.ndarray,
    list_price: np.ndarray,
    h100e: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shares [holders, products] and each holder's implied quote (weeks), then the cells
    with a positive share in row-major order: flat index (holder x products + product),
    units per H100e ordered, limit USD per unit.

    A holder may order a product that is ``orderable``, ``allowed`` to it and priced
    (USD per H100e) within its ``ceiling``; its weight is ``weights`` x (1 + the
    product's program ``commitment``); its score the weight x ``expo`` (the price and
    lead-time factor); its share the score over the row's sum (a row of zeros when
    nothing scores). The limit is the list price or the ceiling per unit, the higher.
    """
    n_h, n_p = allowed.shape
    shares = np.zeros((n_h, n_p))
    quote = np.empty(n_h)
    row = np.empty(n_p)
    cells = np.empty(n_h * n_p, dtype=np.int64)
    per = np.empty(n_h * n_p)
    limit = np.empty(n_h * n_p)
    k = 0
    for h in range(n_h):
        for p in range(n_p):
            w = weights[h, p] * (1.0 + commitment[p])
            ok = orderable[p] and allowed[h, p] and price_per_h100e[p] <= ceiling[h]
            if not ok:
                w = 0.0
            row[p] = w * expo[h, p] if w > 0.0 else 0.0
        total = pairwise_sum(row, 0, n_p)
        if total > 0.0:
            for p in range(n_p):
                shares[h, p] = row[p] / total
        for p in range(n_p):
            row[p] = shares[h, p] * quotes[h, p]
        quote[h] = pairwise_sum(row, 0, n_p)
        for p in range(n_p):
            s = shares[h, p]
            if s > 0.0:
                cells[k] = h * n_p + p
                per[k] = s / h100e[p]
                a = list_price[p]
                b = ceiling[h] * h100e[p]
                limit[k] = a if (a != a or a >= b) and b == b else b  # np.maximum
                k += 1
    return shares, quote, cells[:k], per[:k], limit[:k]


@njit(cache=True)
def startup_exponents(
    log_price: np.ndarray,
    quotes: np.ndarray,
    tier: int,
    elasticity: float,
    sensitivity: float,
) -> np.ndarray:
    """The startups' score exponent of each product: ``-elasticity x log price per H100e
    - sensitivity x quoted weeks at ``tier`` (``quotes`` [products, tiers])``, as numpy
    computes it on the arrays (``Trading._best_startup_product_reference``)."""
    n = log_price.shape[0]
    out = np.empty(n)
    for p in range(n):
        out[p] = -elasticity * log_price[p] - sensitivity * quotes[p, tier]
    return out


@njit(cache=True)
def best_startup_score(weight: np.ndarray, expo: np.ndarray, ok: np.ndarray) -> int:
    """``np.argmax(np.where(ok, weight x expo, -1.0))``: the first product with the
    highest score (the first NaN if any), or -1 when no product is ``ok``."""
    best = -1
    top = 0.0
    seen = False
    for p in range(weight.shape[0]):
        s = weight[p] * expo[p] if ok[p] else -1.0
        if s != s:  # NaN: numpy's argmax stops at the first
            return p
        if not seen or s > top:
            best, top, seen = p, s, True
    for p in range(ok.shape[0]):
        if ok[p]:
            return best
    return -1


@njit(cache=True)
def choice_exponents(
    log_price: np.ndarray,
    quotes: np.ndarray,
    tiers: np.ndarray,
    elasticity: np.ndarray,
    sensitivity: np.ndarray,
) -> np.ndarray:
    """[2, holders, products]: each holder's score exponent of each product, ``-elasticity
    x log price per H100e - sensitivity x quoted weeks``, and those quoted weeks (as
    floats): the quotes (``quotes`` [products, tiers]) at the holder's tier (at most the
    last). ``elasticity`` and ``sensitivity`` are [holders, 1]. The same numbers as
    :func:`market_sim.model.choice.choice_matrix`'s numpy on the arrays."""
    n_h = tiers.shape[0]
    n_p, n_t = quotes.shape
    out = np.empty((2, n_h, n_p))
    for h in range(n_h):
        t = tiers[h] if tiers[h] < n_t - 1 else n_t - 1
        for p in range(n_p):
            q = float(quotes[p, t])
            out[1, h, p] = q
            out[0, h, p] = -elasticity[h, 0] * log_price[p] - sensitivity[h, 0] * q
    return out
