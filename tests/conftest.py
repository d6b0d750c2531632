"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def tiny_path() -> Path:
    return FIXTURES / "tiny.toml"


@pytest.fixture
def baseline_path() -> Path:
    return SCENARIOS / "baseline.toml"


@pytest.fixture(scope="session")
def claims_done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(claims file, finished claims folder) of the claims tests' inputs
    (tests/claims_helpers.py), run once per session."""
    from claims_helpers import claims_inputs, run_claims

    tmp = tmp_path_factory.mktemp("claims")
    claims = claims_inputs(tmp / "in")
    out = tmp / "out"
    run_claims(claims, out)
    return claims, out
