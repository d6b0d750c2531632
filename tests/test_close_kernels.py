"""Phase 6's cancellation checks (market_sim.model.close_kernels) against their numpy
twins: the same answers, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from market_sim.model import close_kernels as C


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 300), st.integers(1, 6), st.integers(1, 40), st.data())
def test_undeliverable_excess_equals_numpy(n, n_p, cycle, data):
    product = data.draw(arrays(np.int64, n, elements=st.integers(0, n_p - 1)))
    qty = data.draw(arrays(np.float64, n, elements=st.floats(0.0, 1e6)))
    pipeline = data.draw(arrays(np.float64, cycle, elements=st.floats(0.0, 1e5)))
    inventory = data.draw(st.floats(0.0, 1e5))
    p = data.draw(st.integers(0, n_p - 1))
    idx, excess = C.undeliverable_excess(p, product, qty, pipeline, inventory)
    want_idx, want = C.undeliverable_excess_reference(p, product, qty, pipeline, inventory)
    np.testing.assert_array_equal(idx, want_idx)
    assert excess == want


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(1, 6), st.data())
def test_any_priced_out_equals_numpy(n, n_p, data):
    product = data.draw(arrays(np.int64, n, elements=st.integers(0, n_p - 1)))
    limit = data.draw(arrays(np.float64, n, elements=st.floats(0.0, 100.0)))
    price = data.draw(arrays(np.float64, n_p, elements=st.floats(0.0, 100.0)))
    want = C.any_priced_out_reference(limit, price, product)
    assert C.any_priced_out(limit, price, product) == want
