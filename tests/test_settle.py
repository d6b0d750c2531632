"""The primary settlement kernel (market_sim.model.settle) against its numpy twin, and
the startups' per-row sums (market_sim.agents.startup_rows) against ``np.bincount``: bit
for bit, including what they change in place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.agents import startup_rows as R
from market_sim.model.settle import settle_primary_reference, settle_primary_sums

N_H, N_P, N_V, N_C = 4, 3, 2, 5


@st.composite
def books(draw):
    n = draw(st.integers(0, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_rows = 12  # startup rows; about half active
    pos = np.full(n_rows, -1, dtype=np.int64)
    active = np.flatnonzero(rng.random(n_rows) < 0.6)
    pos[active] = np.arange(len(active))
    holder = rng.integers(-1, N_H, n)
    startup = np.where(holder < 0, rng.choice(active, n) if len(active) else 0, -1).astype(np.int64)
    holder[(holder < 0) & (startup < 0)] = 0
    fills = np.where(rng.random(n) < 0.6, rng.exponential(10.0, n), 0.0)
    return {
        "fills": fills,
        "price": rng.uniform(1e3, 4e4, N_P),
        "product": rng.integers(0, N_P, n),
        "holder": holder,
        "klass": rng.integers(0, N_C, n),
        "startup": startup,
        "order_week": rng.integers(0, 100, n),
        "qty": fills + np.where(rng.random(n) < 0.5, rng.exponential(5.0, n), -1e-12),
        "h100e_per_unit": rng.uniform(0.5, 3.0, N_P),
        "product_vendor": rng.integers(0, N_V, N_P),
        "live_pos": pos,
        "fleet": rng.uniform(0.0, 100.0, (N_H, N_P)),
        "startup_units": rng.uniform(0.0, 100.0, N_P),
        "n_vendors": N_V,
        "n_classes": N_C,
        "n_live": len(active),
        "week": 100,
    }


def _flat(result):
    return [a for group in result for a in group]


@settings(max_examples=60, deadline=None)
@given(books())
def test_settle_kernel_equals_numpy(case):
    mine = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.items()}
    ref = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.items()}
    got, want = settle_primary_sums(**mine), settle_primary_reference(**ref)
    for g, w in zip(_flat(got), _flat(want), strict=True):
        np.testing.assert_array_equal(g, w)
    for k in ("qty", "fleet", "startup_units"):
        np.testing.assert_array_equal(mine[k], ref[k])


def test_settle_kernel_refuses_an_exited_startup():
    pos = np.array([-1, 0], dtype=np.int64)
    args = dict(
        fills=np.array([1.0]), price=np.ones(1), product=np.zeros(1, np.int64),
        holder=np.array([-1]), klass=np.zeros(1, np.int64), startup=np.zeros(1, np.int64),
        order_week=np.zeros(1, np.int64), qty=np.ones(1), h100e_per_unit=np.ones(1),
        product_vendor=np.zeros(1, np.int64), live_pos=pos, fleet=np.zeros((1, 1)),
        startup_units=np.zeros(1), n_vendors=1, n_classes=1, n_live=1, week=0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="active startup"):
        settle_primary_sums(**args)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 50))
def test_row_sums_equal_bincount(seed, n):
    rng = np.random.default_rng(seed)
    pos = np.full(20, -1, dtype=np.int64)
    active = np.flatnonzero(rng.random(20) < 0.7)
    pos[active] = np.arange(len(active))
    rows = rng.choice(active, n) if len(active) else np.zeros(0, np.int64)
    w = rng.exponential(3.0, len(rows))
    want = np.bincount(pos[rows], weights=w, minlength=len(active))
    np.testing.assert_array_equal(R.sum_per_live(pos, rows, w, len(active)), want)
    col = rng.uniform(0.0, 9.0, 20)
    clear = rng.choice(20, 3).astype(np.int64)
    expect = col.copy()
    expect[clear] = 0.0
    held, at = np.unique(rows, return_inverse=True)
    expect[held] = np.bincount(at.ravel(), weights=w, minlength=len(held))
    R.set_sums_at_rows(col, pos, clear, np.zeros(0, np.int64), rows, w)
    np.testing.assert_array_equal(col, expect)
    if len(active) < 20:
        bad = np.array([np.flatnonzero(pos < 0)[0]], dtype=np.int64)
        with pytest.raises(ValueError, match="active startup"):
            R.sum_per_live(pos, bad, np.ones(1), len(active))
