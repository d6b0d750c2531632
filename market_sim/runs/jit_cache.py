"""Is numba's on-disk cache of the model's kernels warm?

The first run in a fresh environment compiles every ``@njit(cache=True)`` kernel (about
a minute: 59 s for the baseline's 42 kernels on a 2-core machine, 2026-12-02); later runs
load them from numba's cache (``__pycache__/*.nbi`` and ``*.nbc`` beside each module, or
under ``NUMBA_CACHE_DIR``). :func:`compile_notice`
tells the user before that wait, whether or not the output is a terminal, and only when
some kernel has no usable cache entry (none yet, or one for an older version of its
source file). The check reads numba's cache index of each kernel without compiling
anything; if numba's internals change so that it cannot, it says nothing. The modules are
:data:`market_sim.jit.KERNEL_MODULES`; kernels a
module lists in ``NOT_IN_A_RUN`` (test oracles, another mode's) are not counted.
"""

from __future__ import annotations

import importlib

NOTICE = (
    "Compiling the model's numba kernels (first run in this environment, about a minute; "
    "later runs load them from the cache)..."
)


def cold_kernels() -> list[str]:
    """Names of the cached kernels numba would compile (not load) on their first call."""
    from numba.core.registry import CPUDispatcher

    from market_sim.jit import KERNEL_MODULES

    cold: list[str] = []
    for name in KERNEL_MODULES:
        module = importlib.import_module(name)
        skip = set(getattr(module, "NOT_IN_A_RUN", ()))
        for attr, value in vars(module).items():
            if not isinstance(value, CPUDispatcher) or value.__module__ != name:
                continue
            if attr in skip:  # a run never calls it: its cache stays cold
                continue
            cache = getattr(value, "_cache", None)
            if cache is None or type(cache).__name__ == "NullCache":
                continue  # not cached: compiled every time, nothing to warn about
            if not cache._cache_file._load_index():  # missing, or stale for this source
                cold.append(f"{name}.{attr}")
    return cold


def compile_notice() -> str | None:
    """The line to print before a run that will compile kernels, or None."""
    try:
        cold = cold_kernels()
    except Exception:  # numba's cache internals moved: say nothing rather than fail
        return None
    return NOTICE if cold else None
