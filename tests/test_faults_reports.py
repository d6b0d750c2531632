"""Fault injection, reports: a comparison of a scenario with events draws without a
console error (event marks on an empty panel of a subplot grid used to give NaN
coordinates), and names with markup reach the report and the console as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from fault_helpers import TINY, cli, ok

EVENTS = f"""
extends = "{TINY}"

[simulation]
name = "[/]events [bold]x"
weeks = 20

[[events]]
at = 5
kind = "demand_surge"
target = "startups"
magnitude = 2
duration_weeks = 4
description = "boom [/]"

[[events]]
at = 8
kind = "capacity_outage"
target = "pack"
magnitude = 0.5
duration_weeks = 3
"""


def test_compare_with_events_has_no_console_errors(tmp_path: Path) -> None:
    from market_sim.report.browser import check_report, chromium_path

    f = tmp_path / "events.toml"
    f.write_text(EVENTS)
    out = tmp_path / "cmp"
    result = ok(cli("compare", f, TINY, "--seeds", "2", "--out", out))
    assert "[/]events [bold]x" in result.stdout
    if chromium_path() is None:
        pytest.skip("no Chromium installed")
    check = check_report(out / "report.html")
    assert check.errors == [], check.errors[:5]
    assert check.charts >= 5 and check.drawn == check.charts
