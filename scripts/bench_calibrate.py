"""How fast a calibration runs: the baseline's parameters (scenarios/calibration/
baseline.toml, about ten) fitted to the target facts, once on one worker (a short search,
for the rate) and once on two workers (the full budget), in one run of this script.

    python scripts/bench_calibrate.py [--budget 500] [--serial-budget 40] [--workers 2]

Prints evaluations per second of each search, the parallel speedup (a ratio measured in
this run, so machine noise cancels), and the wall time of the whole calibration on the
workers (search, ensemble validation, outputs), which must stay under 30 minutes for a
500-evaluation calibration (issue 11). Nothing is kept: both run in temporary folders.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_calibration(budget: int, workers: int, folder: Path) -> dict[str, float]:
    """Calibrate the baseline with ``budget`` evaluations on ``workers`` local workers;
    the search's rate (evaluations/s between the first and the last result) and the
    calibration's wall time."""
    from market_sim.experiment.calibration.driver import Settings, calibrate
    from market_sim.facts import DEFAULT_FACTS

    settings = Settings(
        scenario_file=str(ROOT / "scenarios" / "baseline.toml"),
        params_file=str(ROOT / "scenarios" / "calibration" / "baseline.toml"),
        facts_file=str(DEFAULT_FACTS),
        role="target",
        until=None,
        budget=budget,
        seeds=[1],
        overrides=[],
    )
    stamps: list[float] = []

    def on_result(number: int, ev, value: float) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) % 50 == 0:
            print(f"    {len(stamps)}/{budget}", flush=True)

    t0 = time.perf_counter()
    result = calibrate(settings, folder, False, workers, None, None, on_result)
    wall = time.perf_counter() - t0
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    return {
        "evals": len(stamps),
        "rate": (len(stamps) - 1) / span,
        "wall_s": wall,
        "search_s": stamps[-1] - t0,
        "members": len(result.ensemble),
        "best": float(result.ensemble["objective"].iloc[0]),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=500, help="evaluations on --workers")
    ap.add_argument("--serial-budget", type=int, default=40, help="evaluations on 1 worker")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_calibrate-") as tmp:
        print(f"1 worker, {args.serial_budget} evaluations ...", flush=True)
        one = timed_calibration(args.serial_budget, 1, Path(tmp) / "one")
        print(f"{args.workers} workers, {args.budget} evaluations ...", flush=True)
        many = timed_calibration(args.budget, args.workers, Path(tmp) / "many")
    speedup = many["rate"] / one["rate"]
    print()
    print(f"1 worker:  {one['rate']:.2f} evaluations/s")
    print(
        f"{args.workers} workers: {many['rate']:.2f} evaluations/s   "
        f"speedup x{speedup:.2f} ({speedup / args.workers:.0%} of linear)"
    )
    print(
        f"{args.budget}-evaluation calibration on {args.workers} workers: "
        f"{many['wall_s'] / 60:.1f} min wall (search {many['search_s'] / 60:.1f} min, "
        f"then {many['members']} ensemble members validated); best objective "
        f"{many['best']:.4g}"
    )
    limit = 30 * 60
    verdict = "under" if many["wall_s"] < limit else "OVER"
    print(f"{verdict} the 30-minute budget of issue 11")
    return 0


if __name__ == "__main__":
    sys.exit(main())
