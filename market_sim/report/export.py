"""Figure export: every chart of a report as an image file, for a brief or a slide.

``market-sim report FOLDER --figures DIR [--format png|svg]`` renders the folder's report
as usual and writes each chart drawn on the page to ``DIR/<section>--<chart>.<format>``
(section: the id of the report section it sits in; chart: its id on the page), so the
files are exactly the page's charts, in page order. Images are drawn by plotly's own
exporter, kaleido, in a headless Chromium: the system's (Debian's ``chromium``), or the
one ``MARKET_SIM_CHROMIUM`` or ``BROWSER_PATH`` names; nothing is downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from market_sim.problems import ENVIRONMENT, INPUT, LineError
from market_sim.report.browser import chromium_path
from market_sim.report.figure_spec import Figure
from market_sim.report.page import PageFigure, collect_figures

FORMATS = ("png", "svg")
"""Image formats ``--format`` takes."""
WIDTH_PX = 1100
"""Width of an exported chart, CSS pixels (about the report page's chart width)."""
HEIGHT_PX = 400
"""Height of an exported chart whose layout sets none, CSS pixels."""
PNG_SCALE = 2
"""Device pixels per CSS pixel in PNG files (sharp on slides and in print)."""

_SECTION = re.compile(r'<section id="([^"]+)">')
_CHART = re.compile(r'<div id="(fig-[A-Za-z0-9_-]+)" class="plotly-graph-div"')


@dataclass(frozen=True)
class FigureFile:
    """One chart of a page: ``name`` is its file name without extension; ``figure`` the
    plotly.js figure dict the page draws (kaleido draws the same dict)."""

    name: str
    section: str
    figure: Figure


def render_with_figures(render: Callable[[], str]) -> tuple[str, list[FigureFile]]:
    """Call ``render`` (which returns a report's HTML) and return the HTML and the charts
    drawn on that page, each with the section it sits in."""
    with collect_figures() as found:
        html = render()
    return html, page_figures(html, found)


def page_figures(html: str, figures: Sequence[PageFigure]) -> list[FigureFile]:
    """The charts of ``html`` in page order, named ``<section>--<chart>``."""
    by_id = {f.div_id: f.figure for f in figures}
    sections = [(m.start(), m.group(1)) for m in _SECTION.finditer(html)]
    out: list[FigureFile] = []
    for m in _CHART.finditer(html):
        div_id = m.group(1)
        if div_id not in by_id:
            continue
        section = next((sid for pos, sid in reversed(sections) if pos < m.start()), "page")
        chart = re.sub(r"^(fig-)+", "", div_id) or "chart"
        name = chart if chart == section else f"{section}--{chart}"
        out.append(FigureFile(name, section, by_id[div_id]))
    return out


def write_figures(figures: Sequence[FigureFile], out_dir: Path, fmt: str = "png") -> list[Path]:
    """Write each chart to ``out_dir/<name>.<fmt>`` with kaleido; return the paths.

    Raises :class:`LineError`: an unknown format (input), or no Chromium or a failed
    export (environment).
    """
    if fmt not in FORMATS:
        raise LineError(f"--format: unknown format '{fmt}'; use one of: {', '.join(FORMATS)}")
    if not figures:
        return []
    exe = os.environ.get("BROWSER_PATH") or chromium_path()
    if exe is None:
        raise LineError(
            "--figures: no Chromium found to draw the images; install Debian's chromium "
            "package (apt-get install chromium) or set MARKET_SIM_CHROMIUM to a Chrome or "
            "Chromium executable",
            ENVIRONMENT,
        )
    try:
        import kaleido
    except ImportError:  # pragma: no cover - kaleido is a dependency
        raise LineError(
            "--figures: kaleido is not installed; reinstall market-sim (pip install -e .)",
            ENVIRONMENT,
        ) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{f.name}.{fmt}" for f in figures]
    specs = [
        {
            "fig": f.figure,
            "path": str(path),
            "opts": {
                "format": fmt,
                "width": WIDTH_PX,
                "height": int(f.figure["layout"].get("height") or HEIGHT_PX),
                "scale": PNG_SCALE if fmt == "png" else 1,
            },
        }
        for f, path in zip(figures, paths, strict=True)
    ]
    old = os.environ.get("BROWSER_PATH")
    os.environ["BROWSER_PATH"] = exe
    try:
        errors = kaleido.write_fig_from_object_sync(specs, kopts={"mathjax": False})
    except Exception as err:  # kaleido/choreographer: browser did not start, timed out
        raise LineError(
            f"--figures: drawing the images failed ({' '.join(str(err).split())[:200]}); "
            f"check that {exe} starts",
            ENVIRONMENT,
        ) from None
    finally:
        if old is None:
            os.environ.pop("BROWSER_PATH", None)
        else:
            os.environ["BROWSER_PATH"] = old
    missing = [p for p in paths if not p.is_file()]
    if errors or missing:
        first = errors[0] if errors else f"{missing[0]} was not written"
        raise LineError(f"{out_dir}: drawing the images failed ({first})", ENVIRONMENT)
    return paths


def check_format(fmt: str) -> str:
    """``fmt`` lower-cased if it is one of :data:`FORMATS` (else a LineError, exit 2)."""
    low = fmt.lower()
    if low not in FORMATS:
        raise LineError(
            f"--format: unknown format '{fmt}'; use one of: {', '.join(FORMATS)}", INPUT
        )
    return low
