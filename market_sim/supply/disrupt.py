"""Disruptions the model's events apply to the supply graph (each returns a new graph)."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx


def scale_capacity(graph: nx.DiGraph, node: str, factor: float) -> nx.DiGraph:
    """A copy of the graph with one supply node's capacity multiplied by ``factor`` (>= 0).

    A capacity outage that loses 40% of a node is ``scale_capacity(g, node, 0.6)``.
    """
    if factor < 0:
        raise ValueError(f"capacity factor must be >= 0, got {factor}")
    if "capacity_per_week" not in graph.nodes[node]:
        raise ValueError(f"'{node}' is not a supply node with a capacity")
    g = graph.copy()
    g.nodes[node]["capacity_per_week"] = graph.nodes[node]["capacity_per_week"] * factor
    return g


def remove_edges(graph: nx.DiGraph, edges: Iterable[tuple[str, str]]) -> nx.DiGraph:
    """A copy of the graph without the given edges (missing edges are ignored)."""
    g = graph.copy()
    g.remove_edges_from([e for e in edges if g.has_edge(*e)])
    return g


def restrict_products(graph: nx.DiGraph, region: str, products: Iterable[str]) -> nx.DiGraph:
    """Export control: buyers in ``region`` can no longer receive ``products``.

    Removes the products from every vendor-to-buyer edge into that region; an edge left
    with no product is removed.
    """
    banned = set(products)
    g = graph.copy()
    for u, v, d in list(g.edges(data=True)):
        if "products" in d and g.nodes[v].get("region") == region:
            kept = [p for p in d["products"] if p not in banned]
            if kept:
                g.edges[u, v]["products"] = kept
            else:
                g.remove_edge(u, v)
    return g


def allowed_products(graph: nx.DiGraph, vendor: str, buyer: str) -> list[str]:
    """Products ``buyer`` may receive from ``vendor`` in this graph (empty if none)."""
    if not graph.has_edge(vendor, buyer):
        return []
    return list(graph.edges[vendor, buyer].get("products", []))
