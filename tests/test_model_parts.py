"""Unit tests of the model's parts: capacity split, order book, startup kernels, metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from market_sim.agents import startup_kernels as K
from market_sim.agents.chipmaker import split_capacities, split_capacity
from market_sim.model import GPUMarketModel
from market_sim.model.book import Batch, OrderBook
from market_sim.outcomes.measures import gini, hhi, hhi_of_parts, top_share, weighted_quantile
from model_helpers import BASELINE, FAST

amounts = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def split_inputs(draw):
    n = draw(st.integers(1, 6))
    requests = np.array(draw(st.lists(amounts, min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n + 1, max_size=n + 1)))
    shares = raw[:n] / max(1.0, raw.sum())
    reserved = float(raw[n] / max(1.0, raw.sum()))
    return draw(amounts), requests, shares, reserved


@settings(max_examples=300, deadline=None)
@given(split_inputs())
def test_split_capacity_is_feasible_and_honours_contracts(inputs):
    capacity, requests, shares, reserved = inputs
    grants = split_capacity(capacity, requests, shares, reserved)
    assert (grants >= 0).all() and (grants <= requests * (1 + 1e-12) + 1e-9).all()
    assert grants.sum() <= capacity * (1 - reserved) * (1 + 1e-12) + 1e-9
    # each vendor gets at least min(request, its contract)
    assert (grants >= np.minimum(requests, shares * capacity) * (1 - 1e-12) - 1e-9).all()


@settings(max_examples=200, deadline=None)
@given(split_inputs(), st.floats(1.0, 5.0))
def test_more_capacity_never_lowers_a_grant(inputs, factor):
    capacity, requests, shares, reserved = inputs
    before = split_capacity(capacity, requests, shares, reserved)
    after = split_capacity(capacity * factor, requests, shares, reserved)
    assert (after >= before * (1 - 1e-12) - 1e-9).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(split_inputs(), min_size=1, max_size=5), st.integers(1, 6))
def test_split_capacities_equals_split_capacity_per_node(nodes, n_vendors):
    """The all-nodes-at-once split the model uses gives each node's own split."""
    nodes = [(c, r[:n_vendors], s[:n_vendors], res) for c, r, s, res in nodes]
    k = min(len(r) for _, r, _, _ in nodes)
    capacity = np.array([c for c, _, _, _ in nodes])
    requests = np.column_stack([r[:k] for _, r, _, _ in nodes])
    shares = np.column_stack([s[:k] for _, _, s, _ in nodes])
    reserved = np.array([res for _, _, _, res in nodes])
    grants = split_capacities(capacity, requests, shares, reserved)
    for j in range(len(nodes)):
        want = split_capacity(capacity[j], requests[:, j], shares[:, j], reserved[j])
        np.testing.assert_array_equal(grants[:, j], want)


def test_split_capacity_by_hand():
    # capacity 100, 10 reserved; contracts A 50% (50), B 20% (20); requests 70 and 10
    # contract: A 50, B 10; rest = 90 - 60 = 30 goes to A's unmet 20 -> A 70, B 10
    g = split_capacity(100.0, np.array([70.0, 10.0]), np.array([0.5, 0.2]), 0.1)
    np.testing.assert_allclose(g, [70.0, 10.0])
    # requests 80 and 40: contract 50 and 20; rest 20 split pro rata to unmet 30 and 20
    g = split_capacity(100.0, np.array([80.0, 40.0]), np.array([0.5, 0.2]), 0.1)
    np.testing.assert_allclose(g, [50 + 20 * 30 / 50, 20 + 20 * 20 / 50])


def test_order_book_add_cancel_compact():
    book = OrderBook(capacity=2)
    batch = Batch(
        product=np.array([0, 1, 0]),
        holder=np.array([3, 3, 4]),
        startup=np.array([-1, -1, -1]),
        klass=np.array([0, 0, 1]),
        qty=np.array([10.0, 5.0, 0.0]),
        limit_price=np.ones(3),
        priority=np.ones(3, dtype=np.int64),
        order_week=np.array([1, 2, 3]),
    )
    book.add(batch)
    assert len(book) == 2  # the zero-quantity order is dropped
    book.add(Batch(**{k: v[:1] for k, v in batch.__dict__.items()} | {"order_week": np.array([7])}))
    idx = book.open_by(3)
    # cancel 12 units youngest first: the week-7 order (10), then 2 of the week-2 order
    assert book.cancel(idx, 12.0) == pytest.approx(12.0)
    np.testing.assert_allclose(book.qty, [10.0, 3.0, 0.0])
    book.compact()
    assert len(book) == 2 and list(book.order_week) == [1, 2]
    perm, offsets = book.by_market(3)
    assert list(offsets) == [0, 1, 2, 2] and list(book.product[perm]) == [0, 1]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.data())
