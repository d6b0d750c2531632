"""Market clearing for market_sim: numba kernels, their plain-Python reference and a numpy
baseline.

Public API (units: quantities in units, prices in USD per unit, times in weeks):

- :func:`allocate` — one vendor's week: ration supply over the order book by policy;
- :func:`double_auction` — the gray (secondary) and rental markets;
- :func:`queue_ahead` and :func:`quote_lead_times` — quoted lead times of open orders;
- :func:`quote_markets` — quotes for new orders in every market at once;
- :func:`clear_markets` — every market of a simulated week in one kernel call;
- :data:`POLICIES` — policy name -> integer code used by ``clear_markets``.

``market_sim.market.reference`` is the oracle and ``market_sim.market.numpy_impl`` the
numpy (sort-and-cumsum) version.  The rules are in docs/market_clearing.md.
"""

from market_sim.market.kernels import (
    allocate,
    clear_markets,
    double_auction,
    queue_ahead,
    quote_lead_times,
    quote_markets,
)
from market_sim.market.kernels_common import (
    ALLOC_RTOL,
    POLICIES,
    QUOTE_RTOL,
    ClearingResult,
)

__all__ = [
    "ALLOC_RTOL",
    "POLICIES",
    "QUOTE_RTOL",
    "ClearingResult",
    "allocate",
    "clear_markets",
    "double_auction",
    "queue_ahead",
    "quote_lead_times",
    "quote_markets",
]
