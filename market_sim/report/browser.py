"""Open a report in headless Chromium (playwright): check that every chart drew, take a
screenshot. Used by the browser tests and scripts/screenshot_report.py.

Playwright is a test dependency (``pip install -e ".[test]"``); no browser is downloaded:
the system's Chromium (Debian package ``chromium``, ``/usr/bin/chromium``) is launched,
or the one named by the ``MARKET_SIM_CHROMIUM`` environment variable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
VIEWPORT = {"width": 1280, "height": 900}
"""Browser window size in CSS pixels (the screenshot's "first screen")."""


def chromium_path() -> str | None:
    """Path of the Chromium executable to use, or None if there is none."""
    env = os.environ.get("MARKET_SIM_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def open_page(html_file: Path, timeout_ms: int = 60_000) -> Iterator[tuple[Any, list[str]]]:
    """Yield (playwright page, console errors) with the report loaded and charts drawn.

    Console errors include uncaught page errors, failed requests (an offline report
    makes none) and dialogs (``alert``: injected script ran). Raises RuntimeError when
    no Chromium is found.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium found (install Debian's `chromium` package)")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(Path(html_file).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            page.wait_for_function(
                """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
                          .every(d => d.querySelector('.main-svg'))""",
                timeout=timeout_ms,
            )
            yield page, errors
        finally:
            browser.close()


CHART_STATES_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => {
    const svg = d.querySelector('svg.main-svg');
    return {id: d.id, drawn: !!svg && svg.clientWidth > 0,
            traces: d.querySelectorAll('.trace').length};
})"""


def chart_states(page: Any) -> list[dict[str, Any]]:
    """Every plotly chart of a loaded page: its id, whether an SVG was drawn with a width,
    and how many traces it shows."""
    return list(page.evaluate(CHART_STATES_JS))


@dataclass
class BrowserCheck:
    """What the browser saw: console errors, the charts found and those drawn."""

    errors: list[str] = field(default_factory=list)
    charts: int = 0
    drawn: int = 0
    undrawn_ids: list[str] = field(default_factory=list)
    title: str = ""


def check_report(html_file: Path) -> BrowserCheck:
    """Load a report and count its plotly charts and those with an SVG drawn."""
    with open_page(html_file) as (page, errors):
        info = page.evaluate(
            """() => {
                const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
                const undrawn = divs.filter(d => !d.querySelector('.main-svg')
                                               || !d.querySelector('.main-svg').clientWidth);
                return {charts: divs.length, undrawn: undrawn.map(d => d.id),
                        title: document.title};
            }"""
        )
        return BrowserCheck(
            errors=list(errors),
            charts=int(info["charts"]),
            drawn=int(info["charts"]) - len(info["undrawn"]),
            undrawn_ids=list(info["undrawn"]),
            title=str(info["title"]),
        )


def screenshot(html_file: Path, out_png: Path, full_page: bool = False) -> list[str]:
    """Save a PNG of the report's first screen (1280x900); return console errors."""
    with open_page(html_file) as (page, errors):
        page.screenshot(path=str(out_png), full_page=full_page)
        return list(errors)
