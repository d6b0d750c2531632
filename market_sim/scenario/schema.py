"""The scenario schema: every parameter of a run, with its unit and default.

A scenario file (TOML) is validated against :class:`Scenario`. Unknown keys are errors
(``extra="forbid"`` everywhere). Structural rules (types, ranges) live here; rules that
relate one part of a scenario to another (ids that must exist, a supply graph without
cycles, events inside the horizon) live in :mod:`market_sim.scenario.checks`.

Time is counted in weeks from ``simulation.start_date`` (week 0). Wherever a point in time
is asked for (:data:`When`), either a week index (``12``) or a calendar date
(``2024-03-18``, a TOML date) is accepted; a date maps to the week that contains it.

Every number must be finite and every field respects the bounds of
:mod:`market_sim.scenario.bounds` (size, durations, dates, seeds), through :class:`Strict`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal, Self, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from market_sim.market.policies import POLICIES
from market_sim.scenario.bounds import Bounded

WEEKS_PER_MONTH = 52.0 / 12.0
"""Calendar weeks in an average month (52/12); converts ``*_per_month`` figures."""

When = int | dt.date
"""A point in simulated time: a week index (0 = start date) or a calendar date."""

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
"""Ids of products, nodes and agents: letters, digits, ``_``, ``-`` (no dots: see --set)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFraction = Annotated[float, Field(gt=0.0, le=1.0)]

MAX_PRIORITY_TIER = 9
"""Priority tiers run from 0 (startups) to this."""


def _registered_policy(name: str) -> str:
    if name not in POLICIES:
        names = [f"'{n}'" for n in POLICIES]
        expected = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": expected}
        )
    return name


AllocationPolicy = Annotated[str, AfterValidator(_registered_policy)]
"""The name of a registered allocation policy (``market_sim.market.policies``)."""


class Strict(Bounded):
    """Base for every schema table: unknown keys are rejected, values are immutable,
    numbers are finite and bounded (:mod:`market_sim.scenario.bounds`)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


def _weekly(per_week: float | None, per_month: float | None, what: str) -> float:
    """Return a weekly rate from exactly one of a weekly and a monthly figure."""
    if (per_week is None) == (per_month is None):
        raise ValueError(f"give exactly one of {what}_per_week and {what}_per_month")
    return per_week if per_week is not None else per_month / WEEKS_PER_MONTH


# --------------------------------------------------------------------------- simulation


class Simulation(Strict):
    """Run identity and horizon."""

    name: str = Field(min_length=1, max_length=200, description="run name (reports, folders)")
    description: str = Field("", max_length=5000, description="what the scenario changes")
    start_date: dt.date = Field(dt.date(2023, 1, 2), description="date of week 0 (a Monday)")
    weeks: int = Field(156, ge=1, le=2600, description="horizon, weeks")
    seed: int = Field(0, ge=0, description="default random seed (the CLI's --seed wins)")


# --------------------------------------------------------------------------- products


class YieldPoint(Strict):
    """A yield reached at a date (yield learning); linear from the previous point."""

    date: dt.date = Field(description="date the yield is reached")
    yield_: PositiveFraction = Field(alias="yield", description="share of good dies or packages")


class LogicInput(Strict):
    """Logic die from a foundry node: wafers per unit = 1 / (dies_per_wafer * yield)."""

    node: Identifier = Field(description="foundry node that makes the logic die")
    dies_per_wafer: float = Field(gt=0, description="candidate dies per 300 mm wafer")
    yield_: PositiveFraction = Field(1.0, alias="yield", description="share of good dies")
    yield_schedule: list[YieldPoint] = Field(
        default_factory=list, description="later yields by date (learning), linear between"
    )
    dies_per_unit: float = Field(1.0, gt=0, description="logic dies in one accelerator")

    @property
    def per_unit(self) -> float:
        """Logic wafers consumed per finished unit."""
        return self.dies_per_unit / (self.dies_per_wafer * self.yield_)


class PackagingInput(Strict):
    """Advanced packaging (CoWoS): wafers per unit = 1 / (packages_per_wafer * yield)."""

    node: Identifier = Field(description="packaging node")
    packages_per_wafer: float = Field(gt=0, description="packages per interposer wafer")
    yield_: PositiveFraction = Field(1.0, alias="yield", description="packaging yield")
    yield_schedule: list[YieldPoint] = Field(
        default_factory=list, description="later yields by date (learning), linear between"
    )

    @property
    def per_unit(self) -> float:
        """Packaging wafers consumed per finished unit."""
        return 1.0 / (self.packages_per_wafer * self.yield_)


class MemoryInput(Strict):
    """HBM stacks, from any of the listed memory nodes (suppliers are substitutes)."""

    nodes: list[Identifier] = Field(min_length=1, description="memory nodes (substitutes)")
    stacks_per_unit: float = Field(gt=0, description="HBM stacks per accelerator")

    @property
    def per_unit(self) -> float:
        """HBM stacks consumed per finished unit."""
        return self.stacks_per_unit


class BillOfMaterials(Strict):
    """Inputs of one accelerator. Output is the minimum over inputs (Leontief)."""

    logic: LogicInput | None = None
    packaging: PackagingInput | None = None
    hbm: MemoryInput | None = None

    def yields(self) -> dict[str, tuple[float, list[YieldPoint]]]:
        """Each input's starting yield and its later yields (HBM: none)."""
        out: dict[str, tuple[float, list[YieldPoint]]] = {}
        for name in ("logic", "packaging"):
            part = getattr(self, name)
            if part is not None:
                out[name] = (part.yield_, list(part.yield_schedule))
        return out

    def stages(self) -> list[tuple[str, float, list[str]]]:
        """Inputs as ``(input name, input units per unit, supplier node ids)``."""
        out: list[tuple[str, float, list[str]]] = []
        if self.logic is not None:
            out.append(("logic", self.logic.per_unit, [self.logic.node]))
        if self.packaging is not None:
            out.append(("packaging", self.packaging.per_unit, [self.packaging.node]))
        if self.hbm is not None:
            out.append(("hbm", self.hbm.per_unit, list(self.hbm.nodes)))
        return out


