"""Fault injection, run folders: checksums in run.json, damaged and malformed files,
non-finite outcomes, paths that cannot be used, a full disk, killed runs' working
folders. Nothing half-written is left; no traceback reaches the user."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fault_helpers import SHORT, TINY, can_mount_tmpfs, cli, in_tmpfs, ok, one_line
from market_sim.outcomes.finite import NonFiniteError, check_finite, first_non_finite
from market_sim.runs.folder import DATA_FILES, RunsError, read_run_json
from market_sim.runs.staging import STALE_AFTER_S, clean_stale, prefix


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("faultruns") / "tiny"
    ok(cli("run", TINY, "--out", out, *SHORT))
    return out


def _copy(run_dir: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(run_dir, dest)
    return dest


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- checksums


def test_run_json_records_checksums(run_dir: Path) -> None:
    data = read_run_json(run_dir)
    assert set(data["checksums"]) == set(data["files"]) <= set(DATA_FILES)
    assert {"timeseries.parquet", "agents.parquet", "supply.json"} <= set(data["checksums"])
    for name, record in data["checksums"].items():
        assert record["bytes"] == (run_dir / name).stat().st_size
        assert len(record["sha256"]) == 64


def test_altered_data_file_is_warned_about(run_dir: Path, tmp_path: Path) -> None:
    folder = _copy(run_dir, tmp_path / "altered")
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ts["deliveries_units"] *= 2  # still a valid file, other numbers
    ts.to_parquet(folder / "timeseries.parquet", index=False)
    result = ok(cli("report", folder))
    assert "timeseries.parquet: " in result.stderr
    assert "changed since it was written" in result.stderr
    result = ok(cli("query", folder, "SELECT count(*) AS n FROM timeseries"))
    assert "changed since it was written" in result.stderr


def test_truncated_data_file_is_one_line(run_dir: Path, tmp_path: Path) -> None:
    folder = _copy(run_dir, tmp_path / "cut")
    path = folder / "timeseries.parquet"
    os.truncate(path, path.stat().st_size // 2)
    result = cli("report", folder)
    line = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert any("truncated" in x for x in line)
    assert "cannot read the run's Parquet files" in line[-1]
    result = cli("query", folder, "SELECT 1 FROM timeseries")
    assert result.exit_code == 2 and "timeseries" in result.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "cannot read run.json"),
        ("[]", "not a market_sim run.json"),
        ('{"format": "market_sim.run/1"}', "seed"),
        ('{"format": "market_sim.run/1", "seed": "7", "scenario": {}}', "seed"),
        ('{"format": "market_sim.run/1", "seed": 7, "scenario": []}', "scenario"),
        ('{"format": "market_sim.run/1", "seed": 7, "scenario": {}, "events": [1]}', "events"),
        (
            '{"format": "market_sim.run/1", "seed": 7, "scenario": {}, "timings_s": {"a": "x"}}',
            "timings_s",
        ),
        ('{"format": "market_sim.run/1", "seed": -3, "scenario": {}}', "seed"),
    ],
)
def test_malformed_run_json(run_dir: Path, tmp_path: Path, content: str, needle: str) -> None:
    folder = _copy(run_dir, tmp_path / "bad")
    (folder / "run.json").write_text(content)
    for args in (("report", folder), ("run", folder, "--out", tmp_path / "again")):
        line = one_line(cli(*args))
        assert str(folder) in line and needle in line
    line = one_line(cli("compare", folder, TINY, "--seeds", "1", "--out", tmp_path / "c"))
    assert needle in line
    assert not (tmp_path / "again").exists() and not (tmp_path / "c").exists()


def test_stored_scenario_that_no_longer_validates(run_dir: Path, tmp_path: Path) -> None:
    folder = _copy(run_dir, tmp_path / "old")
    data = json.loads((folder / "run.json").read_text())
    data["scenario"]["products"][0]["h100e"] = -1
    (folder / "run.json").write_text(json.dumps(data))
    line = one_line(cli("report", folder))
    assert "products.G1.h100e" in line


def test_run_json_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "run.json").mkdir()
    line = one_line(cli("run", tmp_path / "run.json", "--out", tmp_path / "x"))
    assert "run.json" in line


# --------------------------------------------------------------------------- finite


def _frame(values: list[float]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            "week": np.arange(n),
            "date": pd.date_range("2024-01-01", periods=n, freq="7D"),
            "a": np.ones(n),
            "b": values,
        }
    )


def test_check_finite_names_the_first_column_and_week() -> None:
    check_finite(_frame([1.0, 2.0, 3.0]))
    assert first_non_finite(_frame([1.0, 2.0])) is None
    with pytest.raises(NonFiniteError) as err:
        check_finite(_frame([1.0, np.inf, np.nan]), "tiny")
    text = str(err.value)
    assert text.startswith("tiny: outcome 'b' is +inf in week 1 (2024-01-08)")
    assert "2 non-finite values" in text and err.value.exit_code == 1
    frame = _frame([np.nan, 1.0])
    frame.loc[0, "a"] = -np.inf  # same week, earlier column wins
    assert first_non_finite(frame) == ("a", 0, -np.inf)


def test_non_finite_run_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market_sim.model import GPUMarketModel

    real = GPUMarketModel.run

    def broken(self, *args, **kwargs):
        frame = real(self, *args, **kwargs)
        frame.loc[3, "deliveries_units"] = np.inf
        return frame

    monkeypatch.setattr(GPUMarketModel, "run", broken)
    line = one_line(cli("run", TINY, "--out", tmp_path / "r", *SHORT), code=1)
    assert "outcome 'deliveries_units' is +inf in week 3" in line
    assert not (tmp_path / "r").exists() and _leftovers(tmp_path) == []


def test_non_finite_sweep_run_is_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from fault_helpers import SMALL_SWEEP
    from market_sim.experiment import load_sweep, make_plan
    from market_sim.experiment.execute import run_context, run_one
    from market_sim.model import GPUMarketModel

    sweep = load_sweep(SMALL_SWEEP, check_metrics=False)
    spec = make_plan(sweep).runs[0]
    context = run_context(
        {k: v.data for k, v in sweep.scenarios.items()},
        list(sweep.outputs.values()),
        sweep.series,
    )
    real = GPUMarketModel.run

    def broken(self, *args, **kwargs):
        frame = real(self, *args, **kwargs)
        frame.loc[2, "installed_h100e"] = np.nan
        return frame

    monkeypatch.setattr(GPUMarketModel, "run", broken)
    result = run_one(spec, context)
    assert result.status == "failed"
    assert result.error.startswith(f"run {spec.run_id}: outcome 'installed_h100e' is NaN")


# --------------------------------------------------------------------------- paths


def test_out_is_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path.parent)):
        line = one_line(cli("run", TINY, "--out", out, "--force", *SHORT))
        assert "is the current folder or contains it" in line
    assert list(tmp_path.iterdir()) == []


def test_path_too_long(tmp_path: Path) -> None:
    line = one_line(cli("run", TINY, "--out", tmp_path / ("x" * 300), *SHORT))
    assert "too long" in line
    deep = tmp_path.joinpath(*["d" * 250] * 20)
    line = one_line(cli("run", TINY, "--out", deep / "out", *SHORT))
    assert "too long" in line
    assert _leftovers(tmp_path) == []


def test_gone_current_folder(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]);"
        "from market_sim.cli import app; app(['run', sys.argv[2], '--out', 'x'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(gone), str(TINY)], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "current folder" in done.stderr


@pytest.fixture(scope="module")
def tmpfs_ok(tmp_path_factory: pytest.TempPathFactory) -> bool:
    return can_mount_tmpfs(tmp_path_factory.mktemp("probe"))


def test_full_disk(tmp_path: Path, tmpfs_ok: bool) -> None:
    if not tmpfs_ok:
        pytest.skip("cannot mount a tmpfs here (no unshare / user namespaces)")
    mnt = tmp_path / "mnt"
    done, files = in_tmpfs(mnt, "512k", ["run", TINY, "--out", mnt / "r", *SHORT], tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"{mnt / 'r'}: cannot write here: no space left on the device")
    assert files == []  # nothing half-written, no working folder


def test_read_only_disk(tmp_path: Path, tmpfs_ok: bool) -> None:
    if not tmpfs_ok:
        pytest.skip("cannot mount a tmpfs here (no unshare / user namespaces)")
    mnt = tmp_path / "mnt"
    done, files = in_tmpfs(
        mnt, "64k", ["run", TINY, "--out", mnt / "r", *SHORT], tmp_path, options="ro"
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "read-only file system" in done.stderr
    assert files == []


# --------------------------------------------------------------------------- working folders


def test_killed_run_leaves_a_folder_the_next_run_removes(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "tiny"
    proc = subprocess.Popen(
        [sys.executable, "-m", "market_sim.cli", "run", str(TINY), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            parent = out.parent
            if parent.is_dir() and any(p.name.startswith(".tiny.tmp-") for p in parent.iterdir()):
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    if not left:
        pytest.skip("the run finished before it could be killed")
    assert not out.exists()
    ok(cli("run", TINY, "--out", out.parent / "other", *SHORT))  # same parent folder
    assert _leftovers(out.parent) == []


def test_clean_stale_spares_live_and_fresh_folders(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / (prefix("a").replace(str(os.getpid()), str(sleeper.pid)) + "xyz")
        live.mkdir()
        dead_pid = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout.strip()
        dead = tmp_path / (prefix("b").replace(str(os.getpid()), dead_pid) + "xyz")
        dead.mkdir()
        mine = tmp_path / (prefix("c") + "xyz")  # this process: a concurrent writer
        mine.mkdir()
        legacy_old = tmp_path / ".d.tmp-k2j3h4l5"
        legacy_old.mkdir()
        old = time.time() - STALE_AFTER_S - 60
        os.utime(legacy_old, (old, old))
        legacy_new = tmp_path / ".e.tmp-k2j3h4l5"
        legacy_new.mkdir()
        other = tmp_path / ".f.tmp-notours"  # not our pattern
        other.mkdir()
        aside = tmp_path / (prefix("g", "old").replace(str(os.getpid()), dead_pid) + "xyz")
        aside.mkdir()
        (aside / "run.json").write_text("{}")
        removed = {p.name for p in clean_stale(tmp_path)}
        assert removed == {dead.name, legacy_old.name, aside.name}
        assert live.exists() and mine.exists() and legacy_new.exists() and other.exists()
        assert (tmp_path / "g" / "run.json").is_file()  # the replaced folder was restored
    finally:
        sleeper.kill()
        sleeper.wait()


def test_runs_error_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(RunsError) as err:
        read_run_json(tmp_path / "file")
    assert err.value.exit_code == 2
