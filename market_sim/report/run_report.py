"""The run report: one self-contained HTML page for one run (``report.html`` of a run
folder). Its sections and what each chart shows are listed in docs/reports.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from market_sim.outcomes.headline import HEADLINES
from market_sim.report import figures as F
from market_sim.report.figure_spec import Figure
from market_sim.report.page import (
    Card,
    Section,
    figure_html,
    join,
    paragraph,
    render_page,
)
from market_sim.report.run_tables import appendix_section, facts_section, graph_section
from market_sim.report.sections import SECTIONS, Chart, Names, Series
from market_sim.runs.folder import DATA_FILES, Run

TOP_FIRMS = 10
"""Firms shown one by one in the per-firm charts; the rest are summed as 'others'."""


def headline_cards(ts: pd.DataFrame) -> list[Card]:
    """The five headline numbers as cards (value with unit; note says when/how)."""
    cards = []
    for o in HEADLINES:
        value, note = o.reduce(ts)
        cards.append(Card(o.label, o.text(value), note))
    return cards


def subtitle_of(run: Run) -> str:
    """Description, period, seed and package version in one line."""
    s, ts = run.scenario, run.timeseries
    first = pd.Timestamp(ts["date"].iloc[0]).date() if len(ts) else s.simulation.start_date
    last = pd.Timestamp(ts["date"].iloc[-1]).date() if len(ts) else first
    parts = [s.simulation.description] if s.simulation.description else []
    parts.append(f"weeks of {first} to {last} ({len(ts)} weeks), seed {run.seed}")
    return " — ".join(parts)


# --------------------------------------------------------------------------- charts


def chart_figure(chart: Chart, ts: pd.DataFrame, names: Names, marks: list[F.Mark]) -> Figure:
    """One chart of :data:`market_sim.report.sections.SECTIONS`, drawn for one run (a
    plotly.js figure dict)."""
    title = chart.title(names)
    colours = F.CLASS_COLOURS_BY_LABEL if chart.class_colours else None
    if chart.kind in ("lines", "stacked"):
        stacked = chart.kind == "stacked"
        series = chart.series(names)
        return F.lines_figure(ts, series, title, chart.y_title, marks, stacked, colours)
    if chart.kind == "dual":
        return F.dual_axis_figure(
            ts, chart.series(names), chart.right(names), title, chart.y_title,
            chart.right_title, marks, chart.zoom_right, chart.zoom_left,
        )  # fmt: skip
    if chart.kind == "class_quantiles":
        extra = chart.extra(names)[0] if chart.extra is not None else None
        return F.class_quantiles_figure(ts, chart.metric, title, marks, extra=extra)
    if chart.kind == "top_firms":
        rank = "sum" if chart.metric.startswith("deliveries") else "last"
        frame = F.top_n_frame(ts, chart.metric, names.firms, TOP_FIRMS, rank_by=rank)
        startups = f"{chart.metric}@startups"
        if startups in ts.columns:
            frame["startups (all)"] = ts[startups].to_numpy()
        return F.stacked_frame_figure(F.dates_of(ts), frame, title, chart.y_title, marks)
    if chart.kind == "quarterly":
        (revenue, _), (margin, _) = chart.series(names)
        return F.quarterly_revenue_figure(ts, revenue, margin, title, marks)
    if chart.kind == "panels":
        units: dict[str, Series] = {}
        unit_of = dict(names.nodes)
        for col, name in chart.series(names):
            units.setdefault(unit_of.get(name, ""), []).append((col, name))
        panels = [(f"{u} {chart.y_title}", series) for u, series in units.items()]
        return F.unit_panels_figure(ts, panels, title, marks)
    raise ValueError(f"unknown chart kind {chart.kind!r}")


def chart_sections(run: Run, marks: list[F.Mark]) -> list[Section]:
    """The report's chart sections (the figures that have data)."""
    names = Names.of(run.scenario)
    out = []
    for section in SECTIONS:
        figures = []
        for chart in section.charts:
            fig = chart_figure(chart, run.timeseries, names, marks)
            if fig["data"]:  # a scenario without, say, a second vendor has no such chart
                figures.append(figure_html(fig, f"fig-{chart.id}"))
        out.append(
            Section(section.id, section.title(names), join(paragraph(section.intro), *figures))
        )
    return out


def render_run_report(run: Run, facts_path: Path | None = None) -> str:
    """The run report's HTML (self-contained; plotly.js embedded once)."""
    from market_sim import __version__

    ts, s = run.timeseries, run.scenario
    marks = F.marks_from(ts, run.marks)
    files = (
        list(DATA_FILES)
        if run.folder is None
        else [f for f in DATA_FILES if (run.folder / f).exists()]
    )
    sections = [
        *chart_sections(run, marks),
        graph_section(run),
        facts_section(ts, facts_path),
        appendix_section(run, files),
    ]
    return render_page(
        title=f"market_sim run: {s.simulation.name}",
        subtitle=subtitle_of(run),
        cards=headline_cards(ts),
        sections=sections,
        generated_by=f"market_sim {__version__} (run report; seed {run.seed})",
    )
