"""The row kernels (market_sim.agents.startup_rows) against the whole-population kernels
they replace in the model (market_sim.agents.startup_kernels, whose own oracle is the
plain-Python per-agent mode): bit for bit on the same rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_model_parts import population

from market_sim.agents import startup_kernels as K
from market_sim.agents import startup_rows as R

DEMAND_ARGS = ("need", "owned", "on_order", "direct", "value", "cash")


def _equal(got, want) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=200, deadline=None)
@given(
    population(),
    st.floats(0.1, 3.0),
    st.sampled_from([0.0, 1000.0, 30000.0]),
    st.floats(0.0, 0.9),
    st.sampled_from([0.5, 0.0, 0.3, 1.0]),
)
def test_demand_rows_equals_demand_then_compact(pop, mult, price, spread, share):
    hours = 168.0
    cols = [pop[k] for k in DEMAND_ARGS]
    bid_p, bid_q, buy = K.startups_demand(pop["status"], *cols, mult, hours, price, spread, share)
    n = len(pop["status"])
    buy_row = np.flatnonzero(buy > 0)
    want = (*K.compact_bids(bid_p, bid_q, n), buy_row, buy[buy_row])
    live = np.flatnonzero(pop["status"] == K.ACTIVE)
    got = R.startups_demand_rows(live, *cols, mult, hours, price, spread, share, 0)
    _equal(got, want)
    front = 3  # room for other bids before them: the same bids after it
    got = R.startups_demand_rows(live, *cols, mult, hours, price, spread, share, front)
    _equal((*(g[front:] for g in got[:3]), *got[3:]), want)


SETTLE_SCALARS = (1.0, 168.0, 0.9, 0.5, 78.0, 0.02, 2.0, 0.25, 26, 0.5)


@settings(max_examples=200, deadline=None)
@given(population(), st.floats(0.5, 12.0), st.integers(0, 200))
def test_settle_rows_equals_settle_on_the_active_rows(pop, rental, week):
    n = len(pop["status"])
    live = np.flatnonzero(pop["status"] == K.ACTIVE)
    for k in ("rented", "delivered", "paid"):  # only active startups trade
        pop[k][pop["status"] != K.ACTIVE] = 0.0
    names = ("status", "cash", "round_usd", "need", "value", "owned", "on_order", "starved")
    full = {k: pop[k].copy() for k in names} | {"exited": np.full(n, -1), "got": np.zeros(n)}
    rows = {k: v.copy() for k, v in full.items()}
    exits_full, exits_rows = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    k_full = K.startups_settle(
        *(full[k] for k in names), full["exited"], full["got"], pop["rented"],
        pop["delivered"], pop["paid"], pop["draws"], rental, *SETTLE_SCALARS, week, exits_full,
    )  # fmt: skip
    rented_col = np.full(n, -1.0)
    pos = np.full(n, -1, dtype=np.int64)
    pos[live] = np.arange(len(live))
    # each row's rent as two bids (tranches) in the auction's order: first halves, then
    # the rest; summed per row from 0.0 they give the row's rent
    half = pop["rented"][live] * 0.5
    bid_rows = np.concatenate([live, live])
    bid_h100e = np.concatenate([half, pop["rented"][live] - half])
    k_rows = R.startups_settle_rows(
        live, *(rows[k] for k in names), rows["exited"], rows["got"], rented_col,
        bid_rows, bid_h100e, pos,
        pop["delivered"][live], pop["paid"][live], pop["draws"], rental, *SETTLE_SCALARS,
        week, exits_rows,
    )  # fmt: skip
    np.testing.assert_array_equal(exits_rows[:k_rows], exits_full[:k_full])
    np.testing.assert_array_equal(rented_col[live], pop["rented"][live])
    for k in full:
        if k == "got":  # the full pass also zeroes the inactive rows' compute
            np.testing.assert_array_equal(rows[k][live], full[k][live])
        else:
            np.testing.assert_array_equal(rows[k], full[k], err_msg=k)


@settings(max_examples=300, deadline=None)
@given(
    population(),
    arrays(np.float64, st.integers(0, 6), elements=st.floats(0.0, 1e6)),
    st.integers(0, 6),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_summary_rows_equals_summary_of_every_row(pop, firms, top_k, zero_share, seed):
    """Visiting only the active rows and those that own compute gives what a pass over
    every row gives (exited rows that own nothing are left out)."""
    status, owned = pop["status"].copy(), pop["owned"].copy()
    status[status == K.EMPTY] = K.EXITED  # rows below n are active or exited
    rng = np.random.default_rng(seed)
    owned[rng.random(len(owned)) < zero_share] = 0.0
    got = pop["rented"] + owned
    args = (status, pop["starved"], got, owned, pop["rented"])
    want = K.population_summary(*args, firms, top_k)
    visit = np.flatnonzero((status == K.ACTIVE) | (owned != 0.0))
    res = R.population_summary_rows(visit, len(status), *args, firms, top_k)
    assert res[:7] == want[:7]
    np.testing.assert_array_equal(res[7], want[7])
    np.testing.assert_array_equal(res[8], want[8])


def test_float_columns_side_by_side_give_the_same_numbers(monkeypatch) -> None:
    """A large population stores its float columns side by side (one cache line a row,
    ``startup_columns.TOGETHER_MIN_ROWS``); the week's numbers do not depend on the layout."""
    from market_sim.agents import startup_columns
    from market_sim.model import GPUMarketModel
    from model_helpers import BASELINE

    runs = {}
    for label, min_rows in (("apart", 2**62), ("together", 0)):
        monkeypatch.setattr(startup_columns, "TOGETHER_MIN_ROWS", min_rows)
        over = ["startups.count=300", "simulation.weeks=40"]
        with GPUMarketModel(BASELINE, overrides=over, seed=3) as model:
            model.run()
            cols = model.startups.cols
            assert (cols["cash"].strides[0] == 64) is (label == "together")  # the layout
            runs[label] = (model.timeseries(), {k: v[: model.startups.n] for k, v in cols.items()})
    (frame_a, cols_a), (frame_t, cols_t) = runs["apart"], runs["together"]
    assert frame_a.equals(frame_t)
    for name, col in cols_a.items():
        np.testing.assert_array_equal(col, cols_t[name], err_msg=name)


@settings(max_examples=200, deadline=None)
@given(population(), st.floats(0.5, 30.0), st.floats(0.5, 2.0), st.floats(0.0, 1e5), st.data())
def test_direct_orders_rows_equals_numpy(pop, weeks, h100e_per_unit, list_price, data):
    n = len(pop["status"])
    rows = np.flatnonzero(data.draw(arrays(np.bool_, n)))
    buy = data.draw(arrays(np.float64, len(rows), elements=st.floats(1e-6, 1e4)))
    on_k, on_r = pop["on_order"].copy(), pop["on_order"].copy()
    args = (168.0, weeks, h100e_per_unit, list_price)
    got = R.direct_orders_rows(rows, buy, pop["value"], on_k, *args)
    want = R.direct_orders_reference(rows, buy, pop["value"], on_r, *args)
    _equal(got, want)
    np.testing.assert_array_equal(on_k, on_r)
