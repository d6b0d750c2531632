"""Benchmark issue 15's start-up work: the report's encodings, Mesa's import, a warm run.

Prints, measured in one run (the two ways in turn, best of ``--repeats``):

- the run report of a 156-week baseline run rendered in one process with plotly's array
  encoding (``to_typed_array_spec`` through narwhals) and with
  :func:`market_sim.report.figure_spec.typed_array` (the same page), ms and new / old;
  the encoding alone on the figures of that report;
- ``import mesa`` in a fresh process after ``import market_sim.cli`` (what a ``run`` has
  loaded by then), plain and through :func:`market_sim.mesa_import.import_mesa`;
- with ``--old TREE``, the wall time of a warm ``python -m market_sim.cli run
  scenarios/baseline.toml`` in that tree and in this one (a warm-up run in each first),
  and the ``timings_s`` each run wrote.

Writes JSON to ``scripts/results/bench_start-<UTC timestamp>.json``.

    python scripts/bench_start.py
    python scripts/bench_start.py --old /tmp/old-tree --repeats 7
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_results import tree_env, write_results

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this tree's market_sim, whichever one is installed


def _best(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best seconds of each of ``fns``, called in turn ``repeats`` times."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def plotly_encode(spec: object) -> object:
    """The previous ``figure_spec.encode_arrays``: plotly's array test and encoding on
    every value."""
    from _plotly_utils.basevalidators import is_homogeneous_array
    from _plotly_utils.utils import is_skipped_key, to_typed_array_spec

    from market_sim.report.figure_spec import _holds_containers

    if isinstance(spec, dict):
        for key, value in spec.items():
            if is_skipped_key(key):
                continue
            if is_homogeneous_array(value):
                spec[key] = to_typed_array_spec(value)
            else:
                plotly_encode(value)
    elif isinstance(spec, list | tuple) and _holds_containers(spec):
        for value in spec:
            plotly_encode(value)
    return spec


def report_parts(repeats: int) -> dict[str, float]:
    """ms of the report (plotly's array encoding vs this tree's) and of the encoding alone."""

    from market_sim.report import figure_spec, page
    from market_sim.report.run_report import render_run_report
    from market_sim.runs.folder import execute

    run = execute(ROOT / "scenarios" / "baseline.toml")
    specs: list[dict] = []
    encode = page.encode_arrays

    def keep_spec(spec: dict) -> dict:
        specs.append(copy.deepcopy(spec))
        return encode(spec)

    page.encode_arrays = keep_spec
    new_html = render_run_report(run)
    page.encode_arrays = encode

    def render_old() -> str:
        page.encode_arrays = plotly_encode
        try:
            return render_run_report(run)
        finally:
            page.encode_arrays = encode

    assert render_old() == new_html, "the two ways must write the same page"
    copies = [copy.deepcopy(specs) for _ in range(2 * repeats)]
    best = _best(
        {
            "report_old": render_old,
            "report_new": lambda: render_run_report(run),
            "encode_old": lambda: [plotly_encode(s) for s in copies.pop()],
            "encode_new": lambda: [figure_spec.encode_arrays(s) for s in copies.pop()],
        },
        repeats,
    )
    return {k: 1e3 * v for k, v in best.items()} | {"arrays_specs": len(specs)}


MESA_PROBE = """
import sys, time
import market_sim.cli
t0 = time.perf_counter()
if sys.argv[1] == "new":
    from market_sim.mesa_import import import_mesa
    import_mesa()
else:
    import mesa
print(time.perf_counter() - t0)
"""


def mesa_import(repeats: int) -> dict[str, float]:
    """ms of ``import mesa`` in a fresh process, plain and through import_mesa."""
    env = tree_env(ROOT)

    def probe(way: str) -> float:
        done = subprocess.run(
            [sys.executable, "-c", MESA_PROBE, way],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(done.stdout.split()[-1])

    best = {"mesa_plain": float("inf"), "mesa_import_mesa": float("inf")}
    for _ in range(repeats):
        best["mesa_plain"] = min(best["mesa_plain"], probe("old"))
        best["mesa_import_mesa"] = min(best["mesa_import_mesa"], probe("new"))
    return {k: 1e3 * v for k, v in best.items()}


def warm_run(tree: Path) -> tuple[float, float, dict[str, float]]:
    """Wall seconds, CPU seconds (user + system: less moved by other processes on a
    shared machine) and run.json timings of a warm ``run`` of the baseline in ``tree``."""
    env = tree_env(tree)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        args = [sys.executable, "-m", "market_sim.cli", "run", "scenarios/baseline.toml"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [*args, "--out", str(out)], cwd=tree, env=env, capture_output=True, check=True
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu, json.loads((out / "run.json").read_text())["timings_s"]


def runs(old: Path, repeats: int) -> dict[str, object]:
    """Best wall and CPU seconds of a warm run in ``old`` and in this tree, in turn."""
    trees = {"old": old, "new": ROOT}
    for tree in trees.values():
        warm_run(tree)  # compiles or loads the kernel cache
    wall = dict.fromkeys(trees, float("inf"))
    cpu = dict.fromkeys(trees, float("inf"))
    timings: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, tree in trees.items():
            w, c, t = warm_run(tree)
            cpu[name] = min(cpu[name], c)
            if w < wall[name]:
                wall[name], timings[name] = w, t
    out: dict[str, object] = {}
    for name in trees:
        out |= {f"run_{name}_s": wall[name], f"run_cpu_{name}_s": cpu[name]}
        out[f"timings_{name}"] = timings[name]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="best of (default 5)")
    parser.add_argument("--old", type=Path, help="an old tree: also time a warm run in both")
    args = parser.parse_args()
    res: dict[str, object] = {}
    res |= report_parts(args.repeats)
    res |= mesa_import(args.repeats)
    if args.old is not None:
        res |= runs(args.old.resolve(), args.repeats)
    print(f"best of {args.repeats}, old and new in turn")
    rows = [
        ("run report (ms)", "report_old", "report_new"),
        ("  array encoding of its figures (ms)", "encode_old", "encode_new"),
        ("import mesa after market_sim.cli (ms)", "mesa_plain", "mesa_import_mesa"),
        ("warm `run` of the baseline (s)", "run_old_s", "run_new_s"),
        ("  its CPU time, user + system (s)", "run_cpu_old_s", "run_cpu_new_s"),
    ]
    print(f"{'measure':<40} {'old':>9} {'new':>9} {'new/old':>8}")
    for label, old, new in rows:
        if old in res:
            a, b = float(res[old]), float(res[new])  # type: ignore[arg-type]
            print(f"{label:<40} {a:>9.2f} {b:>9.2f} {b / a:>8.2f}")
    for name in ("old", "new"):
        if f"timings_{name}" in res:
            print(f"  timings_s of the best {name} run: {res[f'timings_{name}']}")
    write_results(
        "bench_start",
        {
            "repeats": args.repeats,
            "old": str(args.old) if args.old else None,
            "results": res,
        },
    )


if __name__ == "__main__":
    main()
