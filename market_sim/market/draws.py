"""Uniform draws at chosen positions of a stream: the startup population's week.

Each week the model draws one uniform number per population row from ``model.rng``
(``rng.random(n)``: row i gets the i-th number), though only the active rows read
theirs. At 1,000,000 initial startups ~98% have exited by week 120, and drawing every
row cost ~3.5-5 ms a week, more than the rest of the population's week.

:func:`draws_at_rows` gives the same numbers at the rows that need them and leaves the
generator where ``rng.random(n)`` would: numpy's default bit generator, PCG64, is a
128-bit linear congruential generator (``state = state x MULT + inc`` mod 2**128, then
the XSL-RR output of the new state; a double is the top 53 bits of one output x 2**-53),
so the state k steps ahead is ``A_k x state + C_k`` for constants that compose by
squaring (Brown's jump-ahead): the kernel jumps over the rows it does not need,
``popcount(gap)`` multiply-adds per jump. Results are bit-identical to drawing every row.
Any other bit generator draws every row, as before.

:func:`draws_at_rows_reference` is the plain-Python twin (Python integers), the kernel's
test oracle.
"""

from __future__ import annotations

import numpy as np

from market_sim.jit import njit

MULT = (2549297995355413924 << 64) + 4865540595714422341
"""PCG64's 128-bit multiplier (numpy's ``PCG_DEFAULT_MULTIPLIER_128``)."""
MASK128 = (1 << 128) - 1
MASK64 = (1 << 64) - 1
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

NOT_IN_A_RUN = ("_mulhi", "_muladd", "_jump")
"""Helpers inlined into :func:`draws_at_rows_kernel`, never called on their own (the
compile notice, :mod:`market_sim.runs.jit_cache`, does not wait for their cache)."""

DENSE = 4
"""Rows at least one in this many of the draws: draw them all (a jump costs ~3-4x a draw)."""

_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S11 = np.uint64(11)
_S58 = np.uint64(58)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U63 = np.uint64(63)
_U64 = np.uint64(64)


@njit(cache=True, inline="always")
def _mulhi(a: np.uint64, b: np.uint64) -> np.uint64:
    """High 64 bits of the 128-bit product of two uint64."""
    a_lo, a_hi = a & _M32, a >> _S32
    b_lo, b_hi = b & _M32, b >> _S32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _S32) + (p1 & _M32) + (p2 & _M32)
    return p3 + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32)


@njit(cache=True, inline="always")
def _muladd(
    ah: np.uint64, al: np.uint64, bh: np.uint64, bl: np.uint64, ch: np.uint64, cl: np.uint64
) -> tuple[np.uint64, np.uint64]:
    """(a x b + c) mod 2**128, each number as (high, low) uint64 halves."""
    lo = al * bl
    hi = _mulhi(al, bl) + al * bh + ah * bl
    out_lo = lo + cl
    carry = _U1 if out_lo < lo else _U0
    return hi + ch + carry, out_lo


@njit(cache=True, inline="always")
def _jump(sh, sl, gap, a_hi, a_lo, c_hi, c_lo):
    """The state ``gap`` steps ahead of ``(sh, sl)``: one multiply-add per set bit of
    ``gap``, with the squared step constants ``(a_k, c_k)`` of bit k."""
    k = 0
    while gap > 0:
        if gap & 1:
            sh, sl = _muladd(a_hi[k], a_lo[k], sh, sl, c_hi[k], c_lo[k])
        gap >>= 1
        k += 1
    return sh, sl


