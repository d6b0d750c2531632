"""Run commands: ``run``, ``compare``, ``report`` and ``query``.

Output folders are written atomically (built under a hidden temporary name, renamed when
complete); an existing folder is replaced only with ``--force``. Reading: docs/reports.md.
``query`` lives in :mod:`market_sim.cli.query_cmds`.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from market_sim.cli import SetOption, UserError, app, console, err_console, load, user_errors
from market_sim.problems import os_problem, shorten

OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Folder to write (default: reports/<name>/).", show_default=False),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace an existing output folder (after success).")
]
FactsOption = Annotated[
    Path | None,
    typer.Option(
        "--facts",
        metavar="FILE",
        help="Market facts CSV for the facts table (default: the observed 2023-2025 facts "
        "shipped with market_sim, a copy of shared/data/market_facts.csv).",
        show_default=False,
    ),
]


def default_facts() -> Path | None:
    """The facts file shipped with the package (None if it was removed)."""
    from market_sim.facts import DEFAULT_FACTS

    return DEFAULT_FACTS if DEFAULT_FACTS.is_file() else None


def _facts(facts: Path | None) -> Path | None:
    if facts is not None and not facts.is_file():
        raise UserError(str(facts), "--facts", "file not found; check the path")
    return facts if facts is not None else default_facts()


# --------------------------------------------------------------------------- run


RunSource = Annotated[
    Path,
    typer.Argument(
        help="Scenario file (TOML), or a run folder (or its run.json) to rerun it with the "
        "stored scenario and seed.",
        show_default=False,
    ),
]


@app.command()
@user_errors
def run(
    scenario: RunSource,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's simulation.seed).")
    ] = None,
    out: OutOption = None,
    force: ForceOption = False,
    facts: FactsOption = None,
    csv: Annotated[
        bool, typer.Option("--csv", help="Also write CSV copies of the tables (spreadsheets).")
    ] = False,
    set_: SetOption = None,
) -> None:
    """Run a scenario and write a run folder: data (Parquet; CSV with --csv), run.json,
    report.html."""
    from market_sim.outcomes.headline import HEADLINES
    from market_sim.report.run_report import render_run_report
    from market_sim.runs.compare import slug
    from market_sim.runs.folder import (
        check_out,
        execute,
        read_run_json,
        staged_folder,
        stored_scenario,
        write_run_into,
    )
    from market_sim.scenario.bounds import MAX_SEED

    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError("--seed", "", f"{seed:.6g} is not a whole number from 0 to 2^63-1")
    facts_path = _facts(facts)
    t0 = time.perf_counter()
    if scenario.is_dir() or scenario.suffix == ".json":  # rerun a stored run
        data = read_run_json(scenario)
        s = stored_scenario(data, set_ or ())
        seed = int(data["seed"]) if seed is None else seed
    else:
        s = load(scenario, set_)
    out = out if out is not None else Path("reports") / slug(s.simulation.name)
    check_out(out, force)
    with staged_folder(out, force) as tmp:
        result = execute(s, seed=seed, progress=True, source=str(scenario))
        # "build" also counts reading the scenario (the time before execute started)
        result.timings_s["build"] += time.perf_counter() - t0 - sum(result.timings_s.values())
        result.overrides = list(set_ or ())
        render = functools.partial(render_run_report, facts_path=facts_path)
        write_run_into(result, tmp, render, csv=csv)
    result.folder = out

    table = Table(
        title=f"{s.simulation.name}, seed {result.seed}",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in ("headline", "value", "when / how"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for o in HEADLINES:
        value, note = o.reduce(result.timeseries)
        table.add_row(o.label, o.text(value), note)
    console.print(table)
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings_s.items())
    console.print(f"Wall time: {timings}")
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True)


# --------------------------------------------------------------------------- compare


@app.command()
@user_errors
def compare(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Two or more scenario files (.toml, run) or run folders (read). "
            "The first is A; deltas are B minus A for each other one.",
            show_default=False,
        ),
    ],
    seeds: Annotated[
        int,
        typer.Option(
            min=1, max=1000, help="Seeds per scenario: its seed + 0..N-1, paired by offset."
        ),
    ] = 5,
    out: OutOption = None,
    force: ForceOption = False,
) -> None:
    """Compare scenarios: overlaid charts and headline deltas (B − A) with 95% intervals."""
    from market_sim.outcomes.headline import HEADLINES, format_value
    from market_sim.report.compare_report import render_compare_report
    from market_sim.report.page import write_html
    from market_sim.runs.compare import check_inputs, deltas, gather, slug, write_comparison
    from market_sim.runs.folder import check_out, staged_folder
    from market_sim.scenario.bounds import MAX_SEED

    if len(inputs) < 2:
        raise UserError("compare", "", "give at least two scenarios or run folders (A B ...)")
    sources = check_inputs(inputs)
    for src in sources:
        if src.base_seed + seeds - 1 > MAX_SEED:
            raise UserError(
                str(src.path), "", f"seed {src.base_seed} + {seeds - 1} exceeds 2^63-1; lower it"
            )
    names = [slug(src.scenario.simulation.name) for src in sources]
    out = out if out is not None else Path("reports") / ("compare-" + "-vs-".join(names))
    check_out(out, force)

    def done(label: str, r: Any) -> None:
        how = "read" if "simulate" not in r.timings_s else f"{r.timings_s['simulate']:.1f} s"
        console.print(f"  {label}, seed {r.seed}: {how}")

    t0 = time.perf_counter()
    with staged_folder(out, force) as tmp:
        arms = gather(sources, seeds, progress=True, on_run=done)
        t1 = time.perf_counter()
        table = deltas(arms)
        write_comparison(tmp, arms, table, {"runs": t1 - t0})
        write_html(tmp / "report.html", render_compare_report(arms, table))

    a = arms[0].label
    for b in [x.label for x in arms[1:]]:
        t = Table(
            title=f"{b} minus {a} ({seeds} paired seed{'s' if seeds > 1 else ''})",
            title_justify="left",
            box=None,
            pad_edge=False,
        )
        for col in ("headline", "A", "B", "B − A", "95% interval"):
            t.add_column(col, justify="left" if col == "headline" else "right")
        sub = table[table["b"] == b].set_index("outcome")
        for o in HEADLINES:
            r = sub.loc[o.key]
            interval = (
                f"{format_value(r.delta_low, o.unit, True)} to "
                f"{format_value(r.delta_high, o.unit, True)}"
                if r.delta_low == r.delta_low
                else "n/a"
            )
            t.add_row(
                o.label,
                format_value(r.a_mean, o.unit),
                format_value(r.b_mean, o.unit),
                format_value(r.delta_mean, o.unit, True),
                interval,
            )
        console.print(t)
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True)


# --------------------------------------------------------------------------- report


@app.command()
@user_errors
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A run, comparison or sweep folder.", show_default=False)
    ],
    facts: FactsOption = None,
) -> None:
    """Render a folder's report.html again from its stored data (no rerun)."""
    from market_sim.report.compare_report import render_compare_report
    from market_sim.report.page import write_html
    from market_sim.report.run_report import render_run_report
    from market_sim.runs.compare import deltas, is_compare_folder, read_comparison
    from market_sim.runs.folder import read_run, read_run_json
    from market_sim.runs.run_json import verify_run_folder

    if not run_dir.is_dir():
        raise UserError(str(run_dir), "", "not a folder; give a run or comparison folder")
    if is_compare_folder(run_dir):
        arms = read_comparison(run_dir)
        html = render_compare_report(arms, deltas(arms))
    elif (run_dir / "manifest.json").is_file() and not (run_dir / "run.json").exists():
        _sweep_report(run_dir)
        return
    else:
        data = read_run_json(run_dir)
        for line in verify_run_folder(run_dir, data):
            _warn(line)
        stored = read_run(run_dir)
        html = render_run_report(stored, facts_path=_facts(facts))
    try:
        write_html(run_dir / "report.html", html)
    except OSError as err:
        raise os_problem(err, run_dir / "report.html") from None
    console.print(f"Report: {run_dir / 'report.html'}", soft_wrap=True)


def _warn(line: str) -> None:
    err_console.print(f"Warning: {shorten(line)}")


def _sweep_report(folder: Path) -> None:
    """A sweep folder's report (market_sim.report.sweep_report); damaged run files are
    named and left out."""
    from market_sim.report.sweep_report import write_report

    path = write_report(folder, warn=_warn)
    console.print(f"Report: {path}", soft_wrap=True)
