"""numpy twins of the recorder's kernels (:mod:`market_sim.model.record_kernels`): the
arithmetic the collectors did before the kernels (``np.bincount``, Python's ``sum``
over the holders, numpy's row sums and quantiles), with the kernels' arguments. They are
the kernels' test oracles and benchmark baseline: the same values, bit for bit
(tests/test_record_kernels.py).

Units: product units, H100e, USD (billions where a key says ``_bn``), weeks, percent.
"""

from __future__ import annotations

import numpy as np

from market_sim.outcomes.measures import class_week_quantiles, top_share


def vendor_outcomes_reference(
    product_vendor: np.ndarray,
    units: np.ndarray,
    h100e: np.ndarray,
    backlog: np.ndarray,
    books: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
) -> None:
    """:func:`~market_sim.model.record_kernels.vendor_outcomes` with numpy."""
    n_v = books.shape[0]
    by_vendor = zip(  # products' sums by vendor, each in product order
        np.bincount(product_vendor, weights=units, minlength=n_v).tolist(),
        np.bincount(product_vendor, weights=h100e, minlength=n_v).tolist(),
        np.bincount(product_vendor, weights=backlog, minlength=n_v).tolist(),
        strict=True,
    )
    at = at.reshape(7, n_v)
    for d, (units_d, h100e_d, waiting) in enumerate(by_vendor):
        rev, cogs = float(books[d, 0]), float(books[d, 1])
        margin = 100.0 * (1.0 - cogs / rev) if rev > 0 else row[at[4, d]]
        asp = rev / units_d if units_d > 0 else row[at[6, d]]
        row[at[:, d]] = (units_d, h100e_d, rev / 1e9, cogs / 1e9, margin, waiting, asp)


def holder_outcomes_reference(
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
    """:func:`~market_sim.model.record_kernels.holder_outcomes` with numpy."""
    record[:] = np.array(
        (
            delivered,
            delivered_h100e,
            fleet.sum(axis=1),
            installed,
            100.0 * installed / all_installed,
            spend_usd / 1e9,
            expected_lead,
            open_h100e,
        )
    )
    row[at.reshape(record.shape)] = record
    cells_at = cells_at.reshape(2, -1)
    row[cells_at[0]] = by_cell[cells]
    row[cells_at[1]] = by_cell_h100e[cells]


def group_outcomes_reference(
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
    """:func:`~market_sim.model.record_kernels.group_outcomes` with numpy and Python's
    ``sum``."""
    delivered_list, installed_list = delivered.tolist(), installed.tolist()
    ranked = np.argsort(np.where(aggregate, -1.0, installed), kind="stable")[::-1]
    n_g = members.shape[0]
    at = at.reshape(3, n_g)
    for g in range(n_g):
        if g == startup_group:
            units, inst = startup_units, startup_h100e
        else:
            if largest[g] > 0:
                idx = ranked[: largest[g]].tolist()
            else:
                idx = [h for h in members[g].tolist() if h >= 0]
            units = sum(delivered_list[i] for i in idx)
            inst = sum(installed_list[i] for i in idx)
        share = 100.0 * inst / all_installed if all_installed else 0.0
        row[at[:, g]] = (units, inst, share)


def class_outcomes_reference(
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
    """:func:`~market_sim.model.record_kernels.class_outcomes` with numpy and a loop
    over the classes."""
    n = class_units.shape[0]
    n_q = qs.shape[0]
    quoted_q = class_week_quantiles(book_klass, book_lead_weeks, book_qty, n)
    realised_q = class_week_quantiles(klass, waited_weeks.astype(np.int64), units, n)
    undelivered = ~np.isfinite(realised_q).all(axis=1)
    if undelivered.any():  # how long such a class's open orders have waited so far
        waiting_q = class_week_quantiles(book_klass, week - book_order_week, book_qty, n)
        realised_q[undelivered] = waiting_q[undelivered]
    quoted_at, realised_at = quoted_at.reshape(n, n_q), realised_at.reshape(n, n_q)
    for c in range(n):
        quoted, realised = quoted_q[c].tolist(), realised_q[c].tolist()
        for j in range(n_q):
            row[quoted_at[c, j]] = quoted[j] if quoted[j] >= 0 else 0.0
            key = realised_at[c, j]
            row[key] = realised[j] if realised[j] >= 0 else row[key]
        h = float(class_h100e[c])
        last = float(row[price_at[c]])
        row[price_at[c]] = float(class_paid[c]) / h if h > 0 else last or reference_usd
        if total_units > 0:
            row[share_at[c]] = 100.0 * float(class_units[c]) / total_units


def market_outcomes_reference(
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
    """:func:`~market_sim.model.record_kernels.market_outcomes` with numpy."""
    revenue = cogs = margin = units = h100e = 0.0
    if len(incumbent_at):
        revenue, cogs, margin, units, h100e = row[incumbent_at].tolist()
    last_units_share, last_h100e_share = float(row[at[3]]), float(row[at[4]])
    inc_bought = fleet_incumbent_h100e + float(
        (startup_units[incumbent] * h100e_per_unit[incumbent]).sum()
    )
    all_bought = fleet_h100e + float((startup_units * h100e_per_unit).sum())
    share = 100.0 * inc_bought / all_bought if all_bought else 0.0
    row[at] = (
        revenue,
        cogs,
        margin,
        100.0 * units / units_total if units_total > 0 else last_units_share,
        100.0 * h100e / h100e_total if h100e_total > 0 else last_h100e_share,
        share,
        units,
        h100e,
        units_total,
        h100e_total,
        float(backlog.sum()),
        all_installed,
        100.0 - share if all_bought else 0.0,
    )


def concentration_outcomes_reference(
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
    """:func:`~market_sim.model.record_kernels.concentration_outcomes` with numpy."""
    alt = float(h100e_delivered[alternative].sum())
    own = float(h100e_delivered[in_house].sum())
    row[at[2]] = top_share(np.concatenate([firms, startups_top]), top_k, all_installed)
    row[at[3]], row[at[4]] = alt, own
    if h100e_total > 0:
        row[at[5]] = 100.0 * alt / h100e_total
        row[at[6]] = 100.0 * own / h100e_total


def node_outcomes_reference(
    chipmakers: np.ndarray,
    capacity_ordered: np.ndarray,
    node_output: np.ndarray,
    wafer_nodes: np.ndarray,
    row: np.ndarray,
    at: np.ndarray,
    wafers_at: np.ndarray,
    node_vendors_at: np.ndarray,
) -> None:
    """:func:`~market_sim.model.record_kernels.node_outcomes` with numpy."""
    capacity = chipmakers[:, 0]
    row[at] = np.concatenate(
        [capacity, 100.0 * chipmakers[:, 3], chipmakers[:, 1], capacity_ordered]
    )
    row[wafers_at] = capacity[wafer_nodes] * 52.0 / 12.0
    row[node_vendors_at] = node_output.T.ravel()
