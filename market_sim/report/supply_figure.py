"""The supply graph as a figure: facilities, vendors and buyers in columns, flows as
lines, and the binding nodes (each product's minimum cut at a given week) highlighted."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from market_sim.report.figure_spec import Figure, axis_keys, new_figure, trace, update
from market_sim.report.figures import styled
from market_sim.report.page import plot_text
from market_sim.supply.summary import binding_nodes, graph_from_summary

COLUMNS = {"foundry": 0, "memory": 0, "packaging": 1, "vendor": 2, "cloud": 3, "buyer": 3}
"""x position of each node kind (inputs, packaging, vendors, buyers)."""
KIND_COLOURS = {
    "foundry": "#2f6fb2",
    "memory": "#7d5ba6",
    "packaging": "#e07b39",
    "vendor": "#3a9a5b",
    "cloud": "#5f6b77",
    "buyer": "#8c6d31",
}


def layout_positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Column by kind, nodes spread evenly top to bottom within a column (kind, then id)."""
    columns: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for n, d in graph.nodes(data=True):
        kind = d.get("kind", "buyer")
        columns[COLUMNS.get(kind, 3)].append((kind, n))
    pos: dict[str, tuple[float, float]] = {}
    for x, members in columns.items():
        members.sort()
        k = len(members)
        for i, (_, n) in enumerate(members):
            pos[n] = (float(x), 1.0 - (i + 0.5) / k)
    return pos


def supply_graph_figure(summary: dict) -> Figure:
    """The supply graph a run stored (:func:`market_sim.supply.summary.graph_summary`),
    capacities on hover, binding nodes ringed in red."""
    g = graph_from_summary(summary)
    binding = binding_nodes(summary)
    pos = layout_positions(g)
    ex: list[float | None] = []
    ey: list[float | None] = []
    for u, v in g.edges():
        ex += [pos[u][0], pos[v][0], None]
        ey += [pos[u][1], pos[v][1], None]
    fig = new_figure(
        trace(
            "scatter",
            x=ex,
            y=ey,
            mode="lines",
            hoverinfo="skip",
            name="flows",
            line={"color": "#c7d0d9", "width": 0.8},
        )
    )
    if binding:
        nodes = sorted(binding)
        fig["data"].append(
            trace(
                "scatter",
                x=[pos[n][0] for n in nodes],
                y=[pos[n][1] for n in nodes],
                mode="markers",
                name="binding (minimum cut)",
                hoverinfo="skip",
                marker={
                    "size": 24,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 3, "color": "#c43d3d"},
                },
            )
        )
    by_kind: dict[str, list[str]] = defaultdict(list)
    for n, d in g.nodes(data=True):
        by_kind[d.get("kind", "buyer")].append(n)
    for kind, nodes in by_kind.items():
        hover = []
        for n in nodes:
            d = g.nodes[n]
            text = f"{n} ({kind})"
            if d.get("capacity_per_week") is not None:
                text += f"<br>{d['capacity_per_week']:,.0f} {d.get('unit', '')}/week"
            if d.get("products"):
                text += "<br>products: " + ", ".join(d["products"])
            if n in binding:
                text += "<br>binding for: " + ", ".join(binding[n])
            hover.append(plot_text(text).replace("&lt;br&gt;", "<br>"))
        fig["data"].append(
            trace(
                "scatter",
                x=[pos[n][0] for n in nodes],
                y=[pos[n][1] for n in nodes],
                mode="markers+text",
                name=plot_text(kind),
                text=[plot_text(n) for n in nodes],
                hovertext=hover,
                hoverinfo="text",
                textposition="middle right" if COLUMNS.get(kind, 3) < 3 else "middle left",
                textfont={"size": 10},
                marker={
                    "size": 13,
                    "color": KIND_COLOURS.get(kind, "#5f6b77"),
                    "line": {"width": 1, "color": "white"},
                },
            )
        )
    height = max(420, 22 * max(len(v) for v in _column_sizes(g).values()))
    styled(fig, f"Supply graph at {summary['date']} (binding nodes ringed)", height=height)
    layout = update(fig["layout"], {"hovermode": "closest", "showlegend": True})
    for key, span in (("xaxis", [-0.3, 3.3]), ("yaxis", [-0.03, 1.03])):
        for axis in axis_keys(layout, key):
            update(layout[axis], {"visible": False, "range": span})
    for x, label in ((0, "chips and memory"), (1, "packaging"), (2, "vendors"), (3, "buyers")):
        note = {
            "x": x,
            "y": 1.03,
            "text": label,
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"size": 11, "color": "#52606d"},
        }
        layout.setdefault("annotations", []).append(note)
    return fig


def _column_sizes(g: nx.DiGraph) -> dict[int, list[str]]:
    cols: dict[int, list[str]] = defaultdict(list)
    for n, d in g.nodes(data=True):
        cols[COLUMNS.get(d.get("kind", "buyer"), 3)].append(n)
    return cols
