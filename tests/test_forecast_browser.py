"""The forecast report opened in headless Chromium (Debian's ``chromium``): no console
errors, every fan chart drew with its bands, an observed fact is a point on its chart,
and the page says what the bands cover and names the assumptions.

One small forecast (tests/fixtures/tiny_forecast.toml, a two-member ensemble, one seed,
to 2026-03) with a two-fact facts file (the later fact ends the observed record with
2025) is run and its report loaded once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.calibration.outputs import write_ensemble
from market_sim.report.browser import chart_states, chromium_path, open_page

pytest.importorskip("playwright", reason="playwright is a test dependency: pip install -e .[test]")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does this)",
    ),
]

SCENARIO = Path(__file__).resolve().parent / "fixtures" / "tiny_forecast.toml"
PATH = "policy.ordering.stock_adjust_weeks"
FACTS = (
    "fact_id,metric_key,date,window,value,low,high,unit,role,description,source\n"
    "T001,list_price_usd@G1,2025-09,month,18500,17000,19000,USD,target,"
    "G1 list price <b>reported</b>,https://example.org\n"
    "T002,lead_time_weeks@G1,2025-12,month,3,,,weeks,target,G1 quote,https://example.org\n"
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    tmp = tmp_path_factory.mktemp("fcb")
    members = pd.DataFrame({"member": [0, 1], PATH: [4.0, 20.0], "objective": 0.0})
    ens = write_ensemble(tmp, SCENARIO, "cal-test", members, [PATH], {}, {"tolerance": 0.5})
    facts = tmp / "facts.csv"
    facts.write_text(FACTS)
    out = tmp / "out"
    args = ["forecast", str(SCENARIO), "--ensemble", str(ens), "--until", "2026-03"]
    result = CliRunner().invoke(app, [*args, "--facts", str(facts), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open_page(out / "report.html") as (page, errors):
        yield page, errors


def test_no_console_errors_and_every_chart_drew(loaded: tuple[Any, list[str]]) -> None:
    page, errors = loaded
    info = chart_states(page)
    assert errors == []
    ids = {c["id"] for c in info}
    assert {"fig-fc-list_price_usd-G1", "fig-fc-lead_time_weeks-G1"} <= ids
    assert "fig-fc-nvidia_dc_revenue_usd_bn" in ids
    assert [c["id"] for c in info if not c["drawn"]] == []
    assert [c["id"] for c in info if c["traces"] < 3] == []  # two bands and the median


def test_the_fact_is_a_point_and_its_text_is_escaped(loaded: tuple[Any, list[str]]) -> None:
    page, _ = loaded
    names = page.evaluate(
        "() => document.getElementById('fig-fc-list_price_usd-G1').data.map(t => t.name)"
    )
    assert names[:3] == ["90% band (p05-p95)", "50% band (p25-p75)", "median"]
    assert "observed (fact, with its band)" in names
    assert page.locator("b", has_text="reported").count() == 0  # shown as text, not markup


def test_the_page_says_what_the_bands_cover(loaded: tuple[Any, list[str]]) -> None:
    page, _ = loaded
    text = page.locator("body").inner_text()
    assert "NOT a calibrated forecast interval" in text
    assert "2 parameter sets of the ensemble x 1 seed" in text
    assert "Assumptions after 2025-12-31" in text and "agents.bigco.capex[1]" in text
    shapes = page.evaluate(
        "() => document.getElementById('fig-fc-list_price_usd-G1').layout.annotations"
        ".map(a => a.text)"
    )
    assert "end of observed data (2025-12-31)" in shapes
    assert "2026: scenario assumptions" in shapes
    hrefs = page.eval_on_selector_all("nav.toc a", "els => els.map(a => a.hash.slice(1))")
    ids = page.eval_on_selector_all("section", "els => els.map(s => s.id)")
    assert hrefs and set(hrefs) <= set(ids)
