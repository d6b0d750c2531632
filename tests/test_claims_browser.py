"""The answers page of ``market-sim claims`` opened in headless Chromium: no console
errors, every chart drew, one answer row per claim and the query under every number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from market_sim.report.browser import chart_states, chromium_path, open_page

pytest.importorskip("playwright", reason="playwright is a test dependency: pip install -e .[test]")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None,
        reason="no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does this)",
    ),
]


@pytest.fixture(scope="module")
def loaded(claims_done: tuple[Path, Path]) -> Iterator[tuple[Any, list[str]]]:
    _, out = claims_done
    with open_page(out / "report.html") as (page, errors):
        yield page, errors


def test_no_console_errors_and_every_chart_drew(loaded: tuple[Any, list[str]]) -> None:
    page, errors = loaded
    info = chart_states(page)
    assert errors == []
    ids = {c["id"] for c in info}
    for claim in ("shift_holds", "shift_too_small", "shift_relative", "no_effect"):
        for chart in ("weekly", "members", "parameters"):
            assert f"fig-claim-{claim}-{chart}" in ids
    assert [c["id"] for c in info if not c["drawn"]] == []


def test_answers_table_opens_the_page(loaded: tuple[Any, list[str]]) -> None:
    page, _ = loaded
    first = page.locator("section").first
    assert "Answers" in first.inner_text()
    rows = first.locator("table tbody tr")
    assert rows.count() == 4
    text = first.inner_text()
    for word in ("holds", "does not hold", "90% interval", "P(holds)", "what decides it"):
        assert word in text
    assert "market-sim query" in page.content()
    assert "cf_shift" in page.locator("#counterfactuals").inner_text()
