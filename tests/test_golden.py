"""Golden regression: the model's numbers do not move unless a commit means them to.

Every weekly outcome column and every firm's weekly record of the runs in
:mod:`golden` must equal the stored reference (relative tolerance 1e-9). New columns
may appear (new outcomes); none may disappear. To change the numbers on purpose, run
``python scripts/update_golden.py`` and say why in the commit message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden import ATOL, CASES, RTOL, run_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_run(case) -> None:
    ref_ts = pd.read_parquet(case.timeseries_file)
    ref_agents = pd.read_parquet(case.agents_file)
    ts, agents = run_case(case)

    missing = [c for c in ref_ts.columns if c not in ts.columns]
    assert not missing, f"outcome columns gone: {missing[:10]}"
    assert len(ts) == len(ref_ts)
    assert (pd.to_datetime(ts["date"]) == pd.to_datetime(ref_ts["date"])).all()
    moved = []
    for col in ref_ts.columns:
        if col == "date":
            continue
        new, old = ts[col].to_numpy(dtype=float), ref_ts[col].to_numpy(dtype=float)
        if not np.allclose(new, old, rtol=RTOL, atol=ATOL, equal_nan=True):
            week = int(np.flatnonzero(~np.isclose(new, old, rtol=RTOL, atol=ATOL))[0])
            moved.append(f"{col} (week {week}: {old[week]!r} -> {new[week]!r})")
    assert not moved, f"{len(moved)} columns moved, first: {moved[:5]}"

    key = ["week", "agent_id", "variable"]
    merged = ref_agents.merge(agents, on=key, how="left", suffixes=("_ref", ""))
    assert merged["value"].notna().all(), "firm records gone"
    assert np.allclose(merged["value"], merged["value_ref"], rtol=RTOL, atol=ATOL)
