"""The sweep report: ``OUT/report.html``, one self-contained page (same shell as the run
report). Sections: the plan, claims, outcome distributions, parameters and outcomes
(scatter, heatmap), sensitivity indices, weekly paths, the table of runs and how to
render any single run's full report. docs/sweeps.md explains each.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from market_sim.claims.sensitivity import STABLE_CONF, Sensitivity, sensitivities
from market_sim.claims.stats import FAILS_AT, HOLDS_AT, ClaimAnswer, answer
from market_sim.experiment.claims import ClaimResult, evaluate_claims
from market_sim.experiment.results import results_frame
from market_sim.experiment.sensitivity import correlations, salib_indices
from market_sim.experiment.storage import SweepStore
from market_sim.experiment.verify import verify_store
from market_sim.report import sweep_figures as RF
from market_sim.report.page import (
    Card,
    Section,
    details,
    figure_html,
    join,
    paragraph,
    preformatted,
    render_page,
    table_html,
    write_html,
)

MAX_SERIES = 6
"""Weekly series drawn in the report (the first kept ones)."""
MAX_COMMANDS = 2000
"""Single-run commands listed (a bigger sweep lists the first ones)."""


def write_report(
    out: str | Path,
    warn: Callable[[str], None] | None = None,
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Analyse the sweep in folder ``out`` and write ``out/report.html``; return its path.

    Run files are verified first (:mod:`market_sim.experiment.verify`): damaged or
    missing ones are left out (as missing runs) and named through ``warn``, one line each.
    The claims' sensitivities (SALib; minutes for a few hundred points of a Latin
    hypercube) run on ``workers`` processes and report ``progress(done, total, claim)``
    (:func:`market_sim.claims.sensitivity.sensitivities`: the same numbers with any count).
    """
    store = SweepStore(out)
    manifest = store.manifest()
    planned = {r["run_id"] for r in manifest["runs"]}
    check = verify_store(store, planned, manifest["fingerprint"])
    if warn is not None:
        for line in check.lines(store, "left out of the report; finish the sweep with --resume"):
            warn(line)
    damaged = len(check.damaged) + len(check.missing)
    html = render_report(store, manifest, damaged, workers=workers, progress=progress)
    path = store.out / "report.html"
    write_html(path, html)
    return path


