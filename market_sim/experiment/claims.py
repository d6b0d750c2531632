"""Claims: in what share of the sampled parameter space a claim holds, and what decides it.

For each sample point and replicate, a claim's *delta* is its output in the claim's
scenario minus the same output in the counterfactual, run with the same parameter
values and the same seed (in percent of the counterfactual's value when the claim is
``relative``). A sample point's delta is the mean over its replicates; the claim *holds*
there when that delta exceeds ``threshold`` (``increase``) or falls below ``-threshold``
(``decrease``). Points where a run failed or the output is NaN are left out and counted.

The share of points where the claim holds comes with a 95% Wilson score interval (the
uncertainty from the number of points sampled, not from the model).

What decides it, per parameter (a screening, not a causal model; dependency-free):

- *importance*: |Spearman's rho| between the parameter's value and the delta (for a
  parameter of text values, the correlation ratio eta of the delta by value), 0 to 1;
- *rule*: the single split of the parameter that best separates points where the claim
  holds from points where it does not (a decision stump: the threshold, or for text
  values the one value, that maximises the difference in the share holding on either
  side, each side keeping at least two points), e.g. ``holds at 90% of points with
  agents.meta... > 8.1e+05, at 10% below``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.sensitivity import association

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (NaNs for n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Driver:
    """How one parameter bears on a claim."""

    parameter: str
    measure: str  # "rho" or "eta"
    association: float
    importance: float
    rule: str


@dataclass
class ClaimResult:
    """A claim evaluated over a sweep."""

    claim: dict[str, Any]
    n: int
    holds: int
    share: float
    low: float
    high: float
    pairs: int
    pairs_holding: int
    excluded: int
    delta_median: float
    delta_p10: float
    delta_p90: float
    drivers: list[Driver] = field(default_factory=list)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def verdict(self) -> str:
        """``holds``/``fails`` when the whole interval is above/below one half, else mixed."""
        if self.n == 0:
            return "not computed"
        if self.low > 0.5:
            return "holds mostly"
        if self.high < 0.5:
            return "fails mostly"
        return "mixed"


def paired_differences(frame: pd.DataFrame, claim: dict[str, Any]) -> tuple[pd.DataFrame, int]:
    """Per (sample, replicate): the claim's difference ``delta``; and how many planned
    pairs have none (a failed or missing run, no value, or a relative claim's
    counterfactual at 0). ``frame``: the sweep's results (one row per run, with
    ``scenario``, ``sample``, ``replicate``, ``status`` and the output's column)."""
    out = claim["output"]
    cols = ["sample", "replicate", "status", out]
    a = frame.loc[frame["scenario"] == claim["scenario"], cols]
    b = frame.loc[frame["scenario"] == claim["counterfactual"], cols]
    pairs = a.merge(b, on=["sample", "replicate"], suffixes=("_s", "_c"))
    s = pairs[f"{out}_s"].astype(float).to_numpy()
    c = pairs[f"{out}_c"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = s - c
        if claim["relative"]:
            delta = np.where(c != 0, 100.0 * delta / np.abs(c), np.nan)
    ok = (
        (pairs["status_s"] == "ok").to_numpy()
        & (pairs["status_c"] == "ok").to_numpy()
        & np.isfinite(s)
        & np.isfinite(c)
        & np.isfinite(delta)
    )
    kept = pd.DataFrame(
        {
            "sample": pairs["sample"].to_numpy()[ok],
            "replicate": pairs["replicate"].to_numpy()[ok],
            "delta": delta[ok],
        }
    )
    return kept.sort_values(["sample", "replicate"]).reset_index(drop=True), int((~ok).sum())


def passes(delta: np.ndarray | pd.Series | float, claim: dict[str, Any]) -> np.ndarray:
    """Whether each difference passes the claim's threshold in its direction."""
    d = np.asarray(delta, dtype=float)
    t = float(claim["threshold"])
    return d > t if claim["direction"] == "increase" else d < -t


def evaluate_claim(
    frame: pd.DataFrame, manifest: dict[str, Any], claim: dict[str, Any]
) -> ClaimResult:
    """Evaluate one claim (a dict as in the manifest) over the sweep's results frame."""
    pairs, excluded = paired_differences(frame, claim)
    pairs_holding = int(passes(pairs["delta"], claim).sum())
    points = pairs.groupby("sample")["delta"].mean().to_frame()
    points["holds"] = passes(points["delta"], claim)
    design = pd.DataFrame(
        [d["values"] for d in manifest["design"]], index=[d["sample"] for d in manifest["design"]]
    )
    points = points.join(design, how="left")
    n, k = len(points), int(points["holds"].sum())
    low, high = wilson(k, n)
    d = points["delta"].to_numpy(dtype=float)
    q = np.quantile(d, [0.1, 0.5, 0.9]) if n else [math.nan] * 3
    drivers = [_driver(points, p) for p in manifest["parameters"]] if n >= 3 else []
    drivers.sort(key=lambda x: -(x.importance if math.isfinite(x.importance) else -1))
    return ClaimResult(
        claim,
        n,
        k,
        k / n if n else math.nan,
        low,
        high,
        len(pairs),
        pairs_holding,
        excluded,
        float(q[1]),
        float(q[0]),
        float(q[2]),
        drivers,
        points.reset_index(),
    )


def evaluate_claims(frame: pd.DataFrame, manifest: dict[str, Any]) -> list[ClaimResult]:
    """Every claim of the sweep."""
    return [evaluate_claim(frame, manifest, c) for c in manifest.get("claims", [])]


def _driver(points: pd.DataFrame, param: dict[str, Any]) -> Driver:
    path, categorical = param["path"], bool(param["categorical"])
    values = points[path]
    measure, assoc = association(values, points["delta"].to_numpy(dtype=float), categorical)
    importance = abs(assoc) if math.isfinite(assoc) else math.nan
    rule = _stump(values, points["holds"].to_numpy(dtype=bool), path, categorical)
    return Driver(path, measure, assoc, importance, rule)


def _stump(values: pd.Series, holds: np.ndarray, path: str, categorical: bool) -> str:
    """The one split of a parameter that best separates holding from failing points."""
    n = len(values)
    if holds.all() or not holds.any():
        return "holds at every point" if holds.all() else "holds at no point"
    best: tuple[float, str] | None = None
    if categorical:
        keys = values.astype(str).to_numpy()
        for v in dict.fromkeys(keys):
            inside = keys == v
            if inside.sum() < 1 or (~inside).sum() < 1:
                continue
            a, b = holds[inside].mean(), holds[~inside].mean()
            text = f"holds at {a:.0%} of points with {path} = {v}, at {b:.0%} otherwise"
            if best is None or abs(a - b) > best[0]:
                best = (abs(a - b), text)
    else:
        x = values.to_numpy(dtype=float)
        order = np.sort(np.unique(x))
        for lo, hi in itertools.pairwise(order):
            cut = (lo + hi) / 2
            above = x > cut
            if above.sum() < 2 or (~above).sum() < 2:
                continue
            a, b = holds[above].mean(), holds[~above].mean()
            text = f"holds at {a:.0%} of points with {path} > {cut:.4g}, at {b:.0%} below"
            if best is None or abs(a - b) > best[0]:
                best = (abs(a - b), text)
    return best[1] if best is not None else f"too few distinct values of {path} to split (n={n})"