def test_open_totals_kernel_equals_bincount(n, data):
    """The book's per-firm open totals (numba, one pass) against numpy's bincount."""
    from market_sim.model.book import open_totals_kernel

    holder = data.draw(arrays(np.int64, n, elements=st.integers(-1, 4)))
    product = data.draw(arrays(np.int64, n, elements=st.integers(0, 2)))
    qty = data.draw(arrays(np.float64, n, elements=st.floats(0.0, 1e5)))
    w_a, w_b = np.array([1.0, 0.5, 2.0]), np.array([3e4, 2e4, 1e3])
    a, b = open_totals_kernel(holder, qty, product, w_a, w_b, 5)
    firm = holder >= 0
    for got, w in ((a, w_a), (b, w_b)):
        want = np.bincount(holder[firm], weights=qty[firm] * w[product[firm]], minlength=5)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_concentration_measures_by_hand():
    assert hhi(np.array([50.0, 50.0])) == pytest.approx(5000.0)
    assert hhi(np.array([1.0])) == pytest.approx(10000.0)
    assert hhi(np.array([25.0]), total=100.0) == pytest.approx(625.0)
    assert gini(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # (n-1)/n
    assert top_share(np.array([5.0, 3.0, 2.0]), 2) == pytest.approx(80.0)
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), 0.5) == 2.0
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), 0.9) == 3.0
    assert np.isnan(weighted_quantile(np.array([1.0]), np.array([0.0]), 0.5))


# --------------------------------------------------------------------------- startups


@st.composite
def population(draw):
    n = draw(st.integers(1, 40))
    f = lambda lo, hi: draw(arrays(np.float64, n, elements=st.floats(lo, hi)))  # noqa: E731
    return {
        "status": draw(arrays(np.int8, n, elements=st.sampled_from([0, 1, 1, 1, 2]))),
        "cash": f(-1e3, 1e8),
        "round_usd": f(1e5, 1e8),
        "need": f(0.0, 1e4),
        "value": f(0.5, 20.0),
        "owned": f(0.0, 1e4),
        "on_order": f(0.0, 1e4),
        "direct": draw(arrays(np.bool_, n)),
        "starved": draw(arrays(np.int64, n, elements=st.integers(0, 40))),
        "rented": f(0.0, 1e4),
        "delivered": f(0.0, 100.0),
        "paid": f(0.0, 1e6),
        "draws": f(0.0, 1.0),
    }


def _python_twin(pop, mult, hours, price, spread, share):
    """The demand rules, startup by startup, written out independently (the oracle)."""
    n = len(pop["status"])
    bid_p, bid_q, buy = np.zeros(2 * n), np.zeros(2 * n), np.zeros(n)
    for i in range(n):
        if pop["status"][i] != 1:
            continue
        cash, value = pop["cash"][i], pop["value"][i]
        want = pop["need"][i] * mult
        gap = max(0.0, want - pop["owned"][i])
        hi, lo = value * (1 + spread), value * (1 - spread)
        first = min(gap * share, max(cash, 0.0) / (hi * hours))
        left = cash - first * hi * hours
        second = min(gap * (1 - share), left / (lo * hours)) if left > 0 and lo > 0 else 0.0
        bid_p[i], bid_q[i], bid_p[n + i], bid_q[n + i] = hi, first, lo, second
        if pop["direct"][i] and price > 0:
            to_order = want - pop["owned"][i] - pop["on_order"][i]
            if to_order > 0:
                buy[i] = min(to_order, max(cash, 0.0) / price)
    return bid_p, bid_q, buy


