"""The run report: one self-contained HTML page for one run (``report.html`` of a run
folder). Its sections and what each chart shows are listed in docs/reports.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

from market_sim.outcomes.headline import HEADLINES
from market_sim.report import figures as F
from market_sim.report.page import (
    Card,
    Section,
    figure_html,
    join,
    paragraph,
    render_page,
)
from market_sim.report.run_tables import appendix_section, facts_section, graph_section
from market_sim.runs.folder import DATA_FILES, Run
from market_sim.scenario import Scenario

CLASSES = ("hyperscalers", "enterprises", "neoclouds", "startups")
TOP_FIRMS = 10
"""Firms shown one by one in the per-firm charts; the rest are summed as 'others'."""


def holder_ids(scenario: Scenario) -> list[str]:
    """Ids of the firms that hold compute (hyperscalers, enterprises, neoclouds)."""
    from market_sim.scenario.schema import BUYER_ROLES

    return [a.id for a in scenario.agents if a.role in BUYER_ROLES]


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


# --------------------------------------------------------------------------- sections


def _figs(*figs: tuple[go.Figure, str]) -> Markup:
    """The figures that have data (a scenario without, say, an H100 has no H100 chart)."""
    return join(*(figure_html(fig, div_id) for fig, div_id in figs if fig.data))


def prices_section(ts: pd.DataFrame, s: Scenario, marks: list[F.Mark]) -> Section:
    market = F.dual_axis_figure(
        ts,
        [("list_price_usd@H100", "H100 list price"), ("spot_price_usd@H100", "H100 spot price")],
        [("rental_usd_per_gpu_hour@H100", "H100 rental (right axis)")],
        "H100: list, spot (gray-market) and rental price",
        "USD per GPU",
        "USD per GPU-hour",
        marks,
    )
    listed = F.lines_figure(
        ts,
        [(f"list_price_usd@{p.id}", p.id) for p in s.products],
        "List price by product",
        "USD per unit",
        marks,
    )
    effective = F.lines_figure(
        ts,
        [(f"effective_price_usd_per_h100e@{c}", c) for c in CLASSES],
        "Effective price paid per H100e, by buyer class",
        "USD per H100e",
        marks,
        colours=F.CLASS_COLOURS,
    )
    body = join(
        paragraph(
            "Spot is the gray-market resale price; rental is the price of one GPU-hour. "
            "The effective price is what a class paid per H100-equivalent delivered "
            "(last value carried through weeks without purchases)."
        ),
        _figs(
            (market, "fig-prices-h100"),
            (listed, "fig-prices-list"),
            (effective, "fig-prices-effective"),
        ),
    )
    return Section("prices", "Prices", body)


def lead_times_section(ts: pd.DataFrame, s: Scenario, marks: list[F.Mark]) -> Section:
    quoted = F.class_quantiles_figure(
        ts,
        "lead_time_weeks",
        "Quoted lead time by buyer class",
        marks,
        extra="lead_time_weeks@H100",
    )
    realised = F.class_quantiles_figure(
        ts,
        "realised_lead_time_weeks",
        "Realised lead time (order to delivery) by buyer class",
        marks,
    )
    vendors = [a.id for a in s.agents if a.role == "vendor"]
    backlog = F.lines_figure(
        ts, [(f"backlog_units@{v}", v) for v in vendors], "Order backlog by vendor", "units", marks
    )
    body = join(
        paragraph(
            "Quoted: the lead time on open orders, median (solid) and 90th percentile "
            "(dashed), weighted by units; the black line is the H100 quote for a new "
            "standard order. Realised: weeks from order to delivery of the units "
            "delivered that week."
        ),
        _figs(
            (quoted, "fig-lead-quoted"), (realised, "fig-lead-realised"), (backlog, "fig-backlog")
        ),
    )
    return Section("lead-times", "Lead times", body)


def compute_section(ts: pd.DataFrame, s: Scenario, marks: list[F.Mark]) -> Section:
    x = F.dates_of(ts)
    ids = holder_ids(s)
    deliveries = F.top_n_frame(ts, "deliveries_units", ids, TOP_FIRMS)
    installed = F.top_n_frame(ts, "installed_h100e", ids, TOP_FIRMS, rank_by="last")
    if "deliveries_units@startups" in ts.columns:
        deliveries["startups (all)"] = ts["deliveries_units@startups"].to_numpy()
    if "installed_h100e@startups" in ts.columns:
        installed["startups (all)"] = ts["installed_h100e@startups"].to_numpy()
    figs = [
        (
            F.stacked_frame_figure(
                x,
                deliveries,
                f"Deliveries by firm (top {TOP_FIRMS} by units)",
                "units per week",
                marks,
            ),
            "fig-deliveries-firm",
        ),
        (
            F.stacked_frame_figure(
                x,
                installed,
                f"Installed compute by firm (top {TOP_FIRMS} at the end)",
                "H100e",
                marks,
            ),
            "fig-installed-firm",
        ),
        (
            F.lines_figure(
                ts,
                [(f"deliveries_units@{c}", c) for c in CLASSES],
                "Deliveries by buyer class",
                "units per week",
                marks,
                stacked=True,
                colours=F.CLASS_COLOURS,
            ),
            "fig-deliveries-class",
        ),
        (
            F.lines_figure(
                ts,
                [(f"installed_h100e@{c}", c) for c in CLASSES],
                "Installed compute by buyer class",
                "H100e",
                marks,
                stacked=True,
                colours=F.CLASS_COLOURS,
            ),
            "fig-installed-class",
        ),
        (
            F.lines_figure(
                ts,
                [
                    ("compute_share_pct@top5", "top 5 firms"),
                    ("top4_share_pct", "top 4 holders"),
                    ("compute_share_pct@big4", "big 4 clouds"),
                    ("compute_share_pct@neoclouds", "neoclouds"),
                    ("compute_share_pct@startups", "startups"),
                ],
                "Share of installed compute",
                "% of installed H100e",
                marks,
            ),
            "fig-compute-share",
        ),
        (
            F.dual_axis_figure(
                ts,
                [("hhi_compute", "HHI of installed compute")],
                [("gini_compute", "Gini of compute in use (right axis)")],
                "Concentration: HHI and Gini",
                "HHI (0-10,000)",
                "Gini (0-1)",
                marks,
            ),
            "fig-concentration",
        ),
    ]
    body = join(
        paragraph(
            "Firms are ranked by units received over the run (deliveries) or by "
            "installed H100e in the last week (installed); the rest are summed. "
            "Startups are one band. HHI and top-4 share measure ownership; Gini "
            "measures access (firms' compute and each active startup's compute in use)."
        ),
        _figs(*figs),
    )
    return Section("compute", "Deliveries and installed compute", body)


def nvidia_section(ts: pd.DataFrame, marks: list[F.Mark]) -> Section:
    revenue = F.quarterly_revenue_figure(
        ts,
        "nvidia_dc_revenue_usd_bn",
        "nvidia_gross_margin_pct",
        "Nvidia data-centre revenue and gross margin",
        marks,
    )
    shares = F.lines_figure(
        ts,
        [
            ("nvidia_unit_share_pct", "Nvidia share of units"),
            ("nvidia_new_compute_share_pct", "Nvidia share of new H100e"),
            ("alt_chip_share_pct", "alternative chips' share of new H100e"),
            ("in_house_share_pct", "in-house chips' share of new H100e"),
        ],
        "Nvidia and alternative chips: shares of weekly deliveries",
        "%",
        marks,
    )
    body = join(
        paragraph("Revenue bars sum the weeks starting in each calendar quarter."),
        _figs((revenue, "fig-nvidia-revenue"), (shares, "fig-nvidia-share")),
    )
    return Section("nvidia", "Nvidia and alternative chips", body)


def supply_section(ts: pd.DataFrame, s: Scenario, marks: list[F.Mark]) -> Section:
    units: dict[str, list[tuple[str, str]]] = {}
    for n in s.supply.nodes:
        units.setdefault(n.unit, []).append((f"capacity_per_week@{n.id}", n.id))
    capacity = F.unit_panels_figure(
        ts, [(f"{u} per week", v) for u, v in units.items()], "Capacity per supply node", marks
    )
    util = F.lines_figure(
        ts,
        [(f"utilisation_pct@{n.id}", n.id) for n in s.supply.nodes],
        "Utilisation per supply node",
        "% of capacity used",
        marks,
    )
    body = _figs((capacity, "fig-capacity"), (util, "fig-utilisation"))
    return Section("supply", "Supply: capacity and utilisation", body)


def startups_section(ts: pd.DataFrame, marks: list[F.Mark]) -> Section:
    fig = F.lines_figure(
        ts,
        [
            ("startups_active", "active"),
            ("startups_starved", "starved"),
            ("startups_exited", "exited (cumulative)"),
        ],
        "Startup health",
        "startups",
        marks,
    )
    body = join(
        paragraph("Starved: active startups that got less compute than they need."),
        _figs((fig, "fig-startups")),
    )
    return Section("startups", "Startup health", body)


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
        prices_section(ts, s, marks),
        lead_times_section(ts, s, marks),
        compute_section(ts, s, marks),
        nvidia_section(ts, marks),
        supply_section(ts, s, marks),
        graph_section(s),
        startups_section(ts, marks),
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
