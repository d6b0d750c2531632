"""Running a sweep's runs on dask.distributed: one path, local or remote.

Without a scheduler address a ``LocalCluster`` of N single-threaded worker processes is
started inside the command (and shut down after it); with ``--scheduler tcp://host:port``
the runs go to an existing cluster whose workers have market_sim installed. Either way
each run is one task (:func:`market_sim.experiment.worker.run_one`) that gets the
scenarios, outputs and series (one context task's result, fetched by each worker once
and computed again if the workers holding it die), writes its run file where it can see
the sweep's folder or sends it back, and returns a small result. A run that raises is
returned as a failed run, never as a task error: a task error means the infrastructure
lost the run (e.g. a worker died repeatedly), and such a run is left unwritten for
``--resume``.

The command keeps up with many workers: results are gathered in batches (all those
finished since the last batch, in one request), and what it does per result is small
(an index line appended in batches; the file itself only for a worker that could not
write it). Workers keep their process between runs and warm up once
(:mod:`market_sim.experiment.warm`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from market_sim.experiment.plan import RunSpec
from market_sim.experiment.worker import (
    RunResult,
    one_line_error,
    run_context,
    run_many,
    run_one,
)
from market_sim.problems import ENVIRONMENT, LineError

__all__ = [
    "Progress",
    "RunResult",
    "SchedulerError",
    "check_scheduler",
    "connect",
    "execute",
    "one_line_error",
    "run_context",
    "run_many",
    "run_one",
    "runs_per_task",
]

MAX_RUNS_PER_TASK = 16
TASKS_PER_WORKER = 8
"""Runs are sent in tasks of up to MAX_RUNS_PER_TASK runs, at least TASKS_PER_WORKER
tasks per worker (see :func:`runs_per_task`)."""


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
    import dask

    from market_sim.experiment.warm import NO_PROFILER

    n = max(1, workers or os.cpu_count() or 1)
    # the command reports lost runs itself; the scheduler's own error lines about a dead
    # worker would only repeat it
    with dask.config.set(NO_PROFILER):  # the workers' profiler grows their memory
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # the scheduler's HTTP server (health, metrics) on a free port: on the default
            # 8787, a second sweep on the machine would print a warning
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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


def _context(context: dict[str, Any]) -> dict[str, Any]:
    """The runs' shared context as a task result (see :func:`execute`)."""
    return context


def runs_per_task(runs: int, workers: int) -> int:
    """Runs per task: 1 for small sweeps, growing to MAX_RUNS_PER_TASK so that each
    worker still gets at least TASKS_PER_WORKER tasks. Dask's cost per task (~1 ms of
    the scheduler's and of the command's time) is then shared by the runs of a task,
    while the load stays balanced and a lost worker costs at most a task's runs."""
    return max(1, min(MAX_RUNS_PER_TASK, runs // (max(1, workers) * TASKS_PER_WORKER)))


def execute(
    client: Any,
    runs: Sequence[RunSpec],
    context: Mapping[str, Any],
    on_result: Callable[[RunResult], None],
    on_lost: Callable[[RunSpec, BaseException], None] | None = None,
    reduce: Callable[..., Any] | None = None,
    per_task: int | None = None,
) -> Progress:
    """Submit every run, hand each result to ``on_result`` as it finishes.

    Runs go in tasks of ``per_task`` runs (default: :func:`runs_per_task` for the
    cluster's current workers); results are gathered in batches (every task finished
    since the last batch, in one request). ``reduce`` replaces the model in
    :func:`run_one` (a benchmark's stub).
    """
    from distributed import as_completed

    progress = Progress()
    if not runs:
        return progress
    if per_task is None:
        per_task = runs_per_task(len(runs), len(client.scheduler_info()["workers"]))
    token = uuid.uuid4().hex[:8]
    # The context is a task's result, not scattered data: if the workers holding it die,
    # the scheduler computes it again from the task (scattered data would be lost, and
    # every run waiting for it with it).
    ctx = client.submit(_context, dict(context), key=f"market-sim-{token}-context", pure=False)
    extra = {} if reduce is None else {"reduce": reduce}
    chunks = [list(runs[i : i + per_task]) for i in range(0, len(runs), per_task)]
    keys = [f"market-sim-{token}-{chunk[0].run_id}-{len(chunk)}" for chunk in chunks]
    submitted = client.map(run_many, chunks, context=ctx, key=keys, pure=False, **extra)
    futures = dict(zip(submitted, chunks, strict=True))
    try:
        for batch in as_completed(submitted).batches():
            results = _gather(client, [f for f in batch if f.status == "finished"])
            for fut in batch:
                chunk = futures.pop(fut)
                done = results.get(fut.key)
                if done is not None:
                    for result in done:
                        progress.done += 1
                        progress.failed += result.status == "failed"
                        on_result(result)
                else:
                    err = _lost_error(fut)
                    for spec in chunk:
                        progress.lost += 1
                        if on_lost is not None:
                            on_lost(spec, err)
                fut.release()
    finally:
        if futures:
            client.cancel(list(futures))
        ctx.release()
    return progress


def _gather(client: Any, finished: list[Any]) -> dict[str, list[RunResult]]:
    """The results of finished futures by key, in one request; one by one if that
    fails (a result lost with its worker and recomputed, or lost for good)."""
    if not finished:
        return {}
    try:
        return dict(zip([f.key for f in finished], client.gather(finished), strict=True))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        out = {}
        for fut in finished:
            try:
                out[fut.key] = fut.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:
                continue
        return out


def _lost_error(fut: Any) -> BaseException:
    """Why the cluster lost a run's task."""
    try:
        return fut.exception()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a cancelled future raises instead
        return exc
