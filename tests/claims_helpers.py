"""Inputs of the claims tests: the tiny scenario, counterfactuals of known effect and a
small ensemble (tests/test_claims.py explains them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment.calibration.outputs import write_ensemble

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny.toml"

CLAIMS = """
[outputs]
capacity_2024 = { metric = "capacity_per_week@fab", window = "2024" }
lead_2024 = { metric = "lead_time_weeks_median@startups", window = "2024" }

[[claims]]
id = "shift_holds"
text = "More foundry capacity raises the foundry's capacity by more than 50 wafers a week"
output = "capacity_2024"
scenario = "scen.toml"
counterfactual = "cf_shift.toml"
direction = "increase"
threshold = 50

[[claims]]
id = "shift_too_small"
text = "It raises it by more than 150"
output = "capacity_2024"
scenario = "scen.toml"
counterfactual = "cf_shift.toml"
direction = "increase"
threshold = 150

[[claims]]
id = "shift_relative"
text = "It raises it by more than 10%"
output = "capacity_2024"
scenario = "scen.toml"
counterfactual = "cf_shift.toml"
direction = "increase"
threshold = 10
relative = true

[[claims]]
id = "no_effect"
text = "Nothing lengthens startups' lead times"
output = "lead_2024"
scenario = "scen.toml"
counterfactual = "cf_same.toml"
direction = "increase"
threshold = 0
"""


def claims_inputs(folder: Path) -> Path:
    """The claims file, scenarios and a 4-member ensemble in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scen.toml").write_text(TINY.read_text())
    (folder / "cf_shift.toml").write_text(
        'extends = "scen.toml"\n[simulation]\nname = "cf_shift"\n'
        '[[supply.nodes]]\nid = "fab"\ncapacity_per_week = 900\n'
    )
    (folder / "cf_same.toml").write_text('extends = "scen.toml"\n[simulation]\nname = "cf_same"\n')
    path = "startups.value_usd_per_gpu_hour"
    members = pd.DataFrame({"member": range(4), path: [3.0, 4.5, 6.0, 8.0]})
    write_ensemble(folder, folder / "scen.toml", "cal-test", members, [path], {}, {})
    claims = folder / "claims.toml"
    claims.write_text(CLAIMS)
    return claims


def run_claims(claims: Path, out: Path, *extra: str) -> None:
    args = ["claims", str(claims), "--seeds", "3", "--members", "4", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "1", *extra])
    assert result.exit_code == 0, result.output + str(result.exception)