class Product(Strict):
    """An accelerator model sold (or supplied in-house) by one vendor."""

    id: Identifier = Field(description="product id (unique, case-insensitively)")
    vendor: Identifier = Field(description="the vendor agent that sells it")
    h100e: float = Field(gt=0, description="performance, H100-equivalents per unit")
    launch: When = Field(0, description="first week of volume output")
    end: When | None = Field(None, description="last week of output (None: to the end)")
    ramp_weeks: int = Field(0, ge=0, description="weeks from launch to full yield")
    list_price_usd: float = Field(gt=0, description="initial list price, USD per unit")
    unit_cost_usd: float = Field(gt=0, description="full unit cost incl. HBM, USD per unit")
    demand_weight: float = Field(
        1.0, ge=0, description="default weight in buyers' choice among products"
    )
    bom: BillOfMaterials


# --------------------------------------------------------------------------- supply


class CapacityPoint(Strict):
    """Scheduled capacity at a date; capacity is linear between points, flat after.

    ``reserved_share``, if given, also moves the node's reserved share (linear likewise).
    """

    date: dt.date = Field(description="date the point holds from")
    capacity_per_week: float | None = Field(None, ge=0, description="node units a week")
    capacity_per_month: float | None = Field(None, ge=0, description="node units a month")
    reserved_share: Fraction | None = Field(None, description="reserved share from then on")

    @model_validator(mode="after")
    def _one_rate(self) -> Self:
        _weekly(self.capacity_per_week, self.capacity_per_month, "capacity")
        return self

    @property
    def weekly(self) -> float:
        """Capacity in node units per week."""
        return _weekly(self.capacity_per_week, self.capacity_per_month, "capacity")


class Expansion(Strict):
    """Endogenous investment: add capacity when utilisation stays high."""

    utilisation_trigger: PositiveFraction = Field(0.95, description="utilisation that counts")
    trigger_weeks: int = Field(8, ge=1, description="weeks in a row above the trigger")
    step_fraction: float = Field(0.10, gt=0, le=2, description="capacity added, share of now")
    build_lag_weeks: int = Field(52, ge=0, description="weeks from decision to capacity")
    cooldown_weeks: int = Field(13, ge=0, description="weeks between decisions")


