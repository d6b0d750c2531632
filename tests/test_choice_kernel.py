"""The product-choice kernel (market_sim.model.choice_kernel) against the numpy
reference (market_sim.model.choice.choices_reference): the same Choices, bit for bit, on
the baseline's markets as they move and on perturbed ones; numpy's pairwise row sums."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.market.kernels_sum import pairwise_sum
from market_sim.model import GPUMarketModel
from market_sim.model.choice import choices_for, choices_reference


def _same(world, market) -> None:
    got, want = choices_for(world, market), choices_reference(world, market)
    for f in dataclasses.fields(got):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, f.name


def test_kernel_equals_reference_over_a_run():
    model = GPUMarketModel("scenarios/baseline.toml", overrides=["startups.count=200"], seed=3)
    for _ in range(60):
        _same(model.world, model.market)
        model.step()
    model.close()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_kernel_equals_reference_on_perturbed_markets(seed):
    model = GPUMarketModel("scenarios/baseline.toml", overrides=["startups.count=100"], seed=1)
    rng = np.random.default_rng(seed)
    m = model.market
    m.list_price *= rng.lognormal(0.0, 0.5, m.list_price.shape)
    m.quotes[:] = rng.integers(0, 80, m.quotes.shape)
    m.orderable = rng.random(m.orderable.shape) < 0.8
    m.allowed = rng.random(m.allowed.shape) < 0.9
    m.program_commitment[:] = rng.choice([0.0, 0.0, 0.5, 2.0], m.program_commitment.shape)
    _same(model.world, m)
    # the startups' product: the kernels and numpy (``ok`` empty, ties, huge exponents)
    if rng.random() < 0.2:
        m.orderable[:] = False
    if rng.random() < 0.3:
        h100e = model.world.products.h100e  # every product at one price per H100e
        m.list_price[:] = m.list_price[0] * h100e / h100e[0]
        m.quotes[:] = m.quotes[0]
    if rng.random() < 0.2:
        m.list_price *= 1e-300
    trading = model.trading
    assert trading._best_startup_product() == trading._best_startup_product_reference()
    model.close()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 128), st.integers(0, 2**32 - 1))
def test_pairwise_sum_is_numpys_row_sum(n, seed):
    rng = np.random.default_rng(seed)
    rows = rng.lognormal(size=(3, n)) * 10.0 ** rng.uniform(-8, 8, (3, n))
    want = rows.sum(axis=1)
    got = [pairwise_sum(r, 0, n) for r in rows]
    np.testing.assert_array_equal(got, want)


def test_merchant_mix_equals_each_holders_own_sum():
    """Choices.merchant_mix (every holder at once) gives what each hyperscaler computed
    from its own row before (``HyperscalerAgent.merchant_strain``): bit for bit."""
    model = GPUMarketModel("scenarios/baseline.toml", overrides=["startups.count=100"], seed=5)
    merchant = model.world.products.owner_holder < 0
    for _ in range(80):
        c = model.choices()
        mixes, totals = c.merchant_mix(merchant)
        assert c.merchant_mix(merchant)[0] is mixes  # once per mask
        for h in range(len(c.shares)):
            shares = c.shares[h] * merchant
            total = float(np.add.reduce(shares))
            assert totals[h] == total
            if total > 0:
                np.testing.assert_array_equal(mixes[h], shares / total)
        model.step()
    model.close()
