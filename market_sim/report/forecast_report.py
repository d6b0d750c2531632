"""The forecast report: fan charts of an ensemble run past the observed record, what the
bands cover, and the scenario's dated inputs after the record (its assumptions).

Drawn from a forecast folder's stored results only (forecast.json, bands.csv; the facts
file for the observed points): :func:`render_forecast_report` never runs a model, so
``market-sim report DIR`` redraws it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from market_sim.outcomes.headline import format_value
from market_sim.report import figures as F
from market_sim.report.forecast_figures import fact_points, fan_figure
from market_sim.report.page import (
    Card,
    Section,
    details,
    figure_html,
    join,
    links,
    paragraph,
    render_page,
    table_html,
)

GROUPS = (
    ("prices", "Prices"),
    ("lead_times", "Lead times"),
    ("incumbent", "The incumbent: revenue and margin"),
    ("alt", "Alternative chips and concentration"),
    ("other", "Other outcomes"),
)
"""Report sections of the metrics' groups (:class:`market_sim.runs.bands.BandMetric`)."""
GROUP_NOTES = {
    "prices": "Gray-market and rental prices are the last trade's: a flat stretch means no "
    "trades. Before a product's launch and after its end of output (dotted lines) its list "
    "price is the model's quote for a product not being made.",
    "lead_times": "The quote for a new standard order (outcomes.standard_tier); before a "
    "product's launch it is the cap, policy.max_lead_weeks.",
}
"""A sentence under a group's title, on what its charts show."""
CARD_KEYS = (
    "list_price_usd@B200",
    "lead_time_weeks@B200",
    "nvidia_dc_revenue_usd_bn",
    "nvidia_gross_margin_pct",
    "alt_chip_share_pct",
    "compute_share_pct@top5",
)
"""Metrics shown as cards (their last period), when the forecast has them."""


def _fmt(value: float, unit: str) -> str:
    return format_value(value, "usd" if unit == "usd_per_h100e" else unit)


def _cards(metrics: list[dict[str, Any]], table: pd.DataFrame) -> list[Card]:
    """The last period's median and bands of the card metrics."""
    by_key = {m["key"]: m for m in metrics}
    keys = [k for k in CARD_KEYS if k in by_key] or [m["key"] for m in metrics[:4]]
    cards = []
    for key in keys:
        rows = table[table["metric"] == key].sort_values("date")
        if rows.empty:
            continue
        r, m = rows.iloc[-1], by_key[key]
        when = pd.Timestamp(r["date"])
        when_text = (
            f"{when.year}-Q{(when.month - 1) // 3 + 1}"
            if r["period"] == "quarter"
            else f"week of {when:%Y-%m-%d}"
        )
        note = (
            f"median; 50%: {_fmt(r.p25, m['unit'])} to {_fmt(r.p75, m['unit'])}; "
            f"90%: {_fmt(r.p05, m['unit'])} to {_fmt(r.p95, m['unit'])}"
        )
        cards.append(Card(f"{m['label']}, {when_text}", _fmt(r.p50, m["unit"]), note))
    return cards


def _product_marks(data: Mapping[str, Any], key: str) -> list[F.Mark]:
    """Launch and end of output of the product a metric key names, inside the horizon."""
    product = key.split("@", 1)[1] if "@" in key else None
    start = dt.date.fromisoformat(data["start_date"])
    first, last = start, dt.date.fromisoformat(data["last_day"])
    marks = []
    for p in data["scenario"].get("products", []):
        if p.get("id") != product:
            continue
        for field, label in (("launch", "launch"), ("end", "end of output")):
            when = p.get(field)
            if when is None:
                continue
            day = (
                start + dt.timedelta(weeks=int(when))
                if isinstance(when, int)
                else dt.date.fromisoformat(str(when))
            )
            if first < day <= last:
                marks.append(F.Mark(day.isoformat(), f"{product} {label}"))
    return marks


