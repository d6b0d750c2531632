"""Semantic checks: rules that relate one part of a scenario to another.

Run after the schema has accepted every value. Every check adds problems instead of
stopping, so a user sees all of them at once.
"""

from __future__ import annotations

import graphlib
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from market_sim.scenario.errors import Problem, did_you_mean
from market_sim.scenario.names import reserved_group_names
from market_sim.scenario.schema import (
    ALL_BUYERS,
    BUYER_ROLES,
    CLASS_IDS,
    LargestRule,
    Scenario,
    VendorSpec,
)
from market_sim.scenario.shares import share_paths


def group_names(s: Scenario) -> tuple[str, ...]:
    """Names that stand for several buyers: ``all``, the buyer classes and the
    scenario's ``outcomes.groups`` (reserved: no product, node or agent may use them)."""
    return (ALL_BUYERS, *CLASS_IDS, *s.outcomes.groups)


def event_groups(s: Scenario) -> tuple[str, ...]:
    """Group names a demand event may target (a ``{largest = N}`` group changes weekly,
    so it is not one)."""
    listed = [g for g, m in s.outcomes.groups.items() if not isinstance(m, LargestRule)]
    return (ALL_BUYERS, *CLASS_IDS, *listed)


_KIND_OF_INPUT = {"logic": "foundry", "packaging": "packaging", "hbm": "memory"}
_FLOW_FROM = {"logic_dies": "foundry", "hbm_stacks": "memory", "packaged_chips": "packaging"}


class _Report:
    def __init__(self, file_of_path: Callable[[str], str] | None, file_order: Sequence[str] = ()):
        self.file_of_path = file_of_path
        self.file_order = list(file_order)
        self.problems: list[Problem] = []

    def add_joint(self, paths: Sequence[str], message: str) -> None:
        """A problem several values cause together: reported at the value set by the
        latest file in the merge order (the one that last changed the sum)."""
        if self.file_of_path is None or not paths:
            self.add(paths[0] if paths else "", message)
            return
        rank = {f: i for i, f in enumerate(self.file_order)}
        latest = max(paths, key=lambda p: rank.get(self.file_of_path(p), -1))
        self.add(latest, message)

    def add(self, path: str, message: str) -> None:
        file = self.file_of_path(path) if self.file_of_path is not None else "<scenario>"
        self.problems.append(Problem(file, path, message))


def check_scenario(
    s: Scenario,
    file_of_path: Callable[[str], str] | None = None,
    file_order: Sequence[str] = (),
) -> list[Problem]:
    """Every semantic problem of a validated scenario (empty list: it is usable).

    ``file_of_path`` names the file a field path came from (``extends`` chains); each
    problem is reported against it. ``file_order`` lists the files from the first merged
    to the last (``--set`` last): a problem that several values cause together (shares
    adding up to more than 1) is blamed on the latest file that set one of them.
    """
    r = _Report(file_of_path, file_order)
    _check_ids(s, r)
    n_before = len(r.problems)
    _check_edges(s, r)
    _check_products(s, r, edges_ok=len(r.problems) == n_before)
    _check_agents(s, r)
    _check_events(s, r)
    _check_outcomes(s, r)
    return r.problems


def _unknown(kind: str, name: str, known: list[str]) -> str:
    hint = did_you_mean(name, known)
    if hint:
        return f"unknown {kind} '{name}'{hint} (known: {', '.join(known)})"
    return f"unknown {kind} '{name}'; use one of: {', '.join(known) or '(none defined)'}"


def _check_ids(s: Scenario, r: _Report) -> None:
    """Products, supply nodes and agents share one namespace with the reserved groups:
    ids are unique across all of them, ignoring case, and take no group's name."""
    kinds = {
        "products": [p.id for p in s.products],
        "supply.nodes": [n.id for n in s.supply.nodes],
        "agents": [a.id for a in s.agents],
    }
    for where, ids in kinds.items():
        for name, n in Counter(ids).items():
            if n > 1:
                r.add(f"{where}.{name}", f"duplicate id '{name}' ({n} times); rename all but one")
    groups = reserved_group_names(s)
    first: dict[str, tuple[str, str]] = {}  # folded id -> (kind, id) where it first appears
    for where, ids in kinds.items():
        for name in dict.fromkeys(ids):
            key = name.casefold()
            if key in groups:
                r.add(
                    f"{where}.{name}",
                    f"id '{name}' is a reserved group name ({key}: {groups[key]}; ids are "
                    "case-insensitive); rename it",
                )
                continue
            if key in first:
                kind, other = first[key]
                r.add(
                    f"{where}.{name}",
                    f"id '{name}' is also {kind}.{other}'s id (ids are case-insensitive); "
                    "rename one",
                )
                continue
            first[key] = (where, name)


