"""The example notebooks under examples/ (jupytext percent scripts) run as they are, so
they cannot rot; each within a minute."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_is_an_example() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "# %% [markdown]" in text and "format_name: percent" in text  # a jupytext notebook
    # run as a notebook kernel would: not as __main__ (Dask's worker processes re-import
    # the main module, which a notebook's kernel never re-executes)
    code = f"import runpy; runpy.run_path({str(path)!r}, run_name='notebook')"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
