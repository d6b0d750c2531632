#!/usr/bin/env python
"""Benchmark sweep execution: throughput, the command's cost per result, compile once,
and memory over a long sweep.

Modes (each prints a table and writes JSON to ``scripts/results/bench_sweep-<mode>-<UTC
timestamp>.json``; every ratio is measured in the same run):

- default: 40 runs of the baseline (156 weeks, 2,000 startups, a Latin hypercube over
  the startups' value of compute) with 1 and 2 local workers, the way ``market-sim
  sweep`` runs them (warm-up, workers writing their files): runs/s, the speedup, the
  overhead (worker time not spent in runs) and whether both wrote identical tables.
- ``--stub``: the command's cost per result. A scheduler and 2 workers run as separate
  processes (as on a cluster); each task runs a model stub that returns at once, so the
  command, the scheduler and the workers' file writes are all there is. Three ways of
  handling results, side by side: ``workers write`` (the default path: workers write
  their files, the command gathers results in batches and appends checksum lines in
  batches), ``command writes`` (a cluster without shared storage: files come back and
  the command writes them), and ``per result`` (the path before this change: one
  request per result, the command writes each file and fsyncs a checksum line each).
  Per result: the command's CPU (its whole process: main thread and Dask's I/O thread),
  the scheduler's CPU and the workers' CPU. From those it projects, on paper, the
  throughput at 100 and 1,000 workers: min(workers / worker time per run, 1 / command
  cost, 1 / scheduler cost), with the stub and with real runs of ``--run-s`` seconds.
- ``--cold``: compile once. The on-disk kernel cache is emptied, then a short sweep
  runs on 2 workers without the warm-up (each worker compiles what it needs: the
  previous behaviour), the cache is emptied again and the same sweep runs with it (the
  command warms the cache once, then the workers load it). Time to the first result,
  wall time and CPU time of all processes.
- ``--long``: 10,000 runs of a 52-week, 600-startup design on 2 workers; the workers'
  RSS sampled every 50 results: its maximum by run 500 against the maximum at the end
  (target: within 10%). Takes 15-40 minutes on 2 cores.

    python scripts/bench_sweep.py                  # 40 runs x 2 (about 5 minutes on 2 cores)
    python scripts/bench_sweep.py --runs 8 --weeks 52   # quick check
    python scripts/bench_sweep.py --stub           # about a minute
    python scripts/bench_sweep.py --cold           # about 2-3 minutes
    python scripts/bench_sweep.py --long

The machine should be otherwise idle: other processes on its cores show as overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq

from market_sim.experiment import SweepStore, load_sweep, make_plan, prepare, run_prepared
from market_sim.experiment.execute import execute
from market_sim.experiment.runner import keep_result, model_source_hash
from market_sim.experiment.worker import run_context, run_one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def sweep_file(folder: Path, runs: int, weeks: int, startups: int, name: str = "bench") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nbase = "{ROOT / "scenarios" / "baseline.toml"}"\nsampler = "lhs"\n'
        f"samples = {runs}\nseed = 1\n"
        f'set = ["startups.count={startups}", "simulation.weeks={weeks}"]\n'
        '[parameters]\n"startups.value_usd_per_gpu_hour" = { min = 3.0, max = 8.0 }\n'
        '[outputs]\nlead = { metric = "lead_time_weeks_median@startups", window = "all" }\n'
    )
    return path


def cpu_of_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def save(mode: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    data = {
        "timestamp": stamp,
        "mode": mode,
        "cpu_count": os.cpu_count(),
        "loadavg_after": load,
        "python": sys.version,
        "platform": platform.platform(),
        **data,
    }
    out = RESULTS / f"bench_sweep-{mode}-{stamp}.json"
    out.write_text(json.dumps(data, indent=1, default=str))
    print(f"wrote {out}")
    return out


# --------------------------------------------------------------------------- default


def bench_workers(path: Path, workers: int, out: Path) -> dict:
    sweep = load_sweep(path)
    prepared = prepare(sweep, out, resume=False)
    elapsed: list[float] = []
    cpu: list[float] = []
    seen: set[str] = set()
    marks: dict[str, float] = {}

    def done(result, written: bool) -> None:
        elapsed.append(result.elapsed_s)
        cpu.append(result.cpu_s)
        seen.add(result.worker)

    def phase(name: str, info: dict) -> None:
        marks[name] = time.perf_counter()
        marks[f"{name}_info"] = info  # type: ignore[assignment]

    t_start = time.perf_counter()
    progress = run_prepared(sweep, prepared, workers, on_result=done, on_phase=phase)
    t_end = time.perf_counter()
    wall = t_end - marks["runs"]
    busy = sum(elapsed)
    return {
        "workers": workers,
        "runs": progress.done,
        "failed": progress.failed,
        "wall_s": wall,
        "runs_per_s": progress.done / wall,
        "sum_run_s": busy,
        "mean_run_s": busy / max(progress.done, 1),
        "mean_run_cpu_s": sum(cpu) / max(progress.done, 1),
        "overhead": (wall * workers - busy) / busy,
        "start_and_warm_up_s": marks["runs"] - t_start,
        "kernels": marks.get("kernels_info"),
        "workers_warm_up_s": marks["workers_info"]["seconds"],  # type: ignore[index]
        "worker_processes": len(seen),
    }


def differing_runs(a: Path, b: Path) -> list[str]:
    """Run files that differ (or exist on one side only) between two sweep folders."""
    files_a = {p.name for p in (a / "runs").glob("*.parquet")}
    files_b = {p.name for p in (b / "runs").glob("*.parquet")}
    diff = sorted(files_a ^ files_b)
    for f in sorted(files_a & files_b):
        ta = pq.read_table(a / "runs" / f).replace_schema_metadata(None)
        tb = pq.read_table(b / "runs" / f).replace_schema_metadata(None)
        if not ta.equals(tb):
            diff.append(f)
    return diff


def main_default(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_sweep-") as tmp:
        folder = Path(tmp)
        path = sweep_file(folder, args.runs, args.weeks, args.startups)
        source = model_source_hash()
        rows = [bench_workers(path, n, folder / f"w{n}") for n in (1, 2)]
        source_changed = model_source_hash() != source
        differing = differing_runs(folder / "w1", folder / "w2")
    one, two = rows
    speedup = two["runs_per_s"] / one["runs_per_s"]
    print(
        f"{args.runs} runs of the baseline, {args.weeks} weeks, {args.startups:,} startups "
        f"({os.cpu_count()} cores)"
    )
    print(
        f"{'workers':>8} {'runs/s':>8} {'wall s':>8} {'run s':>7} {'cpu s':>7} {'overhead':>9}"
        f" {'start+warm s':>13}"
    )
    for r in rows:
        print(
            f"{r['workers']:>8} {r['runs_per_s']:>8.3f} {r['wall_s']:>8.1f} "
            f"{r['mean_run_s']:>7.2f} {r['mean_run_cpu_s']:>7.2f} {r['overhead']:>9.1%}"
            f" {r['start_and_warm_up_s']:>13.1f}"
        )
    print(
        "run s: wall time of a run in its worker; cpu s: its CPU time (run s > cpu s: "
        "the cores were shared with other processes); start+warm: cluster start and warm-up"
    )
    print(f"speedup 2 vs 1 workers: {speedup:.2f}x (target >= 1.7x)")
    slow = [r["mean_run_s"] / r["mean_run_cpu_s"] for r in rows]
    free_cores = speedup * slow[1] / slow[0]
    print(
        f"cores shared with other processes: runs took {slow[0]:.2f}x / {slow[1]:.2f}x their "
        f"CPU time; speedup estimated on free cores: {free_cores:.2f}x"
    )
    worst = max(r["overhead"] for r in rows)
    print(f"overhead: at most {worst:.1%} of run time (target < 5%)")
    print(f"identical Parquet tables with 1 and 2 workers: {not differing}")
    if source_changed:
        print("warning: the model's source code changed during the benchmark")
    save(
        "default",
        {
            "runs": args.runs,
            "weeks": args.weeks,
            "startups": args.startups,
            "results": rows,
            "speedup": speedup,
            "speedup_free_cores_estimate": free_cores,
            "identical": not differing,
            "differing_runs": differing,
        },
    )
    return 0 if not differing else 1


# --------------------------------------------------------------------------- --stub


def stub_reduce(spec, context):
    """The model stub: returns at once a table the size of a 52-week run with one
    output (its value and its metric's weekly series)."""
    import numpy as np

    from market_sim.experiment.runfile import run_table

    series = {"lead_time_weeks_median@startups": np.zeros(52)}
    return "ok", None, run_table(asdict(spec), "ok", None, {"lead": 1.0}, series)


def legacy_execute(client, runs, context, store: SweepStore, handling: list[float]) -> int:
    """Results one request at a time; the command writes each file and fsyncs its
    checksum line at once (the path before this change)."""
    from distributed import as_completed

    ctx = client.submit(lambda c: c, dict(context), pure=False)
    futures = [
        client.submit(run_one, spec, ctx, reduce=stub_reduce, key=f"legacy-{spec.run_id}")
        for spec in runs
    ]
    done = 0
    for fut in as_completed(futures):
        result = fut.result()
        h0 = time.perf_counter()
        store.write_run_data(result.run_id, result.data, batch=False)
        handling[0] += time.perf_counter() - h0
        fut.release()
        done += 1
    return done


class Cluster:
    """``dask scheduler`` and N ``dask worker`` processes on this machine."""

    def __init__(self, folder: Path, workers: int):
        bindir = Path(sys.executable).parent
        self.file = folder / "scheduler.json"
        self.log = open(folder / "cluster.log", "w")
        common = {"stdout": self.log, "stderr": self.log, "cwd": folder}
        self.scheduler = subprocess.Popen(
            [str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(self.file)],
            **common,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.address = json.loads(self.file.read_text())["address"]
        worker = [str(bindir / "dask"), "worker", self.address, "--nthreads", "1"]
        worker += ["--no-nanny", "--no-dashboard", "--local-directory", str(folder)]
        self.workers = [subprocess.Popen(worker, **common) for _ in range(workers)]

    def cpu(self) -> dict[str, float]:
        def of(pid: int) -> float:
            t = psutil.Process(pid).cpu_times()
            return t.user + t.system

        return {
            "scheduler": of(self.scheduler.pid),
            "workers": sum(of(w.pid) for w in self.workers),
        }

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            p.terminate()
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()


def bench_stub_mode(client, cluster: Cluster, sweep, mode: str, out: Path) -> dict:
    store = SweepStore(out)
    prepared = prepare(sweep, out, resume=False)
    token = store.open_for_workers() if mode == "workers write" else None
    context = run_context(
        {k: v.data for k, v in sweep.scenarios.items()},
        list(sweep.outputs.values()),
        sweep.series,
        runs_dir=store.runs_dir,
        token=token,
        fingerprint=prepared.plan.fingerprint,
    )
    runs = prepared.pending
    handling = [0.0]  # wall time spent handling results (writes and fsyncs included)

    def handle(result) -> None:
        h0 = time.perf_counter()
        keep_result(store, result)
        handling[0] += time.perf_counter() - h0

    before = cluster.cpu()
    c0, m0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
    if mode == "per result":
        done = legacy_execute(client, runs, context, store, handling)
    else:
        done = execute(client, runs, context, handle, reduce=stub_reduce).done
        h0 = time.perf_counter()
        store.flush_records()
        handling[0] += time.perf_counter() - h0
    wall = time.perf_counter() - t0
    driver, main = time.process_time() - c0, time.thread_time() - m0
    after = cluster.cpu()
    store.close_for_workers(token)
    recorded = sum(1 for v in store.records().values() if v)
    n = max(done, 1)
    return {
        "mode": mode,
        "results": done,
        "recorded": recorded,
        "wall_s": wall,
        "results_per_s": done / wall,
        "driver_ms": 1000 * driver / n,
        "driver_main_thread_ms": 1000 * main / n,
        "handling_wall_ms": 1000 * handling[0] / n,
        "scheduler_ms": 1000 * (after["scheduler"] - before["scheduler"]) / n,
        "workers_ms": 1000 * (after["workers"] - before["workers"]) / n,
    }


def measured_run_s() -> float | None:
    """Wall time of one warm 156-week baseline run (second of two, in a fresh process)."""
    code = (
        "import time\nfrom market_sim.experiment.worker import simulate\nsimulate(None)\n"
        "t = time.perf_counter(); simulate(None); print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def project(row: dict, workers: int, run_s: float | None) -> float:
    """Runs/s on paper: min(workers / time per run, 1 / command cost, 1 / scheduler)."""
    per_run = row["workers_ms"] / 1000 if run_s is None else run_s
    command = max(row["driver_ms"], row["handling_wall_ms"])
    caps = [workers / per_run, 1000 / command, 1000 / max(row["scheduler_ms"], 1e-9)]
    return min(caps)


def main_stub(args: argparse.Namespace) -> int:
    from distributed import Client

    with tempfile.TemporaryDirectory(prefix="bench_sweep_stub-") as tmp:
        folder = Path(tmp)
        path = sweep_file(folder, args.stub_runs, 52, 600, name="stub")
        sweep = load_sweep(path)
        make_plan(sweep)
        cluster = Cluster(folder, 2)
        try:
            with Client(cluster.address, timeout="60s") as client:
                client.wait_for_workers(2, timeout=120)
                client.run(lambda: __import__("market_sim.experiment.worker"))
                # a short warm-up of each path, then the measured rounds
                for mode in ("workers write", "command writes", "per result"):
                    warm = sweep_file(folder, 50, 52, 600, name=f"warm{len(mode)}")
                    bench_stub_mode(client, cluster, load_sweep(warm), mode, folder / f"w{mode}")
                rows = [
                    bench_stub_mode(client, cluster, sweep, mode, folder / mode.replace(" ", "_"))
                    for mode in ("workers write", "command writes", "per result")
                ]
        finally:
            cluster.close()
    run_s = measured_run_s()
    print(
        f"{args.stub_runs:,} stub runs per path on 2 workers (scheduler and workers in their "
        f"own processes; {os.cpu_count()} cores)"
    )
    head = (
        f"{'path':<16}{'results/s':>10}{'command ms':>11}{'(main thr.)':>12}"
        f"{'handling wall':>14}{'scheduler ms':>13}{'worker ms':>10}{'recorded':>9}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['mode']:<16}{r['results_per_s']:>10.0f}{r['driver_ms']:>11.3f}"
            f"{r['driver_main_thread_ms']:>12.3f}{r['handling_wall_ms']:>14.3f}"
            f"{r['scheduler_ms']:>13.3f}"
            f"{r['workers_ms']:>10.3f}{r['recorded']:>9,}"
        )
    new, old = rows[0], rows[2]
    print(
        f"command cost per result: {new['driver_ms']:.3f} ms (workers write) vs "
        f"{old['driver_ms']:.3f} ms per result path: {old['driver_ms'] / new['driver_ms']:.1f}x "
        f"less (target < 0.5 ms: {'met' if new['driver_ms'] < 0.5 else 'NOT met'})"
    )
    real = [("stub", None), ("0.41 s runs", 0.41)]
    if run_s:
        real.append((f"{run_s:.2f} s runs (measured)", run_s))
    projections = {}
    for label, seconds in real:
        for n in (100, 1000):
            projections[f"{label}, {n} workers"] = {r["mode"]: project(r, n, seconds) for r in rows}
    print(
        "command ms: CPU of the command's process per result (main thread and Dask's I/O "
        "thread); handling wall: wall time per result spent writing and recording (fsyncs "
        "included); scheduler, worker ms: CPU per run"
    )
    print(
        "projected runs/s (on paper): min(workers / run time, 1 / max(command, handling), "
        "1 / scheduler)"
    )
    print(f"{'':<36}" + "".join(f"{r['mode']:>16}" for r in rows))
    for label, values in projections.items():
        print(f"{label:<36}" + "".join(f"{values[m]:>16,.0f}" for m in values))
    p100 = projections["stub, 100 workers"]["workers write"]
    print(
        f"projected 100-worker throughput (stub, workers write): {p100:,.0f} runs/s "
        f"(target > 1,500: {'met' if p100 > 1500 else 'NOT met'}); the local cluster's "
        "scheduler shares the command's process: add the two costs"
    )
    save(
        "stub",
        {"stub_runs": args.stub_runs, "rows": rows, "run_s": run_s, "projections": projections},
    )
    return 0


# --------------------------------------------------------------------------- --cold


def empty_kernel_cache() -> int:
    """Remove market_sim's numba cache files (index and data); returns how many."""
    n = 0
    for pattern in ("*.nbi", "*.nbc"):
        for p in (ROOT / "market_sim").rglob(f"__pycache__/{pattern}"):
            p.unlink()
            n += 1
    return n


def bench_cold(path: Path, out: Path, warm: bool) -> dict:
    sweep = load_sweep(path)
    prepared = prepare(sweep, out, resume=False)
    removed = empty_kernel_cache()
    marks: dict[str, Any] = {}

    def done(result, written: bool) -> None:
        marks.setdefault("first", time.perf_counter())

    def phase(name: str, info: dict) -> None:
        marks[name] = (time.perf_counter(), info)

    c0 = cpu_of_children() + time.process_time()
    t0 = time.perf_counter()
    progress = run_prepared(sweep, prepared, 2, on_result=done, on_phase=phase, warm=warm)
    wall = time.perf_counter() - t0
    cpu = cpu_of_children() + time.process_time() - c0
    return {
        "warm_up": warm,
        "cache_files_removed": removed,
        "runs": progress.done,
        "first_result_s": marks["first"] - t0,
        "wall_s": wall,
        "cpu_s_all_processes": cpu,
        "kernels": marks.get("kernels", (None, None))[1],
        "workers_warm_s": marks.get("workers", (None, {}))[1].get("seconds"),
    }


def main_cold(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_sweep_cold-") as tmp:
        folder = Path(tmp)
        path = sweep_file(folder, 4, 8, 600, name="cold")
        rows = [bench_cold(path, folder / f"warm{w}", w) for w in (False, True)]
    before, after = rows
    print("a 4-run sweep (8 weeks) on 2 local workers, kernel cache emptied before each")
    print(f"{'warm-up':<34}{'first result s':>15}{'wall s':>8}{'CPU s (all)':>12}")
    labels = ("none (each worker compiles)", "cache once, then workers load")
    for r, label in zip(rows, labels, strict=True):
        print(
            f"{label:<34}{r['first_result_s']:>15.1f}{r['wall_s']:>8.1f}"
            f"{r['cpu_s_all_processes']:>12.1f}"
        )
    k = after["kernels"] or {}
    print(
        f"with warm-up: kernel cache {k.get('seconds', float('nan')):.1f} s "
        f"({k.get('compiled', '?')} signatures compiled), workers "
        f"{after['workers_warm_s']:.1f} s; CPU {before['cpu_s_all_processes'] / after['cpu_s_all_processes']:.2f}x less, "  # noqa: E501
        f"first result {before['first_result_s'] / after['first_result_s']:.2f}x sooner"
    )
    save("cold", {"rows": rows})
    return 0


# --------------------------------------------------------------------------- --long


def main_long(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench_sweep_long-") as tmp:
        folder = Path(tmp)
        path = sweep_file(folder, args.long_runs, 52, 600, name="long")
        sweep = load_sweep(path)
        prepared = prepare(sweep, folder / "out", resume=False)
        pids: list[int] = []
        samples: list[tuple[int, float]] = []
        state = {"done": 0, "client": None}

        def connected(client) -> None:
            state["client"] = client

        def phase(name: str, info: dict) -> None:
            if name == "runs":
                pids[:] = list(state["client"].run(os.getpid).values())
                samples.append((0, rss_mib()))

        def rss_mib() -> float:
            out = 0.0
            for pid in list(pids):
                try:
                    out = max(out, psutil.Process(pid).memory_info().rss / 2**20)
                except psutil.NoSuchProcess:  # a restarted worker: look again
                    pids[:] = list(state["client"].run(os.getpid).values())
            return out

        def done(result, written: bool) -> None:
            state["done"] += 1
            if state["done"] % 50 == 0:
                samples.append((state["done"], rss_mib()))
                if state["done"] % 1000 == 0:
                    print(f"  {state['done']:>6,} runs, worker RSS max {samples[-1][1]:.0f} MiB",
                          flush=True)  # fmt: skip

        t0 = time.perf_counter()
        progress = run_prepared(
            sweep, prepared, 2, on_result=done, on_phase=phase, on_connected=connected
        )
        wall = time.perf_counter() - t0
        from market_sim.experiment.verify import verify_store

        check = verify_store(SweepStore(folder / "out"), None, None)
        good = len(check.good)
    at500 = max(r for n, r in samples if n <= 500)
    peak = max(r for _, r in samples)
    end = samples[-1][1]
    ratio = peak / at500
    print(
        f"{progress.done:,} runs ({progress.failed} failed) of 52 weeks, 600 startups on 2 "
        f"workers in {wall / 60:.1f} min ({progress.done / wall:.1f} runs/s); {good:,} files "
        "verified"
    )
    print(
        f"worker RSS: max by run 500 {at500:.0f} MiB, max over the sweep {peak:.0f} MiB, at "
        f"the end {end:.0f} MiB: {ratio:.3f}x (target <= 1.10: "
        f"{'met' if ratio <= 1.10 else 'NOT met'})"
    )
    save(
        "long",
        {
            "runs": progress.done,
            "failed": progress.failed,
            "lost": progress.lost,
            "wall_s": wall,
            "verified_good": good,
            "rss_samples_mib": samples,
            "rss_max_by_500_mib": at500,
            "rss_max_mib": peak,
            "rss_end_mib": end,
            "ratio": ratio,
        },
    )
    return 0 if ratio <= 1.10 and good == progress.done else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--weeks", type=int, default=156)
    ap.add_argument("--startups", type=int, default=2000)
    ap.add_argument("--stub", action="store_true", help="the command's cost per result")
    ap.add_argument("--stub-runs", type=int, default=3000)
    ap.add_argument("--cold", action="store_true", help="compile once (empties the cache)")
    ap.add_argument("--long", action="store_true", help="10,000 runs: workers' memory")
    ap.add_argument("--long-runs", type=int, default=10_000)
    args = ap.parse_args()
    if shutil.which("dask", path=str(Path(sys.executable).parent)) is None and args.stub:
        print("the dask command is not installed next to this Python")
        return 2
    if args.stub:
        return main_stub(args)
    if args.cold:
        return main_cold(args)
    if args.long:
        return main_long(args)
    return main_default(args)


if __name__ == "__main__":
    sys.exit(main())
