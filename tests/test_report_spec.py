"""Charts as plotly.js figure dicts (market_sim.report.figure_spec): the dicts the run
report builds are the figures plotly's graph_objects built for the same calls."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from market_sim.report import figures as F
from market_sim.report.figure_spec import (
    TEMPLATE,
    as_spec,
    axes_of,
    clean,
    columns_layout,
    new_figure,
    plotly_template,
    secondary_y_layout,
    update,
)
from market_sim.report.page import figure_html

X = ["2024-01-01", "2024-01-08", "2024-01-15"]
MARKS = [F.Mark("2024-01-08", "CoWoS <outage> & more, a label longer than 28 characters")]


def _json(spec: dict) -> dict:
    """A figure dict through plotly's JSON encoder (arrays as lists), for comparing."""
    return json.loads(pio.to_json(spec, validate=False))


def _layout(fig: go.Figure) -> dict:
    layout = as_spec(fig)["layout"]
    layout.pop("template", None)
    return layout


@pytest.mark.parametrize("cols", [1, 2, 3, 4, 5])
def test_columns_layout_is_make_subplots(cols: int) -> None:
    fig = make_subplots(rows=1, cols=cols, shared_xaxes=True, horizontal_spacing=0.08)
    assert columns_layout(cols, 0.08) == _layout(fig)
    for c in range(1, cols + 1):
        fig.add_trace(go.Scatter(y=[1]), row=1, col=c)
        t = fig.data[-1]
        assert axes_of(c) == (t.xaxis, t.yaxis)


def test_secondary_y_layout_is_make_subplots() -> None:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    assert secondary_y_layout() == _layout(fig)
    fig.add_trace(go.Scatter(y=[1]), secondary_y=False)
    fig.add_trace(go.Scatter(y=[1]), secondary_y=True)
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [axes_of(1), axes_of(1, secondary=True)]


def test_template_is_plotlys_default() -> None:
    assert plotly_template() == pio.templates[TEMPLATE].to_plotly_json()
    assert plotly_template() == go.Figure().to_dict()["layout"]["template"]


def test_clean_and_update_follow_plotlys_rules() -> None:
    assert clean({"a": None, "b": {"c": None}, "d": 0, "e": {"f": ""}}) == {"d": 0, "e": {"f": ""}}
    target = {"xaxis": {"a": 1}, "colorway": [1]}
    changes = {"xaxis": {"b": 2}, "colorway": [2, 3], "skip": None}
    assert update(target, changes) == {"xaxis": {"a": 1, "b": 2}, "colorway": [2, 3]}
    target["colorway"].append(4)
    assert changes["colorway"] == [2, 3]  # lists are copied in


def test_styled_lines_with_marks_match_graph_objects() -> None:
    y = np.array([1.0, 2.0, 3.0])
    spec = new_figure(F.line(X, y, "a <b>", line={"dash": None}, legendgroup="g"))
    F.add_marks(F.styled(spec, "Title & <more>", "units"), MARKS)
    fig = go.Figure(go.Scatter(x=X, y=y, name="a &lt;b&gt;", mode="lines", legendgroup="g"))
    F.add_marks(F.styled(fig, "Title & <more>", "units"), MARKS)
    expected = as_spec(fig)
    expected["layout"].pop("template")
    assert _json(spec) == _json(expected)
    assert spec["layout"]["yaxis"]["title"]["text"] == "units"  # a plain figure's y title


def test_subplot_figures_match_graph_objects() -> None:
    y = np.array([1.0, 2.0, 3.0])
    spec = new_figure(layout=secondary_y_layout())
    spec["data"] += [
        F.line(X, y, "left", xaxis="x", yaxis="y"),
        F.line(X, y, "right", line={"dash": "dash"}, xaxis="x", yaxis="y2"),
    ]
    F.add_marks(F.styled(spec, "Two axes"), MARKS)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=X, y=y, name="left", mode="lines"), secondary_y=False)
    fig.add_trace(
        go.Scatter(x=X, y=y, name="right", mode="lines", line={"dash": "dash"}), secondary_y=True
    )
    F.add_marks(F.styled(fig, "Two axes"), MARKS)
    expected = as_spec(fig)
    expected["layout"].pop("template")
    assert _json(spec) == _json(expected)


def _plotted(html: str) -> tuple[list, dict]:
    """The data and layout a figure_html snippet hands to Plotly.newPlot."""
    found = re.search(
        r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"', html, re.S
    )
    assert found is not None
    return json.loads(found.group(1)), json.loads(found.group(2))


def test_page_draws_a_dict_as_plotly_draws_the_figure() -> None:
    y = np.array([1.0, 2.0, 3.0])
    spec = F.add_marks(F.styled(new_figure(F.line(X, y, "a")), "T"), MARKS)
    fig = F.add_marks(F.styled(go.Figure(go.Scatter(x=X, y=y, name="a", mode="lines")), "T"), MARKS)
    html = figure_html(spec, "one")
    assert _plotted(html) == _plotted(figure_html(fig, "one"))
    assert '"bdata"' in html  # arrays base64-encoded, as go.Figure.to_dict writes them
    assert spec["data"][0]["y"] is not None and isinstance(spec["data"][0]["y"], np.ndarray)
    assert "template" not in spec["layout"]  # the caller's dict is left as it was


def test_arrays_are_encoded_as_plotly_encodes_them() -> None:
    from _plotly_utils.utils import convert_to_base64

    from market_sim.report.figure_spec import encode_arrays

    def spec() -> dict:
        y = np.array([1.0, 2.5, np.nan])
        marker = {"color": np.array([1, 2, 3]), "line": {"width": np.array([0.5, 1.0, 2.0])}}
        layout = {"xaxis": {"range": np.array([0.0, 1.0])}, "shapes": [{"x0": 1, "y": y}]}
        return {"data": [{"type": "scatter", "x": X, "y": y, "marker": marker}], "layout": layout}

    expected = spec()
    convert_to_base64(expected)
    assert _json(encode_arrays(spec())) == _json(expected)
