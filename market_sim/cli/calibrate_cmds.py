"""The ``calibrate`` command: fit scenario parameters to market facts (docs/calibration.md)."""

from __future__ import annotations

import datetime as dt
import enum
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from market_sim.cli import (
    SchedulerOption,
    SetOption,
    UserError,
    WorkersOption,
    app,
    check_cluster,
    console,
    user_errors,
)


class Sampler(enum.StrEnum):
    """The search's sampler (market_sim.experiment.calibration.search.SAMPLERS)."""

    tpe = "tpe"
    cmaes = "cmaes"


def _require_cmaes() -> None:
    try:
        import cmaes  # noqa: F401 (optuna's CmaEsSampler imports it)
    except ImportError:
        raise UserError(
            "--sampler", "", "cmaes needs the cmaes package: pip install cmaes"
        ) from None


@app.command()
@user_errors
def calibrate(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario file to calibrate.", show_default=False)
    ],
    params: Annotated[
        Path,
        typer.Option(
            "--params",
            metavar="FILE",
            help="Parameters to fit, with bounds (TOML).",
            show_default=False,
        ),
    ],
    facts: Annotated[
        Path | None,
        typer.Option(
            "--facts",
            metavar="FILE",
            help="Facts CSV (default: the shipped facts).",
            show_default=False,
        ),
    ] = None,
    role: Annotated[str, typer.Option(help="Facts of this role are fitted.")] = "target",
    until: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Fit only facts whose window ends by DATE (YYYY-MM-DD); later ones are "
            "scored out of sample.",
            show_default=False,
        ),
    ] = None,
    budget: Annotated[
        int, typer.Option(min=1, max=100_000, help="Evaluations of the search.")
    ] = 200,
    seeds: Annotated[
        int, typer.Option(min=1, max=100, help="Seeds per evaluation (objective averaged).")
    ] = 1,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder of the calibration (default: reports/calibration/NAME)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the calibration in --out.")
    ] = False,
    cold: Annotated[
        bool,
        typer.Option(
            "--cold",
            help="Do not start the search from the scenario's own values (a backtest: "
            "values fitted to the facts it scores out of sample must not seed it).",
        ),
    ] = False,
    sampler: Annotated[
        Sampler,
        typer.Option(
            help="tpe: a global search; cmaes: a local one from the scenario's values "
            "(refining a calibrated scenario).",
        ),
    ] = Sampler.tpe,
    report: Annotated[bool, typer.Option(help="Write OUT/report.html at the end.")] = True,
    set_: SetOption = None,
) -> None:
    """Fit parameters to observed facts: the calibrated scenario, its ensemble, a report."""
    from market_sim.experiment.calibration.driver import (
        Settings,
        seeds_from,
    )
    from market_sim.experiment.calibration.driver import (
        calibrate as run_calibration,
    )
    from market_sim.facts import DEFAULT_FACTS
    from market_sim.model import resolve_scenario

    check_cluster(workers, scheduler)
    if until is not None:
        try:
            dt.date.fromisoformat(until)
        except ValueError:
            raise UserError(
                "--until", "", f"{until!r:.40} is not a date; write YYYY-MM-DD"
            ) from None
    for path, what in ((scenario, "scenario"), (params, "--params")):
        if not path.is_file():
            raise UserError(str(path), "", f"no such file ({what}); check the path")
    facts = facts if facts is not None else DEFAULT_FACTS
    base = resolve_scenario(scenario, list(set_ or ()))
    name = base.simulation.name
    out = out if out is not None else Path("reports") / "calibration" / name
    settings = Settings(
        scenario_file=str(scenario),
        params_file=str(params),
        facts_file=str(facts),
        role=role,
        until=until,
        budget=budget,
        seeds=seeds_from(base.simulation.seed, seeds),
        overrides=list(set_ or ()),
        cold=cold,
        sampler=sampler.value,
    )
    if sampler is Sampler.cmaes:
        _require_cmaes()
    best = [math.inf]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("calibrating", total=budget)

        def on_phase(text: str) -> None:
            bar.console.print(text, markup=False, soft_wrap=True)

        def on_result(number: int, ev, value: float) -> None:
            if value < best[0]:
                best[0] = value
            bar.update(task, advance=1, description=f"calibrating (best {best[0]:.4g})")

        result = run_calibration(settings, out, resume, workers, scheduler, on_phase, on_result)
    s = result.summary
    console.print(
        f"{result.id}: in sample {s['in_sample_inside_before']}/{s['in_sample_n']} facts inside "
        f"before, {s['in_sample_inside_after']}/{s['in_sample_n']} after; out of sample "
        f"{s['out_sample_inside_before']}/{s['out_sample_n']} before, "
        f"{s['out_sample_inside_after']}/{s['out_sample_n']} after; ensemble of "
        f"{s['ensemble_size']} covers {s['coverage']}/{s['coverage_n']} facts (5-95%); "
        f"with the model's discrepancy (sd {_sd(s)}, measured in sample) "
        f"{s['coverage_predictive_in_sample']}/{s['in_sample_n']} in sample, "
        f"{s['coverage_predictive_out_sample']}/{s['out_sample_n']} out of sample",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"Calibrated scenario: {result.calibrated}", markup=False, soft_wrap=True)
    console.print(f"Ensemble: {result.ensemble_file}", markup=False, soft_wrap=True)
    if report:
        from market_sim.report.calibration_report import write_report

        path = write_report(out)
        console.print(f"Report: {path}", markup=False, soft_wrap=True)


def _sd(summary: dict) -> str:
    """The discrepancy sd of a calibration summary, or why there is none."""
    sd = summary.get("discrepancy_sd")
    return f"{sd:.2f}" if sd is not None else "n/a: fewer than 5 fitted facts"
