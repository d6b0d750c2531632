"""The historical baseline against the observed market (the issue's acceptance bar)."""

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
    assert total == 21, last
    assert inside / total >= 0.70, last