class SupplyNode(Strict):
    """A chipmaker's facility: foundry logic, advanced packaging or HBM memory."""

    id: Identifier = Field(description="node id")
    kind: Literal["foundry", "packaging", "memory"] = Field(description="what it makes")
    owner: Identifier = Field(description="the chipmaker (tsmc, sk_hynix, ...)")
    unit: Literal["wafers", "stacks"] = Field("wafers", description="unit of its capacity")
    capacity_per_week: float | None = Field(None, gt=0, description="units of `unit`/week")
    capacity_per_month: float | None = Field(None, gt=0, description="units of `unit`/month")
    schedule: list[CapacityPoint] = Field(
        default_factory=list, description="scheduled capacity by date"
    )
    cycle_time_weeks: float = Field(0.0, ge=0, description="start to output, weeks")
    reserved_share: Fraction = Field(
        0.0, description="share of capacity used by customers the model does not simulate"
    )
    expansion: Expansion | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Self:
        _weekly(self.capacity_per_week, self.capacity_per_month, "capacity")
        dates = [p.date for p in self.schedule]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("schedule dates must be strictly increasing")
        return self

    @property
    def initial_capacity_per_week(self) -> float:
        """Capacity before the first scheduled point, node units per week."""
        return _weekly(self.capacity_per_week, self.capacity_per_month, "capacity")


class SupplyEdge(Strict):
    """What flows between two supply nodes (or to a vendor), and how long it takes."""

    from_: Identifier = Field(alias="from", description="upstream node")
    to: Identifier = Field(description="downstream node or vendor")
    flow: Literal["logic_dies", "hbm_stacks", "packaged_chips"] = Field(description="what flows")
    transit_weeks: float = Field(0.0, ge=0, description="transit time, weeks")
    capacity_per_week: float | None = Field(None, gt=0, description="flow cap, units/week")


class Supply(Strict):
    nodes: list[SupplyNode] = Field(default_factory=list)
    edges: list[SupplyEdge] = Field(default_factory=list)


# --------------------------------------------------------------------------- agents


class SharePoint(Strict):
    """A vendor's contracted share of a node from a date on (linear from the previous)."""

    date: dt.date = Field(description="date the share is reached")
    node: Identifier = Field(description="supply node")
    share: Fraction = Field(description="contracted share of the node's capacity")


class ProductionRule(Strict):
    """How a vendor plans production (an order-up-to rule on its production position).

    starts = forecast + (forecast x (cycle + safety_weeks) + backlog - pipeline -
    inventory) / plan_weeks, in units a week; the forecast smooths the weekly order inflow.
    """

    plan_weeks: float = Field(
        4.0, gt=0, description="weeks over which a vendor closes the gap in its position"
    )
    safety_weeks: float = Field(
        2.0, ge=0, description="finished-goods cover aimed for, weeks of forecast demand"
    )
    forecast_smoothing: PositiveFraction = Field(
        0.15, description="weight of the latest week in the order-rate forecast (exponential)"
    )
    start_rate_smoothing: PositiveFraction = Field(
        0.25,
        description="weight of the latest week in the start rate quoted beyond the pipeline",
    )
    min_ramp_yield: PositiveFraction = Field(
        0.5, description="share of full yield at a product's launch (climbs to 1 over ramp)"
    )


class VendorSpec(Strict):
    """A chip vendor: Nvidia, AMD, or a hyperscaler's in-house program (``owner`` set)."""

    role: Literal["vendor"]
    id: Identifier = Field(description="vendor id")
    name: str = Field("", max_length=200, description="display name")
    owner: Identifier | None = Field(None, description="in-house program of this buyer")
    dormant: bool = Field(False, description="in-house program not started yet")
    capacity_share: dict[str, Fraction] = Field(
        default_factory=dict, description="contracted share of each supply node's capacity"
    )
    capacity_share_schedule: list[SharePoint] = Field(
        default_factory=list, description="later contract shares by date and node"
    )
    assembly_weeks: float = Field(4.0, ge=0, description="package to delivered system, weeks")
    allocation: AllocationPolicy | None = Field(None, description="None: policy.allocation")
    attach_revenue_share: float = Field(
        0.0, ge=0, description="networking/systems revenue per USD of accelerator sales"
    )
    attach_gross_margin: Fraction = Field(0.6, description="gross margin on that revenue")
    fixed_cogs_usd_per_week: float = Field(0.0, ge=0, description="COGS not tied to units")
    production: ProductionRule | None = Field(None, description="None: policy.production")


