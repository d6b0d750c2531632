"""Weekly outcomes, named by the metric keys of shared/data/README.md (the measures they
use, weighted quantiles and concentration, are in :mod:`market_sim.outcomes.measures`).

Concentration: ``compute_share_pct@X``, ``top4_share_pct`` and ``hhi_compute`` measure
ownership of installed H100e (each firm, each startup); ``gini_compute`` measures access:
firms' installed compute and each active startup's compute in use (owned plus rented).

Every value is finite: a quantity undefined in a week carries its last value forward,
starting from a stated default (an effective price without purchases: the reference list
price per H100e). A realised lead time in a week without deliveries to a class is how long
that class's open orders have waited so far (a lower bound on what they will wait); with
neither deliveries nor open orders it carries forward (from 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from market_sim.agents.startup_kernels import population_summary
from market_sim.model.world import CLASSES, STARTUP_CLASS
from market_sim.outcomes.measures import QS, class_week_quantiles, gini, hhi_of_parts, top_share

GROUPS = ("hyperscalers", "enterprises", "neoclouds", "startups", "big4", "top5")


# --------------------------------------------------------------------------- keys


def metric_keys(model: Any) -> list[str]:
    """Every column of the weekly frame, in order (fixed when the model is built)."""
    w = model.world
    keys: list[str] = []
    for p in w.products.ids:
        keys += [f"{name}@{p}" for name in _PRODUCT_VARS]
    for v in w.vendor_ids:
        keys += [f"{name}@{v}" for name in _VENDOR_VARS]
    keys += [
        "nvidia_dc_revenue_usd_bn",
        "nvidia_cogs_usd_bn",
        "nvidia_gross_margin_pct",
        "nvidia_unit_share_pct",
        "nvidia_new_compute_share_pct",
        "nvidia_installed_share_pct",
        "deliveries_units",
        "deliveries_h100e",
        "backlog_units",
        "installed_h100e",
    ]
    for h in w.holder_ids:
        keys += [f"{name}@{h}" for name in _HOLDER_VARS]
    for g in GROUPS:
        keys += [f"deliveries_units@{g}", f"installed_h100e@{g}", f"compute_share_pct@{g}"]
    for c in CLASSES:
        keys += [
            f"{name}@{c}"
            for name in (
                "lead_time_weeks_median",
                "lead_time_weeks_p90",
                "realised_lead_time_weeks_median",
                "realised_lead_time_weeks_p90",
                "effective_price_usd_per_h100e",
                "delivery_share_pct",
            )
        ]
    keys += [
        "hhi_compute",
        "gini_compute",
        "top4_share_pct",
        "alt_chip_share_pct",
        "alt_chip_installed_share_pct",
        "in_house_share_pct",
        "spot_price_usd@H100",
        "rental_usd_per_gpu_hour@H100",
        "spot_premium_pct",
        "gray_volume_h100e",
        "rental_volume_h100e",
    ]
    for node in model.scenario.supply.nodes:
        unit = node.unit
        keys += [
            f"capacity_per_week@{node.id}",
            f"utilisation_pct@{node.id}",
            f"output_{unit}@{node.id}",
            f"capacity_ordered@{node.id}",
        ]
        if unit == "wafers":
            keys.append(f"capacity_wafers_per_month@{node.id}")
        keys += [f"output_{unit}@{node.id}:{v}" for v in w.vendor_ids]
    keys += [
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
    ]
    return keys


# --------------------------------------------------------------------------- values


class Recorder:
    """Phase 7: the week's outcomes, keyed by :func:`metric_keys`."""

    def __init__(self, model: Any):
        self.model = model
        self.keys = metric_keys(model)
        self.table = _keys(model)

    def collect(self, week: int, prev: dict[str, float]) -> tuple[dict[str, float], np.ndarray]:
        """The week's outcomes and the holders' record ([holders, variables])."""
        return collect_metrics(self.model, week, prev, self.table)


