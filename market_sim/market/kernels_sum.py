"""Sums in numpy's order, for kernels that must give what a numpy reduction gives.

``ndarray.sum(axis=-1)`` adds a contiguous run by pairwise summation: from 0 below 8
values, in eight partial sums up to numpy's block size, in halves beyond. A kernel that
sums a row with :func:`pairwise_sum` gets the same number, bit for bit
(tests/test_choice_kernel.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