class FleetPoint(Strict):
    """Desired installed compute at a date (H100-equivalents); linear in between."""

    date: dt.date = Field(description="date the target holds")
    h100e: float = Field(
        ge=0, description="desired installed compute", json_schema_extra={"unit": "H100e"}
    )


class CapexPoint(Strict):
    """Capital budget for accelerators in a calendar year, USD bn."""

    year: int = Field(ge=2000, le=2100, description="calendar year")
    usd_bn: float = Field(ge=0, description="budget", json_schema_extra={"unit": "USD bn"})


class OrderingRule(Strict):
    """Anchoring-and-adjustment ordering with a supply line (Sterman 1989).

    order = expected need + (desired fleet - fleet) / stock_adjust_weeks
            + supply_line_weight * (desired supply line - open orders) / stock_adjust_weeks
    where desired supply line = expected need x expected lead time L, padded by the factor
    1 + padding x clip((L - normal) / normal, 0, 1), normal = normal_lead_weeks (full
    padding from twice the normal lead time). A weight below 1 under-counts
    open orders; padding orders more the longer the wait (double ordering): both are
    sources of phantom orders in a shortage, cancelled as lead times fall.
    """

    stock_adjust_weeks: float = Field(13.0, gt=0, description="weeks to close a fleet gap")
    supply_line_weight: Fraction = Field(0.5, description="weight on the supply-line gap")
    lead_time_smoothing_weeks: float = Field(
        8.0, ge=1, description="lead-time expectation (>= 1: one weekly step at least)"
    )
    max_cancel_fraction: Fraction = Field(0.1, description="open orders cancelled per week")
    padding: float = Field(
        0.0,
        ge=0,
        le=5,
        description="double ordering: the desired supply line is multiplied by 1 + padding "
        "x clip((L - normal_lead_weeks) / normal_lead_weeks, 0, 1), L the expected lead time",
        json_schema_extra={"unit": "factor"},
    )
    normal_lead_weeks: float = Field(
        12.0, gt=0, le=520, description="lead time up to which a buyer pads no orders"
    )
    phantom_cancel: Fraction = Field(
        0.0,
        description="while quotes fall below the buyer's expectation, this share a week of "
        "its open orders beyond what the quote needs in the pipe (need x quote + fleet "
        "gap) is cancelled as double orders, and nothing new is ordered; 0: never",
        json_schema_extra={"unit": "fraction 0-1 a week"},
    )
    target_path: Literal["linear", "geometric"] = Field(
        "linear",
        description="a buyer's desired fleet between two fleet targets: linear, or "
        "geometric (a constant growth rate: fleets that grow in proportion to their size)",
    )
    give_up_weeks: float | None = Field(
        None,
        gt=0,
        le=2600,
        description="a fleet shortfall is given up (the work goes to rented or other "
        "compute) at 1/this of it a week; None: never",
    )
    give_up_return_weeks: float | None = Field(
        None,
        gt=0,
        le=2600,
        description="with give_up_weeks: a shortfall is given up only while the expected "
        "lead time is above normal_lead_weeks, and what was given up comes back (the work "
        "returns from rented or other compute) at 1/this of it a week while it is not; "
        "None: given up at any lead time, for good",
    )


