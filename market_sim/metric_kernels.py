"""numba kernels for the weekly outcomes whose cost grows with the order book or the
startup population (arrays in, arrays or scalars out; ``cache=True``).

Their test oracles (tests/test_model_parts.py) are the numpy definitions in
:mod:`market_sim.measures` (``weighted_quantiles``, ``hhi``, ``top_share``) and numpy
expressions of the same sums and counts; ``gini`` is checked against the mean absolute
difference.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from market_sim.agents.startup_kernels import ACTIVE, EXITED


@njit(cache=True)
def class_week_quantiles_kernel(
    klass: np.ndarray, weeks: np.ndarray, weights: np.ndarray, n_classes: int, qs: np.ndarray
) -> np.ndarray:
    """[class, q]: weighted quantiles of whole weeks per buyer class; NaN for a class
    with no positive weight.

    ``klass`` (class codes 0..n_classes-1), ``weeks`` (integer weeks; negatives count as
    0) and ``weights`` (units) are per order. The q-quantile is the smallest week whose
    cumulative weight reaches q times the class's total, and never a week without weight
    (the lower value at a tie, as ``measures.weighted_quantiles``).
    """
    out = np.full((n_classes, qs.shape[0]), np.nan)
    width = 0
    for i in range(weeks.shape[0]):
        if weights[i] > 0.0 and weeks[i] + 1 > width:
            width = weeks[i] + 1
    if width == 0:
        width = 1
    hist = np.zeros((n_classes, width))
    for i in range(weeks.shape[0]):
        if weights[i] > 0.0:
            wk = weeks[i] if weeks[i] > 0 else 0
            hist[klass[i], wk] += weights[i]
    for c in range(n_classes):
        total = 0.0
        first = -1
        for wk in range(width):
            total += hist[c, wk]
            if first < 0 and hist[c, wk] > 0.0:
                first = wk
        if first < 0:
            continue
        for j in range(qs.shape[0]):
            target = qs[j] * total
            cum = 0.0
            idx = width - 1
            for wk in range(width):
                cum += hist[c, wk]
                if cum >= target:
                    idx = wk
                    break
            out[c, j] = idx if idx > first else first
    return out


@njit(cache=True)
def population_summary(
    status: np.ndarray,
    starved: np.ndarray,
    got: np.ndarray,
    owned: np.ndarray,
    rented: np.ndarray,
    firms_h100e: np.ndarray,
    top_k: int,
) -> tuple[int, int, int, float, float, float, float, np.ndarray, np.ndarray]:
    """One pass over the startups: ``(active, starved, exited, compute_h100e,
    owned_h100e, rented_h100e, owned_squares, owned_top, access_h100e)``.

    Counts are of startups (starved: active and starved this week); ``compute`` (owned
    plus rented in use) and ``rented`` sum over active startups; ``owned`` and
    ``owned_squares`` (sum of squares, for the HHI) over all. ``owned_top``: the
    ``top_k`` largest owned amounts, largest first (fewer when there are fewer
    startups). ``access_h100e`` is ``firms_h100e`` (each firm's installed H100e) followed
    by each active startup's compute: the values whose Gini coefficient is
    ``gini_compute`` (sorted by the caller: numpy's sort is several times faster than
    numba's).
    """
    n_active = 0
    n_starved = 0
    n_exited = 0
    compute = 0.0
    owned_sum = 0.0
    owned_sq = 0.0
    rented_sum = 0.0
    top = np.full(max(top_k, 0), -np.inf)  # descending
    n_f = firms_h100e.shape[0]
    access = np.empty(n_f + status.shape[0])
    access[:n_f] = firms_h100e
    k = n_f
    for i in range(status.shape[0]):
        x = owned[i]
        owned_sum += x
        owned_sq += x * x
        if top_k > 0 and x > top[top_k - 1]:
            j = top_k - 1
            while j > 0 and top[j - 1] < x:
                top[j] = top[j - 1]
                j -= 1
            top[j] = x
        if status[i] == ACTIVE:
            n_active += 1
            if starved[i] > 0:
                n_starved += 1
            compute += got[i]
            rented_sum += rented[i]
            access[k] = got[i]
            k += 1
        elif status[i] == EXITED:
            n_exited += 1
    n_top = min(max(top_k, 0), status.shape[0])
    return (
        n_active,
        n_starved,
        n_exited,
        compute,
        owned_sum,
        rented_sum,
        owned_sq,
        top[:n_top],
        access[:k],
    )


@njit(cache=True)
def largest_sum(amounts: np.ndarray, k: int) -> float:
    """Sum of the ``k`` largest amounts (``np.sort(a)[::-1][:k].sum()`` up to rounding),
    in one pass with a sorted buffer of k: O(n k) instead of a sort, for small k."""
    if k <= 0:
        return 0.0
    top = np.full(k, -np.inf)  # descending
    for x in amounts:
        if x > top[k - 1]:
            j = k - 1
            while j > 0 and top[j - 1] < x:
                top[j] = top[j - 1]
                j -= 1
            top[j] = x
    total = 0.0
    for j in range(k):
        if top[j] > -np.inf:
            total += top[j]
    return total


@njit(cache=True)
def gini_of_sorted(x: np.ndarray) -> float:
    """Gini coefficient of non-negative amounts sorted ascending (``measures.gini`` sorts
    with numpy, which is faster than numba's sort, and calls this)."""
    n = x.shape[0]
    total = 0.0
    ranked = 0.0  # sum of rank x amount, ranks from 1
    for i in range(n):
        total += x[i]
        ranked += (i + 1.0) * x[i]
    if n == 0 or total <= 0.0:
        return 0.0
    return 2.0 * ranked / (n * total) - (n + 1.0) / n
