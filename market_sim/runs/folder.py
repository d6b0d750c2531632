"""Run folders: execute a run with timings, write and read a run folder atomically.

A run folder (``market-sim run`` writes ``reports/<scenario name>/`` by default) holds

- ``timeseries.parquet``: the weekly outcomes, ``week``, ``date`` and one column per
  metric key (:meth:`GPUMarketModel.timeseries`); on request (``csv``, ``market-sim run
  --csv``) ``timeseries.csv`` is the same table;
- ``agents.parquet``: the firms' weekly records, tidy (:meth:`GPUMarketModel.agents_frame`);
  on request ``agents.csv`` is the same table;
- ``supply.json``: the supply graph at the start and each product's maximum output,
  binding input and minimum cut (:func:`market_sim.supply.summary.graph_summary`), so that
  reports draw it without rebuilding it;
- ``run.json``: the scenario as resolved, the seed, the package version, where the
  scenario came from, the scenario's events as (week, date, label), the headline numbers
  and the wall time of each phase in seconds (``build``, ``simulate``, ``write``,
  ``report``);
- ``report.html``: the run report (:mod:`market_sim.report.run_report`).

run.json also records the size and SHA-256 of each data file (``checksums``);
:func:`market_sim.runs.run_json.verify_run_folder` tells which no longer match (``report`` and
``query`` warn).

A folder is built under a hidden temporary sibling name and renamed into place when
complete, so a failure leaves nothing half-written; an existing folder is replaced only
with ``force`` and only after the new one is complete. Working folders a killed command
left behind are removed when a later one starts in the same parent
(:mod:`market_sim.runs.staging`). Headline numbers live in :mod:`market_sim.outcomes.headline`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from market_sim.fileio import write_json, write_text
from market_sim.integrity import file_record
from market_sim.outcomes.finite import check_finite
from market_sim.problems import ENVIRONMENT, LineError, os_problem
from market_sim.runs.run_json import DATA_FILES, check_run_json
from market_sim.runs.staging import clean_stale, prefix
from market_sim.scenario import Scenario

RUN_FORMAT = "market_sim.run/1"
"""``format`` field of run.json."""
PHASES = ("build", "simulate", "write", "report")
"""Timed phases of a run, in order (wall time in seconds in run.json's ``timings_s``)."""
MARKER_FILES = ("run.json", "compare.json", "forecast.json")
"""A folder holding one of these was written by market_sim and may be replaced (--force)."""


class RunsError(LineError):
    """A problem with a run folder or an output path: one line for the user (exit code 2
    for the user's input, 1 for the environment)."""


def _os_error(err: OSError, where: Path) -> RunsError:
    line = os_problem(err, where)
    return RunsError(str(line), line.exit_code)


@dataclass
class Run:
    """One simulation run and everything a report needs from it.

    ``marks`` are the scenario's events as ``(week, label)``; ``timings_s`` the wall time
    of each phase done so far, in seconds.
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    agents: pd.DataFrame
    marks: list[tuple[int, str]]
    timings_s: dict[str, float] = field(default_factory=dict)
    version: str = ""
    source: str = ""
    overrides: list[str] = field(default_factory=list)
    created: str = ""
    folder: Path | None = None
    supply: dict[str, Any] | None = None
    """The supply graph at the start (``supply.json``; None in folders without it)."""
    member: int | None = None
    """The ensemble member whose parameters the run used (None outside an ensemble)."""

    @property
    def name(self) -> str:
        return self.scenario.simulation.name


# --------------------------------------------------------------------------- executing


def execute(
    scenario: Scenario | str | Path | Mapping[str, Any],
    seed: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = False,
    source: str = "",
) -> Run:
    """Build the model and run it to the horizon, timing both phases; the model is
    closed afterwards (a process that runs many keeps its memory flat).

    Raises :class:`market_sim.scenario.ScenarioError` for bad input.
    """
    from market_sim import __version__
    from market_sim.model import GPUMarketModel
    from market_sim.supply.summary import graph_summary

    t0 = time.perf_counter()
    with GPUMarketModel(scenario, seed=seed, overrides=list(overrides)) as model:
        t1 = time.perf_counter()
        ts = model.run(progress=progress)
        check_finite(ts, model.scenario.simulation.name)
        agents = model.agents_frame()
    t2 = time.perf_counter()
    return Run(
        scenario=model.scenario,
        seed=int(model.seed_used),
        timeseries=ts,
        agents=agents,
        marks=[(int(w), str(label)) for w, label in model.events.marks],
        timings_s={"build": t1 - t0, "simulate": t2 - t1},
        version=__version__,
        source=source or (str(scenario) if isinstance(scenario, str | Path) else ""),
        overrides=list(overrides),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        supply=graph_summary(model.scenario, 0),
    )


# --------------------------------------------------------------------------- folders


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding a run.json."""
    return Path(path).is_dir() and (Path(path) / "run.json").is_file()


def check_out(out: Path, force: bool) -> None:
    """Raise :class:`RunsError` unless ``out`` may be (re)written.

    A missing path is fine; an existing one needs ``force`` and must be a folder that
    market_sim wrote (it holds run.json, compare.json or forecast.json) or an empty folder.
    """
    out = Path(out)
    try:
        here = Path.cwd().resolve()
    except OSError as err:
        raise RunsError(
            "market-sim: the current folder is gone or unreadable "
            f"({err.strerror or err}); change to an existing folder",
            ENVIRONMENT,
        ) from None
    try:
        target = out.resolve()
    except (OSError, RuntimeError) as err:
        raise RunsError(f"{out}: cannot resolve this path ({err}); choose another --out") from None
    if target == here or target in here.parents:
        raise RunsError(
            f"{out}: is the current folder or contains it; choose another --out (e.g. a subfolder)"
        )
    if len(target.name.encode()) > 200:
        raise RunsError(f"{out}: folder name too long (over 200 bytes); use a shorter --out")
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise RunsError(f"{out}: already exists; pass --force to replace it, or choose --out")
    if not out.is_dir() or out.is_symlink():
        raise RunsError(f"{out}: is not a folder; refusing to replace it, choose another --out")
    if not any(out.iterdir()):
        return
    if not any((out / name).is_file() for name in MARKER_FILES):
        raise RunsError(
            f"{out}: is not a run folder (no run.json); refusing to replace it, "
            "choose another --out"
        )


@contextlib.contextmanager
def staged_folder(out: Path, force: bool) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``out``; move it to ``out`` on success.

    On an exception the temporary folder is removed and ``out`` is untouched. With
    ``force`` an existing ``out`` (see :func:`check_out`) is replaced only after the new
    folder is complete. Raises :class:`RunsError` if the place cannot be written.
    """
    out = Path(out)
    check_out(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out.parent)
        tmp = Path(tempfile.mkdtemp(prefix=prefix(out.name), dir=out.parent))
    except OSError as err:
        raise _cannot_write(err, out) from None
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        _replace(tmp, out, force)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _cannot_write(err, out) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _cannot_write(err: OSError, out: Path) -> RunsError:
    """An OSError while writing ``out`` as one line: ``OUT: cannot write here: ...``."""
    line = os_problem(err, out)
    text = str(line)
    place = f"{err.filename}: " if err.filename else ""
    if place and text.startswith(place):
        text = text[len(place) :]
    elif text.startswith(f"{out}: "):
        text = text[len(f"{out}: ") :]
    return RunsError(f"{out}: cannot write here: {text}", line.exit_code)


def _replace(tmp: Path, out: Path, force: bool) -> None:
    """Rename ``tmp`` to ``out``; an existing ``out`` is moved aside first, then removed."""
    check_out(out, force)  # it may have appeared while we worked
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=prefix(out.name, "old"), dir=out.parent))
        old.rmdir()
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError as err:
        if old is not None:
            os.rename(old, out)
        raise _cannot_write(err, out) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_data(run: Run, folder: Path, csv: bool = False) -> None:
    """Write the run's tables (Parquet, and CSV copies with ``csv``) into ``folder``;
    times the ``write`` phase."""
    t0 = time.perf_counter()
    run.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    run.agents.to_parquet(folder / "agents.parquet", index=False)
    if csv:
        run.timeseries.to_csv(folder / "timeseries.csv", index=False, date_format="%Y-%m-%d")
        run.agents.to_csv(folder / "agents.csv", index=False, date_format="%Y-%m-%d")
    if run.supply is not None:
        write_json(folder / "supply.json", run.supply)
    run.timings_s["write"] = time.perf_counter() - t0


def run_json(run: Run) -> dict[str, Any]:
    """The content of run.json for ``run`` (see the module docstring)."""
    from market_sim.outcomes.headline import headline_values

    s = run.scenario
    return {
        "format": RUN_FORMAT,
        "name": s.simulation.name,
        "description": s.simulation.description,
        "source": run.source,
        "overrides": run.overrides,
        "seed": run.seed,
        "version": run.version,
        "created": run.created,
        "start_date": s.simulation.start_date.isoformat(),
        "weeks": len(run.timeseries),
        "timings_s": {k: round(v, 4) for k, v in run.timings_s.items()},
        "events": [
            {"week": w, "date": s.date_of(w).isoformat(), "label": label} for w, label in run.marks
        ],
        "headline": headline_values(run.timeseries),
        "files": [
            name for name in DATA_FILES if (run.folder is None or (run.folder / name).exists())
        ],
        "checksums": {
            name: file_record(run.folder / name)
            for name in DATA_FILES
            if run.folder is not None and (run.folder / name).is_file()
        },
        "scenario": s.model_dump(mode="json", by_alias=True),
    }


def write_run_into(
    run: Run, folder: Path, render: Callable[[Run], str] | None = None, csv: bool = False
) -> None:
    """Write the run's files into ``folder`` (a staged one, see :func:`staged_folder`):
    data (with CSV copies if ``csv``), then ``report.html`` when ``render`` (run -> HTML)
    is given, then run.json."""
    run.folder = folder
    write_data(run, folder, csv)
    if render is not None:
        t0 = time.perf_counter()
        write_text(folder / "report.html", render(run))
        run.timings_s["report"] = time.perf_counter() - t0
    write_json(folder / "run.json", run_json(run))


def write_run(
    run: Run,
    out: Path,
    force: bool = False,
    render: Callable[[Run], str] | None = None,
    csv: bool = False,
) -> Path:
    """Write a complete run folder at ``out`` atomically and return its path.

    ``render`` turns the run into the report's HTML (``None``: no report.html); ``csv``
    adds CSV copies of the tables. Raises :class:`RunsError` (existing ``out`` without
    ``force``, unwritable place).
    """
    out = Path(out)
    with staged_folder(out, force) as tmp:
        write_run_into(run, tmp, render, csv)
    run.folder = out
    return out


# --------------------------------------------------------------------------- reading


def read_run_json(path: Path) -> dict[str, Any]:
    """run.json of a run folder (or the file itself) as a dict; :class:`RunsError` if it
    is missing, unreadable or not shaped like one (see :func:`check_run_json`)."""
    path = Path(path)
    file = path / "run.json" if path.is_dir() else path
    if not file.is_file():
        what = "no run.json in this folder" if path.is_dir() else "not found"
        if file.exists():
            what = "not a regular file"
        raise RunsError(f"{path}: {what}; give a run folder written by `market-sim run`")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise _os_error(err, file) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RunsError(f"{file}: cannot read run.json: {err}"[:500]) from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise RunsError(f"{file}: not a market_sim run.json (format {RUN_FORMAT} expected)")
    problem = check_run_json(data)
    if problem:
        raise RunsError(f"{file}: {problem}; write the folder again with `market-sim run`")
    return data


def stored_scenario(data: Mapping[str, Any], overrides: Sequence[str] = ()) -> Scenario:
    """The resolved scenario kept in run.json (with further overrides, if any)."""
    from market_sim.model import resolve_scenario

    return resolve_scenario(data["scenario"], list(overrides))


def read_run(folder: Path) -> Run:
    """Read a run folder written by :func:`write_run` (no rerun).

    Raises :class:`RunsError` if the folder or one of its files is missing or unreadable.
    """
    folder = Path(folder)
    data = read_run_json(folder)
    try:
        ts = pd.read_parquet(folder / "timeseries.parquet")
        agents_file = folder / "agents.parquet"
        agents = pd.read_parquet(agents_file) if agents_file.exists() else pd.DataFrame()
    except (OSError, ValueError) as err:
        message = " ".join(str(err).split())[:300]
        raise RunsError(
            f"{folder}: cannot read the run's Parquet files ({message}); "
            "rerun with `market-sim run FOLDER --out FOLDER --force`"
        ) from None
    if "week" not in ts.columns or "date" not in ts.columns:
        raise RunsError(
            f"{folder / 'timeseries.parquet'}: not a run's weekly table (no week and date "
            "columns); rerun with `market-sim run FOLDER --out FOLDER --force`"
        )
    supply = None
    supply_file = folder / "supply.json"
    if supply_file.is_file():
        try:
            supply = json.loads(supply_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RunsError(f"{supply_file}: cannot read it: {err}; rerun the scenario") from None
    return Run(
        scenario=stored_scenario(data),
        seed=int(data["seed"]),
        timeseries=ts,
        agents=agents,
        marks=[(int(e["week"]), str(e["label"])) for e in data.get("events", [])],
        timings_s={k: float(v) for k, v in data.get("timings_s", {}).items()},
        version=str(data.get("version", "")),
        source=str(data.get("source", "")),
        overrides=list(data.get("overrides", [])),
        created=str(data.get("created", "")),
        folder=folder,
        supply=supply,
    )