@settings(max_examples=150, deadline=None)
@given(
    population(),
    st.floats(0.1, 3.0),
    st.floats(1000.0, 60000.0),
    st.floats(0.0, 0.9),
    st.sampled_from([0.5, 0.0, 0.3, 1.0]),
)
def test_startup_demand_kernel_equals_python(pop, mult, price, spread, share):
    hours = 168.0
    expect = _python_twin(pop, mult, hours, price, spread, share)
    got = K.startups_demand(
        pop["status"], pop["need"], pop["owned"], pop["on_order"], pop["direct"],
        pop["value"], pop["cash"], mult, hours, price, spread, share,
    )  # fmt: skip
    for e, g in zip(expect, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    bid_p, bid_q, _ = got
    n = len(pop["status"])
    # a startup never bids for more than its gap nor commits more cash than it has
    gap = np.maximum(0.0, pop["need"] * mult - pop["owned"])
    assert (bid_q[:n] + bid_q[n:] <= gap * (1 + 1e-12) + 1e-12).all()
    spend = (bid_p[:n] * bid_q[:n] + bid_p[n:] * bid_q[n:]) * hours
    assert (spend <= np.maximum(pop["cash"], 0.0) * (1 + 1e-9) + 1e-6).all()


@settings(max_examples=150, deadline=None)
@given(population(), st.floats(0.5, 12.0), st.integers(0, 200))
def test_startup_settle_kernel_keeps_cash_and_status_consistent(pop, rental, week):
    c = {k: v.copy() for k, v in pop.items()}
    got = np.zeros(len(c["status"]))
    exited = np.full(len(c["status"]), -1, dtype=np.int64)
    active_before = c["status"] == 1
    exits = np.empty(len(c["status"]), dtype=np.int64)
    n_exits = K.startups_settle(
        c["status"],
        c["cash"],
        c["round_usd"],
        c["need"],
        c["value"],
        c["owned"],
        c["on_order"],
        c["starved"],
        exited,
        got,
        c["rented"],
        c["delivered"],
        c["paid"],
        c["draws"],
        rental,
        1.0,
        168.0,
        0.9,
        0.5,
        78.0,
        0.02,
        2.0,
        0.25,
        26,
        0.5,
        week,
        exits,
    )
    # inactive startups are untouched
    for k in ("cash", "owned", "starved"):
        np.testing.assert_array_equal(c[k][~active_before], pop[k][~active_before])
    # survivors have cash; exits are stamped with the week
    still = c["status"] == 1
    assert (c["cash"][still] > 0).all()
    now_out = active_before & (c["status"] == 2)
    assert (exited[now_out] == week).all()
    np.testing.assert_array_equal(exits[:n_exits], np.flatnonzero(now_out))
    # deliveries move from on order to owned
    np.testing.assert_allclose(
        c["owned"][active_before], pop["owned"][active_before] + pop["delivered"][active_before]
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 60), st.floats(0.0, 1e6)),
        min_size=0,
        max_size=40,
    )
)
def test_class_histogram_quantiles_equal_sorting_ones(rows):
    from market_sim.outcomes.measures import QS, class_week_quantiles

    klass = np.array([r[0] for r in rows], dtype=np.int64)
    weeks = np.array([r[1] for r in rows], dtype=np.int64)
    weights = np.array([r[2] for r in rows])
    got = class_week_quantiles(klass, weeks, weights, 4)
    for c in range(4):
        sel = klass == c
        want = [weighted_quantile(weeks[sel].astype(float), weights[sel], q) for q in QS]
        np.testing.assert_array_equal(got[c], want)


@settings(max_examples=200, deadline=None)
@given(
    population(),
    arrays(np.float64, st.integers(0, 6), elements=st.floats(0.0, 1e6)),
    arrays(np.float64, 40, elements=st.floats(0.0, 1e4)),
    st.integers(0, 6),
)
def test_population_summary_kernel_equals_numpy(pop, firms, got, top_k):
    """The one-pass metrics kernel gives the numpy definitions' counts and sums, the
    values whose Gini is gini_compute, and what HHI and top-k shares need."""
    from market_sim.agents.startup_kernels import population_summary

    status, starved, owned = pop["status"], pop["starved"], pop["owned"]
    got = got[: len(status)]
    active = status == K.ACTIVE
    res = population_summary(status, starved, got, owned, pop["rented"], firms, top_k)
    n_active, n_starved, n_exited, compute, owned_sum, rented, squares, top, access = res
    assert (n_active, n_starved, n_exited) == (
        int(active.sum()),
        int((active & (starved > 0)).sum()),
        int((status == K.EXITED).sum()),
    )
    close = {"rel": 1e-12, "abs": 1e-9}
    assert compute == pytest.approx(got[active].sum(), **close)
    assert owned_sum == pytest.approx(owned.sum(), **close)
    assert rented == pytest.approx(pop["rented"][active].sum(), **close)
    np.testing.assert_array_equal(access, np.concatenate([firms, got[active]]))
    np.testing.assert_array_equal(top, np.sort(owned)[::-1][:top_k])
    # what collect_metrics makes of them: HHI and top-4 share of firms plus startups
    everyone = np.concatenate([firms, owned])
    total = float(everyone.sum())
    if total > 1e-6:  # H100e amounts; squares of tiny ones underflow
        assert hhi_of_parts(firms, squares, total) == pytest.approx(hhi(everyone, total), rel=1e-9)
        if top_k == 4:
            assert top_share(np.concatenate([firms, top]), 4, total) == pytest.approx(
                top_share(everyone, 4, total), rel=1e-12
            )


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(0, 30), elements=st.floats(0.0, 1e6)), st.integers(0, 8))
def test_largest_sum_kernel_equals_sorting(amounts, k):
    from market_sim.outcomes.kernels import largest_sum

    want = np.sort(amounts)[::-1][:k].sum()  # numpy adds 8+ values pairwise
    assert largest_sum(amounts, k) == pytest.approx(want, rel=1e-13, abs=0.0)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 30), st.data())
