"""A product's end of life: its orders close a cycle before its last week of output, so
its vendor builds the last cycle for the orders still open and is not left holding what
no one can buy (docs/ODD.md section 9)."""

from __future__ import annotations

import pytest

from market_sim.model import GPUMarketModel
from model_helpers import BASELINE, FAST


@pytest.fixture(scope="module")
def baseline_run():
    with GPUMarketModel(BASELINE, seed=1, overrides=FAST) as model:
        frame = model.run()
        return model.world.products, frame


def test_ended_products_leave_at_most_a_few_weeks_of_sales_unsold(baseline_run):
    products, frame = baseline_run
    weeks = len(frame)
    ended = [p for p in range(len(products)) if products.end_week[p] < weeks]
    assert {products.ids[p] for p in ended} >= {"A100", "H100"}  # the test has work
    for p in ended:
        pid = products.ids[p]
        close = int(products.end_week[p] - products.cycle_weeks[p])  # last orderable week
        sold = frame[f"deliveries_units@{pid}"].iloc[max(0, close - 12) : close + 1].sum()
        unsold = frame[f"inventory_units@{pid}"].iloc[-1]
        # safety stock is all that may remain: at most a fifth of its last quarter's sales
        assert unsold <= 0.2 * sold + 1e-6, (pid, unsold, sold)
