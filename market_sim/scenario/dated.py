"""Dated inputs of a scenario: how far they reach, and which fall after a given date.

A scenario's paths through time are lists of dated points: buyers' ``fleet_targets``
(desired installed H100e by date), ``capex`` and ``capital`` plans (USD bn by calendar
year), supply nodes' capacity ``schedule``, vendors' ``capacity_share_schedule``, yield
schedules, products' ``launch`` and ``end`` and the ``events``. After its last point a
path holds its last value (buyers/``target_path``, the chipmakers' schedules). For
capacities that is a modelling choice (an expansion rule may still add capacity), but
for demand it is not neutral: a buyer whose fleet target stops rising stops ordering.
:func:`input_limit` therefore says how far the demand inputs reach, and
``market-sim forecast`` refuses to run a scenario past it (docs/forecast.md).

:func:`dated_inputs` lists the points after a date (the forecast's "assumptions"), read
from the scenario *as resolved* (``extends`` merged, ``--set`` applied), so the list is
right whatever file or override set a value. Pure functions of a :class:`Scenario`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from market_sim.scenario.schema import Scenario, When

_UNTIL = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_until(text: str) -> dt.date:
    """``YYYY-MM`` (the month's last day) or ``YYYY-MM-DD`` as a date.

    Raises ``ValueError`` with a short reason for anything else.
    """
    m = _UNTIL.match(str(text).strip())
    if m is None:
        raise ValueError(f"'{text}' is not a month YYYY-MM or a date YYYY-MM-DD")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValueError(f"'{text}' is not a month YYYY-MM or a date YYYY-MM-DD")
    if m.group(3) is None:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, int(m.group(3)))  # ValueError for 2027-02-30


def weeks_until(scenario: Scenario, until: dt.date) -> int:
    """Whole weeks from the scenario's start that end on or before ``until`` (a week is
    the 7 days from the Monday it starts; 0 if ``until`` is before the first week ends)."""
    days = (until - scenario.simulation.start_date).days + 1
    return max(0, days // 7)


def last_day(scenario: Scenario, weeks: int) -> dt.date:
    """The last day of a run of ``weeks`` weeks (its last week's Sunday)."""
    return scenario.simulation.start_date + dt.timedelta(days=7 * weeks - 1)


@dataclass(frozen=True)
class InputLimit:
    """The last day the demand inputs cover, and the input that ends first."""

    day: dt.date
    path: str
    """Dotted path of the input that ends first (``agents.meta.fleet_targets``)."""
    what: str
    """What ends, in words (``its last fleet target is 2027-12-27``)."""


def input_limit(scenario: Scenario) -> InputLimit | None:
    """The last day every buyer's demand path is defined: the day before its last fleet
    target (from that target on the desired fleet is flat and growth, hence ordering,
    stops) and the 31 December of a capex or capital plan's last year; the earliest over
    all buyers. None when no buyer has dated demand inputs."""
    found: list[InputLimit] = []
    for agent in scenario.agents:
        targets = getattr(agent, "fleet_targets", None) or []
        if targets:
            last = targets[-1].date
            found.append(
                InputLimit(
                    last - dt.timedelta(days=1),
                    f"agents.{agent.id}.fleet_targets",
                    f"its last fleet target is {last.isoformat()}",
                )
            )
        for name in ("capex", "capital"):
            plan = getattr(agent, name, None) or []
            if plan:
                year = plan[-1].year
                found.append(
                    InputLimit(
                        dt.date(year, 12, 31),
                        f"agents.{agent.id}.{name}",
                        f"its last year is {year}",
                    )
                )
    return min(found, key=lambda x: x.day) if found else None


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class DatedInput:
    """One dated point of a scenario input: where, when, and its value in words."""

    path: str
    date: dt.date
    value: str
    what: str


def _date_of(scenario: Scenario, when: When) -> dt.date:
    return when if isinstance(when, dt.date) else scenario.date_of(int(when))


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _points(scenario: Scenario) -> list[DatedInput]:
    """Every dated point of the scenario, in file order."""
    out: list[DatedInput] = []
    for p in scenario.products:
        base = f"products.{p.id}"
        out.append(DatedInput(f"{base}.launch", _date_of(scenario, p.launch), "", "launch"))
        if p.end is not None:
            out.append(DatedInput(f"{base}.end", _date_of(scenario, p.end), "", "end of output"))
        for part in ("logic", "packaging"):
            bom = getattr(p.bom, part, None)
            for i, y in enumerate(getattr(bom, "yield_schedule", None) or []):
                path = f"{base}.bom.{part}.yield_schedule[{i}]"
                out.append(DatedInput(path, y.date, f"yield {y.yield_:.3g}", f"{part} yield"))
    for n in scenario.supply.nodes:
        for i, c in enumerate(n.schedule):
            text = f"{_num(c.weekly)} {n.unit}/week"
            if c.capacity_per_month is not None:
                text = f"{_num(c.capacity_per_month)} {n.unit}/month"
            if c.reserved_share is not None:
                text += f", reserved share {c.reserved_share:.3g}"
            out.append(DatedInput(f"supply.nodes.{n.id}.schedule[{i}]", c.date, text, "capacity"))
    for a in scenario.agents:
        base = f"agents.{a.id}"
        for i, s in enumerate(getattr(a, "capacity_share_schedule", None) or []):
            path = f"{base}.capacity_share_schedule[{i}]"
            out.append(DatedInput(path, s.date, f"{s.node} share {s.share:.3g}", "capacity share"))
        for i, f in enumerate(getattr(a, "fleet_targets", None) or []):
            path = f"{base}.fleet_targets[{i}]"
            out.append(DatedInput(path, f.date, f"{_num(f.h100e)} H100e", "fleet target"))
        for name in ("capex", "capital"):
            for i, c in enumerate(getattr(a, name, None) or []):
                path = f"{base}.{name}[{i}]"
                what = "capex plan" if name == "capex" else "capital plan"
                out.append(DatedInput(path, dt.date(c.year, 1, 1), f"USD {c.usd_bn:g} bn", what))
    for i, e in enumerate(scenario.events):
        label = e.description or f"{e.kind} {e.target}"
        out.append(DatedInput(f"events[{i}]", _date_of(scenario, e.at), label, e.kind))
    return out


def dated_inputs(scenario: Scenario, after: dt.date, until: dt.date) -> list[DatedInput]:
    """The dated points with ``after < date <= until``, by date then path (a capex or
    capital plan's year counts from its 1 January)."""
    found = [d for d in _points(scenario) if after < d.date <= until]
    return sorted(found, key=lambda d: (d.date, d.path))


def held_capacities(scenario: Scenario, after: dt.date) -> list[DatedInput]:
    """Supply nodes whose capacity schedule has no point after ``after``: from their last
    point (or the start) their scheduled capacity holds (the expansion rule may add)."""
    out = []
    for n in scenario.supply.nodes:
        if any(c.date > after for c in n.schedule):
            continue
        if n.schedule:
            last = n.schedule[-1]
            since, rate = last.date, last.capacity_per_month
            weekly = last.weekly
        else:
            since, rate = scenario.simulation.start_date, n.capacity_per_month
            weekly = n.initial_capacity_per_week
        text = f"{_num(rate)} {n.unit}/month" if rate is not None else f"{_num(weekly)}/week"
        what = "capacity held" + (" (expansion rule on)" if n.expansion is not None else "")
        out.append(DatedInput(f"supply.nodes.{n.id}", since, text, what))
    return out
