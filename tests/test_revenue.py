"""Revenue is recognised at delivery: every week, each vendor's sales equal the units it
delivered times the prices buyers paid, its revenue adds the attached share, and the
weekly outcomes report the same numbers (incl. the implied average selling price)."""

from __future__ import annotations

import numpy as np

from market_sim.model import GPUMarketModel
from model_helpers import BASELINE, FAST


def test_revenue_reconciles_with_units_times_prices_every_week():
    model = GPUMarketModel(BASELINE, overrides=[*FAST, "simulation.weeks=80"])
    pr = model.world.products
    checked = 0
    while model.running:
        model.step()
        units = model.accounts.deliveries_product
        paid = units * model.flows.market_price  # USD per product this week
        for v in model.vendors:
            sales = float(paid[pr.vendor == v.index].sum())
            assert np.isclose(v.sales_usd, sales, rtol=1e-9, atol=1e-3), (model.week, v.vendor_id)
            attach = v.spec.attach_revenue_share
            assert np.isclose(v.revenue_usd, sales * (1 + attach), rtol=1e-9, atol=1e-3)
            m = model.metrics
            assert np.isclose(m[f"revenue_usd_bn@{v.vendor_id}"] * 1e9, v.revenue_usd, rtol=1e-12)
            delivered = float(units[pr.vendor == v.index].sum())
            if delivered > 0:
                asp = m[f"implied_asp_usd@{v.vendor_id}"]
                assert np.isclose(asp, v.revenue_usd / delivered, rtol=1e-12)
                checked += 1
    assert checked > 50
    frame = model.timeseries()
    inc = frame["nvidia_dc_revenue_usd_bn"].to_numpy()
    assert np.allclose(inc, frame["revenue_usd_bn@nvidia"].to_numpy())
