"""The explorer's live charts: the run report's charts (:mod:`market_sim.report.sections`)
redrawn every week from the weeks so far, the supply graph with its binding nodes, and a
status card.

Each chart is a function of the :class:`market_sim.explore.model.ExplorerModel`, as Mesa
SolaraViz takes components; SolaraViz redraws them after every step.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import solara

from market_sim.explore.model import ExplorerModel
from market_sim.report import figures as F
from market_sim.report.run_report import chart_figure
from market_sim.report.sections import SECTIONS, Chart, Names
from market_sim.report.supply_figure import supply_graph_figure

CHART_HEIGHT_PX = 360
"""Height of a chart in the explorer, pixels."""
LIVE_CHARTS = (
    "prices-reference",
    "lead-quoted",
    "deliveries-class",
    "compute-share",
    "startups",
)
"""The report charts the explorer draws, by id (docs/explore.md)."""

_CHARTS: dict[str, Chart] = {c.id: c for s in SECTIONS for c in s.charts}


def _sized(fig: go.Figure) -> go.Figure:
    fig.update_layout(height=CHART_HEIGHT_PX, autosize=True, margin={"t": 40, "b": 30})
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
        s = model.scenario
        assert s is not None
        frame = model.frame()
        fig = chart_figure(chart, frame, Names.of(s), F.marks_from(frame, model.marks()))
        return solara.FigurePlotly(_sized(fig))

    component.__name__ = f"chart_{chart_id.replace('-', '_')}"
    return component


def supply_graph(model: ExplorerModel) -> solara.Element:
    """The supply graph at the current week (live) or the start (replay), binding nodes
    ringed."""
    if model.problem:
        return solara.Warning(model.problem)
    summary = model.supply_summary()
    if summary is None:
        return solara.Info("This run folder has no supply.json: no supply graph to show.")
    fig = supply_graph_figure(summary)
    fig.update_layout(height=max(CHART_HEIGHT_PX, int(fig.layout.height or 0)))
    return solara.FigurePlotly(fig)


def status(model: ExplorerModel) -> solara.Element:
    """What is shown and how to change it."""
    with solara.Column() as column:
        if model.problem:
            solara.Error(model.problem)
        else:
            solara.Markdown(f"**{model.describe()}**")
        solara.Markdown(
            "Move a control in the sidebar, then press **Reset** to build the model with "
            "it; **Step** runs one week (or *Render Interval* weeks), **▶** runs on. "
            "Give a run folder (written by `market-sim run`) as the source to replay it "
            "week by week."
        )
    return column


COMPONENTS = [
    (status, 0),
    *[(report_chart(c), 0) for c in LIVE_CHARTS],
    (supply_graph, 0),
]
"""The page's components, (component, page) as SolaraViz takes them."""
