"""The primary markets' settlement sums of a week, in one kernel call.

:func:`settle_primary_sums` takes the clearing kernel's fills over the order book and
returns every sum the settlement books (per holder, per startup, per product, per class,
per firm and vendor), moves the filled units out of the book and into the firms' fleets
and the startups' pool. :func:`settle_primary_reference` is its numpy twin (the
arithmetic the model used before the kernel: ``np.bincount``, ``np.add.at``), the test
oracle: the two agree bit for bit (tests/test_settle.py).

Units: product units, USD, H100e, weeks.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def settle_primary_sums(
    fills: np.ndarray,
    price: np.ndarray,
    product: np.ndarray,
    holder: np.ndarray,
    klass: np.ndarray,
    startup: np.ndarray,
    order_week: np.ndarray,
    qty: np.ndarray,
    h100e_per_unit: np.ndarray,
    product_vendor: np.ndarray,
    live_pos: np.ndarray,
    fleet: np.ndarray,
    startup_units: np.ndarray,
    n_vendors: int,
    n_classes: int,
    n_live: int,
    week: int,
) -> tuple:
    """Settle the filled orders (``fills > 0``, book order) at ``price`` per unit of
    their product (USD).

    In place: ``qty`` less the fills (then clamped at 0 everywhere), the firms' ``fleet``
    [holders, products] and the startups' ``startup_units`` [products] plus their fills.
    Returns, each sum added in book order from ``0.0`` (as ``np.bincount``):
    ``(klass, waited weeks, units, USD paid)`` of the filled orders; per holder the USD
    paid and H100e received; per active startup (``live_pos`` maps a row to its place in
    ``live``) the H100e delivered and USD paid; per product the units and USD; per holder
    the units and H100e; per ``holder * n_vendors + vendor`` the units and H100e; per
    class the units, H100e and USD.
    """
    n_h, n_p = fleet.shape
    k = 0
    for i in range(fills.shape[0]):
        k += fills[i] > 0.0
    f_klass = np.empty(k, dtype=np.int64)
    f_waited = np.empty(k)
    f_units = np.empty(k)
    f_paid = np.empty(k)
    usd_by = np.zeros(n_h)
    h100e_by = np.zeros(n_h)
    st_h100e = np.zeros(n_live)
    st_paid = np.zeros(n_live)
    units_by = np.zeros(n_p)
    paid_by = np.zeros(n_p)
    holder_units = np.zeros(n_h)
    holder_h100e = np.zeros(n_h)
    cell_units = np.zeros(n_h * n_vendors)
    cell_h100e = np.zeros(n_h * n_vendors)
    class_units = np.zeros(n_classes)
    class_h100e = np.zeros(n_classes)
    class_paid = np.zeros(n_classes)
    j = 0
    for i in range(fills.shape[0]):
        f = fills[i]
        if not f > 0.0:
            continue
        p = product[i]
        h = holder[i]
        c = klass[i]
        paid = f * price[p]
        h100e = f * h100e_per_unit[p]
        qty[i] -= f
        f_klass[j] = c
        f_waited[j] = float(week - order_week[i])
        f_units[j] = f
        f_paid[j] = paid
        j += 1
        if h >= 0:
            fleet[h, p] += f
            usd_by[h] += paid
            h100e_by[h] += h100e
            holder_units[h] += f
            holder_h100e[h] += h100e
            cell = h * n_vendors + product_vendor[p]
            cell_units[cell] += f
            cell_h100e[cell] += h100e
        else:
            startup_units[p] += f
            at = live_pos[startup[i]]
            if at < 0:
                raise ValueError("a row that is not an active startup's")
            st_h100e[at] += h100e
            st_paid[at] += paid
        units_by[p] += f
        paid_by[p] += paid
        class_units[c] += f
        class_h100e[c] += h100e
        class_paid[c] += paid
    for i in range(qty.shape[0]):
        if qty[i] < 0.0:
            qty[i] = 0.0
    return (
        (f_klass, f_waited, f_units, f_paid),
        (usd_by, h100e_by),
        (st_h100e, st_paid),
        (units_by, paid_by),
        (holder_units, holder_h100e),
        (cell_units, cell_h100e),
        (class_units, class_h100e, class_paid),
    )


def settle_primary_reference(
    fills: np.ndarray,
    price: np.ndarray,
    product: np.ndarray,
    holder: np.ndarray,
    klass: np.ndarray,
    startup: np.ndarray,
    order_week: np.ndarray,
    qty: np.ndarray,
    h100e_per_unit: np.ndarray,
    product_vendor: np.ndarray,
    live_pos: np.ndarray,
    fleet: np.ndarray,
    startup_units: np.ndarray,
    n_vendors: int,
    n_classes: int,
    n_live: int,
    week: int,
) -> tuple:
    """:func:`settle_primary_sums` in numpy (the test oracle; same arguments, same
    results and in-place changes)."""
    n_h, n_p = fleet.shape
    filled = np.flatnonzero(fills > 0)
    prod = product[filled]
    f = fills[filled]
    paid = f * price[prod]
    h100e = f * h100e_per_unit[prod]
    who = holder[filled]
    cls = klass[filled]
    waited = (week - order_week[filled]).astype(float)
    qty[filled] -= f
    np.maximum(qty, 0.0, out=qty)
    firm = who >= 0
    np.add.at(fleet, (who[firm], prod[firm]), f[firm])
    st = ~firm
    np.add.at(startup_units, prod[st], f[st])
    pos = live_pos[startup[filled][st]]
    if len(pos) and pos.min() < 0:
        raise ValueError("a row that is not an active startup's")
    cell = who[firm] * n_vendors + product_vendor[prod[firm]]
    size = n_h * n_vendors

    def by(index, weights, n):
        return np.bincount(index, weights=weights, minlength=n)

    return (
        (cls, waited, f, paid),
        (by(who[firm], paid[firm], n_h), by(who[firm], h100e[firm], n_h)),
        (by(pos, h100e[st], n_live), by(pos, paid[st], n_live)),
        (by(prod, f, n_p), by(prod, paid, n_p)),
        (by(who[firm], f[firm], n_h), by(who[firm], h100e[firm], n_h)),
        (by(cell, f[firm], size), by(cell, h100e[firm], size)),
        (by(cls, f, n_classes), by(cls, h100e, n_classes), by(cls, paid, n_classes)),
    )