def test_compact_bids_keeps_positive_bids_in_order_with_owners(n, data):
    price = data.draw(arrays(np.float64, 2 * n, elements=st.floats(0.0, 100.0)))
    qty = data.draw(arrays(np.float64, 2 * n, elements=st.sampled_from([0.0, 0.5, 3.0])))
    got_price, got_qty, owner = K.compact_bids(price, qty, n)
    keep = np.flatnonzero(qty > 0)
    np.testing.assert_array_equal(got_price, price[keep])
    np.testing.assert_array_equal(got_qty, qty[keep])
    np.testing.assert_array_equal(owner, keep % max(n, 1))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(0.0, 1e6)))
def test_gini_equals_mean_absolute_difference_definition(amounts):
    """gini (numpy sort + numba sum) against the textbook definition, O(n^2)."""
    n, total = len(amounts), amounts.sum()
    spread = np.abs(amounts[:, None] - amounts[None, :]).sum()
    want = 0.0 if total <= 0 else spread / (2 * n * total)
    assert gini(amounts) == pytest.approx(want, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    bids=st.lists(st.floats(1.0, 1e5), max_size=5),
    asks=st.lists(st.floats(1.0, 1e5), max_size=5),
    fallback=st.floats(1.0, 1e5),
)
def test_a_week_without_trade_quotes_between_the_best_bid_and_the_best_ask(bids, asks, fallback):
    from market_sim.model.markets import quoted_price

    price = quoted_price(np.array(bids), np.array(asks), fallback)
    if bids and asks:
        lo, hi = sorted((max(bids), min(asks)))
        assert lo <= price <= hi
        assert price == pytest.approx((max(bids) + min(asks)) / 2)
    elif bids:
        assert price == max(bids)  # only buyers: at least what the best of them bids
    elif asks:
        assert price == min(asks)  # only sellers: at most what the cheapest asks
    else:
        assert price == fallback


def test_the_gray_price_is_never_a_stale_trade_in_a_week_without_one(monkeypatch):
    """In every week nothing trades on the gray market, the recorded price lies between
    that week's best bid and best ask (the quote), not the last trade carried forward."""
    import dataclasses

    import market_sim.model.trading as trading

    seen = {}

    def spy(self, week, price, bid_fills, ask_fills, bids, asks):
        seen[week] = (bids[0].copy(), asks[0].copy())
        return trading.Trading._settle_gray(self, week, price, bid_fills, ask_fills, bids, asks)

    patched = tuple(
        dataclasses.replace(a, settle=spy) if a.name == "gray" else a
        for a in trading.DOUBLE_AUCTIONS
    )
    monkeypatch.setattr(trading, "DOUBLE_AUCTIONS", patched)
    frame = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=130"]).run()
    quiet = [w for w in frame.index if frame.loc[w, "gray_volume_h100e"] == 0]
    assert len(quiet) > 10, "set-up: weeks without gray trades"
    prices = frame["spot_price_usd@H100"]
    moved = 0
    for w in quiet:
        bids, asks = seen[w]
        if len(bids) and len(asks):
            lo, hi = sorted((bids.max(), asks.min()))
            assert lo - 1e-6 <= prices[w] <= hi + 1e-6
        elif len(bids):
            assert prices[w] == pytest.approx(bids.max())
        moved += w > 0 and prices[w] != prices[w - 1]
    assert moved > 0  # quiet weeks follow their quotes


def test_neoclouds_rent_out_only_the_fleet_not_under_contract():
    """A neocloud offers ``1 - contracted_share`` of its installed fleet on the rental
    market; the contracted rest never reaches it, so with every neocloud fleet under
    contract the rental market's supply is the other holders' offers only."""
    from market_sim.agents.neocloud import NeocloudAgent

    def neocloud_offers(shares: dict[str, float]) -> tuple[dict[str, tuple], float]:
        sets = [f"agents.{firm}.contracted_share={s}" for firm, s in shares.items()]
        model = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=40", *sets])
        for _ in range(30):
            model.step()
        offers = {
            h.firm_id: (h.rental_ask(model.week)[1], h.installed_h100e)
            for h in model.holders
            if isinstance(h, NeocloudAgent)
        }
        others = sum(
            h.rental_ask(model.week)[1] for h in model.holders if not isinstance(h, NeocloudAgent)
        )
        return offers, others

    offers, _ = neocloud_offers({"coreweave": 0.4, "lambda": 0.0})
    qty, installed = offers["coreweave"]
    assert installed > 0 and qty == pytest.approx(0.6 * installed)
    qty, installed = offers["lambda"]
    assert installed > 0 and qty == pytest.approx(installed)
    offers, others = neocloud_offers({"coreweave": 1.0, "lambda": 1.0})
    assert all(qty == 0.0 for qty, _ in offers.values()) and others > 0
