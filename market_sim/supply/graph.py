"""The supply graph: a networkx DiGraph of facilities and firms, built from a scenario.

Node attribute ``kind`` is one of ``foundry``, ``packaging``, ``memory`` (chipmakers'
facilities, from ``[[supply.nodes]]``), ``vendor`` (vendor agents), ``cloud``
(hyperscalers and neoclouds: they rent capacity out), ``buyer`` (enterprises and the
startup population, node id ``startups``).

Upstream edges come from ``[[supply.edges]]`` (``flow``, ``transit_weeks``, optional
``capacity_per_week``). Downstream edges are derived: a merchant vendor sells every one of
its products to every buyer; an in-house program supplies only its owner. A downstream
edge's ``products`` attribute lists what may flow on it (export controls remove entries).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from market_sim.scenario.schema import BUYER_ROLES, Scenario, SupplyNode, VendorSpec

STARTUPS_NODE = "startups"
"""Node id of the startup population in the supply graph."""

_BUYER_KIND = {"hyperscaler": "cloud", "neocloud": "cloud", "enterprise": "buyer"}


def node_capacity(node: SupplyNode, scenario: Scenario, week: float) -> float:
    """Scheduled capacity of a supply node in a week, node units per week.

    The initial capacity holds until the first schedule point; between points capacity
    is linear in time; after the last point it stays flat.
    """
    if not node.schedule:
        return node.initial_capacity_per_week
    start = scenario.simulation.start_date
    xs = [(p.date - start).days / 7.0 for p in node.schedule]
    ys = [p.weekly for p in node.schedule]
    if week <= xs[0]:
        # ramp from the initial capacity at week 0 to the first point
        if xs[0] <= 0:
            return ys[0]
        x0, y0 = 0.0, node.initial_capacity_per_week
        if week <= x0:
            return y0
        return float(np.interp(week, [x0, xs[0]], [y0, ys[0]]))
    return float(np.interp(week, xs, ys))


def capacity_path(node: SupplyNode, scenario: Scenario) -> np.ndarray:
    """Scheduled capacity for every week of the horizon, node units per week
    (:func:`node_capacity` of each week, in one pass)."""
    weeks = np.arange(scenario.simulation.weeks, dtype=np.float64)
    if not node.schedule:
        return np.full(len(weeks), float(node.initial_capacity_per_week))
    start = scenario.simulation.start_date
    xs = [(p.date - start).days / 7.0 for p in node.schedule]
    ys = [p.weekly for p in node.schedule]
    path = np.interp(weeks, xs, ys)
    early = weeks <= xs[0]
    if xs[0] <= 0:
        path[early] = ys[0]
    else:  # ramp from the initial capacity at week 0 to the first point
        path[early] = np.interp(weeks[early], [0.0, xs[0]], [node.initial_capacity_per_week, ys[0]])
    return path


def build_graph(scenario: Scenario, week: int = 0) -> nx.DiGraph:
    """The supply graph with each supply node's scheduled capacity at ``week``."""
    g = nx.DiGraph(name=scenario.simulation.name, week=week)
    for n in scenario.supply.nodes:
        g.add_node(
            n.id,
            kind=n.kind,
            owner=n.owner,
            unit=n.unit,
            capacity_per_week=node_capacity(n, scenario, week),
            cycle_time_weeks=n.cycle_time_weeks,
        )
    for a in scenario.agents:
        if isinstance(a, VendorSpec):
            g.add_node(
                a.id,
                kind="vendor",
                owner=a.owner or a.id,
                cycle_time_weeks=a.assembly_weeks,
                products=[p.id for p in scenario.products if p.vendor == a.id],
            )
        elif a.role in BUYER_ROLES:
            g.add_node(a.id, kind=_BUYER_KIND[a.role], owner=a.id, region=a.region)
    g.add_node(STARTUPS_NODE, kind="buyer", owner=STARTUPS_NODE, region="us")
    for e in scenario.supply.edges:
        g.add_edge(
            e.from_,
            e.to,
            flow=e.flow,
            transit_weeks=e.transit_weeks,
            capacity_per_week=e.capacity_per_week,
        )
    buyers = [a.id for a in scenario.agents if a.role in BUYER_ROLES] + [STARTUPS_NODE]
    for v in scenario.agents:
        if not isinstance(v, VendorSpec):
            continue
        products = g.nodes[v.id]["products"]
        for b in buyers if v.owner is None else [v.owner]:
            g.add_edge(v.id, b, flow="accelerators", transit_weeks=0.0, products=list(products))
    return g


def write_dot(graph: nx.DiGraph, path: str | Path) -> None:
    """Write the graph in Graphviz DOT format (pydot), one node per facility or firm."""
    h = nx.DiGraph()
    for n, attrs in graph.nodes(data=True):
        label = n
        if attrs.get("capacity_per_week") is not None:
            label += f"\\n{attrs['capacity_per_week']:,.0f} {attrs.get('unit', '')}/wk"
        h.add_node(
            n,
            kind=attrs.get("kind", ""),
            label=f'"{label}"',
            shape=_SHAPE.get(attrs.get("kind", ""), "ellipse"),
        )
    for u, v, attrs in graph.edges(data=True):
        label = attrs.get("flow", "")
        if attrs.get("transit_weeks"):
            label += f" ({attrs['transit_weeks']:g} wk)"
        h.add_edge(u, v, label=f'"{label}"')
    nx.nx_pydot.write_dot(h, str(path))


_SHAPE = {"foundry": "box", "packaging": "box", "memory": "box", "vendor": "hexagon"}
