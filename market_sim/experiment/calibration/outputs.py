"""A calibration's files: the calibrated scenario, the ensemble and the file naming it.

- ``<stem>.calibrated.toml``: extends the calibrated scenario and sets the fitted values,
  each commented with the calibration's id, the objective and the bounds;
- ``<stem>.ensemble.parquet``: one row per member (its parameter values, in-sample
  objective, in-band counts), and ``<stem>.ensemble.toml`` next to it, naming it and the
  scenario (``--ensemble FILE`` reads this small file);
- :func:`apply_values` writes fitted values into a scenario file itself (keeping its
  comments), as the baseline carries them.

TOML is written with tomlkit, which keeps comments and layout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import tomlkit

from market_sim.fileio import atomic_write, write_text
from market_sim.problems import LineError

KEYED = {"agents": "id", "products": "id", "supply.nodes": "id"}
"""Arrays of tables whose entries a path names by their id."""
_STEP = re.compile(r"[^.\[\]]+")


class EnsembleError(LineError):
    """An ensemble file that cannot be used (one line; exit 2)."""


def _split(path: str) -> tuple[str | None, str | None, list[str]]:
    """``agents.meta.ordering.x`` -> ("agents", "meta", ["ordering", "x"]); a path outside
    the keyed arrays -> (None, None, steps)."""
    steps = _STEP.findall(path)
    for array in KEYED:
        head = array.split(".")
        if steps[: len(head)] == head and len(steps) > len(head) + 1:
            return array, steps[len(head)], steps[len(head) + 1 :]
    return None, None, steps


def _fmt(value: Any, integer: bool) -> Any:
    """A fitted number rounded for the file (6 significant digits, or a whole number);
    any other value (a ``--set`` value that was held fixed) as it is."""
    if not isinstance(value, float):
        return value  # a whole number, a flag, a text or a date, as given
    return round(value) if integer else float(f"{value:.6g}")


def apply_values(
    text: str,
    values: Mapping[str, Any],
    comments: Mapping[str, str],
    integer: Mapping[str, bool] | None = None,
) -> str:
    """``text`` (a scenario's TOML) with each dotted path set to its value and commented;
    tables and array entries are created where missing, everything else is kept."""
    doc = tomlkit.parse(text)
    for path, value in values.items():
        array, ident, rest = _split(path)
        if array is None:
            table: Any = doc
        else:
            table = doc
            for part in array.split("."):
                if part not in table:
                    table[part] = tomlkit.aot() if part == array.split(".")[-1] else tomlkit.table()
                table = table[part]
            entry = next((e for e in table if e.get(KEYED[array]) == ident), None)
            if entry is None:
                entry = tomlkit.table()
                entry[KEYED[array]] = ident
                table.append(entry)
            table = entry
        for part in rest[:-1]:
            if part not in table:
                table[part] = tomlkit.table()
            table = table[part]
        item = tomlkit.item(_fmt(value, bool((integer or {}).get(path))))
        comment = comments.get(path)
        if comment:
            item.comment(comment)
        _set_before_trailing_comments(table, rest[-1], item)
    return tomlkit.dumps(doc)


def _set_before_trailing_comments(table: Any, key: str, item: Any) -> None:
    """``table[key] = item``; a new key goes after the table's last value, before the
    comments and blank lines that end it (tomlkit keeps a comment that introduces the
    next table, say ``# --- startups``, in the body of the table above it)."""
    if key in table:  # replaced where it stands
        table[key] = item
        return
    container = getattr(table, "value", table)  # a Table's Container, or the document
    body = container.body
    trailing = []
    while body and body[-1][0] is None:  # comments and whitespace: no key, no index
        trailing.append(body.pop()[1])
    table[key] = item
    for kept in reversed(trailing):
        container.add(kept)


def held_fixed(
    scenario_file: str | Path, overrides: Sequence[str], fitted: Mapping[str, float], cal_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values a calibration held fixed with ``--set`` (``overrides``, on
    ``scenario_file``), typed as the scenario file would have them, and a comment for each:
    written next to the fitted values so the scenario reproduces the fit. A path that was
    also fitted keeps its fitted value."""
    from market_sim.experiment.paths import value_at
    from market_sim.scenario.loader import resolve

    raw = resolve(scenario_file, overrides)
    values, comments = {}, {}
    for item in overrides:
        path = item.split("=", 1)[0].strip()
        if path not in fitted:
            values[path] = value_at(raw.data, path)
            comments[path] = f"held fixed by --set in calibration {cal_id}"
    return values, comments


def write_calibrated(
    out: Path,
    scenario_file: Path,
    values: Mapping[str, Any],
    comments: Mapping[str, str],
    header: Sequence[str],
    integer: Mapping[str, bool],
) -> Path:
    """``OUT/<stem>.calibrated.toml``: extends the scenario, sets the fitted values (and
    the values the calibration held fixed with ``--set``, which ``values`` includes)."""
    path = out / f"{scenario_file.stem}.calibrated.toml"
    rel = os.path.relpath(scenario_file.resolve(), out.resolve())
    base = "".join(f"# {line}\n" for line in header) + f'extends = "{Path(rel).as_posix()}"\n'
    write_text(path, apply_values(base, values, comments, integer))
    return path


@dataclass(frozen=True)
class Ensemble:
    """An ensemble of parameter sets: member -> {path: value}, and where it came from."""

    file: Path
    calibration: str
    scenario: Path
    members: list[dict[str, float]]
    integer: dict[str, bool]
    fixed: list[str] = field(default_factory=list)
    """The ``--set`` lines the calibration ran with (every member was fitted with them)."""

    def overrides(self, member: int) -> list[str]:
        """``--set`` lines of one member: the calibration's fixed ones, then its values."""
        out = list(self.fixed)
        for path, value in self.members[member].items():
            v = round(value) if self.integer.get(path) else float(value)
            out.append(f"{path}={v}")
        return out


def write_ensemble(
    out: Path,
    scenario_file: Path,
    calibration: str,
    members: pd.DataFrame,
    paths: Sequence[str],
    integer: Mapping[str, bool],
    notes: Mapping[str, Any],
    fixed: Sequence[str] = (),
) -> Path:
    """``OUT/<stem>.ensemble.parquet`` and ``OUT/<stem>.ensemble.toml`` naming it; returns
    the latter. ``fixed``: the ``--set`` lines the calibration ran with, which every
    member's run applies before its own values."""
    stem = scenario_file.stem
    table = out / f"{stem}.ensemble.parquet"
    atomic_write(table, lambda fh: members.to_parquet(fh, index=False))
    rel = os.path.relpath(scenario_file.resolve(), out.resolve())
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Ensemble of {stem} from calibration {calibration}: every member "))
    doc.add(tomlkit.comment("is a parameter set that fits; run them with --ensemble THIS_FILE."))
    doc["calibration"] = calibration
    doc["scenario"] = Path(rel).as_posix()
    doc["members"] = table.name
    doc["size"] = len(members)
    doc["parameters"] = list(paths)
    doc["integer"] = [p for p in paths if integer.get(p)]
    if fixed:
        doc["overrides"] = list(fixed)
    for key, value in notes.items():
        doc[key] = value
    pointer = out / f"{stem}.ensemble.toml"
    write_text(pointer, tomlkit.dumps(doc))
    return pointer


def load_ensemble(path: str | Path) -> Ensemble:
    """Read an ensemble file (the small TOML) and its member table."""
    path = Path(path)
    if not path.is_file():
        raise EnsembleError(f"{path}: no such ensemble file; give a *.ensemble.toml")
    try:
        data = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as err:
        raise EnsembleError(f"{path}: not a readable ensemble file ({err}); rewrite it") from None
    for key in ("calibration", "scenario", "members", "parameters"):
        if key not in data:
            raise EnsembleError(f"{path}: field '{key}' is missing; rewrite the ensemble file")
    table = path.parent / str(data["members"])
    try:
        frame = pd.read_parquet(table)
    except (OSError, ValueError) as err:
        raise EnsembleError(f"{table}: cannot read the ensemble's members ({err})") from None
    paths = [str(p) for p in data["parameters"]]
    missing = [p for p in paths if p not in frame.columns]
    if missing or frame.empty:
        raise EnsembleError(f"{table}: no members, or no column {missing[:1]}; recalibrate")
    members = [{p: float(row[p]) for p in paths} for _, row in frame.iterrows()]
    return Ensemble(
        file=path,
        calibration=str(data["calibration"]),
        scenario=(path.parent / str(data["scenario"])).resolve(),
        members=members,
        integer={p: True for p in data.get("integer", [])},
        fixed=[str(x) for x in data.get("overrides", [])],
    )