def _check_edges(s: Scenario, r: _Report) -> None:
    nodes = {n.id: n for n in s.supply.nodes}
    vendors = [a.id for a in s.agents if isinstance(a, VendorSpec)]
    g: dict[str, set[str]] = {}  # node -> its suppliers (graphlib's predecessors)
    for i, e in enumerate(s.supply.edges):
        path = f"supply.edges[{i}]"
        if e.from_ not in nodes:
            r.add(f"{path}.from", _unknown("supply node", e.from_, list(nodes)))
        elif nodes[e.from_].kind != _FLOW_FROM[e.flow]:
            r.add(
                f"{path}.flow",
                f"'{e.flow}' cannot come from a {nodes[e.from_].kind} node ('{e.from_}'); "
                f"{e.flow} come from a {_FLOW_FROM[e.flow]} node",
            )
        if e.to not in nodes and e.to not in vendors:
            r.add(f"{path}.to", _unknown("supply node or vendor", e.to, [*nodes, *vendors]))
        g.setdefault(e.to, set()).add(e.from_)
    try:  # the standard library's check: networkx costs a tenth of a second to import
        graphlib.TopologicalSorter(g).prepare()
    except graphlib.CycleError as err:
        loop = " -> ".join(err.args[1])  # along the edges, first node repeated
        r.add("supply.edges", f"the supply graph has a cycle {loop}; remove one of these edges")


