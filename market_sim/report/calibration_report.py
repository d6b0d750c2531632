"""The calibration report: how the search went, where the parameters landed, and every
fact before and after, in and out of sample (``OUT/report.html`` of ``market-sim
calibrate``). Reads the calibration folder's files; never runs a model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from market_sim.facts import load_facts
from market_sim.facts.score import band
from market_sim.fileio import write_text
from market_sim.problems import LineError
from market_sim.report import figures as F
from market_sim.report.page import (
    Card,
    Section,
    figure_html,
    join,
    links,
    paragraph,
    preformatted,
    render_page,
    table_html,
)


class CalibrationReportError(LineError):
    """A calibration folder the report cannot read."""


def _read(out: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    try:
        info = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
        trials = pd.read_parquet(out / "evaluations.parquet")
        validation = pd.read_parquet(out / "validation.parquet")
        stem = Path(info["settings"]["scenario_file"]).stem
        members = pd.read_parquet(out / f"{stem}.ensemble.parquet")
    except (OSError, ValueError, KeyError) as err:
        raise CalibrationReportError(
            f"{out}: not a finished calibration folder ({str(err)[:200]}); run "
            "`market-sim calibrate` (with --resume to finish it)"
        ) from None
    return info, trials, validation, members


def objective_figure(trials: pd.DataFrame) -> go.Figure:
    """Each evaluation's objective (log scale) and the best so far."""
    ok = trials[np.isfinite(trials["objective"].astype(float))]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=ok["number"],
            y=ok["objective"],
            mode="markers",
            name="evaluation",
            marker={"size": 5, "color": "#9aa5b1"},
        )
    )
    best = ok["objective"].cummin()
    fig.add_trace(
        go.Scatter(
            x=ok["number"],
            y=best,
            mode="lines",
            name="best so far",
            line={"color": "#c43d3d", "width": 2},
        )
    )
    F.styled(fig, "Objective by evaluation (0: every in-sample fact inside its band)")
    fig.update_yaxes(type="log", title_text="objective (mean band distance)")
    fig.update_xaxes(title_text="evaluation")
    return fig


def parameter_figure(params: list[dict], members: pd.DataFrame, start: dict) -> go.Figure:
    """Each parameter's bounds (0-1 across), the ensemble's range, the best and the start."""
    fig = go.Figure()
    names = [p["path"] for p in params]

    def scaled(p: dict, v: float) -> float:
        lo, hi = p["low"], p["high"]
        if p["scale"] == "log":
            return (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (v - lo) / (hi - lo)

    for i, p in enumerate(params):
        col = members[p["path"]].astype(float)
        lo, hi = scaled(p, float(col.min())), scaled(p, float(col.max()))
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[i, i],
                mode="lines",
                showlegend=i == 0,
                name="ensemble range",
                line={"color": "#2f6fb2", "width": 8},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[scaled(p, float(col.iloc[0]))],
                y=[i],
                mode="markers",
                showlegend=i == 0,
                name="best",
                marker={"color": "#c43d3d", "size": 11},
            )
        )
        if p["path"] in start:
            fig.add_trace(
                go.Scatter(
                    x=[scaled(p, float(start[p["path"]]))],
                    y=[i],
                    mode="markers",
                    showlegend=i == 0,
                    name="scenario as given",
                    marker={"color": "#1f2933", "symbol": "x", "size": 10},
                )
            )
    F.styled(fig, "Fitted parameters within their bounds", height=120 + 42 * len(params))
    fig.update_xaxes(
        range=[-0.03, 1.03], title_text="position within the bounds (log scale where set)"
    )
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names, autorange="reversed")
    fig.update_layout(hovermode="closest")
    return fig


def facts_table(validation: pd.DataFrame, facts: pd.DataFrame, in_sample: set[str]) -> pd.DataFrame:
    """One row per fact: sample, band, observed, before, best, ensemble 5-95%, status."""
    rows = []
    info = facts.set_index("fact_id")
    for fid, part in validation.groupby("fact_id", sort=False):
        fact = info.loc[fid]
        lo, hi = band(float(fact["value"]), float(fact["low"]), float(fact["high"]))
        before = part[part["member"] == -1]["simulated"]
        best = part[part["member"] == 0]["simulated"]
        members = part[part["member"] >= 0]["simulated"].astype(float)
        q5, q95 = (
            np.nanpercentile(members, [5, 95]) if members.notna().any() else (math.nan, math.nan)
        )
        b, a = float(before.iloc[0]), float(best.iloc[0])
        rows.append(
            {
                "fact": fid,
                "metric": fact["metric_key"],
                "date": fact["date"],
                "sample": "in" if fid in in_sample else "out",
                "band": f"{lo:,.4g}–{hi:,.4g}",
                "observed": float(fact["value"]),
                "before": b,
                "after (best)": a,
                "ensemble 5–95%": f"{q5:,.4g}–{q95:,.4g}",
                "before ok": "inside" if lo <= b <= hi else "outside",
                "after ok": "inside" if lo <= a <= hi else "outside",
                "covered": "yes" if q5 <= float(fact["value"]) <= q95 else "no",
            }
        )
    return pd.DataFrame(rows)


