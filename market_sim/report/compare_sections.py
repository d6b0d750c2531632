"""Two sections of the comparison report: the claims' outputs (windowed outputs of a
claims file, paired B - A, each claim's rule beside its output, no verdict) and the
differences over time (B - A per week: the median over the pairs and a 5-95% band).

The numbers come from :mod:`market_sim.experiment.compare_claims` and
:mod:`market_sim.runs.compare_weekly`; this module only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from market_sim.experiment.compare_claims import (
    ClaimOutputs,
    output_unit,
    pairing_text,
    rule_text,
)
from market_sim.outcomes.catalogue import UNITS, label_of
from market_sim.report import figures as F
from market_sim.report.page import (
    Section,
    figure_html,
    join,
    paragraph,
    plot_text,
    table_html,
)
from market_sim.runs.compare import Arm
from market_sim.runs.compare_weekly import band_note, main_keys

VERDICT_NOTE = "For a verdict with intervals use `market-sim claims`."


def rgba(hex_colour: str, alpha: float) -> str:
    """``#rrggbb`` as a CSS ``rgba(...)`` colour with opacity ``alpha``."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def band_trace(
    x: list[str], lo: np.ndarray, hi: np.ndarray, colour: str, name: str = ""
) -> go.Scatter:
    """A shaded band between ``lo`` and ``hi`` (a closed polygon, no legend entry)."""
    return go.Scatter(
        x=x + x[::-1],
        y=np.concatenate([hi, lo[::-1]]),
        fill="toself",
        fillcolor=rgba(colour, 0.15),
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        mode="lines",
        name=plot_text(name) if name else None,
    )


# --------------------------------------------------------------------------- claims


def claims_section(
    arms: Sequence[Arm],
    claims: ClaimOutputs | None,
    table: pd.DataFrame | None,
    shown_and_classes: tuple[pd.DataFrame, list[str]] | None,
) -> Section:
    """ "The claims' outputs": each output's paired difference with the claims' rules
    beside it (``table`` is :func:`market_sim.experiment.compare_claims.claim_deltas`,
    ``shown_and_classes`` its display form from the headline table's formatter)."""
    if claims is None or table is None or shown_and_classes is None:
        return Section(
            "claims",
            "The claims' outputs",
            paragraph(
                "No claims file was read (none named claims.toml beside the first "
                "scenario, or --claims none). Pass --claims FILE to add the claims' "
                "windowed outputs. " + VERDICT_NOTE
            ),
        )
    shown, classes = shown_and_classes
    shown = shown.copy()
    a_file = arms[0].scenario_file
    b_files = {x.label: x.scenario_file for x in arms[1:]}
    rules = []
    for r in table.itertuples(index=False):
        texts = [
            f"{c.id}: {rule_text(c, r.unit)} ({pairing_text(c, a_file, b_files.get(r.b, ''))})"
            for c in claims.claims_of(r.outcome)
        ]
        rules.append("; ".join(texts) or "no claim on this output")
    shown.insert(1, "metric, window, agg", [f"{m}, {w}, {g}" for m, w, g in _spec(table)])
    shown["claims' rules (no verdict)"] = rules
    intro = (
        f"The outputs of the claims file {claims.file}"
        + (f" ({claims.description})" if claims.description else "")
        + ", each reduced from every run over its window with the sweeps' reducer (the "
        "facts rules: the mean of a level, the sum of a flow, the last value of a stock, "
        "the ratio of sums for shares and margins; n/a where the runs do not cover the "
        "window), then paired and summarised like the headline deltas. Each claim's rule "
        "(direction and threshold, stated as scenario minus counterfactual; relative "
        "thresholds in % of the counterfactual, compare 'change') is shown next to its "
        "output's difference, with no verdict here; the arms are matched to a claim's "
        "scenario and counterfactual by file name, whatever overrides they carry (see the "
        "inputs table). " + VERDICT_NOTE
    )
    return Section(
        "claims",
        "The claims' outputs (B − A)",
        join(paragraph(intro), table_html(shown, sortable=True, row_classes=classes)),
    )