def _coverage_section(data: Mapping[str, Any]) -> Section:
    ens = data.get("ensemble") or {}
    k, s = len(data["members"]), len(data["seeds"])
    runs = len(data["runs"])
    what = (
        f"Each chart shows, period by period, the median and the 50% and 90% bands of "
        f"{runs} runs: {k} parameter set{'s' if k != 1 else ''} of the ensemble x {s} "
        f"seed{'s' if s != 1 else ''}. The bands are the spread across the fitted parameter "
        "sets (values the 2023-25 facts cannot tell apart) and the model's noise (the seeds). "
        "They are NOT the uncertainty of the model's structure (its rules, its fixed "
        "inputs, what it leaves out) and NOT a calibrated forecast interval: the "
        "ensemble's 5-95% range covers few of the observed 2023-25 facts "
        "(docs/calibration.md), so the world may well fall outside the 90% band."
    )
    cov = data.get("coverage")
    measured = []
    if cov and cov["scored"]:
        measured.append(
            paragraph(
                f"Measured on these runs: {cov['inside']} of the {cov['scored']} target facts "
                "they simulate have their observed value inside the runs' 5-95% range. "
                "A calibrated 90% interval would hold about nine in ten."
            )
        )
        if cov.get("inside_predictive") is not None and cov.get("discrepancy_sd") is not None:
            measured.append(
                paragraph(
                    f"Adding the model's structural error, measured on the facts themselves "
                    f"(root mean square log error about {cov['discrepancy_sd']:.2f}, each fact "
                    "scored with the error of the others), "
                    f"{cov['inside_predictive']} of the {cov['scored']} lie inside that "
                    "predictive 5-95% range (pred_p05 to pred_p95 below). The fan charts "
                    "do not include it: read each band as about that factor wider."
                )
            )
        facts = pd.DataFrame(cov["facts"])
        keep = ["fact_id", "metric_key", "date", "observed", "p05", "p95", "inside"]
        keep += [c for c in ("pred_p05", "pred_p95", "inside_predictive") if c in facts]
        facts = facts[facts["n"] > 0][keep]
        measured.append(details("The target facts and the runs' 5-95% range", table_html(facts)))
    how = (
        "Prices, lead times and shares of installed compute are banded week by week; "
        "revenue is summed and gross margin and alternative chips' share are ratios of sums "
        "per calendar quarter in each run before the bands are taken. Observed facts "
        "(red diamonds) are drawn at the middle of their window with the band they are "
        "judged by (their reported range, else ±25%); the revenue and margin facts are "
        "Nvidia's fiscal quarters (three months ending Jan, Apr, Jul, Oct)."
    )
    members_used = f"{k} (of {ens.get('size', k)})" if ens else f"{k} (no ensemble)"
    rows = [
        ("scenario", f"{data['name']} ({data.get('source') or 'given as data'})"),
        ("ensemble", str(ens.get("file", "none"))),
        ("calibration", str(ens.get("calibration", "n/a"))),
        ("members used", members_used),
        ("seeds", ", ".join(map(str, data["seeds"]))),
        ("runs", str(runs)),
        ("horizon", f"{data['start_date']} to {data['last_day']} ({data['weeks']} weeks)"),
        ("end of observed data", data["observed_end"]),
        ("overrides (--set)", "; ".join(data.get("overrides") or []) or "none"),
    ]
    limit = data.get("input_limit")
    if limit:
        rows.append(("demand inputs end", f"{limit['day']} ({limit['path']}: {limit['what']})"))
    table = pd.DataFrame(rows, columns=["input", "value"])
    body = join(paragraph(what), *measured, paragraph(how), table_html(table))
    return Section("coverage", "What the bands cover", body)


