"""numba kernels of the recorder's collectors (:mod:`market_sim.model.record`): the
vendors', firms', groups', buyer classes', market's, concentration's and nodes'
outcomes of a week, each in one call.

Each kernel reads the week's arrays and writes its values into the week's row of
outcomes (``row``, one float64 per catalogue key) at the positions the run's layout
gives (``*_at``, :class:`market_sim.model.record_layout.RecordLayout`: flat, the
first variable's entities first); a value carried
forward is left as the row holds it (last week's). They do the arithmetic the numpy
collectors did, in the same order, so the values are the same bit for bit: a sum by
index adds in index order from 0.0 (as ``np.bincount`` and Python's ``sum``), a row sum
and a ``.sum()`` in numpy's pairwise order (:mod:`market_sim.market.kernels_sum`).
:mod:`market_sim.model.record_reference` holds their numpy twins, the test oracles
(tests/test_record_kernels.py).

``error_model="numpy"``: numba does not test each division for a zero divisor (the
kernels guard theirs, as the numpy code did), which also makes their cached code smaller
and quicker to load.

Units: product units, H100e, USD (billions where a key says ``_bn``), weeks, percent.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_sum import pairwise_sum, pairwise_sum_any
from market_sim.outcomes.kernels import class_week_quantiles_kernel, largest_sum

KERNEL_NAMES = (
    "vendor_outcomes",
    "holder_outcomes",
    "group_outcomes",
    "class_outcomes",
    "market_outcomes",
    "concentration_outcomes",
    "node_outcomes",
)
"""The recorder's kernels, one per family (each has a ``<name>_reference`` twin in
:mod:`market_sim.model.record_reference`, its test oracle)."""


@njit(cache=True, error_model="numpy")
def vendor_outcomes(
    product_vendor: np.ndarray,
    units: np.ndarray,
    h100e: np.ndarray,
    backlog: np.ndarray,
    books: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
) -> None:
    """Each vendor's units and H100e delivered, revenue and COGS (USD bn), gross margin
    (%), backlog (units) and implied ASP (USD per unit) into ``row`` at ``at``
    ([VENDOR_VARIABLES, vendors], flat).

    ``units``, ``h100e`` delivered and ``backlog`` are per product (summed by
    ``product_vendor`` in product order); ``books`` is [vendors, (revenue, COGS, ...)]
    in USD. Without revenue the margin, without deliveries the ASP, stay last week's.
    """
    n_v = books.shape[0]
    by_units = np.zeros(n_v)
    by_h100e = np.zeros(n_v)
    by_backlog = np.zeros(n_v)
    for p in range(product_vendor.shape[0]):
        d = product_vendor[p]
        by_units[d] += units[p]
        by_h100e[d] += h100e[p]
        by_backlog[d] += backlog[p]
    for d in range(n_v):
        revenue, cogs = books[d, 0], books[d, 1]
        row[at[d]] = by_units[d]
        row[at[n_v + d]] = by_h100e[d]
        row[at[2 * n_v + d]] = revenue / 1e9
        row[at[3 * n_v + d]] = cogs / 1e9
        if revenue > 0:
            row[at[4 * n_v + d]] = 100.0 * (1.0 - cogs / revenue)
        row[at[5 * n_v + d]] = by_backlog[d]
        if by_units[d] > 0:
            row[at[6 * n_v + d]] = revenue / by_units[d]


@njit(cache=True, error_model="numpy")
def holder_outcomes(
    delivered: np.ndarray,
    delivered_h100e: np.ndarray,
    fleet: np.ndarray,
    installed: np.ndarray,
    all_installed: float,
    spend_usd: np.ndarray,
    expected_lead: np.ndarray,
    open_h100e: np.ndarray,
    by_cell: np.ndarray,
    by_cell_h100e: np.ndarray,
    cells: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
    cells_at: np.ndarray,
    record: np.ndarray,
) -> None:
    """The firms' record [HOLDER_VARIABLES, holders] (units and H100e delivered, units
    and H100e installed, share of all installed H100e in %, spend in USD bn, expected
    lead weeks, open orders in H100e), written into ``record`` and into
    ``row`` at ``at`` (flat); and each firm's deliveries by vendor (``by_cell[cells]``, units then
    H100e) at ``cells_at`` (flat). ``fleet`` [holders, products] is C-contiguous; its row sums are
    numpy's (pairwise)."""
    n_h = installed.shape[0]
    n_p = fleet.shape[1]
    for h in range(n_h):
        record[0, h] = delivered[h]
        record[1, h] = delivered_h100e[h]
        record[2, h] = pairwise_sum(fleet[h], 0, n_p)
        record[3, h] = installed[h]
        record[4, h] = 100.0 * installed[h] / all_installed
        record[5, h] = spend_usd[h] / 1e9
        record[6, h] = expected_lead[h]
        record[7, h] = open_h100e[h]
        for j in range(8):
            row[at[j * n_h + h]] = record[j, h]
    n_c = cells.shape[0]
    for k in range(n_c):
        row[cells_at[k]] = by_cell[cells[k]]
        row[cells_at[n_c + k]] = by_cell_h100e[cells[k]]


