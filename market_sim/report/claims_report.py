"""The answers page: ``OUT/report.html`` of ``market-sim claims`` (docs/claims.md).

It opens with one row per claim (its text, verdict, effect with its 90% interval, the
parameter and noise parts of that interval, the probability that it holds, what decides
it), then per claim the difference over time (median and 90% band over the paired runs)
and the distribution of the parameter sets' mean differences. Under every table and
chart is the ``market-sim query`` that recomputes its numbers from the run files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from market_sim.claims import Answers, ClaimAnswer, answers
from market_sim.claims.queries import answer_sql, command, members_sql, weekly_sql
from market_sim.claims.stats import FAILS_AT, HOLDS_AT, MIN_PAIRS
from market_sim.experiment.outputs import parse_window
from market_sim.experiment.storage import SweepStore
from market_sim.facts.windows import window_bounds
from market_sim.report.figures import styled
from market_sim.report.page import (
    Card,
    Section,
    details,
    figure_html,
    join,
    paragraph,
    plot_text,
    preformatted,
    render_page,
    table_html,
    write_html,
)

BAND = "rgba(31, 119, 180, 0.2)"
LINE = "#1f77b4"


def write_answers(out: str | Path, warn: Callable[[str], None] | None = None) -> Path:
    """Answer the claims of folder ``out`` and write ``out/report.html``; its path."""
    found = answers(out)
    if warn is not None:
        for line in found.warnings:
            warn(line)
    path = Path(out) / "report.html"
    write_html(path, render_answers(found))
    return path


def _fmt(x: float, unit: str = "") -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:+.3g}{unit}"


def _unit(a: ClaimAnswer) -> str:
    return "%" if a.relative else ""


def _rule(a: ClaimAnswer) -> str:
    sign = ">" if a.direction == "increase" else "<"
    bound = a.threshold if a.direction == "increase" else -a.threshold
    what = "relative change" if a.relative else "difference"
    return f"{what} of {a.output}, {a.scenario} − {a.counterfactual}, {sign} {bound:+g}{_unit(a)}"


def render_answers(found: Answers) -> str:
    """The page's HTML."""
    import market_sim

    m = found.manifest
    folder = str(found.folder)
    sections = [_answers_section(found, folder), _counterfactuals_section(found)]
    for a in found.claims:
        sections.append(_claim_section(found, a, folder))
    sections.append(_method_section(found))
    verdicts = pd.Series([a.verdict for a in found.claims]).value_counts()
    over = f"ensemble {Path(m['ensemble']).name}" if m.get("ensemble") else f"sweep {m['name']}"
    cards = [
        Card("Claims", f"{len(found.claims)}", over),
        Card("Hold", f"{int(verdicts.get('holds', 0))}", f"P(holds) >= {HOLDS_AT:.0%}"),
        Card(
            "Do not hold", f"{int(verdicts.get('does not hold', 0))}", f"P(holds) <= {FAILS_AT:.0%}"
        ),
        Card("Undecided", f"{int(verdicts.get('undecided', 0))}", "in between"),
        Card(
            "Paired runs",
            f"{len(m['design'])} x {m['replicates']}",
            "parameter sets x seeds, per claim",
        ),
    ]
    if found.warnings:
        cards.append(Card("Run files left out", f"{len(found.warnings)}", "see the warnings"))
    return render_page(
        title="Answers to the claims",
        subtitle=m.get("description") or "",
        cards=cards,
        sections=sections,
        generated_by=f"market_sim {market_sim.__version__}",
    )


