"""Names a scenario's ids may not take: the groups that events and outcomes name.

Products, supply nodes and agents share one namespace with these groups: an outcome
column such as ``installed_h100e@big4`` or an event target such as ``startups`` must mean
one thing only. :func:`reserved_group_names` is the one list the checks use
(:mod:`market_sim.scenario.checks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from market_sim.scenario.schema import Scenario

BUYER_GROUPS = ("all", "hyperscalers", "enterprises", "neoclouds", "startups")
"""Event targets that name a class of buyers instead of one agent."""
METRIC_GROUPS = ("big4", "top5")
"""Groups of holders that only outcomes name (``compute_share_pct@top5``); must match the
groups of :mod:`market_sim.metrics` (a test checks it)."""

_MEANING = {
    "all": "every buyer",
    "hyperscalers": "the hyperscaler agents",
    "enterprises": "the enterprise agents",
    "neoclouds": "the neocloud agents",
    "startups": "the startup population",
    "big4": "microsoft, google, meta and amazon, in outcomes",
    "top5": "the five largest firms by installed compute, in outcomes",
}


def reserved_group_names(scenario: Scenario | None = None) -> dict[str, str]:
    """Reserved group names (lower case) and what each stands for.

    ``scenario`` is unused for now: groups a scenario defines itself would be added here.
    """
    return {name: _MEANING[name] for name in (*BUYER_GROUPS, *METRIC_GROUPS)}
