"""Phase 6's forecasts and list prices in one kernel call (:func:`reprice_kernel`).

Each vendor smooths its products' order inflow into a forecast and, unless it is an
in-house program, moves the list price of each launched product by the backlog it
faces: what ``VendorAgent.update_forecast`` and ``VendorAgent.reprice`` do, vendor by
vendor, product by product, with the same arithmetic (``math.log`` is the C library's
in both). Those methods (``Supply.reprice_reference``) are its oracle
(tests/test_production_kernel.py runs a model each way).
"""

from __future__ import annotations

import math

import numpy as np

from market_sim.jit import njit


@njit(cache=True)
def reprice_kernel(
    week: int,
    new_orders: np.ndarray,
    backlog: np.ndarray,
    launch_week: np.ndarray,
    unit_cost_usd: np.ndarray,
    vendor_offsets: np.ndarray,
    vendor_products: np.ndarray,
    in_house: np.ndarray,
    forecast_smoothing: np.ndarray,
    throughput: np.ndarray,
    sensitivity: float,
    min_backlog_weeks: float,
    target_backlog_weeks: float,
    max_change_per_week: float,
    floor_markup: float,
    forecast: np.ndarray,
    list_price: np.ndarray,
) -> None:
    """Update ``forecast`` (units a week) from ``new_orders`` (units) and ``list_price``
    (USD per unit) from ``backlog`` (units) in place: for each vendor (``in_house``
    [vendors]: transfers at cost, no repricing) and each of its products, launched by
    ``week``: ``price x (1 + clip(sensitivity x ln(backlog weeks / target)))``, the
    backlog weeks over the largest of throughput, forecast and 1 unit a week, never below
    ``unit_cost_usd x floor_markup``."""
    for v in range(vendor_offsets.shape[0] - 1):
        a = forecast_smoothing[v]
        lo, hi = vendor_offsets[v], vendor_offsets[v + 1]
        for k in range(lo, hi):
            p = vendor_products[k]
            forecast[p] += a * (new_orders[p] - forecast[p])
        if in_house[v]:
            continue
        for k in range(lo, hi):
            p = vendor_products[k]
            if week < launch_week[p]:
                continue
            rate = throughput[p]  # max(throughput, forecast, 1.0), first on a tie
            if forecast[p] > rate:
                rate = forecast[p]
            if 1.0 > rate:
                rate = 1.0
            backlog_weeks = backlog[p] / rate
            if min_backlog_weeks > backlog_weeks:
                backlog_weeks = min_backlog_weeks
            change = sensitivity * math.log(backlog_weeks / target_backlog_weeks)
            low = -max_change_per_week  # min(max_change, max(-max_change, change))
            if change > low:
                low = change
            change = low if low < max_change_per_week else max_change_per_week
            floor = unit_cost_usd[p] * floor_markup
            price = list_price[p] * (1.0 + change)
            list_price[p] = price if price > floor else floor
