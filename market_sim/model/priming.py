"""The production in flight when a run starts: the vendors' pipelines primed at week 0.

Functions of the model's :class:`market_sim.model.production.Supply` (called once, when
the model is built, through its ``prime_pipelines`` and ``initial_start_rates``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def prime_pipelines(supply: Any) -> float:
    """Fill vendors' pipelines with the production in flight at the start; returns
    the units primed.

    Slot k (arriving in k+1 weeks) gets a rate linear from ``near`` to ``far`` (see
    :func:`initial_start_rates`), if the product's output window has opened by then.
    """
    near, far = initial_start_rates(supply)
    pr = supply.world.products
    launch = supply.market.launch_week
    for vendor in supply.vendors:
        for p in vendor.products:
            pipe = vendor.pipeline[p]
            n = len(pipe)
            for k in range(n):
                if launch[p] <= k + 1 <= pr.end_week[p]:
                    pipe[k] = near[p] + (far[p] - near[p]) * (k + 1) / n
            vendor.pipeline_total[p] = float(pipe.sum())
            vendor.forecast[p] = near[p]
            vendor.throughput[p] = near[p]
            vendor.start_rate[p] = far[p]
    return sum(float(p.sum()) for v in supply.vendors for p in v.pipeline.values())


def initial_start_rates(supply: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start rates (units/week) of production in flight at the start, per product.

    Returns ``(near, far)``: the rate of the units arriving next week and of those
    arriving a whole cycle from now. ``near`` is the week-0 demand (buyers' target
    growth split by their product choice), scaled down to what the vendor's reachable
    capacity allows; ``far`` equals it, or with ``policy.initial_pipeline =
    "capacity_ramp"`` the capacity-feasible rate for the same product mix. The
    pipeline ramps linearly between.
    """
    pr = supply.world.products
    for chip in supply.chipmakers:
        chip.open_week(0, float(supply.events.node_factor[0, chip.index]))
    supply.market.orderable = supply.orderable(0)
    supply.market.choices_changed()
    demand = np.zeros(len(pr))
    shares = supply.choices().shares
    for h in supply.holders:
        if not hasattr(h, "desired"):
            continue
        need = max(0.0, h.desired[1] - h.desired[0])
        demand += need * shares[h.holder] / pr.h100e
    near, far = np.zeros(len(pr)), np.zeros(len(pr))
    reach = supply.reachable_capacity(0)
    policy = supply.world.scenario.policy
    ramp = policy.initial_pipeline == "capacity_ramp"
    demand = demand * policy.initial_pipeline_share
    for vendor in supply.vendors:
        usage = np.zeros(len(supply.chipmakers))
        for p in vendor.products:
            for _name, per_unit, nodes in pr.stages[p]:
                split = reach[vendor.index, nodes]
                w = split / split.sum() if split.sum() > 0 else np.full(len(nodes), 1 / len(nodes))
                usage[nodes] += demand[p] * per_unit * w
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(usage > 0, reach[vendor.index] / usage, np.inf)
        room = float(ratio.min()) if len(ratio) and np.isfinite(ratio.min()) else 1.0
        for p in vendor.products:
            near[p] = demand[p] * min(1.0, room)
            far[p] = demand[p] * room if ramp else near[p]
    return near, far
