"""An agent's attribute that reads through to its entry of a model-wide state array.

The model keeps each role's state in arrays (one row per agent) that kernels update for
every agent at once (:class:`market_sim.agents.fleet.BuyerState`,
:class:`market_sim.agents.chipmaker_kernel.NodeState`,
:class:`market_sim.agents.vendor_accounts.VendorAccounts`); the agents' attributes stay
the readable view of the same numbers, so their methods (the kernels' test oracles) and
Mesa's agent reporters work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any


def state_field(
    state: str, column: str, index: str, doc: str | None = None, cast: Callable = float
) -> property:
    """A property reading and writing ``self.<state>.<column>[self.<index>]`` as a
    Python number (``cast``: ``float``, or ``int`` for counts)."""
    array = attrgetter(f"{state}.{column}")
    row = attrgetter(index)

    def get(self: Any) -> Any:
        return cast(array(self)[row(self)])

    def put(self: Any, value: Any) -> None:
        array(self)[row(self)] = value

    return property(get, put, doc=doc)
