"""Public market-clearing functions: thin Python wrappers over the numba kernels.

The wrappers accept array-likes, convert them with ``np.ascontiguousarray`` to the dtypes
of the kernels (float64 quantities and prices, int64 priorities, weeks and offsets), check
lengths, call one njit kernel and turn its error code into a ``ValueError``.  The kernels
live in ``kernels_select`` (bucket grid, stable sort, marginal tie group),
``kernels_cross`` (crossing volume), ``kernels_buckets`` (streaming passes),
``kernels_auction`` (auction allocation, double auction), ``kernels_allocate`` (one
primary market: allocation, queue, lead-time quote) and ``kernels_batch`` (all markets of
a week).

Units: quantities in units (GPUs, or GPU-weeks in the rental market), prices in USD per
unit, times in weeks.  The exact rules are in docs/market_clearing.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from market_sim.market.kernels_allocate import allocate_core, queue_ahead_core, quote_core
from market_sim.market.kernels_auction import double_auction_core
from market_sim.market.kernels_batch import clear_markets_core, quote_markets_core
from market_sim.market.kernels_common import ERR_OK, ERROR_MESSAGES, ClearingResult
from market_sim.market.policies import get_policy, policy_table

__all__ = [
    "ClearingResult",
    "allocate",
    "clear_markets",
    "double_auction",
    "queue_ahead",
    "quote_lead_times",
]


def _f64(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _i64(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: arr.size for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have equal lengths, got {lengths}")


def _raise(err: int, where: str) -> None:
    if err != ERR_OK:
        raise ValueError(f"{where}: {ERROR_MESSAGES[err]}")


def _max_weeks(max_weeks: int) -> int:
    value = int(max_weeks)
    if value < 0:
        raise ValueError(f"max_weeks must be >= 0 (weeks), got {max_weeks}")
    return value


def allocate(
    supply: float,
    qty: ArrayLike,
    limit_price: ArrayLike,
    priority: ArrayLike,
    order_week: ArrayLike,
    list_price: float,
    policy: str,
) -> tuple[np.ndarray, float]:
    """Allocate one vendor's weekly output over its order book.

    Args:
        supply: units available to allocate this week (>= 0).
        qty: float64[N], open quantity of each order (units, >= 0).
        limit_price: float64[N], the most each order pays (USD per unit).  Orders with
            ``limit_price < list_price`` get nothing under every policy.
        priority: int64[N], higher is served first (``priority`` policy only).
        order_week: int64[N], week the order was placed; smaller is older.
        list_price: the vendor's list price (USD per unit); the reserve of ``auction``.
        policy: a registered policy's name (``market_sim.market.policies``), e.g.
            ``"pro_rata"``, ``"priority"``, ``"fifo"`` or ``"auction"``.

    Returns:
        ``(fills, price)``: float64[N] units per order, and the price in USD per unit —
        the uniform clearing price under ``auction`` (the highest limit price not filled
        in full, or ``list_price`` when demand at the reserve fits the supply), else
        ``list_price``.
    """
    spec = get_policy(policy).row
    q = _f64(qty, "qty")
    lp = _f64(limit_price, "limit_price")
    pr = _i64(priority, "priority")
    wk = _i64(order_week, "order_week")
    _same_length(qty=q, limit_price=lp, priority=pr, order_week=wk)
    fills = np.empty(q.size)
    err, price = allocate_core(float(supply), q, lp, pr, wk, float(list_price), spec, fills)
    _raise(err, "allocate")
    return fills, float(price)


def double_auction(
    bid_price: ArrayLike,
    bid_qty: ArrayLike,
    ask_price: ArrayLike,
    ask_qty: ArrayLike,
    *,
    bid_out: np.ndarray | None = None,
    ask_out: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Clear a uniform-price double auction (gray market for units, rental market).

    Args:
        bid_price, bid_qty: float64[B], buyers' limit prices (USD per unit) and units.
        ask_price, ask_qty: float64[A], sellers' reserve prices (USD per unit) and units.
        bid_out, ask_out: optional float64[B] / float64[A] C-contiguous writable arrays
            that receive the fills (a caller clearing many auctions reuses them and
            saves two allocations a call); new arrays when omitted.

    Returns:
        ``(price, bid_fills, ask_fills)``: the clearing price in USD per unit (midpoint of
        the interval of clearing prices; NaN when no bid reaches any ask, in which case
        the caller carries the last price forward) and the units bought/sold per order
        (``bid_out``/``ask_out`` themselves when given).
    """
    bp = _f64(bid_price, "bid_price")
    bq = _f64(bid_qty, "bid_qty")
    ap = _f64(ask_price, "ask_price")
    aq = _f64(ask_qty, "ask_qty")
    _same_length(bid_price=bp, bid_qty=bq)
    _same_length(ask_price=ap, ask_qty=aq)
    bid_fills = _out(bid_out, bp.size, "bid_out")
    ask_fills = _out(ask_out, ap.size, "ask_out")
    err, price = double_auction_core(bp, bq, ap, aq, bid_fills, ask_fills)
    _raise(err, "double_auction")
    return float(price), bid_fills, ask_fills


