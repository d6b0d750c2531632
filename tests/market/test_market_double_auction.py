"""Property tests of ``double_auction``: kernels and numpy vs the reference, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_strategies import RTOL, assert_close, auction_books, same_price, scale_of

from market_sim.market import double_auction, numpy_impl, reference

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(book=auction_books())
def test_kernel_and_numpy_match_reference(book):
    _, bq, _, aq = book
    scale = scale_of(bq, aq)
    want_price, want_bids, want_asks = reference.double_auction(*book)
    for impl in (double_auction, numpy_impl.double_auction):
        price, bids, asks = impl(*book)
        assert same_price(price, want_price), impl.__module__
        assert_close(bids, want_bids, scale, f"{impl.__module__} bids")
        assert_close(asks, want_asks, scale, f"{impl.__module__} asks")


@FAST
@given(book=auction_books())
def test_invariants(book):
    bp, bq, ap, aq = book
    price, bids, asks = double_auction(*book)
    scale = scale_of(bq, aq)
    tol = RTOL * max(scale, 1e-300)
    assert np.all((bids >= 0.0) & (bids <= bq)) and np.all((asks >= 0.0) & (asks <= aq))
    # total bought == total sold (to rounding)
    assert abs(bids.sum() - asks.sum()) <= tol
    if math.isnan(price):
        assert not bids.any() and not asks.any()
        # no trade only when no bid reaches any ask
        if (bq > 0).any() and (aq > 0).any():
            assert bp[bq > 0].max() < ap[aq > 0].min()
        return
    # individual rationality: a filled bid pays at most its bid, a filled ask receives
    # at least its ask
    assert np.all(bp[bids > 0.0] >= price)
    assert np.all(ap[asks > 0.0] <= price)
    # no bid left wanting above an ask left unsold (quantities beyond rounding)
    wanting = bp[(bq - bids) > tol]
    unsold = ap[(aq - asks) > tol]
    if wanting.size and unsold.size:
        assert wanting.max() <= unsold.min()
    # the volume is the most that can trade: max over p of min(demand(p), supply(p))
    cands = np.concatenate([bp, ap])
    best = max((min(bq[bp >= p].sum(), aq[ap <= p].sum()) for p in cands), default=0.0)
    assert abs(bids.sum() - best) <= tol * 10


@settings(max_examples=60, deadline=None)
@given(book=auction_books(), seed=st.integers(0, 2**32 - 1))
def test_deterministic_and_permutation_equivariant(book, seed):
    bp, bq, ap, aq = book
    p1, b1, a1 = double_auction(*book)
    p2, b2, a2 = double_auction(*book)
    assert same_price(p1, p2)
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(a1, a2)
    rng = np.random.default_rng(seed)
    pb = rng.permutation(bp.size)
    pa = rng.permutation(ap.size)
    p3, b3, a3 = double_auction(bp[pb], bq[pb], ap[pa], aq[pa])
    assert same_price(p3, p1)
    scale = scale_of(bq, aq)
    assert_close(b3, b1[pb], scale, "bids")
    assert_close(a3, a1[pa], scale, "asks")


def test_empty_sides():
    e = np.zeros(0)
    for args in [(e, e, e, e), ([5.0], [1.0], e, e), (e, e, [5.0], [1.0])]:
        price, bids, asks = double_auction(*args)
        assert math.isnan(price) and not bids.any() and not asks.any()
    # zero-quantity orders are ignored and never set the price
    price, bids, asks = double_auction([9.0, 100.0], [1.0, 0.0], [1.0, 0.5], [1.0, 0.0])
    assert price == 5.0
    np.testing.assert_array_equal(bids, [1.0, 0.0])


@pytest.mark.parametrize(
    "impl", [double_auction, reference.double_auction, numpy_impl.double_auction]
)
def test_invalid_inputs_raise(impl):
    ok = dict(bid_price=[5.0], bid_qty=[1.0], ask_price=[4.0], ask_qty=[1.0])
    for change in [
        {"bid_qty": [np.nan]},
        {"ask_qty": [-1.0]},
        {"bid_price": [np.inf]},
        {"ask_price": [np.nan]},
        {"bid_qty": [1.0, 2.0]},
    ]:
        with pytest.raises(ValueError):
            impl(**(ok | change))


def test_large_books_match_reference():
    rng = np.random.default_rng(11)
    n = 20_000
    cases = {
        "overlapping normals": (rng.normal(2.0, 0.3, n), rng.normal(1.9, 0.3, n)),
        "integer ticks": (rng.integers(0, 30, n) * 1.0, rng.integers(10, 40, n) * 1.0),
        "heavy tails": (np.exp(rng.normal(0, 10, n)), np.exp(rng.normal(0, 10, n))),
        "one price each": (np.full(n, 3.0), np.full(n, 2.0)),
        "barely crossing": (rng.random(n), rng.random(n) + 0.999),
        "no crossing": (rng.random(n), rng.random(n) + 1.0),
    }
    for name, (bp, ap) in cases.items():
        bq = rng.lognormal(0.0, 1.0, n)
        aq = rng.choice([0.0, 1.0, 2.5], n)
        want = reference.double_auction(bp, bq, ap, aq)
        got = double_auction(bp, bq, ap, aq)
        assert same_price(got[0], want[0]), name
        scale = scale_of(bq, aq)
        assert_close(got[1], want[1], scale, name)
        assert_close(got[2], want[2], scale, name)


@FAST
@given(book=auction_books())
def test_fills_into_reused_outputs_are_the_same(book):
    """Caller-provided outputs (reused from call to call, holding anything) get exactly
    the fills of a call that allocates its own, and are the arrays returned."""
    bp, _, ap, _ = book
    want_price, want_bids, want_asks = double_auction(*book)
    bid_out = np.full(len(bp), 123.0)
    ask_out = np.full(len(ap), -7.0)
    for _ in range(2):
        price, bids, asks = double_auction(*book, bid_out=bid_out, ask_out=ask_out)
        assert bids is bid_out and asks is ask_out
        assert same_price(price, want_price)
        np.testing.assert_array_equal(bids, want_bids)
        np.testing.assert_array_equal(asks, want_asks)


@pytest.mark.parametrize(
    "bad",
    [
        np.empty(3, dtype=np.float32),
        np.empty(4),
        np.empty((3, 1)),
        np.empty(6)[::2],
        [0.0, 0.0, 0.0],
    ],
    ids=["float32", "length", "2d", "strided", "list"],
)
def test_bad_outputs_are_refused(bad):
    p = np.array([3.0, 2.0, 1.0])
    q = np.ones(3)
    with pytest.raises(ValueError, match="bid_out must be a writable C-contiguous float64"):
        double_auction(p, q, p, q, bid_out=bad)
    frozen = np.empty(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="ask_out must be"):
        double_auction(p, q, p, q, ask_out=frozen)
