"""The metric catalogue: every weekly outcome a run records, declared once.

A metric key is ``name`` or ``name@selector`` (shared/data/README.md). Each
:class:`Metric` names one ``name`` with one kind of selector (a product, a vendor, a
firm, a buyer class or group, a supply node, a node's vendor, a firm's vendor), its unit,
its kind and what it means. The model's recorder, the facts reduction, the sweep files'
checks, the reports' labels, ``market-sim metrics`` and docs/metrics.md all read it.

Kinds say how a weekly series is reduced over a window (docs/facts.md): a ``flow`` is
summed, a ``level`` averaged, a ``stock`` read at the window's end, and a ``ratio`` is
computed from the sums of its components (:class:`Ratio`), never averaged. ``input``
names appear only in facts files (bill-of-materials figures); no run records them. A
name has one kind whatever its selector.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from market_sim.scenario.schema import BUYER_ROLES, CLASS_IDS, Scenario, VendorSpec

Kind = Literal["flow", "level", "stock", "ratio", "input"]
KINDS: tuple[str, ...] = ("flow", "level", "stock", "ratio", "input")

# selector kinds: what follows the '@' of a key
MARKET = ""  # no selector: the whole market
PRODUCT = "PRODUCT"
VENDOR = "VENDOR"
FIRM = "FIRM"  # a firm (scenario buyer agent)
GROUP = "GROUP"  # a buyer class or a group of firms (outcomes.groups)
CLASS = "CLASS"  # a buyer class
NODE = "NODE"  # a supply node
NODE_VENDOR = "NODE:VENDOR"
FIRM_VENDOR = "FIRM:VENDOR"
REFERENCE = "REFERENCE_PRODUCT"  # the scenario's reference product
SELECTORS = (MARKET, PRODUCT, VENDOR, FIRM, GROUP, CLASS, NODE, NODE_VENDOR, FIRM_VENDOR, REFERENCE)


@dataclass(frozen=True)
class Ratio:
    """A ratio metric's rule: ``scale x sum(num) / sum(den)`` over a window (``scale x
    (1 - ...)`` with ``complement``). ``num`` and ``den`` are metric keys in which
    ``{sel}`` stands for the ratio key's selector and ``{node}`` for its part before a
    ``:`` (``node:vendor`` selectors)."""

    num: str
    den: str
    scale: float = 100.0
    complement: bool = False

    def components(self, selector: str | None) -> tuple[str, str]:
        sel = selector or ""
        node = sel.split(":", 1)[0]
        return self.num.format(sel=sel, node=node), self.den.format(sel=sel, node=node)


@dataclass(frozen=True)
class Metric:
    """One metric name with one kind of selector.

    ``unit`` is one of :data:`UNITS`; ``node_unit`` limits a node metric to nodes whose
    ``unit`` (wafers, stacks) matches; ``ratio`` is the rule of a ``ratio`` kind.
    """

    name: str
    selector: str
    unit: str
    kind: Kind
    label: str
    description: str
    family: str
    ratio: Ratio | None = None
    node_unit: str | None = None

    @property
    def pattern(self) -> str:
        """The key with its selector kind spelled out, e.g. ``deliveries_units@PRODUCT``."""
        return f"{self.name}@{self.selector}" if self.selector else self.name


UNITS = {
    "weeks": "weeks",
    "usd": "USD",
    "usd_bn": "USD bn",
    "usd_per_h100e": "USD per H100e",
    "usd_per_gpu_hour": "USD per H100e-hour",
    "units": "units (accelerators)",
    "h100e": "H100-equivalents",
    "pct": "percent",
    "ratio": "ratio",
    "index": "index (HHI, 0-10,000)",
    "gini": "Gini coefficient (0-1)",
    "count": "count",
    "wafers": "wafers",
    "stacks": "HBM stacks",
    "node_units": "node units (wafers or stacks)",
    "node_units_per_week": "node units per week",
    "wafers_per_month": "wafers per month",
    "factor": "factor",
}
"""Unit codes and their meaning."""


def _m(name, selector, unit, kind, label, description, family, ratio=None, node_unit=None):
    return Metric(name, selector, unit, kind, label, description, family, ratio, node_unit)


CATALOGUE: tuple[Metric, ...] = (
    # ---- products (one of each per product)
    _m("lead_time_weeks", PRODUCT, "weeks", "level", "Quoted lead time",
       "lead time quoted this week for a new standard order (outcomes.standard_tier)",
       "products"),
    _m("list_price_usd", PRODUCT, "usd", "level", "List price", "vendor's list price per unit",
       "products"),
    _m("unit_cost_usd", PRODUCT, "usd", "level", "Unit cost",
       "full unit cost incl. HBM (the scenario's)", "products"),
    _m("price_to_cost_ratio", PRODUCT, "ratio", "level", "Price over cost",
       "list price over unit cost", "products"),
    _m("deliveries_units", PRODUCT, "units", "flow", "Deliveries",
       "units delivered to buyers this week (primary market)", "products"),
    _m("demand_units", PRODUCT, "units", "flow", "Orders", "units ordered this week",
       "products"),
    _m("backlog_units", PRODUCT, "units", "stock", "Backlog",
       "open orders after the week's deliveries and cancellations", "products"),
    _m("inventory_units", PRODUCT, "units", "stock", "Inventory",
       "finished units the vendor holds unsold", "products"),
    _m("output_units", PRODUCT, "units", "flow", "Output",
       "finished units that left the production pipeline this week", "products"),
    _m("started_units", PRODUCT, "units", "flow", "Starts", "units started this week",
       "products"),
    # ---- vendors
    _m("deliveries_units", VENDOR, "units", "flow", "Deliveries",
       "units the vendor delivered this week", "vendors"),
    _m("deliveries_h100e", VENDOR, "h100e", "flow", "Deliveries (H100e)",
       "compute the vendor delivered this week", "vendors"),
    _m("revenue_usd_bn", VENDOR, "usd_bn", "flow", "Revenue",
       "accelerator sales plus attached (networking, systems) revenue this week", "vendors"),
    _m("cogs_usd_bn", VENDOR, "usd_bn", "flow", "Cost of goods",
       "cost of the units sold, of attached revenue and fixed cost of goods this week",
       "vendors"),
    _m("gross_margin_pct", VENDOR, "pct", "ratio", "Gross margin",
       "1 - cost of goods / revenue (the last week's value when nothing was sold)", "vendors",
       Ratio("cogs_usd_bn@{sel}", "revenue_usd_bn@{sel}", complement=True)),
    _m("backlog_units", VENDOR, "units", "stock", "Backlog",
       "open orders for the vendor's products", "vendors"),
    _m("implied_asp_usd", VENDOR, "usd", "ratio", "Implied average selling price",
       "revenue over units delivered (USD per unit; the last week's value when nothing "
       "was delivered)", "vendors",
       Ratio("revenue_usd_bn@{sel}", "deliveries_units@{sel}", scale=1e9)),
    # ---- market totals and the incumbent
    _m("nvidia_dc_revenue_usd_bn", MARKET, "usd_bn", "flow", "Incumbent revenue",
       "revenue of the incumbent vendor (outcomes.incumbent_vendor) this week", "market"),
    _m("nvidia_cogs_usd_bn", MARKET, "usd_bn", "flow", "Incumbent cost of goods",
       "the incumbent's cost of goods this week", "market"),
    _m("nvidia_gross_margin_pct", MARKET, "pct", "ratio", "Incumbent gross margin",
       "1 - the incumbent's cost of goods / its revenue", "market",
       Ratio("nvidia_cogs_usd_bn", "nvidia_dc_revenue_usd_bn", complement=True)),
    _m("nvidia_unit_share_pct", MARKET, "pct", "ratio", "Incumbent's unit share",
       "the incumbent's share of units delivered", "market",
       Ratio("incumbent_deliveries_units", "deliveries_units")),
    _m("nvidia_new_compute_share_pct", MARKET, "pct", "ratio", "Incumbent's compute share",
       "the incumbent's share of H100e delivered", "market",
       Ratio("incumbent_deliveries_h100e", "deliveries_h100e")),
    _m("nvidia_installed_share_pct", MARKET, "pct", "stock", "Incumbent's installed share",
       "the incumbent's share of the H100e bought in the run", "market"),
    _m("incumbent_deliveries_units", MARKET, "units", "flow", "Incumbent deliveries",
       "units the incumbent delivered this week", "market"),
    _m("incumbent_deliveries_h100e", MARKET, "h100e", "flow", "Incumbent deliveries (H100e)",
       "compute the incumbent delivered this week", "market"),
    _m("deliveries_units", MARKET, "units", "flow", "Deliveries",
       "units delivered this week, all vendors", "market"),
    _m("deliveries_h100e", MARKET, "h100e", "flow", "Deliveries (H100e)",
       "compute delivered this week, all vendors", "market"),
    _m("backlog_units", MARKET, "units", "stock", "Backlog", "open orders, all products",
       "market"),
    _m("installed_h100e", MARKET, "h100e", "stock", "Installed compute",
       "compute in service: firms (legacy and bought) and startups' own", "market"),
    # ---- firms
    _m("deliveries_units", FIRM, "units", "flow", "Deliveries",
       "units the firm received this week (primary market)", "firms"),
    _m("deliveries_h100e", FIRM, "h100e", "flow", "Deliveries (H100e)",
       "compute the firm received this week (primary market)", "firms"),
    _m("installed_units", FIRM, "units", "stock", "Units held",
       "units bought in the run that the firm holds", "firms"),
    _m("installed_h100e", FIRM, "h100e", "stock", "Installed compute",
       "compute in service (legacy plus bought)", "firms"),
    _m("compute_share_pct", FIRM, "pct", "stock", "Share of compute",
       "the firm's share of installed H100e", "firms"),
    _m("capex_usd_bn", FIRM, "usd_bn", "flow", "Spending",
       "accelerator purchases and program outlays this week", "firms"),
    _m("expected_lead_weeks", FIRM, "weeks", "level", "Expected lead time",
       "the lead time the firm expects (smoothed quotes)", "firms"),
    _m("open_orders_h100e", FIRM, "h100e", "stock", "Open orders",
       "compute on order, not yet delivered", "firms"),
    _m("deliveries_units", FIRM_VENDOR, "units", "flow", "Deliveries by vendor",
       "units one firm received from one vendor this week", "firms"),
    _m("deliveries_h100e", FIRM_VENDOR, "h100e", "flow", "Deliveries by vendor (H100e)",
       "compute one firm received from one vendor this week", "firms"),
    # ---- buyer classes and groups
    _m("deliveries_units", GROUP, "units", "flow", "Deliveries",
       "units the class or group received this week", "groups"),
    _m("installed_h100e", GROUP, "h100e", "stock", "Installed compute",
       "compute the class or group holds (startups: owned)", "groups"),
    _m("compute_share_pct", GROUP, "pct", "stock", "Share of compute",
       "the class's or group's share of installed H100e (a {largest = N} group: the N "
       "firms with the most compute that week)", "groups"),
    _m("lead_time_weeks_median", CLASS, "weeks", "level", "Quoted lead time (median)",
       "median quoted lead time of the class's open orders, weighted by units", "classes"),
    _m("lead_time_weeks_p90", CLASS, "weeks", "level", "Quoted lead time (p90)",
       "90th percentile of the class's quoted lead times", "classes"),
    _m("realised_lead_time_weeks_median", CLASS, "weeks", "level", "Realised lead time (median)",
       "median wait of the units delivered to the class this week (without deliveries: how "
       "long its open orders have waited so far)", "classes"),
    _m("realised_lead_time_weeks_p90", CLASS, "weeks", "level", "Realised lead time (p90)",
       "90th percentile of those waits", "classes"),
    _m("effective_price_usd_per_h100e", CLASS, "usd_per_h100e", "level", "Effective price",
       "what the class paid per H100e delivered this week (carried forward without "
       "purchases; from the reference list price)", "classes"),
    _m("delivery_share_pct", CLASS, "pct", "ratio", "Share of deliveries",
       "the class's share of units delivered", "classes",
       Ratio("deliveries_units@{sel}", "deliveries_units")),
    _m("new_compute_share_pct", GROUP, "pct", "ratio", "Share of new compute",
       "share of H100e delivered (facts only: computed from deliveries)", "facts",
       Ratio("deliveries_h100e@{sel}", "deliveries_h100e")),
    # ---- concentration and alternative chips
    _m("hhi_compute", MARKET, "index", "stock", "HHI of compute",
       "Herfindahl-Hirschman index of installed H100e (each firm, each startup)", "market"),
    _m("gini_compute", MARKET, "gini", "stock", "Gini of compute access",
       "Gini coefficient of compute in use (firms' installed, active startups' owned and "
       "rented)", "market"),
    _m("top4_share_pct", MARKET, "pct", "stock", "Top-4 share",
       "share of installed H100e held by the four largest holders", "market"),
    _m("alt_chip_deliveries_h100e", MARKET, "h100e", "flow", "Alternative chips delivered",
       "H100e delivered this week by vendors other than the incumbent", "market"),
    _m("in_house_deliveries_h100e", MARKET, "h100e", "flow", "In-house chips delivered",
       "H100e delivered this week by in-house programs", "market"),
    _m("alt_chip_share_pct", MARKET, "pct", "ratio", "Alternative chips' share",
       "share of H100e delivered by vendors other than the incumbent", "market",
       Ratio("alt_chip_deliveries_h100e", "deliveries_h100e")),
    _m("alt_chip_installed_share_pct", MARKET, "pct", "stock", "Alternative chips installed",
       "share of the H100e bought in the run that is not the incumbent's", "market"),
    _m("in_house_share_pct", MARKET, "pct", "ratio", "In-house share",
       "share of H100e delivered by in-house programs", "market",
       Ratio("in_house_deliveries_h100e", "deliveries_h100e")),
    # ---- secondary and rental markets
    _m("spot_price_usd", REFERENCE, "usd_per_h100e", "level", "Gray-market price",
       "price of one H100e on the gray market (the last trade's)", "markets"),
    _m("rental_usd_per_gpu_hour", REFERENCE, "usd_per_gpu_hour", "level", "Rental price",
       "price of renting one H100e for an hour (the last trade's)", "markets"),
    _m("spot_premium_pct", MARKET, "pct", "level", "Gray-market premium",
       "gray-market price over the reference list price per H100e, minus 1", "markets"),
    _m("gray_volume_h100e", MARKET, "h100e", "flow", "Gray-market volume",
       "H100e traded on the gray market this week", "markets"),
    _m("rental_volume_h100e", MARKET, "h100e", "flow", "Rental volume",
       "H100e rented this week (H100e-weeks)", "markets"),
    # ---- supply nodes
    _m("capacity_per_week", NODE, "node_units_per_week", "level", "Capacity",
       "the node's capacity this week (scheduled, expansions, outages)", "nodes"),
    _m("utilisation_pct", NODE, "pct", "level", "Utilisation",
       "share of capacity in use (reserved customers count as using theirs)", "nodes"),
    _m("output_wafers", NODE, "wafers", "flow", "Output", "wafers used this week", "nodes",
       node_unit="wafers"),
    _m("output_stacks", NODE, "stacks", "flow", "Output", "HBM stacks used this week", "nodes",
       node_unit="stacks"),
    _m("capacity_ordered", NODE, "node_units_per_week", "stock", "Capacity ordered",
       "capacity added by endogenous expansion decisions so far (arrives after the lag)",
       "nodes"),
    _m("capacity_wafers_per_month", NODE, "wafers_per_month", "level", "Capacity (monthly)",
       "the node's capacity in wafers a month", "nodes", node_unit="wafers"),
    _m("output_wafers", NODE_VENDOR, "wafers", "flow", "Output by vendor",
       "wafers used for one vendor this week", "nodes", node_unit="wafers"),
    _m("output_stacks", NODE_VENDOR, "stacks", "flow", "Output by vendor",
       "HBM stacks used for one vendor this week", "nodes", node_unit="stacks"),
    _m("capacity_share_pct", NODE_VENDOR, "pct", "ratio", "Share of node output",
       "a vendor's share of a node's output (facts only: node:vendor, node:a+b)", "facts",
       Ratio("output_wafers@{sel}", "output_wafers@{node}")),
    # ---- startups and production stocks
    _m("startups_active", MARKET, "count", "stock", "Active startups",
       "startups in business", "startups"),
    _m("startups_starved", MARKET, "count", "stock", "Starved startups",
       "active startups with less compute than starve_threshold of their need", "startups"),
    _m("startups_exited", MARKET, "count", "stock", "Exited startups",
       "startups that have exited so far", "startups"),
    _m("startups_entered", MARKET, "count", "stock", "Entered startups",
       "startups that have entered so far (the initial population included)", "startups"),
    _m("startups_compute_h100e", MARKET, "h100e", "stock", "Startups' compute",
       "compute active startups use this week (owned and rented)", "startups"),
    _m("startups_owned_h100e", MARKET, "h100e", "stock", "Startups' own compute",
       "compute startups own", "startups"),
    _m("startups_rented_h100e", MARKET, "h100e", "stock", "Startups' rented compute",
       "compute startups rent this week", "startups"),
    _m("units_in_pipeline", MARKET, "units", "stock", "In production",
       "units started and not finished, all products", "startups"),
    _m("units_inventory", MARKET, "units", "stock", "Inventory",
       "finished units unsold, all products", "startups"),
    _m("in_house_programs_started", MARKET, "count", "stock", "In-house programs started",
       "in-house programs started by make-or-buy or an event so far", "startups"),
    # ---- facts-only names (figures about inputs; no run records them)
    _m("capex_usd_bn", MARKET, "usd_bn", "flow", "Capital spending",
       "capital expenditure (facts only)", "facts"),
    _m("packages_per_wafer", MARKET, "count", "input", "Packages per wafer",
       "bill of materials (facts only)", "facts"),
    _m("dies_per_wafer", MARKET, "count", "input", "Dies per wafer",
       "bill of materials (facts only)", "facts"),
    _m("good_dies_per_wafer", MARKET, "count", "input", "Good dies per wafer",
       "bill of materials (facts only)", "facts"),
    _m("cycle_time_weeks", MARKET, "weeks", "input", "Cycle time",
       "production timing (facts only)", "facts"),
)  # fmt: skip
"""Every metric, in the order its columns appear in a run's weekly frame."""

