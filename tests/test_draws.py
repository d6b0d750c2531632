"""The startups' draws at chosen rows (market_sim.market.draws) against numpy's
own ``rng.random(n)`` and the plain-Python reference: the same numbers at those rows and
the generator left in the same state, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.market.draws import (
    MASK64,
    MULT,
    draws_at_rows,
    draws_at_rows_kernel,
    draws_at_rows_reference,
)


@st.composite
def draw_cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    before = draw(st.integers(0, 50))  # draws already taken from the stream
    n = draw(st.integers(0, 400))
    rows = np.array(sorted(draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))), np.int64)
    return seed, before, n, rows[rows < n]


def _rng(seed: int, before: int) -> np.random.Generator:
    rng = np.random.default_rng(seed)
    rng.random(before)
    return rng


@settings(max_examples=200, deadline=None)
@given(draw_cases())
def test_kernel_equals_numpy_and_reference(case):
    seed, before, n, rows = case
    want_rng = _rng(seed, before)
    want = want_rng.random(n)
    st_ = _rng(seed, before).bit_generator.state["state"]
    s, inc = st_["state"], st_["inc"]
    u = np.uint64
    out = np.full(n, -1.0)
    hi, lo = draws_at_rows_kernel(
        u(s >> 64), u(s & MASK64), u(inc >> 64), u(inc & MASK64),
        u(MULT >> 64), u(MULT & MASK64), rows, n, out,
    )  # fmt: skip
    np.testing.assert_array_equal(out[rows], want[rows])
    untouched = np.setdiff1d(np.arange(n), rows)
    assert (out[untouched] == -1.0).all()
    assert (int(hi) << 64) | int(lo) == want_rng.bit_generator.state["state"]["state"]
    ref = np.full(n, -1.0)
    assert draws_at_rows_reference(s, inc, rows, n, ref) == (int(hi) << 64) | int(lo)
    np.testing.assert_array_equal(ref, out)


@settings(max_examples=100, deadline=None)
@given(draw_cases())
def test_generator_continues_as_after_drawing_every_row(case):
    seed, before, n, rows = case
    want_rng, got_rng = _rng(seed, before), _rng(seed, before)
    want = want_rng.random(n)
    out = np.zeros(n)
    draws_at_rows(got_rng, rows, n, out)
    np.testing.assert_array_equal(out[rows], want[rows])
    assert got_rng.bit_generator.state == want_rng.bit_generator.state
    np.testing.assert_array_equal(got_rng.random(5), want_rng.random(5))


def test_sparse_rows_of_a_long_stream():
    """Jumps of up to ~a million steps (the 1M-startup population late in a run)."""
    n = 1_200_000
    rows = np.array([3, 70_000, 70_001, 999_999, n - 1], dtype=np.int64)
    want_rng, got_rng = _rng(5, 3), _rng(5, 3)
    want = want_rng.random(n)
    out = np.zeros(n)
    draws_at_rows(got_rng, rows, n, out)
    np.testing.assert_array_equal(out[rows], want[rows])
    assert got_rng.bit_generator.state == want_rng.bit_generator.state


def test_other_bit_generators_draw_every_row():
    want_rng = np.random.Generator(np.random.MT19937(3))
    got_rng = np.random.Generator(np.random.MT19937(3))
    out = np.zeros(50)
    draws_at_rows(got_rng, np.array([2, 9], dtype=np.int64), 50, out)
    np.testing.assert_array_equal(out, want_rng.random(50))
