"""How much a product's supply chain can make: Leontief throughput, bottleneck, cycle time.

A unit needs every input of its bill of materials (logic AND packaging AND HBM); an
input can come from any of its supplier nodes (SK hynix OR Micron). So the weekly maximum
output is the minimum over inputs of the sum over that input's suppliers of the capacity
available to the vendor, in product units::

    max_units = min_i  sum_{n in suppliers(i)}  available(n) / per_unit(i)

The same number is the maximum flow of a layered network (source -> suppliers of input 1
-> join -> suppliers of input 2 -> ... -> vendor), whose minimum cut names the binding
input's nodes; :func:`flow_network` builds it and :func:`bottleneck` cuts it with networkx.

Capacity available to a vendor at a node: its contracted share plus the share that neither
another vendor nor the node's reserved customers hold (the most it could win in a pro-rata
split of the remainder); see :mod:`market_sim.scenario.shares`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx

from market_sim.scenario.schema import Product, Scenario, VendorSpec

SOURCE, SINK = "_source", "_sink"


@dataclass(frozen=True)
class Stage:
    """One input of a bill of materials with the capacity each supplier offers it."""

    name: str  # logic, packaging, hbm
    per_unit: float  # input units (wafers or stacks) per finished unit
    suppliers: Mapping[str, float]  # node id -> input units per week available

    @property
    def units_per_week(self) -> float:
        """Finished units per week this input allows on its own."""
        return sum(self.suppliers.values()) / self.per_unit


@dataclass(frozen=True)
class Throughput:
    """A product's weekly maximum output and what limits it."""

    product: str
    units_per_week: float
    binding_input: str
    cut_nodes: tuple[str, ...]
    by_input: dict[str, float] = field(default_factory=dict)  # input -> units/week


def leontief(stages: Sequence[Stage]) -> tuple[float, str]:
    """Weekly maximum output (units) and the binding input's name (first on ties)."""
    if not stages:
        return 0.0, ""
    best = min(stages, key=lambda st: st.units_per_week)
    return best.units_per_week, best.name


def flow_network(stages: Sequence[Stage]) -> nx.DiGraph:
    """Layered flow network whose maximum flow equals :func:`leontief`'s output.

    Each supplier is split into ``(stage, node, "in") -> (stage, node, "out")`` with the
    supplier's capacity in product units; stages are chained through join nodes with
    unbounded edges, so a cut must take a whole stage's suppliers.
    """
    g = nx.DiGraph()
    prev = SOURCE
    for k, st in enumerate(stages):
        join = SINK if k == len(stages) - 1 else ("join", k)
        for node, cap in st.suppliers.items():
            a, b = (st.name, node, "in"), (st.name, node, "out")
            g.add_edge(prev, a)  # no capacity attribute: unbounded
            g.add_edge(a, b, capacity=cap / st.per_unit)
            g.add_edge(b, join)
        prev = join
    return g


def bottleneck(stages: Sequence[Stage]) -> tuple[float, tuple[str, ...]]:
    """Minimum cut of :func:`flow_network`: its value and the supplier nodes it cuts."""
    if not stages:
        return 0.0, ()
    g = flow_network(stages)
    value, (reachable, _) = nx.minimum_cut(g, SOURCE, SINK)
    cut = sorted(
        {u[1] for u, v in g.edges if u in reachable and v not in reachable and len(u) == 3}
    )
    return float(value), tuple(cut)


def available_capacity(
    scenario: Scenario, capacity: Mapping[str, float], week: int = 0
) -> dict[str, dict]:
    """Per vendor, per node: capacity it can get in a week (node units per week).

    Its contracted share plus the share that neither a vendor nor the node's reserved
    customers hold (see :mod:`market_sim.scenario.shares`).
    """
    from market_sim.scenario.shares import reachable_shares, share_paths

    nodes = [n.id for n in scenario.supply.nodes]
    vendors = [a.id for a in scenario.agents if isinstance(a, VendorSpec)]
    reserved, contracted = share_paths(scenario)
    w = min(max(week, 0), scenario.simulation.weeks - 1)
    reach = reachable_shares(reserved[w], contracted[w])
    return {
        v: {n: capacity.get(n, 0.0) * reach[i, j] for j, n in enumerate(nodes)}
        for i, v in enumerate(vendors)
    }


