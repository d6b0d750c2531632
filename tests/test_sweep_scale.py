"""Sweeps that scale: workers write their own run files where they see the sweep's
folder (else the command writes what they send back), the command records checksums in
batches, the kernels are warmed once (the command's on-disk cache, then each worker
through a Dask plugin), and the warm-up covers every kernel a full run uses."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from fault_helpers import TINY, cli, ok
from market_sim.experiment import (
    SweepStore,
    load_sweep,
    make_plan,
    prepare,
    run_prepared,
    storage,
    worker,
)
from market_sim.experiment.execute import MAX_RUNS_PER_TASK, runs_per_task
from market_sim.experiment.verify import verify_store
from market_sim.experiment.worker import run_context, run_one
from market_sim.integrity import file_record

SWEEP = f"""
name = "scale"
base = "{TINY}"
seed = 5
sampler = "grid"
set = ["simulation.weeks=8"]

[parameters]
"startups.entry_per_week" = [5, 10, -1]

[outputs]
deliveries = {{ metric = "deliveries_units", window = "all" }}
"""
RUNS = 3


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "scale.toml"
    path.write_text(SWEEP)
    return path


def _tables(out: Path) -> dict[str, Any]:
    return {
        p.stem: pq.read_table(p).replace_schema_metadata(None)
        for p in sorted((out / "runs").glob("*.parquet"))
    }


def _context(sweep_file: Path, store: SweepStore | None, token: str | None, fp: str | None):
    sweep = load_sweep(sweep_file)
    return sweep, run_context(
        {k: v.data for k, v in sweep.scenarios.items()},
        list(sweep.outputs.values()),
        sweep.series,
        runs_dir=None if store is None else store.runs_dir,
        token=token,
        fingerprint=fp,
    )


# --------------------------------------------------------------------------- one task


def test_worker_writes_where_it_sees_the_token(sweep_file: Path, tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "out")
    token = store.open_for_workers()
    assert token and list(store.runs_dir.glob(".writer-*"))
    sweep, context = _context(sweep_file, store, token, "fp1")
    spec = make_plan(sweep).runs[0]
    result = run_one(spec, context)
    path = store.run_path(spec.run_id)
    assert result.data is None and not result.existed and path.is_file()
    assert result.record == file_record(path)
    assert store.run_meta(spec.run_id)["fingerprint"] == "fp1"
    assert store.records() == {}  # the command records it, not the worker
    store.close_for_workers(token)
    assert not list(store.runs_dir.glob(".*"))


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_worker_sends_the_file_back_elsewhere(
    sweep_file: Path, tmp_path: Path, token: str | None
) -> None:
    store = SweepStore(tmp_path / "out")
    real = store.open_for_workers()
    sweep, context = _context(sweep_file, store, token, None)
    spec = make_plan(sweep).runs[0]
    result = run_one(spec, context)
    assert result.record is None and result.data is not None
    assert not store.run_path(spec.run_id).exists()
    assert store.write_run_data(spec.run_id, result.data, batch=False)
    assert store.records()[spec.run_id] == file_record(store.run_path(spec.run_id))
    store.close_for_workers(real)


def test_a_failed_write_is_sent_back(
    sweep_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    store = SweepStore(tmp_path / "out")
    sweep, context = _context(sweep_file, store, store.open_for_workers(), None)
    monkeypatch.setattr(worker, "write_run_file", full)
    result = run_one(make_plan(sweep).runs[0], context)
    assert result.data is not None and result.record is None and not result.existed


def test_an_existing_file_is_never_rewritten(sweep_file: Path, tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "out")
    token = store.open_for_workers()
    sweep, context = _context(sweep_file, store, token, "fp1")
    spec = make_plan(sweep).runs[0]
    first = run_one(spec, context)
    stamp = store.run_path(spec.run_id).stat().st_mtime_ns
    again = run_one(spec, context)  # a task rerun after its worker wrote the file and died
    assert again.existed and again.record == first.record
    assert store.run_path(spec.run_id).stat().st_mtime_ns == stamp
    _, other = _context(sweep_file, store, token, "another-design")
    foreign = run_one(spec, other)
    assert foreign.existed and foreign.record is None  # left for --resume to judge


# --------------------------------------------------------------------------- the index


def test_checksum_lines_are_appended_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SweepStore(tmp_path / "out")
    store.runs_dir.mkdir(parents=True)
    monkeypatch.setattr(storage, "FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(storage, "FLUSH_RECORDS", 4)
    rec = {"bytes": 1, "sha256": "0" * 64}
    for i in range(3):
        store.add_record(f"r{i}", rec)
    assert not store.index_path.exists()
    store.add_record("r3", rec)  # the fourth line: a batch
    assert len(store.records()) == 4
    store.add_record("r4", rec)
    store.flush_records()
    assert set(store.records()) == {f"r{i}" for i in range(5)}
    assert len(store.index_path.read_text().splitlines()) == 5


def test_a_failed_flush_keeps_its_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SweepStore(tmp_path / "out")
    store.runs_dir.mkdir(parents=True)
    store.add_record("r0", {"bytes": 1, "sha256": "0" * 64}, batch=True)

    def broken(entries: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "record", broken)
    with pytest.raises(OSError):
        store.flush_records()
    monkeypatch.undo()
    store.flush_records()
    assert set(store.records()) == {"r0"}


# --------------------------------------------------------------------------- whole sweeps


def _run(sweep_file: Path, out: Path, **kwargs: Any) -> tuple[Any, list]:
    sweep = load_sweep(sweep_file)
    prepared = prepare(sweep, out, resume=False)
    seen: list = []
    progress = run_prepared(
        sweep, prepared, workers=1, on_result=lambda r, w: seen.append((r, w)), **kwargs
    )
    return progress, seen


def test_workers_write_and_the_command_records(sweep_file: Path, tmp_path: Path) -> None:
    phases: list[str] = []
    checks: dict[str, Any] = {}
    client_box: list = []

    def phase(name: str, info: dict) -> None:
        phases.append(name)
        if name == "kernels":
            assert "error" not in info and info["seconds"] > 0
        if name == "runs":  # the workers warmed up through the plugin, once
            checks.update(
                client_box[0].run(
                    lambda dask_worker: (
                        "market-sim-warm-up" in dask_worker.plugins,
                        sys.modules["market_sim.experiment.warm"]._warm is not None,
                        __import__("gc").get_freeze_count() > 0,
                        "profile" not in dask_worker.periodic_callbacks,  # no profiler
                    )
                )
            )

    out = tmp_path / "local"
    progress, seen = _run(sweep_file, out, on_phase=phase, on_connected=client_box.append)
    assert phases == ["kernels", "workers", "runs"]
    assert checks and all(all(v) for v in checks.values()), checks
    assert progress.done == RUNS and progress.failed == 1
    assert all(r.data is None and r.record is not None and written for r, written in seen)
    store = SweepStore(out)
    check = verify_store(store, None, None)
    assert len(check.good) == RUNS and not check.adopted and not check.damaged
    assert not list(store.runs_dir.glob(".*"))  # writer token removed


def test_the_command_writes_for_workers_without_the_folder(
    sweep_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote cluster without shared storage: no worker sees the token, every file
    comes back and is written by the command, with the same tables."""
    local = tmp_path / "local"
    _run(sweep_file, local, warm=False)
    monkeypatch.setattr(SweepStore, "open_for_workers", lambda self: None)
    out = tmp_path / "driver"
    progress, seen = _run(sweep_file, out, warm=False)
    assert progress.done == RUNS
    assert all(r.data is not None and written for r, written in seen)
    assert _tables(out) == _tables(local)
    check = verify_store(SweepStore(out), None, None)
    assert len(check.good) == RUNS and not check.damaged


