"""Vendors: Nvidia, AMD and the hyperscalers' in-house programs.

Weekly, for each of its products:

1. plan starts with an order-up-to rule: ``starts = forecast + (forecast x (cycle +
   safety) + backlog - pipeline - inventory) / plan_weeks`` (units; the forecast is 0
   for a start that would arrive after the product's orders close, one cycle before its
   end, so its last cycle is built for the open backlog only), and turn them into
   requests for each input node (wafers or stacks), split over substitute suppliers in
   proportion to the capacity the vendor can get at each;
2. start the Leontief minimum of what the chipmakers granted (a ramping product needs
   more logic and packaging per good unit: yield climbs from 50% at launch to 100% after
   ``ramp_weeks``); started units arrive as finished systems ``cycle_weeks`` later;
3. sell from inventory through the allocation kernel (in the model's market step);
4. move the list price: ``price x (1 + clip(sensitivity x ln(backlog weeks / target)))``,
   never below ``unit cost x floor_markup``; in-house programs transfer at cost.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from market_sim.agents.state_field import state_field
from market_sim.scenario.schema import Pricing, ProductionRule, VendorSpec


class VendorAgent(mesa.Agent):
    """A chip vendor with products, pipelines, inventory, list prices and accounts."""

    sales_usd = state_field(
        "accounts", "sales_usd", "index", "accelerator receipts from buyers this week, USD"
    )
    revenue_usd = state_field(
        "accounts", "revenue_usd", "index", "sales plus attached revenue this week, USD"
    )
    cogs_usd = state_field("accounts", "cogs_usd", "index", "cost of goods this week, USD")
    sales_total_usd = state_field("accounts", "sales_total_usd", "index", "receipts so far, USD")
    units_sold = state_field("accounts", "units_sold", "index", "units sold so far")
    units_started_total = state_field(
        "accounts", "units_started_total", "index", "units started so far"
    )

    def __init__(self, model: mesa.Model, spec: VendorSpec, index: int, products: list[int]):
        super().__init__(model)
        self.vendor_id = spec.id
        self.spec = spec
        self.index = index
        self.accounts = model.vendor_accounts  # this vendor's entry: its books
        self.products = products  # product indices
        self._index = np.array(products, dtype=np.int64)  # the same, to index arrays
        self.owner = spec.owner
        self.in_house = spec.owner is not None
        self.active = not spec.dormant  # a dormant program starts later
        self.production: ProductionRule = spec.production or model.scenario.policy.production
        world = model.world
        self.pipeline = {p: np.zeros(int(world.products.cycle_weeks[p])) for p in products}
        # per product (indexed by product, this vendor's entries its own): the model's
        # production state (market_sim.model.production_kernel.ProductionState)
        state = model.production_state
        self.pipeline_total = state.pipeline_total  # units in each pipeline
        self.inventory = state.inventory
        self.forecast = state.forecast
        self.throughput = state.throughput
        self.started = state.started  # this week
        self.start_rate = state.start_rate  # smoothed starts, units/week
        self.requests: dict[int, dict[int, float]] = {}
        pr = world.products  # fixed per product; as Python numbers for the weekly loops
        self._cycle = {p: int(pr.cycle_weeks[p]) for p in products}
        self._end = {p: int(pr.end_week[p]) for p in products}
        self._ramp = {p: int(pr.ramp_weeks[p]) for p in products}
        self._unit_cost = pr.unit_cost_usd.tolist()  # USD per unit, every product
        self._stages = {  # (yield applies: not HBM, per unit, nodes, yield learning or None)
            p: [
                (name != "hbm", per_unit, nodes, scale)
                for (name, per_unit, nodes), scale in zip(
                    pr.stages[p], pr.stage_scale[p], strict=True
                )
            ]
            for p in products
        }
        # accounts: this week (USD) and cumulative (units)
        self.sales_usd = 0.0  # accelerator receipts from buyers
        self.sales_total_usd = 0.0  # cumulative
        self.revenue_usd = 0.0  # sales plus attached networking/systems revenue
        self.cogs_usd = 0.0
        self.units_sold = 0.0
        self.units_started_total = 0.0

    # ------------------------------------------------------------------ production
    def can_start(self, p: int, week: int) -> bool:
        """Units started now arrive inside the product's output window."""
        out = week + self._cycle[p]
        return self.active and self.model.launch_week[p] <= out <= self._end[p]

    def ramp_yield(self, p: int, week: int, launch: int | None = None) -> float:
        """Share of full yield for units started this week (they come out a cycle later);
        ``launch``: the product's launch week, if the caller has it at hand."""
        ramp = self._ramp[p]
        if ramp <= 0:
            return 1.0
        out = week + self._cycle[p]
        if launch is None:
            launch = int(self.model.launch_week[p])
        done = (out - launch) / ramp
        low = self.production.min_ramp_yield
        return min(1.0, low + (1.0 - low) * max(0.0, done))

    def plan(
        self, week: int, backlog: list[float], reach: list[float], launch: list[int]
    ) -> list[float]:
        """Input requests per node this week (node units), summed over products.

        ``backlog``: open units per product; ``reach[j]``: the capacity this vendor can
        get at node j (contract share plus the uncontracted rest; substitute suppliers are
        asked in that proportion); ``launch``: each product's launch week. (Plain floats
        and small dicts: a product touches at most a few nodes.)
        """
        total = [0.0] * len(reach)
        active = self.active
        plan_weeks, safety_weeks = self.production.plan_weeks, self.production.safety_weeks
        self.requests = {}
        for p in self.products:
            req: dict[int, float] = {}
            self.requests[p] = req
            if not (active and launch[p] <= week + self._cycle[p] <= self._end[p]):
                continue  # not can_start(p, week)
            f = self.forecast[p]
            if week + 2 * self._cycle[p] > self._end[p]:
                # orders close a cycle before the end (Supply.orderable), so none placed
                # after this start arrives can buy it: start only for the open backlog
                f = 0.0
            position = self.pipeline_total[p] + self.inventory[p] - backlog[p]
            target = f * (self._cycle[p] + safety_weeks)
            starts = max(0.0, f + (target - position) / plan_weeks)
            if starts <= 0.0:
                continue
            y = self.ramp_yield(p, week, launch[p])
            for yields, per_unit, nodes, scale in self._stages[p]:
                need = starts * per_unit / (y if yields else 1.0)
                if scale is not None:  # yield learning
                    need *= scale[week]
                if len(nodes) == 1:  # one supplier: the same share as below, cheaper
                    node = nodes[0]
                    part = reach[node]
                    share = part / part if part > 0 else 1.0
                    req[node] = req.get(node, 0.0) + need * share
                    continue
                split = [reach[j] for j in nodes]
                whole = sum(split)
                for node, part in zip(nodes, split, strict=True):
                    share = part / whole if whole > 0 else 1.0 / len(nodes)
                    req[node] = req.get(node, 0.0) + need * share
            for node, q in req.items():
                total[node] += q
        return total

    def start(self, week: int, granted: list[float], launch: list[int]) -> list[float]:
        """Start production from the granted inputs (node units per node); return node
        units consumed per node. ``launch``: each product's launch week.

        Each product gets the share of a node's grant that its request was of the
        vendor's requests there; it starts the Leontief minimum over its inputs.
        """
        asked = [0.0] * len(granted)
        for req in self.requests.values():
            for node, q in req.items():
                asked[node] += q
        used = [0.0] * len(granted)
        for p in self.products:
            self.started[p] = 0.0
            req = self.requests.get(p)
            if not req:
                continue
            got = {n: granted[n] * q / asked[n] if asked[n] > 0 else 0.0 for n, q in req.items()}
            y = self.ramp_yield(p, week, launch[p])
            stages = []  # (node units per unit started, nodes, node units got)
            units = None  # the Leontief minimum (min() over the stages, first on a tie)
            for yields, per_unit, nodes, sc in self._stages[p]:
                eff = per_unit / (y if yields else 1.0) * (1.0 if sc is None else sc[week])
                stage_got = 0  # as sum(): from int 0
                for n in nodes:
                    stage_got += got.get(n, 0.0)
                stages.append((eff, nodes, stage_got))
                u = stage_got / eff
                if units is None or u < units:
                    units = u
            units = max(0.0, units) if math.isfinite(units) else 0.0
            for eff, nodes, stage_got in stages:
                if stage_got > 0:
                    for n in nodes:
                        used[n] += units * eff * got.get(n, 0.0) / stage_got
            self.pipeline[p][-1] += units
            self.pipeline_total[p] += units
            self.started[p] = units
            self.units_started_total += units
        return used

    def smooth_start_rate(self) -> None:
        """Move each product's start rate (quoted beyond the pipeline) towards this
        week's starts (exponential smoothing)."""
        weight = self.production.start_rate_smoothing
        for p in self.products:
            self.start_rate[p] += weight * (self.started[p] - self.start_rate[p])

    def inventory_units(self) -> float:
        """Finished units in inventory, over this vendor's products (in order)."""
        return sum(self.inventory[self._index].tolist())

    def pipeline_units(self) -> float:
        """Units in this vendor's pipelines (the totals, over its products in order)."""
        return sum(self.pipeline_total[self._index].tolist())

    def receive(self) -> dict[int, float]:
        """Move the pipeline one week: what arrives joins inventory. Returns arrivals."""
        arrived = {}
        for p in self.products:
            pipe = self.pipeline[p]
            a = float(pipe[0])
            pipe[:-1] = pipe[1:]
            pipe[-1] = 0.0
            arrived[p] = a
        self.take_arrivals(arrived)
        return arrived

    def take_arrivals(self, arrived: dict[int, float]) -> None:
        """Book units that left the pipelines (moved by the caller): into inventory, out
        of the pipeline totals, into the smoothed throughput (units per product)."""
        smoothing = self.production.forecast_smoothing
        for p, a in arrived.items():
            self.pipeline_total[p] -= a
            self.inventory[p] += a
            self.throughput[p] += smoothing * (a - self.throughput[p])

    # ------------------------------------------------------------------ prices
    def update_forecast(self, new_orders: np.ndarray) -> None:
        """Exponential smoothing of each product's weekly order inflow (units)."""
        smoothing = self.production.forecast_smoothing
        for p in self.products:
            self.forecast[p] += smoothing * (new_orders[p] - self.forecast[p])

    def reprice(self, week: int, backlog: np.ndarray, list_price: np.ndarray, pricing: Pricing):
        """Sticky list price that answers backlog (merchant vendors, launched products)."""
        if self.in_house:
            return
        pr = self.model.world.products
        for p in self.products:
            if week < self.model.launch_week[p]:
                continue
            rate = max(self.throughput[p], self.forecast[p], 1.0)
            backlog_weeks = max(backlog[p] / rate, pricing.min_backlog_weeks)
            change = pricing.sensitivity * math.log(backlog_weeks / pricing.target_backlog_weeks)
            change = min(pricing.max_change_per_week, max(-pricing.max_change_per_week, change))
            floor = pr.unit_cost_usd[p] * pricing.floor_markup
            list_price[p] = max(floor, list_price[p] * (1.0 + change))

    def open_books(self) -> None:
        """Start a week's accounts: fixed cost of goods, no sales yet."""
        self.sales_usd = 0.0
        self.revenue_usd = 0.0
        self.cogs_usd = self.spec.fixed_cogs_usd_per_week

    def book_sales(self, p: int, units: float, paid_usd: float) -> None:
        """Record primary sales of one product: units delivered and what buyers paid."""
        spec = self.spec
        attach = paid_usd * spec.attach_revenue_share
        self.units_sold += units
        self.sales_usd += paid_usd
        self.sales_total_usd += paid_usd
        self.revenue_usd += paid_usd + attach
        self.cogs_usd += units * self._unit_cost[p]
        self.cogs_usd += attach * (1.0 - spec.attach_gross_margin)
