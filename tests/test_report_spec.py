"""Charts as plotly.js figure dicts (market_sim.report.figure_spec): the dicts the run
report builds are the figures plotly's graph_objects built for the same calls."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


def _plotlys_encoding(value: object) -> object:
    from _plotly_utils.utils import to_typed_array_spec

    return to_typed_array_spec(value)


def _same(ours: object, theirs: object) -> bool:
    """Equal typed-array specs, or (where plotly keeps an array) arrays with the same
    dtype, shape and values."""
    if isinstance(theirs, np.ndarray):
        return (
            isinstance(ours, np.ndarray)
            and ours.dtype == theirs.dtype
            and ours.shape == theirs.shape
            and np.array_equal(ours, theirs, equal_nan=ours.dtype.kind in "fc")
        )
    return type(ours) is type(theirs) and ours == theirs


INT_BOUNDS = [
    (0, 1),
    (-128, 127),
    (-129, 127),
    (0, 128),
    (-32768, 32767),
    (-32769, 0),
    (0, 32768),
    (-(2**31), 2**31 - 1),
    (-(2**31) - 1, 0),
    (0, 2**31),
    (-(2**63), 2**63 - 1),
]
UINT_BOUNDS = [
    (0, 255),
    (0, 256),
    (0, 65535),
    (0, 65536),
    (0, 2**32 - 1),
    (0, 2**32),
    (0, 2**64 - 1),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint64", "uint32", "uint8"])
@pytest.mark.parametrize("bounds", INT_BOUNDS + UINT_BOUNDS)
def test_typed_array_is_plotlys_on_integer_ranges(dtype: str, bounds: tuple[int, int]) -> None:
    from market_sim.report.figure_spec import typed_array

    info = np.iinfo(dtype)
    lo, hi = max(bounds[0], info.min), min(bounds[1], info.max)
    for values in ([lo, hi], [hi], [lo], [lo, hi, lo, hi, 0 if lo <= 0 <= hi else lo]):
        arr = np.array(values, dtype=dtype)
        assert _same(typed_array(arr), _plotlys_encoding(arr)), (dtype, values)


@pytest.mark.parametrize(
    "arr",
    [
        np.array([1.0, np.nan, -np.inf, np.inf, -0.0, 5e-324, 1.7976931348623157e308]),
        np.array([1.5, 2.5], dtype=np.float32),
        np.array([1.5, 2.5], dtype=np.float16),
        np.array([1.5, 2.5], dtype=">f8"),
        np.array([1, 2], dtype=">i8"),
        np.array([True, False, True]),
        np.array([1 + 2j, 3j]),
        np.array(["2024-01-01", "2024-01-08"], dtype="datetime64[D]"),
        np.array(["a", "b"]),
        np.array([1, "a", None], dtype=object),
        np.array([], dtype=np.float64),
        np.array([], dtype=np.int64),
        np.zeros((0, 3)),
        np.array(2.5),
        np.array(7),
        np.arange(12.0).reshape(3, 4),
        np.arange(12, dtype=np.int64).reshape(3, 4),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.arange(24.0).reshape(2, 3, 4),
        np.arange(20.0)[::3],
        np.arange(20, dtype=np.int64)[::-2],
        np.arange(40, dtype=np.uint64).reshape(5, 8)[1:4, ::3],
        np.arange(12.0).reshape(3, 4).T,
    ],
    ids=lambda a: f"{a.dtype}-{a.shape}",
)
def test_typed_array_is_plotlys_on_other_arrays(arr: np.ndarray) -> None:
    from market_sim.report.figure_spec import typed_array

    assert _same(typed_array(arr), _plotlys_encoding(arr))


def test_typed_array_leaves_other_values_to_plotly() -> None:
    import pandas as pd

    from market_sim.report.figure_spec import typed_array

    series = pd.Series([1.0, 2.0, 3.0])
    assert typed_array(series) == _plotlys_encoding(series)
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    assert _same(typed_array(masked), _plotlys_encoding(masked))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint8"]),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), min_size=0, max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=12),
    st.sampled_from([None, (1, -1), (-1, 2)]),
    st.integers(min_value=1, max_value=3),
)
def test_typed_array_is_plotlys_on_generated_arrays(
    dtype: str, ints: list[int], floats: list[float], shape: tuple[int, int] | None, step: int
) -> None:
    from market_sim.report.figure_spec import typed_array

    if np.dtype(dtype).kind == "f":
        with np.errstate(over="ignore"):  # large floats to float32: inf
            arr = np.array(floats, dtype=np.float64).astype(dtype)
    else:
        info = np.iinfo(dtype)
        arr = np.array([min(max(i, info.min), info.max) for i in ints], dtype=dtype)
    if shape is not None and arr.size % 2 == 0 and arr.size:
        arr = arr.reshape(shape)
    arr = arr[::step]
    assert _same(typed_array(arr), _plotlys_encoding(arr))
