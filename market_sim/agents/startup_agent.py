"""One startup as a Mesa agent: a view of a row of the population's arrays
(:class:`market_sim.agents.startups.StartupPopulation`, which makes these agents when
first looked at), with the plain-Python twins of the population's kernels (``decide``
and ``settle``, the per-agent mode: the kernels' test oracle and benchmark baseline)."""

from __future__ import annotations

from typing import Any

import mesa

from market_sim.agents import startup_kernels as K


class StartupAgent(mesa.Agent):
    """One startup: a Mesa agent whose state is a row of the population's arrays."""

    role = "startup"

    def __init__(self, model: mesa.Model, population: Any, index: int):
        super().__init__(model)
        self.population = population
        self.index = index

    def _get(self, name: str):
        return self.population.cols[name][self.index]

    def _set(self, name: str, value) -> None:
        self.population.cols[name][self.index] = value

    status = property(lambda self: int(self._get("status")))
    cash_usd = property(lambda self: float(self._get("cash")))
    round_usd = property(lambda self: float(self._get("round_usd")))
    value_usd_per_gpu_hour = property(lambda self: float(self._get("value")))
    need_h100e = property(lambda self: float(self._get("need")))
    owned_h100e = property(lambda self: float(self._get("owned")))
    on_order_h100e = property(lambda self: float(self._get("on_order")))
    buys_direct = property(lambda self: bool(self._get("direct")))
    starved_weeks = property(lambda self: int(self._get("starved")))
    compute_h100e = property(lambda self: float(self._get("got")))

    @property
    def active(self) -> bool:
        return self.status == K.ACTIVE

    # ------------------------------------------------- per-agent mode (the kernels' oracle)
    def decide(self, demand_mult: float, buy_price: float, out: tuple) -> None:
        """Plain-Python twin of ``startups_demand`` for this startup."""
        bid_price, bid_qty, buy = out
        i, n = self.index, len(buy)
        if self._get("status") != K.ACTIVE:
            return
        value, cash = self._get("value"), self._get("cash")
        spec = self.population.spec
        hours, spread, share = self.population.hours, spec.value_spread, spec.first_tranche_share
        owned = self._get("owned")
        want = self._get("need") * demand_mult
        gap = max(0.0, want - owned)
        high, low = value * (1.0 + spread), value * (1.0 - spread)
        first = min(share * gap, cash / (high * hours) if cash > 0.0 else 0.0)
        rest = cash - first * high * hours
        afford = rest / (low * hours) if rest > 0.0 and low > 0.0 else 0.0
        second = min((1.0 - share) * gap, afford)
        bid_price[i], bid_qty[i] = high, first
        bid_price[n + i], bid_qty[n + i] = low, second
        if self._get("direct") and buy_price > 0.0:
            to_order = want - owned - self._get("on_order")
            if to_order > 0.0:
                can = cash / buy_price if cash > 0.0 else 0.0
                buy[i] = to_order if to_order < can else can

    def settle(self, delivered, paid, draws, rental_price, demand_mult, opex, week) -> None:
        """Plain-Python twin of ``startups_settle`` for this startup."""
        i, s, hours = self.index, self.population.spec, self.population.hours
        if self._get("status") != K.ACTIVE:
            self._set("got", 0.0)
            return
        owned = self._get("owned") + delivered[i]
        self._set("owned", owned)
        self._set("on_order", max(0.0, self._get("on_order") - delivered[i]))
        rented = self._get("rented")
        have = owned + rented
        self._set("got", have)
        cost = rented * rental_price * hours + owned * opex * hours + paid[i]
        cash = self._get("cash") - cost
        starved = (
            self._get("starved") + 1
            if have < s.starve_threshold * self._get("need") * demand_mult
            else 0
        )
        self._set("starved", starved)
        round_usd = self._get("round_usd")
        if cash < s.raise_below_round_share * round_usd and draws[i] < s.raise_probability_per_week:
            round_usd = round_usd * s.raise_multiple
            cash += round_usd
            self._set("round_usd", round_usd)
            self._set(
                "need",
                round_usd
                * s.compute_share_of_funding
                / (s.runway_weeks * self._get("value") * hours),
            )
        self._set("cash", cash)
        if starved >= s.starve_weeks_to_exit or cash <= 0.0:
            self._set("status", K.EXITED)
            self._set("exited_week", week)
