"""The explorer in a browser, offline: ``market-sim explore`` on a free port, every
request to another host blocked; move a slider, Reset, run 10 weeks; a chart changed,
the console has no errors, and the server stops cleanly on Ctrl-C (SIGINT).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from market_sim.report.browser import CHROMIUM_ARGS, chromium_path
from market_sim.scenario import load_scenario

pytest.importorskip("playwright", reason="playwright is a test dependency: pip install -e .[test]")
pytest.importorskip("solara", reason="the explorer needs the viz extra: pip install -e .[viz]")
pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="no Chromium (apt-get install chromium; .ci/run does this)"
)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
WEEKS = 30
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
IMAGE_HASHES = """async () => {
    const out = [];
    for (const img of document.querySelectorAll('img')) {
        const data = await (await fetch(img.src)).arrayBuffer();
        const digest = await crypto.subtle.digest('SHA-256', data);
        out.push(Array.from(new Uint8Array(digest)).join(','));
    }
    return out;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"explorer exited early: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("explorer did not answer")


@pytest.fixture
def server():
    port = _free_port()
    scenario = str(ROOT / "scenarios" / "baseline.toml")
    cmd = [sys.executable, "-m", "market_sim.cli", "explore", scenario,
           "--port", str(port), "--set", f"simulation.weeks={WEEKS}"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_server(url, proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _week(page, week: int) -> None:
    page.get_by_text(re.compile(rf"Week {week} of {WEEKS}\.")).wait_for(timeout=60_000)


def test_slider_steps_and_charts_offline(server) -> None:
    from playwright.sync_api import sync_playwright

    url, proc = server
    errors: list[str] = []
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route(lambda u: not u.startswith(LOCAL),
                       lambda r: (blocked.append(r.request.url), r.abort()))  # fmt: skip
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)  # fmt: skip
            page.goto(url, wait_until="load")
            _week(page, 0)

            # move one slider (keyboard on its thumb), then Reset builds the model with it
            slider = page.locator(".v-input", has_text="Open-order weight").first
            slider.locator(".v-slider__thumb-container").focus()
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.get_by_role("button", name="Reset").click()
            status = page.get_by_text(
                re.compile(r"overrides: policy\.ordering\.supply_line_weight=[0-9.]+")
            )
            status.wait_for(timeout=60_000)
            moved = re.search(r"supply_line_weight=([0-9.]+)", status.inner_text())
            default = load_scenario(BASELINE).policy.ordering.supply_line_weight
            assert moved and float(moved.group(1)) > default  # two steps to the right

            step = page.get_by_role("button", name="Step")
            step.click()
            _week(page, 1)
            page.wait_for_function("() => document.querySelectorAll('img').length >= 5")
            first = page.evaluate(IMAGE_HASHES)
            for week in range(2, 11):
                step.click()
                _week(page, week)
            page.wait_for_timeout(500)  # the last images' bytes
            last = page.evaluate(IMAGE_HASHES)
        finally:
            browser.close()

    assert len(first) >= 5 and len(last) == len(first)
    changed = [i for i, (a, b) in enumerate(zip(first, last, strict=True)) if a != b]
    assert changed, "no chart changed between week 1 and week 10"
    assert blocked == [], blocked
    assert errors == [], errors

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    out = proc.stdout.read()
    assert "Explorer: http://127.0.0.1" in out and "Explorer stopped." in out
    assert "Traceback" not in out, out
