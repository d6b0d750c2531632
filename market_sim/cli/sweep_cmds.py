"""The ``sweep`` command: run a sweep file on dask.distributed and write its report."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from market_sim.cli import (
    ReportOption,
    RetryFailedOption,
    SchedulerOption,
    WorkersOption,
    app,
    check_cluster,
    claims_progress,
    console,
    err_console,
    user_errors,
)
from market_sim.problems import LineError, os_problem, shorten


@app.command()
@user_errors
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep file (TOML).", show_default=False)],
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the results (default: reports/sweeps/NAME)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish a sweep in --out: run only missing runs.")
    ] = False,
    retry_failed: RetryFailedOption = False,
    report: ReportOption = True,
) -> None:
    """Run a sweep: every sample point, replicate and scenario, one Parquet file per run."""
    from market_sim.experiment import load_sweep

    check_cluster(workers, scheduler, resume, retry_failed)
    sw = load_sweep(file)
    out = out if out is not None else Path("reports") / "sweeps" / sw.name
    finish = f"market-sim sweep {shlex.quote(str(file))} --out {shlex.quote(str(out))} --resume"
    lost = run_sweep(sw, out, resume, retry_failed, workers, scheduler, finish)
    if report:
        from market_sim.report.sweep_report import write_report

        with claims_progress(workers) as (n, step):
            path = write_report(out, warn=_warn, workers=n, progress=step)
        console.print(f"Report: {path}", soft_wrap=True)
    if lost:
        raise typer.Exit(1)


def run_sweep(
    sw: Any,
    out: Path,
    resume: bool,
    retry_failed: bool,
    workers: int | None,
    scheduler: str | None,
    finish: str,
) -> list[str]:
    """Plan (or resume) a loaded sweep in ``out`` and run it with a progress bar; the ids
    of runs the cluster lost. ``finish``: the command that resumes it (shown when it is
    interrupted). Used by ``sweep`` and ``claims``."""
    from market_sim.experiment import prepare, run_prepared

    prepared = prepare(sw, out, resume, retry_failed)
    total = len(prepared.plan.runs)
    where = f"the cluster at {scheduler}" if scheduler else "a local cluster"
    console.print(
        Text.assemble(
            (sw.name, "bold"),
            f": {sw.sampler}, {prepared.plan.design.size} sample points x "
            f"{sw.replicates} replicates x {len(sw.scenarios)} scenarios = {total} runs -> {out}",
        ),
        soft_wrap=True,
    )
    if prepared.skipped:
        console.print(
            f"Resuming: {prepared.skipped} runs already done, {len(prepared.pending)} to run"
        )
    for warning in prepared.warnings:
        _warn(warning)
    if prepared.retried:
        console.print(f"Rerunning {len(prepared.retried)} failed runs")

    failed: list[tuple[str, str]] = []
    lost: list[str] = []
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}", markup=False),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(
            *columns, console=console, transient=False, disable=not prepared.pending
        ) as bar:
            first = "Warming the kernel cache, starting" if not scheduler else "Connecting to"
            task = bar.add_task(f"{first} {where}", total=len(prepared.pending), failed=0)

            def connected(client: object) -> None:
                if scheduler:
                    bar.update(task, description="Warming the workers")

            def phase(name: str, info: dict) -> None:
                if name == "kernels":
                    bar.console.print(_kernels_line(info), soft_wrap=True)
                    bar.update(task, description="Warming the workers")
                elif name == "workers":
                    bar.console.print(f"Warm-up, workers: {info['seconds']:.1f} s")
                    bar.update(task, description="Runs")
                else:
                    bar.update(task, description="Runs")

            def done(result, written: bool) -> None:
                if result.status == "failed":
                    failed.append((result.run_id, result.error or ""))
                bar.update(task, advance=1, failed=len(failed))

            def gone(spec, err: BaseException) -> None:
                lost.append(spec.run_id)

            try:
                run_prepared(
                    sw, prepared, workers, scheduler, done, gone, connected, on_phase=phase
                )
            except OSError as err:
                if not resume:
                    prepared.store.discard_if_empty()
                line = os_problem(err, out)
                saved = len(prepared.store.finished())
                if saved:
                    raise LineError(
                        f"{line}; {saved} of {total} runs are saved: finish with {finish}",
                        line.exit_code,
                    ) from None
                raise line from None
            except (LineError, MemoryError):
                if not resume:
                    prepared.store.discard_if_empty()
                raise
    except KeyboardInterrupt:
        n = len(prepared.store.finished())
        err_console.print(
            f"Interrupted: {n} of {total} runs are saved in {out}. Finish with:\n  {finish}"
        )
        raise typer.Exit(130) from None

    _summary(prepared.store, total, failed, lost)
    if lost:
        err_console.print(
            f"{len(lost)} runs were lost by the cluster (e.g. a worker died); "
            f"run again with --resume to finish them"
        )
    return lost


def _kernels_line(info: dict) -> str:
    """The kernel cache's warm-up as one line of the progress output."""
    if "error" in info:
        return (
            f"Warm-up, kernel cache: failed ({shorten(str(info['error']), 200)}); "
            "each worker compiles what it needs"
        )
    how = (
        f"compiled once, {info.get('compiled', 0)} kernel signatures"
        if info.get("compiled")
        else "loaded from the cache"
    )
    return f"Warm-up, kernel cache: {info['seconds']:.1f} s ({how})"


def _warn(line: str) -> None:
    err_console.print(f"Warning: {shorten(line)}")


def _summary(store, total: int, failed: list[tuple[str, str]], lost: list[str]) -> None:
    done = len(store.finished())
    console.print(
        f"Done: {done} of {total} runs saved, {len(failed)} failed in this session, "
        f"{len(lost)} lost"
    )
    if failed:
        t = Table("run", "error", title="Failed runs", title_justify="left", box=None)
        for run_id, error in failed[:10]:
            t.add_row(run_id, shorten(error, 300))
        if len(failed) > 10:
            t.add_row("…", f"and {len(failed) - 10} more (see the report)")
        console.print(t)
