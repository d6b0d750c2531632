"""The weekly state of a run, declared in one place.

:class:`GPUMarketModel` owns one of each object below and hands them to the phases of a
week (:mod:`market_sim.model.production`, :mod:`market_sim.model.trading`,
:mod:`market_sim.model.record`), which change their fields and return what they produce.
Nothing else creates state: a field that is not declared here (or in an agent's own
``__init__``) does not exist. The firms' own state (vendors' pipelines, chipmakers'
capacity, buyers' expectations) lives on their Mesa agents; the startups' in the
population's arrays.

Version counters let cached views (each firm's installed compute, open orders, product
choices) know when to recompute: bump them through the ``*_changed`` methods whenever a
field they depend on changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass
class Market:
    """Prices, quotes and who may buy what: [products] arrays unless said otherwise."""

    list_price: np.ndarray
    """Vendors' list price, USD per unit."""
    launch_week: np.ndarray
    """First week of volume output (moved by launch events and in-house program starts)."""
    quotes: np.ndarray
    """[products, tiers]: quoted lead time of a new one-unit order, weeks."""
    orderable: np.ndarray
    """Products a buyer can order this week (bool)."""
    allowed: np.ndarray
    """[holders, products]: whether a firm may receive a product (export controls)."""
    graph: nx.DiGraph
    """The supply graph as it stands (export controls cut vendor-to-buyer edges)."""
    spot_price: float
    """Gray-market price, USD per H100e (the last trade's)."""
    rental_price: float
    """Rental price, USD per H100e-hour (the last trade's)."""
    program_commitment: np.ndarray
    """[vendors]: make-or-buy commitment of each in-house program (0: none): its owner's
    weight on its chips is scaled by 1 + this."""
    program_supply_boost: np.ndarray
    """[vendors]: the part of the commitment booked as supply: the program's contracted
    node shares are scaled by 1 + this (out of the uncontracted rest)."""
    program_outlays_usd: float = 0.0
    """Development outlays of in-house programs started by make-or-buy, USD."""
    price_version: int = 0
    choice_version: int = 0

    def prices_changed(self) -> None:
        """Call after changing ``list_price``."""
        self.price_version += 1

    def choices_changed(self) -> None:
        """Call after changing ``quotes``, ``orderable``, ``allowed`` or
        ``program_commitment``."""
        self.choice_version += 1


@dataclass
class Holdings:
    """Compute held by the firms (holders): what they bought in the run and before it."""

    fleet: np.ndarray
    """[holders, products]: units bought during the run (net of gray-market trades)."""
    legacy_h100e: np.ndarray
    """[holders]: compute held before the run (net of gray-market trades), H100e."""
    cancelled_h100e: np.ndarray
    """[holders]: open orders the firm cancelled itself, cumulative H100e."""
    version: int = 0

    def changed(self) -> None:
        """Call after changing ``fleet`` or ``legacy_h100e``."""
        self.version += 1


@dataclass
class WeekFlows:
    """What the phases of the current week produced ([products] arrays in units)."""

    arrivals: np.ndarray
    """Finished units that left the pipelines this week."""
    node_output: np.ndarray
    """[vendors, nodes]: node units (wafers or stacks) used this week."""
    new_orders: np.ndarray
    """Units ordered this week (buyers and startups)."""
    market_price: np.ndarray
    """Price paid per unit in each primary market this week, USD (the clearing price
    under ``auction``, the list price otherwise)."""

    @classmethod
    def empty(cls, n_products: int, n_vendors: int, n_nodes: int) -> WeekFlows:
        return cls(
            arrivals=np.zeros(n_products),
            node_output=np.zeros((n_vendors, n_nodes)),
            new_orders=np.zeros(n_products),
            market_price=np.zeros(n_products),
        )
