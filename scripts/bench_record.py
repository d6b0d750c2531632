"""Benchmark phase 7 of a week (the outcomes) alone: an old commit's recorder beside this
tree's, on the same model states, in one process.

The old commit's ``market_sim/model/record.py`` and ``record_parts.py`` (read with
``git show``; default b2d6051, the last commit before the row recorder) are loaded as
modules of their own beside this tree's package, and an old ``Recorder`` is built on
this tree's model (the baseline at ``--startups`` startups, default 10,000; seed 1).
From week 104 to 155, after each of the model's weeks, phase 7 runs on that week's state
in three ways, in turn, best of ``--repeats`` each:

- ``old``: the old recorder's ``collect`` (a dict of every key), the old data
  collector's read of it (one ``itemgetter`` over the keys) and the old
  ``agent_records`` (the vendors' and chipmakers' records gathered again);
- ``numpy``: this tree's recorder with the numpy twins of its kernels
  (:mod:`market_sim.model.record_reference`), then ``model.metrics.row()`` and
  ``model.agent_records()``;
- ``new``: the same with the kernels (what a run does).

Each week the old dict and the new row must hold the same bits for every key (else the
script stops). Prints the median week of each and the ratios, and the Python-level
calls of one week's phase 7 (cProfile, deterministic); writes JSON to
``scripts/results/bench_record-<UTC timestamp>.json``.

    python scripts/bench_record.py                 # old = b2d6051
    python scripts/bench_record.py --old b2d6051   # a given commit (its recorder API:
                                                   # collect(week, prev) -> (dict, record))
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import operator
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_results import write_results

ROOT = Path(__file__).resolve().parents[1]


def old_recorder_module(commit: str, folder: Path) -> Any:
    """The old commit's record.py, importing its own record_parts.py, as a module."""
    for name in ("record", "record_parts"):
        text = subprocess.run(
            ["git", "show", f"{commit}:market_sim/model/{name}.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = text.replace("market_sim.model.record_parts", "old_record_parts")
        (folder / f"old_{name}.py").write_text(text)
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location("old_record", folder / "old_record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_of(f: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def calls(f: Callable[[], Any]) -> int:
    profile = cProfile.Profile()
    profile.enable()
    f()
    profile.disable()
    return pstats.Stats(profile).total_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--old",
        default="b2d6051",
        help="the old commit (default: b2d6051, the last before the row recorder)",
    )
    parser.add_argument("--startups", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=9, help="best of (default 9)")
    args = parser.parse_args()

    from market_sim.model import GPUMarketModel, record_reference
    from market_sim.model import record as record_module
    from market_sim.model.record_kernels import KERNEL_NAMES

    with tempfile.TemporaryDirectory() as tmp:
        old_module = old_recorder_module(args.old, Path(tmp))
    over = [f"startups.count={args.startups}"]
    model = GPUMarketModel(ROOT / "scenarios" / "baseline.toml", overrides=over, seed=1)
    rec = model.recorder
    old = old_module.Recorder(
        model.world,
        model.market,
        model.holdings,
        model.book,
        model.accounts,
        model.flows,
        model.vendors,
        model.holders,
        model.chipmakers,
        model.startups,
        model.supply.backlog_units,
        model.installed_h100e,
        model.open_orders,
    )
    read_dict = operator.itemgetter(*rec.keys)
    kernels = {name: getattr(record_module, name) for name in KERNEL_NAMES}
    twins = {name: getattr(record_reference, f"{name}_reference") for name in KERNEL_NAMES}

    def old_phase(week: int, prev: dict[str, float]) -> dict[str, float]:
        found, holder_record = old.collect(week, prev)
        read_dict(found)
        {  # the old model.agent_records()
            "holders": holder_record.copy(),
            "vendors": np.array(
                [
                    [v.revenue_usd, v.cogs_usd, v.sales_usd, v.inventory_units()]
                    for v in model.vendors
                ]
            ),
            "chipmakers": np.array(
                [[c.capacity, c.used, c.expansion, c.utilisation] for c in model.chipmakers]
            ),
        }
        return found

    def new_phase(week: int, with_kernels: bool) -> None:
        for name, f in (kernels if with_kernels else twins).items():
            setattr(record_module, name, f)
        rec.collect(week)
        model.metrics.row()
        model.agent_records()
        for name, f in kernels.items():
            setattr(record_module, name, f)

    for _ in range(104):
        model.step()
    times: dict[str, list[float]] = {"old": [], "numpy": [], "new": []}
    counts: dict[str, int] = {}
    for _ in range(104, 156):
        prev = dict(zip(rec.catalogue_keys, rec.row.tolist(), strict=True))
        model.step()
        week = model.week - 1
        found = old_phase(week, prev)
        want = np.array([found[k] for k in rec.catalogue_keys])
        if not (want.view(np.int64) == rec.row.view(np.int64)).all():
            raise SystemExit(f"week {week}: the old and new recorders disagree")
        ways = {
            "old": lambda w=week, p=prev: old_phase(w, p),
            "numpy": lambda w=week: new_phase(w, False),
            "new": lambda w=week: new_phase(w, True),
        }
        for name, f in ways.items():  # in turn, so each sees the same machine load
            times[name].append(best_of(f, args.repeats))
        if week == 130:
            counts = {name: calls(f) for name, f in ways.items()}
    model.close()

    med = {name: 1e6 * statistics.median(t) for name, t in times.items()}
    print(
        f"phase 7 at {args.startups:,} startups, weeks 104-155 (median week, best of "
        f"{args.repeats}); old = {args.old}; the same values, bit for bit, every week"
    )
    print(f"{'way':<8} {'us/week':>9} {'/ old':>7} {'calls':>7}")
    for name in times:
        print(f"{name:<8} {med[name]:>9.1f} {med[name] / med['old']:>7.3f} {counts[name]:>7}")
    print(f"old / new: {med['old'] / med['new']:.2f}x")
    write_results(
        "bench_record",
        {
            "old": args.old,
            "startups": args.startups,
            "repeats": args.repeats,
            "median_us": med,
            "calls_week_130": counts,
        },
    )


if __name__ == "__main__":
    main()
