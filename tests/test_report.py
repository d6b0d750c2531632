"""Reports as HTML text: the page shell escapes user text, embeds plotly.js once, and the
run and comparison reports hold their sections (no browser here: tests/test_report_browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from market_sim.facts import DEFAULT_FACTS
from market_sim.report.compare_report import render_compare_report
from market_sim.report.page import (
    Card,
    Section,
    figure_html,
    join,
    paragraph,
    render_page,
    table_html,
    write_html,
)
from market_sim.report.run_report import render_run_report
from market_sim.runs.compare import Arm, deltas
from market_sim.runs.folder import Run, execute

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert('x')</script> \"quoted\" & <b>bold</b>"
FACTS = DEFAULT_FACTS  # the packaged copy of shared/data/market_facts.csv


def evil_overrides() -> list[str]:
    """--set strings that put markup and quotes into the name, description and an event."""
    return [
        f"simulation.name={EVIL}",
        f"simulation.description=Desc {EVIL}",
        "simulation.weeks=30",
        'events=[{at = 10, kind = "capacity_outage", target = "tsmc_cowos", '
        'magnitude = 0.5, duration_weeks = 4, description = "<img src=x onerror=alert(1)>"}]',
    ]


@pytest.fixture(scope="module")
def evil_run() -> Run:
    return execute(ROOT / "scenarios" / "baseline.toml", overrides=evil_overrides())


@pytest.fixture(scope="module")
def evil_html(evil_run: Run) -> str:
    return render_run_report(evil_run, facts_path=FACTS if FACTS.is_file() else None)


# --------------------------------------------------------------------------- page shell


def test_page_escapes_every_user_string() -> None:
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name=EVIL))
    table = table_html(pd.DataFrame({EVIL: [EVIL, 1.5]}), sortable=True)
    html = render_page(
        EVIL,
        EVIL,
        [Card(EVIL, EVIL, EVIL)],
        [Section(EVIL, EVIL, join(paragraph(EVIL), table, figure_html(fig, EVIL)))],
        EVIL,
    )
    body = html[html.index("<body>") :]
    assert "<script>alert(" not in html
    assert "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(" in body
    # the only <script> elements are plotly.js, the figure and the sortable-table code
    assert len(re.findall(r"<script\b", html)) == 3


def test_plotlyjs_embedded_exactly_once() -> None:
    figs = join(*(figure_html(go.Figure(go.Bar(y=[i])), f"f{i}") for i in range(3)))
    html = render_page("t", "", [], [Section("s", "S", figs)], "test")
    marker = get_plotlyjs()[:300]
    assert html.count(marker) == 1
    assert html.count('class="plotly-graph-div"') == 3


def test_table_html_formats_and_escapes() -> None:
    frame = pd.DataFrame({"n": [1_294_000.0, 0.5, float("nan")], "s": ["<i>", "b", "c"]})
    html = table_html(frame, sortable=True, row_classes=["ok", "bad", ""])
    assert "1,294,000" in html and "e+06" not in html
    assert "&lt;i&gt;" in html and "&mdash;" in html
    assert 'class="data sortable"' in html and '<tr class="bad">' in html
    assert isinstance(html, Markup)


def test_write_html_is_atomic(tmp_path: Path) -> None:
    write_html(tmp_path / "r.html", "<p>one</p>")
    write_html(tmp_path / "r.html", "<p>two</p>")
    assert (tmp_path / "r.html").read_text() == "<p>two</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


# --------------------------------------------------------------------------- run report


def test_run_report_sections_and_size(evil_html: str) -> None:
    for section in (
        "prices",
        "lead-times",
        "compute",
        "incumbent",
        "supply",
        "supply-graph",
        "startups",
        "facts",
        "appendix",
    ):
        assert f'<section id="{section}">' in evil_html
        assert f'href="#{section}"' in evil_html  # table of contents
    assert evil_html.count('class="plotly-graph-div"') >= 15
    assert 'class="cards"' in evil_html and evil_html.count('class="card"') == 5
    assert "timeseries.parquet" in evil_html and "agents.csv" in evil_html
    assert len(evil_html.encode()) < 8_000_000


def test_run_report_shows_scenario_text_as_text(evil_html: str) -> None:
    assert "<script>alert(" not in evil_html
    assert "<img src=x" not in evil_html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;quoted&#34;" in evil_html
    # inside plotly's JSON the event label is entity-escaped, so plotly shows it literally
    assert '"text":"&lt;img src=x onerror=alert(1)&gt;"' in evil_html


def test_event_is_drawn_on_every_time_chart(evil_run: Run, evil_html: str) -> None:
    charts = evil_html.count('class="plotly-graph-div"')
    date = str(evil_run.scenario.date_of(10))
    # one dotted line per x axis: at least one per time chart (the supply graph has none)
    assert evil_html.count(f'"x0":"{date}"') >= charts - 1


@pytest.mark.skipif(not FACTS.is_file(), reason="shared facts file not present")
def test_facts_table_for_a_historical_run(evil_html: str) -> None:
    assert "facts inside their band" in evil_html
    assert "F018" in evil_html  # March 2023 rental: inside the 30-week run


def test_facts_section_notes_when_no_facts(evil_run: Run) -> None:
    html = render_run_report(evil_run, facts_path=None)
    assert "No facts file found" in html


# --------------------------------------------------------------------------- comparison


def test_compare_report(evil_run: Run) -> None:
    other = execute(ROOT / "scenarios" / "baseline.toml", seed=2, overrides=evil_overrides())
    arm_a = Arm("A <a>", "a.toml", evil_run.scenario, [evil_run, other])
    arm_b = Arm("B", "b.toml", evil_run.scenario, [evil_run, other])
    table = deltas([arm_a, arm_b])
    assert (table["delta_mean"].fillna(0.0) == 0.0).all()  # same runs: no difference
    html = render_compare_report([arm_a, arm_b], table)
    assert '<section id="deltas">' in html and "95% interval" in html
    assert "A &lt;a&gt;" in html and "<a>" not in html.split("<body>")[1].split("</main>")[0]
    assert html.count('class="card"') == 5
    assert html.count('class="plotly-graph-div"') >= 8
