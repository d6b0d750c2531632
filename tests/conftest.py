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
