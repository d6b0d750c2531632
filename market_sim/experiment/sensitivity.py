"""Sensitivity of every output to every parameter.

Computed on the base scenario's runs, each sample point's outputs averaged over its
replicates (so seed noise is damped but still counted in the indices):

- ``sobol`` sweeps: first-order ``S1`` and total ``ST`` Sobol indices with their 95%
  bootstrap confidence half-widths (SALib ``sobol.analyze``, Saltelli/Jansen estimators,
  no second order). Shares of the output's variance: unitless, 0 to 1.
- ``morris`` sweeps: ``mu_star`` (mean absolute elementary effect, with its 95% CI
  half-width) and ``sigma`` (their spread: interactions and non-linearity), in the
  output's unit per step of ``levels / (2 (levels - 1))`` of the parameter's unit range.
- every sweep: the rank correlation (Spearman's rho, -1 to 1) of each output with each
  ordered parameter, and the correlation ratio (eta, 0 to 1) for a parameter of text
  values. These are the heatmap of the report and all that grid and LHS sweeps get.

SALib needs every sample point: an output with a failed or missing run at some point,
or with no variance, gets no Sobol or Morris index (the reason is reported).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.results import per_sample

COLUMNS = ["output", "parameter", "method", "measure", "value", "conf"]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks at ties); NaN without variance."""
    rx = pd.Series(x).rank().to_numpy(dtype=float)
    ry = pd.Series(y).rank().to_numpy(dtype=float)
    if len(rx) < 3 or np.std(rx) == 0 or np.std(ry) == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def eta(categories: pd.Series, y: np.ndarray) -> float:
    """Correlation ratio of ``y`` by category: sqrt(between-group / total variance)."""
    y = np.asarray(y, dtype=float)
    total = ((y - y.mean()) ** 2).sum()
    if len(y) < 3 or total == 0:
        return math.nan
    groups = pd.Series(y).groupby(categories.astype(str).to_numpy())
    between = sum(len(g) * (g.mean() - y.mean()) ** 2 for _, g in groups)
    return float(math.sqrt(between / total))


def association(values: pd.Series, y: np.ndarray, categorical: bool) -> tuple[str, float]:
    """(measure, value): eta for a categorical parameter, else Spearman's rho."""
    if categorical:
        return "eta", eta(values, y)
    return "rho", spearman(values.to_numpy(dtype=float), y)


def correlations(frame: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """Rank correlation (or eta) of each base-scenario output with each parameter."""
    outputs = [o["name"] for o in manifest["outputs"]]
    params = manifest["parameters"]
    means = per_sample(frame, manifest["base"], outputs)
    design = _design_values(manifest).loc[means.index] if len(means) else None
    rows = []
    for o in outputs:
        y = means[o].to_numpy(dtype=float) if len(means) else np.array([])
        keep = np.isfinite(y)
        for p in params:
            if design is None or keep.sum() < 3:
                measure, value = ("eta" if p["categorical"] else "rho"), math.nan
            else:
                measure, value = association(design[p["path"]][keep], y[keep], p["categorical"])
            rows.append((o, p["path"], "correlation", measure, value, math.nan))
    return pd.DataFrame(rows, columns=COLUMNS)


def salib_indices(frame: pd.DataFrame, manifest: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """Sobol or Morris indices per output (empty for other samplers), and per output the
    reason when none could be computed."""
    sampler = manifest["sampler"]
    if sampler not in ("sobol", "morris"):
        return pd.DataFrame(columns=COLUMNS), {}
    outputs = [o["name"] for o in manifest["outputs"]]
    names = [p["path"] for p in manifest["parameters"]]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    unit = np.array([d["unit"] for d in manifest["design"]], dtype=float)
    means = per_sample(frame, manifest["base"], outputs).reindex(range(len(unit)))
    rows, skipped = [], {}
    for o in outputs:
        y = means[o].to_numpy(dtype=float)
        missing = int((~np.isfinite(y)).sum())
        if missing:
            skipped[o] = f"{missing} of {len(y)} sample points have no value (failed/missing)"
            continue
        if np.ptp(y) == 0:
            skipped[o] = "the output does not vary"
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows += (
                _sobol(problem, y, o, manifest)
                if sampler == "sobol"
                else _morris(problem, unit, y, o, manifest)
            )
    return pd.DataFrame(rows, columns=COLUMNS), skipped


def _sobol(problem: dict, y: np.ndarray, output: str, manifest: dict) -> list[tuple]:
    from SALib.analyze import sobol

    si = sobol.analyze(
        problem,
        y,
        calc_second_order=False,
        conf_level=0.95,
        num_resamples=200,
        seed=int(manifest["seed"]) % 2**32,
    )
    rows = []
    for k, name in enumerate(problem["names"]):
        rows.append((output, name, "sobol", "S1", float(si["S1"][k]), float(si["S1_conf"][k])))
        rows.append((output, name, "sobol", "ST", float(si["ST"][k]), float(si["ST_conf"][k])))
    return rows


def _morris(problem: dict, x: np.ndarray, y: np.ndarray, output: str, manifest: dict) -> list:
    from SALib.analyze import morris

    si = morris.analyze(
        problem,
        x,
        y,
        conf_level=0.95,
        num_levels=int(manifest["levels"]),
        num_resamples=200,
        seed=int(manifest["seed"]) % 2**32,
    )
    rows = []
    for k, name in enumerate(problem["names"]):
        rows.append(
            (
                output,
                name,
                "morris",
                "mu_star",
                float(si["mu_star"][k]),
                float(si["mu_star_conf"][k]),
            )
        )
        rows.append((output, name, "morris", "sigma", float(si["sigma"][k]), math.nan))
    return rows


def _design_values(manifest: dict[str, Any]) -> pd.DataFrame:
    """Parameter values by sample (index = sample)."""
    frame = pd.DataFrame([d["values"] for d in manifest["design"]])
    frame.index = [d["sample"] for d in manifest["design"]]
    return frame
