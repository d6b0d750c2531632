"""Neoclouds: buy GPUs to rent them out when rental income pays them back in time.

Weekly, a neocloud compares what one H100e earns over its payback horizon,
``(rental price - opex) x hours x utilisation x payback_weeks``, with the cheapest list
price per H100e it can order. When renting pays, it orders growth of
``max_growth_per_week`` of its fleet (at least ``min_growth_h100e``), as long as its open orders do
not already cover that growth over the expected lead time and the year's capital allows.
It offers its fleet for rent at its cost of owning (capital over the service life at its
utilisation, plus opex), less the share leased under contract to buyers outside the model
(``contracted_share``: AI labs and hyperscalers; the contracts' income is not modelled).
"""

from __future__ import annotations

import mesa

from market_sim.agents.buyers import Holder, WeekViews


class NeocloudAgent(Holder):
    """CoreWeave, Lambda and the like."""

    role = "neocloud"

    def __init__(self, model: mesa.Model, spec, index: int, klass: int):
        super().__init__(model, spec, index, klass)

    def payback_value(self) -> float:
        """What one H100e earns over the payback horizon at the going rental price, USD."""
        m = self.model
        econ = m.world.scenario.economics
        margin = m.rental_price - econ.opex_usd_per_gpu_hour
        return margin * econ.hours_per_week * self.spec.utilisation * self.spec.payback_weeks

    def decide(self, week: int, views: WeekViews | None = None) -> list[tuple]:
        """This week's orders; ``views`` is accepted for the buyers' common call
        (:meth:`market_sim.agents.buyers.FleetBuyer.decide`) and not needed here."""
        h100e = self.order_h100e(week)
        return [] if h100e is None else self.orders_for(h100e)

    def order_h100e(self, week: int) -> float | None:
        """The H100e this neocloud orders this week, before its split over products
        (:meth:`orders_for`), or None."""
        m = self.model
        self.learn_lead_time(self.expected_quote())
        if not self.can_order():
            return None
        price = float(m.choices().usd_per_h100e[self.holder])
        if self.payback_value() < price:
            return None
        growth = max(
            self.spec.min_growth_h100e, self.spec.max_growth_per_week * self.installed_h100e
        )
        growth *= m.holder_demand_factor(self.holder, week)
        if self.open_orders_h100e() >= growth * max(1.0, self.expected_lead):
            return None
        return self.cap_by_budget(week, growth)

    def rent_share(self) -> float | None:
        """The share not leased under contract (``1 - contracted_share``)."""
        return 1.0 - self.spec.contracted_share

    def rent_utilisation(self) -> float:
        return float(self.spec.utilisation)

    def rental_ask(self, week: int, installed: list[float] | None = None) -> tuple[float, float]:
        """(price USD per H100e-hour, H100e): the fleet not leased under contract
        (``contracted_share``), at the cost of owning; ``installed``: every firm
        holder's installed H100e, if the caller has them."""
        mine = self.installed_h100e if installed is None else installed[self.holder]
        qty = (1.0 - self.spec.contracted_share) * mine
        return (self.own_cost_per_hour(self.spec.utilisation), qty) if qty > 0 else (0.0, 0.0)
