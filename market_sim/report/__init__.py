"""HTML reports: the shared page shell (:mod:`.page`), figure builders (:mod:`.figures`),
the run report (:mod:`.run_report`) and the comparison report (:mod:`.compare_report`).

Reports are self-contained: one HTML file with plotly.js embedded once, so they open
offline. Jinja2 renders them with autoescape on. Reading: docs/reports.md.
"""

import sys

from market_sim.deferred import defer_chain


def _defer_narwhals() -> None:
    """Leave narwhals unloaded until something uses it (:mod:`market_sim.deferred`).

    ``plotly.io`` imports plotly's validators, which import ``narwhals.stable.v1``
    (30-40 ms) to convert dataframes and series; the reports hand plotly numpy arrays,
    lists and plain values (:func:`market_sim.report.figure_spec.typed_array`). The
    first attribute looked up on narwhals (a pandas Series given to plotly) imports it
    as usual. Nothing happens when plotly's validators are imported already.
    """
    if "_plotly_utils.basevalidators" not in sys.modules:
        defer_chain("narwhals.stable.v1")


_defer_narwhals()

from market_sim.report.page import (  # noqa: E402
    Card,
    Section,
    details,
    figure_html,
    join,
    links,
    paragraph,
    plot_text,
    preformatted,
    render_page,
    table_html,
    write_html,
)

__all__ = [
    "Card",
    "Section",
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
