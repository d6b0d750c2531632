"""Phase 3 of a week in one kernel call: every vendor plans, the chipmakers split their
capacity, every vendor starts (:func:`produce_kernel`).

The vendors' production state lives in [products] arrays (:class:`ProductionState`, the
model's; each :class:`market_sim.agents.vendor.VendorAgent` reads and writes its own
products' entries), and what is fixed per run (each product's stages, their nodes and
yield learning, each vendor's production rule) in :class:`ProductionLayout`. The kernel
does what ``VendorAgent.take_arrivals``, ``plan``, ``start`` and ``smooth_start_rate``
and :func:`market_sim.agents.chipmaker.split_capacities` do, vendor by vendor and product
by product, with the same arithmetic in the same order: the same numbers, bit for bit.
Those methods, called from ``Supply.produce_reference``, are its oracle
(tests/test_production_kernel.py runs a model each way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_sum import IN_ORDER_BELOW

KERNEL_MAX_VENDORS = IN_ORDER_BELOW
"""From this many vendors on, the model produces with the agents' methods: numpy sums
fewer than 8 values (a node's requests and grants over the vendors) in order, as the
kernel does, but 8 or more, depending on the array's shape, in eight partial sums."""


@dataclass
class ProductionState:
    """The vendors' production state, one entry per product (units, units a week)."""

    forecast: np.ndarray
    """Smoothed weekly order inflow, units a week."""
    pipeline_total: np.ndarray
    """Units in the product's pipeline."""
    inventory: np.ndarray
    """Finished units not yet sold."""
    throughput: np.ndarray
    """Smoothed weekly arrivals from the pipeline, units a week."""
    started: np.ndarray
    """Units started this week."""
    start_rate: np.ndarray
    """Smoothed starts (quoted beyond the pipeline), units a week."""

    @classmethod
    def empty(cls, n_products: int) -> ProductionState:
        return cls(*(np.zeros(n_products) for _ in range(6)))


@dataclass(frozen=True)
class ProductionLayout:
    """What :func:`produce_kernel` needs that is fixed per run.

    Vendor v's products are ``vendor_products[vendor_offsets[v]:vendor_offsets[v+1]]``
    (ascending); product p's stages ``stage_offsets[p]:stage_offsets[p+1]``, stage s's
    nodes ``stage_nodes[node_offsets[s]:node_offsets[s+1]]``; ``stage_scale_row[s]`` is
    the row of ``stage_scales`` ([rows, weeks + 1], input per unit relative to the
    starting yield) of a stage with yield learning, else -1.
    """

    vendor_offsets: np.ndarray
    vendor_products: np.ndarray
    cycle_weeks: np.ndarray
    end_week: np.ndarray
    ramp_weeks: np.ndarray
    pipeline_last: np.ndarray
    """Index in the model's pipelines of each product's last slot (started units)."""
    stage_offsets: np.ndarray
    stage_yields: np.ndarray
    stage_per_unit: np.ndarray
    stage_scale_row: np.ndarray
    node_offsets: np.ndarray
    stage_nodes: np.ndarray
    stage_scales: np.ndarray
    plan_weeks: np.ndarray
    """[vendors] production rule: weeks to close the position gap."""
    safety_weeks: np.ndarray
    forecast_smoothing: np.ndarray
    start_rate_smoothing: np.ndarray
    min_ramp_yield: np.ndarray


def production_layout(world: Any, vendors: Any) -> ProductionLayout:
    """The run's :class:`ProductionLayout` from the world's products and the vendors
    (their products and production rules)."""
    pr = world.products
    weeks = world.weeks
    offsets, products = [0], []
    for v in vendors:
        products += v.products
        offsets.append(len(products))
    st_off, yields, per_unit, scale_row, node_off, nodes, scales = [0], [], [], [], [0], [], []
    for p in range(len(pr)):
        for (name, unit, stage_nodes), scale in zip(pr.stages[p], pr.stage_scale[p], strict=True):
            yields.append(name != "hbm")
            per_unit.append(unit)
            if scale is None:
                scale_row.append(-1)
            else:
                scale_row.append(len(scales))
                scales.append(scale)
            nodes += stage_nodes
            node_off.append(len(nodes))
        st_off.append(len(yields))
    rules = [v.production for v in vendors]
    i64 = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    f64 = lambda xs: np.array(xs, dtype=np.float64)  # noqa: E731
    return ProductionLayout(
        vendor_offsets=i64(offsets),
        vendor_products=i64(products),
        cycle_weeks=i64(pr.cycle_weeks),
        end_week=i64(pr.end_week),
        ramp_weeks=i64(pr.ramp_weeks),
        pipeline_last=i64(world.pipeline_offsets[1:] - 1),
        stage_offsets=i64(st_off),
        stage_yields=np.array(yields, dtype=np.bool_),
        stage_per_unit=f64(per_unit),
        stage_scale_row=i64(scale_row),
        node_offsets=i64(node_off),
        stage_nodes=i64(nodes),
        stage_scales=f64(scales) if scales else np.ones((0, weeks + 1)),
        plan_weeks=f64([r.plan_weeks for r in rules]),
        safety_weeks=f64([r.safety_weeks for r in rules]),
        forecast_smoothing=f64([r.forecast_smoothing for r in rules]),
        start_rate_smoothing=f64([r.start_rate_smoothing for r in rules]),
        min_ramp_yield=f64([r.min_ramp_yield for r in rules]),
    )


@njit(cache=True)
def split_kernel(
    capacity: np.ndarray, requests: np.ndarray, shares: np.ndarray, reserved: np.ndarray
) -> np.ndarray:
    """:func:`market_sim.agents.chipmaker.split_capacities` (its numpy twin): grants
    [vendors, nodes], the sums over vendors in vendor order, as numpy's below
    ``KERNEL_MAX_VENDORS`` vendors."""
    n_v, n_n = requests.shape
    grants = np.empty((n_v, n_n))
    contract = np.empty(n_v)
    for j in range(n_n):
        c_sum = 0.0
        u_sum = 0.0
        for v in range(n_v):
            c = shares[v, j] * capacity[j]
            r = requests[v, j]
            c = r if r < c or r != r else c  # np.minimum: NaN wins
            contract[v] = c
            c_sum = c if v == 0 else c_sum + c
            u_sum = (r - c) if v == 0 else u_sum + (r - c)
        rest = capacity[j] * (1.0 - reserved[j]) - c_sum
        rest = rest if rest > 0.0 or rest != rest else 0.0  # np.maximum(0.0, x)
        more = u_sum > 0.0 and rest > 0.0
        rationed = more and u_sum > rest
        scale = rest / u_sum if rationed else 0.0
        for v in range(n_v):
            if more and not rationed:
                grants[v, j] = requests[v, j]
            elif rationed:
                grants[v, j] = contract[v] + (requests[v, j] - contract[v]) * scale
            else:
                grants[v, j] = contract[v]
    return grants


@njit(cache=True)
def _ramp_yield(ramp: int, cycle: int, week: int, launch: int, low: float) -> float:
    """``VendorAgent.ramp_yield``."""
    if ramp <= 0:
        return 1.0
    done = (week + cycle - launch) / ramp
    x = low + (1.0 - low) * (done if done > 0.0 else 0.0)
    return x if x < 1.0 else 1.0


@njit(cache=True)
def produce_kernel(
    week: int,
    active: np.ndarray,
    launch: np.ndarray,
    arrivals: np.ndarray,
    backlog: np.ndarray,
    reach: np.ndarray,
    capacity: np.ndarray,
    shares: np.ndarray,
    reserved: np.ndarray,
    vendor_offsets: np.ndarray,
    vendor_products: np.ndarray,
    cycle_weeks: np.ndarray,
    end_week: np.ndarray,
    ramp_weeks: np.ndarray,
    pipeline_last: np.ndarray,
    stage_offsets: np.ndarray,
    stage_yields: np.ndarray,
    stage_per_unit: np.ndarray,
    stage_scale_row: np.ndarray,
    node_offsets: np.ndarray,
    stage_nodes: np.ndarray,
    stage_scales: np.ndarray,
    plan_weeks: np.ndarray,
    safety_weeks: np.ndarray,
    forecast_smoothing: np.ndarray,
    start_rate_smoothing: np.ndarray,
    min_ramp_yield: np.ndarray,
    forecast: np.ndarray,
    pipeline_total: np.ndarray,
    inventory: np.ndarray,
    throughput: np.ndarray,
    started: np.ndarray,
    start_rate: np.ndarray,
    pipelines: np.ndarray,
    units_started: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One week's production: ``(requests, grants, used)``, node units [vendors, nodes].

    For each vendor in turn and each of its products: the week's ``arrivals`` (units that
    left the pipelines) join ``inventory`` and the smoothed ``throughput``; the
    order-up-to plan turns ``forecast`` (0 for a start that would arrive after the
    product's orders close, a cycle before its end), ``backlog`` (units), the pipeline and
    inventory into input requests per node, split over a stage's substitute nodes by ``reach``
    (the capacity each vendor can get, [vendors, nodes]). The chipmakers' ``capacity``
    is split by contract ``shares`` and pro rata (:func:`split_kernel`); each product
    starts the Leontief minimum of its share of the grants, into its pipeline's last
    slot of ``pipelines``, ``started`` and ``units_started`` ([vendors], cumulative),
    and ``start_rate`` is smoothed. ``active`` ([vendors]) and ``launch`` ([products],
    weeks) say which products can start. Writes the state arrays in place.
    """
    n_v, n_n = reach.shape
    n_p = forecast.shape[0]
    requests = np.zeros((n_v, n_n))
    req = np.zeros((n_p, n_n))  # each product's requests per node
    has = np.zeros((n_p, n_n), dtype=np.bool_)  # ... and the nodes it asks at
    asks = np.zeros(n_p, dtype=np.bool_)  # products with any request
    for v in range(n_v):
        a_s = forecast_smoothing[v]
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            p = vendor_products[k]
            a = arrivals[p]
            pipeline_total[p] -= a
            inventory[p] += a
            throughput[p] += a_s * (a - throughput[p])
    for v in range(n_v):
        low = min_ramp_yield[v]
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            p = vendor_products[k]
            out = week + cycle_weeks[p]
            if not (active[v] and launch[p] <= out and out <= end_week[p]):
                continue
            f = forecast[p]
            if week + 2 * cycle_weeks[p] > end_week[p]:
                # orders close a cycle before the end (Supply.orderable), so none placed
                # after this start arrives can buy it: start only for the open backlog
                f = 0.0
            position = pipeline_total[p] + inventory[p] - backlog[p]
            target = f * (cycle_weeks[p] + safety_weeks[v])
            starts = f + (target - position) / plan_weeks[v]
            if not starts > 0.0:  # max(0.0, starts) <= 0
                continue
            asks[p] = stage_offsets[p + 1] > stage_offsets[p]  # a request at some node
            y = _ramp_yield(ramp_weeks[p], cycle_weeks[p], week, launch[p], low)
            for s in range(stage_offsets[p], stage_offsets[p + 1]):
                need = starts * stage_per_unit[s] / (y if stage_yields[s] else 1.0)
                if stage_scale_row[s] >= 0:
                    need *= stage_scales[stage_scale_row[s], week]
                lo, hi = node_offsets[s], node_offsets[s + 1]
                if hi - lo == 1:
                    node = stage_nodes[lo]
                    part = reach[v, node]
                    share = part / part if part > 0 else 1.0
                    req[p, node] = (req[p, node] if has[p, node] else 0.0) + need * share
                    has[p, node] = True
                    continue
                whole = 0.0
                for t in range(lo, hi):
                    whole += reach[v, stage_nodes[t]]
                for t in range(lo, hi):
                    node = stage_nodes[t]
                    part = reach[v, node]
                    share = part / whole if whole > 0 else 1.0 / (hi - lo)
                    req[p, node] = (req[p, node] if has[p, node] else 0.0) + need * share
                    has[p, node] = True
            for node in range(n_n):
                if has[p, node]:
                    requests[v, node] += req[p, node]
    grants = split_kernel(capacity, requests, shares, reserved)
    used = np.zeros((n_v, n_n))
    asked = np.zeros(n_n)
    got = np.zeros(n_n)
    stage_eff = np.empty(stage_offsets[-1])  # a stage's input per unit started this week
    stage_granted = np.empty(stage_offsets[-1])  # what its nodes granted, summed
    for v in range(n_v):
        asked[:] = 0.0
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            p = vendor_products[k]
            if asks[p]:
                for node in range(n_n):
                    if has[p, node]:
                        asked[node] += req[p, node]
        low = min_ramp_yield[v]
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            p = vendor_products[k]
            started[p] = 0.0
            if not asks[p]:
                continue
            for node in range(n_n):
                if has[p, node]:
                    g = grants[v, node] * req[p, node]
                    got[node] = g / asked[node] if asked[node] > 0 else 0.0
            y = _ramp_yield(ramp_weeks[p], cycle_weeks[p], week, launch[p], low)
            units = np.inf
            first = True
            for s in range(stage_offsets[p], stage_offsets[p + 1]):
                eff = stage_per_unit[s] / (y if stage_yields[s] else 1.0)
                eff *= stage_scales[stage_scale_row[s], week] if stage_scale_row[s] >= 0 else 1.0
                stage_got = 0.0
                for t in range(node_offsets[s], node_offsets[s + 1]):
                    stage_got += got[stage_nodes[t]]
                stage_eff[s] = eff
                stage_granted[s] = stage_got
                u = stage_got / eff
                if first or u < units:
                    units = u
                    first = False
            if np.isfinite(units):
                units = units if units > 0.0 else 0.0
            else:
                units = 0.0
            for s in range(stage_offsets[p], stage_offsets[p + 1]):
                eff = stage_eff[s]
                stage_got = stage_granted[s]
                if stage_got > 0:
                    for t in range(node_offsets[s], node_offsets[s + 1]):
                        node = stage_nodes[t]
                        used[v, node] += units * eff * got[node] / stage_got
            pipelines[pipeline_last[p]] += units
            pipeline_total[p] += units
            started[p] = units
            units_started[v] += units
        a_r = start_rate_smoothing[v]
        for k in range(vendor_offsets[v], vendor_offsets[v + 1]):
            p = vendor_products[k]
            start_rate[p] += a_r * (started[p] - start_rate[p])
    return requests, grants, used
