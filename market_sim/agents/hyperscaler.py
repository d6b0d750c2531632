"""Hyperscalers: fleet buyers (:class:`~market_sim.agents.buyers.FleetBuyer`) that rent
out spare capacity and may build their own chip.

The make-or-buy rule (docs/ODD.md, "Make-or-buy"): each week a hyperscaler with an
in-house program compares the merchant GPUs it would order now with its program's cost
per H100e (price premium) and their quoted lead time; after ``sustain_weeks`` dear and slow
weeks in a row it starts a dormant program, and while the program runs each such week
raises its commitment by ``boost_per_week`` (up to ``max_boost``).
"""

from __future__ import annotations

import mesa

from market_sim.agents.buyers import FleetBuyer


class HyperscalerAgent(FleetBuyer):
    """A hyperscaler: fleet targets, capex, rents spare capacity, may build its own chip."""

    role = "hyperscaler"

    def __init__(self, model: mesa.Model, spec, index: int, klass: int):
        super().__init__(model, spec, index, klass)
        self.trigger_weeks = 0  # dear-and-slow weeks in a row
        self.program_started: int | None = None  # week the make-or-buy rule started it
        self.commitment = 0.0  # make-or-buy acceleration of the program (factor - 1)
        self._own_cost: dict[int, float] = {}  # vendor -> its cheapest USD per H100e
        self._merchant = model.world.products.owner_holder < 0  # fixed per run

    def merchant_strain(self, vendor) -> tuple[float, float] | None:
        """(price premium, quote in weeks) of the merchant GPUs this buyer would order now,
        or None when it would order none.

        Premium: the list price per H100e of its merchant mix (this week's shares without
        in-house chips), or the gray-market price if higher, over its program's cost per
        H100e. Quote: the mix's quoted lead time at its tier, at most the rule's
        ``quote_tier_cap``.
        """
        trig = self.spec.in_house
        m = self.model
        choices = m.choices()
        mixes, totals = choices.merchant_mix(self._merchant)  # the week's, for every holder
        if totals[self.holder] <= 0:  # (choices.shares[holder] * merchant).sum()
            return None
        mix = mixes[self.holder]  # those shares over their sum
        market = m.market  # list price per H100e: the choices' (the same prices)
        price = max(float(mix @ choices.price_per_h100e), float(market.spot_price))
        own_cost = self._own_cost.get(vendor.index)
        if own_cost is None:  # fixed per run
            pr = m.world.products
            own_cost = min(pr.unit_cost_usd[p] / pr.h100e[p] for p in vendor.products)
            self._own_cost[vendor.index] = own_cost
        quotes = market.quotes
        tier = min(self.spec.priority_tier, trig.quote_tier_cap, quotes.shape[1] - 1)
        quote = float(mix @ quotes[:, tier])
        return price / own_cost, quote

    def consider_in_house(self, week: int) -> bool:
        """Make-or-buy, weekly: count the weeks in a row merchant GPUs are dear and slow;
        start a dormant program after ``sustain_weeks`` of them, and raise a running
        program's commitment by ``boost_per_week`` each such week (up to ``max_boost``):
        the owner's weight on its chips x (1 + commitment), the program's contracted
        supply shares x (1 + ``supply_share_boost`` x commitment).
        Returns True in the week a program starts."""
        trig = self.spec.in_house
        if trig is None:
            return False
        m = self.model
        vendor = m.vendor_by_id[trig.vendor]
        strain = self.merchant_strain(vendor)
        dear_and_slow = strain is not None and (
            strain[0] >= trig.price_premium_trigger and strain[1] >= trig.lead_time_trigger_weeks
        )
        self.trigger_weeks = self.trigger_weeks + 1 if dear_and_slow else 0
        if vendor.active:
            if dear_and_slow and self.commitment < trig.max_boost and trig.boost_per_week > 0:
                self.commitment = min(trig.max_boost, self.commitment + trig.boost_per_week)
                m.commit_program(vendor, self.commitment, trig.supply_share_boost * self.commitment)
            return False
        if self.program_started is not None or self.trigger_weeks < trig.sustain_weeks:
            return False
        self.program_started = week
        outlay = trig.dev_cost_usd_bn * 1e9
        m.start_program(vendor, week, trig.dev_lag_weeks, outlay)
        self.spend(week, outlay)
        return True
