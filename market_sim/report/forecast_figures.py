"""Fan charts of a forecast: the median over the runs, the 50% and 90% bands, the observed
facts as points with their bands, a line at the end of the observed record and the
period after it shaded as the scenario's assumptions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from market_sim.facts import band, window_bounds
from market_sim.report import figures as F
from market_sim.report.page import plot_text

COLOUR = "#2f6fb2"
FACT_COLOUR = "#c43d3d"


def _rgba(alpha: float) -> str:
    r, g, b = (int(COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def period_x(rows: pd.DataFrame) -> list[str]:
    """x of each band row: a week's start date, a quarter's middle day."""
    out = []
    for period, date in zip(rows["period"], pd.to_datetime(rows["date"]), strict=True):
        if period == "quarter":
            end = date + pd.DateOffset(months=3)
            date = date + (end - date) / 2
        out.append(date.strftime("%Y-%m-%d"))
    return out


def _area(x: list[str], lo: np.ndarray, hi: np.ndarray, name: str, alpha: float) -> go.Scatter:
    return go.Scatter(
        x=x + x[::-1],
        y=np.concatenate([hi, lo[::-1]]),
        fill="toself",
        fillcolor=_rgba(alpha),
        line={"width": 0},
        hoverinfo="skip",
        name=name,
        mode="lines",
    )


def fact_points(
    facts: pd.DataFrame | None, key: str, first: dt.date, last: dt.date
) -> pd.DataFrame:
    """The facts of metric ``key`` whose window overlaps ``[first, last]``: x (the
    window's middle day), value, the band it is judged by (``facts.band``), and hover text."""
    rows = []
    if facts is not None and not facts.empty:
        for f in facts[facts["metric_key"].astype(str).str.strip() == key].itertuples():
            start, end = window_bounds(f.date, f.window)
            if end.date() <= first or start.date() > last:
                continue
            lo, hi = band(float(f.value), float(f.low), float(f.high))
            mid = start + (end - start) / 2
            text = f"{f.fact_id} ({f.role}, {f.window} {f.date}): {f.description}"
            rows.append(
                {"x": mid.strftime("%Y-%m-%d"), "value": float(f.value), "low": lo, "high": hi,
                 "text": plot_text(text)}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["x", "value", "low", "high", "text"])


def fan_figure(
    rows: pd.DataFrame,
    title: str,
    y_title: str,
    observed_end: dt.date,
    last_day: dt.date,
    facts: pd.DataFrame,
    marks: Sequence[F.Mark] = (),
) -> go.Figure:
    """One metric's fan chart from its band rows (``p05`` .. ``p95`` by ``date``)."""
    rows = rows.sort_values("date")
    x = period_x(rows)
    quarterly = bool((rows["period"] == "quarter").any())
    fig = go.Figure()
    p = {c: rows[c].to_numpy(dtype=float) for c in ("p05", "p25", "p50", "p75", "p95")}
    fig.add_trace(_area(x, p["p05"], p["p95"], "90% band (p05-p95)", 0.14))
    fig.add_trace(_area(x, p["p25"], p["p75"], "50% band (p25-p75)", 0.30))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=p["p50"],
            name="median",
            mode="lines+markers" if quarterly else "lines",
            line={"color": COLOUR, "width": 2},
            marker={"size": 5},
            customdata=np.stack([p["p05"], p["p25"], p["p75"], p["p95"], rows["n"]], axis=1),
            hovertemplate="median %{y:,.4g}<br>50%: %{customdata[1]:,.4g} to "
            "%{customdata[2]:,.4g}<br>90%: %{customdata[0]:,.4g} to %{customdata[3]:,.4g}"
            "<br>runs: %{customdata[4]}<extra></extra>",
        )
    )
    if not facts.empty:
        fig.add_trace(
            go.Scatter(
                x=facts["x"],
                y=facts["value"],
                name="observed (fact, with its band)",
                mode="markers",
                marker={"color": FACT_COLOUR, "size": 8, "symbol": "diamond"},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (facts["high"] - facts["value"]).to_numpy(),
                    "arrayminus": (facts["value"] - facts["low"]).to_numpy(),
                    "color": FACT_COLOUR,
                },
                text=facts["text"],
                hovertemplate="%{y:,.4g}<br>%{text}<extra></extra>",
            )
        )
    F.styled(fig, title, height=380)
    fig.update_yaxes(title_text=plot_text(y_title))
    fig.update_layout(hovermode="closest", legend={"orientation": "h", "y": -0.12})
    _shade_assumptions(fig, observed_end, last_day)
    return F.add_marks(fig, marks)


def _shade_assumptions(fig: go.Figure, observed_end: dt.date, last_day: dt.date) -> None:
    """A line at the end of the observed record; the period after it shaded and named
    (nothing when the horizon ends within the record)."""
    if last_day <= observed_end:
        return
    start = observed_end + dt.timedelta(days=1)
    fig.add_shape(
        type="line",
        xref="x",
        yref="y domain",
        x0=start.isoformat(),
        x1=start.isoformat(),
        y0=0,
        y1=1,
        line={"color": "#52606d", "width": 1.5},
    )
    fig.add_annotation(
        x=start.isoformat(),
        xref="x",
        yref="y domain",
        y=1.0,
        text=f"end of observed data ({observed_end.isoformat()})",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 10, "color": "#52606d"},
    )
    fig.add_shape(
        type="rect",
        xref="x",
        yref="y domain",
        x0=start.isoformat(),
        x1=(last_day + dt.timedelta(days=1)).isoformat(),
        y0=0,
        y1=1,
        fillcolor="rgba(242,184,128,0.16)",
        line={"width": 0},
        layer="below",
    )
    years = f"{start.year}" if start.year == last_day.year else f"{start.year}-{last_day:%y}"
    fig.add_annotation(
        x=start.isoformat(),
        xref="x",
        yref="y domain",
        y=1.0,
        text=f"{years}: scenario assumptions",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        font={"size": 10, "color": "#8c4f12"},
    )
