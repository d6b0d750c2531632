"""The historical baseline against the observed market.

A regression guard at what the calibrated baseline reaches (17 of the 25 targets, cal
c2816ba627); issue 11's bar is 90%, not yet met (docs/calibration.md says what misses).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.facts import DEFAULT_FACTS

ROOT = Path(__file__).resolve().parents[1]
FACTS = DEFAULT_FACTS


def test_baseline_puts_most_targets_inside_their_band():
    result = CliRunner().invoke(
        app,
        [
            "facts",
            str(ROOT / "scenarios" / "baseline.toml"),
            "--facts",
            str(FACTS),
            "--role",
            "target",
        ],
    )
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    inside, total = (int(x) for x in last.split(" ")[0].split("/"))
    assert total == 25, last
    assert inside >= 18, last
