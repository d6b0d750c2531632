"""What the explorer shows: a scenario simulated live, or a stored run replayed.

:class:`ExplorerModel` is the Mesa model SolaraViz drives (step, play, reset). Given a
scenario file it builds a :class:`market_sim.model.GPUMarketModel` with the controls'
overrides and steps it a week at a time; given a run folder (``market-sim run`` output)
it replays the stored weekly table, one week per step, without simulating. Either way
the charts read :meth:`ExplorerModel.frame` (the weeks so far) and
:meth:`ExplorerModel.supply_summary` (the supply graph and its binding nodes).

A source that cannot be used (a missing file, a bad scenario) does not raise: the model
is empty, not running, and :attr:`ExplorerModel.problem` holds the one-line reason the
page shows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from market_sim.explore.controls import Control, controls_for, overrides_of
from market_sim.model import GPUMarketModel, resolve_scenario
from market_sim.problems import LineError, shorten
from market_sim.runs.folder import Run, is_run_folder, read_run
from market_sim.scenario import Scenario, ScenarioError
from market_sim.supply.summary import graph_summary


@functools.lru_cache(maxsize=8)
def _base_scenario(source: str, overrides: tuple[str, ...], stamp: float) -> Scenario:
    """The scenario file with the command line's overrides (cached per file version)."""
    return resolve_scenario(source or None, list(overrides))


def base_scenario(source: str | Path | None, overrides: Sequence[str] = ()) -> Scenario:
    """The scenario a source file and ``--set`` overrides give (the packaged baseline for
    none). Raises :class:`ScenarioError` or ``OSError``."""
    path = str(source or "")
    stamp = Path(path).stat().st_mtime if path else 0.0
    return _base_scenario(path, tuple(overrides), stamp)


class ExplorerModel(mesa.Model):
    """A live model or a replayed run, stepped a week at a time.

    Args:
        source: a scenario file (default: the packaged baseline) or a run folder.
        seed: random seed as text or a number (empty: the scenario's own).
        fixed: ``--set`` overrides applied before the controls' (the command line's).
        **kwargs: control values by name (:mod:`market_sim.explore.controls`).
    """

    def __init__(
        self,
        source: str | Path | None = None,
        seed: Any = "",
        fixed: Sequence[str] = (),
        **kwargs: Any,
    ):
        super().__init__(seed=0)
        self.source = str(source or "")
        self.problem = ""
        self.overrides: list[str] = []
        self.live: GPUMarketModel | None = None
        self.stored: Run | None = None
        self.week = 0
        self._supply: tuple[int, dict[str, Any]] | None = None
        self._frame: tuple[int, pd.DataFrame] | None = None
        try:
            if self.source and is_run_folder(Path(self.source)):
                self.stored = read_run(Path(self.source))
            else:
                base = base_scenario(self.source, fixed)
                self.overrides = overrides_of(controls_for(base), kwargs)
                self.live = GPUMarketModel(base, seed=_seed(seed), overrides=self.overrides)
        except (ScenarioError, LineError, OSError, ValueError) as err:
            self.problem = _one_line(err)
        self.running = self.problem == "" and self.weeks > 0

    # ------------------------------------------------------------------ what it is
    @property
    def scenario(self) -> Scenario | None:
        if self.live is not None:
            return self.live.scenario
        return self.stored.scenario if self.stored is not None else None

    @property
    def weeks(self) -> int:
        """Weeks in the horizon (live) or stored (replay)."""
        if self.live is not None:
            return int(self.live.world.weeks)
        return len(self.stored.timeseries) if self.stored is not None else 0

    @property
    def replay(self) -> bool:
        return self.stored is not None

    def describe(self) -> str:
        """One line: what is shown, at which week."""
        if self.problem:
            return self.problem
        s = self.scenario
        assert s is not None
        what = f"Scenario {s.simulation.name}"
        if self.replay:
            what = f"Replaying run folder {self.source} ({s.simulation.name})"
        changed = f"; overrides: {', '.join(self.overrides)}" if self.overrides else ""
        return f"{what}{changed}. Week {self.week} of {self.weeks}."

    # ------------------------------------------------------------------ stepping
    def step(self) -> None:
        """One week: the live model steps, or the replay shows one more stored week."""
        if not self.running:
            return
        if self.live is not None:
            self.live.step()
            self.week = int(self.live.week)
        else:
            self.week += 1
        self.running = self.week < self.weeks

    # ------------------------------------------------------------------ data for the charts
    def frame(self) -> pd.DataFrame:
        """The weekly outcomes of the weeks so far (``week``, ``date``, metric columns);
        computed once a week, however many charts ask."""
        if self._frame is None or self._frame[0] != self.week:
            if self.live is not None:
                frame = self.live.timeseries()
            elif self.stored is not None:
                frame = self.stored.timeseries.iloc[: self.week].reset_index(drop=True)
            else:
                frame = pd.DataFrame({"week": [], "date": []})
            self._frame = (self.week, frame)
        return self._frame[1]

    def marks(self) -> list[tuple[int, str]]:
        """The scenario's events as (week, label)."""
        if self.live is not None:
            return [(int(w), str(label)) for w, label in self.live.events.marks]
        return list(self.stored.marks) if self.stored is not None else []

    def supply_summary(self) -> dict[str, Any] | None:
        """The supply graph with each product's binding nodes: at the current week when
        live, at the start as stored when replaying (None if the folder has none)."""
        if self.stored is not None:
            return self.stored.supply
        if self.live is None:
            return None
        week = min(self.week, self.weeks - 1)
        if self._supply is None or self._supply[0] != week:
            self._supply = (week, graph_summary(self.live.scenario, week))
        return self._supply[1]


def _seed(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"seed: '{shorten(text, 40)}' is not a whole number; fix it") from None
    if seed < 0:
        raise ValueError(f"seed: {seed} is negative; use 0 or more")
    return seed


def _one_line(err: Exception) -> str:
    if isinstance(err, ScenarioError):
        return shorten("; ".join(str(p) for p in err.problems[:3]), 400)
    if isinstance(err, OSError) and not isinstance(err, LineError):
        from market_sim.problems import os_problem

        return str(os_problem(err))
    return shorten(str(err), 400)


def default_controls(source: str | Path | None, fixed: Sequence[str] = ()) -> list[Control]:
    """The controls of the page for a source (none for a run folder or a bad file)."""
    if source and is_run_folder(Path(source)):
        return []
    try:
        return controls_for(base_scenario(source, fixed))
    except (ScenarioError, LineError, OSError):
        return []
