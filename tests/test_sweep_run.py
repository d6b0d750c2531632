"""Sweeps end to end on dask: failed runs recorded, an existing cluster gives the same
Parquet contents, a killed driver resumes without losing or repeating a run.

One small sweep (tests/fixtures/sweeps/small.toml: 20 weeks, 12 runs, 4 invalid) is run
once locally; the other tests compare with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment import SweepStore, load_sweep, make_plan

SMALL = Path(__file__).resolve().parent / "fixtures" / "sweeps" / "small.toml"
runner = CliRunner()


def _sweep(*args: str) -> None:
    result = runner.invoke(app, ["sweep", str(SMALL), *args])
    assert result.exit_code == 0, result.output + result.stderr


def _tables(out: Path) -> dict[str, object]:
    """Every run file's table, without its metadata (timings)."""
    return {
        p.stem: pq.read_table(p).replace_schema_metadata(None)
        for p in sorted((out / "runs").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def planned() -> set[str]:
    return {r.run_id for r in make_plan(load_sweep(SMALL, check_metrics=False)).runs}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "out"
    _sweep("--workers", "2", "--out", str(out))
    return out


def test_local_sweep_records_failures_and_reports(local: Path, planned: set[str]) -> None:
    tables = _tables(local)
    assert set(tables) == planned
    store = SweepStore(local)
    failed = store.failed()
    assert len(failed) == 4 and all("-s0004-" in r or "-s0005-" in r for r in failed)
    errors = store.query("SELECT DISTINCT error FROM runs WHERE status = 'failed'")["error"]
    assert len(errors) == 1 and "startups.entry_per_week" in errors[0]
    ok = store.query("SELECT count(*) AS n FROM runs WHERE kind = 'series' AND status = 'ok'")
    assert ok["n"][0] == 8 * 3 * 20  # 8 ok runs x 3 kept series x 20 weeks
    assert (local / "report.html").is_file()
    html = (local / "report.html").read_text()
    for needle in ("Claims", "Outcome distributions", "Sensitivity", "market-sim run"):
        assert needle in html


def test_report_draws_in_a_browser(local: Path) -> None:
    from market_sim.report.browser import check_report, chromium_path

    if chromium_path() is None:
        pytest.skip("no Chromium installed")
    check = check_report(local / "report.html")
    assert check.errors == [] and check.charts >= 5 and check.drawn == check.charts


def test_resume_of_a_finished_sweep_runs_nothing(local: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in (local / "runs").iterdir()}
    result = runner.invoke(
        app, ["sweep", str(SMALL), "--out", str(local), "--resume", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert "12 runs already done, 0 to run" in result.output
    assert {p.name: p.stat().st_mtime_ns for p in (local / "runs").iterdir()} == before


def test_new_sweep_into_a_used_folder_is_refused(local: Path) -> None:
    result = runner.invoke(app, ["sweep", str(SMALL), "--out", str(local)])
    assert result.exit_code == 2
    assert "already holds a sweep; add --resume" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    bindir = Path(sys.executable).parent
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")
    procs = [
        subprocess.Popen(
            [
                str(bindir / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            stdout=log,
            stderr=log,
            cwd=tmp_path,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        str(bindir / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--local-directory",
                        str(tmp_path),
                    ],
                    stdout=log,
                    stderr=log,
                    cwd=tmp_path,
                )
            )
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
        with Client(address, timeout="10s") as client:
            client.shutdown()  # scheduler and workers close themselves (faster than SIGTERM)
    finally:
        _stop(procs[::-1])
        log.close()


def test_existing_cluster_gives_the_same_parquet(
    local: Path, dask_cluster: str, tmp_path: Path
) -> None:
    out = tmp_path / "remote"
    _sweep("--scheduler", dask_cluster, "--out", str(out), "--no-report")
    remote, reference = _tables(out), _tables(local)
    assert set(remote) == set(reference)
    for run_id, table in reference.items():
        assert remote[run_id].equals(table), run_id


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def test_killed_driver_resumes_without_loss_or_repeat(
    local: Path, planned: set[str], tmp_path: Path
) -> None:
    import psutil

    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "market_sim.cli",
            "sweep",
            str(SMALL),
            "--workers",
            "1",
            "--out",
            str(out),
            "--no-report",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and driver.poll() is None:
            children = _descendants(driver.pid) or children
            if len(list((out / "runs").glob("*.parquet"))) >= 2:
                break
            time.sleep(0.02)
        os.kill(driver.pid, signal.SIGKILL)  # the driver only: its workers must notice
        driver.wait(timeout=30)
        first = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
        assert 0 < len(first) < len(planned), "the kill did not land mid-sweep"
        _, alive = psutil.wait_procs(
            [psutil.Process(c) for c in children if psutil.pid_exists(c)], timeout=30
        )
        assert not alive, "worker processes outlived their killed driver"

        result = runner.invoke(
            app,
            ["sweep", str(SMALL), "--out", str(out), "--resume", "--workers", "2", "--no-report"],
        )
        assert result.exit_code == 0, result.output + result.stderr
        assert f"{len(first)} runs already done" in result.output
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)  # anything left of the killed sweep
        except ProcessLookupError:
            pass
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
    assert {name for name in after} == {f"{r}.parquet" for r in planned}
    assert {k: after[k] for k in first} == first  # finished runs were not rewritten
    assert not list((out / "runs").glob(".*"))  # no temporary files left
    resumed, reference = _tables(out), _tables(local)
    for run_id, table in reference.items():
        assert resumed[run_id].equals(table), run_id
