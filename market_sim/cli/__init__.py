"""The ``market-sim`` command line.

Every command that reads a scenario takes ``--set dotted.path=value`` (repeatable).
Exit codes: 0 success, 2 bad input, 1 a problem of the environment (disk full, no
permission, network, memory) or a bug. Expected failures are one line per problem,
``FILE or PATH: problem; fix``, never a traceback (:func:`user_errors`). Console output
is printed without rich markup, so text from files and users shows as written.

This package holds the shared pieces (the typer ``app``, error handling, options); each
group of commands lives in its own module and registers itself on ``app`` when imported
at the bottom of this file.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from market_sim.problems import LineError, os_problem, shorten

if TYPE_CHECKING:
    from market_sim.scenario import Scenario

app = typer.Typer(
    name="market-sim",
    help="Agent-based simulation of the AI accelerator (GPU) supply chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# markup=False: names, ids, paths and error texts may hold "[...]" and must print as is
console = Console(width=None if sys.stdout.isatty() else 160, markup=False)  # piped: wide
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a scenario value, e.g. --set agents.meta.rent_out_share=0.2",
    ),
]
ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]
EnsembleOption = Annotated[
    Path | None,
    typer.Option(
        "--ensemble",
        metavar="FILE",
        help="Run every member of a calibrated ensemble (*.ensemble.toml, written by "
        "`market-sim calibrate`) with each seed: parameter uncertainty on top of noise.",
        show_default=False,
    ),
]


WorkersOption = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes of the local cluster (default: one per core)."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Use a running dask cluster instead, e.g. tcp://127.0.0.1:8786."),
]
RetryFailedOption = Annotated[
    bool, typer.Option("--retry-failed", help="With --resume, also rerun failed runs.")
]
ReportOption = Annotated[bool, typer.Option(help="Write OUT/report.html at the end.")]


def check_cluster(
    workers: int | None, scheduler: str | None, resume: bool = False, retry_failed: bool = False
) -> None:
    """Refuse ``--workers`` with ``--scheduler`` and ``--retry-failed`` without
    ``--resume``; check a scheduler address before anything is written or started."""
    if scheduler and workers is not None:
        raise UserError(
            "--workers",
            "",
            "sets the size of a local cluster; with --scheduler the cluster's own workers "
            "run: drop --workers",
        )
    if retry_failed and not resume:
        raise UserError("--retry-failed", "", "applies to resumed runs; add --resume")
    if scheduler:
        from market_sim.experiment.execute import check_scheduler

        check_scheduler(scheduler)


def ensemble_members(path: Path | None) -> list[list[str]] | None:
    """Each member's ``--set`` lines of the ensemble file ``path`` (None without one).

    Raises :class:`market_sim.experiment.calibration.outputs.EnsembleError` (one line).
    """
    if path is None:
        return None
    from market_sim.experiment.calibration.outputs import load_ensemble

    ens = load_ensemble(path)
    return [ens.overrides(k) for k in range(len(ens.members))]


@contextlib.contextmanager
def claims_progress(workers: int | None) -> Iterator[tuple[int, Callable[[int, int, str], None]]]:
    """A progress bar on stderr over the claims' sensitivity phase (SALib: minutes for a
    few hundred points), one step per claim; yields ``(processes, step)``: the processes
    to use (``workers``, or one per core) and the ``progress(done, total, claim)``
    callback of :func:`market_sim.claims.sensitivity.sensitivities`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from market_sim.claims import local_workers

    n = local_workers(workers)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(
            f"What decides each claim (SALib, {n} process{'es' if n > 1 else ''})", total=None
        )

        def step(done: int, total: int, claim_id: str) -> None:
            bar.update(task, completed=done, total=total)

        yield n, step


class UserError(Exception):
    """A mistake in the user's input: reported in one line, exit code 2."""

    def __init__(self, file: str, path: str, message: str):
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")


def fail(line: str, code: int) -> typer.Exit:
    """Print ``line`` (cut to one line) on stderr; the Exit to raise with ``code``."""
    err_console.print(shorten(line), markup=False, highlight=False)
    return typer.Exit(code)


GC_THRESHOLDS = (10_000, 50, 50)
"""Thresholds of Python's cyclic garbage collector in a ``market-sim`` process (:func:`main`;
Python's default: 700, 10, 10). A command imports about a million long-lived objects
(pandas, numba, Mesa, plotly), and with the default thresholds the collector walked all
of them in four full passes during a warm ``market-sim run`` (~0.3 s of its ~3 s) and
freed almost nothing. Raised, it runs ~15 times less often and still frees cyclic
garbage; loops that build many models also collect explicitly
(:func:`market_sim.experiment.worker.simulate`). Set for the whole process, not per
command: restoring the defaults at the end of a command would start a collection of
everything the command made."""