RECORDED_FAMILIES = (
    "products",
    "vendors",
    "market",
    "firms",
    "groups",
    "classes",
    "markets",
    "nodes",
    "startups",
)
"""Families a run records (``facts``: names that appear only in facts files)."""


class UnknownMetric(KeyError):
    """A metric name the catalogue does not declare."""

    def __str__(self) -> str:
        return str(self.args[0])


def _kinds() -> dict[str, str]:
    out: dict[str, str] = {}
    for m in CATALOGUE:
        out.setdefault(m.name, m.kind)
    return out


_KIND_OF = _kinds()
_BY_NAME: dict[str, list[Metric]] = {}
for _metric in CATALOGUE:
    _BY_NAME.setdefault(_metric.name, []).append(_metric)


def names() -> tuple[str, ...]:
    """Every declared metric name."""
    return tuple(_KIND_OF)


def kind_of(name: str) -> str:
    """The kind of a metric name (or of a whole ``name@selector`` key).

    Raises :class:`UnknownMetric` for a name the catalogue does not declare.
    """
    base = name.split("@", 1)[0]
    try:
        return _KIND_OF[base]
    except KeyError:
        raise UnknownMetric(f"unknown metric name '{base}'; see `market-sim metrics`") from None


def metrics_named(name: str) -> list[Metric]:
    """The catalogue's entries for a metric name (one per selector kind)."""
    return list(_BY_NAME.get(name.split("@", 1)[0], []))


