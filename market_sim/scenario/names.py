"""Names a scenario's ids may not take: the groups that events and outcomes name.

Products, supply nodes and agents share one namespace with these groups: an outcome
column such as ``installed_h100e@big4`` or an event target such as ``startups`` must mean
one thing only. :func:`reserved_group_names` is the one list the checks use
(:mod:`market_sim.scenario.checks`): ``all``, the buyer classes of the registry, the
groups of the facts vocabulary, and the scenario's own ``outcomes.groups``.
"""

from __future__ import annotations

from market_sim.scenario.schema import ALL_BUYERS, BUYER_CLASSES, Scenario

FACTS_GROUPS = {
    "big4": "microsoft, google, meta and amazon, in the facts vocabulary",
    "top5": "the five largest holders of compute, in the facts vocabulary",
}
"""Groups shared/data/README.md defines (facts may name them whatever the scenario)."""


def reserved_group_names(scenario: Scenario | None = None) -> dict[str, str]:
    """Reserved group names (lower case) and what each stands for."""
    out = {ALL_BUYERS: "every buyer"}
    out.update({c.id: f"the {c.label.lower()} (a buyer class)" for c in BUYER_CLASSES})
    out.update(FACTS_GROUPS)
    if scenario is not None:
        for name in scenario.outcomes.groups:
            out.setdefault(name.casefold(), "a group of the scenario's outcomes.groups")
    return out
