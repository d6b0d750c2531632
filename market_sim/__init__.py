"""market_sim: an agent-based model of the AI accelerator (GPU) supply chain."""

import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

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


class _DeferredModule(types.ModuleType):
    """A package whose ``__init__`` runs on first use of one of its attributes."""

    def __getattr__(self, name: str) -> Any:
        spec = self.__spec__
        self.__class__ = types.ModuleType  # from now on an ordinary module
        spec.loader.exec_module(self)  # type: ignore[union-attr]
        return getattr(self, name)


def _defer_mesa_experimental() -> None:
    """Make ``import mesa`` leave ``mesa.experimental`` unloaded until it is used.

    Mesa 3.3's ``__init__`` imports its experimental package, which imports
    ``scipy.spatial`` (0.2-0.4 s at start-up) for features market_sim does not use. The
    package is registered here with its real spec and path but without running its
    ``__init__``; the first attribute looked up on it (``mesa.experimental.devs``,
    ``from mesa.experimental import ...``, Mesa's visualisation) runs it as usual.
    Nothing happens when mesa was imported already or is laid out differently.
    """
    if "mesa" in sys.modules or "mesa.experimental" in sys.modules:
        return
    try:
        mesa_spec = importlib.util.find_spec("mesa")
        if mesa_spec is None or not mesa_spec.submodule_search_locations:
            return
        spec = importlib.machinery.PathFinder.find_spec(
            "mesa.experimental", list(mesa_spec.submodule_search_locations)
        )
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return
        module = importlib.util.module_from_spec(spec)
    except (ImportError, ValueError, OSError):
        return
    module.__class__ = _DeferredModule
    sys.modules["mesa.experimental"] = module


_defer_mesa_experimental()
