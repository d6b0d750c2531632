"""The page shell shared by every report (run, comparison, sweep).

A report is a title, a subtitle, a row of headline :class:`Card` s and a list of
:class:`Section` s. :func:`render_page` turns them into one self-contained HTML file:
plotly.js is embedded exactly once (the page works offline), the table of contents is
built from the sections, and the Jinja2 template runs with autoescape on.

Section bodies are :class:`markupsafe.Markup` built only with the helpers of this module
(:func:`figure_html`, :func:`table_html`, :func:`paragraph`, :func:`preformatted`,
:func:`links`, :func:`details`, :func:`join`); each escapes the text it is given, so a
string from a scenario (a name, a description, an id, an event label) is always shown as
text, never interpreted as HTML.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from market_sim.fileio import write_text
from market_sim.report.figure_data import figure_frame
from market_sim.report.figure_spec import (
    Figure,
    as_spec,
    axis_keys,
    encode_arrays,
    plotly_template,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "Card",
    "PageFigure",
    "Section",
    "collect_figures",
    "details",
    "figure_html",
    "join",
    "links",
    "paragraph",
    "plot_text",
    "preformatted",
    "render_page",
    "table_html",
    "write_html",
]

FIGURE_HEIGHT_PX = 400
"""Default height of a chart (pixels) when its layout does not set one."""

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Card:
    """A headline number: ``label`` (what), ``value`` (formatted, with its unit), ``note``."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    """A titled part of a report; ``id`` is its anchor in the table of contents.

    ``body_html`` must come from this module's helpers (they escape user text).
    """

    id: str
    title: str
    body_html: Markup


# --------------------------------------------------------------------------- helpers


def _slug(text: str) -> str:
    """An HTML id made of letters, digits, ``-`` and ``_`` only."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return slug or "x"


@dataclass(frozen=True)
class PageFigure:
    """A chart as drawn on a page: its div id (``fig-...``) and its figure, the plotly.js
    figure dict the page draws (arrays base64-encoded, as plotly writes them)."""

    div_id: str
    figure: Figure


_COLLECTED: contextvars.ContextVar[list[PageFigure] | None] = contextvars.ContextVar(
    "market_sim_report_figures", default=None
)


@contextlib.contextmanager
def collect_figures() -> Iterator[list[PageFigure]]:
    """Collect every figure :func:`figure_html` draws inside the ``with`` block, in page
    order (figure export: :mod:`market_sim.report.export`)."""
    found: list[PageFigure] = []
    token = _COLLECTED.set(found)
    try:
        yield found
    finally:
        _COLLECTED.reset(token)


def figure_html(fig: Figure | go.Figure, div_id: str, data: pd.DataFrame | None = None) -> Markup:
    """A figure (a plotly.js figure dict, :mod:`market_sim.report.figure_spec`, or a
    ``plotly.graph_objects.Figure``) as a ``<div>``, its drawing ``<script>`` and a
    "download data" link (the CSV behind the chart, embedded in the page); no plotly.js
    in it.

    ``data`` is that CSV's table (default: the figure's own series,
    :func:`market_sim.report.figure_data.figure_frame`).
    Text inside the figure (titles, trace names, annotations) is drawn by plotly.js,
    which reads a small HTML subset: escape user strings with :func:`plot_text` first.
    The div's id is ``fig-<div_id>``, so it cannot clash with a section's anchor.
    Event marks on the x axis of a panel without data are dropped (plotly.js cannot place
    a date on an axis that has no dates) and that panel's axes hidden. A figure dict
    without a template gets plotly's default one, as a graph_objects figure has; arrays
    are written base64-encoded, as ``go.Figure.to_dict`` writes them. The figure is
    written as it is (``validate=False``): a graph_objects figure was validated when it
    was built, a dict is built by this package's helpers.
    """
    import plotly.io as pio

    spec = _without_marks_on_empty_axes(as_spec(fig))
    frame = figure_frame(spec) if data is None else data
    encode_arrays(spec)
    if "template" not in spec["layout"]:  # shared, not copied: nothing below changes it
        spec["layout"]["template"] = plotly_template()
    full_id = f"fig-{_slug(div_id)}"  # never the same as a section's id
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(PageFigure(full_id, spec))
    html = pio.to_html(
        spec,
        include_plotlyjs=False,
        full_html=False,
        div_id=full_id,
        config=PLOTLY_CONFIG,
        default_height=f"{FIGURE_HEIGHT_PX}px",
        default_width="100%",
        validate=False,
    )
    # plotly's JSON escapes '<', '>' and '/' as \u003c etc., so it cannot end the script.
    return Markup('<div class="chart">') + Markup(html) + _data_link(frame, full_id)


def _data_link(frame: pd.DataFrame, full_id: str) -> Markup:
    """The chart's CSV as a ``data:`` link (the page stays one self-contained file)."""
    if frame.empty:
        return Markup("</div>")
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return Markup(
        '<a class="chart-data" download="{}.csv" href="data:text/csv;base64,{}">'
        "download data (CSV)</a></div>"
    ).format(full_id.removeprefix("fig-"), payload)


