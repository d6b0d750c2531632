"""Try the two candidate calibration libraries on this model, side by side: optuna (TPE,
ask-and-tell in parallel batches) and pyabc (ABC-SMC with its Dask sampler).

Both fit the same parameters of the baseline to the same in-sample facts (targets up to
2023-12-31) with the same budget of model evaluations on the same Dask cluster, and the
script prints, for each, the best objective found, the evaluations it took, the wall time
and how well the parameter sets it would ship as an ensemble cover the facts. Needs
``pip install optuna pyabc`` (pyabc is not a dependency of market_sim).

    python scripts/compare_calibrators.py [--budget 150] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from market_sim.experiment.calibration.evaluate import evaluate, weeks_needed
from market_sim.experiment.calibration.objective import fact_weights, select_facts
from market_sim.facts import DEFAULT_FACTS, load_facts
from market_sim.model import resolve_scenario

ROOT = Path(__file__).resolve().parents[1]
PARAMS = {  # path: (low, high, log)
    "policy.ordering.stock_adjust_weeks": (4.0, 26.0, True),
    "policy.ordering.supply_line_weight": (0.05, 1.0, False),
    "startups.value_usd_per_gpu_hour": (3.0, 12.0, True),
    "economics.opex_usd_per_gpu_hour": (0.3, 1.5, False),
    "policy.pricing.sensitivity": (0.001, 0.05, True),
}


def setup():
    s = resolve_scenario(ROOT / "scenarios" / "baseline.toml")
    facts, _ = select_facts(load_facts(DEFAULT_FACTS), "target", pd.Timestamp("2023-12-31"))
    weeks = weeks_needed(pd.Timestamp(s.simulation.start_date), facts, s.simulation.weeks)
    data = s.model_dump(mode="json", by_alias=True)
    return data, facts, fact_weights(facts, {}), weeks


def run_optuna(client, budget: int, batch: int) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data, facts, weights, weeks = setup()
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    best_at, history = None, []
    t0 = time.perf_counter()
    while len(history) < budget:
        trials = [study.ask() for _ in range(min(batch, budget - len(history)))]
        params = [
            {p: t.suggest_float(p, lo, hi, log=log) for p, (lo, hi, log) in PARAMS.items()}
            for t in trials
        ]
        futures = client.map(
            evaluate, [data] * len(params), params, [[1]] * len(params),
            [facts] * len(params), [weights] * len(params), weeks=weeks, pure=False,
        )  # fmt: skip
        for trial, ev in zip(trials, client.gather(futures), strict=True):
            study.tell(trial, ev.objective)
            history.append(ev)
            if best_at is None or ev.objective < history[best_at].objective:
                best_at = len(history) - 1
    wall = time.perf_counter() - t0
    ranked = sorted(history, key=lambda e: e.objective)[:20]
    return summary("optuna TPE", history, best_at, wall, ranked)


def run_pyabc(client, budget: int, population: int) -> dict:
    import tempfile

    import pyabc

    data, facts, weights, weeks = setup()
    prior = pyabc.Distribution(
        **{
            p.replace(".", "__"): (
                pyabc.RV("loguniform", lo, hi) if log else pyabc.RV("uniform", lo, hi - lo)
            )
            for p, (lo, hi, log) in PARAMS.items()
        }
    )

    def model(par):
        params = {k.replace("__", "."): float(v) for k, v in par.items()}
        ev = evaluate(data, params, [1], facts, weights, weeks=weeks)
        return {"objective": ev.objective, "inside": float(ev.inside)}

    def distance(x, _y):
        return x["objective"]

    sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=2)
    abc = pyabc.ABCSMC(model, prior, distance, population_size=population, sampler=sampler)
    db = "sqlite:///" + str(Path(tempfile.mkdtemp()) / "abc.db")
    abc.new(db, {"objective": 0.0})
    t0 = time.perf_counter()
    h = abc.run(max_total_nr_simulations=budget, max_nr_populations=20)
    wall = time.perf_counter() - t0
    pops = h.get_all_populations()
    evals = int(h.total_nr_simulations)
    frame, _weights = h.get_distribution()
    # the final population's objectives (pyabc stores the distance of each particle)
    dists = h.get_weighted_distances()
    best = float(dists["distance"].min())
    return {
        "method": "pyabc ABC-SMC",
        "evaluations": evals,
        "generations": int(len(pops) - 1),
        "best_objective": best,
        "ensemble_median_objective": float(dists["distance"].median()),
        "ensemble_size": len(frame),
        "wall_s": wall,
        "evals_per_s": evals / wall,
    }


def summary(name, history, best_at, wall, ranked) -> dict:
    return {
        "method": name,
        "evaluations": len(history),
        "best_objective": history[best_at].objective,
        "best_found_at": best_at + 1,
        "best_inside": history[best_at].inside,
        "ensemble_median_objective": float(np.median([e.objective for e in ranked])),
        "ensemble_size": len(ranked),
        "wall_s": wall,
        "evals_per_s": len(history) / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from market_sim.experiment.execute import connect

    with connect(workers=args.workers) as client:
        client.run(lambda: __import__("market_sim.model"))
        out = [
            run_optuna(client, args.budget, batch=2 * args.workers),
            run_pyabc(client, args.budget, population=max(10, args.budget // 6)),
        ]
    for row in out:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
