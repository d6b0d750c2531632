"""The buyers' state in arrays, and the fleet buyers' weekly rules for all of them at once.

:class:`BuyerState` holds every holder's expectation and give-up (the model's; each
:class:`market_sim.agents.buyers.Holder` reads and writes its entry through properties).
:class:`FleetBatch` runs the fleet buyers' (hyperscalers' and enterprises') weekly
decisions and gray-market orders as one kernel call each
(:mod:`market_sim.agents.fleet_kernel`); the agents' own methods (``FleetBuyer.decide``,
``FleetBuyer.gray_orders``) are the kernels' oracle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from market_sim.agents.fleet_kernel import (
    CANCEL,
    GRAY_COLUMNS,
    ORDER,
    RULE_COLUMNS,
    fleet_decide_kernel,
    fleet_gray_kernel,
    rental_asks_kernel,
)


@dataclass
class BuyerState:
    """Per holder: ``expected_lead`` (weeks, the smoothed quotes), ``given_up_h100e``
    (the fleet shortfall given up so far, H100e; fleet buyers only), ``paid_usd_total``
    and ``received_h100e_total`` (what its purchases cost, USD, and brought, H100e, on
    the primary and gray markets so far) and ``week_spend_usd`` (this week's outlays:
    purchases and programs, USD)."""

    expected_lead: np.ndarray
    given_up_h100e: np.ndarray
    paid_usd_total: np.ndarray
    received_h100e_total: np.ndarray
    week_spend_usd: np.ndarray

    @classmethod
    def empty(cls, n_holders: int, initial_lead_weeks: float) -> BuyerState:
        lead = np.full(n_holders, float(initial_lead_weeks))
        return cls(lead, *(np.zeros(n_holders) for _ in range(4)))


class RentalAsks:
    """Every holder's rental ask (``rental_ask``) in one kernel call
    (:func:`market_sim.agents.fleet_kernel.rental_asks_kernel`; the holders' own methods
    are its oracle). Per holder, fixed per run: the share of its installed compute it
    offers (0 and not offering for a fleet buyer without ``rent_out_share``) and the
    utilisation its cost of owning is spread over."""

    def __init__(self, holders: Sequence[Any], state: BuyerState):
        self.state = state
        self.share = np.array([h.rent_share() for h in holders], dtype=float)
        self.offers = np.array([h.rent_share() is not None for h in holders], dtype=bool)
        self.share[~self.offers] = 0.0
        self.utilisation = np.array([h.rent_utilisation() for h in holders], dtype=float)
        econ = holders[0].model.world.scenario.economics if len(holders) else None
        self.service_hours = (
            float(econ.service_life_weeks * econ.hours_per_week) if econ is not None else 1.0
        )
        self.opex = float(econ.opex_usd_per_gpu_hour) if econ is not None else 0.0

    def asks(self, installed: np.ndarray, reference_usd: float) -> tuple[np.ndarray, ...]:
        """``(price USD per H100e-hour, H100e, holder)`` of the holders that offer
        compute, in holder order; ``installed``: each holder's H100e, ``reference_usd``:
        the reference product's list price per H100e."""
        st = self.state
        values, holders, k = rental_asks_kernel(
            self.offers,
            self.share,
            self.utilisation,
            installed,
            st.paid_usd_total,
            st.received_h100e_total,
            float(reference_usd),
            self.service_hours,
            self.opex,
        )
        return values[0, :k], values[1, :k], holders[:k]


def _rule_row(rule) -> list[float]:
    """A buyer's ``ordering`` rule as a row of ``RULE_COLUMNS`` (None as NaN)."""
    values = (getattr(rule, k) for k in RULE_COLUMNS)
    return [math.nan if v is None else float(v) for v in values]


