"""Reading and validating a facts CSV (the ``shared/data/market_facts.csv`` format)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from market_sim.facts.windows import WINDOWS, date_format, window_bounds
from market_sim.outcomes.catalogue import UnknownMetric, kind_of

DEFAULT_FACTS = Path(__file__).resolve().parents[1] / "data" / "market_facts.csv"
"""The observed 2023-2025 market facts shipped with the package (a copy of
shared/data/market_facts.csv; sources in its last column; Epoch AI's figures are CC-BY)."""

FACT_COLUMNS: tuple[str, ...] = (
    "fact_id",
    "metric_key",
    "date",
    "window",
    "value",
    "low",
    "high",
    "unit",
    "role",
    "description",
    "source",
)
"""Columns a facts file must have (others are kept but ignored)."""

_NUMERIC = ("value", "low", "high")


class FactsFileError(ValueError):
    """A facts file that cannot be used; the message is one line ``FILE: problem; fix``."""


def _number(text: str) -> float:
    """Parse a numeric cell; empty -> NaN; raises ``ValueError`` if not a finite number."""
    text = text.strip().replace("_", "")
    if text == "":
        return math.nan
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def load_facts(path: str | Path) -> pd.DataFrame:
    """Read a facts CSV into a DataFrame with one row per fact.

    ``value``, ``low`` and ``high`` become floats (empty ``low``/``high`` -> NaN); the other
    columns stay strings (``date`` keeps its window-specific spelling such as ``2024-Q3``).
    Raises ``FactsFileError`` for a missing or unreadable file, missing columns, an empty
    ``fact_id``/``metric_key``/``value``, a duplicate ``fact_id``, an unknown window, a date
    not written as its window expects, a non-numeric ``value``/``low``/``high``, or
    ``low`` > ``high``.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise FactsFileError(
            f"{where}: no such file; check the path (the shared facts file is "
            "shared/data/market_facts.csv)"
        )
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FactsFileError(
            f"{where}: not a readable CSV ({first}); save it as UTF-8 CSV with a header row"
        ) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in FACT_COLUMNS if c not in raw.columns]
    if missing:
        raise FactsFileError(
            f"{where}: missing column(s) {', '.join(missing)}; the header "
            f"must include {','.join(FACT_COLUMNS)}"
        )

    facts = raw.astype(object).map(lambda s: str(s).strip())
    seen: set[str] = set()
    for line, row in enumerate(facts.itertuples(index=False), start=2):
        fid = row.fact_id
        if fid == "":
            raise FactsFileError(
                f"{where}: line {line} has an empty fact_id; give every "
                "fact a unique id such as F201"
            )
        if fid in seen:
            raise FactsFileError(
                f"{where}: fact {fid} appears twice; give every fact a unique fact_id"
            )
        seen.add(fid)
        if row.metric_key == "":
            raise FactsFileError(
                f"{where}: fact {fid} column metric_key is empty; write a "
                "key such as lead_time_weeks@H100"
            )
        try:
            kind_of(row.metric_key)
        except UnknownMetric:
            raise FactsFileError(
                f"{where}: fact {fid} column metric_key names an unknown metric "
                f"{row.metric_key!r}; use a name from docs/metrics.md (`market-sim metrics`)"
            ) from None
        if row.window not in WINDOWS:
            raise FactsFileError(
                f"{where}: fact {fid} column window has unknown window "
                f"{row.window!r}; use one of {', '.join(WINDOWS)}"
            )
        try:
            window_bounds(row.date, row.window)
        except ValueError:
            raise FactsFileError(
                f"{where}: fact {fid} column date {row.date!r} cannot be "
                f"parsed for window {row.window}; write it as "
                f"{date_format(row.window)}"
            ) from None
        if row.value == "":
            raise FactsFileError(
                f"{where}: fact {fid} column value is empty; give the point "
                "figure (or the midpoint of low-high)"
            )
        for col in _NUMERIC:
            try:
                _number(getattr(row, col))
            except ValueError:
                raise FactsFileError(
                    f"{where}: fact {fid} column {col} "
                    f"{getattr(row, col)!r} is not a number; write a plain "
                    "number such as 44 or 4.7 (empty for no low/high)"
                ) from None
        low, high = _number(row.low), _number(row.high)
        if low > high:
            raise FactsFileError(
                f"{where}: fact {fid} has low {low:g} above high {high:g}; swap them"
            )

    for col in _NUMERIC:
        facts[col] = facts[col].map(_number).astype(float)
    for col in facts.columns:
        if col not in _NUMERIC:
            facts[col] = facts[col].astype(str)
    return facts.reset_index(drop=True)
