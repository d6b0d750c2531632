"""How much of each market's open book a new order queues behind, in one kernel pass.

:func:`queue_ahead_of_new_fast` gives what
:func:`market_sim.market.policies.queue_ahead_of_new` gives (its numpy reference and the
test oracle, tests/test_queue_kernel.py), bit for bit: :func:`queue_cells` classifies
every open order against a new one by the policy's keys and sums the open quantity per
(product, tier) cell in book order, as ``np.bincount`` does; the cells are then combined
with the same numpy calls as the reference's.

Units: product units; weeks; USD per unit.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.policies import (
    FIELD_PRIORITY,
    FIELD_WEEK,
    AllocationPolicy,
    policy_table,
)


@njit(cache=True)
def queue_cells(
    row: np.ndarray,
    week: int,
    product: np.ndarray,
    qty: np.ndarray,
    priority: np.ndarray,
    order_week: np.ndarray,
    limit_price: np.ndarray,
    list_price: np.ndarray,
    n_tiers: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, bool]:
    """The reference's cells for the policy whose :func:`policy_table` row is ``row``:
    ``(fixed, open, tied_ahead, ahead)`` [products, tiers] sums of open quantity (the
    orders ahead of a new one whatever its tier; those decided by the priority key or
    the keys after it; those of them ahead of a new order of their own tier; for a policy
    without a priority key, those ahead), then whether any order is ``fixed`` and whether
    every ``open`` order is ``tied_ahead``."""
    n_products = list_price.shape[0]
    fixed = np.zeros((n_products, n_tiers))
    open_ = np.zeros((n_products, n_tiers))
    tied = np.zeros((n_products, n_tiers))
    ahead = np.zeros((n_products, n_tiers))
    n_keys = row[1]
    has_priority = False
    for k in range(n_keys):
        if row[2 + 2 * k] == FIELD_PRIORITY:
            has_priority = True
    any_fixed = False
    tied_is_open = True
    top = n_tiers - 1
    for i in range(qty.shape[0]):
        p = product[i]
        t = priority[i] if priority[i] < top else top
        lp = list_price[p]
        eligible = limit_price[i] >= lp
        before = 0  # verdict of the keys before priority: +1 ahead, -1 behind, 0 tie
        after = 0  # ... of the keys after it
        seen = False
        for k in range(n_keys):
            field = row[2 + 2 * k]
            descending = row[3 + 2 * k] == 1
            if field == FIELD_PRIORITY:
                seen = True
                continue
            if field == FIELD_WEEK:  # older than the new order, or as old
                sign = (-1 if descending else 1) if order_week[i] < week else 0
            else:  # limit price: bids more than the list price, or as much
                sign = (1 if descending else -1) if limit_price[i] > lp else 0
            if seen:
                if after == 0:
                    after = sign
            elif before == 0:
                before = sign
        if not has_priority:
            if eligible and before >= 0:
                ahead[p, t] += qty[i]
            continue
        if eligible and before > 0:
            fixed[p, t] += qty[i]
            any_fixed = True
        is_open = eligible and before == 0
        if is_open:
            open_[p, t] += qty[i]
            if after >= 0:
                tied[p, t] += qty[i]
            else:
                tied_is_open = False
    return fixed, open_, tied, ahead, any_fixed, tied_is_open


def queue_ahead_of_new_fast(
    policy: AllocationPolicy,
    week: int,
    product: np.ndarray,
    qty: np.ndarray,
    priority: np.ndarray,
    order_week: np.ndarray,
    limit_price: np.ndarray,
    list_price: np.ndarray,
    n_tiers: int,
) -> np.ndarray:
    """[products, tiers]: :func:`market_sim.market.policies.queue_ahead_of_new` (same
    arguments, same numbers), the per-order work in one kernel call."""
    fixed, open_, tied, ahead, any_fixed, tied_is_open = queue_cells(
        policy_table()[policy.code],
        int(week),
        np.ascontiguousarray(product, dtype=np.int64),
        np.ascontiguousarray(qty, dtype=np.float64),
        np.ascontiguousarray(priority, dtype=np.int64),
        np.ascontiguousarray(order_week, dtype=np.int64),
        np.ascontiguousarray(limit_price, dtype=np.float64),
        np.ascontiguousarray(list_price, dtype=np.float64),
        int(n_tiers),
    )
    keys = dict(policy.keys)
    if "priority" not in keys:
        return np.repeat(ahead.sum(axis=1)[:, None], n_tiers, axis=1)
    desc = keys["priority"]
    if desc and not any_fixed and tied_is_open:
        # the common case (``priority``): the orders of its tier and above
        return suffix_sums(open_)  # np.cumsum(open_[:, ::-1], axis=1)[:, ::-1]
    if desc:  # higher tiers are served first
        strict = np.cumsum(open_[:, ::-1], axis=1)[:, ::-1] - open_
    else:
        strict = np.cumsum(open_, axis=1) - open_
    return fixed.sum(axis=1)[:, None] + strict + tied


@njit(cache=True)
def suffix_sums(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a[:, ::-1], axis=1)[:, ::-1]`` of a 2-D array, as a new C-ordered
    array: each row's running sums from its last entry back, added in that order (as
    numpy's cumsum adds)."""
    n, m = a.shape
    out = np.empty((n, m))
    for i in range(n):
        if m == 0:
            continue
        s = a[i, m - 1]
        out[i, m - 1] = s
        for j in range(m - 2, -1, -1):
            s = s + a[i, j]
            out[i, j] = s
    return out


def warm() -> None:
    """Load (or compile) :func:`suffix_sums` now: a run without a ``priority`` policy never
    calls it, and its cache would stay cold (the compile notice would say so every run)."""
    suffix_sums(np.zeros((0, 0)))
