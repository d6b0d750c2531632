"""The startup population's columnar storage: one numpy array per column, one row per
startup, and the growable buffers the week's row lists use.

:class:`market_sim.agents.startups.StartupPopulation` owns the columns; the kernels of
:mod:`market_sim.agents.startup_rows` read and write them row by row. Units are in the
comments of :data:`_COLUMNS`.
"""

from __future__ import annotations

import numpy as np

_COLUMNS = {
    "status": np.int8,
    "cash": np.float64,  # USD
    "round_usd": np.float64,  # latest round, USD
    "value": np.float64,  # USD per H100e-hour
    "need": np.float64,  # H100e per week
    "owned": np.float64,  # H100e
    "on_order": np.float64,  # H100e
    "direct": np.bool_,
    "starved": np.int64,  # weeks in a row
    "entered_week": np.int64,
    "exited_week": np.int64,
    "got": np.float64,  # H100e of compute this week
    "rented": np.float64,  # H100e rented this week
}
_TOGETHER = tuple(k for k, t in _COLUMNS.items() if t is np.float64)
"""The float columns, which a large population stores side by side (see
``TOGETHER_MIN_ROWS``)."""

TOGETHER_MIN_ROWS = 2**18
"""From this many rows of storage on, the eight float columns (``_TOGETHER``) are stored
side by side: row i's values fill one 64-byte cache line (a ``[rows, 8]`` array; each
column a strided view of it). The week's kernels read and write most of them at each
active row, and in a large population the active rows lie scattered over every row that
ever entered (at 1,000,000 initial startups ~30k of ~1M rows in year three): one cache
line a row instead of one per column took the last year's week from ~13 to ~5.5 ms.
Below it (2**18 rows: 2 MiB a column) the columns stay apart, as whole arrays: the rows
are dense enough that a kernel reading a few columns is quicker without the others'
bytes (~2% of a 10k-startup week). Both give the same numbers; the warm-up
(:mod:`market_sim.experiment.warm`) compiles the kernels for both."""


def _new_columns(size: int) -> dict[str, np.ndarray]:
    """Zeroed columns of ``size`` rows (``exited_week`` -1), stored side by side from
    ``TOGETHER_MIN_ROWS`` rows on."""
    cols = {k: np.zeros(size, dtype=t) for k, t in _COLUMNS.items() if k not in _TOGETHER}
    if size >= TOGETHER_MIN_ROWS:
        together = np.zeros((size, len(_TOGETHER)))
        cols.update({k: together[:, j] for j, k in enumerate(_TOGETHER)})
    else:
        cols.update({k: np.zeros(size) for k in _TOGETHER})
    cols["exited_week"][:] = -1
    return {k: cols[k] for k in _COLUMNS}


def _room(buf: np.ndarray, m: int, k: int) -> np.ndarray:
    """``buf``, or a buffer twice as large holding its first ``m`` entries when
    ``m + k`` entries do not fit (as :func:`_appended`)."""
    if m + k <= len(buf):
        return buf
    grown = np.empty(max(m + k, 2 * len(buf)), dtype=buf.dtype)
    grown[:m] = buf[:m]
    return grown


def _appended(buf: np.ndarray, m: int, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(buffer, rows)``: ``buf[:m]`` followed by ``new``, written into ``buf`` after its
    first ``m`` entries (a buffer twice as large when it is full); ``rows`` is the
    buffer's first ``m + len(new)`` entries. Earlier views of ``buf[:m]`` stay as they
    were (appending never writes below ``m``)."""
    end = m + len(new)
    if end > len(buf):
        grown = np.empty(max(end, 2 * len(buf)), dtype=buf.dtype)
        grown[:m] = buf[:m]
        buf = grown
    buf[m:end] = new
    return buf, buf[:end]
