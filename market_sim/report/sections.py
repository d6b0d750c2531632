"""The charts of the run and comparison reports, declared once.

A :class:`ChartSection` is a titled list of :class:`Chart` s; a chart names its series
(weekly columns and their legend names) for a run's scenario, through a function of the
:class:`Names` of that scenario (its reference product, buyer classes, groups, products,
vendors, firms, supply nodes). The run report draws each chart in its own style
(:mod:`market_sim.report.run_report`); the comparison report draws the same series with
every scenario overlaid (:mod:`market_sim.report.compare_report`). Adding a chart is one
entry here (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from market_sim.outcomes.catalogue import label_of
from market_sim.scenario import Scenario
from market_sim.scenario.schema import BUYER_CLASSES, BUYER_ROLES, LargestRule, VendorSpec

Series = list[tuple[str, str]]
"""(weekly column, legend name) pairs."""
ChartKind = Literal[
    "lines", "stacked", "dual", "class_quantiles", "top_firms", "quarterly", "panels"
]


@dataclass(frozen=True)
class Names:
    """The ids a scenario's charts are drawn from."""

    reference: str
    incumbent: str | None
    classes: tuple[str, ...]
    class_labels: dict[str, str]
    largest_groups: tuple[str, ...]
    listed_groups: tuple[str, ...]
    products: tuple[str, ...]
    vendors: tuple[str, ...]
    firms: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]  # (id, unit)

    @classmethod
    def of(cls, s: Scenario) -> Names:
        groups = s.outcomes.groups
        return cls(
            reference=s.outcomes.reference_product or s.products[0].id,
            incumbent=s.outcomes.incumbent_vendor,
            classes=tuple(c.id for c in BUYER_CLASSES),
            class_labels={c.id: c.label for c in BUYER_CLASSES},
            largest_groups=tuple(g for g, m in groups.items() if isinstance(m, LargestRule)),
            listed_groups=tuple(g for g, m in groups.items() if not isinstance(m, LargestRule)),
            products=tuple(p.id for p in s.products),
            vendors=tuple(a.id for a in s.agents if isinstance(a, VendorSpec)),
            firms=tuple(a.id for a in s.agents if a.role in BUYER_ROLES),
            nodes=tuple((n.id, n.unit) for n in s.supply.nodes),
        )

    @property
    def incumbent_label(self) -> str:
        return self.incumbent or "the incumbent"


@dataclass(frozen=True)
class Chart:
    """One chart: ``series(names)`` gives its lines (for ``dual``, the left axis; the
    right axis is ``right(names)``; for ``class_quantiles``, what a comparison overlays);
    ``metric`` is the column prefix of ``class_quantiles`` and ``top_firms`` charts.
    ``compare=False`` leaves it out of comparisons."""

    id: str
    title: Callable[[Names], str]
    y_title: str
    kind: ChartKind
    series: Callable[[Names], Series] = lambda n: []
    right: Callable[[Names], Series] = lambda n: []
    right_title: str = ""
    metric: str = ""
    extra: Callable[[Names], tuple[str, str]] | None = None
    """A reference line drawn over a ``class_quantiles`` chart: (column, legend name)."""
    compare: bool = True
    class_colours: bool = False
    zoom_right: bool = False
    """Fit a ``dual`` chart's right axis to its data (for a measure that moves little near
    a high level) instead of starting it at zero."""
    zoom_left: bool = False
    """The same for its left axis."""


@dataclass(frozen=True)
class ChartSection:
    id: str
    title: Callable[[Names], str]
    intro: str
    charts: tuple[Chart, ...] = field(default_factory=tuple)


def _const(text: str) -> Callable[[Names], str]:
    return lambda n: text


def _by_class(metric: str) -> Callable[[Names], Series]:
    return lambda n: [(f"{metric}@{c}", n.class_labels[c]) for c in n.classes]


def _shares(n: Names) -> Series:
    out = [(f"compute_share_pct@{g}", f"{g} (largest firms)") for g in n.largest_groups]
    out.append(("top4_share_pct", "top 4 holders"))
    out += [(f"compute_share_pct@{g}", g) for g in n.listed_groups]
    out += [(f"compute_share_pct@{c}", n.class_labels[c]) for c in ("neoclouds", "startups")]
    return out


def _labelled(keys: list[str]) -> Series:
    return [(k, label_of(k)) for k in keys]