def ratio_of(name: str, selector: str | None) -> Ratio | None:
    """The rule of a ratio metric for a selector (None: not a ratio, or no entry for that
    kind of selector)."""
    for m in _BY_NAME.get(name, []):
        if m.ratio is None:
            continue
        if (m.selector == MARKET) == (selector is None):
            return m.ratio
    return None


# --------------------------------------------------------------------------- keys of a run


@dataclass(frozen=True)
class Entities:
    """The ids a scenario's keys are made of."""

    products: tuple[str, ...]
    vendors: tuple[str, ...]
    firms: tuple[str, ...]
    groups: tuple[str, ...]  # the buyer classes, then the scenario's outcomes.groups
    classes: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]  # (id, unit)
    firm_vendors: tuple[tuple[str, str], ...]  # (firm, vendor) pairs a firm may buy from
    reference: str

    @classmethod
    def of(cls, scenario: Scenario) -> Entities:
        vendors = [a for a in scenario.agents if isinstance(a, VendorSpec)]
        firms = [a.id for a in scenario.agents if a.role in BUYER_ROLES]
        ref = scenario.outcomes.reference_product or scenario.products[0].id
        pairs = []
        for firm in firms:
            for v in vendors:  # an in-house program serves its owner only
                if v.owner is None or v.owner == firm:
                    pairs.append((firm, v.id))
        return cls(
            products=tuple(p.id for p in scenario.products),
            vendors=tuple(v.id for v in vendors),
            firms=tuple(firms),
            groups=(*CLASS_IDS, *scenario.outcomes.groups),
            classes=CLASS_IDS,
            nodes=tuple((n.id, n.unit) for n in scenario.supply.nodes),
            firm_vendors=tuple(pairs),
            reference=ref,
        )