def _out(out: np.ndarray | None, size: int, name: str) -> np.ndarray:
    """A float64[size] output array: ``out`` checked, or a new one."""
    if out is None:
        return np.empty(size)
    if not (
        isinstance(out, np.ndarray)
        and out.dtype == np.float64
        and out.ndim == 1
        and out.size == size
        and out.flags.c_contiguous
        and out.flags.writeable
    ):
        got = f"{out.dtype}{list(out.shape)}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(
            f"{name} must be a writable C-contiguous float64 array of length {size}, got {got}"
        )
    return out


def queue_ahead(
    remaining: ArrayLike,
    limit_price: ArrayLike,
    priority: ArrayLike,
    order_week: ArrayLike,
    list_price: float,
    policy: str,
) -> np.ndarray:
    """Units each open order waits behind: float64[N] (units; +inf when ineligible).

    The remaining quantity of all orders served before the order under ``policy`` plus
    that of the other orders in its tie group (a tie group is served pro rata, so it
    finishes together).  Orders with ``limit_price < list_price`` are never served: +inf.
    """
    spec = get_policy(policy).row
    rem = _f64(remaining, "remaining")
    lp = _f64(limit_price, "limit_price")
    pr = _i64(priority, "priority")
    wk = _i64(order_week, "order_week")
    _same_length(remaining=rem, limit_price=lp, priority=pr, order_week=wk)
    out = np.empty(rem.size)
    _raise(queue_ahead_core(rem, lp, pr, wk, float(list_price), spec, out), "queue_ahead")
    return out


def quote_lead_times(
    queue_ahead: ArrayLike,
    qty: ArrayLike,
    pipeline: ArrayLike,
    capacity_per_week: float,
    max_weeks: int,
) -> np.ndarray:
    """Quoted lead time of each open order: int64[N] weeks.

    Week k >= 1 is the first week whose cumulative arrivals — ``pipeline[0..k-1]`` (units
    already in production; ``pipeline[0]`` arrives in week 1), then ``capacity_per_week``
    units every week after the pipeline — reach ``queue_ahead + qty`` (to a relative
    2**-40 ~ 9.1e-13).  Capped at ``max_weeks`` (also the answer when never reached, e.g. zero
    capacity or ``queue_ahead = +inf``); 0 when ``qty == 0``.  Monotone in queue_ahead.
    """
    qa = _f64(queue_ahead, "queue_ahead")
    q = _f64(qty, "qty")
    pipe = _f64(pipeline, "pipeline")
    _same_length(queue_ahead=qa, qty=q)
    weeks = np.empty(q.size, dtype=np.int64)
    err = quote_core(qa, q, pipe, float(capacity_per_week), _max_weeks(max_weeks), weeks)
    _raise(err, "quote_lead_times")
    return weeks


def quote_markets(
    queue_ahead: ArrayLike,
    pipeline_offsets: ArrayLike,
    pipeline: ArrayLike,
    capacity_per_week: ArrayLike,
    max_weeks: int,
    qty: float = 1.0,
) -> np.ndarray:
    """Quoted lead times of new orders in many markets at once: int64[M, K] weeks.

    ``queue_ahead`` is [M, K]: the units ahead of a new order of ``qty`` units at K
    positions (e.g. one per priority tier) in each of M markets; market m's pipeline is
    ``pipeline[pipeline_offsets[m]:pipeline_offsets[m+1]]`` and ``capacity_per_week[m]``
    its rate beyond. Row m equals ``quote_lead_times(queue_ahead[m], [qty] * K, pipeline
    of m, capacity_per_week[m], max_weeks)``.
    """
    qa = np.ascontiguousarray(queue_ahead, dtype=np.float64)
    if qa.ndim != 2:
        raise ValueError(f"queue_ahead must be 2-D [markets, positions], not {qa.ndim}-D")
    po = _i64(pipeline_offsets, "pipeline_offsets")
    pipe = _f64(pipeline, "pipeline")
    cap = _f64(capacity_per_week, "capacity_per_week")
    if cap.size != qa.shape[0] or po.size != qa.shape[0] + 1:
        raise ValueError(
            f"{qa.shape[0]} markets but capacity_per_week has {cap.size} entries and "
            f"pipeline_offsets {po.size} (needs markets + 1)"
        )
    out = np.empty(qa.shape, dtype=np.int64)
    q = np.full(qa.shape[1], float(qty))
    err, m = quote_markets_core(qa, q, po, pipe, cap, _max_weeks(max_weeks), out)
    _raise(err, "quote_markets" if m < 0 else f"quote_markets market {m}")
    return out


