"""The calibration report opened in headless Chromium (Debian's ``chromium``): no console
errors, every chart drew, the in-sample and out-of-sample shares and every fact's fit
before and after are on the page.

One small backtest-style calibration (tiny scenario, 40 weeks, ``--until`` inside the
horizon so that facts fall on both sides) is run and its report loaded once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.report.browser import chart_states, chromium_path, open_page

pytest.importorskip("playwright", reason="playwright is a test dependency: pip install -e .[test]")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does this)",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    tmp = tmp_path_factory.mktemp("cal")
    params = tmp / "params.toml"
    params.write_text(
        '[parameters."policy.ordering.supply_line_weight"]\nlow = 0.1\nhigh = 1.0\n'
        '[parameters."policy.ordering.stock_adjust_weeks"]\nlow = 4\nhigh = 20\nscale = "log"\n'
    )
    out = tmp / "out"
    args = ["calibrate", str(TINY), "--params", str(params), "--out", str(out)]
    args += ["--workers", "1", "--budget", "6", "--until", "2023-06-30"]
    result = CliRunner().invoke(app, [*args, "--set", "simulation.weeks=60"])
    assert result.exit_code == 0, result.output
    with open_page(out / "report.html") as (page, errors):
        yield page, errors


def test_no_console_errors_and_every_chart_drew(loaded: tuple[Any, list[str]]) -> None:
    page, errors = loaded
    info = chart_states(page)
    assert errors == []
    assert {"fig-cal-objective", "fig-cal-parameters", "fig-cal-shares"} <= {c["id"] for c in info}
    assert len(info) >= 3
    assert [c["id"] for c in info if not c["drawn"]] == []
    assert [c["id"] for c in info if c["traces"] == 0] == []


def test_shares_and_facts_are_shown(loaded: tuple[Any, list[str]]) -> None:
    page, _ = loaded
    text = page.locator("body").inner_text()
    assert "out of sample" in text.lower() and "in sample" in text.lower()
    # every fact's fit before and after: one row per target fact of the table
    rows = page.locator("table tr", has_text="lead_time_weeks@H100")
    assert rows.count() >= 3
    hrefs = page.eval_on_selector_all("nav.toc a", "els => els.map(a => a.hash.slice(1))")
    ids = page.eval_on_selector_all("section", "els => els.map(s => s.id)")
    assert hrefs and set(hrefs) <= set(ids)
