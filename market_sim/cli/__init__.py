"""The ``market-sim`` command line.

Every command that reads a scenario takes ``--set dotted.path=value`` (repeatable).
Exit codes: 0 success, 2 bad input (one line per problem, no traceback), 1 a bug.

This package holds the shared pieces (the typer ``app``, error handling, options); each
group of commands lives in its own module and registers itself on ``app`` when imported
at the bottom of this file.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from market_sim.scenario import Scenario, ScenarioError, load_scenario

app = typer.Typer(
    name="market-sim",
    help="Agent-based simulation of the AI accelerator (GPU) supply chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(width=None if sys.stdout.isatty() else 160)  # piped: don't truncate
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a scenario value, e.g. --set agents.meta.rent_out_share=0.2",
    ),
]
ScenarioArg = Annotated[Path, typer.Argument(help="Scenario file (TOML).", show_default=False)]


class UserError(Exception):
    """A mistake in the user's input: reported in one line, exit code 2."""

    def __init__(self, file: str, path: str, message: str):
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ScenarioError and UserError into lines on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as err:
            for problem in err.problems:
                err_console.print(str(problem), markup=False)
            raise typer.Exit(2) from None
        except UserError as err:
            err_console.print(str(err), markup=False)
            raise typer.Exit(2) from None

    return wrapper


def load(path: Path, overrides: list[str] | None) -> Scenario:
    """Load a scenario with overrides (raises ScenarioError on bad input)."""
    return load_scenario(path, overrides or ())


def main() -> None:  # pragma: no cover - console entry point
    app()


# Command modules register their commands on ``app`` when imported.
from market_sim.cli import info_cmds, scenario_cmds  # noqa: E402, F401

for _optional in ("run_cmds", "sweep_cmds"):
    try:
        __import__(f"market_sim.cli.{_optional}")
    except ModuleNotFoundError as _err:  # a command group not written yet
        if _err.name != f"market_sim.cli.{_optional}":
            raise
