"""The vendors' accounts in arrays (one entry per vendor) and their weekly bookings as
numba kernels, one call for every vendor.

:class:`VendorAccounts` is the model's (each :class:`market_sim.agents.vendor.VendorAgent`
reads and writes its entry through properties). :func:`book_sales_kernel` is the primary
settlement's loop over products (each sold product's inventory, then
``VendorAgent.book_sales``) and :func:`vendor_record_kernel` the recorder's vendor rows,
with the same arithmetic in the same order; the agents' methods are the oracle
(``Trading.book_sales_reference``; tests/test_vendor_accounts.py).

Units: USD (receipts, revenue, cost of goods), product units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market_sim.jit import njit


@dataclass
class VendorAccounts:
    """Per vendor: this week's ``sales_usd`` (accelerator receipts), ``revenue_usd``
    (sales plus attached revenue) and ``cogs_usd``; ``sales_total_usd``, ``units_sold``
    and ``units_started_total`` so far."""

    sales_usd: np.ndarray
    revenue_usd: np.ndarray
    cogs_usd: np.ndarray
    sales_total_usd: np.ndarray
    units_sold: np.ndarray
    units_started_total: np.ndarray

    @classmethod
    def empty(cls, n_vendors: int) -> VendorAccounts:
        return cls(*(np.zeros(n_vendors) for _ in range(6)))


@njit(cache=True)
def book_sales_kernel(
    units_by: np.ndarray,
    paid_by: np.ndarray,
    product_vendor: np.ndarray,
    unit_cost: np.ndarray,
    attach_share: np.ndarray,
    attach_margin: np.ndarray,
    inventory: np.ndarray,
    sales_usd: np.ndarray,
    revenue_usd: np.ndarray,
    cogs_usd: np.ndarray,
    sales_total_usd: np.ndarray,
    units_sold: np.ndarray,
) -> None:
    """For each product sold (``units_by`` > 0, in product order): its ``inventory``
    less the units (at least 0), and its vendor's books (``VendorAgent.book_sales``):
    ``paid_by`` USD of sales, plus ``attach_share`` of it as attached revenue whose cost
    is 1 - ``attach_margin`` of it, and the units at ``unit_cost`` USD."""
    for p in range(units_by.shape[0]):
        units = units_by[p]
        if not units > 0:
            continue
        left = inventory[p] - units
        inventory[p] = left if left > 0.0 else 0.0  # max(0.0, ...)
        v = product_vendor[p]
        paid = paid_by[p]
        attach = paid * attach_share[v]
        units_sold[v] += units
        sales_usd[v] += paid
        sales_total_usd[v] += paid
        revenue_usd[v] += paid + attach
        cogs_usd[v] += units * unit_cost[p]
        cogs_usd[v] += attach * (1.0 - attach_margin[v])


@njit(cache=True)
def vendor_record_kernel(
    revenue_usd: np.ndarray,
    cogs_usd: np.ndarray,
    sales_usd: np.ndarray,
    inventory: np.ndarray,
    vendor_offsets: np.ndarray,
    vendor_products: np.ndarray,
) -> np.ndarray:
    """[vendors, 4]: each vendor's revenue, cost of goods and sales (USD) and its
    products' inventory (units, summed in product order from 0, as Python's ``sum``);
    vendor v's products are ``vendor_products[vendor_offsets[v]:vendor_offsets[v+1]]``."""
    n = revenue_usd.shape[0]
    out = np.empty((n, 4))
    for v in range(n):
        out[v, 0] = revenue_usd[v]
        out[v, 1] = cogs_usd[v]
        out[v, 2] = sales_usd[v]
        total = 0.0
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            total += inventory[vendor_products[k]]
        out[v, 3] = total
    return out