_IN_MAIN = {"process": False}
"""Whether this process is a ``market-sim`` process (:func:`main` ran), not a caller that
runs commands in-process (tests, notebooks)."""


@contextlib.contextmanager
def start_up() -> Iterator[None]:
    """A command's start-up (its imports) without cyclic garbage collection.

    The imports make about a million objects that live as long as the process, and each
    of the collector's passes over them is wasted work (~0.1 s of a warm ``market-sim
    run`` even with :data:`GC_THRESHOLDS`). In a ``market-sim`` process they are then
    frozen out of its reach (``gc.freeze()``) before it resumes; a command run in-process
    only pauses it (freezing there would also keep a caller's garbage forever).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _IN_MAIN["process"]:
            gc.freeze()
        if enabled:
            gc.enable()


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into lines on stderr and an exit code, never a traceback.

    Exit 2: the user's input (ScenarioError, UserError, a LineError about input, a path
    that cannot be used). Exit 1: the environment (disk full, permissions, network,
    memory; a LineError about the environment, e.g. a run with non-finite outcomes).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as err:
            raise fail(str(err), 2) from None
        except LineError as err:
            raise fail(str(err), err.exit_code) from None
        except OSError as err:
            line = os_problem(err)
            raise fail(str(line), line.exit_code) from None
        except MemoryError:
            raise fail(
                "market-sim: out of memory; use a smaller input or close other programs", 1
            ) from None
        except RecursionError:
            raise fail("market-sim: input nested too deeply; simplify it", 2) from None
        except Exception as err:
            if not _is_scenario_error(err):
                raise
            for problem in err.problems:  # type: ignore[attr-defined]
                err_console.print(shorten(str(problem)), markup=False, highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _is_scenario_error(err: BaseException) -> bool:
    """Whether ``err`` is a ScenarioError (the scenario package is imported only by
    commands that read scenarios, so ``--help`` stays quick)."""
    errors = sys.modules.get("market_sim.scenario.errors")
    return errors is not None and isinstance(err, errors.ScenarioError)


def load(path: Path, overrides: list[str] | None) -> Scenario:
    """Load a scenario with overrides (raises ScenarioError on bad input)."""
    from market_sim.scenario import load_scenario

    return load_scenario(path, overrides or ())


def main() -> None:
    """The ``market-sim`` process (console script and ``python -m market_sim.cli``): the
    collector's :data:`GC_THRESHOLDS`, then the command line.

    When the command is done, everything alive is frozen out of the collector's reach
    (``gc.freeze()``): the interpreter's final collection at exit would otherwise walk,
    and free one by one, the million objects a command loaded (~0.5 s after a warm
    ``market-sim run``), memory the operating system takes back at once. Exit handlers
    still run; files are written and closed by the commands themselves.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    _IN_MAIN["process"] = True
    try:
        app()
    finally:
        gc.freeze()


def entry() -> None:
    """The console script and ``python -m market_sim.cli``: :func:`main`, then a quick
    exit (:func:`exit_now`). In-process callers (tests) call :func:`main`."""
    try:
        main()
    except SystemExit as done:
        exit_now(done.code)
    exit_now(0)


def exit_now(code: int | str | None) -> None:
    """End the process with ``code`` without the interpreter's teardown.

    After a command the interpreter would tear down every module and free, one by one,
    what they hold (numba's compiled libraries, pandas, Mesa, plotly): ~0.1 s of a warm
    ``market-sim run`` (~5%), memory the operating system takes back at once. Here the
    exit handlers run (``atexit``: logging, numba, weakref finalizers such as temporary
    folders), the standard streams are flushed, and the process ends (``os._exit``).
    Files are written and closed by the commands themselves. When a thread that is not a
    daemon is still running (the interpreter would wait for it), the code is not an
    integer, ``atexit`` cannot run its handlers, or a profiler or tracer is on (``python
    -m cProfile`` writes its stats after the program returns), the interpreter exits as
    usual."""
    import atexit
    import os
    import threading

    if code is None:
        code = 0
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    run_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's own exit path
    watched = sys.getprofile() is not None or sys.gettrace() is not None  # cProfile, coverage
    if not isinstance(code, int) or others or run_handlers is None or watched:
        raise SystemExit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing to flush
            stream.flush()
    os._exit(code)


# Command modules register their commands on ``app`` when imported.
from market_sim.cli import info_cmds, scenario_cmds  # noqa: E402, F401

_OPTIONAL = (
    "run_cmds",
    "compare_cmds",
    "query_cmds",
    "sweep_cmds",
    "claims_cmds",
    "calibrate_cmds",
    "forecast_cmds",
    "explore_cmds",
)
for _optional in _OPTIONAL:
    try:
        __import__(f"market_sim.cli.{_optional}")
    except ModuleNotFoundError as _err:  # a command group not written yet
        if _err.name != f"market_sim.cli.{_optional}":
            raise
