"""Scenario commands: ``validate``, ``graph`` and ``facts``."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from market_sim.cli import (
    EnsembleOption,
    ScenarioArg,
    SetOption,
    UserError,
    app,
    console,
    ensemble_members,
    load,
    user_errors,
)

if TYPE_CHECKING:
    from market_sim.scenario import Scenario

# --------------------------------------------------------------------------- validate


@app.command()
@user_errors
def validate(scenario: ScenarioArg, set_: SetOption = None) -> None:
    """Check a scenario file and print a one-screen summary of it."""
    s = load(scenario, set_)
    sim = s.simulation
    end = s.date_of(sim.weeks) - dt.timedelta(days=1)
    console.print(
        Text.assemble((sim.name, "bold"), f"  {scenario}  ", ("valid", "green")), soft_wrap=True
    )
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
        Text.assemble(
            (s.simulation.name, "bold"),
            f": supply graph at week {week} ({s.date_of(week)}), "
            f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges",
        )
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


# --------------------------------------------------------------------------- facts


@app.command()
@user_errors
def facts(
    scenario: ScenarioArg,
    facts_file: Annotated[
        Path | None,
        typer.Option(
            "--facts",
            help="Facts CSV in the shared/data/market_facts.csv format "
            "(default: the copy shipped with market_sim).",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="Score only rows with this role (e.g. target).")
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=1, max=1000, help="Seeds to average: the scenario's seed + 0..N-1.")
    ] = 1,
    ensemble: EnsembleOption = None,
    set_: SetOption = None,
) -> None:
    """Run a scenario and score it against observed facts (inside their band or not)."""
    from rich.progress import Progress

    from market_sim.facts import (
        DEFAULT_FACTS,
        FactsFileError,
        format_table,
        load_facts,
        score_facts,
    )
    from market_sim.facts import summary_line as facts_summary
    from market_sim.model import GPUMarketModel

    s = load(scenario, set_)
    if facts_file is None:
        facts_file = DEFAULT_FACTS
    try:
        table = load_facts(facts_file)
    except FactsFileError as err:
        raise UserError(str(facts_file), "", str(err).split(": ", 1)[-1]) from None
    if role is not None and role not in set(table["role"]):
        known = ", ".join(sorted(set(table["role"])))
        raise UserError(str(facts_file), "--role", f"no fact has role '{role}'; use one of {known}")
    from market_sim.outcomes.plausibility import breaches

    members = ensemble_members(ensemble) or [[]]
    frames, found = [], []
    base = s.simulation.seed
    with Progress(transient=True, console=console) as bar:
        name = escape(s.simulation.name)  # the default progress columns read markup
        runs = len(members) * seeds
        task = bar.add_task(f"Running {name} ({runs} runs)", total=runs * s.simulation.weeks)
        for lines in members:
            for k in range(seeds):
                with GPUMarketModel(s, seed=base + k, overrides=lines) as model:
                    while model.running:
                        model.step()
                        bar.advance(task)
                    frames.append(model.timeseries())
                    found += breaches(frames[-1], model.scenario)
    scored = score_facts(frames, table, role=role)
    console.print(format_table(scored))
    console.print(facts_summary(scored), markup=False, highlight=False)
    if ensemble is not None:
        from market_sim.facts.discrepancy import fact_coverage

        cov = fact_coverage([score_facts(frame, table, role=role) for frame in frames])
        sd = cov["discrepancy_sd"].median()
        sd_text = "none: fewer than 5 facts" if math.isnan(sd) else f"sd {sd:.2f} in log units"
        for line in (
            f"{int(cov['inside'].sum())}/{len(cov)} facts' observed value inside the 5-95% "
            f"range of the {len(members)} members x {seeds} seed(s) (parameter uncertainty "
            "and model noise)",
            f"{int(cov['inside_predictive'].sum())}/{len(cov)} inside the predictive 5-95% "
            f"range (those runs and the model's discrepancy, {sd_text}, measured on the "
            "other facts; docs/calibration.md, 'Coverage')",
        ):
            console.print(line, markup=False, highlight=False)
    if found:
        kinds = sorted({str(b) for b in found})
        console.print(
            f"implausible behaviour ({len(found)}): " + "; ".join(kinds[:5]), markup=False
        )
