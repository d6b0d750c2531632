"""Run commands: ``run`` and ``report``.

Output folders are written atomically (built under a hidden temporary name, renamed when
complete); an existing folder is replaced only with ``--force``. Reading: docs/reports.md.
``compare`` lives in :mod:`market_sim.cli.compare_cmds`, ``query`` in
:mod:`market_sim.cli.query_cmds`.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from market_sim.cli import (
    EnsembleOption,
    SetOption,
    UserError,
    app,
    claims_progress,
    console,
    ensemble_members,
    err_console,
    load,
    start_up,
    user_errors,
)
from market_sim.problems import os_problem, shorten

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Folder to write (default: reports/<name>/, with the seed and --set values "
        "in the name when given: reports/<name>--seed-2--policy.allocation-auction/).",
        show_default=False,
    ),
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
    ensemble: EnsembleOption = None,
    set_: SetOption = None,
) -> None:
    """Run a scenario and write a run folder: data (Parquet; CSV with --csv), run.json,
    report.html.

    With --ensemble, run every member (same seed) and write an ensemble folder instead:
    each member's weekly outcomes and a report of the headlines' mean and 5-95% range."""
    with start_up():
        # Mesa first, while few modules are loaded: Mesa 3.3's mesa.model names its loggers
        # with inspect.stack() and inspect.getouterframes(), which look each frame's file
        # up among all loaded modules (~0.17 s of CPU after pandas, numba and plotly;
        # ~0.05 s first), and without those lookups (market_sim.mesa_import).
        from market_sim.mesa_import import import_mesa

        import_mesa()

        import market_sim.model  # noqa: F401  # with its kernels: numba's start-up
        from market_sim.outcomes.headline import HEADLINES
        from market_sim.report.run_report import render_run_report
        from market_sim.runs.compare import default_run_folder
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
    if ensemble is not None:
        seed = s.simulation.seed if seed is None else seed
        _run_ensemble(scenario, s, seed, ensemble, out, force, set_ or [])
        return
    out = out if out is not None else default_run_folder(s.simulation.name, seed, set_ or ())
    check_out(out, force)
    _compile_notice()
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


def _run_ensemble(
    source: Path,
    s: Any,
    seed: int,
    ensemble: Path,
    out: Path | None,
    force: bool,
    overrides: list[str],
) -> None:
    """``run --ensemble``: every member with ``seed``, written as a one-scenario
    comparison folder (compare.json, runs/*.parquet, report.html)."""
    from market_sim.outcomes.headline import HEADLINES, format_value
    from market_sim.report.compare_report import render_compare_report
    from market_sim.report.page import write_html
    from market_sim.runs.compare import Source, deltas, gather, slug, spread, write_comparison
    from market_sim.runs.folder import check_out, staged_folder

    members = ensemble_members(ensemble)
    out = out if out is not None else Path("reports") / (slug(s.simulation.name) + "-ensemble")
    check_out(out, force)
    t0 = time.perf_counter()
    _compile_notice()
    with staged_folder(out, force) as tmp:
        arms = gather(
            [Source(source, s, seed, False, (), tuple(overrides), str(source))],
            1,
            progress=True,
            on_run=lambda _, r: console.print(
                f"  member {r.member}: {r.timings_s['simulate']:.1f} s"
            ),
            members=members,
        )
        write_comparison(tmp, arms, deltas(arms), {"runs": time.perf_counter() - t0})
        write_html(tmp / "report.html", render_compare_report(arms, deltas(arms)))
    table = Table(
        title=f"{s.simulation.name}, seed {seed}, {len(members)} ensemble members",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in ("headline", "mean", "5%", "95%"):
        table.add_column(col, justify="left" if col == "headline" else "right")
    rows = spread(arms[0]).set_index("outcome")
    for o in HEADLINES:
        r = rows.loc[o.key]
        table.add_row(o.label, *(format_value(v, o.unit) for v in (r["mean"], r["p05"], r["p95"])))
    console.print(table)
    console.print("5-95%: over the ensemble's parameter sets (one seed); not a forecast interval.")
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True)


# --------------------------------------------------------------------------- report


FiguresOption = Annotated[
    Path | None,
    typer.Option(
        "--figures",
        metavar="DIR",
        help="Also write every chart of the report to DIR, one image file per chart, "
        "named <section>--<chart>.<format> (drawn with the system's Chromium).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    str, typer.Option("--format", metavar="png|svg", help="Image format of --figures.")
]


@app.command()
@user_errors
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(help="A run, comparison, forecast or sweep folder.", show_default=False),
    ],
    facts: FactsOption = None,
    figures: FiguresOption = None,
    fmt: FormatOption = "png",
) -> None:
    """Render a folder's report.html again from its stored data (no rerun); with
    --figures, also write each chart as an image file."""
    from market_sim.experiment.compare_claims import stored_claims
    from market_sim.report.compare_report import render_compare_report
    from market_sim.report.export import check_format, render_with_figures, write_figures
    from market_sim.report.run_report import render_run_report
    from market_sim.runs.compare import (
        deltas,
        is_compare_folder,
        read_compare_json,
        read_comparison,
    )
    from market_sim.runs.folder import read_run, read_run_json
    from market_sim.runs.forecast_folder import is_forecast_folder
    from market_sim.runs.run_json import verify_run_folder

    fmt = check_format(fmt)
    if not run_dir.is_dir():
        raise UserError(str(run_dir), "", "not a folder; give a run or comparison folder")
    if is_forecast_folder(run_dir):
        from market_sim.report.forecast_report import render_forecast_folder

        facts_path = _facts(facts)
        html, charts = render_with_figures(lambda: render_forecast_folder(run_dir, facts_path))
        _write_report(run_dir / "report.html", html)
    elif is_compare_folder(run_dir):
        arms = read_comparison(run_dir)
        data = read_compare_json(run_dir)
        claims = stored_claims(data, run_dir / "compare.json")
        overrides = [str(o) for o in data.get("overrides", [])]
        html, charts = render_with_figures(
            lambda: render_compare_report(arms, deltas(arms), claims, overrides=overrides)
        )
        _write_report(run_dir / "report.html", html)
    elif (run_dir / "manifest.json").is_file() and not (run_dir / "run.json").exists():
        html, charts = render_with_figures(lambda: _sweep_report(run_dir))
    else:
        data = read_run_json(run_dir)
        for line in verify_run_folder(run_dir, data):
            _warn(line)
        stored = read_run(run_dir)
        facts_path = _facts(facts)
        html, charts = render_with_figures(lambda: render_run_report(stored, facts_path))
        _write_report(run_dir / "report.html", html)
    if figures is not None:
        with console.status(f"Drawing {len(charts)} charts") if console.is_terminal else _quiet():
            paths = write_figures(charts, figures, fmt)
        console.print(f"Figures: {len(paths)} {fmt} files in {figures}", soft_wrap=True)


def _write_report(path: Path, html: str) -> None:
    from market_sim.report.page import write_html

    try:
        write_html(path, html)
    except OSError as err:
        raise os_problem(err, path) from None
    console.print(f"Report: {path}", soft_wrap=True)


def _quiet() -> Any:
    import contextlib

    return contextlib.nullcontext()


def _compile_notice() -> None:
    """Say so before a run that will compile the numba kernels (first run only)."""
    from market_sim.runs.jit_cache import compile_notice

    notice = compile_notice()
    if notice:
        console.print(notice)


def _warn(line: str) -> None:
    err_console.print(f"Warning: {shorten(line)}")


def _sweep_report(folder: Path) -> str:
    """Write a sweep folder's report (market_sim.report.sweep_report; damaged run files
    are named and left out); return its HTML."""
    from market_sim.report.sweep_report import write_report

    with claims_progress(None) as (n, step):
        path = write_report(folder, warn=_warn, workers=n, progress=step)
    console.print(f"Report: {path}", soft_wrap=True)
    return path.read_text(encoding="utf-8")