def test_runs_shared_by_tasks_give_the_same_files(sweep_file: Path, tmp_path: Path) -> None:
    one = tmp_path / "one"
    _run(sweep_file, one, warm=False, per_task=1)
    out = tmp_path / "two"
    progress, seen = _run(sweep_file, out, warm=False, per_task=2)  # tasks of 2 and 1 runs
    assert progress.done == RUNS and len(seen) == RUNS
    assert _tables(out) == _tables(one)
    assert len(verify_store(SweepStore(out), None, None).good) == RUNS


def test_runs_per_task_grows_with_the_sweep() -> None:
    assert runs_per_task(40, 2) == 2
    assert runs_per_task(12, 2) == 1
    assert runs_per_task(10_000, 2) == MAX_RUNS_PER_TASK
    assert runs_per_task(10_000, 100) == 12  # still 8 tasks a worker
    assert runs_per_task(5, 0) == 1


def test_the_warm_up_stops_the_profiler_of_a_joining_worker() -> None:
    """On another cluster's worker (profiler on) the plugin removes the profiler's
    callbacks before the worker starts them, and drops its history."""
    from market_sim.experiment.warm import quiet_profiler

    class Callback:
        def __init__(self) -> None:
            self.stopped = False

        def stop(self) -> None:
            self.stopped = True

    class Worker:
        def __init__(self) -> None:
            self.periodic_callbacks = {"profile": Callback(), "profile-cycle": Callback(), "x": 1}
            self.profile_history = [1, 2]
            self.profile_keys_history = [3]

    worker = Worker()
    kept = dict(worker.periodic_callbacks)
    quiet_profiler(worker)
    assert worker.periodic_callbacks == {"x": 1}
    assert kept["profile"].stopped and kept["profile-cycle"].stopped
    assert worker.profile_history == [] and worker.profile_keys_history == []


def test_the_cli_shows_the_warm_up_as_its_own_phase(sweep_file: Path, tmp_path: Path) -> None:
    result = ok(cli("sweep", sweep_file, "--workers", "1", "--out", tmp_path / "o", "--no-report"))
    assert "Warm-up, kernel cache:" in result.output
    assert "Warm-up, workers:" in result.output
    assert f"Done: {RUNS} of {RUNS} runs saved" in result.output


# --------------------------------------------------------------------------- the warm-up

SIGNATURES = """
import json, sys
from market_sim.experiment.warm import kernel_dispatchers, warm_kernels
if sys.argv[1] == "warm":
    warm_kernels()
else:
    from market_sim.experiment.worker import simulate
    simulate(None, seed=int(sys.argv[2]), overrides=sys.argv[3:])
print(json.dumps({k: sorted(map(str, d.signatures)) for k, d in kernel_dispatchers().items()}))
"""


def _signatures(*args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SIGNATURES, *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "run",
    [
        ("1",),
        ("2", "policy.allocation=auction", "startups.count=2000"),
        ("3", "policy.allocation=fifo", "simulation.weeks=52"),
        ("4", "startups.count=300000", "simulation.weeks=3"),  # columns side by side
    ],
    ids=["baseline", "auction", "fifo-52w", "large-population"],
)
def test_the_warm_up_compiles_every_kernel_a_run_uses(run: tuple[str, ...]) -> None:
    warm = _signatures("warm")
    used = _signatures("run", *run)
    missing = {k: set(v) - set(warm.get(k, [])) for k, v in used.items()}
    assert not {k: v for k, v in missing.items() if v}, missing