class InHouseTrigger(Strict):
    """Make-or-buy: start and speed up an in-house program while merchant GPUs stay dear
    and slow.

    Each week the owner reads the merchant GPUs it would buy (its product mix without
    in-house chips): their list price per H100e (or the gray-market price, if higher)
    over its own chip's cost per H100e, and their quoted lead time at its tier (at most
    ``quote_tier_cap``). Both at or above their triggers make the week *dear and slow*.
    After ``sustain_weeks`` such weeks in a row a dormant program starts (first output
    ``dev_lag_weeks`` later); every dear-and-slow week of a running program raises its
    commitment by ``boost_per_week`` (at most ``max_boost``): the owner's weight on its
    own chips is scaled by 1 + commitment, and the program's contracted supply shares by
    1 + ``supply_share_boost`` x commitment (out of the nodes' uncontracted rest).
    """

    vendor: Identifier = Field(description="the in-house vendor (dormant or running) this rules")
    price_premium_trigger: float = Field(
        1.5,
        gt=0,
        description="merchant price per H100e (list of the mix, or gray-market if higher) "
        "over in-house cost per H100e that counts as dear",
        json_schema_extra={"unit": "factor"},
    )
    lead_time_trigger_weeks: float = Field(
        26.0,
        ge=0,
        description="quoted lead time of the merchant GPUs in the owner's mix that counts as slow",
    )
    sustain_weeks: int = Field(
        13, ge=1, description="dear-and-slow weeks in a row that start a dormant program"
    )
    dev_lag_weeks: int = Field(104, ge=0, description="decision to first output")
    dev_cost_usd_bn: float = Field(1.0, ge=0, description="one-off development outlay")
    quote_tier_cap: int = Field(
        2,
        ge=0,
        le=MAX_PRIORITY_TIER,
        description="the rule reads merchant quotes at the owner's tier, at most this one",
    )
    boost_per_week: float = Field(
        0.0,
        ge=0,
        le=1,
        description="commitment added per dear-and-slow week while the program runs: "
        "the owner's weight on its chips grows by this share of the scenario's; 0: no "
        "acceleration",
        json_schema_extra={"unit": "fraction a week"},
    )
    supply_share_boost: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of the commitment that also books supply: the program's "
        "contracted shares of nodes grow by this x commitment, out of the uncontracted "
        "rest (0: it competes on its scenario contracts and the rest)",
        json_schema_extra={"unit": "fraction 0-1"},
    )
    max_boost: float = Field(
        1.0,
        ge=0,
        le=10,
        description="cap on the commitment: the owner's weight on its chips at most "
        "(1 + this) x the scenario's",
        json_schema_extra={"unit": "factor"},
    )


class _Buyer(Strict):
    id: Identifier = Field(description="buyer id")
    name: str = Field("", max_length=200, description="display name")
    region: Identifier = Field("us", description="for export controls, e.g. us, cn")
    initial_fleet_h100e: float = Field(0.0, ge=0, description="compute held at the start")
    priority_tier: int = Field(1, ge=0, le=MAX_PRIORITY_TIER, description="higher is served first")
    product_weights: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="overrides products' demand_weight; 0 excludes"
    )
    max_price_per_h100e_usd: float = Field(
        60_000.0, gt=0, description="most this buyer pays per H100e, primary or gray"
    )
    price_elasticity: float = Field(
        0.5, ge=0, description="product choice: weight x (price per H100e)^-elasticity"
    )
    lead_time_sensitivity: float = Field(
        0.01, ge=0, description="product choice: weight x exp(-this x quoted lead weeks)"
    )
    aggregate: bool = Field(
        False, description="stands for many firms: not one holder in concentration measures"
    )
    gray_market_share: Fraction = Field(
        0.05, description="share of its fleet gap a buyer bids for on the gray market weekly"
    )


class _FleetBuyer(_Buyer):
    """A buyer with fleet targets and a capex budget (hyperscalers, enterprises)."""

    fleet_targets: list[FleetPoint] = Field(
        default_factory=list, description="desired installed compute by date"
    )
    capex: list[CapexPoint] = Field(default_factory=list, description="capex by year")
    accelerator_share_of_capex: PositiveFraction = Field(
        0.5, description="share of capex that may buy accelerators"
    )
    ordering: OrderingRule | None = Field(None, description="None: policy.ordering")
    gray_ask_min_h100e: float = Field(
        1.0, ge=0, description="a surplus over plan at or below this is not offered, H100e"
    )
    follow_share: float | None = Field(
        None,
        gt=0,
        le=100,
        description="desired fleet growth as this share of the named fleet buyers' (those "
        "that do not follow, aggregates excluded), instead of own fleet_targets",
        json_schema_extra={"unit": "factor"},
    )

    @model_validator(mode="after")
    def _targets_or_follow(self) -> Self:
        if self.follow_share is not None and self.fleet_targets:
            raise ValueError("give fleet_targets or follow_share, not both")
        return self


