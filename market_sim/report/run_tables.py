"""Run-report sections that are mostly tables: the supply graph and its bottlenecks, the
market facts (observed band vs simulated) and the appendix (run, scenario, data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from market_sim.report.page import (
    Section,
    details,
    figure_html,
    join,
    links,
    paragraph,
    preformatted,
    table_html,
)
from market_sim.report.supply_figure import supply_graph_figure
from market_sim.runs.folder import PHASES, Run
from market_sim.supply.summary import binding_nodes


def graph_section(run: Run) -> Section:
    """The supply graph at the start and each product's bottleneck, as the run stored
    them (``supply.json``)."""
    title = "Supply graph and bottlenecks"
    summary = run.supply
    if summary is None:
        note = (
            "This run folder has no supply.json (it was written by an older version of "
            "market_sim); run the scenario again to see its supply graph."
        )
        return Section("supply-graph", title, paragraph(note))
    rows = [
        {
            "product": p["product"],
            "vendor": p["vendor"],
            "max units/week": p["max_units_per_week"],
            "binding input": p["binding_input"],
            "minimum cut": ", ".join(p["cut_nodes"]),
        }
        for p in summary["products"]
    ]
    binding = ", ".join(sorted(binding_nodes(summary))) or "none"
    body = join(
        paragraph(
            f"At the start week ({summary['date']}). Ringed nodes are in some product's "
            "minimum cut: more of their capacity would raise that product's maximum "
            f"output. Binding nodes: {binding}."
        ),
        figure_html(supply_graph_figure(summary), "fig-supply-graph", data=_nodes_frame(summary)),
        table_html(pd.DataFrame(rows), sortable=True, float_format="{:,.0f}"),
    )
    return Section("supply-graph", title, body)


def _nodes_frame(summary: dict) -> pd.DataFrame:
    """The supply graph's nodes as the chart's data: kind, capacity, binding products."""
    binding = binding_nodes(summary)
    return pd.DataFrame(
        [
            {
                "node": n["id"],
                "kind": n.get("kind", ""),
                "capacity_per_week": n.get("capacity_per_week"),
                "unit": n.get("unit", ""),
                "binding_for": " ".join(binding.get(n["id"], [])),
            }
            for n in summary["nodes"]
        ]
    )


def facts_section(ts: pd.DataFrame, facts_path: Path | None) -> Section:
    """Observed band vs simulated for the target facts the run covers (else a note)."""
    from market_sim.facts import (
        NOT_SIMULATED,
        OUTSIDE,
        FactsFileError,
        load_facts,
        score_facts,
        summary_line,
    )

    if facts_path is None or not Path(facts_path).is_file():
        note = "No facts file found, so this run is not scored against market facts."
        if facts_path is not None:
            note = f"Facts file {facts_path} not found; no facts table."
        return Section("facts", "Market facts", paragraph(note + " Use --facts FILE."))
    try:
        facts = load_facts(facts_path)
        scored = score_facts(ts, facts, role="target")
    except (FactsFileError, ValueError) as err:
        return Section("facts", "Market facts", paragraph(f"Facts not scored: {err}"))
    covered = scored[scored["status"] != NOT_SIMULATED]
    if covered.empty:
        return Section(
            "facts",
            "Market facts",
            paragraph(
                "No target fact falls within this run's period and metrics (facts describe the "
                "historical market from 2023; scenarios starting later are not scored)."
            ),
        )
    desc = facts.set_index("fact_id")["description"].to_dict()
    table = covered.assign(
        description=covered["fact_id"].map(desc), rel_error_pct=100.0 * covered["rel_error"]
    )[
        [
            "fact_id",
            "description",
            "metric_key",
            "date",
            "window",
            "observed",
            "low",
            "high",
            "simulated",
            "status",
            "rel_error_pct",
            "unit",
        ]
    ]
    classes = ["bad" if st == OUTSIDE else "ok" for st in table["status"]]
    body = join(
        paragraph(
            f"{summary_line(covered)} (target facts the run covers; "
            f"{len(scored) - len(covered)} others not simulated). Source: {facts_path}. "
            "rel_error_pct = 100 × (simulated − observed) / observed; rules in docs/facts.md."
        ),
        table_html(table, sortable=True, row_classes=classes),
    )
    return Section("facts", "Market facts: observed band vs simulated", body)


def appendix_section(run: Run, data_files: list[str]) -> Section:
    s = run.scenario
    info = pd.DataFrame(
        [
            ("scenario", s.simulation.name),
            ("source", run.source or "—"),
            ("overrides (--set)", "; ".join(run.overrides) or "none"),
            ("seed", str(run.seed)),
            ("market_sim version", run.version),
            ("created", run.created or "—"),
        ]
        + [
            (f"wall time, {p} (s)", f"{run.timings_s[p]:.2f}") for p in PHASES if p in run.timings_s
        ],
        columns=["", "value"],
    )
    events = pd.DataFrame(
        [{"week": w, "date": str(s.date_of(w)), "event": label} for w, label in run.marks],
        columns=["week", "date", "event"],
    )
    resolved = json.dumps(s.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
    body = join(
        table_html(info),
        paragraph("Scenario events (dotted lines on the charts):")
        if len(events)
        else paragraph("The scenario has no events."),
        table_html(events) if len(events) else Markup(""),
        paragraph(
            "Data of this run (Parquet and CSV copies; query the Parquet with "
            '`market-sim query RUN_DIR "SQL"`):'
        ),
        links([(f, f) for f in data_files] + [("run.json", "run.json (scenario, seed, timings)")]),
        details("Resolved scenario (as run)", preformatted(resolved)),
    )
    return Section("appendix", "Appendix: run, scenario and data", body)


# --------------------------------------------------------------------------- page
