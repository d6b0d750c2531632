"""A run calls each numba kernel with one set of argument types.

A second set compiles the kernel again on a cold cache (seconds for the big ones) and
loads a second entry on a warm one (~15 ms a kernel of every warm ``run``): an empty
order book's ``np.bincount`` gave int64 backlogs in week 0 and float64 later, and so a
second production kernel. Measured in a fresh process: other tests call the kernels with
their own types.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc
from numba.core.registry import CPUDispatcher
from market_sim.model import GPUMarketModel
GPUMarketModel(
    "scenarios/baseline.toml", overrides=["simulation.weeks=60", "startups.count=500"], seed=1
).run()
for d in gc.get_objects():
    if isinstance(d, CPUDispatcher) and d.py_func.__module__.startswith("market_sim"):
        if len(d.overloads) > 1:
            print(d.py_func.__module__ + "." + d.py_func.__name__, len(d.overloads))
"""


def test_a_run_compiles_each_kernel_for_one_set_of_types() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"kernels with more than one type: {done.stdout}"
