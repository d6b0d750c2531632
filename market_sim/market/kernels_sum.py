"""Sums in numpy's order, for kernels that must give what a numpy reduction gives.

``ndarray.sum(axis=-1)`` adds a contiguous run by pairwise summation: from 0 below 8
values, in eight partial sums up to numpy's block size, in halves beyond. A kernel that
sums a row with :func:`pairwise_sum` gets the same number, bit for bit
(tests/test_choice_kernel.py).
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit

IN_ORDER_BELOW = 8
"""numpy sums fewer than this many values in order from 0 (:func:`pairwise_sum`), this
many or more in eight partial sums."""

PAIRWISE_MAX = 128
"""Longest run :func:`pairwise_sum` sums (numpy's block size; numpy halves longer runs)."""


@njit(cache=True)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo + n]`` (``n <= PAIRWISE_MAX``) as numpy sums a contiguous run
    (``pairwise_sum`` of numpy/_core/src/umath/loops_utils.h.src): from 0 below 8 values,
    else eight partial sums. (Not recursive: numba's cache cannot reload recursion.)"""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum_any(a: np.ndarray, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo + n]`` as numpy sums a contiguous run of any length: runs
    longer than :data:`PAIRWISE_MAX` split in halves (the first a multiple of 8) summed
    apart and added, as numpy does, with an explicit stack (numba's cache cannot reload
    recursion)."""
    if n <= PAIRWISE_MAX:
        return pairwise_sum(a, lo, n)
    starts = np.empty(64, dtype=np.int64)  # a frame per halving: depth < 64
    sizes = np.empty(64, dtype=np.int64)
    stages = np.zeros(64, dtype=np.int64)  # 0: sum the first half, 1: the second, 2: add
    firsts = np.empty(64)
    top = 0
    starts[0], sizes[0] = lo, n
    value = 0.0  # the sum of the frame that just finished
    while top >= 0:
        m = sizes[top]
        half = m // 2
        half -= half % 8
        if m <= PAIRWISE_MAX:
            value = pairwise_sum(a, starts[top], m)
            top -= 1
        elif stages[top] == 0:
            stages[top] = 1
            top += 1
            starts[top], sizes[top], stages[top] = starts[top - 1], half, 0
        elif stages[top] == 1:
            firsts[top] = value
            stages[top] = 2
            top += 1
            starts[top], sizes[top], stages[top] = starts[top - 1] + half, m - half, 0
        else:
            value = firsts[top] + value
            top -= 1
    return value
