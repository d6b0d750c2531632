"""The data behind a chart as a table: what a report's "download data" link holds.

:func:`figure_frame` reads a figure's traces (a plotly.js figure dict or a
``plotly.graph_objects.Figure``) back into a frame. Series that share
their x values (the weekly charts) become one wide table: the x column (``date`` for
dates) and one column per series, named by its legend name. Anything else (scatter
points, box plots, heatmaps, series of different lengths) becomes a long table with one
row per point: ``series``, ``x``, ``y`` (and ``z`` for heatmaps). A shaded band (a
``fill="toself"`` polygon) becomes two series, its upper and lower edge.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from market_sim.report.figure_spec import Figure, as_spec

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _plain(text: Any) -> str:
    """A plotly label as plain text (entities decoded, ``<br>`` as a space, tags dropped)."""
    text = re.sub(r"<br\s*/?>", " ", str(text))
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _values(v: Any) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, np.ndarray):
        return v.tolist()
    return list(v)


def _series(traces: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Any], list[Any]]]:
    """(name, x, y) of every trace with y values; bands split into upper and lower."""
    out: list[tuple[str, list[Any], list[Any]]] = []
    for i, t in enumerate(traces):
        y = _values(t.get("y"))
        if not y:
            continue
        x = _values(t.get("x")) or list(range(len(y)))
        name = _plain(t["name"]) if t.get("name") else f"series {i + 1}"
        axis = t.get("yaxis")
        if axis not in (None, "y"):
            name = f"{name} [{axis}]"
        if t.get("fill") == "toself" and len(x) == len(y) and len(y) % 2 == 0:
            half = len(y) // 2
            out.append((f"{name} (upper)", x[:half], y[:half]))
            out.append((f"{name} (lower)", x[half:][::-1], y[half:][::-1]))
            continue
        out.append((name, x, y))
    return out


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _is_dates(x: Sequence[Any]) -> bool:
    return bool(x) and all(
        isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", v) for v in x[:3]
    )


def _heatmap_frame(traces: Sequence[Mapping[str, Any]]) -> pd.DataFrame | None:
    maps = [t for t in traces if t.get("type") == "heatmap" and t.get("z") is not None]
    if not maps:
        return None
    rows = []
    for t in maps:
        z = np.asarray(t["z"], dtype=float)
        xs = _values(t.get("x")) or list(range(z.shape[1]))
        ys = _values(t.get("y")) or list(range(z.shape[0]))
        for i, yv in enumerate(ys):
            for j, xv in enumerate(xs):
                rows.append({"y": _plain(yv), "x": _plain(xv), "z": z[i, j]})
    return pd.DataFrame(rows, columns=["y", "x", "z"])


def figure_frame(fig: Figure | go.Figure) -> pd.DataFrame:
    """The chart's data: wide (x column and a column per series) when every series has
    the same x values, else long (``series``, ``x``, ``y``); empty if it has none.
    ``fig`` is a figure dict (its arrays not yet base64-encoded) or a graph_objects
    figure."""
    traces = fig["data"] if isinstance(fig, Mapping) else as_spec(fig)["data"]
    heat = _heatmap_frame(traces)
    if heat is not None:
        return heat
    series = _series(traces)
    if not series:
        return pd.DataFrame()
    xs = [s[1] for s in series]
    same_x = all(len(s[2]) == len(xs[0]) for s in series) and all(x == xs[0] for x in xs)
    if same_x:
        first = "date" if _is_dates(xs[0]) else "x"
        columns = _unique([s[0] for s in series])
        frame = pd.DataFrame({c: s[2] for c, s in zip(columns, series, strict=True)})
        frame.insert(0, first, xs[0])
        return frame
    rows = [
        {"series": name, "x": xv, "y": yv}
        for name, x, y in series
        for xv, yv in zip(x, y, strict=False)
        if xv is not None or yv is not None
    ]
    return pd.DataFrame(rows, columns=["series", "x", "y"])
