"""Compile once: numba's kernels warmed before a sweep's runs start.

The kernels are ``@njit(cache=True)``: compiled on first use and kept on disk next to
their modules (``__pycache__``), then loaded from there by every later process. A cold
cache costs ~35-45 s of compilation per process, so without care every worker of a new
installation compiles the same kernels at once. Instead:

- the command warms the on-disk cache in a child process
  (``python -m market_sim.experiment.warm``) before its local workers load any kernel
  (:func:`start_cache_warm`; it runs while the local cluster starts);
- every worker, local or remote, warms up once when it joins the cluster, through a
  Dask worker plugin (:class:`WarmUp`): it loads the kernels (compiling them only on a
  machine whose cache is cold), then freezes the objects made so far out of the cyclic
  garbage collector's reach (``gc.freeze()``), so the collections that keep memory flat
  over thousands of runs cost ~1-2 ms instead of ~0.1 s. It also stops Dask's
  statistical profiler on the worker (:func:`quiet_profiler`), whose history would
  otherwise grow the worker's memory for its first 17 minutes.

Warming means running the packaged baseline scenario (few startups, its whole
horizon) once: that calls every kernel a run calls, with the argument types a run uses
(a short run misses a signature that appears late; ``tests/test_sweep_scale.py`` checks
that the warm-up compiles every kernel a full run uses), then four weeks of it with the
startups' float columns stored side by side, as a population of 2**18 rows or more
stores them (``market_sim.agents.startup_columns.TOGETHER_MIN_ROWS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

WARM_OVERRIDES = ("startups.count=100", "startups.entry_per_week=10")
"""The warm-up run: the packaged baseline, its whole horizon, with few startups."""
PLUGIN_NAME = "market-sim-warm-up"

_warm: dict[str, Any] | None = None  # this process's warm-up, once done


def kernel_dispatchers() -> dict[str, Any]:
    """Every numba dispatcher defined in a loaded market_sim module, by qualified name."""
    from numba.core.registry import CPUDispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("market_sim.") or module is None:
            continue
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and getattr(value, "__module__", "") == name:
                found[f"{name}.{attr}"] = value
    return found


def warm_kernels(freeze: bool = False) -> dict[str, Any]:
    """Load (or compile) every kernel a run uses, in this process, once.

    Returns ``{"seconds", "compiled", "loaded", "signatures", "pid"}``: the wall time,
    how many kernel signatures were compiled (cache misses) and loaded from the on-disk
    cache (hits). ``freeze``: then ``gc.freeze()`` (see the module docstring). A second
    call returns the first one's figures.
    """
    global _warm
    if _warm is not None:
        return _warm
    t0 = time.perf_counter()
    from market_sim.experiment.worker import simulate

    simulate(None, overrides=WARM_OVERRIDES)  # None: the packaged baseline
    with _columns_together():  # a large population's layout: the startups' kernels again
        simulate(None, overrides=(*WARM_OVERRIDES, "simulation.weeks=4"))
    hits = misses = signatures = 0
    for dispatcher in kernel_dispatchers().values():
        stats = dispatcher.stats
        hits += sum(stats.cache_hits.values())
        misses += sum(stats.cache_misses.values())
        signatures += len(dispatcher.signatures)
    if freeze:
        gc.collect()
        gc.freeze()
    _warm = {
        "seconds": time.perf_counter() - t0,
        "compiled": misses,
        "loaded": hits,
        "signatures": signatures,
        "pid": os.getpid(),
    }
    return _warm


@contextlib.contextmanager
def _columns_together() -> Iterator[None]:
    """Within the block every startup population stores its float columns side by side,
    as a large one does (``market_sim.agents.startup_columns.TOGETHER_MIN_ROWS``): the
    startups' kernels then see the strided columns a large run gives them, and are
    compiled (or loaded) for those too."""
    from market_sim.agents import startup_columns

    saved = startup_columns.TOGETHER_MIN_ROWS
    startup_columns.TOGETHER_MIN_ROWS = 0
    try:
        yield
    finally:
        startup_columns.TOGETHER_MIN_ROWS = saved


class WarmUp(WorkerPlugin):
    """Dask worker plugin: :func:`warm_kernels` once in each worker as it joins.

    The work runs in a thread, so the worker keeps answering the scheduler while it
    compiles; a joining worker takes tasks only after its plugins are set up. A failed
    warm-up is logged and left to the runs (which then load or compile as they go).
    """

    name = PLUGIN_NAME

    async def setup(self, worker: Any) -> None:
        quiet_profiler(worker)
        try:
            await asyncio.to_thread(warm_kernels, True)
        except Exception:  # never keep a worker from working
            import logging

            logging.getLogger(__name__).exception("market_sim warm-up failed")


def quiet_profiler(worker: Any) -> None:
    """Stop a worker's statistical profiler and drop its history.

    Dask samples each worker's stacks every 10 ms and keeps one profile tree per second
    for the last 1,000 seconds: on a worker running models that is ~50 KB a second, so
    its memory grows by ~100 MB over its first 17 minutes (seen as a slow climb of RSS in
    long sweeps), and the sampling costs CPU. A sweep needs neither. Local clusters start
    with the profiler off (:data:`NO_PROFILER`); this covers workers of another cluster.
    """
    callbacks = getattr(worker, "periodic_callbacks", {})
    for name in ("profile", "profile-cycle"):
        callback = callbacks.pop(name, None)  # removed: a joining worker starts the rest
        if callback is not None:
            callback.stop()
    for name in ("profile_history", "profile_keys_history"):
        history = getattr(worker, name, None)
        if history is not None:
            history.clear()


NO_PROFILER = {"distributed.worker.profile.enabled": False}
"""Dask configuration of a sweep's local cluster (see :func:`quiet_profiler`)."""


def warm_workers(client: Any) -> float:
    """Register :class:`WarmUp` on the cluster (running workers set it up now, joining
    ones when they join) and wait for the running ones; the wall time (s)."""
    t0 = time.perf_counter()
    client.register_plugin(WarmUp(), name=PLUGIN_NAME)
    return time.perf_counter() - t0


@dataclass
class CacheWarm:
    """The on-disk cache being warmed by a child process (:func:`start_cache_warm`)."""

    process: subprocess.Popen[str]
    started: float

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the child: its :func:`warm_kernels` figures, or ``{"error": line}``."""
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return {"error": "timed out", "seconds": time.perf_counter() - self.started}
        seconds = time.perf_counter() - self.started
        if self.process.returncode == 0:
            try:
                return {**json.loads(out.strip().splitlines()[-1]), "seconds": seconds}
            except (ValueError, IndexError):
                pass
        lines = [x for x in (err or "").strip().splitlines() if x.strip()]
        return {"error": lines[-1] if lines else f"exit code {self.process.returncode}"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def start_cache_warm() -> CacheWarm:
    """Start warming the on-disk kernel cache in a child process (see the module
    docstring); :meth:`CacheWarm.wait` for it before workers load kernels."""
    process = subprocess.Popen(
        [sys.executable, "-m", "market_sim.experiment.warm"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    return CacheWarm(process, time.perf_counter())


if __name__ == "__main__":  # the child of start_cache_warm
    print(json.dumps(warm_kernels()))
