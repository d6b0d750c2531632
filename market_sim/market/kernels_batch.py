"""The batched kernel: every market of one simulated week in a single njit call.

Markets come in struct-of-arrays form with CSR offsets: market ``m`` owns orders
``order_offsets[m]:order_offsets[m+1]`` and pipeline entries
``pipeline_offsets[m]:pipeline_offsets[m+1]``; double auction ``k`` owns bids
``bid_offsets[k]:bid_offsets[k+1]`` and asks ``ask_offsets[k]:ask_offsets[k+1]``.  Each
market is cleared by the same single-market kernels that back the public functions, on
views of its slice, so the results are bit-for-bit those of ``allocate``,
``queue_ahead``/``quote_lead_times`` and ``double_auction`` called market by market.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit
from market_sim.market.kernels_allocate import allocate_core, queue_ahead_core, quote_core
from market_sim.market.kernels_auction import double_auction_core
from market_sim.market.kernels_common import ERR_OFFSETS, ERR_OK, ERR_POLICY


@njit(cache=True)
def offsets_ok(offsets, n):
    """True when ``offsets`` starts at 0, never decreases and ends at ``n``."""
    if offsets.size == 0 or offsets[0] != 0 or offsets[offsets.size - 1] != n:
        return False
    for i in range(offsets.size - 1):
        if offsets[i + 1] < offsets[i]:
            return False
    return True


@njit(cache=True)
def clear_markets_core(
    order_offsets,
    supply,
    list_price,
    policy_code,
    policy_table,
    qty,
    limit_price,
    priority,
    order_week,
    pipeline_offsets,
    pipeline,
    capacity_per_week,
    max_weeks,
    bid_offsets,
    bid_price,
    bid_qty,
    ask_offsets,
    ask_price,
    ask_qty,
    fills,
    price,
    lead_weeks,
    da_price,
    bid_fills,
    ask_fills,
):
    """Clear all markets; write the outputs in place. Market m's policy is row
    ``policy_code[m]`` of ``policy_table`` (``market_sim.market.policies.policy_table``).

    Returns (error code, kind, index): kind 0 = primary market, 1 = double auction, 2 =
    offsets; index = the market or auction that failed (-1 when all is well).
    """
    n_markets = order_offsets.size - 1
    if not offsets_ok(order_offsets, qty.size) or not offsets_ok(pipeline_offsets, pipeline.size):
        return ERR_OFFSETS, 2, -1
    if not offsets_ok(bid_offsets, bid_qty.size) or not offsets_ok(ask_offsets, ask_qty.size):
        return ERR_OFFSETS, 2, -1
    for m in range(n_markets):
        if policy_code[m] < 0 or policy_code[m] >= policy_table.shape[0]:
            return ERR_POLICY, 0, m
        spec = policy_table[policy_code[m]]
        s = order_offsets[m]
        e = order_offsets[m + 1]
        err, p = allocate_core(
            supply[m],
            qty[s:e],
            limit_price[s:e],
            priority[s:e],
            order_week[s:e],
            list_price[m],
            spec,
            fills[s:e],
        )
        if err != ERR_OK:
            return err, 0, m
        price[m] = p
        remaining = qty[s:e] - fills[s:e]
        queue = np.empty(e - s)
        err = queue_ahead_core(
            remaining,
            limit_price[s:e],
            priority[s:e],
            order_week[s:e],
            list_price[m],
            spec,
            queue,
        )
        if err != ERR_OK:
            return err, 0, m
        err = quote_core(
            queue,
            remaining,
            pipeline[pipeline_offsets[m] : pipeline_offsets[m + 1]],
            capacity_per_week[m],
            max_weeks,
            lead_weeks[s:e],
        )
        if err != ERR_OK:
            return err, 0, m
    for k in range(bid_offsets.size - 1):
        b0 = bid_offsets[k]
        b1 = bid_offsets[k + 1]
        a0 = ask_offsets[k]
        a1 = ask_offsets[k + 1]
        err, p = double_auction_core(
            bid_price[b0:b1],
            bid_qty[b0:b1],
            ask_price[a0:a1],
            ask_qty[a0:a1],
            bid_fills[b0:b1],
            ask_fills[a0:a1],
        )
        if err != ERR_OK:
            return err, 1, k
        da_price[k] = p
    return ERR_OK, -1, -1


@njit(cache=True)
def quote_markets_core(
    queue_ahead, qty, pipeline_offsets, pipeline, capacity_per_week, max_weeks, out
):
    """Quote ``qty``-unit orders behind ``queue_ahead[m, j]`` in every market m (row m
    of ``out``), as ``quote_core`` on market m's pipeline; returns (error code, market)."""
    n_markets = queue_ahead.shape[0]
    if pipeline_offsets.size != n_markets + 1 or not offsets_ok(pipeline_offsets, pipeline.size):
        return ERR_OFFSETS, -1
    for m in range(n_markets):
        err = quote_core(
            queue_ahead[m],
            qty,
            pipeline[pipeline_offsets[m] : pipeline_offsets[m + 1]],
            capacity_per_week[m],
            max_weeks,
            out[m],
        )
        if err != ERR_OK:
            return err, m
    return ERR_OK, -1
