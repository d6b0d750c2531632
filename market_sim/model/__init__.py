"""The weekly model: :class:`GPUMarketModel` (the owner of the weekly state), the world it
is built from, the phases of a week and the order book."""

from market_sim.model.core import GPUMarketModel
from market_sim.model.inputs import resolve_scenario

__all__ = ["GPUMarketModel", "resolve_scenario"]
