"""Numba kernels over the rows that matter: the week's cost follows the active startups.

The population keeps every startup that ever entered (a row each, in entry order; exited
rows keep their final state for the agents' record). Most rows of a long run have exited
(at 1,000,000 initial startups, ~98% by year three), and an exited startup bids, buys
and pays nothing: :class:`market_sim.agents.startups.StartupPopulation` keeps the
ascending rows of its active startups (``live``) and of those that are active or own
compute (``visit``), and these kernels loop over those rows only.

Each kernel gives bit for bit what the whole-population kernel of
:mod:`market_sim.agents.startup_kernels` (its reference, with that module's plain-Python
twins) gives on the same rows, with the same arithmetic in the same order; an exited
row adds exactly nothing (no bid, ``+0.0`` to a sum). Tests: tests/test_startup_rows.py.
"""

from __future__ import annotations

import numpy as np

from market_sim.agents.startup_kernels import ACTIVE, EXITED
from market_sim.jit import njit

NOT_IN_A_RUN = ("sum_per_live",)
"""Kernels a kernel-mode run never calls (the agents mode's; see runs/jit_cache.py)."""


@njit(cache=True, error_model="numpy")
def startups_demand_rows(
    rows: np.ndarray,
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
    front: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``startups_demand`` then ``compact_bids`` and the direct buyers, for the active
    ``rows`` (ascending): ``(bid_price, bid_qty, bid_row, buy_row, buy_h100e)``.

    The bids with a positive quantity in the reference's order (every first tranche by
    row, then every second tranche), each with its startup's row, after ``front``
    entries left for the caller (unset: room for other bids before these, which a
    double auction takes as one array); the rows that order from a vendor (ascending)
    and the H100e each orders.

    ``error_model="numpy"``: numba then does not test each division for a zero divisor
    (Python's ``ZeroDivisionError``), which kept the loop slower: ~2% of a 10k-startup
    week (two models stepped in turn in one process, 2026-12-02; the median week 0.98
    of the checked one). Every division here has a nonzero divisor: ``cash``
    and ``rest`` are tested first, ``low > 0`` is, ``buy_price_per_h100e > 0`` is, and
    ``high * hours`` is positive because the schema makes ``value`` and ``hours`` positive.
    """
    m = rows.shape[0]
    # first tranches from entry front on, second tranches from front + m on; then the
    # second ones move down behind the first (no temporary arrays)
    price = np.empty(front + 2 * m)
    qty = np.empty(front + 2 * m)
    owner = np.empty(front + 2 * m, dtype=np.int64)
    buy_row = np.empty(m, dtype=np.int64)
    buy = np.empty(m)
    k = front
    b = 0
    k2 = front + m
    for j in range(m):
        i = rows[j]
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
        price[k] = high
        qty[k] = first
        owner[k] = i
        k += first > 0.0
        price[k2] = low
        qty[k2] = second
        owner[k2] = i
        k2 += second > 0.0
        if direct[i] and buy_price_per_h100e > 0.0:
            to_order = want - owned[i] - on_order[i]
            if to_order > 0.0:
                can = cash[i] / buy_price_per_h100e if cash[i] > 0.0 else 0.0
                x = to_order if to_order < can else can
                if x > 0.0:
                    buy_row[b] = i
                    buy[b] = x
                    b += 1
    n2 = k2 - front - m
    for j in range(n2):  # k <= front + m: an ascending copy never overwrites what it reads
        price[k + j] = price[front + m + j]
        qty[k + j] = qty[front + m + j]
        owner[k + j] = owner[front + m + j]
    k2 = n2
    return price[: k + k2], qty[: k + k2], owner[: k + k2], buy_row[:b], buy[:b]


@njit(cache=True)
def startups_settle_rows(
    rows: np.ndarray,
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
    rented_col: np.ndarray,
    bid_rows: np.ndarray,
    bid_h100e: np.ndarray,
    live_pos: np.ndarray,
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
    """``startups_settle`` over the active ``rows`` (ascending). Each row rents the sum
    of its rental bids' fills (``bid_rows``, ``bid_h100e``: added in the order given,
    from ``0.0``, as :func:`sum_per_live`; a bid of a row that is not an active
    startup's, ``live_pos[row] < 0``, raises ``ValueError``), written to ``rented_col``
    (the population's ``rented`` column) first. ``delivered_h100e`` and ``paid_usd``
    have one value per entry of ``rows``; the other columns (and ``raise_draw``, the
    week's uniform draw of every row) are indexed by row. Writes the rows that exit
    now, in order, to ``exits`` (length >= len(rows)) and returns how many there are."""
    for j in range(rows.shape[0]):
        rented_col[rows[j]] = 0.0
    for b in range(bid_rows.shape[0]):
        r = bid_rows[b]
        if live_pos[r] < 0:
            raise ValueError("a row that is not an active startup's")
        rented_col[r] += bid_h100e[b]
    n_exits = 0
    for j in range(rows.shape[0]):
        i = rows[j]
        rented = rented_col[i]
        if status[i] != ACTIVE:
            got[i] = 0.0
            continue
        owned[i] += delivered_h100e[j]
        on_order[i] -= delivered_h100e[j]
        if on_order[i] < 0.0:
            on_order[i] = 0.0
        have = owned[i] + rented
        got[i] = have
        cost = rented * rental_price * hours + owned[i] * opex_per_hour * hours + paid_usd[j]
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
def population_summary_rows(
    rows: np.ndarray,
    n: int,
    status: np.ndarray,
    starved: np.ndarray,
    got: np.ndarray,
    owned: np.ndarray,
    rented: np.ndarray,
    firms_h100e: np.ndarray,
    top_k: int,
) -> tuple[int, int, int, float, float, float, float, np.ndarray, np.ndarray]:
    """``population_summary`` of the first ``n`` rows, visiting only ``rows`` (ascending):
    every active row and every row whose ``owned`` is not zero. The rows left out are
    exited and own nothing (``owned`` >= 0 everywhere): they add ``+0.0`` to the sums,
    count as exited, and enter the top ``top_k`` only as zeros (the top starts from zeros
    when a row is left out)."""
    n_active = 0
    n_starved = 0
    n_exited = n - rows.shape[0]
    compute = 0.0
    owned_sum = 0.0
    owned_sq = 0.0
    rented_sum = 0.0
    # with rows left out, the top holds at least that many zeros: start from zeros
    top = np.full(max(top_k, 0), 0.0 if n_exited > 0 else -np.inf)  # descending
    n_f = firms_h100e.shape[0]
    access = np.empty(n_f + rows.shape[0])
    access[:n_f] = firms_h100e
    k = n_f
    for j in range(rows.shape[0]):
        i = rows[j]
        x = owned[i]
        owned_sum += x
        owned_sq += x * x
        if top_k > 0 and x > top[top_k - 1]:
            m = top_k - 1
            while m > 0 and top[m - 1] < x:
                top[m] = top[m - 1]
                m -= 1
            top[m] = x
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
    n_top = min(max(top_k, 0), n)
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


@njit(cache=True)
def sum_per_live(pos: np.ndarray, rows: np.ndarray, weights: np.ndarray, m: int) -> np.ndarray:
    """Sum of ``weights`` per active startup: ``out[pos[rows[i]]] += weights[i]`` in the
    order given, from ``0.0`` (``np.bincount(pos[rows], weights, minlength=m)``, bit for
    bit). ``pos`` maps a row to its place in ``live`` (-1: not active); a row that is not
    an active startup's raises ``ValueError``."""
    out = np.zeros(m)
    for i in range(rows.shape[0]):
        j = pos[rows[i]]
        if j < 0:
            raise ValueError("a row that is not an active startup's")
        out[j] += weights[i]
    return out


@njit(cache=True)
def set_sums_at_rows(
    col: np.ndarray,
    pos: np.ndarray,
    clear: np.ndarray,
    clear_too: np.ndarray,
    rows: np.ndarray,
    weights: np.ndarray,
) -> None:
    """``col[clear] = 0`` and ``col[clear_too] = 0``; then ``col[r]`` = the sum of the
    ``weights`` of ``rows`` equal to ``r`` (in the order given, from ``0.0``) at each row
    of ``rows``, which must be active startups' (``pos[r] >= 0``, else ``ValueError``)."""
    for i in range(clear.shape[0]):
        col[clear[i]] = 0.0
    for i in range(clear_too.shape[0]):
        col[clear_too[i]] = 0.0
    for i in range(rows.shape[0]):
        if pos[rows[i]] < 0:
            raise ValueError("a row that is not an active startup's")
        col[rows[i]] = 0.0
    for i in range(rows.shape[0]):
        col[rows[i]] += weights[i]


@njit(cache=True)
def direct_orders_rows(
    buy_row: np.ndarray,
    buy_h100e: np.ndarray,
    value: np.ndarray,
    on_order: np.ndarray,
    hours: float,
    willingness_weeks: float,
    h100e_per_unit: float,
    list_price: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The direct buyers' orders of one product: ``(row, units, limit USD per unit,
    H100e)`` of each of ``buy_row`` (distinct rows, with the H100e each orders) whose
    limit, ``value x hours x willingness_weeks x h100e_per_unit``, reaches the
    ``list_price`` (else the price is more than it would pay); their H100e are added to
    ``on_order`` in place. :func:`direct_orders_reference` is its numpy twin."""
    m = buy_row.shape[0]
    rows = np.empty(m, dtype=np.int64)
    units = np.empty(m)
    limit = np.empty(m)
    h100e = np.empty(m)
    k = 0
    for j in range(m):
        i = buy_row[j]
        lim = value[i] * hours * willingness_weeks * h100e_per_unit
        if lim >= list_price:
            x = buy_h100e[j]
            on_order[i] += x
            rows[k] = i
            units[k] = x / h100e_per_unit
            limit[k] = lim
            h100e[k] = x
            k += 1
    return rows[:k], units[:k], limit[:k], h100e[:k]


def direct_orders_reference(
    buy_row: np.ndarray,
    buy_h100e: np.ndarray,
    value: np.ndarray,
    on_order: np.ndarray,
    hours: float,
    willingness_weeks: float,
    h100e_per_unit: float,
    list_price: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`direct_orders_rows` in numpy (its test oracle)."""
    limit = value[buy_row] * hours * willingness_weeks * h100e_per_unit
    ok = limit >= list_price
    rows, limit, buy = buy_row[ok], limit[ok], buy_h100e[ok]
    on_order[rows] += buy
    return rows, buy / h100e_per_unit, limit, buy


@njit(cache=True)
def enter_rows(
    start: int,
    funding: np.ndarray,
    value: np.ndarray,
    status: np.ndarray,
    cash: np.ndarray,
    round_usd: np.ndarray,
    value_col: np.ndarray,
    need: np.ndarray,
    direct: np.ndarray,
    entered_week: np.ndarray,
    pos: np.ndarray,
    live_buf: np.ndarray,
    n_live: int,
    visit_buf: np.ndarray,
    n_visit: int,
    compute_share: float,
    runway_weeks: float,
    hours: float,
    direct_min_gpus: float,
    week: int,
) -> None:
    """Write the rows ``start..start + k - 1`` of ``k = len(funding)`` entrants (funding
    USD, ``value`` USD per H100e-hour): active, cash and round the funding, the weekly
    need (H100e: ``funding x compute_share / (runway_weeks x value x hours)``), whether
    they buy direct (need >= ``direct_min_gpus``), the week; each row's place in
    ``live`` (``pos``), appended to ``live_buf`` after ``n_live`` entries and to
    ``visit_buf`` after ``n_visit`` (the buffers have room).
    ``StartupPopulation._enter_reference`` is its numpy twin."""
    for i in range(funding.shape[0]):
        r = start + i
        status[r] = ACTIVE
        cash[r] = funding[i]
        round_usd[r] = funding[i]
        value_col[r] = value[i]
        x = funding[i] * compute_share / (runway_weeks * value[i] * hours)
        need[r] = x
        direct[r] = x >= direct_min_gpus
        entered_week[r] = week
        pos[r] = n_live + i
        live_buf[n_live + i] = r
        visit_buf[n_visit + i] = r


@njit(cache=True)
def drop_exited_rows(
    live: np.ndarray,
    visit: np.ndarray,
    exits: np.ndarray,
    status: np.ndarray,
    owned: np.ndarray,
    pos: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """After a settlement with ``exits``: the rows of ``live`` still active and the rows
    of ``visit`` active or owning compute (each in order), with ``pos`` (each row's
    place in ``live``) set for the active rows and -1 at ``exits``. The same as
    ``live[status[live] == ACTIVE]``, ``pos[exits] = -1``, ``pos[new_live] =
    arange(len(new_live))`` and ``visit[(status[visit] == ACTIVE) | (owned[visit] !=
    0.0)]`` in numpy (``StartupPopulation.settle``'s agents mode: its oracle)."""
    new_live = np.empty(live.shape[0], dtype=np.int64)
    k = 0
    for j in range(live.shape[0]):
        r = live[j]
        if status[r] == ACTIVE:
            new_live[k] = r
            k += 1
    for j in range(exits.shape[0]):
        pos[exits[j]] = -1
    for j in range(k):
        pos[new_live[j]] = j
    new_visit = np.empty(visit.shape[0], dtype=np.int64)
    m = 0
    for j in range(visit.shape[0]):
        r = visit[j]
        if status[r] == ACTIVE or owned[r] != 0.0:
            new_visit[m] = r
            m += 1
    return new_live[:k], new_visit[:m]
