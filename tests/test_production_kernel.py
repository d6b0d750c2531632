"""The vendors' kernels (market_sim.model.production_kernel: phase 3;
market_sim.model.pricing_kernel: phase 6's forecasts and list prices) against their
oracle, the vendors' and chipmakers' own methods (``Supply.produce_reference`` and
``Supply.reprice_reference``) and numpy's capacity split: bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden import CASES
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from market_sim.agents.chipmaker import split_capacities
from market_sim.model import GPUMarketModel
from market_sim.model.production_kernel import KERNEL_MAX_VENDORS, split_kernel


@settings(max_examples=300, deadline=None)
@given(st.integers(1, KERNEL_MAX_VENDORS - 1), st.integers(1, 8), st.data())
def test_split_kernel_equals_split_capacities(n_v, n_n, data):
    f = lambda shape, lo, hi: data.draw(  # noqa: E731
        arrays(np.float64, shape, elements=st.floats(lo, hi) | st.just(0.0))
    )
    capacity = f(n_n, 0.0, 1e6)
    requests = f((n_v, n_n), 0.0, 1e6)
    shares = f((n_v, n_n), 0.0, 1.0 / n_v)
    reserved = f(n_n, 0.0, 0.5)
    want = split_capacities(capacity, requests, shares, reserved)
    got = split_kernel(capacity, requests, shares, reserved)
    np.testing.assert_array_equal(got, want)


def _run(case, weeks: int, reference: bool) -> tuple[pd.DataFrame, GPUMarketModel]:
    model = GPUMarketModel(case.scenario, seed=case.seed, overrides=list(case.overrides))
    if reference:  # every week's production and prices by the agents' own methods
        model.supply.produce = model.supply.produce_reference
        model.supply.reprice = model.supply.reprice_reference
    for _ in range(weeks):
        model.step()
    return model.timeseries(), model


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_vendor_kernels_equal_the_agents_methods(case) -> None:
    """Two runs, one producing with the kernel and one with the vendors' and chipmakers'
    methods: every outcome and every state array the same, bit for bit (the shock case
    covers launches, outages, dormant programs and every allocation policy)."""
    weeks = 120
    kernel, k_model = _run(case, weeks, reference=False)
    oracle, o_model = _run(case, weeks, reference=True)
    pd.testing.assert_frame_equal(kernel, oracle, check_exact=True)
    np.testing.assert_array_equal(k_model.market.list_price, o_model.market.list_price)
    for name in ("forecast", "pipeline_total", "inventory", "throughput", "started"):
        np.testing.assert_array_equal(
            getattr(k_model.production_state, name), getattr(o_model.production_state, name)
        )
    np.testing.assert_array_equal(k_model.pipelines, o_model.pipelines)
    for a, b in zip(k_model.vendors, o_model.vendors, strict=True):
        assert a.units_started_total == b.units_started_total
    for a, b in zip(k_model.chipmakers, o_model.chipmakers, strict=True):
        assert (a.requested, a.granted, a.used) == (b.requested, b.granted, b.used)
