"""Running a sweep's runs on dask.distributed: one path, local or remote.

Without a scheduler address a ``LocalCluster`` of N single-threaded worker processes is
started inside the command (and shut down after it); with ``--scheduler tcp://host:port``
the runs go to an existing cluster whose workers have market_sim installed. Either way
each run is one task (:func:`run_one`) that gets the scenarios, outputs and series (one
context task's result, fetched by each worker once and computed again if the workers
holding it die) and returns its finished table; the driver writes the files, so
workers need no shared disk. A run that raises is returned as a failed table, never as a
task error: a task error means the infrastructure lost the run (e.g. a worker died
repeatedly), and such a run is left unwritten for ``--resume``.

Workers keep their process between runs, so numba's compiled kernels (loaded from the
on-disk cache, compiled only where the cache is cold) are paid once per worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from market_sim.experiment.plan import RunSpec
from market_sim.experiment.storage import run_table
from market_sim.experiment.sweep import Output
from market_sim.problems import ENVIRONMENT, LineError


@dataclass
class RunResult:
    """What a worker sends back for one run."""

    run_id: str
    status: str  # "ok" or "failed"
    error: str | None
    table: pa.Table
    elapsed_s: float
    """Wall time of the run in its worker: build, run and outputs (s)."""
    worker: str
    cpu_s: float = 0.0
    """CPU time of the worker's process during the run (s); well below ``elapsed_s`` when
    other processes compete for the cores."""


def run_context(
    scenarios: Mapping[str, Mapping[str, Any]], outputs: Sequence[Output], series: Sequence[str]
) -> dict[str, Any]:
    """What every run needs besides its own spec (sent to each worker once)."""
    return {
        "scenarios": {k: dict(v) for k, v in scenarios.items()},
        "outputs": [o.to_dict() for o in outputs],
        "series": list(series),
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


def run_one(spec: RunSpec, context: Mapping[str, Any]) -> RunResult:
    """Run one planned run and reduce it to its table (never raises for a model error)."""
    import numpy as np

    from market_sim.experiment.outputs import compute_outputs, metric_columns
    from market_sim.outcomes.finite import check_finite

    t0, c0 = time.perf_counter(), time.process_time()
    outputs = [Output(**o) for o in context["outputs"]]
    run = asdict(spec)
    try:
        from market_sim.model import GPUMarketModel

        model = GPUMarketModel(
            context["scenarios"][spec.scenario], seed=spec.seed, overrides=list(spec.overrides)
        )
        frame = model.run()
        check_finite(frame, f"run {spec.run_id}")
        values = compute_outputs(frame, outputs)
        keep: list[str] = []
        for o in outputs:
            keep += metric_columns(o.metric, frame.columns)
        keep += [k for k in context["series"] if k in frame.columns]
        series = {k: frame[k].to_numpy(dtype=np.float64) for k in dict.fromkeys(keep)}
        table = run_table(run, "ok", None, values, series, frame["date"])
        status, error = "ok", None
    except Exception as err:  # a failed run is a result, not a crash
        error = one_line_error(err)
        nan = {o.name: float("nan") for o in outputs}
        table = run_table(run, "failed", error, nan)
        status = "failed"
    worker = f"{socket.gethostname()}:{os.getpid()}"
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    return RunResult(spec.run_id, status, error, table, elapsed, worker, cpu)


def _context(context: dict[str, Any]) -> dict[str, Any]:
    """The runs' shared context as a task result (see :func:`execute`)."""
    return context


def warm_worker() -> str:
    """Import the model and load numba's kernels in a worker; returns its pid."""
    import market_sim.model  # noqa: F401

    return str(os.getpid())


SCHEMES = ("tcp", "tls", "ws", "wss")
"""Protocols of a scheduler address (``tcp://HOST:PORT`` and the like)."""


class SchedulerError(LineError):
    """A scheduler address that is malformed (exit 2) or cannot be reached (exit 1)."""


def check_scheduler(address: str) -> None:
    """Raise :class:`SchedulerError` unless ``address`` reads ``PROTOCOL://HOST:PORT``
    (``HOST:PORT`` means tcp), checked before anything is written or started."""
    scheme, _, rest = address.rpartition("://") if "://" in address else ("tcp", "", address)
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    ok = (
        scheme in SCHEMES
        and bool(host)
        and port.isdigit()
        and 0 < int(port) < 65536
        and all(c.isalnum() or c in ".-_:" for c in host)
    )
    if not ok:
        raise SchedulerError(
            f"--scheduler: {address!r:.80} is not a dask scheduler address; give one like "
            "tcp://HOST:8786 (protocols: " + ", ".join(SCHEMES) + ")"
        )


@contextlib.contextmanager
def connect(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A dask ``Client``: on ``scheduler`` if given, else on a new LocalCluster of
    ``workers`` processes (default: one per core). Everything started is shut down on
    exit, also after Ctrl-C. Raises :class:`SchedulerError` if the scheduler cannot be
    reached."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, ValueError, TypeError) as err:
            message = " ".join(str(err).split())[:200] or type(err).__name__
            raise SchedulerError(
                f"--scheduler: cannot reach {scheduler} ({message}); check the address and "
                "that `dask scheduler` runs there",
                ENVIRONMENT,
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    n = max(1, workers or os.cpu_count() or 1)
    # the command reports lost runs itself; the scheduler's own error lines about a dead
    # worker would only repeat it
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # a free port: no warning when 8787 is taken
        silence_logs=logging.CRITICAL,
    )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@dataclass
class Progress:
    """Counts reported to the caller after each run."""

    done: int = 0
    failed: int = 0
    lost: int = 0


def execute(
    client: Any,
    runs: Sequence[RunSpec],
    context: Mapping[str, Any],
    on_result: Callable[[RunResult], None],
    on_lost: Callable[[RunSpec, BaseException], None] | None = None,
) -> Progress:
    """Submit every run, hand each result to ``on_result`` as it finishes."""
    from distributed import as_completed

    progress = Progress()
    if not runs:
        return progress
    token = uuid.uuid4().hex[:8]
    # The context is a task's result, not scattered data: if the workers holding it die,
    # the scheduler computes it again from the task (scattered data would be lost, and
    # every run waiting for it with it).
    ctx = client.submit(_context, dict(context), key=f"market-sim-{token}-context", pure=False)
    futures = {
        client.submit(run_one, spec, ctx, key=f"market-sim-{token}-{spec.run_id}", pure=False): spec
        for spec in runs
    }
    try:
        for fut in as_completed(list(futures)):
            spec = futures.pop(fut)
            if fut.status == "finished":
                result = fut.result()
                progress.done += 1
                progress.failed += result.status == "failed"
                on_result(result)
            else:
                progress.lost += 1
                if on_lost is not None:
                    try:
                        err: BaseException = fut.exception()
                    except (KeyboardInterrupt, SystemExit):
                        raise
                    except BaseException as exc:  # a cancelled future raises instead
                        err = exc
                    on_lost(spec, err)
            fut.release()
    finally:
        for fut in futures:
            fut.cancel()
        ctx.release()
    return progress