@njit(cache=True)
def draws_at_rows_kernel(
    state_hi: np.uint64,
    state_lo: np.uint64,
    inc_hi: np.uint64,
    inc_lo: np.uint64,
    mult_hi: np.uint64,
    mult_lo: np.uint64,
    rows: np.ndarray,
    n: int,
    out: np.ndarray,
) -> tuple[np.uint64, np.uint64]:
    """PCG64's doubles at ``rows`` (ascending, each < ``n``) of the next ``n`` draws:
    ``out[rows[j]]`` = the ``rows[j]``-th of ``rng.random(n)`` (other entries of ``out``
    untouched). Returns the state after all ``n`` draws as (high, low) halves."""
    # jump tables: 2**k steps of the generator are state x A_k + C_k
    a_hi = np.empty(64, dtype=np.uint64)
    a_lo = np.empty(64, dtype=np.uint64)
    c_hi = np.empty(64, dtype=np.uint64)
    c_lo = np.empty(64, dtype=np.uint64)
    mh, ml, ch, cl = mult_hi, mult_lo, inc_hi, inc_lo
    for k in range(64):
        a_hi[k], a_lo[k], c_hi[k], c_lo[k] = mh, ml, ch, cl
        # C_{2k} = C_k x (A_k + 1); A_{2k} = A_k x A_k
        p1_lo = ml + _U1
        p1_hi = mh + (_U1 if p1_lo < ml else _U0)
        ch, cl = _muladd(ch, cl, p1_hi, p1_lo, _U0, _U0)
        mh, ml = _muladd(mh, ml, mh, ml, _U0, _U0)
    sh, sl = state_hi, state_lo
    pos = 0
    for j in range(rows.shape[0]):
        r = rows[j]
        # steps to the state whose output is draw r
        sh, sl = _jump(sh, sl, r + 1 - pos, a_hi, a_lo, c_hi, c_lo)
        pos = r + 1
        x = sh ^ sl
        rot = sh >> _S58
        word = (x >> rot) | (x << ((_U64 - rot) & _U63))
        out[r] = np.float64(word >> _S11) * TO_UNIT
    return _jump(sh, sl, n - pos, a_hi, a_lo, c_hi, c_lo)


def draws_at_rows(rng: np.random.Generator, rows: np.ndarray, n: int, out: np.ndarray) -> None:
    """Write to ``out[rows]`` what ``rng.random(n)`` would draw at those rows (``rows``
    ascending, int64, each < ``n``; ``out`` at least ``n`` long) and move ``rng`` past
    all ``n`` draws. Other entries of ``out`` are left as they are, unless ``rng`` is not
    PCG64, or when the rows are dense (at least one in ``DENSE`` of the ``n``; drawing
    every row is then faster): then every draw is written, by ``rng.random(out=out[:n])``.
    """
    bg = rng.bit_generator
    if type(bg) is not np.random.PCG64 or len(rows) * DENSE >= n:
        rng.random(out=out[:n])
        return
    st = bg.state
    s, inc = st["state"]["state"], st["state"]["inc"]
    u = np.uint64
    hi, lo = draws_at_rows_kernel(
        u(s >> 64),
        u(s & MASK64),
        u(inc >> 64),
        u(inc & MASK64),
        u(MULT >> 64),
        u(MULT & MASK64),
        rows,
        n,
        out,
    )
    st["state"]["state"] = (int(hi) << 64) | int(lo)
    bg.state = st


def warm() -> None:
    """Load (or compile) the kernel now: a run whose population stays dense never calls
    it, and its cache would stay cold (the compile notice would announce it every run)."""
    u = np.uint64(0)
    draws_at_rows_kernel(u, u, u, u, u, u, np.zeros(0, dtype=np.int64), 0, np.zeros(0))


def draws_at_rows_reference(state: int, inc: int, rows: np.ndarray, n: int, out: np.ndarray) -> int:
    """Plain-Python twin of :func:`draws_at_rows_kernel` (one step at a time, Python
    integers): writes ``out[rows]`` and returns the state after ``n`` draws."""
    wanted = set(int(r) for r in rows)
    for i in range(n):
        state = (state * MULT + inc) & MASK128
        if i in wanted:
            hi, lo = state >> 64, state & MASK64
            x, rot = hi ^ lo, hi >> 58
            word = ((x >> rot) | (x << ((64 - rot) & 63))) & MASK64
            out[i] = (word >> 11) * TO_UNIT
    return state
