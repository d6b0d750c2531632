"""Figure builders shared by the reports.

Every time chart has dates on its x axis and the scenario's events drawn as dotted
vertical lines (label on hover and, shortened, at the top). Text that comes from a
scenario (ids, event labels) goes through :func:`plot_text`, so plotly.js shows it
literally. The builders return plain plotly.js figure dicts
(:mod:`market_sim.report.figure_spec`), which the page writes as they are; every chart
carries plotly's default template (added by :func:`market_sim.report.page.figure_html`)
under the report's own layout (:data:`LAYOUT`). :func:`styled` and :func:`add_marks` also
take a ``plotly.graph_objects.Figure``, for the reports that build theirs with plotly's
subplot helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from market_sim.report.figure_spec import (
    Figure,
    axes_of,
    axis_keys,
    columns_layout,
    new_figure,
    secondary_y_layout,
    trace,
    update,
)
from market_sim.report.page import plot_text
from market_sim.scenario.schema import BUYER_CLASSES

if TYPE_CHECKING:
    import plotly.graph_objects as go

PALETTE = (
    "#2f6fb2",
    "#e07b39",
    "#3a9a5b",
    "#c43d3d",
    "#7d5ba6",
    "#8c6d31",
    "#d36fb0",
    "#5f6b77",
    "#b5b83a",
    "#2bb0c0",
    "#1b3f6b",
    "#f2b880",
)
"""Colours, in order (a colour per series; scenarios in a comparison keep theirs)."""

CLASS_COLOURS = {c.id: c.colour for c in BUYER_CLASSES}
"""Buyer class id -> colour (``market_sim.scenario.schema.BUYER_CLASSES``)."""
CLASS_COLOURS_BY_LABEL = {c.label: c.colour for c in BUYER_CLASSES}

AXIS_STYLE = {"showgrid": True, "gridcolor": "#edf1f5", "linecolor": "#9aa5b1"}
"""Grid and line colours of every axis."""
LAYOUT: dict[str, Any] = {
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "colorway": list(PALETTE),
    "margin": {"l": 64, "r": 24, "t": 48, "b": 40},
    "hovermode": "x unified",
    "legend": {"font": {"size": 11}},
    "xaxis": dict(AXIS_STYLE),
    "yaxis": {**AXIS_STYLE, "rangemode": "tozero"},
}
"""The report's layout (plotly.js layout keys), applied by :func:`styled`."""
PANEL_SPACING = 0.08
"""Gap between side-by-side panels (share of the figure's width)."""


@dataclass(frozen=True)
class Mark:
    """A scenario event on a time axis: ``date`` (ISO) and its label."""

    date: str
    label: str


def marks_from(ts: pd.DataFrame, marks: Sequence[tuple[int, str]]) -> list[Mark]:
    """(week, label) pairs as dated :class:`Mark` s (weeks outside the frame dropped)."""
    dates = dates_of(ts)
    return [Mark(dates[w], label) for w, label in marks if 0 <= w < len(dates)]


def dates_of(ts: pd.DataFrame) -> list[str]:
    """The frame's week start dates as ``YYYY-MM-DD`` strings (the x values)."""
    days = pd.to_datetime(ts["date"]).to_numpy(dtype="datetime64[D]")
    return np.datetime_as_string(days, unit="D").tolist()


def styled(
    fig: Figure | go.Figure, title: str, y_title: str = "", height: int = 400
) -> Figure | go.Figure:
    """Apply the report's layout, a title (escaped) and a y-axis title (escaped) to
    ``fig`` (a figure dict or a graph_objects figure, changed in place) and return it."""
    changes = {**LAYOUT, "title": {"text": plot_text(title), "x": 0.01, "font": {"size": 15}}}
    changes["height"] = height
    title_of_y = {"title": {"text": plot_text(y_title)}}
    if isinstance(fig, dict):
        layout = update(fig["layout"], changes)
        for key in [*axis_keys(layout, "xaxis"), *axis_keys(layout, "yaxis")]:
            update(layout[key], AXIS_STYLE)
        if y_title:
            keys = axis_keys(layout, "yaxis") or ["yaxis"]  # a plain figure may have none
            for key in keys:
                axis = layout.setdefault(key, {})
                if axis.get("anchor", "x") == "x":  # a plain figure's y has no anchor
                    update(axis, title_of_y)
        return fig
    fig.update_layout(changes)
    fig.update_xaxes(AXIS_STYLE)
    fig.update_yaxes(AXIS_STYLE)
    if y_title:
        fig.update_yaxes(title_of_y, selector=lambda axis: axis.anchor in (None, "x"))
    return fig


