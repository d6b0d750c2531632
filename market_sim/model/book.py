"""The vendors' order books: every open primary order, as columnar arrays.

One row per open order. An order belongs to one product (its market) and either to a
firm (``holder`` >= 0, an index into the model's holders) or to a startup
(``holder == -1``, ``startup`` >= 0). Quantities are units of the product; prices USD per
unit; weeks are simulation week indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from market_sim.jit import njit
from market_sim.market.kernels_sum import pairwise_sum_any

STARTUP_HOLDER = -1

_FIELDS = {
    "product": np.int64,
    "holder": np.int64,
    "startup": np.int64,
    "klass": np.int64,  # buyer class code (see model.CLASSES)
    "qty": np.float64,  # open (unfilled) units
    "limit_price": np.float64,  # USD per unit
    "priority": np.int64,
    "order_week": np.int64,
    "lead_weeks": np.int64,  # latest quoted lead time, weeks
}
_INT_FIELDS = tuple(k for k, t in _FIELDS.items() if t is np.int64)
"""The integer columns (every column but ``qty`` and ``limit_price``)."""


@dataclass
class Batch:
    """New orders, to be appended to the book: arrays (or lists) of equal length, or a
    scalar for a field every order shares."""

    product: ArrayLike
    holder: ArrayLike
    startup: ArrayLike
    klass: ArrayLike
    qty: ArrayLike
    limit_price: ArrayLike
    priority: ArrayLike
    order_week: ArrayLike


class OrderBook:
    """Struct-of-arrays order book with amortised appends and compaction."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cols = {k: np.zeros(capacity, dtype=t) for k, t in _FIELDS.items()}
        self.version = 0  # bumped by every change; lets callers cache totals

    def touch(self) -> None:
        """Mark the book changed (call after writing to ``qty`` directly)."""
        self.version += 1

    def open_totals(
        self, n_holders: int, weight_a: np.ndarray, weight_b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per firm holder, for two weights: sum of open qty x ``weight[product]`` (e.g.
        H100e per unit and list price per unit)."""
        return open_totals_kernel(
            self.holder,
            self.qty,
            self.product,
            np.asarray(weight_a, dtype=np.float64),
            np.asarray(weight_b, dtype=np.float64),
            n_holders,
        )

    def __len__(self) -> int:
        return self.n

    # the open orders' columns (views of the first n rows), one property each: a
    # property is found at once, where ``__getattr__`` runs only after a failed lookup
    product = property(lambda self: self._cols["product"][: self.n], doc="product index")
    holder = property(lambda self: self._cols["holder"][: self.n], doc="firm, or -1")
    startup = property(lambda self: self._cols["startup"][: self.n], doc="startup row or -1")
    klass = property(lambda self: self._cols["klass"][: self.n], doc="buyer class code")
    qty = property(lambda self: self._cols["qty"][: self.n], doc="open units")
    limit_price = property(lambda self: self._cols["limit_price"][: self.n], doc="USD/unit")
    priority = property(lambda self: self._cols["priority"][: self.n], doc="priority tier")
    order_week = property(lambda self: self._cols["order_week"][: self.n], doc="week placed")
    lead_weeks = property(lambda self: self._cols["lead_weeks"][: self.n], doc="quoted weeks")

    def add(self, batch: Batch) -> None:
        """Append new orders (in the batch's order); orders with qty <= 0 are dropped."""
        self.version += 1
        qty = np.asarray(batch.qty, dtype=np.float64)
        k = len(qty)
        if k == 0:
            return
        start, need = self.n, self.n + k
        cap = len(self._cols["qty"])
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, col in self._cols.items():
                grown = np.zeros(new_cap, dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self._cols[name] = grown
        cols = self._cols
        for name in _FIELDS:  # scalars broadcast, lists convert
            cols[name][start:need] = 0 if name == "lead_weeks" else getattr(batch, name)
        self.n = need
        if not (qty > 0).all():  # rare: drop the new orders with nothing to order
            keep = np.concatenate([np.ones(start, dtype=bool), qty > 0])
            for col in cols.values():
                col[: start + int(keep[start:].sum())] = col[:need][keep]
            self.n = start + int(keep[start:].sum())

    def compact(self) -> None:
        """Drop orders with no open quantity (filled or cancelled), keeping the others'
        order: one kernel pass over every column (:func:`compact_kernel`; its numpy twin
        is :meth:`compact_reference`)."""
        self.version += 1
        c = self._cols
        self.n = compact_kernel(self.n, c["qty"], c["limit_price"], *(c[k] for k in _INT_FIELDS))

    def compact_reference(self) -> None:
        """:meth:`compact` in numpy (the test oracle of :func:`compact_kernel`)."""
        self.version += 1
        keep = np.flatnonzero(self._cols["qty"][: self.n] > 0)
        k = len(keep)
        if k == self.n:
            return
        for col in self._cols.values():
            col[:k] = col[keep]
        self.n = k

    def startup_orders(self, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The startups' open orders in book order: ``(startup row, qty x
        weight[product])`` (e.g. H100e per unit), in one kernel pass
        (:func:`startup_orders_kernel`; :meth:`startup_orders_reference` is its numpy
        twin)."""
        return startup_orders_kernel(self.holder, self.startup, self.qty, self.product, weight)

    def startup_orders_reference(self, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`startup_orders` in numpy (the test oracle)."""
        mine = self.holder == STARTUP_HOLDER
        return self.startup[mine], self.qty[mine] * weight[self.product[mine]]

    def open_by(self, holder: int, product: int | None = None) -> np.ndarray:
        """Indices of open orders of one firm (optionally of one product)."""
        mask = self.holder == holder
        if product is not None:
            mask &= self.product == product
        return np.flatnonzero(mask & (self.qty > 0))

    def cancel(self, indices: np.ndarray, amount: float, weight: np.ndarray | None = None) -> float:
        """Cancel up to ``amount`` from the given orders, youngest first.

        ``weight[i]`` converts order i's units into the unit of ``amount`` (e.g. H100e
        per unit); without it ``amount`` is in units. Returns the amount cancelled.
        """
        if amount <= 0 or len(indices) == 0:
            return 0.0
        self.version += 1
        order = np.argsort(-self.order_week[indices], kind="stable")
        qty = self._cols["qty"]
        left = amount
        for k in order:
            i = indices[k]
            w = 1.0 if weight is None else float(weight[k])
            have = qty[i] * w
            if have <= left:
                qty[i], take = 0.0, have
            else:
                qty[i] = max(0.0, qty[i] - left / w)
                take = left
            left -= take
            if left <= 0:
                break
        return amount - left

    def cancel_where(self, mask: np.ndarray) -> float:
        """Cancel every order selected by a boolean mask; return units cancelled."""
        self.version += 1
        qty = self._cols["qty"][: self.n]
        units = float(qty[mask].sum())
        qty[mask] = 0.0
        return units

    def cancel_startups(self, rows: np.ndarray, n_rows: int) -> float:
        """Cancel every open order of the startups at ``rows`` (of ``n_rows``); return
        the units cancelled: :meth:`cancel_startups_reference` in one kernel pass
        (:func:`cancel_startups_kernel`, numpy's pairwise sum of the units)."""
        self.version += 1
        return cancel_startups_kernel(self.holder, self.startup, self.qty, rows, n_rows)

    def cancel_startups_reference(self, rows: np.ndarray, n_rows: int) -> float:
        """:meth:`cancel_startups` in numpy (the test oracle): a lookup by row, as
        ``np.isin``."""
        gone = np.zeros(n_rows, dtype=bool)
        gone[rows] = True
        mask = (self.holder == STARTUP_HOLDER) & gone[self.startup]  # firms' -1: masked
        return self.cancel_where(mask)

    def by_market(self, n_markets: int) -> tuple[np.ndarray, np.ndarray]:
        """A stable permutation that groups orders by product, and CSR offsets.

        Within a product, orders keep their book order (oldest first), so ties in the
        kernels are broken identically run after run. One counting pass
        (:func:`by_market_kernel`); :meth:`by_market_reference` is its numpy twin.
        """
        return by_market_kernel(self.product, n_markets)

    def by_market_reference(self, n_markets: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`by_market` in numpy: a stable argsort and a bincount (the oracle)."""
        perm = np.argsort(self.product, kind="stable")
        counts = np.bincount(self.product, minlength=n_markets)
        offsets = np.zeros(n_markets + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return perm, offsets


@njit(cache=True)
def open_totals_kernel(
    holder: np.ndarray,
    qty: np.ndarray,
    product: np.ndarray,
    weight_a: np.ndarray,
    weight_b: np.ndarray,
    n_holders: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per firm holder (``holder >= 0``): sums of ``qty x weight_a[product]`` and of
    ``qty x weight_b[product]`` over the book's rows, in row order (as ``np.bincount``)."""
    a = np.zeros(n_holders)
    b = np.zeros(n_holders)
    for i in range(qty.shape[0]):
        h = holder[i]
        if h >= 0:
            a[h] += qty[i] * weight_a[product[i]]
            b[h] += qty[i] * weight_b[product[i]]
    return a, b


@njit(cache=True)
def startup_orders_kernel(
    holder: np.ndarray,
    startup: np.ndarray,
    qty: np.ndarray,
    product: np.ndarray,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows with ``holder == STARTUP_HOLDER``, in order: ``(startup[i], qty[i] x
    weight[product[i]])``."""
    n = 0
    for i in range(holder.shape[0]):
        n += holder[i] == STARTUP_HOLDER
    rows = np.empty(n, dtype=np.int64)
    values = np.empty(n)
    k = 0
    for i in range(holder.shape[0]):
        if holder[i] == STARTUP_HOLDER:
            rows[k] = startup[i]
            values[k] = qty[i] * weight[product[i]]
            k += 1
    return rows, values


def warm() -> None:
    """Load (or compile) :func:`cancel_startups_kernel` now: a run in which no startup
    exits never calls it, and its cache would stay cold (the compile notice would
    announce it every run)."""
    no_rows = np.zeros(0, dtype=np.int64)
    cancel_startups_kernel(no_rows, no_rows, np.zeros(0), no_rows, 0)


@njit(cache=True)
def cancel_startups_kernel(
    holder: np.ndarray, startup: np.ndarray, qty: np.ndarray, rows: np.ndarray, n_rows: int
) -> float:
    """Zero ``qty`` of the orders with ``holder == STARTUP_HOLDER`` whose ``startup`` is
    one of ``rows`` (each in ``0..n_rows-1``); return the sum of what they held, as
    numpy sums ``qty[mask]`` (pairwise, in order)."""
    gone = np.zeros(n_rows, dtype=np.bool_)
    for j in range(rows.shape[0]):
        gone[rows[j]] = True
    taken = np.empty(qty.shape[0])
    k = 0
    for i in range(qty.shape[0]):
        if holder[i] == STARTUP_HOLDER and gone[startup[i]]:
            taken[k] = qty[i]
            qty[i] = 0.0
            k += 1
    return pairwise_sum_any(taken, 0, k)


@njit(cache=True)
def compact_kernel(
    n: int,
    qty: np.ndarray,
    limit_price: np.ndarray,
    i0: np.ndarray,
    i1: np.ndarray,
    i2: np.ndarray,
    i3: np.ndarray,
    i4: np.ndarray,
    i5: np.ndarray,
    i6: np.ndarray,
) -> int:
    """Move the rows ``i < n`` with ``qty[i] > 0`` to the front of every column (``qty``,
    ``limit_price`` and the seven integer columns ``i0..i6``, one by one: a tuple
    argument costs numba ~5 us a call), in order; returns how many there are. Rows at
    and beyond the count keep whatever they held (the book reads only its first rows).
    The same columns as ``col[:k] = col[np.flatnonzero(qty[:n] > 0)]``."""
    k = 0
    for i in range(n):
        if qty[i] > 0:
            if k != i:  # k < i: a forward copy never overwrites a row still to be read
                qty[k] = qty[i]
                limit_price[k] = limit_price[i]
                i0[k], i1[k], i2[k], i3[k] = i0[i], i1[i], i2[i], i3[i]
                i4[k], i5[k], i6[k] = i4[i], i5[i], i6[i]
            k += 1
    return k


@njit(cache=True)
def by_market_kernel(product: np.ndarray, n_markets: int) -> tuple[np.ndarray, np.ndarray]:
    """A stable permutation grouping rows by ``product`` (each in ``0..n_markets-1``,
    else ``ValueError``) and the groups' CSR offsets: ``np.argsort(product,
    kind="stable")`` and the running ``np.bincount(product, minlength=n_markets)``, by
    one counting pass."""
    offsets = np.zeros(n_markets + 1, dtype=np.int64)
    for i in range(product.shape[0]):
        p = product[i]
        if p < 0 or p >= n_markets:
            raise ValueError("a product outside 0..n_markets-1")
        offsets[p + 1] += 1
    for m in range(n_markets):
        offsets[m + 1] += offsets[m]
    nxt = offsets[:-1].copy()
    perm = np.empty(product.shape[0], dtype=np.int64)
    for i in range(product.shape[0]):
        p = product[i]
        perm[nxt[p]] = i
        nxt[p] += 1
    return perm, offsets