def _answers_section(found: Answers, folder: str) -> Section:
    rows, classes, queries = [], [], []
    for a in found.claims:
        u = _unit(a)
        rows.append(
            {
                "claim": a.text,
                "counterfactual": a.counterfactual,
                "verdict": a.verdict,
                "effect (median)": _fmt(a.effect, u),
                "90% interval (parameter sets x seeds)": f"{_fmt(a.p05, u)} to {_fmt(a.p95, u)}",
                "parameter sets (5-95% of means)": (
                    f"{_fmt(a.members_p05, u)} to {_fmt(a.members_p95, u)}"
                ),
                "model noise (5-95% around a set's mean)": (
                    f"{_fmt(a.noise_p05, u)} to {_fmt(a.noise_p95, u)}"
                ),
                "P(holds)": f"{a.probability:.0%}" if math.isfinite(a.probability) else "—",
                "pairs": a.pairs,
                "what decides it": found.sensitivity[a.id].decides(),
            }
        )
        classes.append(
            "ok" if a.verdict == "holds" else "bad" if a.verdict == "does not hold" else "muted"
        )
        queries.append(
            join(
                paragraph(f"{a.id}: {_rule(a)}; {a.why}."),
                preformatted(command(folder, answer_sql(a.to_dict()))),
            )
        )
    warn = [paragraph("Warning: " + w) for w in found.warnings]
    body = join(
        paragraph(
            "Each claim is the difference of one output between its scenario and its "
            "counterfactual, run in pairs with the same parameter set and the same seed. "
            "The effect is the median over the pairs. The 90% interval covers the parameter "
            "sets that fit the record (the calibrated ensemble) and the model's noise "
            "(startup draws, across seeds); its two parts are shown beside it. It does not "
            "cover structural uncertainty (the model's form and its fixed inputs) and it is "
            "not a confidence interval for the median. The calibrated ensemble's members "
            "are close to one another (its 5-95% range covers few of the observed facts, "
            "docs/calibration.md), so the parameter part of the interval is likely too "
            "narrow. P(holds) is the share of pairs whose "
            f"difference passes the claim's threshold. Verdict: holds at P >= {HOLDS_AT:.0%}, "
            f"does not hold at P <= {FAILS_AT:.0%}, undecided in between or with fewer than "
            f"{MIN_PAIRS} pairs."
        ),
        *warn,
        table_html(pd.DataFrame(rows), row_classes=classes),
        details(
            "The query behind each row (run it to reproduce the numbers)", join(*queries), False
        ),
    )
    return Section("answers", "Answers", body)


def _scenario_description(found: Answers, label: str) -> str:
    from market_sim.scenario.loader import read_toml

    file = found.manifest["scenarios"].get(label)
    try:
        sim = read_toml(Path(file)).get("simulation", {})
    except Exception:  # a moved file: the label is still shown
        return ""
    return str(sim.get("description", "")) if isinstance(sim, dict) else ""


def _counterfactuals_section(found: Answers) -> Section:
    rows = []
    used: dict[str, list[str]] = {}
    for a in found.claims:
        used.setdefault(a.counterfactual, []).append(a.id)
    for label, ids in used.items():
        rows.append(
            {
                "counterfactual": label,
                "what it changes": _scenario_description(found, label),
                "file": found.manifest["scenarios"].get(label, ""),
                "claims": ", ".join(ids),
            }
        )
    body = join(
        paragraph(
            "Each claim names the counterfactual it is measured against; a different "
            "counterfactual isolates a different part of Meta's plan (docs/claims.md)."
        ),
        table_html(pd.DataFrame(rows)),
    )
    return Section("counterfactuals", "Counterfactuals", body)


def _claim_section(found: Answers, a: ClaimAnswer, folder: str) -> Section:
    claim = a.to_dict()
    output = next(o for o in found.manifest["outputs"] if o["name"] == a.output)
    metric = output["metric"]
    parts = [
        paragraph(f"{a.text}. Test: {_rule(a)}. Verdict: {a.verdict} ({a.why})."),
        paragraph(
            f"Output: {output.get('label') or a.output} ({metric}, window {output['window']}, "
            f"{output['agg']}). {a.members} parameter sets x up to {a.seeds} seeds = "
            f"{a.pairs} pairs; {a.excluded} pairs left out (a failed run or no value)."
        ),
    ]
    weekly = SweepStore(found.folder).query(weekly_sql(claim, metric))
    if not weekly.empty:
        fig = _weekly_figure(weekly, a, metric, output["window"])
        parts += [
            figure_html(fig, f"claim-{a.id}-weekly", weekly),
            details("Query", preformatted(command(folder, weekly_sql(claim, metric)))),
        ]
    points = found.points[a.id]
    if not points.empty:
        parts += [
            figure_html(_members_figure(points, a), f"claim-{a.id}-members", points),
            details("Query", preformatted(command(folder, members_sql(claim)))),
        ]
        scatter = _scatter_figure(found, points, a)
        if scatter is not None:
            parts.append(figure_html(scatter, f"claim-{a.id}-parameters", points))
    sens = found.sensitivity[a.id]
    if not sens.table.empty:
        t = sens.table.rename(
            columns={"index": sens.method, "conf": "± (95% bootstrap)", "rho": "Spearman rho"}
        )
        parts += [
            paragraph(
                f"What decides it ({sens.method} of the difference, by parameter): {sens.note}."
            ),
            table_html(t, float_format="{:.3f}"),
        ]
    else:
        parts.append(paragraph(f"What decides it: no indices ({sens.note})."))
    return Section(f"claim-{a.id}", f"Claim: {a.id}", join(*parts))


