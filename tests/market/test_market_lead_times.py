"""Tests of ``queue_ahead`` and ``quote_lead_times`` (weeks must agree exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_strategies import assert_close, order_books, quantities, scale_of

from market_sim.market import (
    POLICIES,
    allocate,
    numpy_impl,
    queue_ahead,
    quote_lead_times,
    quote_markets,
    reference,
)

FAST = settings(max_examples=100, deadline=None)


@st.composite
def quote_inputs(draw):
    n = draw(st.integers(0, 20))
    queue = draw(st.lists(st.one_of(quantities(), st.just(np.inf)), min_size=n, max_size=n))
    qty = draw(st.lists(quantities(), min_size=n, max_size=n))
    pipeline = draw(st.lists(st.one_of(quantities(), st.just(0.0)), max_size=8))
    capacity = draw(st.one_of(st.sampled_from([0.0, 0.1, 1.0, 3.0, 1e12, 1e-9]), quantities()))
    max_weeks = draw(st.integers(0, 60))
    return (
        np.array(queue, dtype=np.float64),
        np.array(qty, dtype=np.float64),
        np.array(pipeline, dtype=np.float64),
        capacity,
        max_weeks,
    )


@FAST
@given(args=quote_inputs())
def test_quote_matches_reference_exactly(args):
    want = reference.quote_lead_times(*args)
    np.testing.assert_array_equal(quote_lead_times(*args), want)
    np.testing.assert_array_equal(numpy_impl.quote_lead_times(*args), want)
    assert want.dtype == np.int64
    _, qty, _, _, max_weeks = args
    assert np.all((want >= 0) & (want <= max_weeks))
    assert np.all(want[qty == 0.0] == 0)


@FAST
@given(args=quote_inputs(), bump=st.one_of(quantities(), st.just(np.inf)))
def test_quote_monotone_in_queue_ahead(args, bump):
    queue, qty, pipeline, capacity, max_weeks = args
    w1 = quote_lead_times(queue, qty, pipeline, capacity, max_weeks)
    w2 = quote_lead_times(queue + bump, qty, pipeline, capacity, max_weeks)
    assert np.all(w2 >= w1)
    # and, for one order, along a sorted sweep of queue positions
    if qty.size:
        sweep = np.sort(np.concatenate([queue, [0.0, 1e12]]))
        w = quote_lead_times(sweep, np.full(sweep.size, qty[0]), pipeline, capacity, max_weeks)
        assert np.all(np.diff(w) >= 0) or qty[0] == 0.0


def test_quote_large_capacity_horizons():
    # Closed form beyond the pipeline agrees with the week-by-week reference, including
    # answers near and beyond max_weeks and awkward capacities.
    rng = np.random.default_rng(3)
    queue = np.concatenate([rng.random(500) * 1e3, [0.0, 1e12, 1e-9]])
    qty = np.concatenate([rng.random(500) * 10.0, [1.0, 1.0, 1e-9]])
    for pipeline in ([], [0.1, 0.2, 0.3], [1e3] * 5):
        for capacity in (0.1, 1.0 / 3.0, 7.0, 1e-9):
            for max_weeks in (0, 1, 5, 104, 520):
                args = (queue, qty, np.array(pipeline), capacity, max_weeks)
                want = reference.quote_lead_times(*args)
                np.testing.assert_array_equal(quote_lead_times(*args), want)
                np.testing.assert_array_equal(numpy_impl.quote_lead_times(*args), want)


@FAST
@given(book=order_books(), policy=st.sampled_from(list(POLICIES)))
def test_queue_ahead_matches_reference(book, policy):
    _, qty, limit, priority, week, list_price = book
    fills, _ = allocate(*book, policy)
    remaining = qty - fills
    args = (remaining, limit, priority, week, list_price, policy)
    want = reference.queue_ahead(*args)
    got = queue_ahead(*args)
    # same order of summation as the reference: bit-equal
    np.testing.assert_array_equal(got, want)
    # (through - own remaining) cancels: compare to the market's scale
    assert_close(numpy_impl.queue_ahead(*args), want, scale_of(remaining), "numpy")
    eligible = limit >= list_price
    assert np.all(np.isinf(got[~eligible]))
    assert np.all(got[eligible] >= 0.0)
    # a tie group finishes together: queue + own remaining is the same within a tie
    if policy == "pro_rata" and eligible.any():
        through = got[eligible] + remaining[eligible]
        np.testing.assert_allclose(through, through[0], rtol=1e-12)


def test_queue_ahead_fifo_example():
    # fifo, remaining 2 (week 0), 1 and 3 (week 1, a tie), 5 (week 2), and one order
    # below list.  Queue: 0 | 2 + 3 = 5 and 2 + 1 = 3 | 2 + 1 + 3 = 6 | inf.
    got = queue_ahead([2.0, 1.0, 3.0, 5.0, 4.0], [5, 5, 5, 5, 1], [0] * 5, [0, 1, 1, 2, 0], 2.0,
                      "fifo")  # fmt: skip
    np.testing.assert_array_equal(got, [0.0, 5.0, 3.0, 6.0, np.inf])


@pytest.mark.parametrize(
    "impl", [quote_lead_times, reference.quote_lead_times, numpy_impl.quote_lead_times]
)
def test_quote_invalid_inputs_raise(impl):
    ok = dict(queue_ahead=[0.0], qty=[1.0], pipeline=[1.0], capacity_per_week=1.0, max_weeks=5)
    for change in [
        {"queue_ahead": [np.nan]},
        {"queue_ahead": [-1.0]},
        {"qty": [-1.0]},
        {"pipeline": [np.nan]},
        {"capacity_per_week": -1.0},
        {"max_weeks": -1},
        {"qty": [1.0, 2.0]},
    ]:
        with pytest.raises(ValueError):
            impl(**(ok | change))


@FAST
@given(
    markets=st.lists(quote_inputs(), min_size=1, max_size=5),
    positions=st.integers(0, 4),
    qty=st.sampled_from([1.0, 0.0, 2.5]),
    max_weeks=st.integers(0, 60),
)
def test_quote_markets_equals_quote_lead_times_market_by_market(markets, positions, qty, max_weeks):
    """The batched quote of new orders is quote_lead_times on each market's slices."""
    queue = np.array([np.resize(m[0], positions) if m[0].size else np.zeros(positions)
                      for m in markets])  # fmt: skip
    pipes = [m[2] for m in markets]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pipes])]).astype(np.int64)
    capacity = np.array([m[3] for m in markets])
    got = quote_markets(queue, offsets, np.concatenate(pipes), capacity, max_weeks, qty)
    assert got.shape == (len(markets), positions) and got.dtype == np.int64
    for m, pipe in enumerate(pipes):
        want = quote_lead_times(queue[m], np.full(positions, qty), pipe, capacity[m], max_weeks)
        np.testing.assert_array_equal(got[m], want)


def test_quote_markets_rejects_bad_offsets():
    with pytest.raises(ValueError, match="pipeline_offsets"):
        quote_markets(np.zeros((2, 3)), [0, 1], [1.0], [1.0, 1.0], 10)
    with pytest.raises(ValueError, match="quote_markets"):
        quote_markets(np.zeros((1, 3)), [0, 2], [1.0], [1.0], 10)
