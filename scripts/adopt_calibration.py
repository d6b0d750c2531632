"""Make a calibration the scenario's own: write its best values into the scenario file
(each commented with the calibration's id, objective and bounds; every other line kept)
and ship its ensemble next to the scenario.

    python scripts/adopt_calibration.py reports/calibration/baseline \
        [--scenario scenarios/baseline.toml]

writes ``scenarios/baseline.toml`` in place and ``scenarios/baseline.ensemble.toml`` +
``scenarios/baseline.ensemble.parquet`` (the members, best first), so that
``--ensemble scenarios/baseline.ensemble.toml`` runs them. Refuses a calibration of
another scenario file or one whose folder is incomplete.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("calibration", type=Path, help="a calibration folder (calibration.json)")
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    args = ap.parse_args(argv)

    from market_sim.experiment.calibration.outputs import (
        apply_values,
        held_fixed,
        load_ensemble,
        write_ensemble,
    )
    from market_sim.fileio import write_text

    settings_file = args.calibration / "calibration.json"
    try:
        info = json.loads(settings_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(
            f"{settings_file}: cannot read ({err}); finish the calibration first", file=sys.stderr
        )
        return 2
    calibrated_from = Path(info["settings"]["scenario_file"]).resolve()
    if calibrated_from != args.scenario.resolve():
        print(
            f"{settings_file}: calibrates {calibrated_from}, not {args.scenario}; "
            "give --scenario that file",
            file=sys.stderr,
        )
        return 2
    ensemble = load_ensemble(args.calibration / info["ensemble"])
    import pandas as pd

    members = pd.read_parquet(ensemble.file.parent / f"{args.scenario.stem}.ensemble.parquet")
    best = ensemble.members[0]
    objective = float(members["objective_in_sample"].iloc[0])
    bounds = {p["path"]: (p["low"], p["high"]) for p in info["parameters"]}
    cal_id = info["id"]
    comments = {
        path: f"calibrated: {cal_id}, objective {objective:.4g}, bounds [{lo:g}, {hi:g}]"
        for path, (lo, hi) in bounds.items()
    }
    # values the calibration held fixed with --set become the scenario's own too, so the
    # shipped ensemble needs no overrides of its own
    fixed, notes = held_fixed(args.scenario, ensemble.fixed, best, cal_id)
    comments.update(notes)
    text = args.scenario.read_text(encoding="utf-8")
    write_text(args.scenario, apply_values(text, {**fixed, **best}, comments, ensemble.integer))
    pointer = write_ensemble(
        args.scenario.parent,
        args.scenario,
        cal_id,
        members,
        list(best),
        ensemble.integer,
        {"tolerance": _tolerance(ensemble.file), "objective_best": objective},
    )
    s = info["summary"]
    print(f"{args.scenario}: {len(best)} values from {cal_id} (objective {objective:.4g})")
    print(
        f"{pointer}: {len(members)} members; in sample {s['in_sample_inside_after']}/"
        f"{s['in_sample_n']} inside, out of sample {s['out_sample_inside_after']}/"
        f"{s['out_sample_n']}, coverage {s['coverage']}/{s['coverage_n']}"
    )
    return 0


def _tolerance(pointer: Path) -> float:
    """The ensemble's tolerance as its file states it."""
    import tomlkit

    return float(tomlkit.parse(pointer.read_text(encoding="utf-8")).get("tolerance", 0.5))


if __name__ == "__main__":
    sys.exit(main())
