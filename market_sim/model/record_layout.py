"""Where each collector of the recorder (:mod:`market_sim.model.record`) writes: the
positions of its values in the week's row of outcomes, fixed for a run.

The row holds one float64 per key of the metric catalogue, in catalogue order
(:func:`market_sim.outcomes.catalogue.metric_keys`); a collector computes its values as
a few arrays (one per variable, entities in the world's order) and writes each with
one assignment through an index array made here. The layout also knows which
collector makes which key (:meth:`RecordLayout.families_for`), and checks that the
collectors together make every key of the catalogue exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from market_sim.model.record_parts import (
    FAMILIES,
    FAMILY_NEEDS,
    HOLDER_VARIABLES,
    PRODUCT_VARIABLES,
    VENDOR_VARIABLES,
)
from market_sim.model.world import World
from market_sim.outcomes.catalogue import Entities
from market_sim.scenario.schema import CLASS_IDS, STARTUP_CLASS

MARKET_KEYS = (
    "nvidia_dc_revenue_usd_bn",
    "nvidia_cogs_usd_bn",
    "nvidia_gross_margin_pct",
    "nvidia_unit_share_pct",
    "nvidia_new_compute_share_pct",
    "nvidia_installed_share_pct",
    "incumbent_deliveries_units",
    "incumbent_deliveries_h100e",
    "deliveries_units",
    "deliveries_h100e",
    "backlog_units",
    "installed_h100e",
    "alt_chip_installed_share_pct",
)
"""The ``market`` collector's values, in the order it computes them."""
CONCENTRATION_KEYS = (
    "hhi_compute",
    "gini_compute",
    "top4_share_pct",
    "alt_chip_deliveries_h100e",
    "in_house_deliveries_h100e",
    "alt_chip_share_pct",
    "in_house_share_pct",
)
"""The ``concentration`` collector's values, in order."""
STARTUP_KEYS = (
    "startups_active",
    "startups_starved",
    "startups_exited",
    "startups_entered",
    "startups_compute_h100e",
    "startups_owned_h100e",
    "startups_rented_h100e",
    "units_in_pipeline",
    "units_inventory",
    "in_house_programs_started",
)
"""The ``startups`` collector's values, in order."""
GROUP_VARIABLES = ("deliveries_units", "installed_h100e", "compute_share_pct")
INCUMBENT_VARIABLES = (
    "revenue_usd_bn",
    "cogs_usd_bn",
    "gross_margin_pct",
    "deliveries_units",
    "deliveries_h100e",
)
"""The incumbent vendor's values the ``market`` collector reads (its ``vendors`` keys)."""


