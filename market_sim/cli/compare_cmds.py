"""The ``compare`` command: scenarios (or run folders) over paired seeds, their headline
and claims' deltas, and their differences over time (docs/reports.md, "Comparisons").

``--set`` applies to every arm that is a scenario file and ``--set-b`` to the B arms
only; a run folder takes neither (one line, exit 2: pass its scenario file instead).
The claims' outputs come from ``claims.toml`` beside the first arm's scenario file, or
``--claims FILE``; ``--claims none`` leaves them out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from market_sim.cli import (
    EnsembleOption,
    SetOption,
    UserError,
    app,
    console,
    ensemble_members,
    user_errors,
)
from market_sim.cli.run_cmds import ForceOption, _compile_notice

if TYPE_CHECKING:
    import pandas as pd

    from market_sim.experiment.compare_claims import ClaimOutputs
    from market_sim.runs.compare import Source

CompareOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Folder to write (default: reports/compare-<A>-vs-<B>/, from the arms' labels; "
        "--set values join the name: reports/compare-<A>-vs-<B>--simulation.weeks-52/).",
        show_default=False,
    ),
]
SetBOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set-b",
        metavar="PATH=VALUE",
        help="Override a value in the B arms only (every input after the first), after "
        "--set: compare a scenario with itself changed, e.g. "
        "`compare base.toml base.toml --set-b policy.allocation=auction`.",
    ),
]
ClaimsOption = Annotated[
    Path | None,
    typer.Option(
        "--claims",
        metavar="FILE|none",
        help="Claims file whose windowed outputs to compare (default: claims.toml beside "
        "the first scenario, when there is one); `none` leaves them out.",
        show_default=False,
    ),
]


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
    ensemble: EnsembleOption = None,
    set_: SetOption = None,
    set_b: SetBOption = None,
    claims: ClaimsOption = None,
    out: CompareOutOption = None,
    force: ForceOption = False,
) -> None:
    """Compare scenarios: headline and claims' deltas (B − A) with 95% intervals, B − A
    over time with a 5-95% band, overlaid charts.

    --set applies to every scenario-file input (not to run folders). With --ensemble
    every scenario runs each member's parameters x each seed, paired."""
    from market_sim.experiment.compare_claims import claim_deltas
    from market_sim.report.compare_report import render_compare_report
    from market_sim.report.page import write_html
    from market_sim.runs.compare import (
        arm_labels,
        check_inputs,
        default_compare_folder,
        deltas,
        gather,
        write_comparison,
    )
    from market_sim.runs.compare_weekly import band_note, main_keys, weekly_deltas
    from market_sim.runs.folder import check_out, staged_folder
    from market_sim.scenario.bounds import MAX_SEED

    if len(inputs) < 2:
        raise UserError("compare", "", "give at least two scenarios or run folders (A B ...)")
    sources = check_inputs(inputs, set_ or (), set_b or ())
    for src in sources:
        if src.base_seed + seeds - 1 > MAX_SEED:
            raise UserError(
                str(src.path), "", f"seed {src.base_seed} + {seeds - 1} exceeds 2^63-1; lower it"
            )
    members = ensemble_members(ensemble)
    claim_outputs = _claims(claims, sources)
    out = out if out is not None else default_compare_folder(arm_labels(sources), set_ or ())
    check_out(out, force)

    def done(label: str, r: Any) -> None:
        how = "read" if "simulate" not in r.timings_s else f"{r.timings_s['simulate']:.1f} s"
        member = "" if r.member is None else f"member {r.member}, "
        console.print(f"  {label}, {member}seed {r.seed}: {how}")

    t0 = time.perf_counter()
    _compile_notice()
    with staged_folder(out, force) as tmp:
        arms = gather(sources, seeds, progress=True, on_run=done, members=members)
        t1 = time.perf_counter()
        table = deltas(arms)
        claim_table = None if claim_outputs is None else claim_deltas(arms, claim_outputs)
        keys = main_keys(arms[0].scenario)
        keys += [o.metric for o in claim_outputs.outputs] if claim_outputs else []
        weekly = weekly_deltas(arms, keys)
        extra = {
            "overrides": list(set_ or ()),
            "overrides_b": list(set_b or ()),
            "claims": None if claim_outputs is None else claim_outputs.to_json(),
            "claim_deltas": _records(claim_table),
            "weekly": {"file": "deltas_weekly.csv", "band": band_note(arms)},
        }
        tables = {"deltas_weekly.csv": weekly}
        if claim_table is not None:
            tables["claims_deltas.csv"] = claim_table
        write_comparison(tmp, arms, table, {"runs": t1 - t0}, extra, tables)
        html = render_compare_report(arms, table, claim_outputs, claim_table, weekly, set_ or ())
        write_html(tmp / "report.html", html)

    a = arms[0]
    pairs = f"{seeds} paired seed{'s' if seeds > 1 else ''}"
    if members:
        pairs = f"{len(members)} ensemble members x {pairs}"
    for arm in arms[1:]:
        _print_deltas(f"{arm.label} minus {a.label} ({pairs})", table, arm.label, bool(members))
        if claim_outputs is not None and claim_table is not None:
            _print_claims(claim_outputs, claim_table, a.scenario_file, arm, bool(members))
    if claim_outputs is not None:
        console.print(
            "Claims' rules are shown without a verdict; for a verdict with intervals use "
            "market-sim claims."
        )
    console.print(f"Report: {out / 'report.html'}", soft_wrap=True)


