"""A product's end of life: its orders close a cycle before its last week of output, so
its vendor builds the last cycle for the orders still open and is not left holding what
no one can buy (docs/ODD.md section 9)."""

from __future__ import annotations

import pytest

from market_sim.model import GPUMarketModel
from model_helpers import BASELINE, FAST

UNSOLD_SHARE = 1 / 3
"""At most this share of an ended product's last-quarter sales may remain unsold."""


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
        # what may remain: the order-up-to rule's safety stock (two weeks of forecast) and
        # what its lagging forecast (smoothing ~0.03 a week) builds while orders fall; the
        # H20, whose orders fall through its last quarter, leaves ~26% of that quarter's
        # sales. Before the last cycle was planned for the open backlog only, the H100 left
        # about one quarter's sales (537k units).
        assert unsold <= UNSOLD_SHARE * sold + 1e-6, (pid, unsold, sold)
