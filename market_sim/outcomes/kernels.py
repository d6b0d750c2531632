"""numba kernels for the weekly outcomes whose cost grows with the order book or the
startup population (arrays in, arrays or scalars out; ``cache=True``).

Their test oracles (tests/test_model_parts.py) are the numpy definitions in
:mod:`market_sim.outcomes.measures` (``weighted_quantiles``, ``hhi``, ``top_share``) and numpy
expressions of the same sums and counts; ``gini`` is checked against the mean absolute
difference.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit


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
