"""Firms that hold compute: the fleet buyers and enterprises (hyperscalers, with their
make-or-buy rule, in hyperscaler.py; neoclouds in neocloud.py).

Fleet-target buyers order with a supply line (Sterman's anchoring and adjustment)::

    indicated = need + (desired - fleet) / tau + w * (need * lead - open orders) / tau

in H100-equivalents per week, where ``desired`` follows the scenario's fleet targets
(scaled by demand events), ``need`` is the target path's growth per week, ``lead`` the
buyer's expected lead time (smoothed quotes), ``tau`` = ``stock_adjust_weeks`` and ``w`` =
``supply_line_weight``. A longer quoted lead time raises the desired supply line and
inflates orders; a negative indication cancels open orders, youngest first, up to
``max_cancel_fraction`` of them a week. Orders are capped by the year's accelerator
budget (capex x share) net of what was paid and what is on order.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import mesa
import numpy as np

from market_sim.agents.state_field import state_field


class WeekViews(NamedTuple):
    """The model's views a buyer reads while it decides, taken once for all buyers
    (``GPUMarketModel.week_views``): none of them changes while they decide, since a
    buyer's cancellations change only its own open orders and orders join the book after
    every buyer has decided. Per firm holder: installed compute and open orders (H100e,
    and USD at list prices) as Python floats."""

    choices: Any  # market_sim.model.choice.Choices
    installed_h100e: list[float]
    open_h100e: list[float]
    open_usd: list[float]


def target_path(spec, scenario, weeks: int) -> np.ndarray:
    """Desired installed H100e for weeks 0..weeks through the buyer's fleet targets, flat
    after the last: linear between targets, or geometric (constant growth rate between
    two targets) under ``ordering.target_path = "geometric"``."""
    start = scenario.simulation.start_date
    xs = [0.0] + [(p.date - start).days / 7.0 for p in spec.fleet_targets]
    ys = [spec.initial_fleet_h100e] + [p.h100e for p in spec.fleet_targets]
    keep = [0] + [i for i in range(1, len(xs)) if xs[i] > 0]  # targets before the start
    xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    grid = np.arange(weeks + 1, dtype=float)
    rule = getattr(spec, "ordering", None) or scenario.policy.ordering
    if rule.target_path == "geometric" and min(ys) > 0:
        return np.exp(np.interp(grid, xs, np.log(ys)))
    return np.interp(grid, xs, ys)


class Holder(mesa.Agent):
    """Common state of a firm that buys, holds and may rent out GPUs."""

    role = "holder"

    def __init__(self, model: mesa.Model, spec, index: int, klass: int):
        super().__init__(model)
        self.firm_id = spec.id
        self.spec = spec
        self.holder = index
        self.klass = klass
        self.buyer_state = model.buyer_state  # expected_lead (and given_up_h100e), by holder
        self.expected_lead = float(model.scenario.policy.initial_lead_weeks)
        self.ordering = getattr(spec, "ordering", None) or model.scenario.policy.ordering
        self.paid_by_year: dict[int, float] = {}
        self.gray_received_usd = 0.0  # sales on the gray market, USD
        self._budgets: dict[int, float] = {}  # year -> accelerator budget, USD
        self.rental_received_usd = 0.0  # rent earned, USD
        world = model.world
        self.weights = world.buyers.weights[index]  # over products (buyer's, else product's)
        econ = world.scenario.economics  # fixed per run, read every week
        self._service_hours = econ.service_life_weeks * econ.hours_per_week
        self._opex_usd_per_hour = econ.opex_usd_per_gpu_hour
        self._hours_per_week = econ.hours_per_week
        self._gray_wait_share = econ.gray_wait_value_share
        self._resale_haircut = econ.resale_haircut
        self._rent_out_share = getattr(spec, "rent_out_share", 0.0)

    # ------------------------------------------------------------------ state
    expected_lead = state_field(
        "buyer_state", "expected_lead", "holder", "Expected lead time, weeks (smoothed quotes)."
    )
    week_spend_usd = state_field(
        "buyer_state", "week_spend_usd", "holder", "This week's outlays (purchases, programs), USD."
    )
    paid_usd_total = state_field(
        "buyer_state", "paid_usd_total", "holder", "Primary and gray purchases so far, USD."
    )
    received_h100e_total = state_field(
        "buyer_state", "received_h100e_total", "holder", "H100e bought so far (primary and gray)."
    )

    def rent_share(self) -> float | None:
        """Share of its installed compute it offers for rent (:meth:`rental_ask`), or
        None if it offers none."""
        return None

    def rent_utilisation(self) -> float:
        """Share of hours its rented compute is used (its cost of owning is spread over
        them; :meth:`own_cost_per_hour`)."""
        return 1.0

    @property
    def installed_h100e(self) -> float:
        """Compute in service, H100e (legacy fleet plus units bought in the run)."""
        return float(self.model.installed_h100e()[self.holder])

    def open_orders_h100e(self) -> float:
        """H100e on order and not yet delivered."""
        return float(self.model.open_orders()[0][self.holder])

    def open_orders_usd(self) -> float:
        """Open orders valued at today's list prices, USD."""
        return float(self.model.open_orders()[1][self.holder])

    def paid_per_h100e(self) -> float:
        """Average price paid per H100e so far (H100 list price before any purchase)."""
        if self.received_h100e_total > 0:
            return self.paid_usd_total / self.received_h100e_total
        return self.model.reference_price_per_h100e()

    def own_cost_per_hour(self, utilisation: float = 1.0) -> float:
        """Cost of owning one H100e for an hour it is rented out, USD (the rental floor)."""
        capital = self.paid_per_h100e() / self._service_hours
        return capital / utilisation + self._opex_usd_per_hour

    # ------------------------------------------------------------------ ordering
    def choose(self, week: int) -> np.ndarray:
        """Shares of a new order over products (H100e), or zeros if nothing is orderable.

        Computed for every buyer at once by :func:`market_sim.model.choice.choices_for`.
        """
        return self.model.choices().shares[self.holder]

    def can_order(self) -> bool:
        """Whether any product qualifies for this buyer this week."""
        return bool(self.model.choices().can_order[self.holder])

    def expected_quote(self) -> float:
        """Quoted lead time for a new order of this buyer, weighted by its product mix
        (its current expectation when nothing qualifies)."""
        c = self.model.choices()
        return float(c.quote[self.holder]) if c.can_order[self.holder] else self.expected_lead

    def orders_for(self, h100e: float) -> list[tuple[int, float, float]]:
        """Split an order of ``h100e`` over this week's product mix: (product, units,
        limit USD/unit) lines; the limit is the list price or the buyer's ceiling per
        H100e, whichever is higher."""
        lines = []
        for p, units_per_h100e, limit in self.model.choices().lines[self.holder]:
            units = h100e * units_per_h100e
            if units >= 1e-6:
                lines.append((p, units, limit))
        return lines

    def year_budget_usd(self, year: int) -> float:
        """:meth:`budget_usd`, computed once per year."""
        usd = self._budgets.get(year)
        if usd is None:
            usd = self._budgets[year] = self.budget_usd(year)
        return usd

    def budget_usd(self, year: int) -> float:
        """Accelerator budget of a calendar year, USD (the latest plan year before it
        holds; inf without a capex or capital plan)."""
        plan = getattr(self.spec, "capex", None) or getattr(self.spec, "capital", None)
        if not plan:
            return math.inf
        known = [c for c in plan if c.year <= year] or [plan[0]]
        return known[-1].usd_bn * 1e9 * getattr(self.spec, "accelerator_share_of_capex", 1.0)

    def budget_left_usd(self, week: int, open_usd: float | None = None) -> float:
        """Accelerator budget left this calendar year (inf without a capex plan);
        ``open_usd``: the buyer's open orders at list prices, if the caller has them."""
        year = self.model.year_of(week)
        usd = self.year_budget_usd(year)
        if not math.isfinite(usd):
            return math.inf
        if open_usd is None:
            open_usd = self.open_orders_usd()
        return max(0.0, usd - self.paid_by_year.get(year, 0.0) - open_usd)

    def cap_by_budget(self, week: int, h100e: float) -> float:
        """Scale an order (H100e) down to what the year's budget can pay at list price."""
        usd_per_h100e = float(self.model.choices().usd_per_h100e[self.holder])
        left = self.budget_left_usd(week)
        if usd_per_h100e <= 0 or not math.isfinite(left):
            return h100e
        return min(h100e, left / usd_per_h100e)

    def learn_lead_time(self, quote: float) -> None:
        """Smooth the expected lead time towards the latest quote (exponential)."""
        self.expected_lead += (quote - self.expected_lead) / self.ordering.lead_time_smoothing_weeks

    def pay(self, week: int, usd: float, h100e: float, year: int | None = None) -> None:
        """Record a payment for ``h100e`` of compute received (primary or gray market);
        ``year``: the calendar year of ``week``, if the caller has it."""
        if year is None:
            year = self.model.year_of(week)
        self.paid_by_year[year] = self.paid_by_year.get(year, 0.0) + usd  # spend(week, usd)
        state, h = self.buyer_state, self.holder  # and paid_usd_total, received_h100e_total
        state.week_spend_usd[h] += usd
        state.paid_usd_total[h] += usd
        state.received_h100e_total[h] += h100e

    def spend(self, week: int, usd: float) -> None:
        """Charge an outlay to this calendar year's budget."""
        year = self.model.year_of(week)
        self.paid_by_year[year] = self.paid_by_year.get(year, 0.0) + usd
        self.buyer_state.week_spend_usd[self.holder] += usd