def _spec(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(zip(table["metric"], table["window"], table["agg"], strict=True))


# --------------------------------------------------------------------------- over time


def _panel_title(key: str) -> str:
    unit = output_unit(key)
    return f"{label_of(key)} [{UNITS.get(unit, unit)}]" if unit else label_of(key)


def difference_figure(
    weekly: pd.DataFrame, keys: Sequence[str], title: str, marks: Sequence[F.Mark], cols: int = 2
) -> go.Figure:
    """One panel per metric key: for each B arm, the median of B - A over the pairs per
    week (a line) and the 5-95% band of the pairs (shaded, when there are two or more),
    with a dotted zero line; ``weekly`` is
    :func:`market_sim.runs.compare_weekly.weekly_deltas`."""
    keys = [k for k in keys if (weekly["metric"] == k).any()]
    cols = max(1, min(cols, len(keys)))
    rows = max(1, math.ceil(len(keys) / cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=True,
        subplot_titles=[plot_text(_panel_title(k)) for k in keys] or None,
        vertical_spacing=min(0.14, 0.5 / rows) if rows > 1 else 0.1,
        horizontal_spacing=0.08,
    )
    b_labels = list(dict.fromkeys(weekly["b"]))
    for k, key in enumerate(keys):
        r, c = k // cols + 1, k % cols + 1
        for i, b in enumerate(b_labels):
            rows_of = weekly[(weekly["metric"] == key) & (weekly["b"] == b)]
            if rows_of.empty:
                continue
            colour = F.PALETTE[i % len(F.PALETTE)]
            x = rows_of["date"].astype(str).tolist()
            name = f"{b} − {rows_of['a'].iloc[0]}"
            if int(rows_of["n"].max()) > 1:
                lo, hi = rows_of["p05"].to_numpy(float), rows_of["p95"].to_numpy(float)
                fig.add_trace(band_trace(x, lo, hi, colour, f"{name} 5-95%"), row=r, col=c)
            fig.add_trace(
                F.line(
                    x,
                    rows_of["p50"].to_numpy(float),
                    name,
                    legendgroup=b,
                    showlegend=k == 0,
                    line={"color": colour, "width": 1.6},
                ),
                row=r,
                col=c,
            )
        fig.add_hline(y=0, line={"color": "#52606d", "width": 1, "dash": "dot"}, row=r, col=c)
    F.styled(fig, title, height=120 + 240 * rows)
    fig.update_layout(
        hovermode="x unified", legend={"orientation": "h", "y": -0.08}, margin={"t": 80}
    )
    return F.add_marks(fig, marks)


def differences_section(
    arms: Sequence[Arm],
    weekly: pd.DataFrame,
    claims: ClaimOutputs | None,
    marks: Sequence[F.Mark],
) -> Section | None:
    """ "Differences over time": the main weekly metrics' and the claims' metrics' B - A
    per week (None when the runs record none of them)."""
    if weekly.empty:
        return None
    note = band_note(arms)
    main = main_keys(arms[0].scenario)
    claim_keys = [o.metric for o in claims.outputs] if claims is not None else []
    claim_only = [k for k in dict.fromkeys(claim_keys) if k not in main]
    parts = [
        paragraph(
            "B minus A week by week, for each pair of runs (the same seed, and with an "
            "ensemble the same member), then summarised over the pairs: the line is the "
            "median difference, the shaded band the 5th to 95th percentile of the pairs. "
            f"Here: {note}. Without --ensemble the band is seed noise only; with it, the "
            "ensemble's parameter sets x the seeds. It is the spread of the pairs, not a "
            "confidence interval for the median. The numbers are in deltas_weekly.csv "
            "(metric, date, p05, p50, p95, n)."
        )
    ]
    for div, keys, what in (
        ("diff-main", main, "main outcomes"),
        ("diff-claims", claim_only, "the claims' metrics"),
    ):
        data = weekly[weekly["metric"].isin(keys)]
        if data.empty:
            continue
        fig = difference_figure(weekly, keys, f"B − A by week, {what} ({note})", marks)
        parts.append(figure_html(fig, div, data=data.reset_index(drop=True)))
    return Section("differences", "Differences over time (B − A)", join(*parts))