def family_keys(family: str, ent: Entities) -> list[str]:
    """The keys of one family, entity by entity (each entity's metrics in catalogue
    order)."""
    metrics = [m for m in CATALOGUE if m.family == family]
    out: list[str] = []
    by_sel: dict[str, list[Metric]] = {}
    for m in metrics:
        by_sel.setdefault(m.selector, []).append(m)
    for selector, group in by_sel.items():
        out += list(_expand(selector, group, ent))
    return out


def _expand(selector: str, metrics: list[Metric], ent: Entities) -> Iterator[str]:
    if selector == MARKET:
        yield from (m.name for m in metrics)
    elif selector == REFERENCE:
        yield from (f"{m.name}@{ent.reference}" for m in metrics)
    elif selector == NODE:
        for node, unit in ent.nodes:
            for m in metrics:
                if m.node_unit in (None, unit):
                    yield f"{m.name}@{node}"
    elif selector == NODE_VENDOR:
        for node, unit in ent.nodes:
            for m in metrics:
                if m.node_unit in (None, unit):
                    yield from (f"{m.name}@{node}:{v}" for v in ent.vendors)
    elif selector == FIRM_VENDOR:
        for m in metrics:
            yield from (f"{m.name}@{f}:{v}" for f, v in ent.firm_vendors)
    else:
        ids = {
            PRODUCT: ent.products,
            VENDOR: ent.vendors,
            FIRM: ent.firms,
            GROUP: ent.groups,
            CLASS: ent.classes,
        }[selector]
        for i in ids:
            yield from (f"{m.name}@{i}" for m in metrics)