def _weekly_figure(weekly: pd.DataFrame, a: ClaimAnswer, metric: str, window: str) -> go.Figure:
    x = pd.to_datetime(weekly["date"]).dt.strftime("%Y-%m-%d").tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=weekly["p95"], line={"width": 0}, showlegend=False))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=weekly["p05"],
            fill="tonexty",
            fillcolor=BAND,
            line={"width": 0},
            name="90% of pairs",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=weekly["p50"], line={"color": LINE}, name="median"))
    fig.add_hline(y=0, line={"color": "#888", "dash": "dot"})
    w = parse_window(window)
    if w.kind == "calendar":  # shade the claim's window
        start, end = window_bounds(w.date, w.calendar)
        fig.add_vrect(
            x0=str(start.date()), x1=str(end.date()), fillcolor="#ddd", opacity=0.4, line_width=0
        )
    title = plot_text(f"{a.id}: weekly {metric}, {a.scenario} − {a.counterfactual}")
    return styled(fig, title, plot_text(metric))


def _members_figure(points: pd.DataFrame, a: ClaimAnswer) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Histogram(x=points["mean_delta"], name="parameter sets", marker={"color": LINE})
    )
    bound = a.threshold if a.direction == "increase" else -a.threshold
    fig.add_vline(x=bound, line={"color": "#c00", "dash": "dash"})
    fig.add_vline(x=0, line={"color": "#888", "dash": "dot"})
    title = plot_text(
        f"{a.id}: each parameter set's mean difference (threshold {bound:+g}{_unit(a)})"
    )
    fig = styled(fig, title, "parameter sets")
    fig.update_xaxes(title_text=plot_text(f"difference{' (%)' if a.relative else ''}"))
    return fig


MAX_SCATTER = 6
"""Parameters drawn against a claim's difference (the first ones that vary)."""


def _base_values(found: Answers) -> dict[str, float]:
    """The base scenario's own value of each numeric parameter (the historical value of
    the calibrated baseline), where it can be read."""
    from market_sim.experiment.paths import value_at
    from market_sim.scenario import load_scenario

    m = found.manifest
    try:
        data = load_scenario(m["scenarios"][m["base"]], m.get("set") or ()).model_dump()
    except Exception:  # a moved or changed file: no marks, the charts stand
        return {}
    out = {}
    for p in m["parameters"]:
        v = value_at(data, p["path"])
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[p["path"]] = float(v)
    return out


def _scatter_figure(found: Answers, points: pd.DataFrame, a: ClaimAnswer) -> go.Figure | None:
    """Each parameter set's mean difference against each varied parameter, the base
    scenario's value marked (dotted) and the threshold (dashed)."""
    from plotly.subplots import make_subplots

    names = [
        p["path"]
        for p in found.manifest["parameters"]
        if not p["categorical"]
        and p["path"] in points.columns
        and points[p["path"]].astype(float).nunique() > 1
    ][:MAX_SCATTER]
    if not names:
        return None
    base = _base_values(found)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[plot_text(n) for n in names])
    bound = a.threshold if a.direction == "increase" else -a.threshold
    for k, name in enumerate(names):
        r, c = k // cols + 1, k % cols + 1
        fig.add_trace(
            go.Scatter(
                x=points[name],
                y=points["mean_delta"],
                mode="markers",
                marker={"color": LINE},
                name=plot_text(name),
                showlegend=False,
            ),
            row=r,
            col=c,
        )
        fig.add_hline(y=bound, line={"color": "#c00", "dash": "dash"}, row=r, col=c)
        if name in base:
            fig.add_vline(x=base[name], line={"color": "#333", "dash": "dot"}, row=r, col=c)
    title = plot_text(
        f"{a.id}: mean difference by parameter (dotted: the base scenario's value; "
        f"dashed: threshold {bound:+g}{_unit(a)})"
    )
    return styled(fig, title, "", height=300 * rows)


def _method_section(found: Answers) -> Section:
    m = found.manifest
    params = pd.DataFrame(
        [{"parameter": p["path"], "values": p["describe"]} for p in m["parameters"]]
    )
    body = join(
        paragraph(
            f"Sample points: {len(m['design'])} ({m['sampler']}"
            + (f", from {m['ensemble']}" if m.get("ensemble") else "")
            + f"), each run with {m['replicates']} seeds in every scenario; seeds from root "
            f"{m['seed']}. Overrides for every run: {', '.join(m['set']) or 'none'}."
        ),
        table_html(params) if not params.empty else paragraph("No parameters vary."),
    )
    return Section("method", "How these were computed", body)


def answers_table(found: Answers) -> list[dict[str, Any]]:
    """The answers as plain rows (for the terminal)."""
    return found.frame().to_dict("records")
