"""Serve the explorer page on this machine, offline.

The page is a Solara app (:mod:`market_sim.explore.app`) run by uvicorn in this process
on ``host:port`` (localhost by default). Solara's browser assets (Vuetify, fonts,
require.js) come from the ``solara-assets`` package, installed with the ``viz`` extra,
and are served by the same server: the page makes no request to any other host. Solara's
usage telemetry and version check are off. Ctrl-C (or SIGTERM) stops the server.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from market_sim.problems import ENVIRONMENT, INPUT, LineError

APP = "market_sim.explore.app:Page"
SOURCE_ENV = "MARKET_SIM_EXPLORE_SOURCE"
"""Environment variable the page reads its source (scenario file or run folder) from."""
SET_ENV = "MARKET_SIM_EXPLORE_SET"
"""Environment variable holding the command line's ``--set`` overrides (a JSON list)."""
REQUIRED = ("solara", "solara_assets", "anywidget", "mesa.visualization")
"""Modules the explorer needs (the ``viz`` extra)."""


def configured() -> tuple[str, list[str]]:
    """The page's source and fixed overrides, as :func:`serve` set them."""
    fixed = json.loads(os.environ.get(SET_ENV, "[]"))
    return os.environ.get(SOURCE_ENV, ""), [str(x) for x in fixed]


def check_installed() -> None:
    """Raise :class:`LineError` naming the fix if the ``viz`` extra is missing."""
    import importlib

    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise LineError(
                f"market-sim explore: {name} is not installed ({err.name or name}); install "
                'the explorer\'s extra: pip install -e ".[viz]"',
                ENVIRONMENT,
            ) from None


def free_port(host: str, port: int) -> int:
    """``port`` if it can be bound on ``host`` (0: any free port); else a LineError."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as err:
            what = "is in use" if port else f"cannot be bound ({err.strerror})"
            raise LineError(
                f"--port: {port} on {host} {what}; choose another port (--port 0 picks a free one)",
                INPUT,
            ) from None
        return int(sock.getsockname()[1])


def _environment(source: str | Path | None, fixed: Sequence[str]) -> None:
    os.environ[SOURCE_ENV] = str(source or "")
    os.environ[SET_ENV] = json.dumps(list(fixed))
    os.environ["SOLARA_APP"] = APP
    # offline and quiet: no telemetry, no version check, production mode, assets served
    # from the local solara-assets copy (the proxy cache), no warnings about hook order
    # in Mesa's own components
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "True")
    os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")
    # one event loop for every page: Solara's per-kernel threads sometimes never answer
    # a new page's first request (the page stays on "Loading app")
    os.environ.setdefault("SOLARA_KERNEL_THREADED", "False")
    warnings.filterwarnings("ignore", module=r"solara(\..*)?")


def _quiet_solara_threads(info: Any) -> None:
    """Drop Solara's "no widget context" error of a worker thread ending as the server
    stops (a LookupError in solara.server.kernel_context); report anything else."""
    tb = info.exc_traceback
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename if tb is not None else ""
    if isinstance(info.exc_value, LookupError) and "solara" in where:
        return
    sys.__unraisablehook__(info)


def serve(
    source: str | Path | None,
    fixed: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int = 8521,
    on_ready: object = None,
) -> None:
    """Serve the explorer until interrupted. ``on_ready(url)`` is called before serving.

    Raises :class:`LineError` if the ``viz`` extra is missing or the port is taken.
    """
    port = free_port(host, port)
    _environment(source, fixed)  # before solara is imported: it reads them then
    check_installed()
    import uvicorn

    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    config = uvicorn.Config(
        "solara.server.starlette:app",
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
    sys.unraisablehook = _quiet_solara_threads
    server = uvicorn.Server(config)
    if callable(on_ready):
        on_ready(f"http://{host}:{port}/")
    server.run()
