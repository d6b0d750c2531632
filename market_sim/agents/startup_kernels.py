"""Numba kernels for the startup population (one loop over columnar arrays per week).

Each kernel has a plain-Python twin in :class:`market_sim.agents.startup_agent.StartupAgent`
(``decide`` and ``settle``), which steps one startup per Python call: the test oracle and
the benchmark baseline. The two must apply the same arithmetic in the same order.

Status codes: 0 empty slot, 1 active, 2 exited.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit

EMPTY, ACTIVE, EXITED = 0, 1, 2

NOT_IN_A_RUN = ("startups_demand", "startups_settle", "population_summary", "compact_bids")
"""Kernels a default (kernel-mode) run never calls: the all-rows versions that the
active-rows kernels of :mod:`market_sim.agents.startup_rows` replaced (kept as their
test oracles) and the per-agent mode's ``compact_bids``. The compile notice
(:mod:`market_sim.runs.jit_cache`) ignores them, so it does not announce a compile that
a run would not do."""


@njit(cache=True)
def startups_demand(
    status: np.ndarray,
    need: np.ndarray,
    owned: np.ndarray,
    on_order: np.ndarray,
    direct: np.ndarray,
    value: np.ndarray,
    cash: np.ndarray,
    demand_mult: float,
    hours: float,
    buy_price_per_h100e: float,
    value_spread: float,
    first_share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each startup's rental bids and direct purchase wish for the week.

    Returns ``(bid_price, bid_qty, buy_h100e)``. The bids come in two tranches, the first
    ``first_share`` of the unmet need and the rest (arrays of length 2n: first tranches,
    then second tranches): the first GPUs are worth ``value x (1 + value_spread)`` per
    H100e-hour, the rest ``value x (1 - value_spread)`` (diminishing returns; with halves
    the mean stays ``value``), as far as cash pays at the tranche's bid. ``buy_h100e``:
    H100e to order from a vendor (direct buyers only, as
    far as cash pays at ``buy_price_per_h100e``). Inactive slots bid nothing.
    """
    n = status.shape[0]
    bid_price = np.zeros(2 * n)
    bid_qty = np.zeros(2 * n)
    buy = np.zeros(n)
    for i in range(n):
        if status[i] != ACTIVE:
            continue
        want = need[i] * demand_mult
        gap = want - owned[i]
        if gap < 0.0:
            gap = 0.0
        high = value[i] * (1.0 + value_spread)
        low = value[i] * (1.0 - value_spread)
        first = first_share * gap
        afford = cash[i] / (high * hours) if cash[i] > 0.0 else 0.0
        if first > afford:
            first = afford
        rest = cash[i] - first * high * hours
        second = (1.0 - first_share) * gap
        afford = rest / (low * hours) if rest > 0.0 and low > 0.0 else 0.0
        if second > afford:
            second = afford
        bid_price[i] = high
        bid_qty[i] = first
        bid_price[n + i] = low
        bid_qty[n + i] = second
        if direct[i] and buy_price_per_h100e > 0.0:
            to_order = want - owned[i] - on_order[i]
            if to_order > 0.0:
                can = cash[i] / buy_price_per_h100e if cash[i] > 0.0 else 0.0
                buy[i] = to_order if to_order < can else can
    return bid_price, bid_qty, buy


@njit(cache=True)
def startups_settle(
    status: np.ndarray,
    cash: np.ndarray,
    round_usd: np.ndarray,
    need: np.ndarray,
    value: np.ndarray,
    owned: np.ndarray,
    on_order: np.ndarray,
    starved: np.ndarray,
    exited_week: np.ndarray,
    got: np.ndarray,
    rented: np.ndarray,
    delivered_h100e: np.ndarray,
    paid_usd: np.ndarray,
    raise_draw: np.ndarray,
    rental_price: float,
    demand_mult: float,
    hours: float,
    opex_per_hour: float,
    compute_share: float,
    runway_weeks: float,
    raise_probability: float,
    raise_multiple: float,
    starve_threshold: float,
    starve_weeks_to_exit: int,
    raise_below_share: float,
    week: int,
    exits: np.ndarray,
) -> int:
    """Pay for the week's compute, count starvation, raise money, exit (in place).

    ``rented``: H100e rented this week (rental market fills); ``delivered_h100e`` and
    ``paid_usd``: direct purchases delivered this week and what they cost. A startup
    starves in a week when the compute it has (owned + rented) is below
    ``starve_threshold`` of its need; it exits after ``starve_weeks_to_exit`` starved
    weeks in a row, or when its cash is gone and no round came. When cash falls below
    ``raise_below_share`` of its last round, it raises a round ``raise_multiple`` times larger with
    probability ``raise_probability`` a week (``raise_draw`` are uniform draws).
    Writes the rows that exit now, in order, to ``exits`` (length >= n) and returns how
    many there are.
    """
    n = status.shape[0]
    n_exits = 0
    for i in range(n):
        if status[i] != ACTIVE:
            got[i] = 0.0
            continue
        owned[i] += delivered_h100e[i]
        on_order[i] -= delivered_h100e[i]
        if on_order[i] < 0.0:
            on_order[i] = 0.0
        have = owned[i] + rented[i]
        got[i] = have
        cost = rented[i] * rental_price * hours + owned[i] * opex_per_hour * hours + paid_usd[i]
        cash[i] -= cost
        if have < starve_threshold * need[i] * demand_mult:
            starved[i] += 1
        else:
            starved[i] = 0
        if cash[i] < raise_below_share * round_usd[i] and raise_draw[i] < raise_probability:
            new_round = round_usd[i] * raise_multiple
            cash[i] += new_round
            round_usd[i] = new_round
            need[i] = new_round * compute_share / (runway_weeks * value[i] * hours)
        if starved[i] >= starve_weeks_to_exit or cash[i] <= 0.0:
            status[i] = EXITED
            exited_week[i] = week
            exits[n_exits] = i
            n_exits += 1
    return n_exits


@njit(cache=True)
def compact_bids(
    bid_price: np.ndarray, bid_qty: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bids with a positive quantity, in order, and the startup each belongs to:
    ``(price, qty, startup)``. Bid j of ``startups_demand``'s 2n is startup ``j % n``'s
    (first tranches, then second tranches). Branch-free: which bids are empty is
    unpredictable (exited startups are scattered), and mispredicted branches cost more
    than the copies."""
    m = bid_qty.shape[0]
    price = np.empty(m)
    qty = np.empty(m)
    owner = np.empty(m, dtype=np.int64)
    k = 0
    for j in range(m):
        price[k] = bid_price[j]
        qty[k] = bid_qty[j]
        owner[k] = j - n if j >= n else j
        k += bid_qty[j] > 0.0
    return price[:k], qty[:k], owner[:k]


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
