"""How buyers split an order over products.

A product's share is proportional to ``weight x (price per H100e)^-elasticity x
exp(-sensitivity x quoted lead weeks)`` over the products the buyer may order this week
(launched or in production, not ended, not export-controlled, price within reach).
The weight is the buyer's ``product_weights`` entry, else the product's
``demand_weight``; a weight of 0 excludes the product.
"""

from __future__ import annotations

import numpy as np


def product_shares(
    weight: np.ndarray,
    price_per_h100e: np.ndarray,
    lead_weeks: np.ndarray,
    elasticity: float,
    sensitivity: float,
) -> np.ndarray:
    """Shares (summing to 1, or all 0 if nothing qualifies) of an order in H100e.

    Args:
        weight: base preference per product (0 = excluded).
        price_per_h100e: list price per H100e, USD (> 0).
        lead_weeks: quoted lead time for a new order, weeks.
        elasticity: >= 0, how strongly a cheaper H100e attracts demand.
        sensitivity: >= 0, per week, how strongly a long lead time repels demand.
    """
    score = weight * np.exp(
        -elasticity * np.log(np.maximum(price_per_h100e, 1e-9)) - sensitivity * lead_weeks
    )
    score = np.where(weight > 0, score, 0.0)
    total = score.sum()
    return score / total if total > 0 else np.zeros_like(score)
