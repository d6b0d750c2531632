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

The names above are imported on first use (PEP 562): importing this package, or its
plain-Python ``policies`` registry (as the scenario schema does), loads neither numba
nor the kernels, so ``market-sim validate`` starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "allocate": "kernels",
    "clear_markets": "kernels",
    "double_auction": "kernels",
    "queue_ahead": "kernels",
    "quote_lead_times": "kernels",
    "quote_markets": "kernels",
    "ALLOC_RTOL": "kernels_common",
    "POLICIES": "kernels_common",
    "QUOTE_RTOL": "kernels_common",
    "ClearingResult": "kernels_common",
}

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


def __getattr__(name: str) -> Any:
    """Load a public name (or a submodule, e.g. ``market.reference``) on first use."""
    where = _WHERE.get(name)
    if where is not None:
        value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
