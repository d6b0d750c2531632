"""The ``market-sim`` process ends without the interpreter's teardown (cli.exit_now), yet
keeps what a normal exit does: the exit code, flushed output, exit handlers, and waiting
for threads that are not daemons."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**__import__("os").environ, "OUT": str(tmp_path)},
    )


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "market_sim.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_exit_codes_and_one_line_errors_are_kept():
    ok = _cli("validate", "scenarios/baseline.toml")
    assert ok.returncode == 0 and "baseline" in ok.stdout
    bad = _cli("validate", "no/such.toml")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "no/such.toml" in bad.stderr


def test_exit_handlers_run_and_output_is_flushed(tmp_path):
    code = (
        "import atexit, os, sys\n"
        "from pathlib import Path\n"
        "from market_sim import cli\n"
        "atexit.register(lambda: Path(os.environ['OUT'], 'handler').write_text('ran'))\n"
        "sys.stdout.write('unflushed tail')\n"
        "sys.argv = ['market-sim', 'validate', '--help']\n"
        "cli.entry()\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("unflushed tail")
    assert (tmp_path / "handler").read_text() == "ran"


def test_a_running_thread_is_waited_for(tmp_path):
    code = (
        "import os, threading, time, sys\n"
        "from pathlib import Path\n"
        "from market_sim import cli\n"
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    Path(os.environ['OUT'], 'thread').write_text('done')\n"
        "threading.Thread(target=late).start()\n"
        "sys.argv = ['market-sim', '--help']\n"
        "cli.entry()\n"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "thread").read_text() == "done"


def test_a_text_exit_code_exits_as_usual(tmp_path):
    code = "from market_sim import cli\ncli.exit_now('stopped: reason')\n"
    done = _python(code, tmp_path)
    assert done.returncode == 1 and done.stderr.strip() == "stopped: reason"


def test_a_profiled_run_exits_as_usual(tmp_path):
    """``python -m cProfile`` writes its stats after the program returns: with a
    profiler on, the process is not ended early."""
    stats = tmp_path / "validate.prof"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(stats),
            "-m",
            "market_sim.cli",
            "validate",
            "scenarios/baseline.toml",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert stats.stat().st_size > 0
