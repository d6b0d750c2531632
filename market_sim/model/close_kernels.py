"""Phase 6's cancellation checks in a kernel call each, with their numpy twins.

:meth:`market_sim.model.production.Supply.cancel_undeliverable` asks, every week, whether
any open order's limit price is below its product's list price
(:func:`any_priced_out`), and for each product whose last start is past, how many open
units its pipeline and inventory cannot fill (:func:`undeliverable_excess`). The
``*_reference`` functions are the numpy the model used before (the test oracles,
tests/test_close_kernels.py); the sums follow numpy's pairwise order
(:func:`market_sim.market.kernels_sum.pairwise_sum_any`), so the numbers are the same.
Units: product units, USD per unit.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_sum import pairwise_sum_any


@njit(cache=True)
def any_priced_out(limit_price: np.ndarray, list_price: np.ndarray, product: np.ndarray) -> bool:
    """Whether any order's ``limit_price`` is below its ``product``'s ``list_price``."""
    for i in range(limit_price.shape[0]):
        if limit_price[i] < list_price[product[i]]:
            return True
    return False


def any_priced_out_reference(
    limit_price: np.ndarray, list_price: np.ndarray, product: np.ndarray
) -> bool:
    """:func:`any_priced_out` in numpy."""
    return bool((limit_price < list_price[product]).any())


@njit(cache=True)
def undeliverable_excess(
    p: int,
    product: np.ndarray,
    qty: np.ndarray,
    pipeline: np.ndarray,
    inventory: float,
) -> tuple[np.ndarray, float]:
    """The open orders of product ``p`` (their book rows, ascending) and the units they
    ask beyond what ``pipeline`` (the product's, units arriving in 1, 2, ... weeks) and
    ``inventory`` hold: ``sum(qty of the orders) - sum(pipeline) - inventory``, each sum
    in numpy's order."""
    n = 0
    for i in range(product.shape[0]):
        n += product[i] == p
    idx = np.empty(n, dtype=np.int64)
    units = np.empty(n)
    k = 0
    for i in range(product.shape[0]):
        if product[i] == p:
            idx[k] = i
            units[k] = qty[i]
            k += 1
    excess = pairwise_sum_any(units, 0, n) - pairwise_sum_any(pipeline, 0, pipeline.shape[0])
    return idx, excess - inventory


def undeliverable_excess_reference(
    p: int, product: np.ndarray, qty: np.ndarray, pipeline: np.ndarray, inventory: float
) -> tuple[np.ndarray, float]:
    """:func:`undeliverable_excess` in numpy."""
    idx = np.flatnonzero(product == p)
    excess = float(qty[idx].sum()) - float(pipeline.sum())
    excess -= inventory
    return idx, excess


def warm() -> None:
    """Load (or compile) the kernels now: a run without an ended product never calls
    :func:`undeliverable_excess`, and its cache would stay cold (the compile notice would
    announce it every run)."""
    no_rows = np.zeros(0, dtype=np.int64)
    undeliverable_excess(0, no_rows, np.zeros(0), np.zeros(0), 0.0)
    any_priced_out(np.zeros(0), np.zeros(0), no_rows)
