"""The markets a week clears, as small configuration objects.

Every market of a week is cleared by one call of :func:`market_sim.market.clear_markets`:

- the **primary** markets, one per product: the vendor's inventory is allocated over its
  open orders by the product's allocation policy (:mod:`market_sim.market.policies`);
  buyers pay the list price (the clearing price under a uniform-price policy);
- the **double auctions** of :data:`market_sim.model.trading.DOUBLE_AUCTIONS`, in that
  order: each names what trades, the metric its price is reported as, where its bids and
  asks come from and how its trades settle. A double auction with no trade carries its
  last price forward.

Adding a double auction is one :class:`DoubleAuction` in that tuple, with the two
functions it names (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Orders = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Double-auction orders: (price, quantity, owner index) arrays."""


@dataclass(frozen=True)
class DoubleAuction:
    """A uniform-price double auction cleared every week.

    ``orders(trading, week) -> (bids, asks)`` collects the week's orders;
    ``settle(trading, week, price, bid_fills, ask_fills, bids, asks)`` books its trades
    (``price`` is NaN when nothing trades). ``price_metric`` is the catalogue name its
    price is reported under (``@REFERENCE_PRODUCT``).
    """

    name: str
    traded: str
    price_unit: str
    price_metric: str
    description: str
    orders: Callable[[Any, int], tuple[Orders, Orders]]
    settle: Callable[[Any, int, float, np.ndarray, np.ndarray, Orders, Orders], None]


def quoted_price(bid_price: np.ndarray, ask_price: np.ndarray, fallback: float) -> float:
    """The price of a double auction in a week nothing trades (USD per unit traded): the
    midpoint of the best bid and the best ask when both sides have orders, the best bid
    when only buyers do (the price is at least that), the best ask when only sellers do
    (at most that), ``fallback`` when neither. A week without trade never repeats an old
    trade's price: a glut's gray market would show a shortage's price for a year."""
    has_bid, has_ask = len(bid_price) > 0, len(ask_price) > 0
    if has_bid and has_ask:
        return 0.5 * (float(bid_price.max()) + float(ask_price.min()))
    if has_bid:
        return float(bid_price.max())
    if has_ask:
        return float(ask_price.min())
    return float(fallback)


@dataclass(frozen=True)
class PrimaryMarkets:
    """The vendors' markets, one per product (documentation object: their rules live in
    the allocation policies and the clearing kernels)."""

    name: str = "primary"
    traded: str = "units of one product"
    price_unit: str = "USD per unit"
    price_metric: str = "list_price_usd"
    description: str = (
        "a vendor allocates its week's inventory over the open orders of a product by the "
        "product's allocation policy; buyers pay the list price (or a uniform clearing "
        "price) on delivery"
    )


PRIMARY = PrimaryMarkets()
