"""Run folders (atomic writes, --force rules, round trip), headline numbers, paired deltas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market_sim.outcomes.headline import HEADLINES, OUTCOMES, format_value, headline_values
from market_sim.runs.compare import Arm, deltas, slug, t_interval, unique_labels
from market_sim.runs.folder import (
    PHASES,
    Run,
    RunsError,
    check_out,
    execute,
    read_run,
    staged_folder,
    write_run,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def tiny_run() -> Run:
    return execute(FIXTURES / "tiny.toml", overrides=["simulation.weeks=20"])


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- folders


def test_csv_copies_only_on_request(tiny_run: Run, tmp_path: Path) -> None:
    out = write_run(tiny_run, tmp_path / "r")
    names = {p.name for p in out.iterdir()}
    assert {"timeseries.parquet", "agents.parquet", "run.json"} <= names
    assert not {"timeseries.csv", "agents.csv"} & names
    data = json.loads((out / "run.json").read_text())
    assert set(data["files"]) == set(data["checksums"]) <= names
    assert not [f for f in data["files"] if f.endswith(".csv")]


def test_write_and_read_round_trip(tiny_run: Run, tmp_path: Path) -> None:
    out = write_run(tiny_run, tmp_path / "r", render=lambda run: "<html>x</html>", csv=True)
    names = {p.name for p in out.iterdir()}
    assert {
        "timeseries.parquet",
        "agents.parquet",
        "run.json",
        "report.html",
        "timeseries.csv",
        "agents.csv",
    } <= names
    data = json.loads((out / "run.json").read_text())
    assert {"timeseries.csv", "agents.csv"} <= set(data["files"]) <= names
    assert data["seed"] == 7 and data["name"] == "tiny" and data["weeks"] == 20
    assert set(data["timings_s"]) == set(PHASES)
    assert data["scenario"]["simulation"]["weeks"] == 20
    assert data["overrides"] == ["simulation.weeks=20"]
    assert set(data["headline"]) == {o.key for o in HEADLINES}
    back = read_run(out)
    assert back.scenario == tiny_run.scenario
    assert back.seed == tiny_run.seed
    pd.testing.assert_frame_equal(back.timeseries, tiny_run.timeseries, check_dtype=False)
    assert len(back.agents) == len(tiny_run.agents)
    assert _leftovers(tmp_path) == []


def test_existing_folder_needs_force(tiny_run: Run, tmp_path: Path) -> None:
    out = write_run(tiny_run, tmp_path / "r")
    before = (out / "run.json").read_text()
    with pytest.raises(RunsError, match="already exists; pass --force"):
        write_run(tiny_run, out)
    assert (out / "run.json").read_text() == before
    write_run(tiny_run, out, force=True)
    assert (out / "run.json").is_file()
    assert _leftovers(tmp_path) == []


def test_force_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(RunsError, match="not a run folder"):
        check_out(tmp_path / "mine", force=True)
    check_out(tmp_path / "empty", force=False)  # a new path is fine


def test_failure_leaves_nothing_and_keeps_the_old_folder(tiny_run: Run, tmp_path: Path) -> None:
    out = write_run(tiny_run, tmp_path / "r")
    before = sorted(p.name for p in out.iterdir())

    def broken(run: Run) -> str:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        write_run(tiny_run, out, force=True, render=broken)
    assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(KeyboardInterrupt), staged_folder(tmp_path / "new", force=False) as tmp:
        (tmp / "half.parquet").write_text("half")
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    assert _leftovers(tmp_path) == []


def test_unwritable_place_is_a_runs_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with (
        pytest.raises(RunsError, match="cannot write here"),
        staged_folder(tmp_path / "file" / "out", force=False),
    ):
        pass


# --------------------------------------------------------------------------- headlines


def _frame() -> pd.DataFrame:
    weeks = 4
    return pd.DataFrame(
        {
            "week": np.arange(weeks),
            "date": pd.date_range("2023-01-02", periods=weeks, freq="7D"),
            "lead_time_weeks@H100": [2.0, 9.0, 5.0, 1.0],
            "rental_usd_per_gpu_hour@H100": [2.0, 3.0, 2.5, 2.0],
            "deliveries_units": [100.0, 100.0, 0.0, 200.0],
            "deliveries_units@startups": [10.0, 0.0, 0.0, 30.0],
            "compute_share_pct@top5": [50.0, 55.0, 60.0, 58.0],
            "nvidia_dc_revenue_usd_bn": [1.0, 1.0, 2.0, 0.0],
            "nvidia_cogs_usd_bn": [0.5, 0.2, 0.3, 0.0],
        }
    )


def test_headline_numbers() -> None:
    values = headline_values(_frame())
    assert values["peak_lead_time_weeks"] == 9.0
    assert values["peak_rental_usd_per_gpu_hour"] == 3.0
    assert values["startup_delivery_share_pct"] == pytest.approx(10.0)  # 40 / 400
    assert values["top5_compute_share_pct"] == 58.0  # last week
    assert values["nvidia_gross_margin_pct"] == pytest.approx(75.0)  # 1 - 1.0 / 4.0
    peak = HEADLINES[0].reduce(_frame())[1]
    assert "2023-01-09" in peak


def test_missing_columns_give_nan_not_errors() -> None:
    frame = _frame()[["week", "date"]]
    for o in OUTCOMES:
        assert math.isnan(o.value(frame))
        assert o.text(o.value(frame)) == "n/a"


def test_format_value() -> None:
    assert format_value(48.0, "weeks") == "48 weeks"
    assert format_value(2.25, "weeks") == "2.2 weeks" or format_value(2.25, "weeks") == "2.3 weeks"
    assert format_value(5.836, "usd_per_gpu_hour") == "$5.84/GPU-h"
    assert format_value(-1.8, "pct", signed=True) == "−1.8 pp"
    assert format_value(1234567.0, "units", signed=True) == "+1,234,567 units"
    assert format_value(0.0, "usd", signed=True) == "$0"


# --------------------------------------------------------------------------- statistics


def test_t_interval() -> None:
    m, _, hi = t_interval([1.0, 2.0, 3.0])
    assert m == 2.0
    assert hi - m == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)  # t(0.975, 2) * sd / √n
    assert math.isnan(t_interval([1.0])[1])
    assert t_interval([2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_deltas_are_paired_by_seed(tiny_run: Run) -> None:
    def arm(label: str, shift: float) -> Arm:
        a = Arm(label, "", tiny_run.scenario)
        for seed, noise in ((1, 0.0), (2, 5.0)):
            ts = _frame()
            ts["lead_time_weeks@H100"] += noise + shift
            a.runs.append(Run(tiny_run.scenario, seed, ts, pd.DataFrame(), []))
        return a

    table = deltas([arm("a", 0.0), arm("b", 3.0)])
    row = table.set_index("outcome").loc["peak_lead_time_weeks"]
    # seed noise is common to both arms: the paired difference is exactly 3 every time
    assert (row.delta_mean, row.delta_low, row.delta_high) == (3.0, 3.0, 3.0)
    assert row.a_mean == 11.5 and row.b_mean == 14.5 and row.n_pairs == 2


def test_labels_and_slugs() -> None:
    assert unique_labels(["a", "b", "a"]) == ["a", "b", "a-2"]
    assert slug("../x/<script>") == "x_script"
    assert slug("") == "run"
