"""The Mesa class of each buyer role.

A buyer class is declared once, in ``market_sim.scenario.schema.BUYER_CLASSES`` (its id,
role, scenario spec, label, colour); its agents' Mesa class is registered here. The model
makes one agent of this class per scenario agent of the role.
"""

from __future__ import annotations

from market_sim.agents.buyers import EnterpriseAgent, Holder
from market_sim.agents.hyperscaler import HyperscalerAgent
from market_sim.agents.neocloud import NeocloudAgent

HOLDER_AGENTS: dict[str, type[Holder]] = {
    "hyperscaler": HyperscalerAgent,
    "enterprise": EnterpriseAgent,
    "neocloud": NeocloudAgent,
}
"""Scenario role -> Mesa agent class, for every buyer role of the schema."""
