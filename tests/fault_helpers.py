"""Shared pieces of the fault-injection tests (tests/test_faults_*.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from market_sim.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny.toml"
SMALL_SWEEP = FIXTURES / "sweeps" / "small.toml"
SHORT = ["--set", "simulation.weeks=12"]
runner = CliRunner()


def cli(*args: object) -> Result:
    """``market-sim ARGS`` in this process."""
    return runner.invoke(app, [str(a) for a in args])


def one_line(result: Result, code: int = 2) -> str:
    """The single stderr line of a command that failed as expected (no traceback)."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert ": " in lines[0], lines[0]
    return lines[0]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def market_sim(*args: object, cwd: Path | None = None, timeout: float = 300):
    """``python -m market_sim.cli ARGS`` in a new process (stdout and stderr captured)."""
    return subprocess.run(
        [sys.executable, "-m", "market_sim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )


def can_mount_tmpfs(tmp: Path) -> bool:
    """Whether this test may mount a tmpfs in a private mount namespace (``unshare``)."""
    if shutil.which("unshare") is None:
        return False
    probe = tmp / "probe-mnt"
    probe.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{probe}'"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def in_tmpfs(
    mount: Path, size: str, args: list[object], cwd: Path, options: str = ""
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``market-sim ARGS`` with a fresh tmpfs of ``size`` (e.g. ``"512k"``) mounted
    at ``mount`` in a private mount namespace; returns the process and what the tmpfs
    held at the end (recursive listing, names relative to ``mount``)."""
    mount.mkdir(parents=True, exist_ok=True)
    command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "market_sim.cli", *args])
    opts = f"size={size}" + (f",{options}" if options else "")
    script = (
        f"mount -t tmpfs -o {opts} tmpfs '{mount}' || exit 99\n"
        f"{command} > '{cwd}/out.txt' 2> '{cwd}/err.txt'\n"
        "rc=$?\n"
        f"(cd '{mount}' && find . -mindepth 1 | sort) > '{cwd}/files.txt'\n"
        "exit $rc\n"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    done.stdout = (cwd / "out.txt").read_text() if (cwd / "out.txt").exists() else ""
    done.stderr = (cwd / "err.txt").read_text() if (cwd / "err.txt").exists() else ""
    files = (cwd / "files.txt").read_text().split() if (cwd / "files.txt").exists() else []
    return done, [f.removeprefix("./") for f in files]
