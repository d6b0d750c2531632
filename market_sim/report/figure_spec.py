"""Charts as plain plotly.js figures: ``{"data": [trace dicts], "layout": {...}}``.

The run report's charts are built as dicts in plotly.js's figure schema (the JSON plotly
writes into a page) rather than as ``plotly.graph_objects`` objects: an object figure
validates and deep-copies every property on every update, which cost ~0.5 s for the 18
charts of a run report; a dict costs nothing until the page is written
(:func:`market_sim.report.page.figure_html` hands it to ``plotly.io.to_html`` with
``validate=False``). The page draws the same JSON as before: the helpers below produce
what the graph_objects calls they replace produced (``make_subplots``'s axes, plotly's
default template), and ``tests/test_report_spec.py`` compares them with plotly's output.

Other reports may still pass ``go.Figure`` objects to the page; :func:`as_spec` turns
either kind into a dict.
"""

from __future__ import annotations

import base64
import copy
import functools
import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Figure = dict[str, Any]
"""A plotly.js figure as a dict: ``data`` (a list of trace dicts, each with its ``type``)
and ``layout``."""

TEMPLATE = "plotly"
"""Name of the plotly template every chart carries (plotly's default one)."""
SECONDARY_Y_WIDTH = 0.94
"""Width of the x axis (share of the plot area) when a right-hand y axis needs room
(``make_subplots(specs=[[{"secondary_y": True}]])``)."""


