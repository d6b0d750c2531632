"""Comparisons: several scenarios ("arms"), each run over the same N seed offsets, and
the paired differences of their outcomes.

An input is a scenario file (.toml: run with seeds ``simulation.seed + 0..N-1``) or a run
folder (its stored run is seed offset 0; offsets 1..N-1 are run from its stored
scenario and seed). Runs are paired by seed offset: the difference of arm B and arm A
for an outcome is averaged over the N pairs, with a 95% Student-t interval
(``mean ± t(0.975, N-1) · sd / √N``; none for N = 1). docs/reports.md explains it.

With an ensemble (a calibration's parameter sets, :mod:`market_sim.experiment.calibration`)
every arm runs every member x every seed offset, each pair sharing the member's parameters
and the seed; the deltas then also give the 5-95% range of the paired differences
(``delta_p05``, ``delta_p95``): how far the parameter sets that fit disagree.

``--set`` overrides apply to every arm that is a scenario file (``overrides_b`` to the
B arms only, after them); a run folder cannot take them (its stored run is what it
contributes), so :func:`check_inputs` refuses the combination.

A comparison folder holds ``report.html``, ``compare.json`` (inputs, overrides, seeds,
resolved scenarios, events, the deltas), ``deltas.csv`` and
``runs/<arm>-seed<seed>.parquet`` (each run's weekly frame with ``scenario`` and ``seed``
columns), which ``market-sim query`` reads as the view ``runs``; the command adds the
claims' outputs and the weekly differences (:mod:`market_sim.runs.compare_weekly`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from market_sim.outcomes.headline import OUTCOMES, Outcome
from market_sim.runs.folder import Run, RunsError, execute, is_run_folder, read_run, stored_scenario
from market_sim.scenario import Scenario

COMPARE_FORMAT = "market_sim.compare/1"
CONFIDENCE = 0.95


def slug(text: str, default: str = "run") -> str:
    """A safe file or folder name: letters, digits, ``.``, ``_``, ``-``."""
    out = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._-")
    return out[:80] or default


@dataclass
class Arm:
    """One scenario of a comparison: ``runs[i]`` used seed ``seeds[i]``.

    ``overrides`` are the ``--set`` lines the arm's scenario was resolved with (for a run
    folder, the ones its run.json records); ``scenario_file`` the scenario file it came
    from ("" when unknown), which the claims' rules are matched against.
    """

    label: str
    source: str
    scenario: Scenario
    runs: list[Run] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    scenario_file: str = ""

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def marks(self) -> list[tuple[int, str]]:
        return self.runs[0].marks if self.runs else []


@dataclass(frozen=True)
class Source:
    """A checked input: a scenario file or a run folder.

    ``overrides`` name what sets this arm apart in its label (a run folder's recorded
    ``--set`` lines, or the ``--set-b`` lines of a B arm); ``applied`` are all the
    overrides its scenario was resolved with; ``scenario_file`` is the scenario file it
    came from ("" when unknown: a run folder rerun from another folder).
    """

    path: Path
    scenario: Scenario
    base_seed: int
    folder: bool
    overrides: tuple[str, ...] = ()
    applied: tuple[str, ...] = ()
    scenario_file: str = ""


MAX_LABEL = 80
"""Characters of an arm's label at most (longer override lists are cut)."""


def default_run_folder(name: str, seed: int | None, overrides: Sequence[str]) -> Path:
    """``reports/<name>/`` for a plain run; a run with ``--seed`` or ``--set`` gets them in
    its folder name (``reports/baseline--seed-2--policy.allocation-auction``), so it does
    not replace the plain run's folder."""
    parts = [name] + ([f"seed-{seed}"] if seed is not None else [])
    parts += [o.replace("=", "-") for o in overrides]
    text = slug("--".join(parts))
    if len(text) >= 80:  # slug cuts at 80: keep the names apart with a digest
        import hashlib

        text = text[:66] + "-" + hashlib.sha1("--".join(parts).encode()).hexdigest()[:10]
    return Path("reports") / text


def default_compare_folder(labels: Sequence[str], overrides: Sequence[str] = ()) -> Path:
    """``reports/compare-<A>-vs-<B>/`` from the arms' labels; the ``--set`` lines applied
    to every arm join the name (``...--simulation.weeks-52``, cut with a digest like
    :func:`default_run_folder`), so a changed comparison does not replace the plain one."""
    name = "compare-" + "-vs-".join(slug(label) for label in labels)
    if not overrides:
        return Path("reports") / name
    return default_run_folder(name, None, overrides)


def arm_labels(sources: Sequence[Source]) -> list[str]:
    """Each arm's label: the scenario name, with the overrides that set the arm apart when
    it has any (a run folder's recorded ``--set`` lines, a B arm's ``--set-b`` lines: two
    arms of one scenario are told apart by what changed), made unique."""
    labels = []
    for src in sources:
        label = src.scenario.simulation.name
        if src.overrides:
            label = f"{label} ({', '.join(src.overrides)})"
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 2] + "…)"
        labels.append(label)
    return unique_labels(labels)


