"""The supply graph: build it, ask what it can make, and disrupt it."""

from market_sim.supply.capacity import (
    Stage,
    Throughput,
    available_capacity,
    bottleneck,
    cycle_time_weeks,
    final_stage_weeks,
    flow_network,
    leontief,
    max_output,
    product_stages,
)
from market_sim.supply.disrupt import (
    allowed_products,
    remove_edges,
    restrict_products,
    scale_capacity,
)
from market_sim.supply.graph import (
    STARTUPS_NODE,
    build_graph,
    capacity_path,
    node_capacity,
    write_dot,
)

__all__ = [
    "STARTUPS_NODE",
    "Stage",
    "Throughput",
    "allowed_products",
    "available_capacity",
    "bottleneck",
    "build_graph",
    "capacity_path",
    "cycle_time_weeks",
    "final_stage_weeks",
    "flow_network",
    "leontief",
    "max_output",
    "node_capacity",
    "product_stages",
    "remove_edges",
    "restrict_products",
    "scale_capacity",
    "write_dot",
]