def collect_metrics(
    model: Any, week: int, prev: dict[str, float], keys: dict[str, Any]
) -> tuple[dict[str, float], np.ndarray]:
    """The week's outcomes as a dict keyed by :func:`metric_keys`, and the holders'
    weekly record."""
    w, acc, pr = model.world, model.accounts, model.world.products
    out: dict[str, float] = {}
    backlog = model.supply.backlog_units()
    flows = model.flows
    vendors = [model.vendors[v] for v in keys["product_vendor"]]
    inventory = np.array([v.inventory[p] for p, v in enumerate(vendors)])
    started = np.array([v.started[p] for p, v in enumerate(vendors)])
    per_product = (
        model.quotes[:, 1].astype(float),
        model.list_price,
        pr.unit_cost_usd,
        model.list_price / pr.unit_cost_usd,
        acc.deliveries_product,
        flows.new_orders,
        backlog,
        inventory,
        flows.arrivals,
        started,
    )
    for names, values in zip(keys["product"], per_product, strict=True):
        out.update(zip(names, values.tolist(), strict=True))
    h100e_delivered = acc.deliveries_product * pr.h100e
    total_units = float(acc.deliveries_product.sum())
    total_h100e = float(h100e_delivered.sum())
    n_v = len(model.vendors)
    by_vendor = zip(  # products' sums by vendor, each in product order
        np.bincount(pr.vendor, weights=acc.deliveries_product, minlength=n_v).tolist(),
        np.bincount(pr.vendor, weights=h100e_delivered, minlength=n_v).tolist(),
        np.bincount(pr.vendor, weights=backlog, minlength=n_v).tolist(),
        strict=True,
    )
    for v, vk, (units, h100e, waiting) in zip(
        model.vendors, keys["vendor"], by_vendor, strict=True
    ):
        rev, cogs = v.revenue_usd, v.cogs_usd
        margin = 100.0 * (1.0 - cogs / rev) if rev > 0 else prev.get(vk[4], 0.0)
        out.update(zip(vk, (units, h100e, rev / 1e9, cogs / 1e9, margin, waiting), strict=True))
    nv = w.vendor_ids[w.nvidia] if w.nvidia >= 0 else None
    out["nvidia_dc_revenue_usd_bn"] = out.get(f"revenue_usd_bn@{nv}", 0.0)
    out["nvidia_cogs_usd_bn"] = out.get(f"cogs_usd_bn@{nv}", 0.0)
    out["nvidia_gross_margin_pct"] = out.get(f"gross_margin_pct@{nv}", 0.0)
    nv_units = out.get(f"deliveries_units@{nv}", 0.0)
    nv_h100e = out.get(f"deliveries_h100e@{nv}", 0.0)
    out["nvidia_unit_share_pct"] = _pct(nv_units, total_units, prev, "nvidia_unit_share_pct")
    out["nvidia_new_compute_share_pct"] = _pct(
        nv_h100e, total_h100e, prev, "nvidia_new_compute_share_pct"
    )
    out["deliveries_units"] = total_units
    out["deliveries_h100e"] = total_h100e
    out["backlog_units"] = float(backlog.sum())

    # holdings
    installed = model.installed_h100e()
    startups = model.startups
    # an aggregate holder (many small firms) is not one firm: it counts in totals only
    aggregate = w.buyers.aggregate
    firms = np.where(aggregate, 0.0, installed)
    firms_or_none = np.where(aggregate, -1.0, installed)  # for ranking firms
    pop = population_summary(
        startups.status, startups.starved, startups.got, startups.owned, startups.rented, firms, 4
    )
    n_active, n_starved, n_exited, st_compute, st_owned, st_rented, st_squares, st_top, access = pop
    all_installed = float(installed.sum()) + st_owned
    out["installed_h100e"] = all_installed
    bought = model.fleet @ pr.h100e
    nv_products = pr.vendor == w.nvidia
    nv_bought = float((model.fleet[:, nv_products] @ pr.h100e[nv_products]).sum()) + float(
        (acc.startup_units[nv_products] * pr.h100e[nv_products]).sum()
    )
    all_bought = float(bought.sum()) + float((acc.startup_units * pr.h100e).sum())
    out["nvidia_installed_share_pct"] = 100.0 * nv_bought / all_bought if all_bought else 0.0
    holders = model.holders
    per_holder = (
        acc.deliveries_holder,
        acc.deliveries_holder_h100e,
        model.fleet.sum(axis=1),
        installed,
        100.0 * installed / all_installed,
        np.array([h.week_spend_usd for h in holders]) / 1e9,
        np.array([h.expected_lead for h in holders]),
        model.open_orders()[0],
    )
    for names, values in zip(keys["holder"], per_holder, strict=True):
        out.update(zip(names, values.tolist(), strict=True))
    holder_record = np.array(per_holder).T  # [holders, variables]; agents_frame
    st_units = float(acc.class_units[STARTUP_CLASS])
    delivered_list, installed_list = acc.deliveries_holder.tolist(), installed.tolist()
    for g in GROUPS:
        if g == "startups":
            units, inst = st_units, st_owned
        else:
            if g == "top5":  # the five largest firms by installed compute this week
                idx = np.argsort(firms_or_none, kind="stable")[::-1][:5].tolist()
            else:
                idx = keys["groups"][g]
            units = sum(delivered_list[i] for i in idx)
            inst = sum(installed_list[i] for i in idx)
        out[f"deliveries_units@{g}"] = units
        out[f"installed_h100e@{g}"] = inst
        out[f"compute_share_pct@{g}"] = 100.0 * inst / all_installed if all_installed else 0.0

    # buyer classes: quantiles of whole weeks, weighted by units, all classes at once
    book = model.book
    klass, waited, units = acc.waits
    quoted_q = class_week_quantiles(book.klass, book.lead_weeks, book.qty, len(CLASSES))
    realised_q = class_week_quantiles(klass, waited.astype(np.int64), units, len(CLASSES))
    undelivered = ~np.isfinite(realised_q).all(axis=1)
    if undelivered.any():  # how long such a class's open orders have waited so far
        waiting_q = class_week_quantiles(book.klass, week - book.order_week, book.qty, len(CLASSES))
        realised_q[undelivered] = waiting_q[undelivered]
    class_h100e, class_paid = acc.class_h100e.tolist(), acc.class_paid.tolist()
    class_units = acc.class_units.tolist()
    for c, ck in enumerate(keys["class"]):
        quoted, realised = quoted_q[c].tolist(), realised_q[c].tolist()
        for j in range(len(QS)):  # NaN (no orders, no deliveries) fails the comparison
            out[ck["quoted"][j]] = quoted[j] if quoted[j] >= 0 else 0.0
            key = ck["realised"][j]
            out[key] = realised[j] if realised[j] >= 0 else prev.get(key, 0.0)
        key = ck["price"]
        h = class_h100e[c]
        out[key] = (
            class_paid[c] / h if h > 0 else prev.get(key) or model.reference_price_per_h100e()
        )
        out[ck["share"]] = _pct(class_units[c], total_units, prev, ck["share"])

    # concentration of ownership (firms and each startup) and of access (compute in use)
    # ownership: each firm and each startup (the kernel summed over the startups)
    total = float(installed.sum()) + st_owned
    out["hhi_compute"] = hhi_of_parts(firms, st_squares, total)
    out["top4_share_pct"] = top_share(np.concatenate([firms, st_top]), 4, total)
    out["gini_compute"] = gini(access)
    in_house = pr.owner_holder >= 0
    alt = float(h100e_delivered[~nv_products].sum())
    out["alt_chip_share_pct"] = _pct(alt, total_h100e, prev, "alt_chip_share_pct")
    out["alt_chip_installed_share_pct"] = (
        100.0 - out["nvidia_installed_share_pct"] if (all_bought) else 0.0
    )
    out["in_house_share_pct"] = _pct(
        float(h100e_delivered[in_house].sum()), total_h100e, prev, "in_house_share_pct"
    )

    # markets
    out["spot_price_usd@H100"] = float(model.spot_price)
    out["rental_usd_per_gpu_hour@H100"] = float(model.rental_price)
    ref = model.reference_price_per_h100e()
    out["spot_premium_pct"] = 100.0 * (model.spot_price / ref - 1.0)
    out["gray_volume_h100e"] = float(acc.gray_volume)
    out["rental_volume_h100e"] = float(acc.rental_volume)

    # supply nodes
    chips = model.chipmakers
    capacity = np.array([c.capacity for c in chips])
    node_values = (
        capacity,
        np.array([100.0 * c.utilisation for c in chips]),
        np.array([c.used for c in chips]),
        acc.capacity_ordered,
    )
    for names, values in zip(keys["node"], node_values, strict=True):
        out.update(zip(names, values.tolist(), strict=True))
    wafer = keys["wafer_nodes"]
    out.update(zip(keys["wafers_per_month"], (capacity[wafer] * 52.0 / 12.0).tolist(), strict=True))
    out.update(zip(keys["node_vendor"], flows.node_output.T.ravel().tolist(), strict=True))

    # startups and stocks in production
    out["startups_active"] = float(n_active)
    out["startups_starved"] = float(n_starved)
    out["startups_exited"] = float(n_exited)
    out["startups_entered"] = float(startups.entered_total)
    out["startups_compute_h100e"] = st_compute
    out["startups_owned_h100e"] = st_owned
    out["startups_rented_h100e"] = st_rented
    out["units_in_pipeline"] = float(sum(sum(v.pipeline_total.values()) for v in model.vendors))
    out["units_inventory"] = float(sum(sum(v.inventory.values()) for v in model.vendors))
    out["in_house_programs_started"] = float(
        sum(1 for h in model.holders if getattr(h, "program_started", None) is not None)
    )
    return out, holder_record