class HyperscalerSpec(_FleetBuyer):
    """A large buyer with fleet targets and a capex budget that rents spare capacity out."""

    role: Literal["hyperscaler"]
    rent_out_share: Fraction = Field(0.05, description="share of fleet offered for rent")
    in_house: InHouseTrigger | None = Field(None, description="make-or-buy rule")


class EnterpriseSpec(_FleetBuyer):
    """A buyer with fleet targets that does not rent out (Tesla, xAI, the rest)."""

    role: Literal["enterprise"]


class NeocloudSpec(_Buyer):
    """Buys GPUs to rent them out when rental income pays them back in time."""

    role: Literal["neocloud"]
    capital: list[CapexPoint] = Field(default_factory=list, description="funding per year")
    payback_weeks: float = Field(104.0, gt=0, description="horizon to recover a GPU's price")
    utilisation: PositiveFraction = Field(0.85, description="share of hours rented")
    max_growth_per_week: float = Field(0.05, gt=0, description="fleet growth cap per week")
    min_growth_h100e: float = Field(
        1000.0, ge=0, description="smallest weekly growth step planned (lets a fleet start)"
    )
    contracted_share: Fraction = Field(
        0.0,
        description="share of the fleet leased under contract to AI labs and hyperscalers "
        "outside the model (CoreWeave's S-1: Microsoft 35% of 2023 revenue, 62% of 2024's); "
        "only the rest is offered on the rental market startups rent from",
        json_schema_extra={"unit": "fraction 0-1"},
    )


# --------------------------------------------------------------------------- buyer classes


@dataclass(frozen=True)
class BuyerClass:
    """A class of buyers: the single source of its id, role, spec, label and colour.

    ``id`` is the class's name in metric keys (``deliveries_units@hyperscalers``), event
    targets and reports; ``role`` is the ``role`` of its agents in a scenario file
    (``None``: the startup population, which is not a scenario agent); its integer code
    is its position in :data:`BUYER_CLASSES`. The Mesa class of each role is registered
    in ``market_sim.agents.registry``.
    """

    id: str
    role: str | None
    spec: type[BaseModel] | None
    label: str
    colour: str


BUYER_CLASSES: tuple[BuyerClass, ...] = (
    BuyerClass("hyperscalers", "hyperscaler", HyperscalerSpec, "Hyperscalers", "#2f6fb2"),
    BuyerClass("enterprises", "enterprise", EnterpriseSpec, "Enterprises", "#8c6d31"),
    BuyerClass("neoclouds", "neocloud", NeocloudSpec, "Neoclouds", "#3a9a5b"),
    BuyerClass("startups", None, None, "Startups", "#c43d3d"),
)
CLASS_IDS = tuple(c.id for c in BUYER_CLASSES)
"""Buyer class ids, in the order of their integer codes."""
ALL_BUYERS = "all"
"""Event target naming every buyer (firms and startups)."""
BUYER_ROLES = tuple(c.role for c in BUYER_CLASSES if c.role is not None)
"""Scenario agent roles that buy (every agent role but ``vendor``)."""
CLASS_OF_ROLE = {c.role: code for code, c in enumerate(BUYER_CLASSES) if c.role is not None}
STARTUP_CLASS = next(code for code, c in enumerate(BUYER_CLASSES) if c.role is None)
"""Class code of the startup population."""
_BUYER_SPECS = tuple(c.spec for c in BUYER_CLASSES if c.spec is not None)
BuyerSpec = Union[_BUYER_SPECS]  # noqa: UP007 (a union built from the registry)
Agent = Annotated[Union[(VendorSpec, *_BUYER_SPECS)], Field(discriminator="role")]


# --------------------------------------------------------------------------- startups


