"""A rendered run report opened in headless Chromium (Debian's ``chromium``; .ci/run
installs it): no console errors, every chart drew, scenario text shown as text.

One small report (baseline, 30 weeks, an event whose label is markup) is rendered and
loaded once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from market_sim.report.browser import chart_states, chromium_path, open_page
from market_sim.report.page import write_html
from market_sim.report.run_report import render_run_report
from market_sim.runs.folder import execute

pytest.importorskip("playwright", reason="playwright is a test dependency: pip install -e .[test]")
pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does this)",
)

ROOT = Path(__file__).resolve().parents[1]
NAME = "<script>alert('name')</script> \"Meta's\" & co"
DESCRIPTION = "<img src=x onerror=alert('desc')> it's \"quoted\""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    run = execute(
        ROOT / "scenarios" / "baseline.toml",
        overrides=[
            f"simulation.name={NAME}",
            f"simulation.description={DESCRIPTION}",
            "simulation.weeks=30",
            'events=[{at = 8, kind = "demand_surge", target = "meta", magnitude = 2.0, '
            "description = \"<script>alert('event')</script>\"}]",
        ],
    )
    html = tmp_path_factory.mktemp("report") / "report.html"
    write_html(html, render_run_report(run))
    with open_page(html) as (page, errors):
        yield page, errors


def test_no_console_errors_and_every_chart_drew(loaded: tuple[Any, list[str]]) -> None:
    page, errors = loaded
    info = chart_states(page)
    assert errors == []
    assert len(info) >= 15
    assert [c["id"] for c in info if not c["drawn"]] == []
    assert [c["id"] for c in info if c["traces"] == 0] == []


def test_scenario_text_is_rendered_as_text(loaded: tuple[Any, list[str]]) -> None:
    page, errors = loaded
    assert page.locator("h1").inner_text() == f"market_sim run: {NAME}"
    assert DESCRIPTION in page.locator("p.subtitle").inner_text()
    assert page.title() == f"market_sim run: {NAME}"
    # the event label is drawn literally on the charts, and no injected element exists
    label = page.locator(".annotation-text", has_text="<script>alert('event')").first
    assert label.count() == 1
    assert page.locator("img").count() == 0
    assert not any("dialog" in e for e in errors)


def test_table_of_contents_links_to_sections(loaded: tuple[Any, list[str]]) -> None:
    page, _ = loaded
    hrefs = page.eval_on_selector_all("nav.toc a", "els => els.map(a => a.hash.slice(1))")
    ids = page.eval_on_selector_all("section", "els => els.map(s => s.id)")
    assert hrefs == ids and len(ids) == 9


def test_tables_fit_the_page(loaded: tuple[Any, list[str]]) -> None:
    """Wide tables (the facts table) wrap their cells instead of scrolling sideways."""
    page, _ = loaded
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll('.table-wrap'))
            .map(w => [w.closest('section').id, w.scrollWidth, w.clientWidth])"""
    )
    assert widths and [w for w in widths if w[1] > w[2] + 1] == []


def test_no_chart_axis_is_flat(loaded: tuple[Any, list[str]]) -> None:
    """Where the data on a y axis move, they fill at least 5% of that axis (a Gini moving
    between 0.97 and 0.98 on a 0-1 axis looked like a flat line)."""
    page, _ = loaded
    axes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.plotly-graph-div')).flatMap(gd => {
            const spans = {};
            for (const t of gd._fullData) {
                if (!t.visible || t.type !== 'scatter' || !t.y) continue;
                const ys = Array.from(t.y).filter(v => typeof v === 'number' && isFinite(v));
                if (!ys.length) continue;
                const ax = 'yaxis' + (t.yaxis === 'y' ? '' : t.yaxis.slice(1));
                const s = spans[ax] || (spans[ax] = [Infinity, -Infinity]);
                s[0] = Math.min(s[0], ...ys); s[1] = Math.max(s[1], ...ys);
            }
            return Object.entries(spans).map(([ax, [lo, hi]]) => ({
                chart: gd.id, axis: ax, lo: lo, hi: hi, range: gd._fullLayout[ax].range}));
        })"""
    )
    flat = []
    for a in axes:
        moves = a["hi"] - a["lo"] > 0.001 * max(abs(a["hi"]), abs(a["lo"]), 1e-12)
        shown = (a["hi"] - a["lo"]) / abs(a["range"][1] - a["range"][0])
        if moves and shown < 0.05:
            flat.append(f"{a['chart']} {a['axis']}: {shown:.1%} of the axis")
    assert len(axes) > 20 and flat == []
