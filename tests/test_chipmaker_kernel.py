"""The chipmakers' kernels (market_sim.agents.chipmaker_kernel: every node's capacity
and investment decision, and its record) against their oracle, each chipmaker's own
methods (``Supply.open_nodes_reference``, ``Supply.invest_reference``,
``ChipmakerAgent.utilisation``): bit for bit over the golden runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden import CASES

from market_sim.model import GPUMarketModel

FIELDS = ("capacity", "used", "requested", "granted", "reserved_share", "expansion")


def _run(case, weeks: int, reference: bool) -> tuple[pd.DataFrame, GPUMarketModel]:
    model = GPUMarketModel(case.scenario, seed=case.seed, overrides=list(case.overrides))
    if reference:  # every week's capacity and investment by the chipmakers' methods
        model.supply.open_nodes = model.supply.open_nodes_reference
        model.supply.invest = model.supply.invest_reference
    for _ in range(weeks):
        model.step()
        record = model.recorder.chipmaker_record
        for j, chip in enumerate(model.chipmakers):  # the record's utilisation: the agent's
            assert record[j, 3] == chip.utilisation
    return model.timeseries(), model


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("weeks", [156])
def test_chipmaker_kernels_equal_the_agents_methods(case, weeks) -> None:
    kernel, k_model = _run(case, weeks, reference=False)
    oracle, o_model = _run(case, weeks, reference=True)
    pd.testing.assert_frame_equal(kernel, oracle, check_exact=True)
    k, o = k_model.node_state, o_model.node_state
    for name in (*FIELDS, "high_weeks", "next_decision", "arrivals"):
        np.testing.assert_array_equal(getattr(k, name), getattr(o, name), err_msg=name)
    np.testing.assert_array_equal(
        k_model.accounts.capacity_ordered, o_model.accounts.capacity_ordered
    )
    assert k_model.accounts.capacity_ordered.sum() > 0 or case.name == "baseline"
