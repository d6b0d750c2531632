"""Make-or-buy (``HyperscalerAgent.consider_in_house``): the baseline's in-house programs
start when merchant GPUs stay dear and slow, at the week docs/ODD.md documents, and a
strained merchant market never starts a program later nor commits less to it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from market_sim.model import GPUMarketModel
from market_sim.scenario.shares import committed_shares, reachable_shares
from model_helpers import BASELINE

PROGRAMS = {"meta": "meta_mtia", "google": "google_tpu", "amazon": "amazon_trainium"}
DECIDED_START_WEEK = 16
"""2023-04-24: a quarter after standard H100 quotes passed 13 weeks (docs/ODD.md)."""


def _programs(model: GPUMarketModel) -> dict[str, tuple[int | None, int, float, float]]:
    """Per owner: (start week, first output week, commitment, units the program sold)."""
    out = {}
    for owner, vendor_id in PROGRAMS.items():
        h = next(x for x in model.holders if x.firm_id == owner)
        v = model.vendor_by_id[vendor_id]
        launch = int(min(model.launch_week[p] for p in v.products))
        out[owner] = (h.program_started, launch, h.commitment, v.units_sold)
    return out


def _run(path: Path | str, seed: int = 1) -> dict[str, tuple[int | None, int, float, float]]:
    with GPUMarketModel(path, seed=seed) as model:
        model.run()
        return _programs(model)


def _surge(tmp_path: Path, target: str, magnitude: float) -> Path:
    """The baseline with a demand surge of ``target`` over the whole run."""
    path = tmp_path / f"surge_{target}_{magnitude}.toml"
    path.write_text(
        f'extends = "{BASELINE.as_posix()}"\n[simulation]\nname = "surge"\n'
        f'[[events]]\nat = 2023-01-02\nkind = "demand_surge"\ntarget = "{target}"\n'
        f"magnitude = {magnitude}\n"
    )
    return path


@pytest.fixture(scope="module")
def baseline() -> dict[str, tuple[int | None, int, float, float]]:
    return _run(BASELINE)


def test_the_rule_starts_the_baseline_programs_at_the_documented_week(baseline):
    meta, amazon, google = baseline["meta"], baseline["amazon"], baseline["google"]
    assert meta[0] == amazon[0] == DECIDED_START_WEEK
    assert meta[1] == 65  # 2024-04-01: MTIA v2 in volume (known: April 2024)
    assert amazon[1] == 74  # 2024-06-03: Trainium2 in volume (known: H2 2024)
    assert google[0] is None  # TPU runs from the start: the rule only speeds it up
    assert all(0.0 < c <= 1.0 for _, _, c, _ in baseline.values())


def test_same_seed_same_decisions(baseline):
    assert _run(BASELINE) == baseline


def test_a_rivals_bigger_surge_never_starts_later_nor_commits_less(tmp_path):
    """More merchant strain from another buyer's demand (Microsoft's, the owners' own
    fixed): programs start no later and their commitment is no lower. MTIA, which needs
    no CoWoS, also sells no less; CoWoS-bound programs may lose capacity to the surge."""
    runs = [_run(_surge(tmp_path, "microsoft", m)) for m in (0.5, 1.0, 2.0)]
    for less, more in itertools.pairwise(runs):
        for owner in ("meta", "amazon"):
            assert more[owner][0] <= less[owner][0]
        for owner in PROGRAMS:
            assert more[owner][2] >= less[owner][2]
        assert more["meta"][3] >= less["meta"][3]


def test_a_market_wide_surge_moves_in_house_volume_both_ways(tmp_path):
    """Much less demand everywhere: merchant GPUs never get slow enough and the dormant
    programs never start; a little less: they start later; more: they start earlier.
    Every program commits more the more demand there is; in-house chips sell more in all
    and MTIA (no CoWoS) sells more, while the CoWoS-bound programs may trade capacity
    between them (at 1.2x the TPU's commitment boosts its share of the uncontracted
    CoWoS that Trainium also draws on)."""
    runs = [_run(_surge(tmp_path, "all", m)) for m in (0.7, 0.8, 1.0, 1.2)]
    none, low, mid, high = runs
    assert none["meta"][0] is None and none["meta"][3] == 0.0
    assert high["meta"][0] < mid["meta"][0] == DECIDED_START_WEEK < low["meta"][0]
    for less, more in itertools.pairwise(runs):
        for owner in PROGRAMS:
            assert less[owner][2] <= more[owner][2]
        assert less["meta"][3] <= more["meta"][3]
        assert sum(x[3] for x in less.values()) <= sum(x[3] for x in more.values())


def test_committed_shares_book_only_the_uncontracted_rest():
    reserved = np.array([0.1, 0.0])
    contracted = np.array([[0.6, 0.5], [0.1, 0.2]])  # [vendor, node]; rest 0.2 and 0.3
    same = committed_shares(reserved, contracted, np.zeros(2))
    np.testing.assert_array_equal(same, contracted)
    shares = committed_shares(reserved, contracted, np.array([0.0, 1.0]))
    np.testing.assert_allclose(shares[1], [0.2, 0.4])  # doubled: fits in the rest
    shares = committed_shares(reserved, contracted, np.array([1.0, 1.0]))
    assert (reserved + shares.sum(axis=0) <= 1.0 + 1e-12).all()  # capped by the rest
    np.testing.assert_allclose(reserved + shares.sum(axis=0), [1.0, 1.0])
    reach = reachable_shares(reserved, shares)
    np.testing.assert_allclose(reach, shares)  # nothing left uncontracted