def check_inputs(
    paths: Sequence[Path], overrides: Sequence[str] = (), overrides_b: Sequence[str] = ()
) -> list[Source]:
    """Load every input up front (fail fast): a run folder's run.json or a scenario file,
    the latter with ``overrides`` (every arm) and then ``overrides_b`` (arms after the
    first).

    A run folder takes no overrides: its stored run is what it contributes (seed offset
    0), and running the other offsets from a changed scenario would pair unlike runs.
    Raises :class:`RunsError` (one line: pass the scenario file instead) or
    :class:`market_sim.scenario.ScenarioError`.
    """
    from market_sim.runs.folder import read_run_json
    from market_sim.scenario import load_scenario

    sources = []
    for k, p in enumerate(paths):
        p = Path(p)
        own = tuple(overrides_b) if k > 0 else ()
        if p.is_dir():
            if not is_run_folder(p):
                raise RunsError(
                    f"{p}: is a folder without run.json; give a scenario file "
                    "(.toml) or a run folder written by `market-sim run`"
                )
            if overrides or own:
                option = "--set" if overrides else "--set-b"
                raise RunsError(
                    f"{p}: {option} applies to scenario files, not to a run folder (its "
                    "stored run cannot change); pass the scenario file instead"
                )
            data = read_run_json(p)
            s = stored_scenario(data)
            stored = tuple(str(o) for o in data.get("overrides", []))
            source = str(data.get("source", ""))
            file = source if source.endswith(".toml") else ""
            sources.append(Source(p, s, int(data["seed"]), True, stored, stored, file))
        else:
            applied = (*overrides, *own)
            s = load_scenario(p, applied)
            sources.append(Source(p, s, s.simulation.seed, False, own, applied, str(p)))
    return sources


def unique_labels(names: Sequence[str]) -> list[str]:
    """Scenario names made unique (``name``, ``name-2``, ...)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def gather(
    sources: Sequence[Source],
    n_seeds: int,
    progress: bool = False,
    on_run: Callable[[str, Run], None] | None = None,
    members: Sequence[Sequence[str]] | None = None,
) -> list[Arm]:
    """Run (or read) every arm over seed offsets 0..n_seeds-1; with ``members`` (each an
    ensemble member's ``--set`` lines) every member x every seed offset, member-major."""
    labels = arm_labels(sources)
    arms = []
    plan = [(None, ())] if members is None else list(enumerate(members))
    for label, src in zip(labels, sources, strict=True):
        arm = Arm(label, str(src.path), src.scenario, [], list(src.applied), src.scenario_file)
        for member, lines in plan:
            for i in range(n_seeds):
                if i == 0 and src.folder and member is None:
                    run = read_run(src.path)
                else:
                    run = execute(
                        src.scenario,
                        seed=src.base_seed + i,
                        overrides=list(lines),
                        progress=progress,
                        source=str(src.path),
                    )
                    run.member = member
                arm.runs.append(run)
                if on_run is not None:
                    on_run(label, run)
        arms.append(arm)
    return arms


def run_file(arm: Arm, run: Run) -> str:
    """A run's file in a comparison folder, relative to it."""
    member = "" if run.member is None else f"-m{run.member:03d}"
    return f"runs/{slug(arm.label)}{member}-seed{run.seed}.parquet"


# --------------------------------------------------------------------------- statistics


def t_interval(x: Sequence[float], level: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high) of a Student-t interval for the mean; NaN bounds for n < 2."""
    from scipy import stats

    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return math.nan, math.nan, math.nan
    m = float(a.mean())
    if a.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, a.size - 1) * a.std(ddof=1) / math.sqrt(a.size))
    return m, m - half, m + half


def deltas(arms: Sequence[Arm], outcomes: Sequence[Outcome] = OUTCOMES) -> pd.DataFrame:
    """One row per (other arm, outcome): means of the base arm A (the first) and of B,
    the mean paired difference B - A over the pairs, its 95% t-interval (for the mean)
    and the 5-95% range of the paired differences themselves."""
    base = arms[0]
    values = {
        a.label: [{o.key: o.value(r.timeseries) for o in outcomes} for r in a.runs] for a in arms
    }
    rows = []
    for arm in arms[1:]:
        n = min(len(base.runs), len(arm.runs))
        for o in outcomes:
            a_vals = np.array([v[o.key] for v in values[base.label][:n]])
            b_vals = np.array([v[o.key] for v in values[arm.label][:n]])
            diff = b_vals - a_vals
            m, lo, hi = t_interval(diff)
            finite = diff[np.isfinite(diff)]
            p05, p95 = np.percentile(finite, [5, 95]) if finite.size else (math.nan, math.nan)
            a_mean = float(np.nanmean(a_vals)) if np.isfinite(a_vals).any() else math.nan
            rows.append(
                {
                    "a": base.label,
                    "b": arm.label,
                    "outcome": o.key,
                    "label": o.label,
                    "unit": o.unit,
                    "a_mean": a_mean,
                    "b_mean": float(np.nanmean(b_vals)) if np.isfinite(b_vals).any() else math.nan,
                    "delta_mean": m,
                    "delta_low": lo,
                    "delta_high": hi,
                    "delta_p05": float(p05),
                    "delta_p95": float(p95),
                    "n_pairs": int(n),
                    "delta_pct": 100.0 * m / abs(a_mean)
                    if a_mean and math.isfinite(a_mean)
                    else math.nan,
                }
            )
    return pd.DataFrame(rows)


def spread(arm: Arm, outcomes: Sequence[Outcome] = OUTCOMES) -> pd.DataFrame:
    """One row per outcome of a single arm's runs (an ensemble's members x seeds): the
    mean, and the 5% and 95% percentiles over the runs."""
    rows = []
    for o in outcomes:
        v = np.array([o.value(r.timeseries) for r in arm.runs], dtype=float)
        v = v[np.isfinite(v)]
        lo, hi = np.percentile(v, [5, 95]) if v.size else (math.nan, math.nan)
        rows.append(
            {
                "outcome": o.key,
                "label": o.label,
                "unit": o.unit,
                "mean": float(v.mean()) if v.size else math.nan,
                "p05": float(lo),
                "p95": float(hi),
                "n_runs": int(v.size),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- folders


def run_frame(arm: Arm, run: Run) -> pd.DataFrame:
    """A run's weekly frame with the arm label and seed as leading columns."""
    frame = run.timeseries.copy()
    frame.insert(0, "seed", np.int64(run.seed))
    if run.member is not None:
        frame.insert(0, "member", np.int64(run.member))
    frame.insert(0, "scenario", arm.label)
    return frame


