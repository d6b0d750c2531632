"""The new-order queue kernel (market_sim.market.kernels_queue) against its numpy
reference, ``policies.queue_ahead_of_new``: bit for bit, for every registered policy and
for key orders no built-in policy has."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from market_sim.market.kernels_queue import queue_ahead_of_new_fast
from market_sim.market.policies import (
    get_policy,
    policy_names,
    queue_ahead_of_new,
    register_policy,
    unregister_policy,
)

N_P, N_TIERS = 4, 10


@st.composite
def books(draw):
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    list_price = rng.choice([1e4, 2.5e4, 3e4], N_P)
    return (
        int(rng.integers(0, 30)),  # week
        rng.integers(0, N_P, n),
        rng.exponential(50.0, n),
        rng.integers(0, N_TIERS + 3, n),  # tiers above the top count as the top
        rng.integers(0, 31, n),
        list_price[rng.integers(0, N_P, n)] * rng.choice([0.9, 1.0, 1.0, 1.2], n),
        list_price,
    )


def _same(policy, book) -> None:
    want = queue_ahead_of_new(policy, *book, N_TIERS)
    got = queue_ahead_of_new_fast(policy, *book, N_TIERS)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(books(), st.sampled_from(policy_names()))
def test_kernel_equals_reference_for_registered_policies(book, name):
    _same(get_policy(name), book)


@pytest.mark.parametrize(
    "keys",
    [
        (("priority", False), ("order_week", False)),  # lower tiers first
        (("order_week", False), ("priority", True)),  # a key before priority: fixed orders
        (("priority", True), ("limit_price", False)),  # a key after it that puts some behind
        (("limit_price", True), ("priority", True), ("order_week", True)),
    ],
)
def test_kernel_equals_reference_for_other_key_orders(keys):
    policy = register_policy("queue_test", keys, "test-only")
    try:
        for seed in range(25):
            rng = np.random.default_rng(seed)
            n = int(rng.integers(0, 60))
            list_price = rng.choice([1e4, 2.5e4, 3e4], N_P)
            case = (
                int(rng.integers(0, 30)),
                rng.integers(0, N_P, n),
                rng.exponential(50.0, n),
                rng.integers(0, N_TIERS + 3, n),
                rng.integers(0, 31, n),
                list_price[rng.integers(0, N_P, n)] * rng.choice([0.9, 1.0, 1.0, 1.2], n),
                list_price,
            )
            _same(policy, case)
    finally:
        unregister_policy("queue_test")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 12), st.integers(0, 6), st.data())
def test_suffix_sums_equal_numpy_cumsum(n, m, data):
    from market_sim.market.kernels_queue import suffix_sums

    a = data.draw(arrays(np.float64, (n, m), elements=st.floats(0.0, 1e6)))
    want = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]
    got = suffix_sums(a)
    np.testing.assert_array_equal(got, want)
    assert got.flags.c_contiguous
