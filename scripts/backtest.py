"""The standing measure of the model's forecasting skill: fit the baseline's parameters to
the target facts whose windows end by 2023-12-31, then score the 2024-25 targets it never
saw, for the best fit and for the ensemble, over several cold searches.

    python scripts/backtest.py [--budget 600] [--workers 2] [--until 2023-12-31]
        [--search-seeds 5] [--search-seed 0] [--out reports/backtest] [--resume]

The search starts cold (``--cold``): the baseline's own values were fitted to every
target, 2024-25 included, and must not seed a search scored on them. A cold search
depends on its own random start, so the skill is worth quoting only over several: the
script runs ``--search-seeds`` searches (search seeds ``--search-seed`` onwards, each in
``OUT/seed-K``; one search writes into ``OUT`` itself) and prints, for each, the in-sample
and out-of-sample in-band shares and the ensemble's coverage of the out-of-sample facts
(plain and predictive), which out-of-sample facts each search puts inside their band, and
the median over the searches; ``OUT/backtest.json`` keeps the table. One search is the
same as::

    market-sim calibrate scenarios/baseline.toml --params scenarios/calibration/baseline.toml \
        --until 2023-12-31 --cold --budget 600 --out reports/backtest
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
    ap.add_argument("--budget", type=int, default=600, help="evaluations of each search")
    ap.add_argument("--workers", type=int, default=None, help="local workers (default: cores)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "backtest"))
    ap.add_argument("--resume", action="store_true", help="finish the backtest in --out")
    ap.add_argument(
        "--search-seed",
        type=int,
        default=0,
        help="the first search's own seed (TPE's random start)",
    )
    ap.add_argument(
        "--search-seeds",
        type=int,
        default=5,
        help="searches to run, from --search-seed on (default 5): the skill depends on each "
        "search's luck, so it is quoted over several",
    )
    args = ap.parse_args(argv)
    if args.search_seeds < 1:
        print("--search-seeds: give at least 1", file=sys.stderr)
        return 2
    seeds = range(args.search_seed, args.search_seed + args.search_seeds)
    rows = []
    for seed in seeds:
        out = Path(args.out) if len(seeds) == 1 else Path(args.out) / f"seed-{seed}"
        row = _backtest(args, seed, out, detail=len(seeds) == 1)
        if row is None:
            return 2
        rows.append(row)
    if len(rows) > 1:
        _print_over_searches(rows)
    _write_table(Path(args.out) / "backtest.json", args, rows)
    return 0


def _backtest(args: argparse.Namespace, seed: int, out: Path, detail: bool) -> dict | None:
    """One cold search with search seed ``seed`` into ``out``, printed; its row of the
    table (None after a user's mistake, printed in one line)."""

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
        search_seed=seed,
    )
    done = [0]

    def on_result(number: int, ev, value: float) -> None:
        done[0] += 1
        if done[0] % 25 == 0 or done[0] == args.budget:
            print(f"  {done[0]}/{args.budget} evaluations", flush=True)

    t0 = time.perf_counter()
    try:
        result = calibrate(settings, out, args.resume, args.workers, None, print, on_result)
    except LineError as err:  # a user's mistake (a used --out, a bad file): one line
        print(str(err), file=sys.stderr)
        return None
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
        f"(search seed {seed})"
    )
    print(
        f"  in sample:     {s['in_sample_inside_after']}/{s['in_sample_n']} inside ({in_share:.0%})"
    )
    print(
        f"  out of sample: {s['out_sample_inside_after']}/{s['out_sample_n']} inside "
        f"({out_share:.0%})  <- the forecasting skill"
    )
    if detail:
        print("\n  out-of-sample facts (best fit; ensemble 5-95%):")
    oos = [f for f in best.index if _after(facts.loc[f], args.until)]
    covered = 0
    for fid in oos:
        row, fact = best.loc[fid], facts.loc[fid]
        sims = members.loc[members["fact_id"] == fid, "simulated"].to_numpy(dtype=float)
        lo, hi = np.nanpercentile(sims, [5, 95]) if np.isfinite(sims).any() else (math.nan,) * 2
        inside = "inside " if row["distance"] == 0 else "outside"
        covered += int(lo <= float(fact["value"]) <= hi)
        if detail:
            print(
                f"  {fid} {fact['metric_key']:<30} {fact['date']:<8} "
                f"observed {fact['value']:<12.4g} simulated {row['simulated']:<12.4g} "
                f"{inside}  ensemble {lo:.4g}-{hi:.4g}"
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
    return {
        "search_seed": seed,
        "calibration": result.id,
        "folder": str(result.out),
        "in_sample_inside": int(s["in_sample_inside_after"]),
        "in_sample_n": int(s["in_sample_n"]),
        "out_sample_inside": int(s["out_sample_inside_after"]),
        "out_sample_n": int(s["out_sample_n"]),
        "ensemble_covers_out_sample": covered,
        "predictive_covers_out_sample": int(s["coverage_predictive_out_sample"]),
        "discrepancy_sd": None if s["discrepancy_sd"] is None else float(s["discrepancy_sd"]),
        "inside_out_sample": {f: bool(best.loc[f, "distance"] == 0) for f in oos},
        "minutes": wall / 60,
    }


def _print_over_searches(rows: list[dict]) -> None:
    """The searches side by side: each one's in-band counts and coverage, the median, and
    which out-of-sample facts each puts inside their band."""
    n_out, n_in = rows[0]["out_sample_n"], rows[0]["in_sample_n"]
    print(f"\nbacktest over {len(rows)} searches (out of sample: {n_out} facts)")
    print("  search seed  in sample  out of sample  ensemble covers  predictive covers")
    for r in rows:
        print(
            f"  {r['search_seed']:>11}  {r['in_sample_inside']:>6}/{n_in:<2}  "
            f"{r['out_sample_inside']:>9}/{n_out:<3}  {r['ensemble_covers_out_sample']:>12}/"
            f"{n_out:<3} {r['predictive_covers_out_sample']:>14}/{n_out}"
        )
    out = np.array([r["out_sample_inside"] for r in rows])
    share = float(np.median(out)) / max(1, n_out)
    held = int((out >= 0.6 * n_out).sum())
    print(
        f"  out of sample: median {float(np.median(out)):g}/{n_out} ({share:.0%}), "
        f"range {out.min()}-{out.max()}; at least 60% at {held} of {len(rows)} searches"
        "  <- the forecasting skill"
    )
    facts = list(rows[0]["inside_out_sample"])
    print("\n  out-of-sample facts inside their band, by search seed:")
    print("  fact  " + " ".join(f"{r['search_seed']:>3}" for r in rows))
    for f in facts:
        marks = " ".join(f"{'in' if r['inside_out_sample'][f] else '-':>3}" for r in rows)
        print(f"  {f}  {marks}")


def _write_table(path: Path, args: argparse.Namespace, rows: list[dict]) -> None:
    """``OUT/backtest.json``: the settings and each search's row."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    table = {
        "until": args.until,
        "budget": args.budget,
        "scenario": args.scenario,
        "params": args.params,
        "searches": rows,
    }
    path.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")


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
