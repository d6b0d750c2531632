"""Bad sweep files: exit code 2, one line per problem naming file and field, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from market_sim.cli import app
from market_sim.experiment import load_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

GOOD = f"""
base = "{BASELINE}"
sampler = "lhs"
samples = 4
set = ["simulation.weeks=20"]

[parameters]
"startups.count" = {{ min = 100, max = 400 }}
"policy.allocation" = ["priority", "pro_rata"]

[outputs]
lead = {{ metric = "lead_time_weeks_median@startups", window = "all" }}
"""

# name -> (text replaced in GOOD, replacement, field path expected, message fragment)
CASES = {
    "unknown_key": ('sampler = "lhs"', 'samplr = "lhs"', "samplr", "did you mean 'sampler'"),
    "bad_sampler": ('sampler = "lhs"', 'sampler = "lsh"', "sampler", "did you mean 'lhs'"),
    "bad_path": (
        '"startups.count"',
        '"startups.cuont"',
        'parameters."startups.cuont"',
        "did you mean 'count'",
    ),
    "bad_agent": (
        '"startups.count"',
        '"agents.mtea.rent_out_share"',
        'parameters."agents.mtea.rent_out_share"',
        "did you mean 'meta'",
    ),
    "min_above_max": (
        "min = 100, max = 400",
        "min = 500, max = 400",
        'parameters."startups.count"',
        "must be below max",
    ),
    "spec_key": (
        "min = 100, max = 400",
        "min = 100, maxx = 400",
        'parameters."startups.count".maxx',
        "did you mean 'max'",
    ),
    "sobol_size": (
        'sampler = "lhs"\nsamples = 4',
        'sampler = "sobol"\nsamples = 6',
        "samples",
        "power of two",
    ),
    "grid_levels": (
        'sampler = "lhs"\nsamples = 4',
        'sampler = "grid"',
        'parameters."startups.count"',
        "needs levels",
    ),
    "grid_samples": ('sampler = "lhs"', 'sampler = "grid"', "samples", "remove samples"),
    "no_samples": ("samples = 4\n", "", "samples", "needs samples"),
    "metric": (
        "lead_time_weeks_median@startups",
        "lead_time_week_median@startups",
        "outputs.lead.metric",
        "did you mean 'lead_time_weeks_median@startups'",
    ),
    "window": ('window = "all"', 'window = "2024-H1"', "outputs.lead.window", "is not one of"),
    "agg": ('window = "all"', 'agg = "average"', "outputs.lead.agg", "'average' is not allowed"),
    "set": (
        '"simulation.weeks=20"',
        '"simulation.weeks=-3"',
        "set",
        "simulation.weeks: input should be greater",
    ),
    "base": (f'base = "{BASELINE}"', 'base = "nowhere.toml"', "base", "not found"),
    "scenarios": (
        "max = 400 }",
        'max = 400, scenarios = ["basline"] }',
        'parameters."startups.count".scenarios',
        "did you mean 'baseline'",
    ),
    "claim_output": (
        "[outputs]",
        '[[claims]]\nid = "c"\ntext = "t"\noutput = "leed"\n'
        f'counterfactual = "{BASELINE.parent / "no_meta_surge.toml"}"\n'
        'direction = "increase"\n\n[outputs]',
        "claims.c.output",
        "did you mean 'lead'",
    ),
    "claim_direction": (
        "[outputs]",
        '[[claims]]\nid = "c"\ntext = "t"\noutput = "lead"\n'
        f'counterfactual = "{BASELINE}"\ndirection = "up"\n\n[outputs]',
        "claims.c.direction",
        "'up' is not allowed",
    ),
    "claim_same": (
        "[outputs]",
        '[[claims]]\nid = "c"\ntext = "t"\noutput = "lead"\n'
        f'counterfactual = "{BASELINE}"\ndirection = "increase"\n\n[outputs]',
        "claims.c.counterfactual",
        "is the same scenario",
    ),
}


def _write(tmp_path: Path, name: str) -> Path:
    old, new, _, _ = CASES[name]
    assert old in GOOD, name
    path = tmp_path / f"{name}.toml"
    path.write_text(GOOD.replace(old, new, 1))
    return path


runner = CliRunner()


def test_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    sweep = load_sweep(path)
    assert [p.path for p in sweep.parameters] == ["startups.count", "policy.allocation"]
    assert sweep.parameters[0].integer  # startups.count is an integer field of the schema
    assert sweep.parameters[1].categorical
    assert sweep.scenarios[sweep.base].file == str(BASELINE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_sweep_exits_2_with_one_line(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name)
    _, _, field, fragment = CASES[name]
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert "Traceback" not in result.output
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no message"
    hits = [line for line in lines if f": {field}: " in line and fragment in line]
    assert hits, f"expected '{field}' / '{fragment}' in:\n{err}"
    assert hits[0].startswith(str(path))
    assert not (tmp_path / "out").exists()  # nothing planned for a bad file


def test_unquoted_dotted_keys_are_paths(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    path.write_text(GOOD.replace('"startups.count" =', "startups.count ="))
    assert load_sweep(path).parameters[0].path == "startups.count"


def test_claims_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "cf.toml"
    path.write_text(GOOD.replace('sampler = "lhs"', 'claims_file = "nope.toml"\nsampler = "lhs"'))
    result = runner.invoke(app, ["sweep", str(path)])
    assert result.exit_code == 2
    assert f"{path}: claims_file: file 'nope.toml' not found" in result.stderr


def test_shipped_sweeps_and_claims_load() -> None:
    for path in sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")):
        sweep = load_sweep(path, check_metrics=path.name == "meta_effect.toml")
        assert sweep.parameters, path
    meta = load_sweep(ROOT / "scenarios" / "sweeps" / "meta_effect.toml", check_metrics=False)
    assert {c.id for c in meta.claims} >= {
        "startup_lead_time",
        "nvidia_revenue",
        "alt_chips",
        "top5_concentration",
    }
    assert set(meta.scenarios) == {"baseline", "no_meta_surge", "no_meta_2024_surge"}