def _assumptions_section(data: Mapping[str, Any]) -> Section:
    end = data["observed_end"]
    dated = pd.DataFrame(data.get("assumptions", []), columns=["date", "path", "what", "value"])
    held = pd.DataFrame(data.get("held", []), columns=["path", "date", "what", "value"])
    held = held.rename(columns={"date": "since"})
    intro = (
        f"After {end} the model runs on the scenario's inputs alone: there is no observed "
        "record to fit them to. These are the scenario's dated inputs after that day, read "
        "from the scenario as resolved (its `extends` chain merged, --set applied), so they "
        "are the values the runs used. In scenarios/baseline.toml each of them is commented "
        "as an assumption with its rationale (e.g. 2025's growth again, capex flat)."
    )
    parts = [paragraph(intro)]
    if data["last_day"] <= end:
        parts.append(paragraph(f"This horizon ends on {data['last_day']}, within the record."))
    elif dated.empty:
        parts.append(paragraph(f"The scenario has no dated input after {end}."))
    else:
        parts.append(table_html(dated, sortable=True))
    if not held.empty:
        parts.append(
            paragraph(
                "Supply capacities with no scheduled point after that day hold their last "
                "scheduled value (an expansion rule, where on, may add capacity when "
                "utilisation stays high):"
            )
        )
        parts.append(table_html(held))
    limit = data.get("input_limit")
    if limit:
        parts.append(
            paragraph(
                f"The horizon stops before the first demand input runs out ({limit['path']}: "
                f"{limit['what']}); after it that buyer's desired fleet would be flat and its "
                "orders would stop."
            )
        )
    return Section("assumptions", f"Assumptions after {end}", join(*parts))


def render_forecast_report(
    data: Mapping[str, Any], table: pd.DataFrame, facts: pd.DataFrame | None = None
) -> str:
    """The forecast report's HTML from forecast.json's content (``data``), the bands table
    (:data:`market_sim.runs.bands.BAND_COLUMNS`) and the facts table (None: no points)."""
    from market_sim import __version__

    observed = dt.date.fromisoformat(data["observed_end"])
    first = dt.date.fromisoformat(data["start_date"])
    last = dt.date.fromisoformat(data["last_day"])
    metrics = list(data["metrics"])
    events = [
        F.Mark(str(e["date"]), str(e["label"]))
        for e in data.get("events", [])
        if first <= dt.date.fromisoformat(str(e["date"])) <= last
    ]
    sections = [_coverage_section(data)]
    for group, title in GROUPS:
        figures = []
        for m in (m for m in metrics if m.get("group", "other") == group):
            rows = table[table["metric"] == m["key"]]
            if rows.empty:
                continue
            points = fact_points(facts, m["key"], first, last)
            marks = events + _product_marks(data, m["key"])
            y_title = m.get("unit_text") or m["unit"]
            if m["period"] == "quarter":
                y_title += " per quarter" if m["unit"] == "usd_bn" else " (quarter)"
            fig = fan_figure(rows, m["label"], y_title, observed, last, points, marks)
            data_rows = rows.assign(date=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-%d"))
            figures.append(figure_html(fig, f"fc-{m['key']}", data_rows.reset_index(drop=True)))
        if figures:
            note = [paragraph(GROUP_NOTES[group])] if group in GROUP_NOTES else []
            sections.append(Section(group, title, join(*note, *figures)))
    sections.append(_assumptions_section(data))
    files = [("bands.csv", "bands.csv (every metric's bands)"), ("forecast.json", "forecast.json")]
    files += [(r["file"], r["file"]) for r in data["runs"]]
    sections.append(
        Section(
            "appendix",
            "Appendix: data",
            join(
                paragraph(
                    "Each run's weekly outcomes (Parquet, with member and seed columns; query "
                    'them all with `market-sim query FOLDER "SELECT ... FROM runs"`):'
                ),
                links(files),
            ),
        )
    )
    k, s = len(data["members"]), len(data["seeds"])
    subtitle = (
        f"{data.get('description') or data['name']} — {first} to {last}, observed to "
        f"{observed}; {k} ensemble member{'s' if k != 1 else ''} x {s} seed"
        f"{'s' if s != 1 else ''}. After {observed} the runs follow the scenario's assumptions."
    )
    return render_page(
        title=f"market_sim forecast: {data['name']}",
        subtitle=subtitle,
        cards=_cards(metrics, table),
        sections=sections,
        generated_by=f"market_sim {__version__} (forecast report)",
    )


def render_forecast_folder(folder: Path, facts_path: Path | None) -> str:
    """The report of a stored forecast folder (raises ForecastError or FactsFileError)."""
    from market_sim.facts import load_facts
    from market_sim.runs.forecast_folder import read_forecast

    data, table = read_forecast(folder)
    facts = load_facts(facts_path) if facts_path is not None else None
    return render_forecast_report(data, table, facts)