def render_report(
    store: SweepStore,
    manifest: dict[str, Any],
    damaged: int = 0,
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> str:
    """The report's HTML (``damaged``: run files found damaged or missing, left out;
    ``workers``, ``progress``: as :func:`write_report`)."""
    import market_sim

    frame = results_frame(store, manifest)
    claims = evaluate_claims(frame, manifest)
    answered = _answers(frame, manifest, [c.claim for c in claims], workers, progress)
    corr = correlations(frame, manifest)
    indices, skipped = salib_indices(frame, manifest)
    sections = [
        _plan_section(manifest),
        _claims_section(claims, answered),
        _distributions_section(frame, manifest),
        _parameters_section(frame, manifest, corr),
        _sensitivity_section(manifest, indices, skipped),
        _series_section(store, manifest),
        _runs_section(frame, manifest),
        _single_run_section(store, manifest),
    ]
    subtitle = manifest["description"] or f"sweep of {manifest['scenarios'][manifest['base']]}"
    return render_page(
        title=f"Sweep: {manifest['name']}",
        subtitle=subtitle,
        cards=_cards(frame, manifest, [a for a, _ in answered], damaged),
        sections=[s for s in sections if s is not None],
        generated_by=f"market_sim {market_sim.__version__}",
    )


# --------------------------------------------------------------------------- pieces


def _answers(
    frame: pd.DataFrame,
    manifest: dict,
    claims: list[dict],
    workers: int,
    progress: Callable[[int, int, str], None] | None,
) -> list[tuple[ClaimAnswer, Sensitivity]]:
    """Each claim's answer over the sweep's pairs and the sensitivity of its difference."""
    found = [answer(frame, claim) for claim in claims]
    keys = [f"{claim['id']} ({k + 1})" for k, claim in enumerate(claims)]  # unique
    points = {key: pts for key, (_, pts) in zip(keys, found, strict=True)}
    sens = sensitivities(points, manifest, workers, progress)
    return [(result, sens[key]) for key, (result, _) in zip(keys, found, strict=True)]


def _cards(
    frame: pd.DataFrame, manifest: dict, claims: list[ClaimAnswer], damaged: int = 0
) -> list[Card]:
    status = frame["status"].value_counts()
    done = int(status.get("ok", 0) + status.get("failed", 0))
    cards = [
        Card(
            "Runs finished",
            f"{done:,} / {len(frame):,}",
            f"{int(status.get('missing', 0)):,} missing",
        ),
        Card("Failed runs", f"{int(status.get('failed', 0)):,}", "recorded with their error"),
        *(
            [Card("Damaged run files", f"{damaged:,}", "left out (missing); resume to redo")]
            if damaged
            else []
        ),
        Card(
            "Design",
            f"{len(manifest['design']):,} points",
            f"{manifest['sampler']}, x {manifest['replicates']} replicates "
            f"x {len(manifest['scenarios'])} scenarios",
        ),
        Card(
            "Compute time",
            f"{frame['elapsed_s'].sum() / 60:,.1f} min",
            "sum over runs of build + run + outputs",
        ),
    ]
    if claims:
        holding = sum(c.verdict == "holds" for c in claims)
        cards.append(
            Card(
                "Claims holding",
                f"{holding} / {len(claims)}",
                f"in at least {HOLDS_AT:.0%} of paired runs",
            )
        )
    return cards


def _plan_section(manifest: dict) -> Section:
    params = pd.DataFrame(
        [
            {
                "parameter": p["path"],
                "values": p["describe"],
                "integer": p["integer"],
                "applies to": ", ".join(p["scenarios"]),
            }
            for p in manifest["parameters"]
        ]
    )
    outputs = pd.DataFrame(
        [
            {
                "output": o["name"],
                "metric": o["metric"],
                "window": o["window"],
                "agg": o["agg"],
                "label": o["label"],
            }
            for o in manifest["outputs"]
        ]
    )
    scen = pd.DataFrame([{"scenario": k, "file": v} for k, v in manifest["scenarios"].items()])
    fixed = "; ".join(manifest["set"]) or "none"
    body = join(
        paragraph(
            f"Sweep file {manifest['sweep_file']}; sampler {manifest['sampler']} "
            f"(samples = {manifest['samples']}), {manifest['replicates']} replicates, "
            f"sweep seed {manifest['seed']}; overrides for every run: {fixed}. "
            f"Base scenario: {manifest['base']}."
        ),
        table_html(scen),
        table_html(params),
        table_html(outputs),
    )
    return Section("plan", "Plan", body)


def _claims_section(
    claims: list[ClaimResult], answered: list[tuple[ClaimAnswer, Sensitivity]]
) -> Section | None:
    if not claims:
        return None
    rows, figs = [], []
    for r, (a, sens) in zip(claims, answered, strict=True):
        c = r.claim
        top = [d for d in r.drivers if math.isfinite(d.importance)][:2]
        unit = "%" if c["relative"] else ""
        rows.append(
            {
                "claim": c["text"],
                "test": f"{c['scenario']} − {c['counterfactual']}: {c['output']} "
                f"{'>' if c['direction'] == 'increase' else '<'} "
                f"{c['threshold'] if c['direction'] == 'increase' else -c['threshold']:+g}"
                f"{unit}",
                "verdict": a.verdict,
                "effect (median)": a.effect,
                "90% of pairs (points x seeds)": f"{a.p05:.3g} to {a.p95:.3g}" if a.pairs else "—",
                "P(holds)": f"{a.probability:.0%}" if a.pairs else "—",
                "share of points holding [95% Wilson]": (
                    f"{r.share:.0%} [{r.low:.0%}, {r.high:.0%}] of {r.n}" if r.n else "—"
                ),
                "what decides it (the difference)": sens.decides(),
                "screening": "; ".join(
                    f"{d.parameter} ({d.measure} {d.association:+.2f}): {d.rule}" for d in top
                )
                or "—",
            }
        )
        driver = top[0].parameter if top else None
        cat = bool(driver and r.points[driver].map(lambda v: isinstance(v, str | bool)).any())
        if r.n:
            fig = RF.claim_figure(r.points, c, driver, cat)
            figs.append(figure_html(fig, f"fig-claim-{c['id']}"))
        if r.excluded:
            figs.append(
                paragraph(
                    f"{c['id']}: {r.excluded} (sample, replicate) pairs left out "
                    "(a failed run or no value)."
                )
            )
    classes = [
        "ok" if a.verdict == "holds" else "bad" if a.verdict == "does not hold" else "muted"
        for a, _ in answered
    ]
    body = join(
        paragraph(
            "Each claim compares an output between a scenario and its counterfactual "
            "run with the same parameters and seed (a pair). The effect is the median "
            "difference over the pairs, the 90% range covers the sampled parameter space "
            "and the model's noise (seeds) together, and P(holds) is the share of pairs "
            f"that show the claim; verdict: holds at P >= {HOLDS_AT:.0%}, does not hold at "
            f"P <= {FAILS_AT:.0%}, else undecided (docs/claims.md). 'Share of points "
            "holding' is the share of sample points (difference averaged over replicates) "
            "where the claim holds; its 95% Wilson interval is the uncertainty from the "
            "number of points, not from the model. 'What decides it' is the sensitivity of "
            "the claim's difference (not of the levels), ranked only when the indices are "
            "stable; 'screening' lists the parameters most associated with the difference "
            "(Spearman rho, or eta for text values) and the single split that best "
            "separates points where the claim holds from the others."
        ),
        table_html(pd.DataFrame(rows), row_classes=classes),
        *figs,
    )
    return Section("claims", "Claims", body)


def _distributions_section(frame: pd.DataFrame, manifest: dict) -> Section:
    fig = RF.distributions_figure(frame, manifest["outputs"], list(manifest["scenarios"]))
    ok = frame[frame["status"] == "ok"]
    names = [o["name"] for o in manifest["outputs"]]
    stats = ok.groupby("scenario")[names].describe(percentiles=[0.1, 0.5, 0.9])
    stats = (
        stats.stack(level=0, future_stack=True).reset_index().rename(columns={"level_1": "output"})
    )
    cols = ["scenario", "output", "count", "mean", "10%", "50%", "90%", "min", "max"]
    body = join(
        figure_html(fig, "fig-distributions"),
        table_html(stats[[c for c in cols if c in stats.columns]], sortable=True),
    )
    return Section("distributions", "Outcome distributions", body)


def _parameters_section(frame: pd.DataFrame, manifest: dict, corr: pd.DataFrame) -> Section:
    names = [o["name"] for o in manifest["outputs"]]
    params = [p["path"] for p in manifest["parameters"]]
    parts: list[Markup] = [
        figure_html(RF.heatmap_figure(corr, names, params), "fig-heatmap"),
        paragraph(
            "Spearman's rank correlation (rho, -1 to 1) of each output with each "
            "parameter over the base scenario's sample points (replicates averaged); "
            "eta (0 to 1) for parameters of text values."
        ),
    ]
    for k, o in enumerate(manifest["outputs"]):
        fig = RF.scatter_figure(frame, o, manifest["parameters"], manifest["base"])
        parts.append(figure_html(fig, f"fig-scatter-{k}"))
    return Section("parameters", "Parameters and outcomes", join(*parts))


def _sensitivity_section(manifest: dict, indices: pd.DataFrame, skipped: dict) -> Section:
    method = manifest["sampler"]
    if method not in ("sobol", "morris"):
        return Section(
            "sensitivity",
            "Sensitivity",
            paragraph(
                f"A {method} design gives no variance-based (Sobol) or elementary-effect (Morris) "
                "indices; the rank correlations above are its sensitivity measure. Use sampler = "
                '"sobol" or "morris" for indices.'
            ),
        )
    parts: list[Markup] = [
        paragraph(
            "Sobol: S1 is the share of the output's variance due to the parameter alone, ST "
            "including its interactions (95% bootstrap intervals)."
            if method == "sobol"
            else "Morris: mu* is the mean absolute effect of moving the parameter one step of its "
            "range (in the output's unit), sigma the spread of those effects (interactions, "
            "non-linearity)."
        )
    ]
    for k, o in enumerate(manifest["outputs"]):
        if o["name"] in skipped:
            parts.append(paragraph(f"{o['name']}: no indices ({skipped[o['name']]})."))
            continue
        mine = indices[indices["output"] == o["name"]]
        wide = mine["conf"].max() if not mine.empty else math.nan
        mu = mine.loc[mine["measure"] == "mu_star", "value"]
        scale = 1.0 if method == "sobol" else max(float(mu.max()), 1e-300)
        if math.isfinite(wide) and wide / scale > STABLE_CONF:
            parts.append(
                paragraph(
                    f"Warning: {o['name']}: the indices are not stable (widest 95% bootstrap "
                    f"interval ±{wide / scale:.2f} on the 0-1 scale, above {STABLE_CONF}); "
                    "do not rank the parameters by them: use more samples."
                )
            )
        parts.append(
            figure_html(RF.sensitivity_figure(indices, o["name"], method), f"fig-sensitivity-{k}")
        )
    if not indices.empty:
        parts.append(details("Indices as a table", table_html(indices, sortable=True)))
    return Section("sensitivity", "Sensitivity", join(*parts))


def _series_section(store: SweepStore, manifest: dict) -> Section | None:
    names = store.series_names()[:MAX_SERIES]
    if not names:
        return None
    scenarios = list(manifest["scenarios"])
    figs = [
        figure_html(RF.series_figure(store.series(n), n, scenarios), f"fig-series-{k}")
        for k, n in enumerate(names)
    ]
    return Section(
        "series",
        "Weekly paths",
        join(
            paragraph(
                "The weekly series kept with each run (the outputs' metrics and the sweep's "
                "series): median and 10-90% band over ok runs."
            ),
            *figs,
        ),
    )


def _runs_section(frame: pd.DataFrame, manifest: dict) -> Section:
    table = frame.copy()
    table["error"] = table.pop("error").fillna("")  # last: the long text wraps there
    classes = [
        "bad" if s == "failed" else "muted" if s == "missing" else "" for s in table["status"]
    ]
    return Section(
        "runs",
        "Runs",
        join(
            paragraph(
                "Every planned run; click a header to sort. Query the files directly with "
                "DuckDB: SELECT * FROM 'runs/*.parquet' WHERE kind = 'output'."
            ),
            table_html(table, sortable=True, row_classes=classes),
        ),
    )


def single_run_command(manifest: dict, run: dict, out: Path) -> str:
    """The command that renders one run's full report (same scenario, seed, overrides)."""
    parts = [
        "market-sim",
        "run",
        manifest["scenarios"][run["scenario"]],
        "--seed",
        str(run["seed"]),
    ]
    for o in run["overrides"]:
        parts += ["--set", o]
    parts += ["--out", str(out / "single" / run["run_id"])]
    return shlex.join(parts)


def _single_run_section(store: SweepStore, manifest: dict) -> Section:
    runs = manifest["runs"][:MAX_COMMANDS]
    lines = "\n".join(single_run_command(manifest, r, store.out) for r in runs)
    more = len(manifest["runs"]) - len(runs)
    return Section(
        "single-run",
        "A single run's full report",
        join(
            paragraph(
                "Each run is reproducible on its own: the command below reruns it (same "
                "scenario file, seed and overrides, so the same weekly results) and writes "
                "its run folder with the full run report. Paths are relative to where the "
                "sweep was started."
            ),
            details(
                f"Commands for {len(runs)} runs" + (f" (first {len(runs)})" if more else ""),
                preformatted(lines),
                open_=len(runs) <= 12,
            ),
        ),
    )
