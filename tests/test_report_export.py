"""Figure export (``report --figures``) and the charts' "download data" links.

One short baseline run folder and one tiny Morris sweep are written for the module; the
images are drawn by kaleido in Debian's Chromium (.ci/run installs it).
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.report.browser import chromium_path, open_page
from market_sim.report.figure_data import figure_frame

ROOT = Path(__file__).resolve().parents[1]
MORRIS = ROOT / "tests" / "fixtures" / "sweeps" / "morris.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()
needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="no Chromium (apt-get install chromium; .ci/run does this)"
)


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.output


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "run"
    _ok("run", str(ROOT / "scenarios" / "baseline.toml"), "--out", str(out),
        "--set", "simulation.weeks=30")  # fmt: skip
    return out


@pytest.fixture(scope="module")
def morris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "morris"
    _ok("sweep", str(MORRIS), "--out", str(out), "--workers", "1")
    return out


def _page_charts(html_file: Path) -> list[str]:
    return re.findall(r'<div id="(fig-[^"]+)" class="plotly-graph-div"', html_file.read_text())


@needs_chromium
def test_run_report_figures_are_one_valid_png_per_chart(run_dir: Path, tmp_path: Path) -> None:
    out = _ok("report", str(run_dir), "--figures", str(tmp_path / "figs"))
    charts = _page_charts(run_dir / "report.html")
    files = sorted((tmp_path / "figs").iterdir())
    assert len(files) == len(charts) >= 15 and f"Figures: {len(files)} png" in out
    assert all(f.suffix == ".png" for f in files)
    for f in files:
        data = f.read_bytes()
        assert data.startswith(PNG_SIGNATURE), f.name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 1000 and height >= 400, f.name
    names = {f.stem for f in files}  # named after their sections
    assert {"prices--prices-reference", "compute--concentration", "supply-graph"} <= names


@needs_chromium
def test_sweep_figures_as_svg_match_the_page(morris_dir: Path, tmp_path: Path) -> None:
    _ok("report", str(morris_dir), "--figures", str(tmp_path / "svg"), "--format", "svg")
    files = sorted((tmp_path / "svg").iterdir())
    assert len(files) == len(_page_charts(morris_dir / "report.html")) > 5
    for f in files:
        root = ET.parse(f).getroot()
        assert root.tag.endswith("svg"), f.name
    assert any(f.stem.startswith("sensitivity--") for f in files)


def test_unknown_format_is_one_line_error(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir), "--figures", str(tmp_path), "--format",
                                 "gif"])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "--format: unknown format 'gif'; use one of: png, svg"
    ]


def _data_links(html: str) -> dict[str, pd.DataFrame]:
    found = re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', html)
    return {name: pd.read_csv(io.BytesIO(base64.b64decode(b64))) for name, b64 in found}


def test_every_chart_carries_its_data(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    links = _data_links(html)
    assert len(links) == len(_page_charts(run_dir / "report.html"))
    prices = links["fig-prices-reference.csv"]
    assert list(prices.columns[:3]) == ["date", "H100 list price", "H100 spot price"]
    assert len(prices) == 30
    assert {"node", "kind", "capacity_per_week", "binding_for"} <= set(
        links["fig-supply-graph.csv"].columns
    )


def test_sweep_charts_carry_their_data(morris_dir: Path) -> None:
    links = _data_links((morris_dir / "report.html").read_text())
    assert len(links) == len(_page_charts(morris_dir / "report.html"))
    assert all(len(frame) > 0 for frame in links.values())


def test_figure_frame_wide_long_band_and_heatmap() -> None:
    x = ["2024-01-01", "2024-01-08"]
    wide = figure_frame(go.Figure([go.Scatter(x=x, y=[1, 2], name="a &amp; b"),
                                   go.Scatter(x=x, y=[3, 4], name="c")]))  # fmt: skip
    assert list(wide.columns) == ["date", "a & b", "c"] and wide["c"].tolist() == [3, 4]
    long = figure_frame(go.Figure([go.Scatter(x=[1], y=[1], name="a"),
                                   go.Scatter(x=[1, 2], y=[1, 2], name="b")]))  # fmt: skip
    assert list(long.columns) == ["series", "x", "y"] and len(long) == 3
    band = figure_frame(go.Figure(go.Scatter(x=x + x[::-1], y=[5, 6, 2, 1], fill="toself",
                                             name="arm")))  # fmt: skip
    assert band["arm (upper)"].tolist() == [5, 6] and band["arm (lower)"].tolist() == [1, 2]
    heat = figure_frame(go.Figure(go.Heatmap(z=[[1, 2]], x=["p", "q"], y=["o"])))
    assert heat.to_dict("records") == [{"y": "o", "x": "p", "z": 1}, {"y": "o", "x": "q", "z": 2}]


@needs_chromium
def test_sensitivity_bars_are_readable(morris_dir: Path) -> None:
    """Each bar of a Morris chart is thick enough to read and every parameter's full
    path is shown (they were squashed into a 320 px chart before)."""
    with open_page(morris_dir / "report.html") as (page, errors):
        info = page.evaluate(
            """() => Array.from(document.querySelectorAll('#sensitivity .plotly-graph-div'))
                .map(d => ({bars: Array.from(d.querySelectorAll('.bars .point path'))
                                .map(p => ({height: p.getBBox().height})),
                            ticks: Array.from(d.querySelectorAll('.ytick text'))
                                .map(t => t.textContent)}))"""
        )
    assert errors == [] and len(info) == 2
    for chart in info:
        assert chart["bars"] and min(b["height"] for b in chart["bars"]) >= 12
        assert "supply.nodes.tsmc_cowos.expansion.build_lag_weeks" in chart["ticks"]


@needs_chromium
def test_sweep_tables_fit_the_page(morris_dir: Path) -> None:
    with open_page(morris_dir / "report.html") as (page, _):
        widths = page.evaluate(
            """() => Array.from(document.querySelectorAll('.table-wrap'))
                .map(w => [w.scrollWidth, w.clientWidth])"""
        )
    assert widths and all(scroll <= client + 1 for scroll, client in widths), widths