def mark_items(marks: Sequence[Mark], x_axes: Sequence[str]) -> list[tuple[dict, dict]]:
    """A (shape, annotation) pair per event and x axis (``xaxis``, ``xaxis2``, ...): a
    dotted vertical line at the event's date and its label, shortened, at the top."""
    items = []
    for i, m in enumerate(marks):
        short = m.label if len(m.label) <= 28 else m.label[:27] + "…"
        for ax in x_axes:
            ref = "x" + ax[5:]
            yref = f"{ref.replace('x', 'y')} domain"
            shape = {
                "type": "line",
                "xref": ref,
                "yref": yref,
                "x0": m.date,
                "x1": m.date,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#7b8794", "width": 1, "dash": "dot"},
            }
            note = {
                "x": m.date,
                "xref": ref,
                "yref": yref,
                "y": 1.0 - 0.07 * (i % 3),
                "text": plot_text(short),
                "hovertext": plot_text(f"{m.date}: {m.label}"),
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 10, "color": "#52606d"},
            }
            items.append((shape, note))
    return items


def add_marks(fig: Figure | go.Figure, marks: Sequence[Mark]) -> Figure | go.Figure:
    """Draw each event as a dotted vertical line on every x axis of ``fig`` (a figure dict
    or a graph_objects figure, changed in place) and return it."""
    layout = fig["layout"] if isinstance(fig, dict) else fig.layout.to_plotly_json()
    axes = sorted(axis_keys(layout, "xaxis")) or ["xaxis"]
    for shape, note in mark_items(marks, axes):
        if isinstance(fig, dict):
            layout.setdefault("shapes", []).append(shape)
            layout.setdefault("annotations", []).append(note)
        else:
            fig.add_shape(shape)
            fig.add_annotation(note)
    return fig


def line(x: list[str], y: np.ndarray | pd.Series, name: str, **kw: Any) -> dict[str, Any]:
    """A line trace (a plotly.js ``scatter`` dict) named ``name`` (escaped)."""
    return trace(
        "scatter", x=x, y=np.asarray(y, dtype=float), name=plot_text(name), mode="lines", **kw
    )


