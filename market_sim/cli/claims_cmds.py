"""The ``claims`` command: answer a claims file with paired runs over a calibrated
ensemble (or a sweep's design) and write the answers page (docs/claims.md)."""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from market_sim.cli import (
    ReportOption,
    RetryFailedOption,
    SchedulerOption,
    SetOption,
    UserError,
    WorkersOption,
    app,
    check_cluster,
    claims_progress,
    console,
    err_console,
    user_errors,
)
from market_sim.problems import shorten

if TYPE_CHECKING:
    from market_sim.claims import Answers


@app.command()
@user_errors
def claims(
    claims_file: Annotated[
        Path | None,
        typer.Argument(
            help="Claims file (TOML; default scenarios/claims.toml).", show_default=False
        ),
    ] = None,
    ensemble: Annotated[
        Path | None,
        typer.Option(
            "--ensemble",
            metavar="FILE",
            help="Calibrated ensemble (*.ensemble.toml; default: the one beside the claims' "
            "scenario).",
            show_default=False,
        ),
    ] = None,
    sweep: Annotated[
        Path | None,
        typer.Option(
            "--sweep",
            metavar="FILE",
            help="Evaluate the claims of this sweep file over its design instead.",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(min=1, help="Seeds per parameter set (default 5; a sweep: its replicates)."),
    ] = None,
    members: Annotated[
        int,
        typer.Option(
            min=0, help="Ensemble members to use, spread evenly over it (0: all of them)."
        ),
    ] = 20,
    set_: SetOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path, typer.Option(help="Folder for the runs and the answers page.")] = Path(
        "reports"
    )
    / "claims",
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the runs in --out: run only missing runs.")
    ] = False,
    retry_failed: RetryFailedOption = False,
    report: ReportOption = True,
) -> None:
    """Answer the article's claims: effect, 90% interval, probability and verdict per claim."""
    from market_sim.claims.plan import DEFAULT_CLAIMS, claims_sweep, sweep_with
    from market_sim.cli.sweep_cmds import run_sweep

    check_cluster(workers, scheduler, resume, retry_failed)
    if sweep is not None and (claims_file is not None or ensemble is not None):
        raise UserError(
            "--sweep",
            "",
            "takes its claims and design from the sweep file: drop CLAIMS_FILE and --ensemble",
        )
    sets = list(set_ or [])
    if sweep is not None:
        sw = sweep_with(sweep, seeds, sets)
        source = ["--sweep", str(sweep)]
    else:
        file = claims_file if claims_file is not None else DEFAULT_CLAIMS
        if claims_file is None and not file.is_file():
            raise UserError(
                str(file), "", "not found here; run from a clone's root or give CLAIMS_FILE"
            )
        sw = claims_sweep(file, ensemble, seeds or 5, members or None, sets)
        source = [str(file)] + (["--ensemble", str(ensemble)] if ensemble else [])
        source += ["--members", str(members)]
    source += [f"--seeds={seeds}"] if seeds else []
    source += [f"--set={s}" for s in sets]
    finish = shlex.join(["market-sim", "claims", *source, "--out", str(out), "--resume"])
    lost = run_sweep(sw, out, resume, retry_failed, workers, scheduler, finish)
    found = _answer(out, workers)
    for line in found.warnings:
        err_console.print(f"Warning: {shorten(line)}")
    _print_answers(found)
    if report:
        from market_sim.report.claims_report import render_answers
        from market_sim.report.page import write_html

        path = out / "report.html"
        write_html(path, render_answers(found))
        console.print(f"Answers page: {path}", soft_wrap=True)
    if lost:
        raise typer.Exit(1)


def _answer(out: Path, workers: int | None) -> Answers:
    """The claims of ``out`` answered, with a progress bar over the sensitivity phase
    (minutes for an ensemble's 300 points: SALib's bootstrap of 200 resamples)."""
    from market_sim.claims import answers

    with claims_progress(workers) as (n, step):
        return answers(out, workers=n, progress=step)


def _print_answers(found: Answers) -> None:
    t = Table(
        "claim",
        "vs",
        "verdict",
        "effect",
        "90% interval",
        "P(holds)",
        title="Claims (90% interval: parameter sets x seeds; not structural uncertainty)",
        title_justify="left",
    )
    for a in found.claims:
        u = "%" if a.relative else ""

        def f(x: float, u: str = u) -> str:
            return f"{x:+.3g}{u}" if math.isfinite(x) else "—"

        t.add_row(
            a.id,
            a.counterfactual,
            a.verdict,
            f(a.effect),
            f"{f(a.p05)} to {f(a.p95)}",
            f"{a.probability:.0%}" if math.isfinite(a.probability) else "—",
        )
    console.print(t)
