"""What decides a claim: sensitivity of its *difference* (scenario minus counterfactual,
each sample point's mean over seeds) to the uncertain parameters, through SALib.

- A ``sobol`` sweep (``--sweep``): first-order Sobol indices ``S1`` (SALib
  ``sobol.analyze``), every sample point needed.
- A ``morris`` sweep: ``mu*`` scaled by the largest ``mu*`` (0 to 1; SALib
  ``morris.analyze``).
- An ensemble, a Latin hypercube or a grid: the first-order index ``S1`` that SALib's
  moment-independent ``delta.analyze`` estimates from any sample (Plischke et al. 2013).

Each index comes with its 95% bootstrap half-width (``conf``). The indices are ranked
only when they are stable: every ``conf`` at most :data:`STABLE_CONF` (on the index's
0-1 scale) and at least :data:`MIN_POINTS` sample points. Otherwise the table is shown in
parameter order with a warning, never as a ranking. Spearman's rho of the difference
with each parameter is shown beside the index as a screening measure.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from market_sim.experiment.sensitivity import association

STABLE_CONF = 0.1
"""Widest 95% bootstrap half-width of an index (0-1 scale) for which it is ranked."""
MIN_POINTS = 8
"""Fewest sample points with a difference for any index."""
RESAMPLES = 200


@dataclass
class Sensitivity:
    """Indices of one claim's difference: ``table`` has parameter, index, conf, rho."""

    method: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    stable: bool = False
    note: str = ""

    def decides(self, top: int = 2) -> str:
        """A short phrase for the answers table: the leading parameters, or why none."""
        if self.table.empty:
            return self.note
        if not self.stable:
            return "not ranked: " + self.note
        lead = self.table.head(top)
        pairs = zip(lead["parameter"], lead["index"], strict=True)
        return "; ".join(f"{p} ({v:.2f})" for p, v in pairs)


def difference_sensitivity(points: pd.DataFrame, manifest: dict[str, Any]) -> Sensitivity:
    """Sensitivity of ``points["mean_delta"]`` (by ``sample``) to the sweep's parameters."""
    sampler = manifest["sampler"]
    params = [p for p in manifest["parameters"] if not p["categorical"]]
    design = pd.DataFrame([d["values"] for d in manifest["design"]])
    design.index = [d["sample"] for d in manifest["design"]]
    y_all = points.set_index("sample")["mean_delta"].reindex(design.index)
    ok = np.isfinite(y_all.to_numpy(dtype=float))
    method = {"sobol": "Sobol S1", "morris": "Morris mu* (scaled)"}.get(sampler, "delta-method S1")
    if ok.sum() < MIN_POINTS:
        return Sensitivity(method, note=f"{int(ok.sum())} sample points (fewer than {MIN_POINTS})")
    y = y_all.to_numpy(dtype=float)
    if np.ptp(y[ok]) == 0:
        return Sensitivity(method, note="the difference does not vary across sample points")
    if sampler in ("sobol", "morris") and not ok.all():
        return Sensitivity(
            method, note=f"{int((~ok).sum())} of {len(y)} sample points have no difference"
        )
    names = [p["path"] for p in params if np.ptp(design.loc[ok, p["path"]].astype(float)) > 0]
    if not names:
        return Sensitivity(method, note="no numeric parameter varies")
    seed = int(manifest.get("seed", 0)) % 2**32
    from threadpoolctl import threadpool_limits

    formatter = warnings.formatwarning  # SALib's delta replaces it for the whole process
    try:
        # SALib's delta makes ~10^5 tiny scipy calls (a KDE each); BLAS threads only add
        # overhead to them (1.8x slower on 2 busy cores), so one thread
        with (
            warnings.catch_warnings(record=True),
            contextlib.redirect_stdout(io.StringIO()),
            threadpool_limits(limits=1),
        ):
            if sampler == "sobol":
                index, conf = _sobol(manifest, y, names, seed)
            elif sampler == "morris":
                index, conf = _morris(manifest, y, names, seed)
            else:
                x = design.loc[ok, names].to_numpy(dtype=float)
                index, conf = _delta(x, y[ok], names, seed)
    finally:
        warnings.formatwarning = formatter
    rho = [association(design.loc[ok, n], y[ok], False)[1] for n in names]
    table = pd.DataFrame({"parameter": names, "index": index, "conf": conf, "rho": rho})
    widest = float(np.nanmax(table["conf"])) if table["conf"].notna().any() else math.nan
    stable = math.isfinite(widest) and widest <= STABLE_CONF
    if stable:
        table = table.sort_values("index", ascending=False, kind="stable")
        note = f"ranked: every 95% bootstrap half-width <= {STABLE_CONF}"
    elif not math.isfinite(widest):
        note = f"SALib could not estimate the indices from {int(ok.sum())} sample points"
    else:
        note = (
            f"too few sample points for stable indices (widest 95% bootstrap interval "
            f"±{widest:.2f} > {STABLE_CONF}); run more members or a bigger sweep"
        )
    return Sensitivity(method, table.reset_index(drop=True), stable, note)