class FleetBatch:
    """The fleet buyers of a model (in holder order), decided in one kernel call a week."""

    def __init__(self, buyers: Sequence[Any], state: BuyerState, desired: np.ndarray):
        self.buyers = list(buyers)
        self.state = state
        self.desired = desired  # [holders, weeks + 1] H100e (the model's desired path)
        self.index = np.array([b.holder for b in self.buyers], dtype=np.int64)
        self._rule_objects: list = []
        self._rules = np.zeros((len(self.buyers), len(RULE_COLUMNS)))
        self._year = -1
        self._budget = np.zeros(len(self.buyers))
        self.amount = np.zeros(len(self.buyers))
        self.action = np.zeros(len(self.buyers), dtype=np.int8)
        self._gray = np.array(
            [[float(getattr(b.spec, k)) for k in GRAY_COLUMNS] for b in self.buyers]
        ).reshape(len(self.buyers), len(GRAY_COLUMNS))

    def rules(self) -> np.ndarray:
        """The buyers' rules (``RULE_COLUMNS``), rebuilt when a buyer's ``ordering`` is
        another object than last week's."""
        rules = [b.ordering for b in self.buyers]
        if len(rules) != len(self._rule_objects) or any(
            a is not b for a, b in zip(rules, self._rule_objects, strict=True)
        ):
            self._rule_objects = rules
            self._rules = np.array([_rule_row(r) for r in rules]).reshape(self._rules.shape)
        return self._rules

    def decide(
        self,
        week: int,
        year: int,
        choices: Any,  # market_sim.model.choice.Choices
        installed: np.ndarray,
        open_h100e: np.ndarray,
        open_usd: np.ndarray,
        amounts: np.ndarray,
    ) -> None:
        """Every fleet buyer's ``decide`` on the week's views (per holder: the choices,
        installed compute and open orders, H100e and USD at list prices; see
        :class:`market_sim.agents.buyers.WeekViews`): the H100e each orders goes to
        ``amounts`` (indexed by holder; left as it is for a buyer that orders nothing),
        its cancellations to the book; the expectations and give-ups are updated."""
        if not self.buyers:
            return
        buyers = self.buyers
        if year != self._year:  # each buyer's accelerator budget of the year, USD
            self._budget = np.array([b.year_budget_usd(year) for b in buyers], dtype=float)
            self._year = year
        paid = np.array([b.paid_by_year.get(year, 0.0) for b in buyers], dtype=float)
        c, state = choices, self.state
        amount, action = self.amount, self.action
        fleet_decide_kernel(
            week,
            self.index,
            self.desired,
            c.quote,
            c.can_order,
            installed,
            open_h100e,
            open_usd,
            c.usd_per_h100e,
            self._budget,
            paid,
            self.rules(),
            state.expected_lead,
            state.given_up_h100e,
            amount,
            action,
        )
        for j, (act, h100e) in enumerate(zip(action.tolist(), amount.tolist(), strict=True)):
            if act == ORDER:
                amounts[self.index[j]] = h100e
            elif act == CANCEL:
                b = buyers[j]
                b._cancel(h100e, float(open_h100e[b.holder]))

    def gray_orders(
        self, week: int, installed: np.ndarray, reference_usd: float, rental_usd_per_hour: float
    ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Every fleet buyer's ``gray_orders``: ``((price, H100e, holder) of the bids,
        (price, H100e, holder) of the asks)``, those with a quantity, in holder order."""
        if not self.buyers:
            empty = (np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
            return empty, empty
        b = self.buyers[0]
        values, holders, nb, na = fleet_gray_kernel(
            week,
            self.index,
            self.desired,
            self.state.given_up_h100e,
            installed,
            self.state.expected_lead,
            self._gray,
            float(reference_usd),
            float(rental_usd_per_hour),
            float(b._hours_per_week),
            float(b._gray_wait_share),
            float(b._resale_haircut),
        )
        bids = (values[0, :nb], values[1, :nb], holders[0, :nb])
        return bids, (values[2, :na], values[3, :na], holders[1, :na])