SECTIONS: tuple[ChartSection, ...] = (
    ChartSection(
        "prices",
        _const("Prices"),
        "Spot is the gray-market resale price; rental is the price of one GPU-hour. The "
        "effective price is what a class paid per H100-equivalent delivered (last value "
        "carried through weeks without purchases).",
        (
            Chart(
                "prices-reference",
                lambda n: f"{n.reference}: list, spot (gray-market) and rental price",
                "USD per GPU",
                "dual",
                lambda n: [
                    (f"list_price_usd@{n.reference}", f"{n.reference} list price"),
                    (f"spot_price_usd@{n.reference}", f"{n.reference} spot price"),
                ],
                right=lambda n: [
                    (f"rental_usd_per_gpu_hour@{n.reference}", f"{n.reference} rental (right axis)")
                ],
                right_title="USD per GPU-hour",
            ),
            Chart(
                "prices-list",
                _const("List price by product"),
                "USD per unit",
                "lines",
                lambda n: [(f"list_price_usd@{p}", p) for p in n.products],
            ),
            Chart(
                "prices-effective",
                _const("Effective price paid per H100e, by buyer class"),
                "USD per H100e",
                "lines",
                _by_class("effective_price_usd_per_h100e"),
                class_colours=True,
            ),
        ),
    ),
    ChartSection(
        "lead-times",
        _const("Lead times"),
        "Quoted: the lead time on open orders, median (solid) and 90th percentile (dashed), "
        "weighted by units; the black line is the reference product's quote for a new "
        "standard order. Realised: weeks from order to delivery of the units delivered "
        "that week.",
        (
            Chart(
                "lead-quoted",
                _const("Quoted lead time by buyer class"),
                "weeks",
                "class_quantiles",
                lambda n: [
                    (f"lead_time_weeks_p90@{c}", f"{n.class_labels[c]}: p90") for c in n.classes
                ],
                metric="lead_time_weeks",
                extra=lambda n: (f"lead_time_weeks@{n.reference}", f"{n.reference} quote"),
            ),
            Chart(
                "lead-realised",
                _const("Realised lead time (order to delivery) by buyer class"),
                "weeks",
                "class_quantiles",
                lambda n: [
                    (f"realised_lead_time_weeks_p90@{c}", f"{n.class_labels[c]}: p90")
                    for c in n.classes
                ],
                metric="realised_lead_time_weeks",
            ),
            Chart(
                "backlog",
                _const("Order backlog by vendor"),
                "units",
                "lines",
                lambda n: [(f"backlog_units@{v}", v) for v in n.vendors],
            ),
        ),
    ),
    ChartSection(
        "compute",
        _const("Deliveries and installed compute"),
        "Firms are ranked by units received over the run (deliveries) or by installed H100e "
        "in the last week (installed); the rest are summed. Startups are one band. HHI and "
        "top-4 share measure ownership; Gini measures access (firms' compute and each "
        "active startup's compute in use). With thousands of small startups the Gini stays "
        "close to 1, so its axis is fitted to its range: read its changes, not its level.",
        (
            Chart(
                "deliveries-firm",
                _const("Deliveries by firm (top firms by units)"),
                "units per week",
                "top_firms",
                metric="deliveries_units",
                compare=False,
            ),
            Chart(
                "installed-firm",
                _const("Installed compute by firm (top firms at the end)"),
                "H100e",
                "top_firms",
                metric="installed_h100e",
                compare=False,
            ),
            Chart(
                "deliveries-class",
                _const("Deliveries by buyer class"),
                "units per week",
                "stacked",
                _by_class("deliveries_units"),
                class_colours=True,
            ),
            Chart(
                "installed-class",
                _const("Installed compute by buyer class"),
                "H100e",
                "stacked",
                _by_class("installed_h100e"),
                class_colours=True,
            ),
            Chart(
                "compute-share",
                _const("Share of installed compute"),
                "% of installed H100e",
                "lines",
                _shares,
            ),
            Chart(
                "concentration",
                _const("Concentration: HHI and Gini"),
                "HHI (0-10,000; axis fitted to its range)",
                "dual",
                lambda n: [("hhi_compute", "HHI of installed compute")],
                right=lambda n: [("gini_compute", "Gini of compute in use (right axis)")],
                right_title="Gini (axis fitted to its range)",
                zoom_right=True,
                zoom_left=True,
            ),
        ),
    ),
    ChartSection(
        "incumbent",
        lambda n: f"{n.incumbent_label} and alternative chips",
        "Revenue bars sum the weeks starting in each calendar quarter. Shares are of each "
        "week's deliveries.",
        (
            Chart(
                "incumbent-revenue",
                lambda n: f"{n.incumbent_label}: data-centre revenue and gross margin",
                "USD bn",
                "quarterly",
                lambda n: [
                    ("nvidia_dc_revenue_usd_bn", "revenue, USD bn a week"),
                    ("nvidia_gross_margin_pct", "gross margin, %"),
                ],
            ),
            Chart(
                "incumbent-share",
                lambda n: f"{n.incumbent_label} and alternative chips: shares of deliveries",
                "%",
                "lines",
                lambda n: [
                    ("nvidia_unit_share_pct", f"{n.incumbent_label} share of units"),
                    ("nvidia_new_compute_share_pct", f"{n.incumbent_label} share of new H100e"),
                    ("alt_chip_share_pct", "alternative chips' share of new H100e"),
                    ("in_house_share_pct", "in-house chips' share of new H100e"),
                ],
            ),
        ),
    ),
    ChartSection(
        "supply",
        _const("Supply: capacity and utilisation"),
        "Capacity includes endogenous expansions once they arrive and outages while they "
        "last; utilisation counts customers outside the model as using their reserved share.",
        (
            Chart(
                "capacity",
                _const("Capacity per supply node"),
                "per week",
                "panels",
                lambda n: [(f"capacity_per_week@{node}", node) for node, _ in n.nodes],
            ),
            Chart(
                "utilisation",
                _const("Utilisation per supply node"),
                "% of capacity used",
                "lines",
                lambda n: [(f"utilisation_pct@{node}", node) for node, _ in n.nodes],
            ),
        ),
    ),
    ChartSection(
        "startups",
        _const("Startup health"),
        "Starved: active startups that got less compute than they need.",
        (
            Chart(
                "startups",
                _const("Startup health"),
                "startups",
                "lines",
                lambda n: _labelled(["startups_active", "startups_starved", "startups_exited"]),
            ),
        ),
    ),
)
"""The chart sections of the run and comparison reports, in page order."""