_HOLDER_VARS = (
    "deliveries_units",
    "deliveries_h100e",
    "installed_units",
    "installed_h100e",
    "compute_share_pct",
    "capex_usd_bn",
    "expected_lead_weeks",
    "open_orders_h100e",
)
AGENT_VARIABLES = {
    "holders": _HOLDER_VARS,
    "vendors": ("revenue_usd", "cogs_usd", "sales_usd", "inventory_units"),
    "chipmakers": ("capacity_per_week", "used_per_week", "expansion_per_week", "utilisation"),
}
"""Per-firm variables recorded weekly (model.agents_frame), by firm group."""

_PRODUCT_VARS = (
    "lead_time_weeks",
    "list_price_usd",
    "unit_cost_usd",
    "price_to_cost_ratio",
    "deliveries_units",
    "demand_units",
    "backlog_units",
    "inventory_units",
    "output_units",
    "started_units",
)
_VENDOR_VARS = (
    "deliveries_units",
    "deliveries_h100e",
    "revenue_usd_bn",
    "cogs_usd_bn",
    "gross_margin_pct",
    "backlog_units",
)


def _keys(model: Any) -> dict[str, Any]:
    """Per-entity metric keys, built once per model (formatting ~400 keys a week costs)."""
    if True:
        w = model.world
        nodes = model.scenario.supply.nodes
        cached = {
            "product": [[f"{v}@{p}" for p in w.products.ids] for v in _PRODUCT_VARS],
            "vendor": [[f"{v}@{vid}" for v in _VENDOR_VARS] for vid in w.vendor_ids],
            "holder": [[f"{v}@{h}" for h in w.holder_ids] for v in _HOLDER_VARS],
            "node": [
                [f"capacity_per_week@{n.id}" for n in nodes],
                [f"utilisation_pct@{n.id}" for n in nodes],
                [f"output_{n.unit}@{n.id}" for n in nodes],
                [f"capacity_ordered@{n.id}" for n in nodes],
            ],
            "wafer_nodes": np.array([n.unit == "wafers" for n in nodes], dtype=bool),
            "wafers_per_month": [
                f"capacity_wafers_per_month@{n.id}" for n in nodes if n.unit == "wafers"
            ],
            # node_output is [vendor, node]; its transpose, flattened, is node-major
            "node_vendor": [f"output_{n.unit}@{n.id}:{v}" for n in nodes for v in w.vendor_ids],
            "product_vendor": w.products.vendor.tolist(),
            "groups": {g: idx.tolist() for g, idx in w.groups.items()},
            "class": [
                {
                    "quoted": [f"lead_time_weeks_{q}@{c}" for q in ("median", "p90")],
                    "realised": [f"realised_lead_time_weeks_{q}@{c}" for q in ("median", "p90")],
                    "price": f"effective_price_usd_per_h100e@{c}",
                    "share": f"delivery_share_pct@{c}",
                }
                for c in CLASSES
            ],
        }
    return cached


def _pct(part: float, total: float, prev: dict, key: str) -> float:
    """100 x part / total, or last week's value when nothing was delivered."""
    return 100.0 * part / total if total > 0 else float(prev.get(key, 0.0))
