"""The explorer's live charts: the run report's main series redrawn every week from the
weeks so far, the supply graph with its binding nodes, and a status card.

Each chart is a function of the :class:`market_sim.explore.model.ExplorerModel`, as Mesa
SolaraViz takes components; SolaraViz redraws them after every step. Charts are drawn
with matplotlib on the server and sent as images (as Mesa's own plot components do):
small messages, nothing for the browser to load. Which series each chart shows comes
from the report's chart declarations (:mod:`market_sim.report.sections`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import solara
from matplotlib.figure import Figure

from market_sim.explore.model import ExplorerModel
from market_sim.report.figures import CLASS_COLOURS_BY_LABEL, PALETTE
from market_sim.report.sections import SECTIONS, Chart, Names, Series
from market_sim.report.supply_figure import KIND_COLOURS, layout_positions
from market_sim.supply.summary import binding_nodes, graph_from_summary

FIG_SIZE_IN = (6.4, 3.4)
"""Size of a chart, inches (at 100 dpi: 640 x 340 pixels)."""
LIVE_CHARTS = (
    "prices-reference",
    "lead-quoted",
    "deliveries-class",
    "compute-share",
    "startups",
)
"""The report charts the explorer draws, by id (docs/explore.md)."""

_CHARTS: dict[str, Chart] = {c.id: c for s in SECTIONS for c in s.charts}


def chart_series(chart: Chart, names: Names) -> tuple[Series, Series]:
    """(left-axis, right-axis) series of a report chart; for class quantiles, the
    medians (and the reference quote)."""
    if chart.kind == "class_quantiles":
        left = [(f"{chart.metric}_median@{c}", f"{names.class_labels[c]} median")
                for c in names.classes]  # fmt: skip
        if chart.extra is not None:
            left.insert(0, chart.extra(names))
        return left, []
    return list(chart.series(names)), list(chart.right(names))


def draw_chart(chart: Chart, frame: pd.DataFrame, names: Names) -> Figure:
    """One report chart as a matplotlib figure of the weeks in ``frame``."""
    fig = Figure(figsize=FIG_SIZE_IN, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    left, right = chart_series(chart, names)
    x = pd.to_datetime(frame["date"])
    stacked = chart.kind == "stacked"
    bottom = None
    for k, (col, label) in enumerate(c for c in left if c[0] in frame.columns):
        colour = CLASS_COLOURS_BY_LABEL.get(label) or PALETTE[k % len(PALETTE)]
        y = frame[col].to_numpy(dtype=float)
        if stacked:
            base = bottom if bottom is not None else 0.0 * y
            ax.fill_between(x, base, base + y, color=colour, alpha=0.8, label=label, lw=0)
            bottom = base + y
        else:
            ax.plot(x, y, color=colour, lw=1.4, label=label)
    ax.set_ylabel(chart.y_title)
    ax.set_ylim(bottom=0)
    if right:
        ax2 = ax.twinx()
        for col, label in (c for c in right if c[0] in frame.columns):
            ax2.plot(x, frame[col], color="#52606d", lw=1.2, ls="--", label=label)
        ax2.set_ylabel(chart.right_title)
        if not chart.zoom_right:
            ax2.set_ylim(bottom=0)
    ax.set_title(chart.title(names), fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    ax.tick_params(labelsize=8)
    fig.autofmt_xdate()
    return fig


def _waiting(model: ExplorerModel) -> solara.Element | None:
    """A line instead of a chart when there is nothing to draw yet (else None)."""
    if model.problem:
        return solara.Warning(model.problem)
    if model.week == 0:
        return solara.Info("Week 0: press Step or ▶ to run the first week.")
    return None


def report_chart(chart_id: str) -> Callable[[ExplorerModel], solara.Element]:
    """A component drawing the report chart ``chart_id`` for the weeks so far."""
    chart = _CHARTS[chart_id]

    def component(model: ExplorerModel) -> solara.Element:
        waiting = _waiting(model)
        if waiting is not None:
            return waiting
        assert model.scenario is not None
        fig = draw_chart(chart, model.frame(), Names.of(model.scenario))
        return solara.FigureMatplotlib(fig, format="png", dependencies=[model.week, chart_id])

    component.__name__ = f"chart_{chart_id.replace('-', '_')}"
    return component


def draw_supply(summary: dict) -> Figure:
    """The supply graph (columns by kind), binding nodes ringed in red."""
    g = graph_from_summary(summary)
    pos = layout_positions(g)
    binding = binding_nodes(summary)
    fig = Figure(figsize=(FIG_SIZE_IN[0], 4.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for u, v in g.edges():
        ax.plot([pos[u][0], pos[v][0]], [pos[u][1], pos[v][1]], color="#c7d0d9", lw=0.6)
    for n, d in g.nodes(data=True):
        x, y = pos[n]
        kind = d.get("kind", "buyer")
        ax.scatter([x], [y], s=40, color=KIND_COLOURS.get(kind, "#5f6b77"), zorder=3)
        if n in binding:
            ax.scatter([x], [y], s=160, facecolors="none", edgecolors="#c43d3d", lw=2, zorder=4)
        ha = "left" if x < 3 else "right"
        ax.annotate(n, (x, y), xytext=(6 if ha == "left" else -6, 0), textcoords="offset points",
                    ha=ha, va="center", fontsize=6)  # fmt: skip
    ax.set_xlim(-0.3, 3.3)
    ax.axis("off")
    cut = ", ".join(sorted(binding)) or "none"
    ax.set_title(f"Supply graph at {summary['date']}; binding (ringed): {cut}", fontsize=9,
                 loc="left")  # fmt: skip
    return fig


def supply_graph(model: ExplorerModel) -> solara.Element:
    """The supply graph at the current week (live) or the start (replay)."""
    if model.problem:
        return solara.Warning(model.problem)
    summary = model.supply_summary()
    if summary is None:
        return solara.Info("This run folder has no supply.json: no supply graph to show.")
    return solara.FigureMatplotlib(draw_supply(summary), format="png",
                                   dependencies=[summary["date"]])  # fmt: skip


def status(model: ExplorerModel) -> solara.Element:
    """What is shown and how to change it (plain text: Solara's Markdown would load
    KaTeX, which its offline assets lack)."""
    with solara.Column() as column:
        if model.problem:
            solara.Error(model.problem)
        else:
            solara.v.Html(tag="strong", children=[model.describe()])
        solara.Text(
            "Move a control in the sidebar, then press Reset to build the model with it; "
            "Step runs one week (or Render Interval weeks), ▶ runs on. Give a run folder "
            "(written by market-sim run) as the source to replay it week by week."
        )
    return column


COMPONENTS = [
    (status, 0),
    *[(report_chart(c), 0) for c in LIVE_CHARTS],
    (supply_graph, 0),
]
"""The page's components, (component, page) as SolaraViz takes them."""
