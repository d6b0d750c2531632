"""Read scenario files: TOML, ``extends`` inheritance, ``--set`` overrides, validation.

Inheritance: ``extends = "baseline.toml"`` (a path relative to the file that says it)
loads that file first, then merges this one over it:

- tables merge key by key, recursively;
- arrays of tables whose elements all carry an ``id`` (products, supply nodes, agents)
  merge element by element: an element whose id exists is merged into it, a new id is
  appended; so ``[[agents]] id = "meta"`` with one key changes only that key. Supply
  edges merge the same way, identified by their ``from`` and ``to``;
- every other value, arrays included (events, schedules), is replaced as a whole.

Overrides: ``--set dotted.path=value`` after the files are merged. A path names tables by
key, id-carrying array elements by id (``agents.meta.rent_out_share``) and other array
elements by position (``events[0].at``). The value is read as a TOML value (numbers,
booleans, dates, arrays, inline tables) unless the schema's field takes text, where it is
kept as written; pydantic then validates it like any value from a file.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from market_sim.scenario.errors import (
    Problem,
    ScenarioError,
    did_you_mean,
    field_annotation,
    format_path,
    is_path_id,
    is_text,
    problems_from_validation,
)
from market_sim.scenario.schema import Scenario
from market_sim.scenario.tomlfile import MAX_NESTING, depth, file_problem, read_toml

SET_LABEL = "--set"


@dataclass
class RawScenario:
    """Merged, not yet validated scenario data, and which file wrote each path."""

    data: dict[str, Any]
    main_file: str
    provenance: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    """Files in the order they were merged (a parent before the file extending it),
    ``--set`` last: later ones override earlier ones."""

    def file_of(self, loc: Sequence[str | int]) -> str:
        """The file that wrote the value at ``loc`` (or its closest written parent)."""
        return self.file_of_path(format_path(loc, self.data))

    def file_of_path(self, path: str) -> str:
        """The file that wrote a dotted path (or its closest written parent)."""
        parts = _split(path)
        for n in range(len(parts), 0, -1):
            label = self.provenance.get(_join(parts[:n]))
            if label is not None:
                return label
        return self.main_file


# --------------------------------------------------------------------------- public


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Load, merge, override and validate a scenario file; raise ScenarioError if bad."""
    raw = resolve(path, overrides)
    return validate(raw)


def scenario_from_dict(data: Mapping[str, Any], label: str = "<scenario>") -> Scenario:
    """Validate scenario data given as a mapping (e.g. built in a notebook)."""
    raw = RawScenario(copy.deepcopy(dict(data)), label)
    raw.data.pop("extends", None)
    return validate(raw)


def resolve(path: str | Path, overrides: Iterable[str] = ()) -> RawScenario:
    """Read a scenario file and its ``extends`` chain, merge, apply overrides."""
    path = Path(path)
    raw = RawScenario({}, str(path))
    _load_into(raw, path, chain=())
    problems = apply_overrides(raw, overrides)
    if problems:
        raise ScenarioError(problems)
    return raw


def validate(raw: RawScenario) -> Scenario:
    """Validate merged data against the schema, then run the semantic checks."""
    from market_sim.scenario.checks import check_scenario

    try:
        scenario = Scenario.model_validate(raw.data)
    except ValidationError as err:
        problems = problems_from_validation(err, Scenario, raw.data, raw.file_of)
        # Unknown keys alone: report the semantic problems of the rest in the same pass
        # (the file is checked as if those keys were not there).
        errors = err.errors(include_url=False)
        if all(e["type"] == "extra_forbidden" for e in errors):
            trimmed = copy.deepcopy(raw.data)
            for e in errors:
                _drop(trimmed, tuple(e["loc"]))
            try:
                rest = Scenario.model_validate(trimmed)
            except ValidationError:
                rest = None
            if rest is not None:
                problems += check_scenario(rest, raw.file_of_path, raw.files)
        raise ScenarioError(problems) from None
    problems = check_scenario(scenario, raw.file_of_path, raw.files)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _drop(data: Any, loc: Sequence[str | int]) -> None:
    """Delete the key at a pydantic location from raw data (union tags skipped)."""
    cur = data
    for part in loc[:-1]:
        if isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, dict) and part in {cur.get("role"), cur.get("kind")}:
            continue  # a discriminator tag, not a key
        else:
            return
    if isinstance(cur, dict):
        cur.pop(loc[-1], None)


# --------------------------------------------------------------------------- files


MAX_EXTENDS = 16
"""Longest ``extends`` chain (files inheriting from each other)."""


def _load_into(raw: RawScenario, path: Path, chain: tuple[Path, ...]) -> None:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as err:  # e.g. a symlink loop
        raise file_problem(str(path), "", f"cannot resolve the path ({err}); fix it") from None
    if len(chain) >= MAX_EXTENDS:
        raise file_problem(
            str(chain[-1]),
            "extends",
            f"the extends chain is longer than {MAX_EXTENDS} files; shorten it",
        )
    if resolved in chain:
        loop = " -> ".join(os.path.relpath(p) for p in (*chain, resolved))
        raise ScenarioError(
            [Problem(str(path), "extends", f"inheritance cycle {loop}; remove one 'extends'")]
        )
    data = read_toml(path, referrer=None if not chain else str(chain[-1]))
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise ScenarioError(
                [Problem(str(path), "extends", "must be a file name in quotes; fix the value")]
            )
        parent_path = Path(os.path.normpath(path.parent / parent))
        if not parent_path.exists():
            raise ScenarioError(
                [
                    Problem(
                        str(path),
                        "extends",
                        f"file '{parent}' not found (looked in {path.parent}); fix the path",
                    )
                ]
            )
        _load_into(raw, parent_path, (*chain, resolved))
    merge(raw.data, data, str(path), raw.provenance, "")
    raw.files.append(str(path))


