"""The supply graph of a week as plain data: what a run folder stores (``supply.json``)
and the reports draw, so that no report rebuilds the graph.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from market_sim.scenario.schema import Scenario
from market_sim.supply.capacity import max_output
from market_sim.supply.graph import build_graph

SUMMARY_FORMAT = "market_sim.supply/1"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def graph_summary(scenario: Scenario, week: int = 0) -> dict[str, Any]:
    """The supply graph at ``week``: nodes and edges with their attributes, and each
    product's maximum output (units a week if its vendor got all it can), binding input
    and minimum cut (the nodes whose capacity limits it)."""
    g = build_graph(scenario, week)
    products = []
    for p in scenario.products:
        th = max_output(scenario, g, p.id)
        products.append(
            {
                "product": p.id,
                "vendor": p.vendor,
                "max_units_per_week": _plain(float(th.units_per_week)),
                "binding_input": th.binding_input,
                "cut_nodes": list(th.cut_nodes),
            }
        )
    return {
        "format": SUMMARY_FORMAT,
        "week": int(week),
        "date": scenario.date_of(week).isoformat(),
        "nodes": [{"id": n, **{k: _plain(v) for k, v in d.items()}} for n, d in g.nodes(data=True)],
        "edges": [
            {"from": u, "to": v, **{k: _plain(x) for k, x in d.items()}}
            for u, v, d in g.edges(data=True)
        ],
        "products": products,
    }


def graph_from_summary(summary: dict[str, Any]) -> nx.DiGraph:
    """The networkx graph back from :func:`graph_summary`'s data."""
    g = nx.DiGraph(week=summary.get("week", 0))
    for node in summary["nodes"]:
        attrs = {k: v for k, v in node.items() if k != "id"}
        g.add_node(node["id"], **attrs)
    for edge in summary["edges"]:
        attrs = {k: v for k, v in edge.items() if k not in ("from", "to")}
        g.add_edge(edge["from"], edge["to"], **attrs)
    return g


def binding_nodes(summary: dict[str, Any]) -> dict[str, list[str]]:
    """Node id -> the products whose minimum cut holds it."""
    binding: dict[str, list[str]] = {}
    for p in summary["products"]:
        for node in p["cut_nodes"]:
            binding.setdefault(node, []).append(p["product"])
    return binding
