"""Finite outcomes only: a run whose weekly frame holds NaN or an infinity is an error.

Every weekly outcome is defined to be finite (:mod:`market_sim.model.record`), so a non-finite
value means an overflow or a division by zero somewhere: the run is stopped with one line
that names the first such column and week, never reported as a result.
:func:`check_finite` is pure (a frame in, nothing or an error out); ``market-sim run``
(:func:`market_sim.runs.execute`), the sweep worker
(:func:`market_sim.experiment.execute.run_one`) and the model's ``run()`` call it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from market_sim.problems import ENVIRONMENT, LineError


class NonFiniteError(LineError):
    """A run produced a NaN or infinite outcome (exit code 1)."""

    def __init__(self, line: str, column: str, week: int):
        super().__init__(line, ENVIRONMENT)
        self.column = column
        self.week = week


def first_non_finite(frame: pd.DataFrame) -> tuple[str, int, float] | None:
    """``(column, row, value)`` of the earliest non-finite number (by row, then column
    order), or None when every numeric value is finite."""
    numeric = [  # from the dtypes alone: frame[c] would build a Series per column
        c
        for c, dtype in frame.dtypes.items()
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ]
    if not numeric or frame.empty:
        return None
    values = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    rows = np.flatnonzero(bad.any(axis=1))
    row = int(rows[0])
    col = int(np.flatnonzero(bad[row])[0])
    return str(numeric[col]), row, float(values[row, col])


def check_finite(frame: pd.DataFrame, what: str = "the run") -> None:
    """Raise :class:`NonFiniteError` if the weekly outcome frame holds a non-finite value.

    The message names the first column and week (with its date when the frame has a
    ``date`` column) and how many cells are affected.
    """
    found = first_non_finite(frame)
    if found is None:
        return
    column, row, value = found
    week = int(frame["week"].iloc[row]) if "week" in frame.columns else row
    when = f"week {week}"
    if "date" in frame.columns:
        date = pd.Timestamp(frame["date"].iloc[row])
        if not pd.isna(date):
            when += f" ({date.date().isoformat()})"
    numeric = frame.select_dtypes("number")
    cells = int((~np.isfinite(numeric.to_numpy(dtype=np.float64, na_value=np.nan))).sum())
    kind = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
    raise NonFiniteError(
        f"{what}: outcome '{column}' is {kind} in {when} ({cells:,} non-finite values "
        "in all); the scenario's numbers are probably too extreme for the model: "
        "bring them nearer to real values (or report a bug)",
        column,
        week,
    )
