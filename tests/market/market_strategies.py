"""Hypothesis strategies and comparison helpers shared by the tests/market files.

Imported by module name: pytest puts this (package-less) test folder on sys.path.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

# Quantities mix ties, zeros, decimal fractions whose sums round, and the huge (1e12) and
# tiny (1e-9) magnitudes the brief asks for.  Positive quantities stay >= 1e-9: below that
# (e.g. 1e-300) products and ratios underflow to subnormals and lose their precision.
SPECIAL_QTY = [0.0, 1e-9, 0.1, 0.2, 0.3, 1.0, 2.0, 3.0, 7.0, 1e12]
SPECIAL_PRICE = [0.0, 1e-9, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0, 1e12]

#: Agreement demanded between implementations: 1e-9 relative to the market's scale.
RTOL = 1e-9


def quantities() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from(SPECIAL_QTY),
        st.integers(0, 20).map(float),
        st.floats(1e-9, 1e3, allow_nan=False, allow_infinity=False),
    )


def prices() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from(SPECIAL_PRICE),
        st.integers(0, 12).map(float),
        st.floats(-10.0, 1e4, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    )


@st.composite
def order_books(draw, max_orders: int = 30):
    """(supply, qty, limit_price, priority, order_week, list_price)."""
    n = draw(st.integers(0, max_orders))
    qty = np.array(draw(st.lists(quantities(), min_size=n, max_size=n)), dtype=np.float64)
    limit = np.array(draw(st.lists(prices(), min_size=n, max_size=n)), dtype=np.float64)
    priority = np.array(draw(st.lists(st.integers(-2, 3), min_size=n, max_size=n)), np.int64)
    week = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), np.int64)
    total = float(qty.sum())
    supply = draw(
        st.one_of(
            st.sampled_from([0.0, total, 0.5 * total, 2.0 * total + 1.0, 1e-9, 1e12]),
            st.floats(1e-9, max(total, 1.0), allow_nan=False),
        )
    )
    list_price = draw(st.one_of(st.sampled_from([0.0, 2.0, 3.0]), prices()))
    return supply, qty, limit, priority, week, list_price


@st.composite
def auction_books(draw, max_side: int = 25):
    """(bid_price, bid_qty, ask_price, ask_qty)."""
    nb = draw(st.integers(0, max_side))
    na = draw(st.integers(0, max_side))

    def side(n):
        p = draw(st.lists(prices(), min_size=n, max_size=n))
        q = draw(st.lists(quantities(), min_size=n, max_size=n))
        return np.array(p, dtype=np.float64), np.array(q, dtype=np.float64)

    bp, bq = side(nb)
    ap, aq = side(na)
    return bp, bq, ap, aq


def scale_of(*arrays, extra: float = 0.0) -> float:
    """Magnitude of a market (units) that rounding errors are measured against."""
    s = abs(extra)
    for a in arrays:
        if len(a):
            s = max(s, float(np.sum(np.abs(a))))
    return s


def assert_close(actual, expected, scale: float, what: str = "") -> None:
    """Equal to RTOL relative to the market's scale (and to each value)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, what
    tol = RTOL * max(scale, 1e-300) + RTOL * np.abs(expected)
    with np.errstate(invalid="ignore"):  # inf - inf
        diff = np.abs(actual - expected)
    bad = (actual != expected) & ~(diff <= tol)
    assert not bad.any(), f"{what}: {actual[bad]} != {expected[bad]} (scale {scale})"


def same_price(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b
