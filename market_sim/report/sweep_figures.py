"""Plotly figures of the sweep report (built on the run report's style helpers).

Every string from a sweep or scenario file (parameter paths, output and scenario names)
goes through :func:`plot_text`, so plotly.js shows it literally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from market_sim.report.figures import PALETTE, styled
from market_sim.report.page import plot_text

COLS = 2
"""Panels per row in multi-panel figures."""


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _grid(n: int, titles: Sequence[str], cols: int = COLS) -> tuple[go.Figure, int]:
    rows = max(1, math.ceil(n / cols))
    fig = make_subplots(
        rows=rows,
        cols=min(cols, max(n, 1)),
        subplot_titles=[plot_text(t) for t in titles],
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.1,
    )
    return fig, rows


def distributions_figure(frame: pd.DataFrame, outputs: Sequence[dict], scenarios: Sequence[str]):
    """Per output, the values of every ok run as a box with its points, by scenario."""
    ok = frame[frame["status"] == "ok"]
    fig, rows = _grid(len(outputs), [o["label"] or o["name"] for o in outputs])
    for k, o in enumerate(outputs):
        r, c = divmod(k, COLS)
        for j, s in enumerate(scenarios):
            y = ok.loc[ok["scenario"] == s, o["name"]].astype(float)
            fig.add_trace(
                go.Box(
                    y=y,
                    name=plot_text(s),
                    marker_color=_colour(j),
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    legendgroup=s,
                    showlegend=k == 0,
                    hovertext=ok.loc[ok["scenario"] == s, "run_id"].tolist(),
                ),
                row=r + 1,
                col=c + 1,
            )
    fig = styled(fig, "Outcome distributions by scenario (all ok runs)", height=60 + 300 * rows)
    fig.update_layout(margin={"t": 80})
    return fig


def scatter_figure(frame: pd.DataFrame, output: dict, params: Sequence[dict], base: str):
    """One output against each parameter (base scenario runs; text values as categories)."""
    ok = frame[(frame["status"] == "ok") & (frame["scenario"] == base)]
    cols = min(4, len(params))
    fig, rows = _grid(len(params), [p["path"] for p in params], cols=cols)
    for k, p in enumerate(params):
        r, c = divmod(k, cols)
        x = ok[p["path"]].astype(str) if p["categorical"] else ok[p["path"]].astype(float)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=ok[output["name"]].astype(float),
                mode="markers",
                marker={"color": _colour(0), "size": 7, "opacity": 0.75},
                name=plot_text(output["name"]),
                showlegend=False,
                hovertext=ok["run_id"].tolist(),
            ),
            row=r + 1,
            col=c + 1,
        )
        if p["kind"] == "loguniform":
            fig.update_xaxes(type="log", row=r + 1, col=c + 1)
    title = f"{output['label'] or output['name']} against each parameter ({base})"
    fig = styled(fig, title, height=max(300, 60 + 250 * rows))
    fig.update_layout(hovermode="closest", margin={"t": 80})
    return fig


def heatmap_figure(corr: pd.DataFrame, outputs: Sequence[str], params: Sequence[str]):
    """Rank correlation (rho, or eta for text parameters) of outputs with parameters."""
    z = np.full((len(outputs), len(params)), np.nan)
    text = [["" for _ in params] for _ in outputs]
    for row in corr.itertuples(index=False):
        if row.output in outputs and row.parameter in params:
            i, j = outputs.index(row.output), params.index(row.parameter)
            z[i, j] = row.value
            text[i][j] = "" if not np.isfinite(row.value) else f"{row.measure} {row.value:.2f}"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[plot_text(p) for p in params],
            y=[plot_text(o) for o in outputs],
            text=text,
            texttemplate="%{text}",
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale="RdBu",
            colorbar={"title": {"text": "rho / eta"}},
        )
    )
    fig = styled(
        fig,
        "Parameters and outcomes: rank correlation (base scenario)",
        height=max(300, 60 + 42 * len(outputs)),
    )
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed", rangemode="normal")
    return fig


BAR_PX = 22
"""Height of one bar of a sensitivity chart, pixels (a group of two per parameter)."""


def sensitivity_figure(indices: pd.DataFrame, output: str, method: str):
    """Horizontal bars of Sobol S1/ST or Morris mu*/sigma of one output, one group per
    parameter (labels in full on the left, the chart as tall as its bars need), with 95%
    CI where known."""
    sub = indices[indices["output"] == output]
    measures = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    params = list(dict.fromkeys(sub["parameter"]))
    fig = go.Figure()
    for j, m in enumerate(measures):
        rows = sub[sub["measure"] == m]
        err = rows["conf"].to_numpy(dtype=float)
        fig.add_trace(
            go.Bar(
                y=[plot_text(p) for p in rows["parameter"]],
                x=rows["value"].to_numpy(dtype=float),
                orientation="h",
                name=m,
                marker_color=_colour(j),
                error_x={
                    "type": "data",
                    "array": np.nan_to_num(err),
                    "visible": bool(np.isfinite(err).any()),
                },
            )
        )
    label = "share of variance" if method == "sobol" else "output units per step"
    height = 140 + len(params) * len(measures) * BAR_PX
    fig = styled(fig, f"{output}: {' and '.join(measures)}", height=max(260, height))
    fig.update_layout(barmode="group", hovermode="closest", legend={"traceorder": "normal"})
    fig.update_xaxes(title_text=label, rangemode="tozero")
    fig.update_yaxes(autorange="reversed", automargin=True, rangemode="normal")
    return fig


def claim_figure(points: pd.DataFrame, claim: dict, driver: str | None, categorical: bool):
    """Each sample point's delta against the claim's most decisive parameter, coloured by
    whether the claim holds there; the threshold as a dashed line."""
    unit = "%" if claim["relative"] else ""
    bound = claim["threshold"] if claim["direction"] == "increase" else -claim["threshold"]
    fig = go.Figure()
    if driver is not None and driver in points.columns:
        x = points[driver].astype(str) if categorical else points[driver].astype(float)
        x_title = driver
    else:
        x, x_title = points["sample"], "sample point"
    for holds, colour, name in ((True, "#3a9a5b", "holds"), (False, "#c43d3d", "does not hold")):
        sel = points["holds"] == holds
        fig.add_trace(
            go.Scatter(
                x=x[sel],
                y=points.loc[sel, "delta"].astype(float),
                mode="markers",
                name=name,
                marker={"color": colour, "size": 8},
                hovertext=[f"sample {s}" for s in points.loc[sel, "sample"]],
            )
        )
    fig.add_hline(
        y=bound,
        line={"color": "#52606d", "dash": "dash"},
        annotation_text=plot_text(f"threshold {bound:+g}{unit}"),
    )
    title = f"{claim['id']}: {claim['scenario']} minus {claim['counterfactual']}"
    fig = styled(fig, title, f"delta of {claim['output']}{' (%)' if unit else ''}", height=340)
    fig.update_xaxes(title_text=plot_text(x_title))
    fig.update_yaxes(rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


def series_figure(long: pd.DataFrame, name: str, scenarios: Sequence[str]):
    """A kept weekly series: median and 10-90% band over runs, per scenario."""
    fig = go.Figure()
    for j, s in enumerate(scenarios):
        sub = long[long["scenario"] == s]
        if sub.empty:
            continue
        q = sub.groupby("date")["value"].quantile([0.1, 0.5, 0.9]).unstack()
        x = pd.to_datetime(q.index).strftime("%Y-%m-%d").tolist()
        colour = _colour(j)
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=list(q[0.9]) + list(q[0.1])[::-1],
                fill="toself",
                fillcolor=colour,
                opacity=0.18,
                line={"width": 0},
                name=plot_text(f"{s} 10-90%"),
                hoverinfo="skip",
                legendgroup=s,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=q[0.5],
                mode="lines",
                line={"color": colour},
                name=plot_text(f"{s} median"),
                legendgroup=s,
            )
        )
    return styled(fig, f"{name}: median and 10-90% of runs, by week", height=340)