def merge(
    base: dict[str, Any], over: Mapping[str, Any], label: str, prov: dict[str, str], path: str
) -> None:
    """Deep-merge ``over`` into ``base`` in place, recording provenance per path."""
    for key, value in over.items():
        p = _join([*_split(path), str(key)])
        old = base.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict):
            prov[p] = label
            merge(old, value, label, prov, p)
        elif _is_keyed_list(value) and _is_keyed_list(old):
            prov[p] = label
            seen: set[tuple] = set()  # a key twice in one file is a duplicate, not a merge
            for elem in value:
                keys = [_element_key(e) for e in old]
                k = _element_key(elem)
                merge_into = k in keys and k not in seen
                seen.add(k)
                if merge_into:
                    i = keys.index(k)
                    sub = _element_path(p, old[i], i)
                    prov[sub] = label
                    merge(old[i], elem, label, prov, sub)
                else:
                    old.append(copy.deepcopy(elem))
                    _record(prov, _element_path(p, elem, len(old) - 1), elem, label)
        else:
            base[key] = copy.deepcopy(value)
            _record(prov, p, value, label)


def _element_key(elem: Mapping[str, Any]) -> tuple:
    """What identifies an array-of-tables element across files: its id, or from/to."""
    if isinstance(elem.get("id"), str):
        return ("id", elem["id"])
    return ("edge", elem.get("from"), elem.get("to"))


def _is_keyed_list(value: Any) -> bool:
    """An array of tables that merges element by element (all carry id, or from and to)."""
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(e, Mapping) and isinstance(e.get("id"), str) for e in value):
        return True
    return all(
        isinstance(e, Mapping) and isinstance(e.get("from"), str) and isinstance(e.get("to"), str)
        for e in value
    )


def _element_path(path: str, elem: Any, index: int) -> str:
    has_id = isinstance(elem, Mapping) and is_path_id(elem.get("id"))
    return f"{path}.{elem['id']}" if has_id else f"{path}[{index}]"


def _record(prov: dict[str, str], path: str, value: Any, label: str) -> None:
    prov[path] = label
    if isinstance(value, Mapping):
        for k, v in value.items():
            _record(prov, f"{path}.{k}", v, label)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _record(prov, _element_path(path, v, i), v, label)


# --------------------------------------------------------------------------- overrides

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split(path: str) -> list[str]:
    """Split a dotted path into components, keeping ``[i]`` as its own component."""
    return [m.group(0) for m in _TOKEN.finditer(path)]


def _join(parts: Sequence[str]) -> str:
    out = ""
    for part in parts:
        out += part if part.startswith("[") else f".{part}"
    return out.lstrip(".")


def apply_overrides(raw: RawScenario, overrides: Iterable[str]) -> list[Problem]:
    """Apply ``path=value`` overrides in order; return the problems found."""
    problems: list[Problem] = []
    for item in overrides:
        try:
            _apply_one(raw, item)
        except ScenarioError as err:
            problems.extend(err.problems)
    return problems


def _apply_one(raw: RawScenario, item: str) -> None:
    def fail(path: str, msg: str) -> ScenarioError:
        return ScenarioError([Problem(SET_LABEL, path, msg)])

    if "=" not in item:
        raise fail(item, "expected PATH=VALUE, e.g. simulation.weeks=52; add '=' and a value")
    path, text = (s.strip() for s in item.split("=", 1))
    parts = _split(path)
    if not path or not parts or _join(parts) != path.replace(" ", ""):
        raise fail(path, "not a dotted path; write it like agents.meta.rent_out_share")
    cur: Any = raw.data
    loc: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = _join(parts[: i + 1])
        if part.startswith("["):
            idx = int(part[1:-1])
            if not isinstance(cur, list) or idx >= len(cur):
                n = len(cur) if isinstance(cur, list) else 0
                raise fail(here, f"no element {idx} (there are {n}); use an index below {n}")
            loc.append(idx)
            if last:
                cur[idx] = _typed(raw, loc, text)
            else:
                cur = cur[idx]
            continue
        if isinstance(cur, list):
            ids = [e.get("id") for e in cur if isinstance(e, Mapping)]
            if part not in ids:
                hint = did_you_mean(part, [str(x) for x in ids])
                raise fail(here, f"no element with id '{part}'{hint}; ids are {ids}")
            idx = ids.index(part)
            loc.append(idx)
            if last:
                raise fail(here, "names a whole table; add the key to set, e.g. .name")
            cur = cur[idx]
            continue
        if not isinstance(cur, dict):
            raise fail(here, "the parent is a value, not a table; shorten the path")
        loc.append(part)
        if last:
            cur[part] = _typed(raw, loc, text)
        else:
            cur = cur.setdefault(part, {})
    raw.provenance[path] = SET_LABEL
    if SET_LABEL not in raw.files:
        raw.files.append(SET_LABEL)


def _typed(raw: RawScenario, loc: Sequence[str | int], text: str) -> Any:
    """Read an override's text as the schema's field at ``loc`` expects it."""
    ann = field_annotation(Scenario, loc, raw.data)
    if ann is not None and is_text(ann):
        return text.strip('"') if len(text) >= 2 and text[0] == text[-1] == '"' else text
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except (RecursionError, ValueError):
        raise ScenarioError(
            [
                Problem(
                    SET_LABEL,
                    format_path(loc, raw.data),
                    "value too deeply nested or too large; give a plain value",
                )
            ]
        ) from None
    if depth(value, MAX_NESTING) > MAX_NESTING:
        raise ScenarioError(
            [Problem(SET_LABEL, format_path(loc, raw.data), "value nested too deeply; flatten it")]
        )
    return value
