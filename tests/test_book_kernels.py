"""The order book's kernels (market_sim.model.book) against their numpy twins: the same
columns, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from market_sim.model.book import Batch, OrderBook, by_market_kernel


def _book(data, n: int, n_products: int) -> OrderBook:
    book = OrderBook(capacity=4)
    ints = lambda lo, hi: data.draw(arrays(np.int64, n, elements=st.integers(lo, hi)))  # noqa: E731
    batch = Batch(
        product=ints(0, n_products - 1),
        holder=ints(-1, 5),
        startup=ints(-1, 50),
        klass=ints(0, 4),
        qty=data.draw(arrays(np.float64, n, elements=st.floats(1e-6, 1e5))),
        limit_price=data.draw(arrays(np.float64, n, elements=st.floats(0.0, 1e6))),
        priority=ints(0, 3),
        order_week=ints(0, 200),
    )
    book.add(batch)
    book.lead_weeks[:] = ints(0, 52)[: len(book)]
    # fill some orders (qty 0), as the week's markets and cancellations do
    zero = data.draw(arrays(np.bool_, len(book)))
    book.qty[zero] = 0.0
    return book


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(1, 9), st.data())
def test_compact_kernel_equals_numpy(n, n_products, data):
    book = _book(data, n, n_products)
    twin = OrderBook(capacity=4)
    twin.n, twin._cols = book.n, {k: c.copy() for k, c in book._cols.items()}
    book.compact()
    twin.compact_reference()
    assert book.n == twin.n
    for k in ("product", "holder", "startup", "klass", "qty", "limit_price", "priority"):
        np.testing.assert_array_equal(getattr(book, k), getattr(twin, k), err_msg=k)
    np.testing.assert_array_equal(book.order_week, twin.order_week)
    np.testing.assert_array_equal(book.lead_weeks, twin.lead_weeks)
    assert (book.qty > 0).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(1, 9), st.data())
def test_by_market_kernel_equals_stable_argsort(n, n_products, data):
    book = _book(data, n, n_products)
    perm, offsets = book.by_market(n_products)
    want_perm, want_offsets = book.by_market_reference(n_products)
    np.testing.assert_array_equal(perm, want_perm)
    np.testing.assert_array_equal(offsets, want_offsets)
    assert perm.dtype == np.int64 and offsets.dtype == np.int64


def test_by_market_kernel_rejects_a_product_out_of_range():
    import pytest

    with pytest.raises(ValueError):
        by_market_kernel(np.array([0, 3], dtype=np.int64), 3)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(1, 9), st.data())
def test_startup_orders_kernel_equals_numpy(n, n_products, data):
    book = _book(data, n, n_products)
    weight = data.draw(arrays(np.float64, n_products, elements=st.floats(0.0, 10.0)))
    rows, values = book.startup_orders(weight)
    want_rows, want_values = book.startup_orders_reference(weight)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(values, want_values)
    assert rows.dtype == np.int64 and values.dtype == np.float64


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(1, 9), st.data())
def test_cancel_startups_kernel_equals_numpy(n, n_products, data):
    book = _book(data, n, n_products)
    twin = OrderBook(capacity=4)
    twin.n, twin._cols = book.n, {k: c.copy() for k, c in book._cols.items()}
    rows = np.unique(data.draw(arrays(np.int64, st.integers(0, 30), elements=st.integers(0, 50))))
    got = book.cancel_startups(rows, 51)
    want = twin.cancel_startups_reference(rows, 51)
    assert got == want or (np.isnan(got) and np.isnan(want))
    np.testing.assert_array_equal(book.qty, twin.qty)
