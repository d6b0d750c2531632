"""``market-sim claims``: paired runs over an ensemble, answers with intervals and
verdicts, reproducible by the queries the page shows, resumable after a kill.

The end-to-end claims use the tiny scenario (52 weeks of 2024) and counterfactuals of
known effect: ``cf_shift`` lowers the foundry's capacity by exactly 100 wafers a week
(an input the model records unchanged), ``cf_same`` changes nothing but its name. A
small ensemble of 4 members varies the startups' value of an H100-hour.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from claims_helpers import run_claims
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from market_sim.claims import answers
from market_sim.claims.queries import answer_sql, command, members_sql
from market_sim.claims.sensitivity import STABLE_CONF, difference_sensitivity, sensitivities
from market_sim.claims.stats import HOLDS_AT, answer, verdict
from market_sim.cli import app
from market_sim.experiment.storage import SweepStore

runner = CliRunner()


@pytest.fixture
def done(claims_done: tuple[Path, Path]) -> tuple[Path, Path]:
    return claims_done


def _by_id(out: Path) -> dict[str, object]:
    return {a.id: a for a in answers(out).claims}


def test_known_effect_is_recovered_inside_its_interval(done: tuple[Path, Path]) -> None:
    _, out = done
    got = _by_id(out)
    a = got["shift_holds"]
    assert (a.members, a.seeds, a.pairs, a.excluded) == (4, 3, 12, 0)
    assert a.effect == pytest.approx(100.0)
    assert a.p05 - 1e-9 <= 100.0 <= a.p95 + 1e-9
    assert a.probability == 1.0 and a.verdict == "holds"
    assert got["shift_too_small"].verdict == "does not hold"
    rel = got["shift_relative"]
    assert rel.effect == pytest.approx(100 * 100 / 900)
    assert rel.verdict == "holds"


def test_no_effect_never_holds(done: tuple[Path, Path]) -> None:
    _, out = done
    a = _by_id(out)["no_effect"]
    assert a.effect == 0.0 and a.p05 == 0.0 and a.p95 == 0.0
    assert a.verdict == "does not hold"


def test_every_number_is_reproduced_by_the_query_shown_on_the_page(
    done: tuple[Path, Path],
) -> None:
    import html

    _, out = done
    page = html.unescape((out / "report.html").read_text())
    found = answers(out)
    for a in found.claims:
        shown = command(str(out), answer_sql(a.to_dict()))
        assert shown in page, a.id
        words = shlex.split(shown)
        assert words[:2] == ["market-sim", "query"]
        result = runner.invoke(app, [*words[1:], "--csv"])
        assert result.exit_code == 0, result.output
        from io import StringIO

        row = pd.read_csv(StringIO(result.stdout)).iloc[0]
        for key in ("pairs", "members", "effect", "p05", "p95", "members_p05", "members_p95"):
            assert float(row[key]) == pytest.approx(getattr(a, key), abs=1e-9), (a.id, key)
        for key in ("noise_p05", "noise_p95", "probability", "members_holding"):
            assert float(row[key]) == pytest.approx(getattr(a, key), abs=1e-9), (a.id, key)
        share = float(row["parameter_share"])
        assert (math.isnan(share) and math.isnan(a.parameter_share)) or share == pytest.approx(
            a.parameter_share, abs=1e-9
        )
        members = SweepStore(out).query(members_sql(a.to_dict()))
        np.testing.assert_allclose(
            members["mean_delta"], found.points[a.id]["mean_delta"], atol=1e-12
        )


def test_resume_after_a_kill_gives_the_same_numbers(
    done: tuple[Path, Path], tmp_path: Path
) -> None:
    claims, reference = done
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "market_sim.cli", "claims", str(claims), "--seeds", "3"]
    args += ["--members", "4", "--out", str(out), "--workers", "1", "--no-report"]
    driver = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and driver.poll() is None:
            if len(list((out / "runs").glob("*.parquet"))) >= 2:
                break
            time.sleep(0.02)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        try:
            os.killpg(driver.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    saved = len(list((out / "runs").glob("*.parquet")))
    assert 0 < saved < 36, "the kill did not land mid-run"
    run_claims(claims, out, "--resume")
    pd.testing.assert_frame_equal(answers(out).frame(), answers(reference).frame())


def test_user_errors_are_one_line_with_exit_2(done: tuple[Path, Path], tmp_path: Path) -> None:
    claims, _ = done
    cases = [
        ["claims", str(tmp_path / "missing.toml")],
        ["claims", str(claims), "--ensemble", str(tmp_path / "none.ensemble.toml")],
        ["claims", "--sweep", str(claims), "--ensemble", str(claims)],
        ["claims", str(claims), "--set", "startups.count=-1", "--out", str(tmp_path / "o")],
        ["sweep", str(claims)],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["sweep", str(claims)])
    assert "this is a claims file" in result.output


# --------------------------------------------------------------------------- statistics

CLAIM = {
    "id": "c",
    "text": "t",
    "output": "y",
    "scenario": "s",
    "counterfactual": "c",
    "direction": "increase",
    "threshold": 1.0,
    "relative": False,
}


def _frame(deltas: np.ndarray) -> pd.DataFrame:
    """Paired results whose differences are ``deltas[member, seed]`` (counterfactual 10)."""
    rows = []
    for i, r in np.ndindex(deltas.shape):
        rows.append(
            {"scenario": "s", "sample": i, "replicate": r, "status": "ok", "y": 10 + deltas[i, r]}
        )
        rows.append({"scenario": "c", "sample": i, "replicate": r, "status": "ok", "y": 10.0})
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(
    shift=st.floats(-5, 5),
    spread=st.floats(0, 2),
    noise=st.floats(0, 2),
    seed=st.integers(0, 2**31),
)
def test_a_known_shift_lies_inside_the_interval(
    shift: float, spread: float, noise: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    members = rng.normal(0, spread, size=(20, 1))
    members -= np.median(members)
    d = shift + members + rng.normal(0, noise, size=(20, 5))
    a, points = answer(_frame(d), CLAIM)
    assert a.pairs == 100 and len(points) == 20
    assert a.p05 <= shift + 1e-9 + 3 * noise and shift - 1e-9 - 3 * noise <= a.p95
    assert a.p05 <= a.effect <= a.p95
    assert a.members_p05 <= a.members_p95


@settings(max_examples=60, deadline=None)
@given(
    d=st.lists(st.floats(-100, 1.0, allow_nan=False), min_size=1, max_size=60),
)
def test_differences_at_or_below_the_threshold_never_hold(d: list[float]) -> None:
    a, _ = answer(_frame(np.array(d).reshape(-1, 1)), CLAIM)
    assert a.verdict != "holds"
    assert a.probability == 0.0


def test_verdict_rule() -> None:
    assert verdict(1.0, 5)[0] == "undecided"
    assert verdict(HOLDS_AT, 100)[0] == "holds"
    assert verdict(0.5, 100)[0] == "undecided"
    assert verdict(0.1, 100)[0] == "does not hold"


def test_parameter_share_separates_parameter_sets_from_noise() -> None:
    rng = np.random.default_rng(3)
    only_sets = np.repeat(rng.normal(0, 1, size=(30, 1)), 5, axis=1)
    only_noise = rng.normal(0, 1, size=(30, 5))
    assert answer(_frame(only_sets), CLAIM)[0].parameter_share == pytest.approx(1.0)
    assert answer(_frame(only_noise), CLAIM)[0].parameter_share < 0.2
    a, _ = answer(_frame(only_noise), CLAIM)
    assert a.noise_p05 < 0 < a.noise_p95


def _manifest(x: np.ndarray) -> dict:
    names = [f"p{j}" for j in range(x.shape[1])]
    return {
        "sampler": "ensemble",
        "seed": 1,
        "parameters": [{"path": n, "categorical": False} for n in names],
        "design": [
            {"sample": i, "values": dict(zip(names, row, strict=True))} for i, row in enumerate(x)
        ],
    }


def test_sensitivity_ranks_only_when_stable() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(200, 3))
    y = 3 * x[:, 0] + 0.1 * rng.normal(size=200)
    big = difference_sensitivity(
        pd.DataFrame({"sample": range(200), "mean_delta": y}), _manifest(x)
    )
    assert big.stable and big.table["parameter"].iloc[0] == "p0"
    assert "p0" in big.decides()
    small = difference_sensitivity(
        pd.DataFrame({"sample": range(30), "mean_delta": y[:30]}), _manifest(x[:30])
    )
    assert not small.stable
    assert small.decides().startswith("not ranked") and f"> {STABLE_CONF}" in small.note
    assert list(small.table["parameter"]) == ["p0", "p1", "p2"]  # parameter order, no ranking


def test_sensitivity_is_the_same_on_two_processes_and_reports_progress() -> None:
    """The claims' sensitivities shared out over worker processes: the same tables as one
    process, in the claims' order, and a progress call per claim (after one at 0)."""
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(12, 2))  # few points and parameters: SALib's bootstrap is slow
    points = {
        "a": pd.DataFrame({"sample": range(12), "mean_delta": 2 * x[:, 1] + rng.normal(size=12)}),
        "b": pd.DataFrame({"sample": range(12), "mean_delta": x[:, 0] - x[:, 1]}),
        "c": pd.DataFrame({"sample": range(12), "mean_delta": rng.normal(size=12)}),
    }
    calls: list[tuple[int, int, str]] = []
    one = sensitivities(points, _manifest(x), workers=1)
    two = sensitivities(points, _manifest(x), workers=2, progress=lambda *a: calls.append(a))
    assert list(two) == ["a", "b", "c"]
    for cid in points:
        pd.testing.assert_frame_equal(one[cid].table, two[cid].table)
        assert one[cid].note == two[cid].note
    assert calls[0] == (0, 3, "") and [c[0] for c in calls] == [0, 1, 2, 3]
    assert sorted(c[2] for c in calls[1:]) == ["a", "b", "c"]


def test_claims_over_a_sweep_design(tmp_path: Path) -> None:
    """``--sweep``: a sweep file's claims over its design points; failed runs' pairs are
    left out and counted."""
    small = Path(__file__).resolve().parent / "fixtures" / "sweeps" / "small.toml"
    out = tmp_path / "sweep-claims"
    result = runner.invoke(
        app, ["claims", "--sweep", str(small), "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    (a,) = answers(out).claims
    assert a.id == "lead" and a.counterfactual == "meta_doubles"
    assert a.members == 4 and a.pairs == 4 and a.excluded == 2  # 2 of 6 points fail
    assert (out / "report.html").is_file()
