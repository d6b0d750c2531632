"""Reference commands: ``metrics`` (the metric catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from market_sim.cli import SetOption, app, console, load, user_errors


@app.command()
@user_errors
def metrics(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            help="Show only metrics whose name or meaning has every word.", show_default=False
        ),
    ] = None,
    grep: Annotated[
        list[str] | None,
        typer.Option("--grep", metavar="WORD", help="Same as WORDS (repeatable)."),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            metavar="FILE",
            help="List the weekly columns a run of this scenario records (the keys, not "
            "the patterns).",
            show_default=False,
        ),
    ] = None,
    set_: SetOption = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the catalogue as docs/metrics.md.")
    ] = False,
) -> None:
    """List the metric catalogue: every weekly outcome, its unit, kind and meaning."""
    from market_sim.outcomes.catalogue import Entities, describe, metric_keys, search

    if markdown:
        from market_sim.outcomes.catalogue import markdown as to_markdown

        typer.echo(to_markdown(), nl=False)
        return
    want = [*(words or []), *(grep or [])]
    if scenario is not None:
        s = load(scenario, set_)
        keys, ent = metric_keys(s), Entities.of(s)
        shown = 0
        for key in keys:
            m = describe(key, ent)
            text = f"{key} {m.label if m else ''} {m.description if m else ''}".lower()
            if all(w.lower() in text for w in want):
                console.print(f"{key}\t{m.unit if m else ''}\t{m.kind if m else ''}", markup=False)
                shown += 1
        console.print(f"{shown} of {len(keys)} columns", style="dim")
        return
    found = search(want)
    t = Table(box=None, pad_edge=False, show_lines=False)
    for col in ("key", "unit", "kind", "meaning"):
        t.add_column(col, overflow="fold")
    for m in found:
        t.add_row(m.pattern, m.unit, m.kind, m.description)
    console.print(t)
    console.print(f"{len(found)} metrics", style="dim")
