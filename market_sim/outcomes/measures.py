"""Distribution measures of the weekly outcomes: weighted quantiles (of lead times) and
concentration (HHI, Gini, top-k shares). The per-week work over the order book and the
startups runs in numba (:mod:`market_sim.outcomes.kernels`); the numpy definitions here are
its test oracles.
"""

from __future__ import annotations

import numpy as np

from market_sim.outcomes.kernels import class_week_quantiles_kernel, gini_of_sorted, largest_sum

QS = (0.5, 0.9)  # median and p90
_QS = np.array(QS)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile (0..1) of values weighted by weights (lower value at a tie).

    NaN for no positive weight.
    """
    return float(weighted_quantiles(values, weights, (q,))[0])


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]
) -> np.ndarray:
    """Several weighted quantiles with one sort (NaN each for no positive weight)."""
    keep = weights > 0
    if not keep.any():
        return np.full(len(qs), np.nan)
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    return v[np.searchsorted(cum, np.asarray(qs) * cum[-1], side="left")]


def class_week_quantiles(
    klass: np.ndarray, weeks: np.ndarray, weights: np.ndarray, n_classes: int
) -> np.ndarray:
    """[class, QS]: weighted quantiles of whole weeks per class, NaN where a class has no
    weight; one histogram pass in numba (weeks are small integers), the same values as
    :func:`weighted_quantiles` on each class's rows."""
    return class_week_quantiles_kernel(
        np.asarray(klass, dtype=np.int64),
        np.asarray(weeks, dtype=np.int64),
        np.asarray(weights, dtype=np.float64),
        n_classes,
        _QS,
    )


def hhi(amounts: np.ndarray, total: float | None = None) -> float:
    """Herfindahl-Hirschman index of shares in percent (0 to 10,000).

    ``total`` (default: the sum) may exceed the sum when part of the market is
    fragmented among holders too small to list.
    """
    total = amounts.sum() if total is None else total
    if total <= 0:
        return 0.0
    s = 100.0 * amounts / total
    return float((s * s).sum())


def hhi_of_parts(amounts: np.ndarray, more_squares: float, total: float) -> float:
    """:func:`hhi` of ``amounts`` plus holders known only by the sum of their squared
    amounts (``more_squares``), out of ``total``."""
    if total <= 0:
        return 0.0
    s = 100.0 * amounts / total
    return float(s @ s) + 1e4 * (more_squares / total) / total


def gini(amounts: np.ndarray, in_place: bool = False) -> float:
    """Gini coefficient of non-negative amounts (0 equal, towards 1 concentrated).

    ``in_place``: sort ``amounts`` (a float64 array the caller gives up) instead of a
    copy; the same value.
    """
    if in_place:
        amounts.sort()
        return gini_of_sorted(amounts)
    return gini_of_sorted(np.sort(np.asarray(amounts, dtype=np.float64)))


def top_share(amounts: np.ndarray, k: int, total: float | None = None) -> float:
    """Percent of the total (default: the sum) held by the k largest amounts."""
    total = amounts.sum() if total is None else total
    if total <= 0:
        return 0.0
    return float(100.0 * largest_sum(np.asarray(amounts, dtype=np.float64), k) / total)
