"""Bounds every number and date of a scenario (and a sweep file) must respect.

The schema's own fields say where physics gives a range (shares in [0, 1], at most 168
hours a week, a yield of at most 1). Beyond those, :class:`Bounded`, the base of every
schema table, applies these rules to every field, including fields added later:

- numbers are finite (no ``inf``, no ``nan``: the tables' ``allow_inf_nan=False``);
- a number is at most :data:`MAX_MAGNITUDE` (1e12) in size: larger values overflow the
  model's sums and products (prices x units x weeks) to infinity. No real quantity in a
  scenario comes near it (USD in a scenario are per unit, per week or per firm);
- a duration, any field named ``*_weeks``, is at most :data:`MAX_WEEKS` (2,600 weeks, 50
  years, the longest horizon): pipelines and lags allocate one slot per week;
- a point in time given as a week index is within :data:`MAX_WEEK_INDEX` weeks of the
  start (either way), a calendar date within :data:`MIN_DATE`..:data:`MAX_DATE`: dates
  are computed from week indices and must stay inside the calendar;
- a ``seed`` is a whole number from 0 to 2^63 - 1 (it is stored as a 64-bit integer).

Violations are schema errors (one line each, exit code 2), like any other bad value.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

MAX_MAGNITUDE = 1e12
"""Largest size of any number in a scenario (see the module docstring)."""
MAX_WEEKS = 2600
"""Longest duration (fields named ``*_weeks``) and horizon, in weeks (50 years)."""
MAX_WEEK_INDEX = 10_000
"""Largest week index (either side of the start date) where a point in time is asked for."""
MAX_SEED = 2**63 - 1
"""Largest random seed (a 64-bit integer)."""
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
"""Calendar dates a scenario may name (with the horizon, results stay within the calendar)."""


def _admits_date(annotation: Any) -> bool:
    """Whether a field's type accepts a date (a point in time: week index or date)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _admits_date(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_admits_date(a) for a in typing.get_args(annotation))
    return annotation is dt.date


def _number_problem(value: float | int, name: str, when: bool) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number (got {value}); give a real value"
    if name == "seed":
        if isinstance(value, int) and not 0 <= value <= MAX_SEED:
            return f"must be a whole number from 0 to 2^63-1 (got {value:.6g}); change the seed"
        return None
    if when and isinstance(value, int) and abs(value) > MAX_WEEK_INDEX:
        return (
            f"week index {value:.6g} is more than {MAX_WEEK_INDEX:,} weeks from the start; "
            "give a nearer week or a date"
        )
    if abs(value) > MAX_MAGNITUDE:
        return (
            f"{value:.6g} is beyond the model's bound of ±1e12 (larger values overflow "
            "its sums); use a realistic value"
        )
    if name.endswith("_weeks") and value > MAX_WEEKS:
        return (
            f"{value:.6g} weeks is longer than {MAX_WEEKS:,} weeks (50 years, the longest "
            "horizon); use a shorter duration"
        )
    return None


def bound_problem(value: Any, name: str, when: bool = False) -> str | None:
    """The first value inside ``value`` (a number, date or a list/dict of them) that
    breaks the bounds for a field called ``name``, as a message; None if all are fine."""
    if isinstance(value, bool) or value is None or isinstance(value, str | BaseModel):
        return None
    if isinstance(value, int | float):
        return _number_problem(value, name, when)
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if not MIN_DATE <= day <= MAX_DATE:
            return (
                f"date {day.isoformat()} is outside {MIN_DATE.isoformat()} to "
                f"{MAX_DATE.isoformat()}; give a date in that range"
            )
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = bound_problem(item, name, when)
            if problem:
                return f"{key}: {problem}"
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = bound_problem(item, name, when)
            if problem:
                return problem
    return None


class Bounded(BaseModel):
    """Base of schema tables: non-finite numbers refused, every field bounded (above)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        when = field is not None and _admits_date(field.annotation)
        problem = bound_problem(value, name, when)
        if problem:
            raise ValueError(problem)
        return value
