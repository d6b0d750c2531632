"""The vendors' accounts kernels (market_sim.agents.vendor_accounts) against their
oracle, the vendors' own methods (``Trading.book_sales_reference``, i.e.
``VendorAgent.book_sales``, and ``open_books``) and the recorder's rows as Python made
them: bit for bit over the golden runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden import CASES

from market_sim.model import GPUMarketModel

FIELDS = ("sales_usd", "revenue_usd", "cogs_usd", "sales_total_usd", "units_sold")


def _vendor_rows(model: GPUMarketModel) -> np.ndarray:
    """The recorder's vendor rows, as its Python loop made them before the kernel."""
    inventory = model.production_state.inventory.tolist()
    return np.array(
        [
            (d.revenue_usd, d.cogs_usd, d.sales_usd, sum([inventory[p] for p in d.products]))
            for d in model.vendors
        ],
        dtype=np.float64,
    ).reshape(len(model.vendors), -1)


def _run(case, weeks: int, reference: bool) -> tuple[pd.DataFrame, GPUMarketModel]:
    model = GPUMarketModel(case.scenario, seed=case.seed, overrides=list(case.overrides))
    if reference:  # every week's sales booked by the vendors' own methods
        model.trading.book_sales = model.trading.book_sales_reference
    for _ in range(weeks):
        model.step()
        np.testing.assert_array_equal(model.recorder.vendor_record, _vendor_rows(model))
    return model.timeseries(), model


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_vendor_accounts_kernels_equal_the_vendors_methods(case) -> None:
    kernel, k_model = _run(case, 156, reference=False)
    oracle, o_model = _run(case, 156, reference=True)
    pd.testing.assert_frame_equal(kernel, oracle, check_exact=True)
    for name in FIELDS:
        np.testing.assert_array_equal(
            getattr(k_model.vendor_accounts, name), getattr(o_model.vendor_accounts, name)
        )
    np.testing.assert_array_equal(
        k_model.production_state.inventory, o_model.production_state.inventory
    )


def test_the_week_opens_each_vendors_books_as_open_books() -> None:
    model = GPUMarketModel(CASES[1].scenario, seed=CASES[1].seed)
    for _ in range(30):
        model.step()
    model.supply.open_week(model.week)
    got = model.vendor_accounts
    want = [(0.0, 0.0, v.spec.fixed_cogs_usd_per_week) for v in model.vendors]
    for v, (sales, revenue, cogs) in enumerate(want):
        assert (got.sales_usd[v], got.revenue_usd[v], got.cogs_usd[v]) == (sales, revenue, cogs)
    model.close()