def _without_marks_on_empty_axes(spec: Figure) -> Figure:
    """``spec`` (a figure dict, changed in place) without shapes and annotations on x
    axes no trace uses (the empty cells of a subplot grid), those axes hidden."""
    data, layout = spec["data"], spec["layout"]
    if not data:
        return spec
    used = {t.get("xaxis") or "x" for t in data}
    empty = {"x" + k[5:] for k in axis_keys(layout, "xaxis")} - used
    marks: dict[str, Any] = {k: layout.get(k) or [] for k in ("shapes", "annotations")}
    if not empty & {m.get("xref") for items in marks.values() for m in items}:
        return spec
    for key, items in marks.items():
        layout[key] = [m for m in items if m.get("xref") not in empty]
    for ref in empty:
        for axis in ("xaxis" + ref[1:], "yaxis" + ref[1:]):
            if axis in layout:
                layout[axis]["visible"] = False
    return spec


def plot_text(text: object) -> str:
    """Text for a plotly label: ``&``, ``<`` and ``>`` as entities, shown literally."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: object, float_format: str) -> tuple[Markup, str | None, bool]:
    """(shown text, sort key or None, numeric?) of one table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Markup("&mdash;"), "", True
    if isinstance(value, pd.Timestamp):
        return escape(value.strftime("%Y-%m-%d")), value.strftime("%Y-%m-%d"), False
    if isinstance(value, bool | np.bool_):
        return escape(str(bool(value))), None, False
    if isinstance(value, int | np.integer):
        return escape(f"{int(value):,}"), repr(int(value)), True
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return escape("∞" if v > 0 else "-∞"), repr(v), True
        text = float_format.format(v)
        if "e+" in text and abs(v) < 1e15:  # large numbers in full, not 1.294e+06
            text = f"{v:,.0f}"
        return escape(text), repr(v), True
    return escape(str(value)), None, False


def table_html(
    frame: pd.DataFrame,
    sortable: bool = False,
    float_format: str = "{:,.4g}",
    *,
    row_classes: Sequence[str] | None = None,
) -> Markup:
    """A DataFrame as an HTML table (index dropped; every cell and header escaped).

    Numbers are right-aligned and formatted with ``float_format``; NaN shows as a dash.
    ``sortable`` lets the reader sort by clicking a header (numbers sort by value).
    ``row_classes`` optionally gives a CSS class per row (``ok``, ``bad``, ``muted``).
    """
    parts = [
        Markup('<div class="table-wrap"><table class="{}">').format(
            "data sortable" if sortable else "data"
        )
    ]
    parts.append(Markup("<thead><tr>"))
    for col in frame.columns:
        parts.append(Markup("<th>{}</th>").format(col))
    parts.append(Markup("</tr></thead><tbody>"))
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        cls = row_classes[i] if row_classes is not None else ""
        parts.append(Markup('<tr class="{}">').format(cls) if cls else Markup("<tr>"))
        for value in row:
            text, key, numeric = _cell(value, float_format)
            attrs = Markup(' class="num"') if numeric else Markup("")
            if key is not None:
                attrs += Markup(' data-sort="{}"').format(key)
            parts.append(Markup("<td{}>{}</td>").format(attrs, text))
        parts.append(Markup("</tr>"))
    parts.append(Markup("</tbody></table></div>"))
    return Markup("").join(parts)


def paragraph(text: str) -> Markup:
    """A paragraph of escaped text."""
    return Markup("<p>{}</p>").format(text)


def preformatted(text: str) -> Markup:
    """Escaped text in a ``<pre>`` block (code, JSON, TOML)."""
    return Markup("<pre>{}</pre>").format(text)


def links(items: Iterable[tuple[str, str]]) -> Markup:
    """A list of links, ``(href, label)`` each; both escaped (use relative file names)."""
    body = Markup("").join(
        Markup('<li><a href="{}">{}</a></li>').format(href, label) for href, label in items
    )
    return Markup('<ul class="links">{}</ul>').format(body)


def details(summary: str, body: Markup, open_: bool = False) -> Markup:
    """A collapsible block: ``summary`` (escaped text) over ``body`` (helper markup)."""
    return Markup("<details{}><summary>{}</summary>{}</details>").format(
        Markup(" open") if open_ else Markup(""), summary, body
    )


def join(*parts: Markup | str) -> Markup:
    """Concatenate helper markup (plain strings are escaped)."""
    return Markup("").join(escape(p) for p in parts)


# --------------------------------------------------------------------------- page


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=1)
def _plotlyjs() -> Markup:
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


def render_page(
    title: str,
    subtitle: str,
    cards: list[Card],
    sections: list[Section],
    generated_by: str,
) -> str:
    """The complete self-contained HTML page (plotly.js embedded once; about 4.8 MB).

    ``title``, ``subtitle``, the cards' text and the section titles are escaped; section
    bodies are helper markup. Section ids become anchors (made HTML-safe).
    """
    template = _environment().get_template("page.html.j2")
    safe_sections = [Section(_slug(s.id), s.title, s.body_html) for s in sections]
    return template.render(
        title=title,
        subtitle=subtitle,
        cards=cards,
        sections=safe_sections,
        generated_by=generated_by,
        plotlyjs=_plotlyjs(),
    )


def write_html(path: Path, html: str) -> None:
    """Write ``html`` to ``path`` atomically (see :mod:`market_sim.fileio`)."""
    write_text(path, html)