class Startups(Strict):
    """The startup population, simulated as columnar arrays (one row per startup)."""

    count: int = Field(2000, ge=0, le=2_000_000, description="startups at the start")
    max_count: int | None = Field(
        None, ge=0, le=4_000_000, description="array size; None: 2 x count"
    )
    entry_per_week: float = Field(
        5.0, ge=0, le=10_000, description="mean new startups per week (bound: memory)"
    )
    funding_min_usd: float = Field(2e6, gt=0, description="Pareto scale of funding")
    funding_pareto_alpha: float = Field(1.2, gt=0, description="Pareto tail index")
    funding_max_usd: float = Field(5e9, gt=0, description="cap on a round")
    compute_share_of_funding: PositiveFraction = Field(
        0.5, description="share of a round spent on compute"
    )
    runway_weeks: float = Field(78.0, gt=0, description="weeks a round is meant to last")
    value_usd_per_gpu_hour: float = Field(6.0, gt=0, description="median worth of H100-hour")
    value_sigma: float = Field(
        0.5, ge=0, le=5, description="lognormal spread of that worth (bound: exp overflow)"
    )
    value_spread: Fraction = Field(
        0.25, description="first half of a need is worth (1+this)x, the rest (1-this)x"
    )
    direct_buy_min_gpus: float = Field(256.0, ge=0, description="smaller needs rent")
    willingness_weeks: float = Field(
        52.0, gt=0, description="a direct buyer pays at most this many weeks of its worth"
    )
    price_elasticity: float = Field(
        1.0, ge=0, description="product choice: weight x (price per H100e)^-elasticity"
    )
    lead_time_sensitivity: float = Field(
        0.01, ge=0, description="product choice: weight x exp(-this x quoted lead weeks)"
    )
    priority_tier: int = Field(
        0, ge=0, le=MAX_PRIORITY_TIER, description="startups' tier in vendors' queues"
    )
    first_tranche_share: Fraction = Field(
        0.5,
        description="share of its compute gap a startup bids for at the higher (first) value",
    )
    raise_below_round_share: Fraction = Field(
        0.5, description="a startup may raise once its cash falls below this share of its round"
    )
    raise_probability_per_week: Fraction = Field(
        0.02, description="chance a week of raising a round, once cash is low"
    )
    raise_multiple: float = Field(2.0, gt=0, description="a new round over the last one")
    starve_weeks_to_exit: int = Field(26, ge=1, description="starved weeks in a row to exit")
    starve_threshold: Fraction = Field(0.25, description="compute got / needed that starves")

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.max_count is not None and self.max_count < self.count:
            raise ValueError("max_count must be at least count")
        if self.funding_max_usd < self.funding_min_usd:
            raise ValueError("funding_max_usd must be at least funding_min_usd")
        return self


# --------------------------------------------------------------------------- policy, economics


class Pricing(Strict):
    """Sticky list price that answers the backlog (per vendor, every week)."""

    target_backlog_weeks: float = Field(12.0, gt=0, description="backlog / output at rest")
    sensitivity: float = Field(0.02, ge=0, description="weekly change per log backlog ratio")
    max_change_per_week: Fraction = Field(0.01, description="cap on weekly price change")
    floor_markup: float = Field(1.2, ge=1, description="list price >= unit cost x this")
    min_backlog_weeks: float = Field(
        0.05, gt=0, description="backlog weeks below this count as this (keeps the log finite)"
    )


class Policy(Strict):
    """Market-wide rules: allocation, buyers' ordering, pricing, production, quotes."""

    allocation: AllocationPolicy = Field(
        "priority", description="vendors' allocation policy unless one sets its own"
    )
    ordering: OrderingRule = Field(
        OrderingRule(), description="buyers' ordering rule unless an agent sets its own"
    )
    pricing: Pricing = Field(Pricing(), description="vendors' list-price rule")
    production: ProductionRule = Field(
        ProductionRule(), description="vendors' production planning unless one sets its own"
    )
    max_lead_weeks: int = Field(104, ge=1, le=520, description="cap on quoted lead times")
    initial_lead_weeks: float = Field(
        12.0, ge=0, description="lead time buyers expect at the start, weeks"
    )
    initial_pipeline: Literal["demand", "capacity_ramp"] = Field(
        "demand",
        description="production in flight at the start: at the week-0 demand rate, or "
        "ramping from it to the week-0 capacity over the pipeline (a market mid-boom)",
    )
    initial_pipeline_share: float = Field(
        1.0,
        gt=0,
        le=2.0,
        description="production in flight at the start, as a share of the week-0 demand "
        "rate: below 1 the market starts short (new products still ramping)",
        json_schema_extra={"unit": "factor"},
    )


