"""How buyers split an order over products.

A product's share is proportional to ``weight x (price per H100e)^-elasticity x
exp(-sensitivity x quoted lead weeks)`` over the products the buyer may order this week
(launched or in production, not ended, not export-controlled, price within reach).
The weight is the buyer's ``product_weights`` entry, else the product's
``demand_weight``, times 1 + the make-or-buy commitment of an in-house product's program
(in-house chips go to their owner only); a weight of 0 excludes the product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from market_sim.market.kernels_sum import PAIRWISE_MAX
from market_sim.model.choice_kernel import choice_cells, choice_exponents
from market_sim.model.state import Market
from market_sim.model.world import BuyerArrays, World


@dataclass(frozen=True)
class Choices:
    """Every holder's choice this week (one row or entry per holder).

    ``shares`` [holders, products]: split of a new order (H100e); ``quote``: quoted lead
    weeks its mix implies; ``usd_per_h100e``: list price of its mix per H100e (0 when
    nothing qualifies); the order lines, one per (holder, product) cell with a positive
    share, in row-major order: ``cell_holder``, ``cell_product``, ``cell_units`` (units
    of the product per H100e ordered) and ``cell_limit`` (limit USD per unit);
    ``can_order``: whether a holder has any line. :attr:`lines` has them per holder as
    plain Python numbers.
    """

    shares: np.ndarray
    quote: np.ndarray
    usd_per_h100e: np.ndarray
    cell_holder: np.ndarray
    cell_product: np.ndarray
    cell_units: np.ndarray
    cell_limit: np.ndarray
    can_order: np.ndarray
    price_per_h100e: np.ndarray
    """Each product's list price per H100e (USD) these choices were made at."""
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def merchant_mix(self, merchant: np.ndarray) -> tuple[np.ndarray, list[float]]:
        """Every holder's shares over the products of ``merchant`` (a mask): ``(mix,
        total)``, its shares there over their sum (rows of ``mix``; meaningless where the
        sum is not positive) and that sum (as numpy sums each holder's row alone),
        computed once per mask."""
        key = merchant.tobytes()
        memo = self._memo.get(key)
        if memo is None:
            shares = self.shares * merchant
            total = np.add.reduce(shares, axis=1)  # each row pairwise, as a row alone
            mix = shares / np.where(total > 0, total, 1.0)[:, None]
            memo = self._memo[key] = (mix, total.tolist())
        return memo

    @cached_property
    def lines(self) -> list[list[tuple[int, float, float]]]:
        """Per holder, ``(product, units per H100e ordered, limit USD per unit)`` for each
        product with a positive share, as plain Python numbers (made when first read)."""
        lines: list[list[tuple[int, float, float]]] = [[] for _ in range(len(self.shares))]
        cells = zip(
            self.cell_holder.tolist(),
            self.cell_product.tolist(),
            self.cell_units.tolist(),
            self.cell_limit.tolist(),
            strict=True,
        )
        for h, p, units, usd in cells:
            lines[h].append((p, units, usd))
        return lines


def choices_for(world: World, market: Market) -> Choices:
    """:func:`choices_reference`, the per-holder work in one kernel call
    (:func:`market_sim.model.choice_kernel.choice_cells`; the same numbers)."""
    pr, b = world.products, world.buyers
    if len(pr) > PAIRWISE_MAX:  # numpy sums longer rows in halves: keep its own sums
        return choices_reference(world, market)
    price_h = market.list_price / pr.h100e
    log_price = np.log(np.maximum(price_h, 1e-9))
    exponent, quotes = choice_exponents(  # numpy's arithmetic on them, in a kernel
        log_price, market.quotes, b.tiers, b.elasticity, b.sensitivity
    )
    shares, quote, cells, per, lim = choice_cells(
        market.orderable,
        market.allowed,
        price_h,
        b.ceiling,
        b.weights,
        market.program_commitment[pr.vendor],
        np.exp(exponent),  # numpy's exp (a kernel's would round differently)
        quotes,
        market.list_price,
        pr.h100e,
    )
    return _choices(shares, quote, cells, per, lim, price_h)


def choices_reference(world: World, market: Market) -> Choices:
    """:func:`choice_matrix` with each holder's price and order lines (see Choices), in
    numpy (the test oracle of :func:`choices_for`)."""
    shares, quote = choice_matrix(world, market)
    pr = world.products
    per_h100e = shares / pr.h100e  # units of each product per H100e ordered
    ceiling = world.buyers.ceiling
    limit = np.maximum(market.list_price[None, :], ceiling[:, None] * pr.h100e[None, :])
    cells = np.flatnonzero(shares > 0)  # (holder, product) cells, row-major
    per, lim = per_h100e.ravel()[cells], limit.ravel()[cells]
    return _choices(shares, quote, cells, per, lim, market.list_price / pr.h100e)


def _choices(shares, quote, cells, per, lim, usd_per_unit_h100e) -> Choices:
    n_h, n_p = shares.shape
    holder, product = np.divmod(cells, n_p)
    usd = shares @ usd_per_unit_h100e
    can_order = np.bincount(holder, minlength=n_h) > 0
    return Choices(shares, quote, usd, holder, product, per, lim, can_order, usd_per_unit_h100e)


def choice_matrix(world: World, market: Market) -> tuple[np.ndarray, np.ndarray]:
    """Every holder's product shares ([holders, products]) and the quote its mix implies.

    One row per holder (see the module docstring): its weights over the products it may
    order now (orderable, allowed, price per H100e within its ceiling), with its price
    elasticity, lead-time sensitivity and the quotes of its priority tier. A row of zeros
    when nothing qualifies.
    """
    pr = world.products
    price_h = market.list_price / pr.h100e
    log_price = np.log(np.maximum(price_h, 1e-9))
    b: BuyerArrays = world.buyers
    quotes = market.quotes[:, np.minimum(b.tiers, market.quotes.shape[1] - 1)].T.astype(float)
    ok = market.orderable[None, :] & market.allowed & (price_h[None, :] <= b.ceiling[:, None])
    weights = np.where(ok, b.weights * (1.0 + market.program_commitment[pr.vendor]), 0.0)
    score = np.where(
        weights > 0, weights * np.exp(-b.elasticity * log_price - b.sensitivity * quotes), 0.0
    )
    total = score.sum(axis=1, keepdims=True)
    shares = np.divide(score, total, out=np.zeros_like(score), where=total > 0)
    return shares, (shares * quotes).sum(axis=1)