def write_comparison(
    folder: Path,
    arms: Sequence[Arm],
    table: pd.DataFrame,
    timings: dict[str, float],
    extra: Mapping[str, Any] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """Write compare.json, deltas.csv and runs/*.parquet into ``folder`` (a staged one);
    ``extra`` adds top-level entries to compare.json, ``tables`` more CSV files (by name)."""
    from market_sim import __version__
    from market_sim.fileio import write_json

    (folder / "runs").mkdir()
    for arm in arms:
        for run in arm.runs:
            run_frame(arm, run).to_parquet(folder / run_file(arm, run), index=False)
    table.to_csv(folder / "deltas.csv", index=False)
    for name, frame in (tables or {}).items():
        frame.to_csv(folder / name, index=False)
    write_json(
        folder / "compare.json",
        {
            "format": COMPARE_FORMAT,
            "version": __version__,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "interval": f"paired Student-t, {CONFIDENCE:.0%}, over seed offsets",
            "timings_s": {k: round(v, 4) for k, v in timings.items()},
            "arms": [
                {
                    "label": a.label,
                    "source": a.source,
                    "scenario_file": a.scenario_file,
                    "overrides": a.overrides,
                    "seeds": a.seeds,
                    "members": [r.member for r in a.runs],
                    "files": [run_file(a, r) for r in a.runs],
                    "events": [{"week": w, "label": lab} for w, lab in a.marks],
                    "scenario": a.scenario.model_dump(mode="json", by_alias=True),
                }
                for a in arms
            ],
            "deltas": json.loads(table.to_json(orient="records")),
            **(extra or {}),
        },
    )


def is_compare_folder(path: Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "compare.json").is_file()


def read_compare_json(folder: Path) -> dict[str, Any]:
    """A comparison folder's compare.json; :class:`RunsError` if unreadable or not one."""
    folder = Path(folder)
    try:
        data: dict[str, Any] = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunsError(f"{folder / 'compare.json'}: cannot read: {err}") from None
    if data.get("format") != COMPARE_FORMAT:
        raise RunsError(
            f"{folder / 'compare.json'}: not a market_sim comparison "
            f"(format {COMPARE_FORMAT} expected)"
        )
    return data


def read_comparison(folder: Path) -> list[Arm]:
    """The arms of a comparison folder, from compare.json and runs/*.parquet (no rerun)."""
    from market_sim.model import resolve_scenario

    folder = Path(folder)
    data = read_compare_json(folder)
    arms = []
    for spec in data["arms"]:
        s = resolve_scenario(spec["scenario"])
        overrides = [str(o) for o in spec.get("overrides", [])]
        arm = Arm(spec["label"], spec["source"], s, [], overrides, spec.get("scenario_file", ""))
        marks = [(int(e["week"]), str(e["label"])) for e in spec.get("events", [])]
        members = spec.get("members") or [None] * len(spec["seeds"])
        for seed, file, member in zip(spec["seeds"], spec["files"], members, strict=True):
            try:
                ts = pd.read_parquet(folder / file)
            except (OSError, ValueError) as err:
                raise RunsError(f"{folder / file}: cannot read: {err}") from None
            ts = ts.drop(columns=[c for c in ("scenario", "member", "seed") if c in ts.columns])
            run = Run(s, int(seed), ts, pd.DataFrame(), marks, folder=folder, member=member)
            arm.runs.append(run)
        arms.append(arm)
    return arms