def sensitivities(
    points: Mapping[str, pd.DataFrame],
    manifest: dict[str, Any],
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Sensitivity]:
    """:func:`difference_sensitivity` of each claim (``points``: claim id -> its points),
    on ``workers`` processes when there is more than one claim and the method is the
    delta method (each claim's indices depend only on its points and the manifest's
    seed: the same numbers with any count; a Sobol or Morris analysis takes less than
    starting a process); ``progress(done, total, claim_id)`` as each is finished."""
    total = len(points)
    out: dict[str, Sensitivity] = {}
    if progress is not None:
        progress(0, total, "")
    if workers <= 1 or total <= 1 or manifest["sampler"] in ("sobol", "morris"):
        for done, (cid, pts) in enumerate(points.items(), start=1):
            out[cid] = difference_sensitivity(pts, manifest)
            if progress is not None:
                progress(done, total, cid)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
        futures = {
            pool.submit(difference_sensitivity, pts, manifest): cid for cid, pts in points.items()
        }
        for done, future in enumerate(as_completed(futures), start=1):
            out[futures[future]] = future.result()
            if progress is not None:
                progress(done, total, futures[future])
    return {cid: out[cid] for cid in points}  # the claims' order


def _sobol(manifest: dict, y: np.ndarray, names: list[str], seed: int) -> tuple[list, list]:
    from SALib.analyze import sobol

    all_names = [p["path"] for p in manifest["parameters"]]
    problem = {"num_vars": len(all_names), "names": all_names, "bounds": [[0, 1]] * len(all_names)}
    si = sobol.analyze(
        problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=0.95, seed=seed
    )
    k = [all_names.index(n) for n in names]
    return [float(si["S1"][i]) for i in k], [float(si["S1_conf"][i]) for i in k]


def _morris(manifest: dict, y: np.ndarray, names: list[str], seed: int) -> tuple[list, list]:
    from SALib.analyze import morris

    all_names = [p["path"] for p in manifest["parameters"]]
    problem = {"num_vars": len(all_names), "names": all_names, "bounds": [[0, 1]] * len(all_names)}
    unit = np.array([d["unit"] for d in manifest["design"]], dtype=float)
    si = morris.analyze(
        problem,
        unit,
        y,
        num_levels=int(manifest["levels"]),
        num_resamples=RESAMPLES,
        conf_level=0.95,
        seed=seed,
    )
    top = float(np.nanmax(si["mu_star"])) or 1.0
    k = [all_names.index(n) for n in names]
    return [float(si["mu_star"][i]) / top for i in k], [
        float(si["mu_star_conf"][i]) / top for i in k
    ]


def _delta(x: np.ndarray, y: np.ndarray, names: list[str], seed: int) -> tuple[list, list]:
    from SALib.analyze import delta

    bounds = [[float(x[:, j].min()), float(x[:, j].max())] for j in range(x.shape[1])]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    si = delta.analyze(
        problem, x, y, num_resamples=RESAMPLES, conf_level=0.95, seed=seed, print_to_console=False
    )
    return [float(v) for v in si["S1"]], [float(v) for v in si["S1_conf"]]