class RecordLayout:
    """Index arrays into the catalogue row (``keys``), one set per collector.

    Each ``*_at`` attribute has the shape of the values its collector writes (variables
    first, then entities in the world's order), or is that flattened where a kernel of
    :mod:`market_sim.model.record_kernels` writes them. Raises ``RuntimeError`` when the
    collectors and the catalogue disagree (a key made twice, or not made, or unknown).
    """

    def __init__(self, world: World, keys: Sequence[str]):
        self.position: dict[str, int] = {k: i for i, k in enumerate(keys)}
        w, scenario = world, world.scenario
        ent = Entities.of(scenario)
        self.made: dict[str, list[str]] = {f: [] for f in FAMILIES}
        """The keys each collector makes."""
        products, vendors, holders = w.products.ids, w.vendor_ids, w.holder_ids
        self.products_at = self._at(
            "products", [[f"{v}@{p}" for p in products] for v in PRODUCT_VARIABLES]
        )
        self.vendors_at = self._at(
            "vendors", [[f"{v}@{d}" for d in vendors] for v in VENDOR_VARIABLES], flat=True
        )
        self.market_at = self._at("market", list(MARKET_KEYS))
        inc = vendors[w.incumbent] if w.incumbent >= 0 else None
        self.incumbent_at = np.array(
            [self.position[f"{v}@{inc}"] for v in INCUMBENT_VARIABLES] if inc is not None else [],
            dtype=np.int64,
        )
        """The incumbent vendor's revenue, COGS, margin, units and H100e delivered (empty:
        no incumbent; the ``market`` collector then reads zeros)."""
        self.holders_at = self._at(
            "firms", [[f"{v}@{h}" for h in holders] for v in HOLDER_VARIABLES], flat=True
        )
        pairs = ent.firm_vendors
        self.firm_vendors_at = self._at(
            "firms",
            [
                [f"deliveries_units@{f}:{v}" for f, v in pairs],
                [f"deliveries_h100e@{f}:{v}" for f, v in pairs],
            ],
            flat=True,
        )
        holder_index = {h: i for i, h in enumerate(holders)}
        vendor_index = {v: i for i, v in enumerate(vendors)}
        self.firm_vendor_cells = np.array(
            [holder_index[f] * len(vendors) + vendor_index[v] for f, v in pairs], dtype=np.int64
        )
        """Cells of the accounts' [holder * vendors + vendor] deliveries, in key order."""
        groups = list(ent.groups)
        self.groups_at = self._at(
            "groups", [[f"{v}@{g}" for g in groups] for v in GROUP_VARIABLES], flat=True
        )
        self.startup_group = groups.index(CLASS_IDS[STARTUP_CLASS])
        """The startups' group: its values come from the population, not the holders."""
        self.group_members, self.group_largest = self._group_members(w, groups)
        """Each group's holders; N for the groups of the N largest firms by installed
        compute (ranked each week)."""
        self.classes_quoted_at = self._at(
            "classes",
            [[f"lead_time_weeks_{q}@{c}" for q in ("median", "p90")] for c in CLASS_IDS],
            flat=True,
        )
        self.classes_realised_at = self._at(
            "classes",
            [[f"realised_lead_time_weeks_{q}@{c}" for q in ("median", "p90")] for c in CLASS_IDS],
            flat=True,
        )
        self.classes_price_at = self._at(
            "classes", [f"effective_price_usd_per_h100e@{c}" for c in CLASS_IDS]
        )
        self.classes_share_at = self._at("classes", [f"delivery_share_pct@{c}" for c in CLASS_IDS])
        self.concentration_at = self._at("concentration", list(CONCENTRATION_KEYS))
        ref = products[w.reference_product]
        self.markets_at = self._at(
            "markets",
            [
                f"spot_price_usd@{ref}",
                f"rental_usd_per_gpu_hour@{ref}",
                "spot_premium_pct",
                "gray_volume_h100e",
                "rental_volume_h100e",
            ],
        )
        nodes = scenario.supply.nodes
        self.nodes_at = self._at(
            "nodes",
            [
                [f"capacity_per_week@{n.id}" for n in nodes],
                [f"utilisation_pct@{n.id}" for n in nodes],
                [f"output_{n.unit}@{n.id}" for n in nodes],
                [f"capacity_ordered@{n.id}" for n in nodes],
            ],
            flat=True,
        )
        self.wafer_nodes = np.array(
            [i for i, n in enumerate(nodes) if n.unit == "wafers"], dtype=np.int64
        )
        """The nodes whose unit is wafers (their capacity is also recorded per month)."""
        self.wafers_per_month_at = self._at(
            "nodes", [f"capacity_wafers_per_month@{n.id}" for n in nodes if n.unit == "wafers"]
        )
        # node_output is [vendor, node]; its transpose, flattened, is node-major
        self.node_vendors_at = self._at(
            "nodes", [f"output_{n.unit}@{n.id}:{v}" for n in nodes for v in vendors]
        )
        self.startups_at = self._at("startups", list(STARTUP_KEYS))
        self._check(keys)

    def _at(self, family: str, names: list[Any], flat: bool = False) -> np.ndarray:
        """The positions of ``names`` (a list, or a list of lists of equal length) in the
        row, in their shape (``flat``: flattened, for a kernel); ``family`` makes them."""
        nested = bool(names) and isinstance(names[0], list)
        keys = [k for part in names for k in part] if nested else names
        self.made[family] += keys
        at = np.array([self.position.get(k, -1) for k in keys], dtype=np.int64)
        return at.reshape(len(names), -1) if nested and not flat else at

    def _group_members(self, w: World, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """[group, most members]: each listed group's holders in the order its sums add
        them, padded with -1; and [group]: N for a group of the N largest firms, else
        0 (the startups' group has neither)."""
        members = np.full((len(groups), max(map(len, w.groups.values()), default=0)), -1)
        largest = np.zeros(len(groups), dtype=np.int64)
        for g, name in enumerate(groups):
            if name in w.largest_groups:
                largest[g] = w.largest_groups[name]
            elif g != self.startup_group:
                idx = w.groups[name]
                members[g, : len(idx)] = idx
        return members.astype(np.int64), largest

    def _check(self, keys: Sequence[str]) -> None:
        made = [k for f in FAMILIES for k in self.made[f]]
        if len(made) != len(keys) or set(made) != set(keys) or len(set(made)) != len(made):
            extra = sorted(set(made) - set(keys))
            missing = sorted(set(keys) - set(made))
            twice = sorted({k for k in made if made.count(k) > 1})
            raise RuntimeError(
                f"outcomes not in the catalogue: {extra}; not computed: {missing}; "
                f"computed twice: {twice}"
            )

    def families_for(self, keys: Sequence[str]) -> tuple[str, ...]:
        """The collectors a run that records ``keys`` runs, in order: those that make
        one of them, those they read (``FAMILY_NEEDS``), and ``firms`` (the firms'
        record)."""
        wanted = set(keys)
        need = {f for f, made in self.made.items() if wanted.intersection(made)} | {"firms"}
        need |= {d for f in need for d in FAMILY_NEEDS.get(f, ())}
        return tuple(f for f in FAMILIES if f in need)