def metric_keys(scenario: Scenario) -> list[str]:
    """Every weekly column a run of this scenario records, in frame order (no model is
    built)."""
    ent = Entities.of(scenario)
    out: list[str] = []
    for family in RECORDED_FAMILIES:
        out += family_keys(family, ent)
    return out


def describe(key: str, entities: Entities | None = None) -> Metric | None:
    """The catalogue entry a key belongs to (None: unknown name or selector kind).

    Without ``entities`` a name used with several selector kinds resolves to the first
    that fits the selector's shape; with them, to the kind the selector's id is.
    """
    name, _, sel = key.partition("@")
    entries = _BY_NAME.get(name, [])
    kinds = _selector_kinds(sel, entities)
    for m in entries:
        if m.selector in kinds:
            return m
    return None


def _selector_kinds(sel: str, ent: Entities | None) -> tuple[str, ...]:
    if not sel:
        return (MARKET,)
    if ":" in sel:
        if ent is None:
            return (NODE_VENDOR, FIRM_VENDOR)
        head = sel.split(":", 1)[0]
        return (NODE_VENDOR,) if head in dict(ent.nodes) else (FIRM_VENDOR,)
    if ent is None:
        return (PRODUCT, VENDOR, FIRM, GROUP, CLASS, NODE, REFERENCE)
    kinds = []
    if sel in ent.products:
        kinds.append(PRODUCT)
    if sel == ent.reference:
        kinds.append(REFERENCE)
    if sel in ent.vendors:
        kinds.append(VENDOR)
    if sel in ent.firms:
        kinds.append(FIRM)
    if sel in ent.classes:
        kinds.append(CLASS)
    if sel in ent.groups:
        kinds.append(GROUP)
    if sel in dict(ent.nodes):
        kinds.append(NODE)
    return tuple(kinds)


