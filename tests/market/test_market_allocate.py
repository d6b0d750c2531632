"""Property tests of ``allocate``: kernels and numpy vs the reference, and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_strategies import assert_close, order_books, scale_of

from market_sim.market import POLICIES, allocate, numpy_impl, reference

POLICY_NAMES = list(POLICIES)
FAST = settings(max_examples=100, deadline=None)


@FAST
@given(book=order_books(), policy=st.sampled_from(POLICY_NAMES))
def test_kernel_and_numpy_match_reference(book, policy):
    supply, qty = book[0], book[1]
    scale = scale_of(qty, extra=supply)
    want_fills, want_price = reference.allocate(*book, policy)
    for impl in (allocate, numpy_impl.allocate):
        fills, price = impl(*book, policy)
        assert_close(fills, want_fills, scale, f"{impl.__module__} fills")
        assert price == want_price


@FAST
@given(book=order_books(), policy=st.sampled_from(POLICY_NAMES))
def test_feasible_and_individually_rational(book, policy):
    supply, qty, limit, _, _, list_price = book
    fills, price = allocate(*book, policy)
    assert fills.shape == qty.shape
    assert np.all(fills >= 0.0)
    assert np.all(fills <= qty)
    # rounding slack: ALLOC_RTOL * supply, plus float summation error
    assert fills.sum() <= supply * (1.0 + 1e-11) + 1e-300
    assert np.all(fills[limit < list_price] == 0.0)  # below list: nothing, every policy
    if policy == "auction":
        assert price >= list_price
        assert np.all(limit[fills > 0.0] >= price)  # a filled order pays at most its limit
    else:
        assert price == list_price
    eligible_demand = qty[limit >= list_price].sum()
    if eligible_demand <= supply:  # enough for everyone eligible
        np.testing.assert_array_equal(fills[limit >= list_price], qty[limit >= list_price])
    else:  # scarce: the supply is used up (to rounding)
        assert fills.sum() >= supply * (1.0 - 1e-9)


@FAST
@given(
    book=order_books(),
    policy=st.sampled_from(POLICY_NAMES),
    extra=st.one_of(st.floats(0.0, 50.0), st.sampled_from([1e-9, 0.1, 1e12])),
)
def test_more_supply_never_hurts(book, policy, extra):
    supply, qty, limit, priority, week, list_price = book
    f1, p1 = allocate(*book, policy)
    f2, p2 = allocate(supply + extra, qty, limit, priority, week, list_price, policy)
    assert np.all(f2 >= f1 * (1.0 - 1e-12))  # no fill falls
    assert p2 <= p1  # the auction price never rises


@settings(max_examples=60, deadline=None)
@given(book=order_books(), policy=st.sampled_from(POLICY_NAMES), seed=st.integers(0, 2**32 - 1))
def test_deterministic_and_permutation_equivariant(book, policy, seed):
    supply, qty, limit, priority, week, list_price = book
    f1, p1 = allocate(*book, policy)
    f2, p2 = allocate(*book, policy)
    np.testing.assert_array_equal(f1, f2)
    assert p1 == p2
    # Reordering the order book reorders the fills (up to summation rounding).
    perm = np.random.default_rng(seed).permutation(qty.size)
    f3, p3 = allocate(
        supply, qty[perm], limit[perm], priority[perm], week[perm], list_price, policy
    )
    assert_close(f3, f1[perm], scale_of(qty, extra=supply), "permuted")
    assert p3 == p1


def test_empty_and_single_order():
    empty = np.zeros(0)
    for policy in POLICY_NAMES:
        fills, price = allocate(5.0, empty, empty, empty, empty, 7.0, policy)
        assert fills.shape == (0,) and price == 7.0
        fills, price = allocate(0.5, [2.0], [9.0], [0], [0], 7.0, policy)
        assert fills.tolist() == [0.5]
        assert price == (9.0 if policy == "auction" else 7.0)


def test_accepts_array_likes_and_returns_float64():
    fills, price = allocate(3, [1, 2, 3], (10, 9, 8), [0, 0, 0], [0, 1, 2], 5, "fifo")
    assert fills.dtype == np.float64 and isinstance(price, float)
    np.testing.assert_array_equal(fills, [1.0, 2.0, 0.0])


@pytest.mark.parametrize("impl", [allocate, reference.allocate, numpy_impl.allocate])
def test_invalid_inputs_raise(impl):
    ok = dict(
        supply=1.0, qty=[1.0, 2.0], limit_price=[3.0, 3.0], priority=[0, 0],
        order_week=[0, 0], list_price=1.0, policy="pro_rata",
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"pro_rata.*priority.*fifo.*auction"):
        impl(**(ok | {"policy": "lottery"}))
    bad = [
        {"qty": [1.0, np.nan]},
        {"qty": [1.0, -2.0]},
        {"qty": [1.0, np.inf]},
        {"supply": np.nan},
        {"supply": -1.0},
        {"limit_price": [np.nan, 3.0]},
        {"list_price": np.nan},
        {"qty": [1.0]},  # length mismatch
    ]
    for change in bad:
        with pytest.raises(ValueError):
            impl(**(ok | change))


def test_large_books_match_reference():
    """Bucket selection over several rounds, on price shapes that stress it."""
    rng = np.random.default_rng(7)
    n = 20_000
    shapes = {
        "normal": rng.normal(2000.0, 300.0, n),
        "integer ticks": rng.integers(0, 25, n).astype(float),
        "heavy tail": np.exp(rng.normal(0.0, 15.0, n)),
        "one price": np.full(n, 5.0),
        "clustered": np.where(rng.random(n) < 0.95, 5.0, rng.random(n) * 10.0),
        "sorted": np.sort(rng.random(n)),
    }
    qty = rng.lognormal(0.0, 1.0, n)
    zeros = np.zeros(n, dtype=np.int64)
    for name, limit in shapes.items():
        list_price = float(np.quantile(limit, 0.1))
        for frac in (0.0, 0.001, 0.5, 0.999, 2.0):
            supply = frac * qty.sum()
            want, want_price = reference.allocate(
                supply, qty, limit, zeros, zeros, list_price, "auction"
            )
            got, price = allocate(supply, qty, limit, zeros, zeros, list_price, "auction")
            assert_close(got, want, scale_of(qty, extra=supply), name)
            assert price == want_price, name
