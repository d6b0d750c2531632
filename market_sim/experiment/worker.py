"""What a sweep worker does for one run: build the model, run it, reduce it to its table,
release the model, and write the run file or send it back.

A run is one task (:func:`run_one`). It gets the runs' shared context (scenarios,
outputs, series and where the sweep's folder is) and returns a small
:class:`RunResult`. Where the worker sees the sweep's ``runs/`` folder with the
command's writer token in it (a local cluster, or a cluster on shared storage) it
writes the run file itself, atomically, and returns the file's size and SHA-256 for the
command to record; elsewhere (a remote worker without the folder, a write that failed)
it returns the file's bytes and the command writes them. Either way the command records
every checksum line (:mod:`market_sim.experiment.storage`).

Memory stays flat over thousands of runs: every model is closed
(:meth:`GPUMarketModel.close` releases Mesa's reference to it) and the worker collects
cyclic garbage every :data:`COLLECT_EVERY` runs (cheap after the warm-up froze the
process's start-up objects, :mod:`market_sim.experiment.warm`). Code that runs models
in a loop outside a sweep (calibration, claims) uses :func:`simulate`.
"""

from __future__ import annotations

import gc
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from market_sim.experiment.plan import RunSpec
from market_sim.experiment.runfile import encode_run, run_table, worker_can_write, write_run_file
from market_sim.experiment.sweep import Output

COLLECT_EVERY = 10
"""Runs between two cyclic garbage collections in a process that runs models in a loop
(a closed model and its agents reference one another, so they are freed by the
collector, not at once)."""

_runs_since_collect = 0


@dataclass
class RunResult:
    """What a worker sends back for one run."""

    run_id: str
    status: str  # "ok" or "failed"
    error: str | None
    elapsed_s: float
    """Wall time of the run in its worker: build, run and outputs (s)."""
    worker: str
    cpu_s: float = 0.0
    """CPU time of the worker's process during the run (s); well below ``elapsed_s`` when
    other processes compete for the cores."""
    record: dict[str, Any] | None = None
    """``{"bytes", "sha256"}`` of the run file the worker wrote (None: it wrote none)."""
    data: bytes | None = None
    """The run file's bytes, when the worker did not write it: the command writes them."""
    existed: bool = False
    """The run file was already there (a rerun of a task whose worker died after writing
    it): left as it is; ``record`` is its record if it is whole and this sweep's."""


