"""A sweep from file to folder: plan, manifest, resume, execute (used by the CLI and
scripts/bench_sweep.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from market_sim.experiment.execute import (
    Progress,
    RunResult,
    connect,
    execute,
    run_context,
    runs_per_task,
)
from market_sim.experiment.plan import Plan, RunSpec, make_plan
from market_sim.experiment.storage import FORMAT_VERSION, StoreError, SweepStore
from market_sim.experiment.sweep import Sweep
from market_sim.experiment.verify import file_fingerprint, set_aside, verify_store

_NOT_MODEL = ("experiment", "report", "cli")


def model_source_hash() -> str:
    """SHA-256 (first 16 hex digits) of the model's source files (market_sim/*.py
    without the sweep, report and command-line code): tells whether a resumed sweep runs
    the same model code as its first part."""
    import market_sim

    root = Path(market_sim.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in _NOT_MODEL:
            continue
        digest.update(str(rel).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def manifest_for(sweep: Sweep, plan: Plan) -> dict[str, Any]:
    """The manifest: everything needed to analyse and report the sweep without its file."""
    import market_sim

    unit = plan.design.unit
    return {
        "format": FORMAT_VERSION,
        "name": sweep.name,
        "description": sweep.description,
        "sweep_file": sweep.file,
        "fingerprint": plan.fingerprint,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "market_sim_version": market_sim.__version__,
        "model_source": model_source_hash(),
        "sampler": sweep.sampler,
        "ensemble": sweep.ensemble,
        "samples": sweep.samples,
        "replicates": sweep.replicates,
        "levels": sweep.levels,
        "seed": sweep.seed,
        "set": sweep.fixed,
        "base": sweep.base,
        "scenarios": {k: v.file for k, v in sweep.scenarios.items()},
        "parameters": [p.to_dict() for p in sweep.parameters],
        "outputs": [o.to_dict() for o in sweep.outputs.values()],
        "claims": [c.to_dict() for c in sweep.claims],
        "series": sweep.series,
        "design": [
            {"sample": i, "values": values, "unit": None if unit is None else list(unit[i])}
            for i, values in enumerate(plan.design.values)
        ],
        "runs": [asdict(r) for r in plan.runs],
    }


@dataclass
class Prepared:
    """A sweep folder ready to run: what is planned and what is left to do."""

    store: SweepStore
    plan: Plan
    pending: list[RunSpec]
    skipped: int = 0
    retried: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prepare(sweep: Sweep, out: str | Path, resume: bool, retry_failed: bool = False) -> Prepared:
    """Create the folder's manifest (or check it on resume) and list the runs to do.

    A new sweep needs a new or empty folder. On resume the manifest's fingerprint must be
    the sweep file's (a lost manifest is rebuilt when the run files carry the same
    fingerprint), and every run file is verified (:mod:`market_sim.experiment.verify`):
    damaged ones are moved to ``OUT/damaged/`` and run again with the missing ones.
    """
    store = SweepStore(out)
    plan = make_plan(sweep)
    warnings: list[str] = []
    if resume:
        strict = False
        if not store.exists() and store.finished():
            _rebuild_manifest(store, sweep, plan, warnings)
            strict = True
        manifest = store.manifest()
        if manifest.get("fingerprint") != plan.fingerprint:
            raise StoreError(
                f"{store.out}: {sweep.file} or its scenarios changed since this folder was "
                "planned; rerun without --resume into another --out"
            )
        store.clean_temporary()
        planned = {r.run_id for r in plan.runs}
        check = verify_store(store, planned, plan.fingerprint, repair=True, strict=strict)
        if check.damaged:
            folder = set_aside(store, list(check.damaged))
            warnings += check.lines(store, f"moved to {folder}/ and run again")
        else:
            warnings += check.lines(store, "run again")
        done = set(store.usable or ())
        if manifest.get("model_source") != model_source_hash() and len(done) < len(plan.runs):
            warnings.append(
                f"the model's source code changed since {store.out} was started: "
                "runs of the two parts may differ for that reason alone"
            )
    else:
        store.create(manifest_for(sweep, plan))
        store.usable = []
    retried: list[str] = []
    if retry_failed:
        retried = sorted(store.failed())
        store.remove_runs(retried)
    done = set(store.usable or ())
    pending = [r for r in plan.runs if r.run_id not in done]
    return Prepared(store, plan, pending, len(plan.runs) - len(pending), retried, warnings)


def _rebuild_manifest(store: SweepStore, sweep: Sweep, plan: Plan, warnings: list[str]) -> None:
    """Write a lost manifest again from the sweep file, if the run files left in the
    folder were written by the same design (their fingerprint); else refuse."""
    files = sorted(store.finished())
    prints = {r: file_fingerprint(store.run_path(r)) for r in files}
    other = [r for r, fp in prints.items() if fp is not None and fp != plan.fingerprint]
    if other:
        raise StoreError(
            f"{store.out}: has no {store.manifest_path.name}, and "
            f"{store.run_path(other[0])} (with {len(other) - 1:,} more) was written by "
            "another design of the sweep; choose another --out"
        )
    if not any(fp == plan.fingerprint for fp in prints.values()):
        raise StoreError(
            f"{store.out}: has no {store.manifest_path.name}, and none of its "
            f"{len(files):,} run files can be matched with {sweep.file}; choose another --out"
        )
    store.write_manifest(manifest_for(sweep, plan))
    warnings.append(
        f"{store.manifest_path}: was missing; rebuilt from {sweep.file}, whose design "
        "the run files carry"
    )


def run_prepared(
    sweep: Sweep,
    prepared: Prepared,
    workers: int | None = None,
    scheduler: str | None = None,
    on_result: Callable[[RunResult, bool], None] | None = None,
    on_lost: Callable[[RunSpec, BaseException], None] | None = None,
    on_connected: Callable[[Any], None] | None = None,
    on_phase: Callable[[str, dict[str, Any]], None] | None = None,
    warm: bool = True,
    per_task: int | None = None,
) -> Progress:
    """Execute the pending runs; each finished run's file is written as it arrives.

    Workers that see the sweep's folder write their run files themselves; the others'
    files are written here (:mod:`market_sim.experiment.worker`). Every file's size and
    checksum go to the index, in batches (all of them before this returns or raises).

    ``on_result(result, written)``: ``written`` is False when the run's file already
    existed (it is then left untouched: a finished run is never rewritten).
    ``on_phase(name, info)``: the warm-up's phases as they end (``warm``: the kernels,
    :mod:`market_sim.experiment.warm`): ``"kernels"`` (the on-disk cache, local cluster
    only; ``info`` has ``seconds``, ``compiled``, ``loaded`` or ``error``) and
    ``"workers"`` (``seconds``), then ``"runs"`` as the runs start. ``per_task``: runs
    per Dask task (default :func:`market_sim.experiment.execute.runs_per_task`).
    """
    if not prepared.pending:
        return Progress()
    store = prepared.store
    token = store.open_for_workers()
    context = run_context(
        {k: v.data for k, v in sweep.scenarios.items()},
        list(sweep.outputs.values()),
        sweep.series,
        runs_dir=store.runs_dir,
        token=token,
        fingerprint=prepared.plan.fingerprint,
    )

    def handle(result: RunResult) -> None:
        try:
            written = keep_result(store, result)
        except OSError as err:
            if not err.filename:  # e.g. a full disk: name the file being written
                err.filename = str(store.run_path(result.run_id))
            raise
        if on_result is not None:
            on_result(result, written)

    phase = on_phase or (lambda name, info: None)
    n = min(workers or os.cpu_count() or 1, len(prepared.pending)) if not scheduler else None
    cache = None
    try:
        if warm and not scheduler:  # warms while the local cluster starts, see below
            from market_sim.experiment.warm import start_cache_warm

            cache = start_cache_warm()
        with connect(n, scheduler) as client:
            if on_connected is not None:
                on_connected(client)
            if cache is not None:  # before any local worker loads a kernel
                phase("kernels", cache.wait())
            if warm:
                from market_sim.experiment.warm import warm_workers

                phase("workers", {"seconds": warm_workers(client)})
            phase("runs", {})
            if per_task is None:
                n_workers = n or len(client.scheduler_info()["workers"])
                per_task = runs_per_task(len(prepared.pending), n_workers)
            return execute(client, prepared.pending, context, handle, on_lost, per_task=per_task)
    finally:
        if cache is not None:
            cache.stop()
        try:
            store.flush_records()
        finally:
            store.close_for_workers(token)


def keep_result(store: SweepStore, result: RunResult) -> bool:
    """Write (if the worker sent it back) and record a run's file; False if a file
    was there already."""
    if result.data is not None:
        return store.write_run_data(result.run_id, result.data)
    if result.record is not None:
        store.add_record(result.run_id, result.record)
    return not result.existed and result.record is not None
