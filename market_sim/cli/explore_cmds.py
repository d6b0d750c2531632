"""The ``explore`` command: the interactive explorer in a browser (docs/explore.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from market_sim.cli import SetOption, UserError, app, console, user_errors


@app.command()
@user_errors
def explore(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="Scenario file (TOML) to simulate, or a run folder to replay "
            "(default: the packaged baseline).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to serve on (0: any free port).")
    ] = 8521,
    host: Annotated[
        str, typer.Option(help="Address to serve on (localhost: only this machine).")
    ] = "127.0.0.1",
    set_: SetOption = None,
) -> None:
    """Open the interactive explorer: move parameters, step, play and reset the model,
    watch its charts; or replay a stored run week by week. Ctrl-C stops it."""
    from market_sim.explore.model import base_scenario
    from market_sim.explore.server import serve
    from market_sim.runs.folder import is_run_folder
    from market_sim.runs.jit_cache import compile_notice

    if source is not None and not source.exists():
        raise UserError(str(source), "", "not found; give a scenario file or a run folder")
    if source is not None and source.is_dir() and not is_run_folder(source):
        raise UserError(str(source), "", "a folder without run.json; give a run folder")
    if source is None or not source.is_dir():
        base_scenario(source, set_ or ())  # bad input: one line per problem, exit 2
    notice = compile_notice()
    if notice:
        console.print(notice)

    def ready(url: str) -> None:
        console.print(f"Explorer: {url} (Ctrl-C to stop)", soft_wrap=True)

    try:
        serve(source, list(set_ or ()), host=host, port=port, on_ready=ready)
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then re-raised the Ctrl-C
        pass
    console.print("Explorer stopped.")
    # Leave at once: Solara's worker threads, torn down with the interpreter, print
    # "Exception ignored in thread" noise about their lost widget context.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
