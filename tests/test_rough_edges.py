"""Rough edges an analyst hit, each with the test that would have caught it: default
output folders (help text = what is written; ``--set`` runs get their own folder),
comparison labels that show overrides, stated baseline values in sweep files, no
unmeasured run times in the docs, the Dask dashboard port, the compile notice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.runs.compare import Source, arm_labels, default_run_folder
from market_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "fixtures" / "tiny.toml"
runner = CliRunner()


def _help(command: str) -> str:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "400"})
    return " ".join(result.output.replace("│", " ").split())


def test_default_folders_are_what_the_help_says(tmp_path: Path, monkeypatch) -> None:
    """A plain run, a --set run and a comparison each write the folder their --help
    names, and the --set run does not replace the plain one."""
    monkeypatch.chdir(tmp_path)
    short = ["--set", "simulation.weeks=8"]
    assert runner.invoke(app, ["run", str(TINY), *short]).exit_code == 0
    assert (
        runner.invoke(app, ["run", str(TINY), *short, "--set", "startups.count=10"]).exit_code == 0
    )
    result = runner.invoke(app, ["compare", str(TINY), str(TINY), "--seeds", "1"])
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert made == [
        "compare-tiny-vs-tiny-2",
        "tiny--simulation.weeks-8",
        "tiny--simulation.weeks-8--startups.count-10",
    ]
    assert "reports/<name>/" in _help("run") and "--seed-2--" in _help("run")
    assert "reports/compare-<A>-vs-<B>/" in _help("compare")


def test_run_with_set_does_not_share_the_plain_folder() -> None:
    plain = default_run_folder("baseline", None, [])
    assert plain == Path("reports/baseline")
    changed = default_run_folder("baseline", None, ["policy.allocation=auction"])
    assert changed == Path("reports/baseline--policy.allocation-auction")
    assert default_run_folder("baseline", 2, []) == Path("reports/baseline--seed-2")
    long = [f"agents.meta.fleet_targets[{i}].h100e={i}00000" for i in range(6)]
    assert len(default_run_folder("baseline", None, long).name) <= 80
    assert default_run_folder("baseline", None, long) != default_run_folder(
        "baseline", None, long[:5]
    )


def test_compare_labels_show_overrides() -> None:
    s = load_scenario(TINY)
    a = Source(Path("a"), s, 1, True, ())
    b = Source(Path("b"), s, 1, True, ("policy.allocation=auction",))
    assert arm_labels([a, b]) == ["tiny", "tiny (policy.allocation=auction)"]
    assert arm_labels([a, a]) == ["tiny", "tiny-2"]


def test_compare_help_names_the_folder_it_writes() -> None:
    assert "compare-<A>-vs-<B>" in _help("compare")


# --------------------------------------------------------------------------- scenario errors


def test_share_overflow_is_blamed_on_the_extending_file(tmp_path: Path) -> None:
    """The extending file adds a vendor's share that pushes a node over 1: the error
    names that file and value, not the parent that defined the node."""
    from market_sim.scenario import ScenarioError

    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{TINY.as_posix()}"\n'
        '[[agents]]\nid = "acme"\ncapacity_share = { pack = 2.0 }\n'
    )
    try:
        load_scenario(child)
    except ScenarioError as err:
        lines = [str(p) for p in err.problems]
    else:
        raise AssertionError("no error")
    assert any(line.startswith(f"{child}: agents.acme.capacity_share.pack") for line in lines), (
        lines
    )
    # a --set that causes it is blamed on --set
    try:
        load_scenario(TINY, ["agents.acme.capacity_share.pack=2.0"])
    except ScenarioError as err:
        assert str(err.problems[-1]).startswith("--set: agents.acme.capacity_share.pack")


def test_unknown_key_and_semantic_errors_come_in_one_pass(tmp_path: Path) -> None:
    from market_sim.scenario import ScenarioError

    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{TINY.as_posix()}"\n'
        "[simulation]\nwekks = 3\n"  # unknown key
        '[[events]]\nat = 900\nkind = "demand_surge"\ntarget = "nobody"\nmagnitude = 2.0\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    lines = [str(p) for p in info.value.problems]
    assert any("unknown key 'wekks'" in line for line in lines), lines
    assert any("events[0]" in line for line in lines), lines


# --------------------------------------------------------------------------- docs and files

DURATION = re.compile(
    r"\b(\d[\d.]*|a few|two|three|several|ten)(\s+to\s+\w+)?\s+"
    r"(ms|secs?|seconds?|mins?|minutes?)\b|\b\d[\d,.]*\s?s\b(?![-/\w])",
    re.IGNORECASE,
)


def _user_texts() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
            *sorted((ROOT / "scenarios").rglob("*.toml"))]  # fmt: skip


def test_docs_state_no_run_times() -> None:
    """Run times quoted in the docs went stale (docs/sweeps.md was 3-5x pessimistic):
    user docs and scenario files quote none; scripts/bench_*.py measure them."""
    found = []
    for path in _user_texts():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if path.suffix == ".toml" and "#" not in line:
                continue
            text = line.split("#", 1)[1] if path.suffix == ".toml" else line
            for m in DURATION.finditer(text):
                found.append(f"{path.relative_to(ROOT)}:{n}: {m.group(0)!r}")
    assert found == []


def _value_at(data: object, path: str) -> object:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            data = data[int(part[1:-1])]
        elif isinstance(data, list):
            data = next(x for x in data if isinstance(x, dict) and x.get("id") == part)
        else:
            data = data[part]
    return data


def test_sweep_file_comments_state_the_baseline_values() -> None:
    """A comment above a sweep parameter that quotes the baseline's value ('baseline 5')
    quotes the value the base scenario has at that path."""
    wrong = []
    for sweep in sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")):
        text = sweep.read_text(encoding="utf-8")
        base = load_scenario(sweep.parent / tomllib.loads(text)["base"])
        data = base.model_dump(mode="json", by_alias=True)
        comments: list[str] = []
        for line in text.splitlines():
            if line.startswith("#"):
                comments.append(line)
                continue
            m = re.match(r'"([^"]+)"\s*=', line)
            if m:
                for c in comments:
                    for said in re.findall(r"baseline\s+([\d.]+)\b", c):
                        actual = _value_at(data, m.group(1))
                        if float(said) != float(actual):
                            wrong.append(f"{sweep.name}: {m.group(1)}: says {said}, is {actual}")
            comments = []
    assert wrong == []


# --------------------------------------------------------------------------- environment

DASHBOARD = """
import socket
if __name__ == "__main__":
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 8787)); s.listen()
    except OSError:
        pass  # taken already: the case under test
    from market_sim.experiment.execute import connect
    with connect(workers=1) as client:
        client.submit(sum, [1, 2]).result()
    s.close()  # the test's own socket (else a ResourceWarning names the port)
"""


def test_local_cluster_says_nothing_when_8787_is_taken(tmp_path: Path) -> None:
    script = tmp_path / "dash.py"
    script.write_text(DASHBOARD)
    out = subprocess.run([sys.executable, "-W", "default", str(script)], capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "8787" not in out.stderr and "already in use" not in out.stderr, out.stderr


def test_first_run_says_it_is_compiling_once(tmp_path: Path) -> None:
    """README's main command, in a fresh numba cache: the first run says it compiles
    (with output piped, not a terminal), the second does not."""
    from market_sim.runs.jit_cache import NOTICE

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    cmd = [sys.executable, "-m", "market_sim.cli", "run", str(ROOT / "scenarios" / "baseline.toml"),
           "--set", "simulation.weeks=3"]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    assert " ".join(first.stdout.split()).count(" ".join(NOTICE.split())) == 1, first.stdout
    again = subprocess.run([*cmd, "--force"], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "Compiling" not in again.stdout
