"""The chart tables' CSV (market_sim.report.csv_text) is the text pandas' to_csv writes,
and a report's "download data" links are what they were with pandas' writer."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.report import page
from market_sim.report.csv_text import csv_text
from market_sim.report.run_report import render_run_report
from market_sim.runs.folder import execute

ROOT = Path(__file__).resolve().parents[1]
DATES = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-01-01", periods=5, freq="7D")]
AWKWARD = ["plain", "a,b", 'say "hi"', "two\nlines", "", " pad ", "ünïcode €", "x\r\ny"]


def _pandas(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


FRAMES = {
    "dates-floats": pd.DataFrame(
        {
            "date": DATES,
            "a": [1.0, np.nan, 2.5, -0.0, 1e16],
            "b <i>": [1e-5, 1e-4, 123456789.0, 0.1 + 0.2, np.inf],
            "c": [5e-324, -1.7976931348623157e308, 1e15, 9999999999999998.0, -np.inf],
        }
    ),
    "strings": pd.DataFrame({"series": AWKWARD, "x": list(range(8)), "y": np.linspace(0, 1, 8)}),
    "missing strings": pd.DataFrame({"s": ["a", None, "c", np.nan], "f": [np.nan] * 4}),
    "ints and bools": pd.DataFrame(
        {
            "i": np.array([0, -1, 2**62, -(2**63)], dtype=np.int64),
            "u": np.array([0, 1, 2, 2**64 - 1], dtype=np.uint64),
            "i8": np.array([1, 2, 3, -4], dtype=np.int8),
            "b": [True, False, True, False],
        }
    ),
    "object strings": pd.DataFrame({"o": pd.Series(["a", "b,c"], dtype=object)}),
    "python strings": pd.DataFrame({"s": pd.array(["a", pd.NA, "c"], dtype="string[python]")}),
    "mixed objects": pd.DataFrame({"x": pd.Series([1, "a", 2.5, None], dtype=object)}),
    "float32": pd.DataFrame({"f": np.array([0.1, 2.5, np.nan], dtype=np.float32)}),
    "timestamps": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3), "v": [1.0, 2.0, 3.0]}),
    "nullable ints": pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")}),
    "categories": pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}),
    "no rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=str)}),
    "no columns": pd.DataFrame(index=range(3)),
    "empty": pd.DataFrame(),
    "numeric labels": pd.DataFrame({0: [1.0, 2.0], 1.5: [3.0, 4.0]}),
    "repeated labels": pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"]),
    "label levels": pd.DataFrame(
        [[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    ),
    "index": pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["r1", "r2"], name="row")),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_csv_text_is_pandas_text(name: str) -> None:
    frame = FRAMES[name]
    assert csv_text(frame) == _pandas(frame)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20),
    st.lists(st.text(max_size=8), min_size=1, max_size=20),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=20),
    st.text(min_size=1, max_size=6),
)
def test_csv_text_is_pandas_text_on_generated_tables(
    floats: list[float], texts: list[str], ints: list[int], label: str
) -> None:
    n = min(len(floats), len(texts), len(ints))
    frame = pd.DataFrame({"date": texts[:n], label + "f": floats[:n], label + "i": ints[:n]})
    assert csv_text(frame) == _pandas(frame)


def test_floats_are_spelled_as_pandas_spells_them() -> None:
    """pandas writes a float64 column with numpy's astype(str); csv_text with repr."""
    rng = np.random.default_rng(15)
    bits = rng.integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False).view(np.float64)
    values = np.concatenate([bits, rng.normal(size=20_000) * 10.0 ** rng.integers(-40, 40, 20_000)])
    values = values[~np.isnan(values)]
    assert list(map(repr, values.tolist())) == values.astype(str).tolist()
    assert math.isnan(float("nan"))  # NaN is written as an empty field, tested above


def _links(html: str) -> list[str]:
    return re.findall(r'href="data:text/csv;base64,([^"]+)"', html)


def test_report_is_unchanged_with_pandas_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    run = execute(ROOT / "scenarios" / "baseline.toml", overrides=["simulation.weeks=40"])
    with monkeypatch.context() as m:  # every chart's table takes the quick path
        m.setattr(pd.DataFrame, "to_csv", None)
        ours = render_run_report(run)
    monkeypatch.setattr(page, "csv_text", _pandas)
    theirs = render_run_report(run)
    assert len(_links(ours)) >= 15
    assert ours == theirs
