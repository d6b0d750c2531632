"""Scenario events compiled into per-week effects.

- ``capacity_outage``: a supply node loses ``magnitude`` (a share) of its capacity for
  ``duration_weeks`` (to the end if unset); overlapping outages multiply.
- ``demand_surge``: the target's demand (desired fleet growth, or startups' compute need)
  is multiplied by ``magnitude`` while the event lasts; overlapping surges multiply. The
  target is a buyer, a buyer class (``hyperscalers``, ..., ``startups``), a group the
  scenario lists under ``outcomes.groups``, or ``all``.
- ``export_control``: from its week on, buyers in region ``target`` can no longer order
  or receive ``products``; their open orders for them are cancelled that week.
- ``product_launch``: the product's first week of volume output moves to the event's week.
- ``in_house_launch``: a (dormant) in-house program starts at the event's week; its first
  output follows its development lag (the owner's ``in_house.dev_lag_weeks``, else 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from market_sim.model.world import World
from market_sim.scenario.schema import ALL_BUYERS, CLASS_IDS, STARTUP_CLASS


@dataclass
class EventSchedule:
    node_factor: np.ndarray  # [weeks, nodes] capacity multiplier
    holder_demand: np.ndarray  # [weeks, holders] demand multiplier
    startup_demand: np.ndarray  # [weeks] demand multiplier of the startup population
    export_controls: dict[int, list[tuple[str, list[int]]]] = field(default_factory=dict)
    launch_week: dict[int, int] = field(default_factory=dict)  # product -> week
    program_start: dict[int, int] = field(default_factory=dict)  # vendor -> week
    marks: list[tuple[int, str]] = field(default_factory=list)  # (week, label) for charts


def compile_events(world: World) -> EventSchedule:
    """Turn the scenario's events into per-week arrays and dated actions."""
    s = world.scenario
    weeks = world.weeks
    sched = EventSchedule(
        node_factor=np.ones((weeks, len(world.node_ids))),
        holder_demand=np.ones((weeks, len(world.holder_ids))),
        startup_demand=np.ones(weeks),
    )
    for e in s.events:
        start = s.week_of(e.at)
        stop = weeks if e.duration_weeks is None else min(weeks, start + e.duration_weeks)
        sched.marks.append((start, e.description or f"{e.kind}: {e.target}"))
        if e.kind == "capacity_outage":
            j = world.node_ids.index(e.target)
            sched.node_factor[start:stop, j] *= 1.0 - e.magnitude
        elif e.kind == "demand_surge":
            holders, startups = _targets(world, e.target)
            sched.holder_demand[start:stop, holders] *= e.magnitude
            if startups:
                sched.startup_demand[start:stop] *= e.magnitude
        elif e.kind == "export_control":
            products = [world.product_index(p) for p in e.products]
            sched.export_controls.setdefault(start, []).append((e.target, products))
        elif e.kind == "product_launch":
            sched.launch_week[world.product_index(e.target)] = start
        elif e.kind == "in_house_launch":
            sched.program_start[world.vendor_ids.index(e.target)] = start
    return sched


def _targets(world: World, target: str) -> tuple[np.ndarray, bool]:
    """Holder indices and whether the startups are hit, for a demand event's target."""
    if target in world.holder_ids:
        return np.array([world.holder_ids.index(target)]), False
    if target == ALL_BUYERS:
        return np.arange(len(world.holder_ids)), True
    if target == CLASS_IDS[STARTUP_CLASS]:
        return np.array([], dtype=np.int64), True
    if target not in world.groups:  # the scenario checks rule this out
        raise ValueError(f"demand_surge target {target!r} is no buyer, class or group")
    return world.groups[target], False
