"""market_sim: an agent-based model of the AI accelerator (GPU) supply chain."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("market-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