def clear_markets(
    order_offsets: ArrayLike,
    supply: ArrayLike,
    list_price: ArrayLike,
    policy_code: ArrayLike,
    qty: ArrayLike,
    limit_price: ArrayLike,
    priority: ArrayLike,
    order_week: ArrayLike,
    pipeline_offsets: ArrayLike,
    pipeline: ArrayLike,
    capacity_per_week: ArrayLike,
    max_weeks: int,
    bid_offsets: ArrayLike,
    bid_price: ArrayLike,
    bid_qty: ArrayLike,
    ask_offsets: ArrayLike,
    ask_price: ArrayLike,
    ask_qty: ArrayLike,
) -> ClearingResult:
    """Clear every market of one simulated week in one kernel call.

    Primary markets (one per vendor product, ``M`` of them) hold their orders in CSR form:
    market m owns ``order_offsets[m]:order_offsets[m+1]`` of the order arrays and
    ``pipeline_offsets[m]:pipeline_offsets[m+1]`` of ``pipeline`` (units arriving in 1,
    2, ... weeks).  ``supply`` (units), ``list_price`` (USD), ``policy_code`` (the
    ``POLICIES`` code of a registered policy) and ``capacity_per_week`` (units/week after
    the pipeline) have one entry per market.  Double auctions (``K`` of them) own
    ``bid_offsets[k]:bid_offsets[k+1]`` of the bid arrays and likewise for asks.

    For every market the results equal ``allocate`` on its slice, and
    ``quote_lead_times(queue_ahead(qty - fills, ...), qty - fills, ...)`` (0 weeks for a
    filled order, ``max_weeks`` for an ineligible one); every auction equals
    ``double_auction`` on its slices.  Empty markets are allowed.
    """
    oo = _i64(order_offsets, "order_offsets")
    s = _f64(supply, "supply")
    lp_m = _f64(list_price, "list_price")
    codes = _i64(policy_code, "policy_code")
    q = _f64(qty, "qty")
    lp = _f64(limit_price, "limit_price")
    pr = _i64(priority, "priority")
    wk = _i64(order_week, "order_week")
    po = _i64(pipeline_offsets, "pipeline_offsets")
    pipe = _f64(pipeline, "pipeline")
    cap = _f64(capacity_per_week, "capacity_per_week")
    bo = _i64(bid_offsets, "bid_offsets")
    bp = _f64(bid_price, "bid_price")
    bq = _f64(bid_qty, "bid_qty")
    ao = _i64(ask_offsets, "ask_offsets")
    ap = _f64(ask_price, "ask_price")
    aq = _f64(ask_qty, "ask_qty")
    if oo.size == 0 or bo.size == 0:
        raise ValueError("order_offsets and bid_offsets need at least one entry (0)")
    n_markets = oo.size - 1
    _same_length(supply=s, list_price=lp_m, policy_code=codes, capacity_per_week=cap)
    if s.size != n_markets or po.size != oo.size:
        raise ValueError(
            f"{n_markets} markets (order_offsets has {oo.size} entries) but supply has "
            f"{s.size} and pipeline_offsets {po.size} entries"
        )
    _same_length(qty=q, limit_price=lp, priority=pr, order_week=wk)
    _same_length(bid_price=bp, bid_qty=bq)
    _same_length(ask_price=ap, ask_qty=aq)
    _same_length(bid_offsets=bo, ask_offsets=ao)
    weeks = _max_weeks(max_weeks)
    result = ClearingResult(
        fills=np.empty(q.size),
        price=np.empty(n_markets),
        lead_weeks=np.empty(q.size, dtype=np.int64),
        da_price=np.empty(bo.size - 1),
        bid_fills=np.empty(bp.size),
        ask_fills=np.empty(ap.size),
    )
    err, kind, index = clear_markets_core(
        oo, s, lp_m, codes, policy_table(), q, lp, pr, wk, po, pipe, cap, weeks, bo, bp, bq,
        ao, ap, aq, *result,
    )  # fmt: skip
    if err != ERR_OK:
        where = ("primary market", "double auction", "clear_markets")[kind]
        _raise(err, where if index < 0 else f"{where} {index}")
    return result