def shares_figure(summary: dict) -> go.Figure:
    fig = go.Figure()
    for label, key, colour in (("before", "before", "#9aa5b1"), ("after", "after", "#2f6fb2")):
        y = [
            100 * summary[f"in_sample_inside_{key}"] / max(1, summary["in_sample_n"]),
            100 * summary[f"out_sample_inside_{key}"] / max(1, summary["out_sample_n"]),
        ]
        fig.add_trace(
            go.Bar(x=["in sample", "out of sample"], y=y, name=label, marker_color=colour)
        )
    F.styled(fig, "Share of facts inside their band", "% of facts", height=340)
    fig.update_yaxes(range=[0, 100])
    return fig


def render_report(out: Path) -> str:
    info, trials, validation, members = _read(out)
    from market_sim import __version__

    s = info["summary"]
    settings = info["settings"]
    facts = load_facts(settings["facts_file"])
    ids = set(validation["fact_id"])
    in_ids = {f for f in ids if f in set(info.get("in_sample", []))} or _in_sample(info, facts)
    table = facts_table(validation, facts[facts["fact_id"].isin(ids)], in_ids)
    classes = ["outside" if v == "outside" else "" for v in table["after ok"]]
    cards = [
        Card("Calibration", info["id"], f"{len(trials)} evaluations"),
        Card(
            "In sample, inside",
            f"{s['in_sample_inside_after']}/{s['in_sample_n']}",
            f"before: {s['in_sample_inside_before']}/{s['in_sample_n']}",
        ),
        Card(
            "Out of sample, inside",
            f"{s['out_sample_inside_after']}/{s['out_sample_n']}",
            f"before: {s['out_sample_inside_before']}/{s['out_sample_n']}",
        ),
        Card(
            "Ensemble coverage",
            f"{s['coverage']}/{s['coverage_n']}",
            f"{s['ensemble_size']} members; observed within their 5–95%",
        ),
    ]
    if "coverage_predictive_out_sample" in s:  # calibrations since the discrepancy
        cards.append(
            Card(
                "Predictive coverage",
                f"{s['coverage_predictive_in_sample']}/{s['in_sample_n']} in, "
                f"{s['coverage_predictive_out_sample']}/{s['out_sample_n']} out of sample",
                "members' range with the model's discrepancy (sd "
                + (f"{s['discrepancy_sd']:.2f}" if s["discrepancy_sd"] is not None else "n/a")
                + " log units, measured on the fitted facts, each leaving itself out)",
            )
        )
    until = settings.get("until") or "no cut-off (every fact is in sample)"
    explain = (
        f"Fitted facts: role '{settings['role']}', windows ending by {until}; later facts "
        "are scored out of sample, never fitted. 'before' is the scenario as given, 'after' "
        "the best parameter set, both over the whole horizon and averaged over "
        f"{len(settings['seeds'])} seed(s). The ensemble is every evaluation within the "
        "stated tolerance of the best (at least its size): parameter sets that fit about "
        "equally well. Its 5–95% range is across members and shows parameter "
        "uncertainty as the facts leave it, not model noise, and not the model's "
        "structural error. The predictive range adds that error: each member's value times "
        "exp(e), e normal with the root mean square of the fitted facts' log errors "
        "(a fitted fact's own error left out), so out-of-sample facts are scored with "
        "errors measured only on the fitted ones."
    )
    params = info["parameters"]
    ptable = pd.DataFrame(
        [
            {
                "parameter": p["path"],
                "bounds": f"{p['low']:g}–{p['high']:g} ({p['scale']})",
                "as given": info["start"].get(p["path"], math.nan),
                "best": float(members[p["path"]].iloc[0]),
                "ensemble min": float(members[p["path"]].min()),
                "ensemble max": float(members[p["path"]].max()),
            }
            for p in params
        ]
    )
    files = [
        (info["calibrated"], f"{info['calibrated']} (the calibrated scenario)"),
        (info["ensemble"], f"{info['ensemble']} (the ensemble; run with --ensemble)"),
        ("evaluations.parquet", "evaluations.parquet (every evaluation)"),
        ("validation.parquet", "validation.parquet (every fact, scenario as given and members)"),
        ("calibration.json", "calibration.json (settings and summary)"),
    ]
    sections = [
        Section(
            "fit",
            "Facts before and after",
            join(
                paragraph(explain),
                figure_html(shares_figure(s), "cal-shares"),
                table_html(table, sortable=True, float_format="{:,.4g}", row_classes=classes),
            ),
        ),
        Section("search", "The search", figure_html(objective_figure(trials), "cal-objective")),
        Section(
            "parameters",
            "Parameters",
            join(
                figure_html(parameter_figure(params, members, info["start"]), "cal-parameters"),
                table_html(ptable, float_format="{:,.4g}"),
            ),
        ),
        Section(
            "appendix", "Appendix", join(links(files), preformatted(json.dumps(settings, indent=1)))
        ),
    ]
    return render_page(
        title=f"market_sim calibration: {Path(settings['scenario_file']).name}",
        subtitle=f"{info['id']}: {len(params)} parameters, {len(trials)} evaluations",
        cards=cards,
        sections=sections,
        generated_by=f"market_sim {__version__} (calibration report)",
    )


def _in_sample(info: dict, facts: pd.DataFrame) -> set[str]:
    from market_sim.experiment.calibration.objective import select_facts

    until = info["settings"].get("until")
    ins, _ = select_facts(facts, info["settings"]["role"], pd.Timestamp(until) if until else None)
    return set(ins["fact_id"])


def write_report(out: Path) -> Path:
    """Write ``OUT/report.html`` for a calibration folder; returns its path."""
    path = Path(out) / "report.html"
    write_text(path, render_report(Path(out)))
    return path