def product_stages(product: Product, available: Mapping[str, float]) -> list[Stage]:
    """Stages of a product's bill of materials with each supplier's available capacity."""
    return [
        Stage(name, per_unit, {n: available.get(n, 0.0) for n in nodes})
        for name, per_unit, nodes in product.bom.stages()
    ]


def max_output(scenario: Scenario, graph: nx.DiGraph, product_id: str) -> Throughput:
    """Weekly maximum output of one product if its vendor gave it all it can get."""
    product = scenario.product(product_id)
    capacity = {
        n: _node_capacity_with_edges(graph, n)
        for n, d in graph.nodes(data=True)
        if d["kind"] in ("foundry", "packaging", "memory")
    }
    week = int(graph.graph.get("week", 0))
    available = available_capacity(scenario, capacity, week)[product.vendor]
    stages = product_stages(product, available)
    units, binding = leontief(stages)
    _, cut = bottleneck(stages)
    return Throughput(
        product=product_id,
        units_per_week=units,
        binding_input=binding,
        cut_nodes=cut,
        by_input={st.name: st.units_per_week for st in stages},
    )


def _node_capacity_with_edges(graph: nx.DiGraph, node: str) -> float:
    """A node's capacity, limited by the total capacity of its outgoing edges if capped."""
    cap = graph.nodes[node]["capacity_per_week"]
    caps = [d.get("capacity_per_week") for _, _, d in graph.out_edges(node, data=True)]
    if caps and all(c is not None for c in caps):
        cap = min(cap, float(sum(caps)))
    return cap


def cycle_time_weeks(graph: nx.DiGraph, scenario: Scenario, product_id: str) -> float:
    """End-to-end cycle time along the slowest path, weeks.

    The sum of node cycle times and edge transit times on the longest path from any of
    the product's supplier nodes to its vendor, plus the vendor's assembly time.
    """
    product = scenario.product(product_id)
    vendor = product.vendor
    upstream = graph.subgraph(nx.ancestors(graph, vendor) | {vendor})
    longest: dict[str, float] = {vendor: graph.nodes[vendor].get("cycle_time_weeks", 0.0)}
    for node in reversed(list(nx.topological_sort(upstream))):
        if node == vendor:
            continue
        here = graph.nodes[node].get("cycle_time_weeks", 0.0)
        options = [
            here + d.get("transit_weeks", 0.0) + longest[succ]
            for _, succ, d in upstream.out_edges(node, data=True)
            if succ in longest
        ]
        if options:
            longest[node] = max(options)
    starts = [n for _, _, nodes in product.bom.stages() for n in nodes if n in longest]
    return max((longest[n] for n in starts), default=math.nan)


def final_stage_weeks(graph: nx.DiGraph, scenario: Scenario, product_id: str) -> float:
    """Weeks from the product's last production stage to delivery, along the slowest path.

    The last stage is packaging when the bill of materials has one (logic dies and HBM
    stacks are made ahead into die banks and stock), else the logic node. This is the
    lag between the binding capacity and finished units that the model's pipelines use.
    """
    product = scenario.product(product_id)
    bom = product.bom
    last = (
        bom.packaging.node
        if bom.packaging is not None
        else (bom.logic.node if bom.logic is not None else bom.hbm.nodes[0])
    )
    paths = nx.all_simple_paths(graph, last, product.vendor)
    best = 0.0
    for path in paths:
        weeks = sum(graph.nodes[n].get("cycle_time_weeks", 0.0) for n in path)
        weeks += sum(graph.edges[u, v].get("transit_weeks", 0.0) for u, v in pairwise(path))
        best = max(best, weeks)
    return best