def lines_figure(
    ts: pd.DataFrame,
    series: Sequence[tuple[str, str]],
    title: str,
    y_title: str,
    marks: Sequence[Mark],
    stacked: bool = False,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """One line (or stacked area) per ``(column, legend name)``; missing columns skipped."""
    x = dates_of(ts)
    fig = new_figure()
    for col, name in series:
        if col not in ts.columns:
            continue
        kw: dict[str, Any] = {}
        if stacked:
            kw.update(stackgroup="one", line={"width": 0.5})
        if colours and name in colours:
            kw["line"] = {**kw.get("line", {}), "color": colours[name]}
        fig["data"].append(line(x, ts[col], name, **kw))
    return add_marks(styled(fig, title, y_title), marks)


def top_n_frame(
    ts: pd.DataFrame, prefix: str, ids: Sequence[str], n: int = 10, rank_by: str = "sum"
) -> pd.DataFrame:
    """Columns ``prefix@id`` of the ``n`` largest ids (by sum, or by last value) plus an
    ``others`` column summing the rest; column names are the ids."""
    cols = {i: f"{prefix}@{i}" for i in ids if f"{prefix}@{i}" in ts.columns}
    frame = pd.DataFrame({i: ts[c].astype(float).to_numpy() for i, c in cols.items()})
    if frame.empty:
        return frame
    score = frame.sum() if rank_by == "sum" else frame.iloc[-1]
    order = score.sort_values(ascending=False, kind="stable").index.tolist()
    top, rest = order[:n], order[n:]
    out = frame[top].copy()
    if rest:
        out[f"{len(rest)} others"] = frame[rest].sum(axis=1)
    return out


def stacked_frame_figure(
    x: list[str], frame: pd.DataFrame, title: str, y_title: str, marks: Sequence[Mark]
) -> Figure:
    """A stacked area per column of ``frame`` (x = dates)."""
    fig = new_figure()
    for col in frame.columns:
        fig["data"].append(line(x, frame[col], str(col), stackgroup="one", line={"width": 0.5}))
    return add_marks(styled(fig, title, y_title), marks)


def dual_axis_figure(
    ts: pd.DataFrame,
    left: Sequence[tuple[str, str]],
    right: Sequence[tuple[str, str]],
    title: str,
    y_left: str,
    y_right: str,
    marks: Sequence[Mark],
    zoom_right: bool = False,
    zoom_left: bool = False,
) -> Figure:
    """Lines on a left and a right y axis (e.g. HHI and Gini, USD and USD/hour).

    ``zoom_right`` (``zoom_left``) fits the right (left) axis to its data instead of
    starting it at zero, for a measure that moves little near a high level (a Gini close
    to 1, an HHI over a few months).
    """
    x = dates_of(ts)
    fig = new_figure(layout=secondary_y_layout())
    for (col, name), secondary in [(s, False) for s in left] + [(s, True) for s in right]:
        if col in ts.columns:
            dash = "dash" if secondary else None
            xa, ya = axes_of(1, secondary)
            fig["data"].append(line(x, ts[col], name, line={"dash": dash}, xaxis=xa, yaxis=ya))
    layout = styled(fig, title)["layout"]
    update(layout["yaxis"], {"title": {"text": plot_text(y_left)}, "rangemode": "tozero"})
    update(
        layout["yaxis2"],
        {
            "title": {"text": plot_text(y_right)},
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "auto",
        },
    )
    for zoom, series, key in ((zoom_left, left, "yaxis"), (zoom_right, right, "yaxis2")):
        span = zoomed_range([ts[c] for c, _ in series if c in ts.columns]) if zoom else None
        if span is not None:
            update(layout[key], {"rangemode": "normal", "range": list(span)})
    return add_marks(fig, marks)


def zoomed_range(columns: Sequence[pd.Series]) -> tuple[float, float] | None:
    """An axis range around the data with a margin of a tenth of its spread on each side
    (at least 0.1% of its level); None without finite data."""
    values = np.concatenate([c.to_numpy(dtype=float) for c in columns]) if columns else []
    values = np.asarray(values)[np.isfinite(values)] if len(values) else np.array([])
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    pad = max(0.1 * (hi - lo), 0.001 * max(abs(lo), abs(hi)), 1e-9)
    return lo - pad, hi + pad


def class_quantiles_figure(
    ts: pd.DataFrame, prefix: str, title: str, marks: Sequence[Mark], extra: str | None = None
) -> Figure:
    """Median (solid) and p90 (dashed) per buyer class of ``{prefix}_median@class`` and
    ``{prefix}_p90@class``; ``extra`` adds one black reference line (a column)."""
    x = dates_of(ts)
    fig = new_figure()
    if extra and extra in ts.columns:
        fig["data"].append(line(x, ts[extra], extra, line={"color": "#1f2933", "width": 1}))
    for c in BUYER_CLASSES:
        for q, dash in (("median", None), ("p90", "dash")):
            col = f"{prefix}_{q}@{c.id}"
            if col in ts.columns:
                style = {"color": c.colour, "dash": dash}
                fig["data"].append(line(x, ts[col], f"{c.label} {q}", line=style, legendgroup=c.id))
    return add_marks(styled(fig, title, "weeks"), marks)


def quarterly_revenue_figure(
    ts: pd.DataFrame, revenue: str, margin: str, title: str, marks: Sequence[Mark]
) -> Figure:
    """Revenue summed per calendar quarter (bars, USD bn, weeks by their start date) and
    the weekly gross margin (line, % on the right axis)."""
    fig = new_figure(layout=secondary_y_layout())
    if revenue in ts.columns:
        dates = pd.to_datetime(ts["date"])
        quarters = dates.dt.to_period("Q")
        sums = ts[revenue].astype(float).groupby(quarters.to_numpy()).sum()
        starts = [p.start_time.strftime("%Y-%m-%d") for p in sums.index]
        bars = trace(
            "bar",
            x=starts,
            y=sums.to_numpy(),
            name="revenue per quarter",
            marker={"color": "#9ec5e8"},
            xperiod="M3",
            xperiodalignment="middle",
            hovertemplate="%{y:.1f} bn",
        )
        fig["data"].append({**bars, "xaxis": "x", "yaxis": "y"})
    if margin in ts.columns:
        fig["data"].append(
            line(
                dates_of(ts),
                ts[margin],
                "gross margin (weekly)",
                line={"color": "#c43d3d"},
                xaxis="x",
                yaxis="y2",
            )
        )
    layout = styled(fig, title)["layout"]
    update(layout["yaxis"], {"title": {"text": "USD bn per quarter"}})
    update(
        layout["yaxis2"],
        {
            "title": {"text": "gross margin % (axis fitted to its range)"},
            "showgrid": False,
            "tickmode": "auto",
        },
    )
    span = zoomed_range([ts[margin]]) if margin in ts.columns else None
    if span is not None:  # a margin moving a few points near 75% must not look flat
        update(layout["yaxis2"], {"range": list(span)})
    return add_marks(fig, marks)


def unit_panels_figure(
    ts: pd.DataFrame,
    panels: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    title: str,
    marks: Sequence[Mark],
) -> Figure:
    """Side-by-side panels sharing the x axis; each ``(y title, [(column, name)])``
    (e.g. capacity in wafers/week and in stacks/week)."""
    panels = [(t, s) for t, s in panels if any(c in ts.columns for c, _ in s)]
    if not panels:
        return styled(new_figure(), title)
    fig = new_figure(layout=columns_layout(len(panels), PANEL_SPACING))
    x = dates_of(ts)
    for i, (_, series) in enumerate(panels, start=1):
        xa, ya = axes_of(i)
        for col, name in series:
            if col in ts.columns:
                fig["data"].append(line(x, ts[col], name, xaxis=xa, yaxis=ya))
    layout = styled(fig, title)["layout"]
    for i, (y_title, _) in enumerate(panels, start=1):
        key = "yaxis" + axes_of(i)[1][1:]
        update(layout[key], {"title": {"text": plot_text(y_title)}, "rangemode": "tozero"})
    return add_marks(fig, marks)
