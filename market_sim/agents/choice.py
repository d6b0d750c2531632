"""How buyers split an order over products.

A product's share is proportional to ``weight x (price per H100e)^-elasticity x
exp(-sensitivity x quoted lead weeks)`` over the products the buyer may order this week
(launched or in production, not ended, not export-controlled, price within reach).
The weight is the buyer's ``product_weights`` entry, else the product's
``demand_weight``; a weight of 0 excludes the product.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from market_sim.model import GPUMarketModel


def choice_matrix(model: GPUMarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Every holder's product shares ([holders, products]) and the quote its mix implies.

    One row per holder (see the module docstring): its weights over the products it may
    order now (orderable, allowed, price per H100e within its ceiling), with its price
    elasticity, lead-time sensitivity and the quotes of its priority tier. A row of zeros
    when nothing qualifies.
    """
    pr = model.world.products
    price_h = model.list_price / pr.h100e
    log_price = np.log(np.maximum(price_h, 1e-9))
    specs = [h.spec for h in model.holders]
    tiers = np.minimum([sp.priority_tier for sp in specs], model.quotes.shape[1] - 1)
    quotes = model.quotes[:, tiers].T.astype(float)  # [holders, products]
    ceiling = np.array([sp.max_price_per_h100e_usd for sp in specs])
    ok = model.orderable[None, :] & model.allowed & (price_h[None, :] <= ceiling[:, None])
    weights = np.where(ok, np.array([h.weights for h in model.holders]), 0.0)
    elasticity = np.array([sp.price_elasticity for sp in specs])[:, None]
    sensitivity = np.array([sp.lead_time_sensitivity for sp in specs])[:, None]
    score = np.where(
        weights > 0, weights * np.exp(-elasticity * log_price - sensitivity * quotes), 0.0
    )
    total = score.sum(axis=1, keepdims=True)
    shares = np.divide(score, total, out=np.zeros_like(score), where=total > 0)
    return shares, (shares * quotes).sum(axis=1)