def _claims(option: Path | None, sources: list[Source]) -> ClaimOutputs | None:
    """The claims file to read (``--claims``, else claims.toml beside the first arm's
    scenario file), loaded and checked against every arm's scenario; None for none."""
    from market_sim.experiment.compare_claims import default_claims_path, read_claim_outputs
    from market_sim.runs.compare import arm_labels

    if option is not None and str(option).lower() == "none":
        return None
    if option is not None and not option.is_file():
        raise UserError(str(option), "--claims", "file not found; check the path or pass none")
    path = option if option is not None else default_claims_path(sources[0].scenario_file)
    if path is None:
        return None
    scenarios = {label: s.scenario for label, s in zip(arm_labels(sources), sources, strict=True)}
    return read_claim_outputs(path, scenarios)


def _records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    import json

    return [] if table is None else json.loads(table.to_json(orient="records"))


def _interval(low: float, high: float, unit: str) -> str:
    from market_sim.outcomes.headline import format_value

    if low != low:  # NaN: one pair
        return "n/a"
    return f"{format_value(low, unit, True)} to {format_value(high, unit, True)}"


def _rows(table: pd.DataFrame, b: str, spread: bool) -> list[tuple[str, list[str]]]:
    """(outcome key, cells) of B arm ``b``'s rows: label, A, B, B − A, interval, spread."""
    from market_sim.outcomes.headline import format_value

    out = []
    for r in table[table["b"] == b].itertuples(index=False):
        cells = [
            r.label,
            format_value(r.a_mean, r.unit),
            format_value(r.b_mean, r.unit),
            format_value(r.delta_mean, r.unit, True),
            _interval(r.delta_low, r.delta_high, r.unit),
        ]
        if spread:
            cells.append(_interval(r.delta_p05, r.delta_p95, r.unit))
        out.append((r.outcome, cells))
    return out


def _new_table(title: str, first: str, spread: bool, last: str = "") -> Table:
    t = Table(title=title, title_justify="left", box=None, pad_edge=False)
    cols = [first, "A", "B", "B − A", "95% interval"] + ["5-95% of pairs"] * spread
    for col in [*cols, *([last] if last else [])]:
        t.add_column(col, justify="left" if col in (first, last) else "right")
    return t


def _print_deltas(title: str, table: pd.DataFrame, b: str, spread: bool) -> None:
    """The five headline deltas of B arm ``b``."""
    from market_sim.outcomes.headline import HEADLINES

    t = _new_table(title, "headline", spread)
    rows = dict(_rows(table, b, spread))
    for o in HEADLINES:
        t.add_row(*rows[o.key])
    console.print(t)


def _print_claims(
    claims: ClaimOutputs, table: pd.DataFrame, a_file: str, arm: Any, spread: bool
) -> None:
    """The claims' outputs of B arm ``arm``, each with its claims' rules (no verdict)."""
    from market_sim.experiment.compare_claims import (
        OTHER,
        REVERSED,
        pairing,
        rule_text,
    )

    units = dict(zip(table["outcome"], table["unit"], strict=True))
    t = _new_table("The claims' outputs", "output", spread, "claim's rule (no verdict)")
    for name, cells in _rows(table, arm.label, spread):
        rules = []
        for c in claims.claims_of(name):
            how = pairing(c, a_file, arm.scenario_file)
            note = {REVERSED: " (reversed here)", OTHER: " (other scenarios)"}.get(how, "")
            rules.append(f"{rule_text(c, units[name])}{note}")
        t.add_row(*cells, "; ".join(rules) or "-")
    console.print(t)
