"""Tests of the batched ``clear_markets`` kernel against the single-market functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_strategies import assert_close, auction_books, order_books, quantities, same_price

from market_sim.market import (
    POLICIES,
    allocate,
    clear_markets,
    double_auction,
    numpy_impl,
    queue_ahead,
    quote_lead_times,
    reference,
)

NAMES = {code: name for name, code in POLICIES.items()}
MAX_WEEKS = 30


@st.composite
def batches(draw):
    """A list of primary markets and a list of double auctions (not yet in CSR form)."""
    markets = []
    for _ in range(draw(st.integers(0, 5))):
        book = draw(order_books(max_orders=12))
        code = draw(st.sampled_from(sorted(NAMES)))
        pipe = np.array(draw(st.lists(quantities(), max_size=6)), dtype=np.float64)
        cap = draw(st.one_of(st.sampled_from([0.0, 1.0, 2.5]), quantities()))
        markets.append((book, code, pipe, cap))
    auctions = [draw(auction_books(max_side=8)) for _ in range(draw(st.integers(0, 3)))]
    return markets, auctions


def to_csr(markets, auctions) -> dict:
    def offsets(sizes):
        return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

    def cat(arrays, dtype):
        return np.concatenate([np.asarray(a, dtype=dtype) for a in arrays] or [np.zeros(0, dtype)])

    books = [m[0] for m in markets]
    return dict(
        order_offsets=offsets([b[1].size for b in books]),
        supply=np.array([b[0] for b in books], dtype=np.float64),
        list_price=np.array([b[5] for b in books], dtype=np.float64),
        policy_code=np.array([m[1] for m in markets], dtype=np.int64),
        qty=cat([b[1] for b in books], np.float64),
        limit_price=cat([b[2] for b in books], np.float64),
        priority=cat([b[3] for b in books], np.int64),
        order_week=cat([b[4] for b in books], np.int64),
        pipeline_offsets=offsets([m[2].size for m in markets]),
        pipeline=cat([m[2] for m in markets], np.float64),
        capacity_per_week=np.array([m[3] for m in markets], dtype=np.float64),
        max_weeks=MAX_WEEKS,
        bid_offsets=offsets([a[0].size for a in auctions]),
        bid_price=cat([a[0] for a in auctions], np.float64),
        bid_qty=cat([a[1] for a in auctions], np.float64),
        ask_offsets=offsets([a[2].size for a in auctions]),
        ask_price=cat([a[2] for a in auctions], np.float64),
        ask_qty=cat([a[3] for a in auctions], np.float64),
    )


def per_market(result, batch):
    """Split a ClearingResult into per-market and per-auction tuples."""
    oo, bo, ao = batch["order_offsets"], batch["bid_offsets"], batch["ask_offsets"]
    markets = [
        (result.fills[oo[m] : oo[m + 1]], result.price[m], result.lead_weeks[oo[m] : oo[m + 1]])
        for m in range(oo.size - 1)
    ]
    auctions = [
        (result.da_price[k], result.bid_fills[bo[k] : bo[k + 1]],
         result.ask_fills[ao[k] : ao[k + 1]])
        for k in range(bo.size - 1)
    ]  # fmt: skip
    return markets, auctions


@settings(max_examples=80, deadline=None)
@given(data=batches())
def test_equals_single_market_functions_exactly(data):
    markets, auctions = data
    batch = to_csr(markets, auctions)
    res = clear_markets(**batch)
    got_markets, got_auctions = per_market(res, batch)
    for (book, code, pipe, cap), (fills, price, weeks) in zip(markets, got_markets, strict=True):
        _, qty, limit, priority, week, list_price = book
        want_fills, want_price = allocate(*book, NAMES[code])
        np.testing.assert_array_equal(fills, want_fills)
        assert price == want_price
        rem = qty - fills
        qa = queue_ahead(rem, limit, priority, week, list_price, NAMES[code])
        np.testing.assert_array_equal(weeks, quote_lead_times(qa, rem, pipe, cap, MAX_WEEKS))
        assert np.all(weeks[rem == 0.0] == 0)
        assert np.all(weeks[(limit < list_price) & (rem > 0.0)] == MAX_WEEKS)
    for book, (price, bids, asks) in zip(auctions, got_auctions, strict=True):
        want_price, want_bids, want_asks = double_auction(*book)
        assert same_price(price, want_price)
        np.testing.assert_array_equal(bids, want_bids)
        np.testing.assert_array_equal(asks, want_asks)


@settings(max_examples=60, deadline=None)
@given(data=batches(), seed=st.integers(0, 2**32 - 1))
def test_market_order_in_the_batch_does_not_matter(data, seed):
    markets, auctions = data
    rng = np.random.default_rng(seed)
    pm = rng.permutation(len(markets))
    pk = rng.permutation(len(auctions))
    batch = to_csr(markets, auctions)
    shuffled = to_csr([markets[i] for i in pm], [auctions[i] for i in pk])
    base_m, base_k = per_market(clear_markets(**batch), batch)
    shuf_m, shuf_k = per_market(clear_markets(**shuffled), shuffled)
    for new, old in enumerate(pm):
        for a, b in zip(shuf_m[new], base_m[old], strict=True):
            np.testing.assert_array_equal(a, b)
    for new, old in enumerate(pk):
        assert same_price(shuf_k[new][0], base_k[old][0])
        np.testing.assert_array_equal(shuf_k[new][1], base_k[old][1])
        np.testing.assert_array_equal(shuf_k[new][2], base_k[old][2])


@settings(max_examples=60, deadline=None)
@given(data=batches())
def test_matches_reference_and_numpy(data):
    batch = to_csr(*data)
    want = reference.clear_markets(**batch)
    for impl in (clear_markets, numpy_impl.clear_markets):
        got = impl(**batch)
        scale = float(np.abs(batch["qty"]).sum() + np.abs(batch["supply"]).sum())
        assert_close(got.fills, want.fills, scale, "fills")
        np.testing.assert_array_equal(got.price, want.price)
        np.testing.assert_array_equal(got.lead_weeks, want.lead_weeks)
        assert all(same_price(a, b) for a, b in zip(got.da_price, want.da_price, strict=True))
        da_scale = float(batch["bid_qty"].sum() + batch["ask_qty"].sum())
        assert_close(got.bid_fills, want.bid_fills, da_scale, "bid fills")
        assert_close(got.ask_fills, want.ask_fills, da_scale, "ask fills")


def test_empty_batch_and_empty_markets():
    e = np.zeros(0)
    res = clear_markets(
        order_offsets=[0, 0, 0], supply=[1.0, 0.0], list_price=[1.0, 2.0], policy_code=[0, 3],
        qty=e, limit_price=e, priority=e, order_week=e, pipeline_offsets=[0, 0, 0],
        pipeline=e, capacity_per_week=[1.0, 1.0], max_weeks=10,
        bid_offsets=[0, 0], bid_price=e, bid_qty=e, ask_offsets=[0, 0], ask_price=e, ask_qty=e,
    )  # fmt: skip
    np.testing.assert_array_equal(res.price, [1.0, 2.0])
    assert res.fills.size == 0 and res.lead_weeks.dtype == np.int64
    assert np.isnan(res.da_price).all() and res.da_price.size == 1


def test_invalid_batches_raise():
    good = dict(
        order_offsets=[0, 1], supply=[1.0], list_price=[1.0], policy_code=[0], qty=[1.0],
        limit_price=[1.0], priority=[0], order_week=[0], pipeline_offsets=[0, 0],
        pipeline=np.zeros(0), capacity_per_week=[1.0], max_weeks=10, bid_offsets=[0],
        bid_price=np.zeros(0), bid_qty=np.zeros(0), ask_offsets=[0], ask_price=np.zeros(0),
        ask_qty=np.zeros(0),
    )  # fmt: skip
    clear_markets(**good)
    for change in [
        {"order_offsets": [0, 2]},  # does not end at len(qty)
        {"order_offsets": [1, 1]},  # does not start at 0
        {"policy_code": [7]},
        {"qty": [np.nan]},
        {"supply": [-1.0]},
        {"supply": [1.0, 2.0]},
        {"pipeline_offsets": [0]},
        {"bid_offsets": [0, 0]},  # K differs between bids and asks
        {"max_weeks": -1},
    ]:
        with pytest.raises(ValueError):
            clear_markets(**(good | change))


def test_realistic_batch_runs():
    rng = np.random.default_rng(5)
    markets, auctions = [], []
    for m in range(30):
        n = 2_000
        qty = rng.lognormal(3.0, 1.0, n)
        limit = rng.normal(30_000.0, 3_000.0, n)
        book = (qty.sum() * 0.4, qty, limit, rng.integers(0, 3, n), rng.integers(0, 52, n),
                27_000.0)  # fmt: skip
        markets.append((book, m % 4, rng.random(26) * 1e3, 500.0))
    for _ in range(2):
        n = 10_000
        auctions.append((rng.normal(2.0, 0.3, n), rng.lognormal(0, 1, n),
                         rng.normal(1.9, 0.3, n), rng.lognormal(0, 1, n)))  # fmt: skip
    batch = to_csr(markets, auctions)
    res = clear_markets(**batch)
    assert np.all(np.isfinite(res.price)) and np.all(np.isfinite(res.da_price))
    assert res.lead_weeks.min() >= 0 and res.lead_weeks.max() <= MAX_WEEKS
