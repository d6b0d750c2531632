"""Constants shared by the market-clearing kernels, the reference and the numpy version.

Everything here is plain Python data (no numba), so the pure-Python oracle in
``reference.py`` can import it without depending on the kernels.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from market_sim.market.policies import POLICIES, get_policy

#: Allocation policies: the registry in :mod:`market_sim.market.policies` (plain Python).
#: The built-ins keep these codes.
POLICY_PRO_RATA = POLICIES["pro_rata"]
POLICY_PRIORITY = POLICIES["priority"]
POLICY_FIFO = POLICIES["fifo"]
POLICY_AUCTION = POLICIES["auction"]

#: Rounding slack of the rationing walk, relative to the supply being allocated
#: (units).  A tie group is served in full when the demand served up to and
#: including it exceeds supply by at most ``ALLOC_RTOL * supply``; supply is
#: exhausted once less than ``ALLOC_RTOL * supply`` is left.  2**-40 (about 9.1e-13):
#: far above float64 summation noise, and deliberately not a round number, so that
#: the slack of a round supply (1e12 units -> 0.909 units) does not coincide with a
#: round order size.  See docs/market_clearing.md, "Rounding slack".
ALLOC_RTOL = 2.0**-40

#: Relative tolerance of the lead-time quote: week k is reached when
#: ``cumulative_arrivals[k] >= target * (1 - QUOTE_RTOL)``; 2**-40 as above.
QUOTE_RTOL = 2.0**-40

# Error codes returned by the kernels' validation passes (0 = ok).  The Python
# wrappers turn them into ValueError messages.
ERR_OK = 0
ERR_QTY = 1  # a quantity is NaN, infinite or negative
ERR_PRICE = 2  # a price is NaN or infinite
ERR_SUPPLY = 3  # supply / capacity is NaN, infinite or negative
ERR_POLICY = 4  # unknown policy code
ERR_QUEUE = 5  # queue_ahead is NaN or negative
ERR_PIPELINE = 6  # pipeline entry is NaN, infinite or negative
ERR_OFFSETS = 7  # CSR offsets are not a non-decreasing 0..n sequence

ERROR_MESSAGES = MappingProxyType(
    {
        ERR_QTY: "quantities must be finite and >= 0 (units); got NaN, inf or a negative value",
        ERR_PRICE: "prices must be finite (USD); got NaN or inf",
        ERR_SUPPLY: "supply/capacity must be finite and >= 0 (units); got NaN, inf or negative",
        ERR_POLICY: "unknown policy code or malformed policy row; see "
        "market_sim.market.policies.POLICIES for the registered codes",
        ERR_QUEUE: "queue_ahead must be >= 0 (units; +inf allowed); got NaN or a negative value",
        ERR_PIPELINE: "pipeline entries must be finite and >= 0 (units); got NaN, inf or negative",
        ERR_OFFSETS: "offsets must start at 0, be non-decreasing and end at the array length",
    }
)


def policy_code(policy: str) -> int:
    """Return the integer code of a registered policy; ValueError listing valid names."""
    return get_policy(policy).code


class ClearingResult(NamedTuple):
    """Output of ``clear_markets`` for one simulated week.

    fills: float64[N], units allocated to each primary-market order this week.
    price: float64[M], USD per unit: the uniform clearing price of ``auction`` markets,
        the list price otherwise.
    lead_weeks: int64[N], quoted lead time of each order's remaining quantity (weeks).
    da_price: float64[K], USD per unit of each double auction; NaN when nothing trades.
    bid_fills: float64[B], units bought by each bid.
    ask_fills: float64[A], units sold by each ask.
    """

    fills: np.ndarray
    price: np.ndarray
    lead_weeks: np.ndarray
    da_price: np.ndarray
    bid_fills: np.ndarray
    ask_fills: np.ndarray