@njit(cache=True, error_model="numpy")
def group_outcomes(
    delivered: np.ndarray,
    installed: np.ndarray,
    aggregate: np.ndarray,
    members: np.ndarray,
    largest: np.ndarray,
    startup_group: int,
    startup_units: float,
    startup_h100e: float,
    all_installed: float,
    row: np.ndarray,
    at: np.ndarray,
) -> None:
    """Each group's units delivered, installed H100e and share of all installed H100e
    (%) into ``row`` at ``at`` ([3, groups], flat).

    A group's sums add its holders in order from 0.0 (as Python's ``sum``): the holders
    of ``members[g]`` (padded with -1), or, where ``largest[g]`` is N > 0, the N
    firms with the most installed H100e, largest first and at a tie the later holder
    first (``np.argsort(ranking, kind="stable")[::-1][:N]``, ranking ``installed`` and
    -1 for an ``aggregate`` holder, which is many small firms). The startups' group
    (``startup_group``) holds ``startup_units`` and ``startup_h100e``.
    """
    n_h = installed.shape[0]
    ranking = np.where(aggregate, -1.0, installed)
    order = np.empty(n_h, dtype=np.int64)  # by ranking, descending; later first at ties
    for i in range(n_h):
        j = i
        while j > 0 and ranking[order[j - 1]] <= ranking[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i
    n_g = members.shape[0]
    for g in range(n_g):
        units = 0.0
        h100e = 0.0
        if g == startup_group:
            units, h100e = startup_units, startup_h100e
        elif largest[g] > 0:
            for k in range(min(largest[g], n_h)):
                units += delivered[order[k]]
                h100e += installed[order[k]]
        else:
            for k in range(members.shape[1]):
                h = members[g, k]
                if h < 0:
                    break
                units += delivered[h]
                h100e += installed[h]
        row[at[g]] = units
        row[at[n_g + g]] = h100e
        row[at[2 * n_g + g]] = 100.0 * h100e / all_installed if all_installed != 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def class_outcomes(
    book_klass: np.ndarray,
    book_lead_weeks: np.ndarray,
    book_qty: np.ndarray,
    book_order_week: np.ndarray,
    week: int,
    klass: np.ndarray,
    waited_weeks: np.ndarray,
    units: np.ndarray,
    class_units: np.ndarray,
    class_h100e: np.ndarray,
    class_paid: np.ndarray,
    total_units: float,
    reference_usd: float,
    qs: np.ndarray,
    row: np.ndarray,
    quoted_at: np.ndarray,
    realised_at: np.ndarray,
    price_at: np.ndarray,
    share_at: np.ndarray,
) -> None:
    """Each buyer class's quoted and realised lead times (weeks, the ``qs`` quantiles
    weighted by units), effective price (USD per H100e) and share of the units
    delivered (%) into ``row`` (``quoted_at`` and ``realised_at``: [classes, qs], flat).

    Quoted: the open orders' (``book_*``), 0 without any. Realised: this week's
    deliveries' (``klass``, ``waited_weeks`` truncated to whole weeks, ``units``); for a
    class without deliveries, how long its open orders have waited at ``week``; without
    either, last week's. Price: USD paid per H100e delivered; without deliveries last
    week's, or ``reference_usd`` where that is 0. Share: last week's when nothing was
    delivered.
    """
    n_c = class_units.shape[0]
    quoted = class_week_quantiles_kernel(book_klass, book_lead_weeks, book_qty, n_c, qs)
    waited = np.empty(waited_weeks.shape[0], dtype=np.int64)
    for i in range(waited.shape[0]):
        waited[i] = int(waited_weeks[i])
    realised = class_week_quantiles_kernel(klass, waited, units, n_c, qs)
    n_q = qs.shape[0]
    undelivered = np.zeros(n_c, dtype=np.bool_)
    for c in range(n_c):
        for j in range(n_q):
            if not np.isfinite(realised[c, j]):
                undelivered[c] = True
    if undelivered.any():  # how long such a class's open orders have waited so far
        waiting = class_week_quantiles_kernel(book_klass, week - book_order_week, book_qty, n_c, qs)
        for c in range(n_c):
            if undelivered[c]:
                realised[c] = waiting[c]
    for c in range(n_c):
        for j in range(n_q):  # NaN (no orders, no deliveries) fails the comparisons
            q = quoted[c, j]
            row[quoted_at[c * n_q + j]] = q if q >= 0 else 0.0
            r = realised[c, j]
            if r >= 0:
                row[realised_at[c * n_q + j]] = r
        h = class_h100e[c]
        if h > 0:
            row[price_at[c]] = class_paid[c] / h
        elif row[price_at[c]] == 0.0:
            row[price_at[c]] = reference_usd
        if total_units > 0:
            row[share_at[c]] = 100.0 * class_units[c] / total_units


@njit(cache=True, error_model="numpy")
def _sum_at(values: np.ndarray, idx: np.ndarray) -> float:
    """``values[idx].sum()`` as numpy computes it (pairwise over the gathered values)."""
    gathered = np.empty(idx.shape[0])
    for k in range(idx.shape[0]):
        gathered[k] = values[idx[k]]
    return pairwise_sum_any(gathered, 0, gathered.shape[0])


@njit(cache=True, error_model="numpy")
def _dot_at(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> float:
    """``(a[idx] * b[idx]).sum()`` as numpy computes it."""
    gathered = np.empty(idx.shape[0])
    for k in range(idx.shape[0]):
        gathered[k] = a[idx[k]] * b[idx[k]]
    return pairwise_sum_any(gathered, 0, gathered.shape[0])


@njit(cache=True, error_model="numpy")
def market_outcomes(
    units_total: float,
    h100e_total: float,
    fleet_incumbent_h100e: float,
    fleet_h100e: float,
    startup_units: np.ndarray,
    h100e_per_unit: np.ndarray,
    incumbent: np.ndarray,
    backlog: np.ndarray,
    all_installed: float,
    row: np.ndarray,
    at: np.ndarray,
    incumbent_at: np.ndarray,
) -> None:
    """The market's totals into ``row`` at ``at`` (``MARKET_KEYS``, in order): the
    incumbent's revenue, COGS (USD bn) and margin (%), its shares of the units and
    H100e delivered (last week's when nothing was), of the H100e bought so far (the
    firms' ``fleet_*`` sums, numpy's, and the startups' pool by product), its units
    and H100e delivered; all units and H100e delivered, the backlog (units), installed
    H100e and the other vendors' share of the H100e bought (%).

    ``incumbent_at``: the incumbent vendor's revenue, COGS, margin, units and H100e in
    ``row`` (written this week; empty: no incumbent, zeros); ``incumbent``: its
    products.
    """
    revenue = cogs = margin = units = h100e = 0.0
    if incumbent_at.shape[0] > 0:
        revenue, cogs, margin = row[incumbent_at[0]], row[incumbent_at[1]], row[incumbent_at[2]]
        units, h100e = row[incumbent_at[3]], row[incumbent_at[4]]
    everything = np.arange(h100e_per_unit.shape[0])
    bought_incumbent = fleet_incumbent_h100e + _dot_at(startup_units, h100e_per_unit, incumbent)
    bought = fleet_h100e + _dot_at(startup_units, h100e_per_unit, everything)
    share = 100.0 * bought_incumbent / bought if bought != 0.0 else 0.0
    row[at[0]] = revenue
    row[at[1]] = cogs
    row[at[2]] = margin
    if units_total > 0:
        row[at[3]] = 100.0 * units / units_total
    if h100e_total > 0:
        row[at[4]] = 100.0 * h100e / h100e_total
    row[at[5]] = share
    row[at[6]] = units
    row[at[7]] = h100e
    row[at[8]] = units_total
    row[at[9]] = h100e_total
    row[at[10]] = pairwise_sum_any(backlog, 0, backlog.shape[0])
    row[at[11]] = all_installed
    row[at[12]] = 100.0 - share if bought != 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def concentration_outcomes(
    firms: np.ndarray,
    startups_top: np.ndarray,
    top_k: int,
    all_installed: float,
    h100e_delivered: np.ndarray,
    alternative: np.ndarray,
    in_house: np.ndarray,
    h100e_total: float,
    row: np.ndarray,
    at: np.ndarray,
) -> None:
    """The top ``top_k`` holders' share of installed H100e (%; firms and startups,
    ``measures.top_share``), the H100e delivered of ``alternative`` and ``in_house``
    products and their shares of all H100e delivered (%, last week's when nothing
    was) into ``row`` at ``at[2:]`` (``CONCENTRATION_KEYS``; the HHI and the Gini are
    the caller's)."""
    n_f = firms.shape[0]
    holders = np.empty(n_f + startups_top.shape[0])
    holders[:n_f] = firms
    holders[n_f:] = startups_top
    if all_installed > 0:
        row[at[2]] = 100.0 * largest_sum(holders, top_k) / all_installed
    else:
        row[at[2]] = 0.0
    alt = _sum_at(h100e_delivered, alternative)
    own = _sum_at(h100e_delivered, in_house)
    row[at[3]] = alt
    row[at[4]] = own
    if h100e_total > 0:
        row[at[5]] = 100.0 * alt / h100e_total
        row[at[6]] = 100.0 * own / h100e_total


@njit(cache=True, error_model="numpy")
def node_outcomes(
    chipmakers: np.ndarray,
    capacity_ordered: np.ndarray,
    node_output: np.ndarray,
    wafer_nodes: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
    wafers_at: np.ndarray,
    node_vendors_at: np.ndarray,
) -> None:
    """Each node's capacity, utilisation (%), output (node units a week) and capacity
    ordered into ``row`` at ``at`` ([4, nodes], flat); the wafer nodes' capacity per
    month (x 52 / 12) at ``wafers_at``; each node's output by vendor
    (``node_output`` [vendors, nodes]) at ``node_vendors_at`` (node-major).
    ``chipmakers`` is [nodes, (capacity, used, expansion, utilisation)]."""
    n_n, n_v = chipmakers.shape[0], node_output.shape[0]
    for n in range(n_n):
        row[at[n]] = chipmakers[n, 0]
        row[at[n_n + n]] = 100.0 * chipmakers[n, 3]
        row[at[2 * n_n + n]] = chipmakers[n, 1]
        row[at[3 * n_n + n]] = capacity_ordered[n]
        for v in range(n_v):
            row[node_vendors_at[n * n_v + v]] = node_output[v, n]
    for k in range(wafer_nodes.shape[0]):
        row[wafers_at[k]] = chipmakers[wafer_nodes[k], 0] * 52.0 / 12.0
