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

from market_sim.jit import njit


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

    One kernel call (:func:`settle_primary_kernel`), which returns the float sums as rows
    of three arrays (a returned array costs numba ~1 us to hand over; these are views).
    """
    n_h, n_p = fleet.shape
    f_klass, filled, per_live, sums = settle_primary_kernel(
        fills,
        price,
        product,
        holder,
        klass,
        startup,
        order_week,
        qty,
        h100e_per_unit,
        product_vendor,
        live_pos,
        fleet,
        startup_units,
        n_vendors,
        n_classes,
        n_live,
        week,
    )
    cells = n_h * n_vendors
    at = [0]  # where each sum starts in ``sums``, in the kernel's order
    for size in (n_h, n_h, n_p, n_p, n_h, n_h, cells, cells, n_classes, n_classes, n_classes):
        at.append(at[-1] + size)
    part = [sums[at[i] : at[i + 1]] for i in range(11)]
    return (
        (f_klass, filled[0], filled[1], filled[2]),
        (part[0], part[1]),
        (per_live[0], per_live[1]),
        (part[2], part[3]),
        (part[4], part[5]),
        (part[6], part[7]),
        (part[8], part[9], part[10]),
    )


@njit(cache=True)
def settle_primary_kernel(
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`settle_primary_sums`' work: returns ``(klass of the filled orders, [waited
    weeks, units, USD] of them, [H100e, USD] per active startup, the per-holder,
    per-product, per-cell and per-class sums one after another)`` in the order
    :func:`settle_primary_sums` reads them."""
    n_h, n_p = fleet.shape
    k = 0
    for i in range(fills.shape[0]):
        k += fills[i] > 0.0
    f_klass = np.empty(k, dtype=np.int64)
    filled = np.empty((3, k))
    f_waited = filled[0]
    f_units = filled[1]
    f_paid = filled[2]
    per_live = np.zeros((2, n_live))
    st_h100e = per_live[0]
    st_paid = per_live[1]
    sums = np.zeros(6 * n_h + 2 * n_p + 2 * n_h * n_vendors + 3 * n_classes)
    usd_by = sums[0:n_h]
    h100e_by = sums[n_h : 2 * n_h]
    units_by = sums[2 * n_h : 2 * n_h + n_p]
    paid_by = sums[2 * n_h + n_p : 2 * n_h + 2 * n_p]
    at = 2 * n_h + 2 * n_p
    holder_units = sums[at : at + n_h]
    holder_h100e = sums[at + n_h : at + 2 * n_h]
    at += 2 * n_h
    cell_units = sums[at : at + n_h * n_vendors]
    cell_h100e = sums[at + n_h * n_vendors : at + 2 * n_h * n_vendors]
    at += 2 * n_h * n_vendors
    class_units = sums[at : at + n_classes]
    class_h100e = sums[at + n_classes : at + 2 * n_classes]
    class_paid = sums[at + 2 * n_classes : at + 3 * n_classes]
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
    return f_klass, filled, per_live, sums


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
