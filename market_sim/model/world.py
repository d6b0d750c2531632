"""A scenario compiled into indexed arrays: products, supply nodes, vendors, holders.

The model's agents and kernels work on integer indices; this module fixes them once,
from the scenario's file order, so the same scenario always gives the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from market_sim.market.policies import POLICIES
from market_sim.scenario.schema import (
    BUYER_ROLES,
    CLASS_IDS,
    CLASS_OF_ROLE,
    STARTUP_CLASS,
    LargestRule,
    Scenario,
    VendorSpec,
)
from market_sim.scenario.shares import share_paths
from market_sim.supply import build_graph, capacity_path, final_stage_weeks

__all__ = ["CLASS_IDS", "STARTUP_CLASS", "BuyerArrays", "Products", "World", "build_world"]

NO_END = 1_000_000
"""End week of a product without an end date (beyond any horizon)."""


@dataclass
class Products:
    """Static product data, one entry per product (index = position in the scenario)."""

    ids: list[str]
    vendor: np.ndarray  # int: vendor index
    h100e: np.ndarray  # H100-equivalents per unit
    unit_cost_usd: np.ndarray
    initial_list_price_usd: np.ndarray
    launch_week: np.ndarray  # first week of volume output
    end_week: np.ndarray  # last week of output (NO_END if none)
    ramp_weeks: np.ndarray
    cycle_weeks: np.ndarray  # int: last stage (packaging) to delivery, weeks (>= 1)
    demand_weight: np.ndarray
    owner_holder: np.ndarray  # int: holder index of an in-house program's owner, or -1
    stages: list[list[tuple[str, float, list[int]]]]  # (input, per unit, node indices)
    stage_scale: list[list[np.ndarray | None]] = field(default_factory=list)
    """Per product and stage: input per unit this week over the starting one ([weeks]
    array, the starting yield over the week's yield), or None (no yield learning)."""

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class BuyerArrays:
    """Holders' fixed choice parameters as arrays (one row per holder)."""

    tiers: np.ndarray  # priority tier
    ceiling: np.ndarray  # USD per H100e
    weights: np.ndarray  # [holders, products] product weights (buyer's, else the product's)
    elasticity: np.ndarray  # [holders, 1]
    sensitivity: np.ndarray  # [holders, 1], per week of quoted lead time
    aggregate: np.ndarray  # bool: stands for many firms (not one holder in concentration)


@dataclass
class World:
    """Everything fixed about a run's structure, derived from its scenario."""

    scenario: Scenario
    weeks: int
    products: Products
    node_ids: list[str]
    node_capacity: np.ndarray  # [weeks, nodes] scheduled capacity, node units per week
    vendor_ids: list[str]
    vendor_specs: list[VendorSpec]
    reserved_share: np.ndarray  # [weeks, nodes] share of capacity outside the model
    vendor_shares: np.ndarray  # [weeks, vendors, nodes] contracted share of capacity
    reachable_share: np.ndarray  # [weeks, vendors, nodes] contract + uncontracted rest
    holder_ids: list[str]
    holder_specs: list
    holder_class: np.ndarray  # int class code per holder
    incumbent: int  # vendor index of the incumbent (outcomes.incumbent_vendor), or -1
    buyers: BuyerArrays
    policy_codes: np.ndarray  # int: allocation policy code of each product's market
    pipeline_offsets: np.ndarray  # int: product p's pipeline is [offsets[p], offsets[p+1])
    reference_product: int  # product index whose prices per H100e are the reference
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    """Buyer classes and the scenario's listed groups -> holder indices (startups: none)."""
    largest_groups: dict[str, int] = field(default_factory=dict)
    """The scenario's ``{largest = N}`` groups -> N (recomputed each week)."""

    def product_index(self, product_id: str) -> int:
        return self.products.ids.index(product_id)


def allowed_matrix(graph, world: World) -> np.ndarray:
    """[holders, products]: whether a firm may receive a product, read from the supply
    graph's vendor-to-buyer edges (in-house programs serve their owner; export controls
    remove products from edges, see ``market_sim.supply.restrict_products``)."""
    from market_sim.supply import allowed_products

    pr = world.products
    out = np.zeros((len(world.holder_ids), len(pr)), dtype=bool)
    for h, holder in enumerate(world.holder_ids):
        for vendor in world.vendor_ids:
            for pid in allowed_products(graph, vendor, holder):
                out[h, world.product_index(pid)] = True
    return out


def _stage_scales(product, scenario: Scenario, weeks: int) -> list[np.ndarray | None]:
    """Input per unit relative to the starting yield, week by week, for each stage."""
    yields = product.bom.yields()
    out: list[np.ndarray | None] = []
    for name, _, _ in product.bom.stages():
        start, points = yields.get(name, (1.0, []))
        if not points:
            out.append(None)
            continue
        xs = [0.0] + [float(scenario.week_of(pt.date)) for pt in points]
        ys = [start] + [pt.yield_ for pt in points]
        path = np.interp(np.arange(weeks + 1, dtype=float), xs, ys)
        out.append(start / path)
    return out


def build_world(scenario: Scenario) -> World:
    """Compile a validated scenario into a :class:`World`."""
    weeks = scenario.simulation.weeks
    node_ids = [n.id for n in scenario.supply.nodes]
    node_index = {n: i for i, n in enumerate(node_ids)}
    vendor_specs = [a for a in scenario.agents if isinstance(a, VendorSpec)]
    vendor_ids = [v.id for v in vendor_specs]
    holder_specs = [a for a in scenario.agents if a.role in BUYER_ROLES]
    holder_ids = [h.id for h in holder_specs]
    holder_index = {h: i for i, h in enumerate(holder_ids)}

    graph = build_graph(scenario, 0)
    node_capacity = np.zeros((weeks, len(node_ids)))
    for j, node in enumerate(scenario.supply.nodes):
        node_capacity[:, j] = capacity_path(node, scenario)

    reserved, shares = share_paths(scenario)

    ps = scenario.products
    vendor_of = {v: i for i, v in enumerate(vendor_ids)}
    owner = []
    for p in ps:
        spec = vendor_specs[vendor_of[p.vendor]]
        owner.append(holder_index[spec.owner] if spec.owner is not None else -1)
    products = Products(
        ids=[p.id for p in ps],
        vendor=np.array([vendor_of[p.vendor] for p in ps], dtype=np.int64),
        h100e=np.array([p.h100e for p in ps]),
        unit_cost_usd=np.array([p.unit_cost_usd for p in ps]),
        initial_list_price_usd=np.array([p.list_price_usd for p in ps]),
        launch_week=np.array([scenario.week_of(p.launch) for p in ps], dtype=np.int64),
        end_week=np.array(
            [NO_END if p.end is None else scenario.week_of(p.end) for p in ps], dtype=np.int64
        ),
        ramp_weeks=np.array([p.ramp_weeks for p in ps], dtype=np.int64),
        cycle_weeks=np.array(
            [max(1, round(final_stage_weeks(graph, scenario, p.id))) for p in ps], dtype=np.int64
        ),
        demand_weight=np.array([p.demand_weight for p in ps]),
        owner_holder=np.array(owner, dtype=np.int64),
        stages=[
            [
                (name, per_unit, [node_index[n] for n in nodes])
                for name, per_unit, nodes in p.bom.stages()
            ]
            for p in ps
        ],
        stage_scale=[_stage_scales(p, scenario, weeks) for p in ps],
    )
    holder_class = np.array([CLASS_OF_ROLE[h.role] for h in holder_specs], dtype=np.int64)
    weights = np.tile(products.demand_weight, (len(holder_specs), 1))
    for h, spec in enumerate(holder_specs):
        for pid, w in spec.product_weights.items():
            weights[h, products.ids.index(pid)] = w
    buyers = BuyerArrays(
        tiers=np.array([sp.priority_tier for sp in holder_specs], dtype=np.int64),
        ceiling=np.array([sp.max_price_per_h100e_usd for sp in holder_specs], dtype=float),
        weights=weights,
        elasticity=np.array([sp.price_elasticity for sp in holder_specs], dtype=float)[:, None],
        sensitivity=np.array([sp.lead_time_sensitivity for sp in holder_specs], dtype=float)[
            :, None
        ],
        aggregate=np.array([sp.aggregate for sp in holder_specs], dtype=bool),
    )
    default_policy = scenario.policy.allocation
    policy_codes = np.array(
        [POLICIES[vendor_specs[v].allocation or default_policy] for v in products.vendor],
        dtype=np.int64,
    )
    groups = {
        name: np.flatnonzero(holder_class == code)
        for code, name in enumerate(CLASS_IDS)
        if code != STARTUP_CLASS
    }
    largest: dict[str, int] = {}
    for name, members in scenario.outcomes.groups.items():
        if isinstance(members, LargestRule):
            largest[name] = members.largest
        else:
            groups[name] = np.array([holder_index[h] for h in members], dtype=np.int64)
    out = scenario.outcomes
    reference = 0 if out.reference_product is None else products.ids.index(out.reference_product)
    incumbent = -1 if out.incumbent_vendor is None else vendor_ids.index(out.incumbent_vendor)
    return World(
        scenario=scenario,
        weeks=weeks,
        products=products,
        node_ids=node_ids,
        node_capacity=node_capacity,
        vendor_ids=vendor_ids,
        vendor_specs=vendor_specs,
        reserved_share=reserved,
        vendor_shares=shares,
        # as supply.shares.reachable_shares, for every week at once
        reachable_share=shares + np.clip(1.0 - reserved - shares.sum(axis=1), 0.0, 1.0)[:, None],
        holder_ids=holder_ids,
        holder_specs=holder_specs,
        holder_class=holder_class,
        incumbent=incumbent,
        buyers=buyers,
        policy_codes=policy_codes,
        # every product's pipeline is a slice of one array, laid out as the clearing
        # kernels take it (one slot per week of the product's cycle)
        pipeline_offsets=np.concatenate([[0], np.cumsum(products.cycle_weeks)]).astype(np.int64),
        reference_product=reference,
        groups=groups,
        largest_groups=largest,
    )
