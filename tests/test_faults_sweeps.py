"""Fault injection, sweep stores: lost manifests, a changed design, truncated, altered,
missing, unrecorded and foreign run files, malformed manifests, huge grids, bad
scheduler addresses, markup in run errors, a full disk and a killed worker. The store
refuses what does not match its design, repairs what it can (reruns), and names the
rest; results after a repair are the reference results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from fault_helpers import TINY, can_mount_tmpfs, cli, in_tmpfs, ok, one_line
from market_sim.experiment import SweepStore
from market_sim.experiment.verify import verify_store

SWEEP = f"""
name = "faults"
base = "{TINY}"
seed = 3
sampler = "grid"
set = ["simulation.weeks=20"]

[parameters]
"startups.entry_per_week" = [5, 10, 20, 40]
"policy.allocation" = ["priority", "pro_rata"]

[outputs]
deliveries = {{ metric = "deliveries_units", window = "all" }}
installed = {{ metric = "installed_h100e", window = "last:4", agg = "mean" }}
"""
RUNS = 8


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("sweepfiles")
    a = base / "faults.toml"
    a.write_text(SWEEP)
    b = base / "changed.toml"
    b.write_text(SWEEP.replace("[5, 10, 20, 40]", "[6, 10, 20, 40]"))
    return {"a": a, "b": b}


@pytest.fixture(scope="module")
def reference(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    ok(cli("sweep", files["a"], "--workers", "2", "--out", out))
    assert len(list((out / "runs").glob("*.parquet"))) == RUNS
    return out


def _tables(out: Path) -> dict[str, object]:
    return {
        p.stem: pq.read_table(p).replace_schema_metadata(None)
        for p in sorted((out / "runs").glob("*.parquet"))
    }


def _same_as(out: Path, reference: Path) -> None:
    got, want = _tables(out), _tables(reference)
    assert set(got) == set(want)
    for run_id, table in want.items():
        assert got[run_id].equals(table), run_id


def _copy(reference: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    return out


def _resume(files: dict[str, Path], out: Path, *more: str):
    return cli("sweep", files["a"], "--out", out, "--resume", "--workers", "1", *more)


def _one_run(out: Path) -> str:
    return sorted(p.stem for p in (out / "runs").glob("*.parquet"))[1]


# --------------------------------------------------------------------------- stale runs


def test_lost_manifest_and_changed_design_is_refused(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    (out / "manifest.json").unlink()
    line = one_line(cli("sweep", files["b"], "--out", out, "--workers", "1"))
    assert "holds 8 run files but no manifest.json" in line
    line = one_line(cli("sweep", files["b"], "--out", out, "--workers", "1", "--resume"))
    assert "was written by another design of the sweep" in line
    assert not (out / "manifest.json").exists()
    result = ok(_resume(files, out, "--no-report"))  # the same design: rebuilt, nothing rerun
    assert "was missing; rebuilt" in result.stderr
    assert "8 runs already done, 0 to run" in result.stdout
    _same_as(out, reference)


def test_changed_design_with_manifest_is_refused(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    line = one_line(cli("sweep", files["b"], "--out", out, "--resume"))
    assert "changed since this folder was planned" in line
    line = one_line(cli("sweep", files["b"], "--out", out))
    assert "already holds a sweep" in line


def test_new_sweep_into_a_folder_with_other_files(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("mine")
    line = one_line(cli("sweep", files["a"], "--out", tmp_path))
    assert "is not empty and holds no sweep" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


# --------------------------------------------------------------------------- damaged files


def test_truncated_run_file_is_named_then_rerun(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    run_id = _one_run(out)
    path = out / "runs" / f"{run_id}.parquet"
    os.truncate(path, path.stat().st_size // 3)
    result = ok(cli("report", out))  # no DuckDB traceback: the file is named, left out
    assert f"{path}: truncated or changed since it was written" in result.stderr
    assert "Damaged run files" in (out / "report.html").read_text()
    result = ok(cli("query", out, "--csv", "SELECT count(DISTINCT run_id) AS n FROM runs"))
    assert result.stdout.splitlines() == ["n", str(RUNS - 1)] and run_id in result.stderr
    result = ok(_resume(files, out, "--retry-failed", "--no-report"))
    assert f"{path}: truncated" in result.stderr and "moved to" in result.stderr
    assert "7 runs already done, 1 to run" in result.stdout
    assert (out / "damaged" / f"{run_id}.parquet").is_file()
    _same_as(out, reference)
    check = verify_store(SweepStore(out), None, None)
    assert not check.damaged and not check.missing and len(check.good) == RUNS


def test_altered_but_valid_run_file_is_found(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    run_id = _one_run(out)
    path = out / "runs" / f"{run_id}.parquet"
    table = pq.read_table(path)
    i = table.schema.get_field_index("value")
    pq.write_table(table.set_column(i, "value", pc.multiply(table["value"], 1.5)), path)
    result = ok(_resume(files, out, "--no-report"))
    assert f"{path}: " in result.stderr and "changed since it was written" in result.stderr
    assert "1 to run" in result.stdout
    _same_as(out, reference)


def test_missing_recorded_run_file_is_rerun(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    run_id = _one_run(out)
    (out / "runs" / f"{run_id}.parquet").unlink()
    result = ok(cli("report", out))
    assert "recorded as written but missing" in result.stderr
    result = ok(_resume(files, out, "--no-report"))
    assert "recorded as written but missing; run again" in result.stderr
    _same_as(out, reference)


def test_unrecorded_and_torn_index_lines(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    index = out / "checksums.jsonl"
    lines = index.read_text().splitlines()
    index.write_text("\n".join(lines[1:]) + '\n{"run_id": "torn')  # lost first line, torn last
    result = ok(_resume(files, out, "--no-report"))
    assert "8 runs already done, 0 to run" in result.stdout  # the valid file is adopted
    store = SweepStore(out)
    assert len([r for r in store.records().values() if r]) == RUNS
    check = verify_store(store, None, None)
    assert len(check.good) == RUNS


def test_foreign_run_file_is_set_aside(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    out = _copy(reference, tmp_path)
    src = out / "runs" / f"{_one_run(out)}.parquet"
    shutil.copy(src, out / "runs" / "stranger-s9999-r00.parquet")
    result = ok(cli("report", out))
    assert "stranger-s9999-r00.parquet: is not a run of this sweep" in result.stderr
    result = ok(_resume(files, out, "--no-report"))
    assert (out / "damaged" / "stranger-s9999-r00.parquet").is_file()
    _same_as(out, reference)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda m: "{broken", "not valid JSON"),
        (lambda m: json.dumps({**m, "runs": "all"}), "field 'runs'"),
        (lambda m: json.dumps({k: v for k, v in m.items() if k != "fingerprint"}), "fingerprint"),
        (
            lambda m: json.dumps({**m, "runs": [{**m["runs"][0], "seed": "7"}, *m["runs"][1:]]}),
            "runs[0].seed",
        ),
        (lambda m: json.dumps({**m, "base": "nowhere"}), "field 'base'"),
        (lambda m: json.dumps({**m, "format": 99}), "has format 99"),
        (lambda m: json.dumps({**m, "parameters": [{"path": "x"}]}), "parameters[0] lacks"),
    ],
)
def test_malformed_manifest_is_one_line(
    files: dict[str, Path], reference: Path, tmp_path: Path, edit, needle: str
) -> None:
    out = _copy(reference, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(edit(manifest))
    line = one_line(cli("report", out))
    assert line.startswith(f"{out / 'manifest.json'}: ") and needle in line
    line = one_line(_resume(files, out))
    assert needle in line
    result = ok(cli("query", out, "--csv", "SELECT count(DISTINCT run_id) AS n FROM runs"))
    assert result.stdout.splitlines() == ["n", str(RUNS)] and "cannot be checked" in result.stderr


# --------------------------------------------------------------------------- inputs


def test_huge_grid_is_refused_before_it_is_built(tmp_path: Path) -> None:
    keys = ["count", "entry_per_week", "runway_weeks", "raise_multiple"]
    keys += ["funding_pareto_alpha", "willingness_weeks", "price_elasticity", "value_sigma"]
    ten = ", ".join(["1"] * 10)
    params = "".join(f'"startups.{k}" = [{ten}]\n' for k in keys)  # 10^8 points
    head = SWEEP.split("[parameters]")[0]
    f = tmp_path / "huge.toml"
    f.write_text(f'{head}[parameters]\n{params}[outputs]\nd = {{ metric = "deliveries_units" }}\n')
    line = one_line(cli("sweep", f, "--out", tmp_path / "out"))
    assert "the sweep plans 100,000,000 runs" in line and "the most is" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["foo://bar:1", "tcp://host", "[/]", "tcp://:8786", "x:99999"])
def test_malformed_scheduler_address(files: dict[str, Path], tmp_path: Path, address: str) -> None:
    line = one_line(cli("sweep", files["a"], "--scheduler", address, "--out", tmp_path / "o"))
    assert line.startswith("--scheduler: ") and "tcp://HOST:8786" in line
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_leaves_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    line = one_line(cli("sweep", files["a"], "--scheduler", address, "--out", tmp_path / "o"), 1)
    assert line.startswith(f"--scheduler: cannot reach {address}")
    assert not (tmp_path / "o").exists()


def test_markup_in_run_errors_does_not_break_the_sweep(tmp_path: Path) -> None:
    f = tmp_path / "markup.toml"
    f.write_text(SWEEP.replace('["priority", "pro_rata"]', '["priority", "[/]bad[bold]"]'))
    out = tmp_path / "out"
    result = ok(cli("sweep", f, "--workers", "1", "--out", out))
    assert "'[/]bad[bold]' is not allowed" in result.stdout
    assert (out / "report.html").is_file()
    assert len(SweepStore(out).failed()) == 4


# --------------------------------------------------------------------------- environment


def test_full_disk_during_a_sweep(files: dict[str, Path], tmp_path: Path) -> None:
    if not can_mount_tmpfs(tmp_path):
        pytest.skip("cannot mount a tmpfs here (no unshare / user namespaces)")
    mnt = tmp_path / "mnt"
    args = ["sweep", files["a"], "--workers", "1", "--out", mnt / "sw"]
    done, names = in_tmpfs(mnt, "40k", args, tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "no space left on the device" in lines[0]
    assert not [n for n in names if Path(n).name.startswith(".")]  # no half-written file
    runs = [n for n in names if n.endswith(".parquet")]
    if runs:  # what was saved is whole: it resumes to the reference results
        assert "--resume" in lines[0]


def test_killed_worker_run_is_rerun_by_the_cluster(
    files: dict[str, Path], reference: Path, tmp_path: Path
) -> None:
    import psutil

    out = tmp_path / "killed"
    log = (tmp_path / "driver.log").open("w+")
    command = ["sweep", files["a"], "--workers", "1", "--out", out, "--no-report"]
    driver = subprocess.Popen(
        [sys.executable, "-m", "market_sim.cli", *map(str, command)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    killed = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and driver.poll() is None:
            if len(list((out / "runs").glob("*.parquet"))) >= 1:
                for p in psutil.Process(driver.pid).children(recursive=True):
                    try:
                        if "spawn_main" in " ".join(p.cmdline()):
                            killed = len(list((out / "runs").glob("*.parquet")))
                            p.kill()
                            break
                    except psutil.NoSuchProcess:
                        continue
                if killed is not None:
                    break
            time.sleep(0.02)
        driver.wait(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        log.seek(0)
        stderr = log.read()
        log.close()
    if killed is None or killed >= RUNS:
        pytest.skip("the worker could not be killed mid-sweep")
    # the nanny restarts the worker and the scheduler reruns its run (and recomputes the
    # runs' shared context, which died with the worker)
    assert driver.returncode == 0, stderr
    assert "Traceback" not in stderr and "lost" not in stderr
    _same_as(out, reference)
    check = verify_store(SweepStore(out), None, None)
    assert len(check.good) == RUNS and not check.damaged
