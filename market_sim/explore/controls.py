"""The explorer's parameter controls: the assumptions an analyst moves most, as Mesa
SolaraViz user parameters, and how each becomes scenario overrides.

A control has a short keyword name (SolaraViz passes model parameters as keyword
arguments and Mesa checks their names, so dotted paths cannot be the names), a widget
and a function from its value to ``--set``-style overrides of the scenario it is built
for. Controls a scenario cannot take (no agent ``meta``, no packaging node) are left out.
Scale controls multiply every point of a path (1 = the scenario as written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from market_sim.market.policies import policy_names
from market_sim.scenario import Scenario

ToOverrides = Callable[[Any], list[str]]

META = "meta"
"""Id of the agent whose fleet targets the target control scales."""


@dataclass(frozen=True)
class Control:
    """One input of the page: ``name`` (keyword), ``widget`` (a SolaraViz user-parameter
    dict: type, label, value, ...) and ``overrides(value)`` (``path=value`` strings)."""

    name: str
    widget: dict[str, Any]
    overrides: ToOverrides

    @property
    def default(self) -> Any:
        return self.widget["value"]


def _scale(paths_values: list[tuple[str, float]], integer: bool = False) -> ToOverrides:
    def apply(factor: Any) -> list[str]:
        f = float(factor)
        if f == 1.0:
            return []
        out = []
        for path, value in paths_values:
            v = value * f
            out.append(f"{path}={round(v) if integer else float(v)!r}")
        return out

    return apply


def _set(path: str, scale: float = 1.0, integer: bool = False) -> ToOverrides:
    def apply(value: Any) -> list[str]:
        v = float(value) * scale
        return [f"{path}={round(v) if integer else v!r}"]

    return apply


def _slider(label: str, value: float, lo: float, hi: float, step: float) -> dict[str, Any]:
    return {"type": "SliderFloat", "label": label, "value": value, "min": lo, "max": hi,
            "step": step}  # fmt: skip


def _meta_targets(s: Scenario) -> Control | None:
    meta = next((a for a in s.agents if a.id == META), None)
    targets = getattr(meta, "fleet_targets", None)
    if not targets:
        return None
    points = [(f"agents.{META}.fleet_targets[{i}].h100e", t.h100e) for i, t in enumerate(targets)]
    label = f"{meta.name or META} fleet targets, x"
    return Control("meta_targets", _slider(label, 1.0, 0.25, 3.0, 0.05), _scale(points, True))


def _cowos(s: Scenario) -> Control | None:
    nodes = [n for n in s.supply.nodes if n.kind == "packaging"]
    node = next((n for n in nodes if "cowos" in n.id.lower()), nodes[0] if nodes else None)
    if node is None:
        return None
    base = f"supply.nodes.{node.id}"
    points: list[tuple[str, float]] = []
    for field in ("capacity_per_month", "capacity_per_week"):
        if getattr(node, field) is not None:
            points.append((f"{base}.{field}", getattr(node, field)))
    for k, p in enumerate(node.schedule):
        for field in ("capacity_per_month", "capacity_per_week"):
            if getattr(p, field, None) is not None:
                points.append((f"{base}.schedule[{k}].{field}", getattr(p, field)))
    label = f"{node.id} capacity, x"
    return Control("cowos_capacity", _slider(label, 1.0, 0.25, 2.0, 0.05), _scale(points))


def controls_for(s: Scenario) -> list[Control]:
    """The controls for scenario ``s``, defaults at its values, in page order."""
    st, ordering = s.startups, s.policy.ordering
    out = [
        _meta_targets(s),
        Control(
            "allocation",
            {
                "type": "Select",
                "label": "Allocation policy",
                "value": s.policy.allocation,
                "values": list(policy_names()),
            },
            lambda v: [f"policy.allocation={v}"],
        ),
        _cowos(s),
        Control(
            "startup_funding_musd",
            _slider("Startup min round, USD m", st.funding_min_usd / 1e6, 0.5, 20.0, 0.5),
            _set("startups.funding_min_usd", scale=1e6),
        ),
        Control(
            "startup_entry",
            _slider("Startups entering/week", float(st.entry_per_week), 0.0, 200.0, 5.0),
            _set("startups.entry_per_week"),
        ),
        Control(
            "supply_line_weight",
            _slider(
                "Open-order weight",
                ordering.supply_line_weight,
                0.0,
                1.0,
                0.05,
            ),
            _set("policy.ordering.supply_line_weight"),
        ),
        Control(
            "stock_adjust_weeks",
            _slider("Fleet-gap weeks", ordering.stock_adjust_weeks, 1.0, 52.0, 1.0),
            _set("policy.ordering.stock_adjust_weeks"),
        ),
    ]
    return [c for c in out if c is not None]


def overrides_of(controls: list[Control], values: dict[str, Any]) -> list[str]:
    """The overrides the controls' ``values`` stand for; a value left at its default
    (or not given) changes nothing."""
    out: list[str] = []
    for c in controls:
        if c.name in values and values[c.name] is not None and values[c.name] != c.default:
            out += c.overrides(values[c.name])
    return out
