"""The standing measure of the model's forecasting skill: fit the baseline's parameters to
the target facts whose windows end by 2023-12-31, then score the 2024-25 targets it never
saw, for the best fit and for the ensemble.

    python scripts/backtest.py [--budget 300] [--workers 2] [--until 2023-12-31]
        [--out reports/backtest] [--resume] [--search-seed 0]

The search starts cold (``--cold``): the baseline's own values were fitted to every
target, 2024-25 included, and must not seed a search scored on them. Prints the in-sample
and out-of-sample in-band shares, every out-of-sample fact with its simulated value, and
the ensemble's coverage of them (plain and predictive). A cold search depends on its own
random start: ``--search-seed`` runs another one, and the skill is worth quoting only
over several. Same as::

    market-sim calibrate scenarios/baseline.toml --params scenarios/calibration/baseline.toml \
        --until 2023-12-31 --cold --budget 300 --out reports/backtest
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    ap.add_argument("--params", default=str(ROOT / "scenarios" / "calibration" / "baseline.toml"))
    ap.add_argument("--until", default="2023-12-31", help="last fitted date (YYYY-MM-DD)")
    ap.add_argument("--budget", type=int, default=300, help="evaluations of the search")
    ap.add_argument("--workers", type=int, default=None, help="local workers (default: cores)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "backtest"))
    ap.add_argument("--resume", action="store_true", help="finish the backtest in --out")
    ap.add_argument(
        "--search-seed",
        type=int,
        default=0,
        help="the search's own seed (TPE's random start): run several to see how much the "
        "skill depends on the search's luck",
    )
    args = ap.parse_args(argv)

    from market_sim.experiment.calibration.driver import Settings, calibrate
    from market_sim.facts import DEFAULT_FACTS
    from market_sim.model import resolve_scenario
    from market_sim.problems import LineError

    base = resolve_scenario(args.scenario)
    settings = Settings(
        scenario_file=args.scenario,
        params_file=args.params,
        facts_file=str(DEFAULT_FACTS),
        role="target",
        until=args.until,
        budget=args.budget,
        seeds=[base.simulation.seed],
        overrides=[],
        cold=True,
        search_seed=args.search_seed,
    )
    done = [0]

    def on_result(number: int, ev, value: float) -> None:
        done[0] += 1
        if done[0] % 25 == 0 or done[0] == args.budget:
            print(f"  {done[0]}/{args.budget} evaluations", flush=True)

    t0 = time.perf_counter()
    try:
        result = calibrate(
            settings, Path(args.out), args.resume, args.workers, None, print, on_result
        )
    except LineError as err:  # a user's mistake (a used --out, a bad file): one line
        print(str(err), file=sys.stderr)
        return 2
    wall = time.perf_counter() - t0
    s = result.summary
    v = result.validation
    from market_sim.facts import load_facts

    facts = load_facts(DEFAULT_FACTS).set_index("fact_id")
    best = v[v["member"] == 0].set_index("fact_id")
    members = v[v["member"] >= 0]
    in_share = s["in_sample_inside_after"] / max(1, s["in_sample_n"])
    out_share = s["out_sample_inside_after"] / max(1, s["out_sample_n"])
    print(
        f"\nbacktest {result.id}: fitted to target facts ending by {args.until} "
        f"(search seed {args.search_seed})"
    )
    print(
        f"  in sample:     {s['in_sample_inside_after']}/{s['in_sample_n']} inside ({in_share:.0%})"
    )
    print(
        f"  out of sample: {s['out_sample_inside_after']}/{s['out_sample_n']} inside "
        f"({out_share:.0%})  <- the forecasting skill"
    )
    print("\n  out-of-sample facts (best fit; ensemble 5-95%):")
    oos = [f for f in best.index if _after(facts.loc[f], args.until)]
    covered = 0
    for fid in oos:
        row, fact = best.loc[fid], facts.loc[fid]
        sims = members.loc[members["fact_id"] == fid, "simulated"].to_numpy(dtype=float)
        lo, hi = np.nanpercentile(sims, [5, 95]) if np.isfinite(sims).any() else (math.nan,) * 2
        inside = "inside " if row["distance"] == 0 else "outside"
        covered += int(lo <= float(fact["value"]) <= hi)
        print(
            f"  {fid} {fact['metric_key']:<30} {fact['date']:<8} observed {fact['value']:<12.4g} "
            f"simulated {row['simulated']:<12.4g} {inside}  ensemble {lo:.4g}-{hi:.4g}"
        )
    print(f"  ensemble of {s['ensemble_size']} covers {covered}/{len(oos)} out-of-sample facts")
    print(
        f"  with the model's discrepancy (sd {_sd_text(s['discrepancy_sd'])} log "
        "units, measured on "
        f"the {s['in_sample_n']} fitted facts only): predictive 5-95% range covers "
        f"{s['coverage_predictive_out_sample']}/{s['out_sample_n']} out-of-sample facts "
        f"(and {s['coverage_predictive_in_sample']}/{s['in_sample_n']} in sample, each "
        "leaving itself out)"
    )
    print(
        f"\n{args.budget} evaluations in {wall / 60:.1f} min; report: {result.out / 'report.html'}"
    )
    from market_sim.report.calibration_report import write_report

    write_report(result.out)
    return 0


def _sd_text(sd: float | None) -> str:
    """The discrepancy sd as printed; ``n/a`` when too few facts were fitted (None)."""
    return "n/a" if sd is None else f"{sd:.2f}"


def _after(fact, until: str) -> bool:
    """Whether a fact's window ends after ``until`` (scored out of sample)."""
    import pandas as pd

    from market_sim.experiment.calibration.objective import fact_end

    return fact_end(fact["date"], fact["window"]) > pd.Timestamp(until)


if __name__ == "__main__":
    sys.exit(main())
