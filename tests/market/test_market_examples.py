"""Worked examples solved by hand (textbook uniform-price auctions and rationing rules).

Every example is checked against the numba kernels, the plain-Python reference and the
numpy version.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from market_sim import market
from market_sim.market import numpy_impl, reference

IMPLS = [market, reference, numpy_impl]
IDS = ["numba", "reference", "numpy"]


def _alloc(impl, supply, qty, limit, list_price, policy, priority=None, week=None):
    n = len(qty)
    priority = np.zeros(n, np.int64) if priority is None else priority
    week = np.zeros(n, np.int64) if week is None else week
    return impl.allocate(supply, qty, limit, priority, week, list_price, policy)


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_rental_market_five_bids_four_asks(impl):
    # Bids (USD/GPU-week x units): 12x1, 11x2, 9x2, 7x1, 5x2.
    # Asks:                        6x2,  8x1, 10x3, 13x1.
    # Matching best bid to best ask while bid >= ask:
    #   12(1) vs 6(2): 1 unit   -> volume 1, ask 6 has 1 left
    #   11(2) vs 6(1): 1 unit   -> volume 2, bid 11 has 1 left
    #   11(1) vs 8(1): 1 unit   -> volume 3, both exhausted
    #    9(2) vs 10  : 9 < 10, stop.  Q* = 3.
    # Accepted bids 12, 11 (min 11); highest bid left wanting: 9.
    # Accepted asks 6, 8 (max 8);  lowest ask left unsold: 10.
    # lo = max(8, 9) = 9, hi = min(11, 10) = 10 -> price = (9 + 10) / 2 = 9.5.
    # Check: at 9.5 demand (bids >= 9.5) = 1 + 2 = 3 = supply (asks <= 9.5) = 2 + 1.
    bp = [12.0, 11.0, 9.0, 7.0, 5.0]
    bq = [1.0, 2.0, 2.0, 1.0, 2.0]
    ap = [6.0, 8.0, 10.0, 13.0]
    aq = [2.0, 1.0, 3.0, 1.0]
    price, bid_fills, ask_fills = impl.double_auction(bp, bq, ap, aq)
    assert price == 9.5
    np.testing.assert_array_equal(bid_fills, [1.0, 2.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ask_fills, [2.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_double_auction_tie_at_the_margin(impl):
    # Bids: 10x2, then two bids at 8 for 1 and 3 units.  Asks: 5x4.
    #   10(2) vs 5(4): 2 units; the 8-level (4 units) vs 5(2 left): 2 units.  Q* = 4.
    # The two bids at 8 share the 2 units pro rata: 2 * 1/4 = 0.5 and 2 * 3/4 = 1.5.
    # The marginal bid is partly filled, so it pins the price: lo = max(5, 8) = 8,
    # hi = min(8, no unsold ask) = 8 -> price 8.
    price, bid_fills, ask_fills = impl.double_auction(
        [10.0, 8.0, 8.0], [2.0, 1.0, 3.0], [5.0], [4.0]
    )
    assert price == 8.0
    np.testing.assert_allclose(bid_fills, [2.0, 0.5, 1.5], rtol=1e-15)
    np.testing.assert_array_equal(ask_fills, [4.0])


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_double_auction_ask_tie_and_exact_balance(impl):
    # Bids 9x3; asks 4x1 and two asks at 6 for 2 and 2 units.
    #   9(3) vs 4(1): 1 unit; 9(2 left) vs 6-level (4): 2 units.  Q* = 3.
    # Asks at 6 share 2 units pro rata: 1 each.  Unsold ask at 6 -> hi = min(9, 6) = 6;
    # lo = max(6 (accepted ask), no bid left wanting) = 6 -> price 6.
    price, bid_fills, ask_fills = impl.double_auction([9.0], [3.0], [4.0, 6.0, 6.0], [1, 2, 2])
    assert price == 6.0
    np.testing.assert_array_equal(bid_fills, [3.0])
    np.testing.assert_array_equal(ask_fills, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_double_auction_no_crossing_is_nan(impl):
    # Best bid 5 < best ask 6: nothing trades; price NaN (the caller carries the last
    # price forward), all fills zero.
    price, bid_fills, ask_fills = impl.double_auction([5.0, 4.0], [1.0, 2.0], [6.0, 7.0], [1, 1])
    assert math.isnan(price)
    assert not bid_fills.any() and not ask_fills.any()


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_double_auction_touching_prices_trade(impl):
    # Bid 7 == ask 7: the trade adds no surplus but is made (volume is maximised among
    # surplus-maximising trades); price 7.
    price, bid_fills, ask_fills = impl.double_auction([7.0], [2.0], [7.0], [1.0])
    assert price == 7.0
    np.testing.assert_array_equal(bid_fills, [1.0])
    np.testing.assert_array_equal(ask_fills, [1.0])


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_auction_reserve_binding(impl):
    # List price (reserve) 100.  Orders: 150x2, 120x3, 90x5 (below the reserve: nothing).
    # Supply 10 >= eligible demand 5: everyone eligible is filled and the price is the
    # reserve, 100.
    fills, price = _alloc(impl, 10.0, [2.0, 3.0, 5.0], [150.0, 120.0, 90.0], 100.0, "auction")
    np.testing.assert_array_equal(fills, [2.0, 3.0, 0.0])
    assert price == 100.0
    # Supply exactly 5: demand at the reserve does not exceed supply -> still 100.
    fills, price = _alloc(impl, 5.0, [2.0, 3.0, 5.0], [150.0, 120.0, 90.0], 100.0, "auction")
    np.testing.assert_array_equal(fills, [2.0, 3.0, 0.0])
    assert price == 100.0


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_auction_reserve_not_binding(impl):
    # Supply 4: 150 gets its 2 units, 2 units left for the 120 order's 3 -> 2.
    # The highest limit price not fully filled is 120: the clearing price.
    fills, price = _alloc(impl, 4.0, [2.0, 3.0, 5.0], [150.0, 120.0, 90.0], 100.0, "auction")
    np.testing.assert_array_equal(fills, [2.0, 2.0, 0.0])
    assert price == 120.0
    # Supply 2: the 150 order is filled exactly and the 120 order gets nothing; it is the
    # highest limit price not fully filled, so the price is still 120.
    fills, price = _alloc(impl, 2.0, [2.0, 3.0, 5.0], [150.0, 120.0, 90.0], 100.0, "auction")
    np.testing.assert_array_equal(fills, [2.0, 0.0, 0.0])
    assert price == 120.0


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_auction_tie_at_the_margin_pro_rata(impl):
    # Supply 6: 200x2 filled (4 left); two orders at 150 for 2 and 6 units share 4 units
    # pro rata: 4 * 2/8 = 1 and 4 * 6/8 = 3.  Price 150.
    fills, price = _alloc(impl, 6.0, [2.0, 2.0, 6.0], [200.0, 150.0, 150.0], 100.0, "auction")
    np.testing.assert_array_equal(fills, [2.0, 1.0, 3.0])
    assert price == 150.0


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_priority_tiers(impl):
    # Supply 8.  A: priority 2, week 3, 4 units; B: priority 2, week 1, 2 units;
    # C: priority 1, week 0, 5 units; D: priority 0, week 0, 3 units.
    # Tier 2 first, oldest first: B 2 (6 left), A 4 (2 left); tier 1: C gets 2; D 0.
    fills, price = _alloc(
        impl, 8.0, [4.0, 2.0, 5.0, 3.0], [10.0] * 4, 10.0, "priority",
        priority=np.array([2, 2, 1, 0]), week=np.array([3, 1, 0, 0]),
    )  # fmt: skip
    np.testing.assert_array_equal(fills, [4.0, 2.0, 2.0, 0.0])
    assert price == 10.0


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_fifo_ties_pro_rata(impl):
    # Supply 7.  Week 0: 3 units (4 left).  Week 1: X 2 units and Y 6 units tie; they
    # share 4 units pro rata: 4 * 2/8 = 1 and 4 * 6/8 = 3.  Week 2: nothing.
    # Priority is ignored by fifo.
    fills, _ = _alloc(
        impl, 7.0, [3.0, 2.0, 6.0, 4.0], [5.0] * 4, 5.0, "fifo",
        priority=np.array([0, 0, 0, 9]), week=np.array([0, 1, 1, 2]),
    )  # fmt: skip
    np.testing.assert_array_equal(fills, [3.0, 1.0, 3.0, 0.0])


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_pro_rata_with_ineligible_order(impl):
    # Supply 6; eligible demand 4 + 8 = 12 (the 5-unit order bids below list).
    # Share 6 / 12 = 0.5: fills 2 and 4.
    fills, price = _alloc(impl, 6.0, [4.0, 8.0, 5.0], [10.0, 11.0, 9.0], 10.0, "pro_rata")
    np.testing.assert_array_equal(fills, [2.0, 4.0, 0.0])
    assert price == 10.0


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_lead_time_quotes(impl):
    # Pipeline: 10 units arrive in week 1, 0 in week 2, 5 in week 3; then 4 per week.
    # Cumulative arrivals: wk1 10, wk2 10, wk3 15, wk4 19, ..., wk(3+j) 15 + 4j.
    #   queue 0,   qty 10: 10 reached in week 1.
    #   queue 10,  qty 5 : 15 reached in week 3.
    #   queue 15,  qty 1 : 16 -> week 4 (19).
    #   queue 100, qty 1 : 101 -> 15 + 4j >= 101 -> j = 22 (j = 21.5 rounded up) -> 25.
    #   queue +inf (never served) -> max_weeks; qty 0 -> 0.
    weeks = impl.quote_lead_times(
        [0.0, 10.0, 15.0, 100.0, np.inf, 3.0], [10.0, 5.0, 1.0, 1.0, 1.0, 0.0],
        [10.0, 0.0, 5.0], 4.0, 52,
    )  # fmt: skip
    np.testing.assert_array_equal(weeks, [1, 3, 4, 25, 52, 0])
    # No capacity after the pipeline: anything beyond 15 units is never reached.
    weeks = impl.quote_lead_times([0.0, 15.0], [15.0, 1.0], [10.0, 0.0, 5.0], 0.0, 52)
    np.testing.assert_array_equal(weeks, [3, 52])
    # Little's law in steady state: backlog 40 at throughput 4/week -> 10 weeks.
    assert impl.quote_lead_times([36.0], [4.0], [], 4.0, 52)[0] == 10


@pytest.mark.parametrize("impl", IMPLS, ids=IDS)
def test_clear_markets_small_fifo_market(impl):
    # One fifo market, supply 3: order 0 (week 0, 2 units) filled, order 1 (week 1,
    # 4 units) gets 1, leaving 3.  Its queue: 0 units ahead, so it waits for 3 units:
    # pipeline [2, 2] -> cumulative 2, 4 -> week 2.  Order 0 has nothing left: 0 weeks.
    # One double auction: bid 5x1 vs ask 4x1 -> 1 unit at 4.5.
    res = impl.clear_markets(
        order_offsets=[0, 2], supply=[3.0], list_price=[1.0], policy_code=[2],
        qty=[2.0, 4.0], limit_price=[1.0, 1.0], priority=[0, 0], order_week=[0, 1],
        pipeline_offsets=[0, 2], pipeline=[2.0, 2.0], capacity_per_week=[1.0], max_weeks=52,
        bid_offsets=[0, 1], bid_price=[5.0], bid_qty=[1.0],
        ask_offsets=[0, 1], ask_price=[4.0], ask_qty=[1.0],
    )  # fmt: skip
    np.testing.assert_array_equal(res.fills, [2.0, 1.0])
    np.testing.assert_array_equal(res.lead_weeks, [0, 2])
    np.testing.assert_array_equal(res.price, [1.0])
    np.testing.assert_array_equal(res.da_price, [4.5])
    np.testing.assert_array_equal(res.bid_fills, [1.0])
    np.testing.assert_array_equal(res.ask_fills, [1.0])