def run_context(
    scenarios: Mapping[str, Mapping[str, Any]],
    outputs: Sequence[Output],
    series: Sequence[str],
    runs_dir: str | Path | None = None,
    token: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """What every run needs besides its own spec (sent to each worker once).

    ``runs_dir`` and ``token``: the sweep's runs/ folder and the writer token in it
    (:meth:`SweepStore.open_for_workers`); without them every run file is sent back.
    ``fingerprint`` goes into each file's metadata.
    """
    return {
        "scenarios": {k: dict(v) for k, v in scenarios.items()},
        "outputs": [o.to_dict() for o in outputs],
        "series": list(series),
        "runs_dir": None if runs_dir is None else str(Path(runs_dir).resolve()),
        "token": token,
        "fingerprint": fingerprint,
    }


def one_line_error(err: BaseException) -> str:
    """An exception as one line: the scenario problems, or type, message and place."""
    from market_sim.problems import LineError, shorten
    from market_sim.scenario import ScenarioError

    if isinstance(err, ScenarioError):
        return shorten(" | ".join(str(p) for p in err.problems))
    if isinstance(err, LineError):
        return shorten(str(err))
    msg = " ".join(str(err).split()) or "(no message)"
    tb = traceback.extract_tb(err.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    return shorten(f"{type(err).__name__}: {msg}{where}")


def simulate(
    scenario: Any,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    outputs: Sequence[str] | None = None,
) -> Any:  # pandas.DataFrame
    """Build a model, run it to its horizon and release it: the weekly frame (with the
    metric keys ``outputs`` only, when given; see :class:`GPUMarketModel`).

    The model is closed whatever happens, and every :data:`COLLECT_EVERY` calls the
    process collects cyclic garbage, so a loop of calls keeps its memory flat. Raises
    what the model raises (``ScenarioError``, ``NonFiniteError``, ...).
    """
    from market_sim.model import GPUMarketModel

    try:
        with GPUMarketModel(
            scenario, seed=seed, overrides=list(overrides), outputs=outputs
        ) as model:
            return model.run()
    finally:
        collect_now_and_then()


def collect_now_and_then() -> None:
    """Count a finished model; collect cyclic garbage every :data:`COLLECT_EVERY`."""
    global _runs_since_collect
    _runs_since_collect += 1
    if _runs_since_collect >= COLLECT_EVERY:
        _runs_since_collect = 0
        gc.collect()


def reduce_run(spec: RunSpec, context: Mapping[str, Any]) -> tuple[str, str | None, pa.Table]:
    """Run one planned run and reduce it to its table: ``(status, error, table)``;
    never raises for a model error (a failed run is a result). The model records only
    the columns the outputs read and the series kept (:func:`columns_read`)."""
    import numpy as np

    from market_sim.experiment.outputs import columns_read, compute_outputs, metric_columns
    from market_sim.model.inputs import resolve_scenario
    from market_sim.outcomes.catalogue import metric_keys
    from market_sim.outcomes.finite import check_finite

    outputs = [Output(**o) for o in context["outputs"]]
    run = asdict(spec)
    try:
        scenario = resolve_scenario(context["scenarios"][spec.scenario], spec.overrides)
        keys = metric_keys(scenario)
        dates = [scenario.date_of(w) for w in range(scenario.simulation.weeks)]
        wanted = set(columns_read(outputs, keys, dates)) | set(context["series"])
        frame = simulate(scenario, spec.seed, outputs=[k for k in keys if k in wanted])
        check_finite(frame, f"run {spec.run_id}")
        values = compute_outputs(frame, outputs)
        keep: list[str] = []
        for o in outputs:
            keep += metric_columns(o.metric, frame.columns)
        keep += [k for k in context["series"] if k in frame.columns]
        series = {k: frame[k].to_numpy(dtype=np.float64) for k in dict.fromkeys(keep)}
        return "ok", None, run_table(run, "ok", None, values, series, frame["date"])
    except Exception as err:  # a failed run is a result, not a crash
        error = one_line_error(err)
        nan = {o.name: float("nan") for o in outputs}
        return "failed", error, run_table(run, "failed", error, nan)


def run_one(
    spec: RunSpec,
    context: Mapping[str, Any],
    reduce: Callable[[RunSpec, Mapping[str, Any]], tuple[str, str | None, pa.Table]] = reduce_run,
) -> RunResult:
    """One task of a sweep: run ``spec`` (``reduce``: the model, or a benchmark's stub),
    then write its file here or send it back (see the module docstring)."""
    t0, c0 = time.perf_counter(), time.process_time()
    status, error, table = reduce(spec, context)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    worker = f"{socket.gethostname()}:{os.getpid()}"
    meta = {"elapsed_s": elapsed, "cpu_s": cpu, "worker": worker}
    if context.get("fingerprint") is not None:
        meta["fingerprint"] = context["fingerprint"]
    data = encode_run(table, meta)
    result = RunResult(spec.run_id, status, error, elapsed, worker, cpu)
    runs_dir = context.get("runs_dir")
    if runs_dir is not None and worker_can_write(runs_dir, context.get("token")):
        try:
            result.record = write_run_file(Path(runs_dir), spec.run_id, data)
            if result.record is None:
                result.existed = True
                result.record = _existing_record(Path(runs_dir), spec.run_id, context)
        except OSError:  # e.g. a full disk: the command writes it, or says why it cannot
            result.data, result.record, result.existed = data, None, False
        return result
    result.data = data
    return result


def run_many(
    specs: Sequence[RunSpec],
    context: Mapping[str, Any],
    reduce: Callable[[RunSpec, Mapping[str, Any]], tuple[str, str | None, pa.Table]] = reduce_run,
) -> list[RunResult]:
    """One task of several runs (:func:`run_one` each, in order): the scheduler's and
    the command's cost per task is shared by the runs."""
    return [run_one(spec, context, reduce) for spec in specs]


def _existing_record(runs_dir: Path, run_id: str, context: Mapping[str, Any]) -> dict | None:
    """The record of a run file already there, if it is whole and this sweep's run (a
    task rerun after its first worker wrote the file and died); else None (the file is
    left for ``--resume`` to check)."""
    from market_sim.experiment.verify import inspect_run_file
    from market_sim.integrity import file_record

    path = runs_dir / f"{run_id}.parquet"
    fingerprint = context.get("fingerprint")
    if inspect_run_file(path, run_id, fingerprint, strict=fingerprint is not None) is not None:
        return None
    return file_record(path)
