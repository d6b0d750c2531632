"""Rewrite the golden regression references (tests/fixtures/golden/*.parquet).

Run it only when a change moves the model's numbers on purpose, and say why in the commit
that carries the new references:

    python scripts/update_golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from golden import CASES, run_case


def main() -> None:
    for case in CASES:
        timeseries, agents = run_case(case)
        timeseries.to_parquet(case.timeseries_file, index=False)
        agents.to_parquet(case.agents_file, index=False)
        print(
            f"{case.name}: {len(timeseries)} weeks x {timeseries.shape[1]} columns, "
            f"{len(agents)} firm records -> {case.timeseries_file.parent}"
        )


if __name__ == "__main__":
    main()
