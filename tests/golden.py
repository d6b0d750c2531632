"""The golden regression runs: small but complete runs whose every weekly outcome (and
every firm's weekly record) is kept as a reference in ``tests/fixtures/golden/``.

``tests/test_golden.py`` reruns them and compares; ``scripts/update_golden.py`` rewrites
the references. A refactor leaves them equal (relative tolerance 1e-9); a change that
moves numbers on purpose rewrites them in the same commit and says why in its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
RTOL = 1e-9
ATOL = 1e-9


@dataclass(frozen=True)
class GoldenCase:
    name: str
    scenario: Path
    overrides: tuple[str, ...]
    seed: int

    @property
    def timeseries_file(self) -> Path:
        return GOLDEN / f"{self.name}.timeseries.parquet"

    @property
    def agents_file(self) -> Path:
        return GOLDEN / f"{self.name}.agents.parquet"


CASES = (
    # the historical baseline with a few thousand startups
    GoldenCase("baseline", ROOT / "scenarios" / "baseline.toml", ("startups.count=3000",), 1),
    # every event kind, every allocation policy, make-or-buy (see the file's comment)
    GoldenCase("shock", GOLDEN / "shock.toml", (), 7),
)


def run_case(case: GoldenCase) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The case's weekly outcomes and firms' records, as the model gives them now."""
    from market_sim.model import GPUMarketModel

    model = GPUMarketModel(case.scenario, seed=case.seed, overrides=list(case.overrides))
    timeseries = model.run()
    return timeseries, model.agents_frame()
