"""What a sweep's manifest.json must hold: the fields the report and ``--resume`` read
(:func:`check_manifest`). Plain data checks; imported by the store and its verifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MANIFEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "description": str,
    "fingerprint": str,
    "sampler": str,
    "replicates": int,
    "base": str,
    "scenarios": dict,
    "parameters": list,
    "outputs": list,
    "claims": list,
    "series": list,
    "design": list,
    "runs": list,
}
_ITEM_KEYS = {
    "parameters": ("path", "kind", "describe", "categorical", "integer", "scenarios"),
    "outputs": ("name", "metric", "window", "agg", "label"),
    "claims": (
        "id",
        "text",
        "output",
        "scenario",
        "counterfactual",
        "direction",
        "threshold",
        "relative",
    ),
}
_RUN_FIELDS = {"run_id": str, "scenario": str, "sample": int, "replicate": int, "seed": int}


def check_manifest(data: Mapping[str, Any]) -> str | None:
    """The first problem with a manifest's shape (what the report and resume read), or
    None."""
    for key, kind in _MANIFEST_FIELDS.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            return f"field '{key}' is missing or not a {getattr(kind, '__name__', kind)}"
    if data["base"] not in data["scenarios"]:
        return "field 'base' names no scenario of the manifest"
    for i, run in enumerate(data["runs"]):
        if not isinstance(run, dict):
            return f"runs[{i}] is not a table"
        for key, kind in _RUN_FIELDS.items():
            value = run.get(key)
            if not isinstance(value, kind) or isinstance(value, bool):
                return f"runs[{i}].{key} is missing or not a {kind.__name__}"
        if not isinstance(run.get("overrides"), list):
            return f"runs[{i}].overrides is missing or not a list"
        if run["scenario"] not in data["scenarios"]:
            return f"runs[{i}].scenario names no scenario of the manifest"
    samples = set()
    for i, point in enumerate(data["design"]):
        if not isinstance(point, dict) or not isinstance(point.get("values"), dict):
            return f"design[{i}] is not a table with values"
        if not isinstance(point.get("sample"), int):
            return f"design[{i}].sample is missing or not a whole number"
        samples.add(point["sample"])
    for key, name_key in (("parameters", "path"), ("outputs", "name"), ("claims", "id")):
        for i, item in enumerate(data[key]):
            if not isinstance(item, dict) or not isinstance(item.get(name_key), str):
                return f"{key}[{i}].{name_key} is missing or not text"
            lacking = [k for k in _ITEM_KEYS[key] if k not in item]
            if lacking:
                return f"{key}[{i}] lacks '{lacking[0]}'"
    for i, point in enumerate(data["design"]):
        if "unit" not in point:
            return f"design[{i}] lacks 'unit'"
    if any(r["sample"] not in samples for r in data["runs"]):
        return "a run names a sample point the design does not have"
    return None