def clean(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` without None values and without nested dicts that end up empty (plotly
    leaves an unset property out of its JSON)."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, Mapping):
            value = clean(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace of plotly.js type ``kind`` (``"scatter"``, ``"bar"``) with ``props``
    (None values left out)."""
    return {"type": kind, **clean(props)}


def new_figure(*traces: Mapping[str, Any], layout: Mapping[str, Any] | None = None) -> Figure:
    """A figure with ``traces`` and a copy of ``layout``."""
    return {"data": [dict(t) for t in traces], "layout": copy.deepcopy(dict(layout or {}))}


def update(target: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into ``target`` in place and return it: nested dicts are merged
    key by key, any other value replaces the old one (lists too), None values are skipped
    (as plotly's ``update_layout`` does with dicts)."""
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            old = target.get(key)
            target[key] = update(old if isinstance(old, dict) else {}, value)
        else:
            target[key] = copy.copy(value) if isinstance(value, list) else value
    return target


def axis_keys(layout: Mapping[str, Any], axis: str) -> list[str]:
    """The layout's ``axis`` keys (``axis`` is ``"xaxis"`` or ``"yaxis"``): ``xaxis``,
    ``xaxis2``, ... in layout order."""
    return [k for k in layout if re.fullmatch(rf"{axis}\d*", k)]


def secondary_y_layout() -> dict[str, Any]:
    """The axes of one plot with a second y axis on the right, as
    ``make_subplots(specs=[[{"secondary_y": True}]])`` lays them out; its traces name
    ``xaxis="x"`` and ``yaxis="y"`` (left) or ``"y2"`` (right), :func:`axes_of`."""
    return {
        "xaxis": {"anchor": "y", "domain": [0.0, SECONDARY_Y_WIDTH]},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
        "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
    }


def columns_layout(cols: int, spacing: float) -> dict[str, Any]:
    """The axes of ``cols`` side-by-side plots ``spacing`` apart (a share of the width),
    as ``make_subplots(rows=1, cols=cols, horizontal_spacing=spacing)`` lays them out
    (its arithmetic, so the domains are the same floats); plot ``c`` (1-based) is drawn
    on the axes :func:`axes_of` ``(c)``."""
    width = (1.0 - spacing * (cols - 1)) / cols
    widths = [width] * cols
    layout: dict[str, Any] = {}
    for c in range(cols):
        start = sum(widths[:c]) + c * spacing
        domain = [max(0.0, start), min(1.0, start + widths[c])]
        x, y = axes_of(c + 1)
        layout["xaxis" + x[1:]] = {"domain": domain, "anchor": y}
        layout["yaxis" + y[1:]] = {"domain": [0.0, 1.0], "anchor": x}
    return layout


def axes_of(plot: int, secondary: bool = False) -> tuple[str, str]:
    """(``xaxis``, ``yaxis``) of a trace on side-by-side plot ``plot`` (1-based) of
    :func:`columns_layout`, or on the right-hand axis of :func:`secondary_y_layout`."""
    if secondary:
        return "x", "y2"
    n = "" if plot == 1 else str(plot)
    return "x" + n, "y" + n


@functools.lru_cache(maxsize=1)
def plotly_template() -> dict[str, Any]:
    """Plotly's default template (:data:`TEMPLATE`) as the dict a ``go.Figure`` carries,
    read from the JSON file plotly builds it from. Shared: do not modify it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise ImportError("plotly is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "package_data" / "templates" / f"{TEMPLATE}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _holds_containers(values: list | tuple) -> bool:
    """Whether ``values`` holds a dict, list or tuple (its item types, checked at C speed)."""
    return any(issubclass(t, Mapping | list | tuple) for t in set(map(type, values)))


def _tree_copy(value: Any) -> Any:
    """A copy of the dicts in ``value`` and of the lists that hold dicts or lists; other
    values (arrays, strings, lists of numbers or dates) are shared."""
    if isinstance(value, Mapping):
        return {k: _tree_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and _holds_containers(value):
        return [_tree_copy(v) for v in value]
    return value


_PLAIN = frozenset({str, int, float, bool, type(None), list, tuple, dict})
"""Types plotly's ``is_homogeneous_array`` never takes for an array (no ``__array__``)."""


def _narrowed(values: Any) -> Any:
    """``values`` (a C-contiguous int64 or uint64 array) in the narrowest of int8, int16
    and int32 (uint8, uint16, uint32) that holds its range, as plotly.js cannot read
    64-bit integers; None when none does (plotly then writes the array as a list)."""
    import numpy as np

    signed = values.dtype.kind == "i"
    lo, hi = values.min(), values.max()
    for bits in (8, 16, 32):
        small = np.dtype(f"{'int' if signed else 'uint'}{bits}")
        info = np.iinfo(small)
        if info.min <= lo and hi <= info.max:
            return values.astype(small)
    return None


def typed_array(value: Any) -> Any:
    """``value`` as plotly.js typed array (``{"dtype", "bdata"}``, and ``"shape"`` for
    more than one dimension), exactly as ``_plotly_utils.utils.to_typed_array_spec``
    writes it; a plain numeric numpy array is encoded here, without plotly's conversion
    through narwhals (~0.3 ms an array; the same steps: a C-order copy, 64-bit integers
    narrowed to the smallest of 8, 16 or 32 bits that holds them, the dtypes plotly.js
    reads); anything else (a pandas Series, a bool or date array, an empty array,
    integers beyond 32 bits, a float16 or big-endian array) goes to plotly's function.
    ``tests/test_report_spec.py`` compares the two on generated arrays."""
    import numpy as np
    from _plotly_utils.utils import plotlyjsShortTypes, to_typed_array_spec

    if type(value) is not np.ndarray or value.dtype.kind not in "iuf" or value.size == 0:
        return to_typed_array_spec(value)
    values = np.ascontiguousarray(value)  # plotly: np.ascontiguousarray(v.copy())
    if str(values.dtype) in ("int64", "uint64"):
        values = _narrowed(values)
        if values is None:
            return to_typed_array_spec(value)
    short = plotlyjsShortTypes.get(str(values.dtype))
    if short is None:
        return to_typed_array_spec(value)
    spec = {"dtype": short, "bdata": base64.b64encode(values).decode("ascii")}
    if values.ndim > 1:
        spec["shape"] = str(values.shape)[1:-1]
    return spec


def encode_arrays(spec: Figure) -> Figure:
    """The numpy arrays in ``spec`` (changed in place) as plotly.js typed arrays
    (``{"dtype", "bdata"}``, :func:`typed_array`), as ``go.Figure.to_dict`` writes them:
    plotly's own rules (``_plotly_utils.utils.convert_to_base64``: its array test and
    encoding, the keys it skips), without its walk through every item of a list of plain
    values (the dates of every trace), where there is nothing to encode, and without its
    array test on strings, numbers, lists and dicts, which are never arrays to it."""
    from _plotly_utils.basevalidators import is_homogeneous_array
    from _plotly_utils.utils import is_skipped_key

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for key, value in obj.items():
                if is_skipped_key(key):
                    continue
                if type(value) not in _PLAIN and is_homogeneous_array(value):
                    obj[key] = typed_array(value)
                else:
                    walk(value)
        elif isinstance(obj, list | tuple) and _holds_containers(obj):
            for value in obj:
                walk(value)

    walk(spec)
    return spec


def as_spec(fig: Figure | Any) -> Figure:
    """``fig`` (a figure dict or a ``plotly.graph_objects.Figure``) as a new figure dict
    with ``data`` and ``layout``, whose dicts can be changed without changing ``fig`` (a
    dict's arrays and lists of values are shared, not copied: replace them, do not
    change them in place)."""
    if isinstance(fig, Mapping):
        spec = _tree_copy(fig)
        spec.setdefault("data", [])
        spec.setdefault("layout", {})
        return spec
    # a graph_objects figure: its parts' copies (its own to_dict base64-encodes arrays)
    return {
        "data": [t.to_plotly_json() for t in fig.data],
        "layout": fig.layout.to_plotly_json(),
    }
