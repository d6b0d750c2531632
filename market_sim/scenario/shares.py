"""Who may use a supply node's capacity, week by week.

A node's capacity is split into a share reserved for customers the model does not
simulate (``reserved_share``, moved by ``schedule`` points), each vendor's contracted
share (``capacity_share``, moved by ``capacity_share_schedule`` points) and the rest,
which no one has contracted. All paths are linear between dated points and flat after
the last; a point before the start counts from week 0.
"""

from __future__ import annotations

import numpy as np

from market_sim.scenario.schema import Scenario, VendorSpec


def _path(scenario: Scenario, start_value: float, points: list[tuple]) -> np.ndarray:
    weeks = scenario.simulation.weeks
    start = scenario.simulation.start_date
    xs = [0.0] + [max(0.0, (d - start).days / 7.0) for d, _ in points]
    ys = [start_value] + [v for _, v in points]
    return np.interp(np.arange(weeks, dtype=float), xs, ys)


def share_paths(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """``(reserved[week, node], contracted[week, vendor, node])`` as shares of capacity."""
    nodes = [n.id for n in scenario.supply.nodes]
    vendors = [a for a in scenario.agents if isinstance(a, VendorSpec)]
    weeks = scenario.simulation.weeks
    reserved = np.zeros((weeks, len(nodes)))
    for j, n in enumerate(scenario.supply.nodes):
        pts = [(p.date, p.reserved_share) for p in n.schedule if p.reserved_share is not None]
        reserved[:, j] = _path(scenario, n.reserved_share, pts)
    contracted = np.zeros((weeks, len(vendors), len(nodes)))
    for v, spec in enumerate(vendors):
        for j, node in enumerate(nodes):
            pts = sorted((p.date, p.share) for p in spec.capacity_share_schedule if p.node == node)
            if node in spec.capacity_share or pts:
                contracted[:, v, j] = _path(scenario, spec.capacity_share.get(node, 0.0), pts)
    return reserved, contracted


def reachable_shares(reserved: np.ndarray, contracted: np.ndarray) -> np.ndarray:
    """[vendor, node]: share a vendor can get — its contract plus the uncontracted rest."""
    free = np.clip(1.0 - reserved - contracted.sum(axis=0), 0.0, 1.0)
    return contracted + free[None, :]


def committed_shares(
    reserved: np.ndarray, contracted: np.ndarray, commitment: np.ndarray
) -> np.ndarray:
    """[vendor, node]: contracted shares scaled by ``1 + commitment[vendor]`` (in-house
    programs that book more of their supply chain, the make-or-buy rule's acceleration),
    the extra fitting within each node's uncontracted rest (cut pro rata to it when the
    programs ask for more than is free); shares without commitment are unchanged."""
    extra = contracted * commitment[:, None]
    free = np.clip(1.0 - reserved - contracted.sum(axis=0), 0.0, 1.0)
    wanted = extra.sum(axis=0)
    scale = np.divide(free, wanted, out=np.ones_like(free), where=wanted > free)
    return contracted + extra * scale[None, :]
