"""scripts/backtest.py: the forecasting skill quoted over several cold searches (the table
and its median), and a user's mistake as one line with exit code 2."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "backtest.py"


def _script():
    spec = importlib.util.spec_from_file_location("backtest_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(seed: int, inside: int, flags: dict[str, bool]) -> dict:
    return {
        "search_seed": seed,
        "in_sample_inside": 12,
        "in_sample_n": 12,
        "out_sample_inside": inside,
        "out_sample_n": 13,
        "ensemble_covers_out_sample": 1,
        "predictive_covers_out_sample": 7,
        "discrepancy_sd": 0.15,
        "inside_out_sample": flags,
    }


def test_the_searches_are_summarised_by_their_median_and_the_60_percent_bar(capsys, tmp_path):
    backtest = _script()
    rows = [
        _row(0, 8, {"F004": False, "F058": True}),
        _row(1, 9, {"F004": True, "F058": True}),
        _row(2, 5, {"F004": False, "F058": False}),
    ]
    backtest._print_over_searches(rows)
    out = capsys.readouterr().out
    assert "median 8/13 (62%), range 5-9; at least 60% at 2 of 3 searches" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[2:3] == "F"}
    assert lines == {"F004": ["-", "in", "-"], "F058": ["in", "in", "-"]}

    class Args:
        until, budget, scenario, params = "2023-12-31", 600, "s.toml", "p.toml"

    backtest._write_table(tmp_path / "backtest.json", Args, rows)
    table = json.loads((tmp_path / "backtest.json").read_text())
    assert [r["out_sample_inside"] for r in table["searches"]] == [8, 9, 5]
    assert table["until"] == "2023-12-31" and table["budget"] == 600


def test_no_search_is_a_one_line_error():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--search-seeds", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "--search-seeds: give at least 1"
