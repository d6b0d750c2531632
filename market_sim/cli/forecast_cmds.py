"""The ``forecast`` command: a calibrated ensemble run past the observed record, drawn as
fan charts (docs/forecast.md). The work is :mod:`market_sim.runs.forecast`; the page
:mod:`market_sim.report.forecast_report`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from market_sim.cli import SetOption, UserError, app, console, load, user_errors
from market_sim.problems import LineError

DEFAULT_SCENARIO = Path("scenarios/baseline.toml")


def _ensemble_file(scenario: Path, ensemble: Path | None) -> Path:
    """``--ensemble``, else the ensemble shipped beside the scenario
    (``<stem>.ensemble.toml``, as ``scripts/adopt_calibration.py`` writes it)."""
    if ensemble is not None:
        return ensemble
    shipped = scenario.with_name(f"{scenario.stem}.ensemble.toml")
    if not shipped.is_file():
        raise UserError(
            str(scenario),
            "",
            f"no ensemble shipped beside it ({shipped.name}); pass --ensemble FILE "
            "(e.g. scenarios/baseline.ensemble.toml, or one `market-sim calibrate` wrote)",
        )
    return shipped


def _facts_table(facts: Path | None) -> tuple[Path | None, Any]:
    """(facts file, its table) for the observed points: ``--facts`` or the shipped one."""
    from market_sim.facts import DEFAULT_FACTS, FactsFileError, load_facts

    if facts is None:
        facts = DEFAULT_FACTS if DEFAULT_FACTS.is_file() else None
        if facts is None:
            return None, None
    try:
        return facts, load_facts(facts)
    except FactsFileError as err:
        raise LineError(str(err)) from None


@app.command()
@user_errors
def forecast(
    scenario: Annotated[
        Path,
        typer.Argument(help="Scenario file (TOML).", show_default=True),
    ] = DEFAULT_SCENARIO,
    ensemble: Annotated[
        Path | None,
        typer.Option(
            "--ensemble",
            metavar="FILE",
            help="Calibrated ensemble (*.ensemble.toml; default: the one shipped beside "
            "the scenario, <stem>.ensemble.toml).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM",
            help="Run through this month (or YYYY-MM-DD): the last whole week ending by "
            "then. Default: as far as the scenario's demand inputs go.",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=1, max=1000, help="Seeds per member: the scenario's seed + 0..N-1.")
    ] = 1,
    members: Annotated[
        int | None,
        typer.Option(min=1, help="Use the first K members (default: all).", metavar="K"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder to write (default: reports/forecast-<name>/).", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing output folder (after success).")
    ] = False,
    facts: Annotated[
        Path | None,
        typer.Option(
            "--facts",
            metavar="FILE",
            help="Facts CSV drawn as observed points (default: the shipped facts).",
            show_default=False,
        ),
    ] = None,
    set_: SetOption = None,
) -> None:
    """Run the ensemble past the observed record and draw fan charts: median, 50% and 90%
    bands of prices, lead times, rental, the incumbent's revenue and margin, alternative
    chips' share and concentration, with the observed facts as points.

    Writes report.html, forecast.json, bands.csv and runs/*.parquet. The bands cover the
    ensemble's parameter sets x seeds, not the model's structure: not a forecast interval."""
    from market_sim.experiment.calibration.outputs import load_ensemble
    from market_sim.report.forecast_report import render_forecast_folder
    from market_sim.report.page import write_html
    from market_sim.runs.compare import slug
    from market_sim.runs.folder import check_out, staged_folder
    from market_sim.runs.forecast import observed_end, plan_forecast
    from market_sim.runs.forecast_folder import write_forecast
    from market_sim.runs.jit_cache import compile_notice

    t0 = time.perf_counter()
    if not scenario.is_file():
        raise UserError(str(scenario), "", "no such scenario file; check the path")
    s = load(scenario, set_)
    ens_file = _ensemble_file(scenario, ensemble)
    ens = load_ensemble(ens_file)
    size = len(ens.members)
    if members is not None and members > size:
        raise UserError("--members", "", f"{members}: the ensemble has {size}; give at most {size}")
    k = size if members is None else members
    facts_path, facts_table = _facts_table(facts)
    plan = plan_forecast(
        s,
        [ens.overrides(i) for i in range(k)],
        seeds,
        until,
        observed_end(facts_table),
        source=str(scenario),
        overrides=list(set_ or ()),
    )
    out = out if out is not None else Path("reports") / f"forecast-{slug(s.simulation.name)}"
    check_out(out, force)
    if ens.scenario.resolve() != scenario.resolve():
        console.print(
            f"Note: the ensemble was fitted to {ens.scenario.name}; its members' parameters "
            f"are applied to {scenario}.",
            markup=False,
            soft_wrap=True,
        )
    notice = compile_notice()
    if notice:
        console.print(notice)
    extra = {
        "ensemble": {"file": str(ens_file), "calibration": ens.calibration, "size": size},
        "facts": None if facts_path is None else str(facts_path),
    }
    with staged_folder(out, force) as tmp:
        fc = _run_with_progress(plan, facts_table, tmp)
        fc.timings_s["total"] = time.perf_counter() - t0
        write_forecast(tmp, fc, extra)
        write_html(tmp / "report.html", render_forecast_folder(tmp, facts_path))
    _summary(fc, len(plan.members))
    console.print(
        f"Wall time: {time.perf_counter() - t0:.1f} s ({len(plan.runs)} runs, simulate "
        f"{fc.timings_s['simulate']:.1f} s)"
    )
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True)


def _run_with_progress(plan: Any, facts: Any, folder: Path) -> Any:
    """Run a forecast plan with a progress bar over its runs."""
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from market_sim.runs.forecast import run_plan

    name = escape(plan.scenario.simulation.name)  # the progress columns read markup
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"Forecasting {name} to {plan.until}", total=len(plan.runs))

        def on_run(done: int, total: int, member: int, seed: int, seconds: float) -> None:
            bar.update(task, completed=done)

        return run_plan(plan, facts=facts, folder=folder, on_run=on_run)


def _summary(fc: Any, members: int) -> None:
    """The last period of every metric: median, 50% and 90% bands."""
    from rich.table import Table

    from market_sim.outcomes.headline import format_value

    plan = fc.plan
    seeds = len(plan.seeds)
    table = Table(
        title=f"{plan.scenario.simulation.name} to {plan.last_day}: {members} ensemble "
        f"members x {seeds} seed{'s' if seeds != 1 else ''}, last period",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in ("outcome", "period", "median", "50%", "90%"):
        table.add_column(col, justify="left" if col in ("outcome", "period") else "right")
    for m in fc.metrics:
        rows = fc.bands[fc.bands["metric"] == m.key].sort_values("date")
        if rows.empty:
            continue
        r = rows.iloc[-1]
        unit = "usd" if m.unit == "usd_per_h100e" else m.unit
        when = r["date"]
        period = (
            f"{when.year}-Q{(when.month - 1) // 3 + 1}"
            if m.period == "quarter"
            else (f"week of {when:%Y-%m-%d}")
        )
        table.add_row(
            m.label,
            period,
            format_value(r.p50, unit),
            f"{format_value(r.p25, unit)} to {format_value(r.p75, unit)}",
            f"{format_value(r.p05, unit)} to {format_value(r.p95, unit)}",
        )
    console.print(table)
    console.print(
        "Bands: the ensemble's parameter sets x seeds (parameter uncertainty and noise), "
        "not the model's structure; not a calibrated forecast interval (docs/forecast.md)."
    )
