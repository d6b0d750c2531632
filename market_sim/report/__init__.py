"""HTML reports: the shared page shell (:mod:`.page`), figure builders (:mod:`.figures`),
the run report (:mod:`.run_report`) and the comparison report (:mod:`.compare_report`).

Reports are self-contained: one HTML file with plotly.js embedded once, so they open
offline. Jinja2 renders them with autoescape on. Reading: docs/reports.md.
"""

from market_sim.report.page import (
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
