"""Scenario problems, reported one per line: ``FILE: field.path: what is wrong; how to fix``.

Pydantic's errors are translated here: list positions become ids where the list's tables
carry one (``agents.meta.fleet_targets[0].h100e``, the same spelling ``--set`` takes),
union tags are dropped, and a misspelt key gets a "did you mean".
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}"


class ScenarioError(Exception):
    """A scenario (or sweep) file that cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------- paths


def format_path(loc: Iterable[str | int], data: Any) -> str:
    """Spell a location in raw scenario data as a dotted path.

    A list element that is a table with an ``id`` is named by its id (``agents.meta``),
    other list elements by position (``events[2]``). Discriminator tags that pydantic
    puts into locations (``agents.0.hyperscaler.x``) are skipped.
    """
    out = ""
    cur: Any = data
    for part in loc:
        if isinstance(part, int) and isinstance(cur, list):
            elem = cur[part] if 0 <= part < len(cur) else None
            elem_id = elem.get("id") if isinstance(elem, Mapping) else None
            if is_path_id(elem_id):
                out += f".{elem_id}"
            else:
                out += f"[{part}]"
            cur = elem
            continue
        if isinstance(cur, Mapping) and part not in cur and part in _tag_values(cur):
            continue  # a union tag, not a key the user wrote
        out += f".{part}"
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    return out.lstrip(".")


def is_path_id(value: Any) -> bool:
    """True for an id that can stand in a dotted path (1-64 letters, digits, _ and -)."""
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", value) is not None


def _tag_values(table: Mapping) -> set:
    return {table.get("role"), table.get("kind")} - {None}


def model_at(root: type[BaseModel], loc: Sequence[str | int], data: Any) -> type[BaseModel] | None:
    """The schema class of the table that holds the key at ``loc`` (``loc`` ends in it)."""
    ann: Any = root
    cur: Any = data
    for part in loc[:-1]:
        if isinstance(part, int):
            ann = _list_element(ann)
            cur = cur[part] if isinstance(cur, list) and 0 <= part < len(cur) else None
            continue
        cls = _model_of(ann, cur)
        if cls is None:
            return None
        if part not in _keys(cls):
            continue  # a discriminator tag pydantic put into the location
        ann = _annotation(cls, part)
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    return _model_of(ann, cur)


def field_annotation(root: type[BaseModel], loc: Sequence[str | int], data: Any) -> Any:
    """Annotation of the field at ``loc``, or None where the schema has no such key."""
    cls = model_at(root, loc, data)
    if cls is None or not isinstance(loc[-1], str) or loc[-1] not in _keys(cls):
        return None
    return _annotation(cls, loc[-1])


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, BaseModel)


def _keys(cls: type[BaseModel]) -> dict[str, str]:
    """Map from the key a user writes (alias or name) to the field name."""
    return {(f.alias or name): name for name, f in cls.model_fields.items()}


def _annotation(cls: type[BaseModel], key: str) -> Any:
    return cls.model_fields[_keys(cls)[key]].annotation


def _unwrap(ann: Any) -> list[Any]:
    """The alternatives of an annotation, with Annotated and Optional peeled off."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        return [x for a in typing.get_args(ann) for x in _unwrap(a) if x is not type(None)]
    return [ann]


def _list_element(ann: Any) -> Any:
    for alt in _unwrap(ann):
        if typing.get_origin(alt) is list:
            return typing.get_args(alt)[0]
    return None


def _model_of(ann: Any, value: Any) -> type[BaseModel] | None:
    """The model class an annotation stands for, choosing a union member by its tag."""
    models = [a for a in _unwrap(ann) if _is_model(a)]
    if len(models) > 1 and isinstance(value, Mapping):
        for m in models:
            role = m.model_fields.get("role")
            if role is not None and value.get("role") in typing.get_args(role.annotation):
                return m
    return models[0] if models else None


def is_text(ann: Any) -> bool:
    """True when a field takes text (str or a Literal of strings), not numbers or dates."""
    alts = _unwrap(ann)
    if not alts:
        return False
    for a in alts:
        if typing.get_origin(a) is typing.Literal:
            if not all(isinstance(v, str) for v in typing.get_args(a)):
                return False
        elif a is not str:
            return False
    return True


def valid_keys(cls: type[BaseModel]) -> list[str]:
    """Keys a table of this schema class accepts."""
    return sorted(_keys(cls))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --------------------------------------------------------------------------- pydantic


def problems_from_validation(
    err: ValidationError,
    root: type[BaseModel],
    data: Any,
    file_of: typing.Callable[[Sequence[str | int]], str],
) -> list[Problem]:
    """Translate a pydantic error into problems, one per line, with fixes."""
    errors = err.errors(include_url=False)
    extras = [e for e in errors if e["type"] == "extra_forbidden"]
    # A misspelt required key shows up twice (unknown + missing): report it once.
    explained: set[tuple] = set()
    problems: list[Problem] = []
    for e in extras:
        loc = tuple(e["loc"])
        key = str(loc[-1])
        cls = model_at(root, loc, data)
        keys = valid_keys(cls) if cls is not None else []
        hint = did_you_mean(key, keys)
        if hint:
            suggestion = hint.split("'")[1]
            explained.add((*loc[:-1], suggestion))
            fix = hint.lstrip("; ")
        else:
            fix = f"remove it (valid keys: {', '.join(keys)})" if keys else "remove it"
        path = format_path(loc, data)
        problems.append(Problem(file_of(loc), path, f"unknown key '{key}'; {fix}"))
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" or (e["type"] == "missing" and loc in explained):
            continue
        problems.append(Problem(file_of(loc), format_path(loc, data), _describe(e, root, data)))
    return problems


MAX_ECHO = 60
"""Characters of a bad value echoed in a message at most (a huge value is cut)."""


def short_repr(value: Any, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` cut to ``limit`` characters (a cut says how long the value was)."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = repr(value)
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text):,} characters)"
    return text


def _describe(e: dict, root: type[BaseModel], data: Any) -> str:
    kind = e["type"]
    got = short_repr(e.get("input"))
    raw = e.get("input")
    if kind == "missing":
        return "required key is missing; add it"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = e.get("ctx", {}).get("expected_tags", "")
        disc = e.get("ctx", {}).get("discriminator", "'role'").strip("'")
        tag = short_repr(e.get("ctx", {}).get("tag")).strip("'\"")
        if kind == "union_tag_not_found":
            return f"'{disc}' is missing; set {disc} to one of {tags}"
        hint = did_you_mean(str(tag), [t.strip(" '") for t in tags.split(",")])
        return f"unknown {disc} '{tag}'{hint or ''}; use one of {tags}"
    if kind == "literal_error":
        expected = e.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        shown = got.strip("'\"") if isinstance(raw, str) else got
        hint = did_you_mean(str(raw)[:200], options)
        return f"'{shown}' is not allowed{hint}; use one of {expected}"
    msg = e["msg"]
    if kind.startswith(("greater_than", "less_than")):
        return f"{msg[0].lower()}{msg[1:]} (got {got}); change the value"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return text if "; " in text else f"{text}; fix the values"
    if kind.endswith(("_type", "_parsing")):
        return f"{msg[0].lower()}{msg[1:]} (got {got}); give a value of that type"
    return f"{msg[0].lower()}{msg[1:]} (got {got}); change the value"