class Economics(Strict):
    """Costs of owning and running a GPU, for rental prices and payback."""

    service_life_weeks: float = Field(260.0, gt=0, description="depreciation life")
    opex_usd_per_gpu_hour: float = Field(0.35, ge=0, description="power, hosting, staff")
    hours_per_week: float = Field(
        168.0,
        gt=0,
        le=168.0,
        description="hours a GPU runs a week",
        json_schema_extra={"unit": "hours"},
    )
    resale_haircut: Fraction = Field(0.1, description="share lost when reselling a unit")
    gray_wait_value_share: Fraction = Field(
        1.0,
        description="share of the rent a wait would cost that a buyer adds to the list "
        "price it bids for a unit now on the gray market",
    )
    initial_rental_usd_per_gpu_hour: float = Field(
        2.5, gt=0, description="rental price before the first trade, USD per H100e-hour"
    )


# --------------------------------------------------------------------------- outcomes


class LargestRule(Strict):
    """A group recomputed every week: the ``largest`` firms by installed compute."""

    largest: int = Field(ge=1, le=1000, description="how many firms")


class Outcomes(Strict):
    """What a run reports: the reference product, the incumbent vendor, firm groups."""

    reference_product: Identifier | None = Field(
        None,
        description="product whose price per H100e is the reference (spot and rental keys "
        "are named after it); None: the first product",
    )
    incumbent_vendor: Identifier | None = Field(
        None,
        description="vendor measured by the nvidia_* metrics and against which alternative "
        "chips are counted; None: no incumbent (those metrics are 0)",
    )
    standard_tier: int = Field(
        1,
        ge=0,
        le=MAX_PRIORITY_TIER,
        description="priority tier of the 'standard order' whose quote is lead_time_weeks@P",
    )
    groups: dict[Identifier, list[Identifier] | LargestRule] = Field(
        default_factory=dict,
        description="named groups of firms reported like the buyer classes: a list of "
        "buyer ids, or {largest = N} for the N firms with the most compute each week",
    )


# --------------------------------------------------------------------------- events

EventKind = Literal[
    "demand_surge", "capacity_outage", "export_control", "product_launch", "in_house_launch"
]


class Event(Strict):
    """A shock at a given week: what it hits (`target`), how hard, how long."""

    at: When = Field(description="week or date the event starts")
    kind: EventKind = Field(description="what happens")
    target: Identifier = Field(description="node, buyer, group, product or vendor it hits")
    magnitude: float = Field(
        1.0, ge=0, le=100, description="share lost (outage) or demand multiplier (surge)"
    )
    duration_weeks: int | None = Field(None, ge=1, description="None: to the end of the run")
    products: list[Identifier] = Field(
        default_factory=list, description="products an export control covers"
    )
    description: str = Field("", max_length=1000, description="label on charts")


# --------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """A whole scenario, as resolved (``extends`` merged, ``--set`` applied)."""

    simulation: Simulation
    products: list[Product] = Field(min_length=1)
    supply: Supply
    agents: list[Agent] = Field(default_factory=list)
    startups: Startups = Startups()
    policy: Policy = Policy()
    economics: Economics = Economics()
    outcomes: Outcomes = Outcomes()
    events: list[Event] = Field(default_factory=list)

    # ---- time
    def week_of(self, when: When) -> int:
        """Week index of a :data:`When` (a date maps to the week that contains it)."""
        if isinstance(when, dt.date):
            return (when - self.simulation.start_date).days // 7
        return int(when)

    def date_of(self, week: int) -> dt.date:
        """Calendar date on which week ``week`` starts."""
        return self.simulation.start_date + dt.timedelta(weeks=int(week))

    # ---- look-ups
    def agents_by_role(self, role: str) -> list:
        """Agents of one role, in file order."""
        return [a for a in self.agents if a.role == role]

    def agent(self, agent_id: str):
        """The agent with this id (KeyError if none)."""
        for a in self.agents:
            if a.id == agent_id:
                return a
        raise KeyError(agent_id)

    def node(self, node_id: str) -> SupplyNode:
        """The supply node with this id (KeyError if none)."""
        for n in self.supply.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def product(self, product_id: str) -> Product:
        """The product with this id (KeyError if none)."""
        for p in self.products:
            if p.id == product_id:
                return p
        raise KeyError(product_id)
