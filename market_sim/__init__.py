"""market_sim: an agent-based model of the AI accelerator (GPU) supply chain."""

import sys
from typing import Any

from market_sim.deferred import defer

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed package's metadata on first use
    (importlib.metadata costs ~50 ms at start-up, which ``market-sim validate`` skips)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("market-sim")
    except PackageNotFoundError:  # running from a source tree that was not installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value


def _defer_mesa_experimental() -> None:
    """Make ``import mesa`` leave ``mesa.experimental`` unloaded until it is used.

    Mesa 3.3's ``__init__`` imports its experimental package, which imports
    ``scipy.spatial`` (0.2-0.4 s at start-up) for features market_sim does not use. The
    package is registered here with its real spec and path but without running its
    ``__init__`` (:mod:`market_sim.deferred`); the first attribute looked up on it
    (``mesa.experimental.devs``, ``from mesa.experimental import ...``, Mesa's
    visualisation) runs it as usual. Nothing happens when mesa was imported already or is
    laid out differently.
    """
    if "mesa" in sys.modules:
        return
    defer("mesa.experimental")


_defer_mesa_experimental()
