"""Checking a parameter's dotted path against a scenario and its schema.

A path must name a value the scenario's schema knows (or an entry of a table of free keys,
such as ``capacity_share``): the same path ``--set`` takes. Whether the field takes whole
numbers decides whether a parameter's values are rounded.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from typing import Any

from market_sim.experiment.plan import literal
from market_sim.experiment.sweep import ScenarioRef
from market_sim.scenario import Scenario
from market_sim.scenario.errors import did_you_mean, field_annotation, model_at, valid_keys
from market_sim.scenario.loader import RawScenario, apply_overrides

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def check_path(ref: ScenarioRef, path: str, probe: Any) -> tuple[str | None, Any]:
    """Whether ``path`` names a value of the scenario; (problem or None, annotation)."""
    trial = RawScenario(copy.deepcopy(ref.data), ref.file)
    found = apply_overrides(trial, [f"{path}={literal(probe)}"])
    if found:
        return f"{found[0].path}: {found[0].message}", None
    loc = _loc(trial.data, path)
    if isinstance(loc[-1], int):
        return None, None
    ann = field_annotation(Scenario, loc, trial.data)
    if ann is not None:
        return None, ann
    parent = field_annotation(Scenario, loc[:-1], trial.data) if len(loc) > 1 else None
    if any(typing.get_origin(a) is dict or a is dict for a in _alts(parent)):
        return None, None
    cls = model_at(Scenario, loc, trial.data)
    keys = valid_keys(cls) if cls is not None else []
    hint = did_you_mean(str(loc[-1]), keys)
    fix = hint.lstrip("; ") if hint else f"valid keys there: {', '.join(keys)}"
    return f"no scenario value '{loc[-1]}' at this path; {fix}", None


def value_at(data: Any, path: str) -> Any:
    """The value at a ``--set`` path in a scenario's data (lists of tables by index or
    by ``id``); None when there is none."""
    try:
        cur = data
        for step in _loc(data, path):
            cur = cur[step]
        return cur
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None


def _loc(data: Any, path: str) -> list[str | int]:
    loc: list[str | int] = []
    cur = data
    for m in _TOKEN.finditer(path):
        if m.group(2) is not None:
            idx = int(m.group(2))
        elif isinstance(cur, list):
            idx = [e.get("id") if isinstance(e, dict) else None for e in cur].index(m.group(1))
        else:
            loc.append(m.group(1))
            cur = cur.get(m.group(1)) if isinstance(cur, dict) else None
            continue
        loc.append(idx)
        cur = cur[idx]
    return loc


def _alts(ann: Any) -> list[Any]:
    if ann is None:
        return []
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _alts(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return [x for a in typing.get_args(ann) for x in _alts(a)]
    return [ann]


def takes_int(ann: Any) -> bool:
    alts = _alts(ann)
    return int in alts and float not in alts
