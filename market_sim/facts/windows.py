"""Comparison windows: which simulated weeks a fact dated ``date`` is compared with.

A window is a half-open calendar interval ``[start, end)``. A simulated week counts in it by
the share of its seven days inside (see ``market_sim.facts.reduce``).
"""

from __future__ import annotations

import re

import pandas as pd

WINDOWS: tuple[str, ...] = ("month", "quarter", "quarter_ending", "year")
"""The window names a facts file may use."""

WEEK = pd.Timedelta(days=7)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

_FORMATS = {
    "month": "YYYY-MM, e.g. 2023-11",
    "quarter": "YYYY-Qn, e.g. 2024-Q3",
    "quarter_ending": "YYYY-MM (the last month of the quarter), e.g. 2024-01",
    "year": "YYYY, e.g. 2024",
}


def date_format(window: str) -> str:
    """How a fact's ``date`` is written for ``window`` (for error messages)."""
    return _FORMATS[window]


def _month_start(year: int, month: int) -> pd.Timestamp:
    """First day of a month; ``month`` may run past 12 or below 1."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return pd.Timestamp(year=year, month=month, day=1)


def window_bounds(date: str, window: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return ``(start, end)`` of the window, ``end`` exclusive (both midnight).

    Raises ``ValueError`` for an unknown window or a date not written as the window expects.
    """
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; use one of {', '.join(WINDOWS)}")
    text = str(date).strip()
    if window in ("month", "quarter_ending"):
        m = _MONTH.match(text)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"date {text!r} is not {_FORMATS[window]}")
        year, month = int(m.group(1)), int(m.group(2))
        end = _month_start(year, month + 1)
        start = (
            _month_start(year, month - 2)
            if window == "quarter_ending"
            else _month_start(year, month)
        )
        return start, end
    if window == "quarter":
        m = _QUARTER.match(text)
        if m is None:
            raise ValueError(f"date {text!r} is not {_FORMATS[window]}")
        year, q = int(m.group(1)), int(m.group(2))
        return _month_start(year, 3 * q - 2), _month_start(year, 3 * q + 1)
    m = _YEAR.match(text)
    if m is None:
        raise ValueError(f"date {text!r} is not {_FORMATS[window]}")
    year = int(m.group(1))
    return pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1)


def run_covers(
    first: pd.Timestamp, last: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp
) -> bool:
    """Whether a weekly run whose weeks start from ``first`` to ``last`` covers ``[start, end)``.

    Covered means the run misses less than a week of the window at either edge: its first
    week starts less than 7 days after the window's first day, and its last week (which
    ends 7 days after it starts) ends less than 7 days before the window ends. A 156-week
    run from Monday 2023-01-02 thus covers 2025: it misses only 29-31 December.
    """
    return bool(first - start < WEEK and end - (last + WEEK) < WEEK)