def _reaches(edges: dict[str, list[str]], start: str, goal: str) -> bool:
    """Whether a path of edges leads from ``start`` to ``goal``."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _check_products(s: Scenario, r: _Report, edges_ok: bool = True) -> None:
    nodes = {n.id: n for n in s.supply.nodes}
    vendors = [a.id for a in s.agents if isinstance(a, VendorSpec)]
    g: dict[str, list[str]] = {}
    for e in s.supply.edges:
        g.setdefault(e.from_, []).append(e.to)
    for p in s.products:
        path = f"products.{p.id}"
        if p.vendor not in vendors:
            r.add(f"{path}.vendor", _unknown("vendor", p.vendor, vendors))
        stages = p.bom.stages()
        if not stages:
            r.add(f"{path}.bom", "names no supplier; add at least one of logic, packaging, hbm")
        for name, _, suppliers in stages:
            key = "nodes" if name == "hbm" else "node"
            for node_id in suppliers:
                where = f"{path}.bom.{name}.{key}"
                if node_id not in nodes:
                    r.add(where, _unknown("supply node", node_id, list(nodes)))
                elif nodes[node_id].kind != _KIND_OF_INPUT[name]:
                    r.add(
                        where,
                        f"'{node_id}' is a {nodes[node_id].kind} node; {name} needs a "
                        f"{_KIND_OF_INPUT[name]} node",
                    )
                elif edges_ok and p.vendor in vendors and not _reaches(g, node_id, p.vendor):
                    r.add(
                        where,
                        f"no supply edge path from '{node_id}' to vendor '{p.vendor}'; "
                        "add [[supply.edges]] that connect them",
                    )
        launch, end = s.week_of(p.launch), (None if p.end is None else s.week_of(p.end))
        if end is not None and end < launch:
            r.add(f"{path}.end", "ends before its launch; move end after launch")


def _check_agents(s: Scenario, r: _Report) -> None:
    nodes = [n.id for n in s.supply.nodes]
    products = [p.id for p in s.products]
    buyers = [a.id for a in s.agents if a.role in BUYER_ROLES]
    for a in s.agents:
        path = f"agents.{a.id}"
        if isinstance(a, VendorSpec):
            if a.owner is not None and a.owner not in buyers:
                r.add(f"{path}.owner", _unknown("buyer", a.owner, buyers))
            if a.dormant and a.owner is None:
                r.add(f"{path}.dormant", "only an in-house program (with owner) can be dormant")
            for node_id in a.capacity_share:
                if node_id not in nodes:
                    r.add(f"{path}.capacity_share.{node_id}", _unknown("node", node_id, nodes))
            for k, point in enumerate(a.capacity_share_schedule):
                if point.node not in nodes:
                    where = f"{path}.capacity_share_schedule[{k}].node"
                    r.add(where, _unknown("node", point.node, nodes))
            if not any(p.vendor == a.id for p in s.products):
                r.add(path, f"vendor '{a.id}' sells no product; add a product or remove it")
            continue
        for prod in a.product_weights:
            if prod not in products:
                where = f"{path}.product_weights.{prod}"
                r.add(where, _unknown("product", prod, products))
        dates = [f.date for f in getattr(a, "fleet_targets", [])]
        if dates != sorted(set(dates)):
            r.add(f"{path}.fleet_targets", "dates must be strictly increasing; sort them")
        years = [c.year for c in getattr(a, "capex", getattr(a, "capital", []))]
        if years != sorted(set(years)):
            r.add(path, "capex/capital years must be strictly increasing; sort them")
        trigger = getattr(a, "in_house", None)
        if trigger is not None:
            v = next((x for x in s.agents if x.id == trigger.vendor), None)
            if not isinstance(v, VendorSpec) or v.owner != a.id:
                r.add(
                    f"{path}.in_house.vendor",
                    f"'{trigger.vendor}' is not an in-house vendor owned by '{a.id}'; "
                    f'add a vendor agent with owner = "{a.id}" and dormant = true',
                )
    if r.problems:
        return  # shares can only be summed once every node id is known
    reserved, contracted = share_paths(s)
    total = reserved + contracted.sum(axis=1)  # [week, node]
    for j, node_id in enumerate(nodes):
        worst = int(np.argmax(total[:, j]))
        if total[worst, j] > 1.0 + 1e-9:
            r.add_joint(
                _share_paths(s, node_id),
                f"node {node_id}: reserved and vendors' contracted shares add up to "
                f"{total[worst, j]:.4g} > 1 in week {worst} ({s.date_of(worst)}); lower the "
                "shares",
            )


def _share_paths(s: Scenario, node_id: str) -> list[str]:
    """Paths of every value in a node's share sum: its reserved share and schedule, each
    vendor's contracted share and share schedule for it (the node's own path first)."""
    paths = [f"supply.nodes.{node_id}", f"supply.nodes.{node_id}.reserved_share"]
    node = next(n for n in s.supply.nodes if n.id == node_id)
    paths += [f"supply.nodes.{node_id}.schedule"] if node.schedule else []
    for a in s.agents:
        if isinstance(a, VendorSpec):
            if node_id in a.capacity_share:
                paths.append(f"agents.{a.id}.capacity_share.{node_id}")
            if any(p.node == node_id for p in a.capacity_share_schedule):
                paths.append(f"agents.{a.id}.capacity_share_schedule")
    return paths


def _check_events(s: Scenario, r: _Report) -> None:
    weeks = s.simulation.weeks
    nodes = [n.id for n in s.supply.nodes]
    products = [p.id for p in s.products]
    buyers = [a.id for a in s.agents if a.role in BUYER_ROLES]
    regions = sorted({a.region for a in s.agents if a.role in BUYER_ROLES})
    in_house = [a.id for a in s.agents if isinstance(a, VendorSpec) and a.owner is not None]
    for i, e in enumerate(s.events):
        path = f"events[{i}]"
        week = s.week_of(e.at)
        if not 0 <= week < weeks:
            last = s.date_of(weeks - 1)
            r.add(
                f"{path}.at",
                f"week {week} is outside the horizon (weeks 0-{weeks - 1}, "
                f"{s.simulation.start_date} to {last}); move the event inside it",
            )
        target = f"{path}.target"
        if e.kind == "capacity_outage":
            if e.target not in nodes:
                r.add(target, _unknown("supply node", e.target, nodes))
            if not 0 < e.magnitude <= 1:
                r.add(f"{path}.magnitude", "share of capacity lost must be in (0, 1]; fix it")
        elif e.kind == "demand_surge":
            groups = event_groups(s)
            if e.target not in buyers and e.target not in groups:
                r.add(target, _unknown("buyer or group", e.target, [*buyers, *groups]))
            if e.magnitude <= 0:
                r.add(f"{path}.magnitude", "demand multiplier must be > 0; fix it")
        elif e.kind == "export_control":
            if e.target not in regions:
                r.add(target, _unknown("region", e.target, regions))
            if not e.products:
                r.add(f"{path}.products", "list the products that are controlled")
        elif e.kind == "product_launch":
            if e.target not in products:
                r.add(target, _unknown("product", e.target, products))
        elif e.kind == "in_house_launch" and e.target not in in_house:
            r.add(target, _unknown("in-house vendor", e.target, in_house))
        for j, prod in enumerate(e.products):
            if prod not in products:
                r.add(f"{path}.products[{j}]", _unknown("product", prod, products))


def _check_outcomes(s: Scenario, r: _Report) -> None:
    out = s.outcomes
    products = [p.id for p in s.products]
    vendors = [a.id for a in s.agents if isinstance(a, VendorSpec)]
    buyers = [a.id for a in s.agents if a.role in BUYER_ROLES]
    if out.reference_product is not None and out.reference_product not in products:
        r.add("outcomes.reference_product", _unknown("product", out.reference_product, products))
    if out.incumbent_vendor is not None and out.incumbent_vendor not in vendors:
        r.add("outcomes.incumbent_vendor", _unknown("vendor", out.incumbent_vendor, vendors))
    for name, members in out.groups.items():
        where = f"outcomes.groups.{name}"
        if name in (ALL_BUYERS, *CLASS_IDS):
            r.add(where, f"'{name}' is a buyer class (or 'all') already; choose another name")
        if isinstance(members, LargestRule):
            continue
        for k, member in enumerate(members):
            if member not in buyers:
                r.add(f"{where}[{k}]", _unknown("buyer", member, buyers))