class FleetBuyer(Holder):
    """A buyer with fleet targets: hyperscalers and enterprises."""

    def __init__(self, model: mesa.Model, spec, index: int, klass: int):
        super().__init__(model, spec, index, klass)
        self.desired = model.desired_path[index]  # H100e by week, demand events included

    given_up_h100e = state_field(
        "buyer_state",
        "given_up_h100e",
        "holder",
        "Fleet shortfall given up so far, H100e (``ordering.give_up_weeks``).",
    )

    def wanted(self, week: int) -> float:
        """Installed H100e the buyer wants this week: its desired path less the shortfall
        it has given up (0 without ``give_up_weeks``)."""
        return self.desired[week] - self.given_up_h100e

    def decide(self, week: int, views: WeekViews | None = None) -> list[tuple]:
        """This week's orders (and cancellations, applied to the book directly);
        ``views``: the model's week views, if the caller took them for every buyer.

        The model decides for every fleet buyer at once
        (:class:`market_sim.agents.fleet.FleetBatch`, a kernel); this method is its
        oracle."""
        rule, m, h = self.ordering, self.model, self.holder
        if views is None:
            views = m.week_views()
        c = views.choices  # (the methods' reads of the model's views, once)
        lines = c.lines[h]
        quote = float(c.quote[h]) if lines else self.expected_lead  # expected_quote()
        shortening = quote < self.expected_lead  # quotes below what the buyer expected
        self.expected_lead += (quote - self.expected_lead) / rule.lead_time_smoothing_weeks
        desired = self.desired  # (its weeks as Python floats: the same arithmetic, quicker)
        now, ahead = float(desired[week]), float(desired[week + 1])
        need = max(0.0, ahead - now)
        gap = (now - self.given_up_h100e) - views.installed_h100e[h]
        if rule.give_up_weeks is not None:
            self._give_up(rule, gap)
        supply_line = views.open_h100e[h]
        if rule.phantom_cancel > 0 and shortening:
            # orders beyond what the shorter quote needs in the pipe were placed to hold a
            # place in a long queue (double orders): cancel a share of them, order nothing
            phantom = supply_line - need * quote - max(gap, 0.0)
            if phantom > 0:
                self._cancel(rule.phantom_cancel * phantom, supply_line)
                return []
        desired_line = need * self.expected_lead
        if rule.padding > 0:  # double ordering while waits are long
            normal = rule.normal_lead_weeks
            excess = min(1.0, max(0.0, (self.expected_lead - normal) / normal))
            desired_line *= 1.0 + rule.padding * excess
        indicated = (
            need
            + gap / rule.stock_adjust_weeks
            + rule.supply_line_weight * (desired_line - supply_line) / rule.stock_adjust_weeks
        )
        if indicated < 0:
            self._cancel(-indicated, supply_line)
            return []
        if not lines:  # can_order()
            return []
        usd = float(c.usd_per_h100e[h])  # cap_by_budget(week, indicated), orders_for(...)
        left = self.budget_left_usd(week, views.open_usd[h])
        if usd > 0 and math.isfinite(left):
            indicated = min(indicated, left / usd)
        out = []
        for p, units_per_h100e, limit in lines:
            units = indicated * units_per_h100e
            if units >= 1e-6:
                out.append((p, units, limit))
        return out

    def _give_up(self, rule, gap: float) -> None:
        """Give up 1/``give_up_weeks`` of a fleet gap (H100e) from next week on; with
        ``give_up_return_weeks``, only while waits are long (expected lead above
        ``normal_lead_weeks``), and take 1/``give_up_return_weeks`` of what was given up
        back while they are not (deferred work returns from rented compute)."""
        back = rule.give_up_return_weeks
        if back is not None and self.expected_lead <= rule.normal_lead_weeks:
            self.given_up_h100e -= self.given_up_h100e / back
        elif gap > 0:
            self.given_up_h100e += gap / rule.give_up_weeks

    def _cancel(self, h100e: float, supply_line: float) -> None:
        """Cancel up to ``h100e`` of open orders (youngest first), at most
        ``max_cancel_fraction`` of the supply line this week."""
        m = self.model
        idx = m.book.open_by(self.holder)
        cap = self.ordering.max_cancel_fraction * supply_line
        weight = m.world.products.h100e[m.book.product[idx]]
        cancelled = m.book.cancel(idx, min(h100e, cap), weight)
        m.holdings.cancelled_h100e[self.holder] += cancelled

    def gray_bid(self, week: int) -> tuple[float, float]:
        """(price USD/H100e, H100e) wanted now on the gray market; (0, 0) if none.

        A unit now is worth the list price plus ``economics.gray_wait_value_share`` of
        renting one until an order would arrive (rental price x hours x expected lead),
        up to the buyer's ceiling.
        """
        return self._gray_bid(self._fleet_gap(week))

    def gray_ask(self, week: int) -> tuple[float, float]:
        """(price USD/H100e, H100e) offered on the gray market: what is ahead of plan."""
        return self._gray_ask(-self._fleet_gap(week))  # installed_h100e - wanted(week)

    def gray_orders(
        self, week: int, installed: list[float] | None = None
    ) -> tuple[tuple[float, float], tuple[float, float]]:
        """``(gray_bid(week), gray_ask(week))``, the fleet gap computed once (the surplus
        is its negation, exactly); ``installed``: every firm holder's installed H100e, if
        the caller has them."""
        gap = self._fleet_gap(week, installed)
        return self._gray_bid(gap), self._gray_ask(-gap)

    def _fleet_gap(self, week: int, installed: list[float] | None = None) -> float:
        """wanted(week) - installed H100e."""
        if installed is None:
            mine = float(self.model.installed_h100e()[self.holder])
        else:
            mine = installed[self.holder]
        return (float(self.desired[week]) - self.given_up_h100e) - mine

    def _gray_bid(self, gap: float) -> tuple[float, float]:
        if gap <= 0:
            return 0.0, 0.0
        m = self.model
        wait = m.market.rental_price * self._hours_per_week * self.expected_lead
        value = m.reference_price_per_h100e() + wait * self._gray_wait_share
        price = min(self.spec.max_price_per_h100e_usd, value)
        return price, gap * self.spec.gray_market_share

    def _gray_ask(self, surplus: float) -> tuple[float, float]:
        if surplus <= self.spec.gray_ask_min_h100e:
            return 0.0, 0.0
        return self.model.reference_price_per_h100e() / (1.0 - self._resale_haircut), surplus

    def rent_share(self) -> float | None:
        """``rent_out_share``, or None when it is 0 (it offers nothing)."""
        return None if self._rent_out_share == 0.0 else float(self._rent_out_share)

    def rental_ask(self, week: int, installed: list[float] | None = None) -> tuple[float, float]:
        """(price USD per H100e-hour, H100e) offered for rent this week; ``installed``:
        every firm holder's installed H100e, if the caller has them."""
        share = self._rent_out_share
        if share == 0.0:  # rents nothing out (share x installed compute is 0)
            return 0.0, 0.0
        qty = share * (self.installed_h100e if installed is None else installed[self.holder])
        return (self.own_cost_per_hour(), qty) if qty > 0 else (0.0, 0.0)


class EnterpriseAgent(FleetBuyer):
    """A buyer with fleet targets that does not rent out (Tesla, the rest of the market)."""

    role = "enterprise"
