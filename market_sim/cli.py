"""The ``market-sim`` command line.

Every command that reads a scenario takes ``--set dotted.path=value`` (repeatable).
Exit codes: 0 success, 2 bad input (one line per problem, no traceback), 1 a bug.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from market_sim.scenario import Scenario, ScenarioError, load_scenario

app = typer.Typer(
    name="market-sim",
    help="Agent-based simulation of the AI accelerator (GPU) supply chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
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


# --------------------------------------------------------------------------- validate


@app.command()
@user_errors
def validate(scenario: ScenarioArg, set_: SetOption = None) -> None:
    """Check a scenario file and print a one-screen summary of it."""
    s = load(scenario, set_)
    sim = s.simulation
    end = s.date_of(sim.weeks) - dt.timedelta(days=1)
    console.print(f"[bold]{sim.name}[/bold]  {scenario}  [green]valid[/green]", markup=True)
    if sim.description:
        console.print(sim.description, markup=False)
    console.print(f"Period: {sim.start_date} to {end} ({sim.weeks} weeks), seed {sim.seed}")

    t = Table(title="Products", title_justify="left", box=None, pad_edge=False)
    for col in ("id", "vendor", "H100e", "launch", "list USD", "inputs"):
        t.add_column(col)
    for p in s.products:
        launch = s.date_of(s.week_of(p.launch)) if s.week_of(p.launch) > 0 else "running"
        inputs = "+".join(name for name, _, _ in p.bom.stages())
        t.add_row(p.id, p.vendor, f"{p.h100e:g}", str(launch), f"{p.list_price_usd:,.0f}", inputs)
    console.print(t)

    kinds = Counter(n.kind for n in s.supply.nodes)
    console.print(
        f"Supply nodes: {len(s.supply.nodes)} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
        f"edges: {len(s.supply.edges)}"
    )
    roles: dict[str, list[str]] = {}
    for a in s.agents:
        roles.setdefault(a.role, []).append(a.id)
    for role, ids in roles.items():
        console.print(f"Agents, {role} ({len(ids)}): {', '.join(ids)}", markup=False)
    console.print(f"Startups: {s.startups.count:,} at start, {s.startups.entry_per_week:g}/week")
    console.print(f"Allocation policy: {s.policy.allocation}")
    if s.events:
        for e in s.events:
            week = s.week_of(e.at)
            dur = f"{e.duration_weeks} weeks" if e.duration_weeks else "to the end"
            console.print(
                f"Event: week {week} ({s.date_of(week)}) {e.kind} {e.target} "
                f"x{e.magnitude:g}, {dur}",
                markup=False,
            )
    else:
        console.print("Events: none")


# --------------------------------------------------------------------------- graph


@app.command()
@user_errors
def graph(
    scenario: ScenarioArg,
    at: Annotated[
        str | None,
        typer.Option(help="Date (YYYY-MM-DD) or week index; default the start date."),
    ] = None,
    dot: Annotated[
        Path | None, typer.Option(help="Also write the graph in Graphviz DOT format here.")
    ] = None,
    set_: SetOption = None,
) -> None:
    """Per product: weekly maximum output, binding input, minimum cut, cycle time."""
    from market_sim.supply import build_graph, cycle_time_weeks, max_output, write_dot

    s = load(scenario, set_)
    week = _parse_when(s, at)
    g = build_graph(s, week)
    console.print(
        f"[bold]{s.simulation.name}[/bold]: supply graph at week {week} ({s.date_of(week)}), "
        f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges"
    )
    t = Table(box=None, pad_edge=False)
    for col in ("product", "vendor", "max units/wk", "H100e/wk", "binding", "min cut", "cycle wk"):
        t.add_column(col, justify="right" if "wk" in col else "left")
    for p in s.products:
        th = max_output(s, g, p.id)
        t.add_row(
            p.id,
            p.vendor,
            f"{th.units_per_week:,.0f}",
            f"{th.units_per_week * p.h100e:,.0f}",
            th.binding_input,
            ", ".join(th.cut_nodes),
            f"{cycle_time_weeks(g, s, p.id):g}",
        )
    console.print(t)
    console.print(
        "max units/wk: if the vendor gave the product all the capacity it can get "
        "(its contracted share plus the uncontracted rest) of every input."
    )
    if dot is not None:
        try:
            write_dot(g, dot)
        except OSError as err:
            raise UserError(str(dot), "--dot", f"cannot write: {err.strerror}") from None
        console.print(f"Wrote {dot}")


def _parse_when(s: Scenario, text: str | None) -> int:
    if text is None:
        return 0
    try:
        week = int(text) if text.lstrip("-").isdigit() else s.week_of(dt.date.fromisoformat(text))
    except ValueError:
        raise UserError("--at", "", f"'{text}' is not a date (YYYY-MM-DD) or week") from None
    if not 0 <= week < s.simulation.weeks:
        raise UserError("--at", "", f"week {week} is outside 0-{s.simulation.weeks - 1}")
    return week


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