def label_of(key: str) -> str:
    """A short label for a key: the metric's label and its selector."""
    m = describe(key)
    if m is None:
        return key
    sel = key.partition("@")[2]
    return f"{m.label} ({sel})" if sel else m.label


def search(words: Iterable[str] = ()) -> list[Metric]:
    """Catalogue entries whose name, pattern, label or description contains every word
    (case-insensitive; ``*`` and ``?`` match as in file names)."""
    out = []
    for m in CATALOGUE:
        text = " ".join((m.pattern, m.label, m.description, m.unit, m.kind, m.family)).lower()
        ok = True
        for w in words:
            w = w.lower()
            ok &= (
                (w in text)
                if not any(c in w for c in "*?[")
                else any(fnmatch.fnmatch(t, w) for t in text.split())
            )
        if ok:
            out.append(m)
    return out


def markdown() -> str:
    """docs/metrics.md: the catalogue as tables, one per family."""
    lines = [
        "# Metric catalogue",
        "",
        "<!-- generated from market_sim/outcomes/catalogue.py by `market-sim metrics "
        "--markdown`; do not edit -->",
        "",
        "Every weekly column a run records (`timeseries.parquet`), and the names facts files",
        "may use besides. A key is `name` or `name@selector`; the selector kinds are",
        "`PRODUCT`, `VENDOR`, `FIRM` (a buyer agent), `CLASS` (a buyer class: "
        + ", ".join(f"`{c}`" for c in CLASS_IDS)
        + "), `GROUP` (a class or one of the scenario's `outcomes.groups`), `NODE`, "
        "`NODE:VENDOR`, `FIRM:VENDOR` and `REFERENCE_PRODUCT` (the scenario's "
        "`outcomes.reference_product`). Kinds say how a series is reduced over a window "
        "(docs/facts.md): a flow is summed, a level averaged, a stock read at the end, a "
        "ratio computed from the sums of its components.",
        "",
        "The `nvidia_*` names keep the facts vocabulary's spelling; they measure the "
        "scenario's `outcomes.incumbent_vendor`.",
        "",
        "Units: " + "; ".join(f"`{k}` {v}" for k, v in UNITS.items()) + ".",
        "",
    ]
    for family in (*RECORDED_FAMILIES, "facts"):
        lines += [f"## {family}", "", "| key | unit | kind | meaning |", "|---|---|---|---|"]
        for m in CATALOGUE:
            if m.family != family:
                continue
            meaning = m.description
            if m.ratio is not None:
                num, den = m.ratio.components("SEL")
                rule = f"1 - {num} / {den}" if m.ratio.complement else f"{num} / {den}"
                meaning += f"; ratio of sums: {m.ratio.scale:g} x {rule}"
            if m.node_unit:
                meaning += f" ({m.node_unit} nodes)"
            lines.append(f"| `{m.pattern}` | {m.unit} | {m.kind} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
