# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # market_sim from Python
#
# A tour of the Python path (docs/python.md): build and run the model, read its weekly
# frames the Mesa way, sweep a parameter with `mesa.batch_run`, write and read a run
# folder, score a run against the observed market facts, and run a small sweep with its
# claims. Open it as a notebook with jupytext (`jupytext --to notebook
# examples/python_tour.py`), or run it whole with `python -c "import runpy;
# runpy.run_path('examples/python_tour.py')"` (not `python examples/python_tour.py`: the
# sweep's Dask worker processes would re-run a main script). The test suite runs it
# (tests/test_examples.py), so it stays in step with the code. Runs are kept short here
# (`simulation.weeks`); drop that override for the full 2023-2025 horizon.

# %%
import tempfile
from pathlib import Path

import mesa
import pandas as pd

from market_sim.model import GPUMarketModel

WORK = Path(tempfile.mkdtemp(prefix="market_sim_tour_"))
SHORT = {"simulation.weeks": 52}  # one year instead of three

# %% [markdown]
# ## 1. One model, Mesa-style
#
# `GPUMarketModel()` runs the historical baseline shipped with the package, from any
# folder. Scenario values are keyword arguments by dotted path; `seed` fixes the random
# stream (default: the scenario's `simulation.seed`). The first run in a fresh
# environment compiles the numba kernels (about a minute, once).

# %%
model = GPUMarketModel(seed=1, **SHORT)
weekly = model.run()  # one row per week: `week`, `date`, one column per metric
print(weekly.shape)
weekly[["date", "list_price_usd@H100", "spot_price_usd@H100", "lead_time_weeks@H100"]].tail()

# %% [markdown]
# Stepping by hand works as in any Mesa model, and the same outcomes are in the
# DataCollector. Per-firm records: `get_agent_vars_dataframe()` (Mesa's layout) or
# `agents_frame()` (tidy). Startups live in numpy arrays; their Mesa agents are made the
# first time something looks at `model.agents`.

# %%
stepped = GPUMarketModel(seed=1, **SHORT)
for _ in range(10):
    stepped.step()
mesa_frame = stepped.datacollector.get_model_vars_dataframe()
firms = stepped.datacollector.get_agent_vars_dataframe()
tidy = stepped.agents_frame()
print(
    len(mesa_frame), "weeks;", tidy["agent_id"].nunique(), "firms;", len(stepped.agents), "agents"
)
tidy.head()

# %% [markdown]
# ## 2. Sweeping with `mesa.batch_run`
#
# Parameters are dotted scenario paths. Each iteration gets its own seed
# (`simulation.seed + iteration`), so N iterations are N different, reproducible runs.

# %%
results = mesa.batch_run(
    GPUMarketModel,
    parameters={"simulation.weeks": 20, "policy.allocation": ["priority", "pro_rata"]},
    iterations=2,
    number_processes=1,
    data_collection_period=-1,  # the last week only
    display_progress=False,
)
batch = pd.DataFrame(results)
batch[["policy.allocation", "iteration", "Step", "lead_time_weeks_median@startups"]]

# %% [markdown]
# ## 3. Run folders
#
# `execute` runs a scenario and keeps what a report needs; `write_run` writes the folder
# `market-sim run` writes (Parquet, CSV, run.json, supply.json, report.html);
# `read_run` reads one back without rerunning.

# %%
from market_sim.report.run_report import render_run_report  # noqa: E402
from market_sim.runs.folder import execute, read_run, write_run  # noqa: E402

run = execute(None, seed=3, overrides=["simulation.weeks=52"])
folder = write_run(run, WORK / "baseline-52w", render=render_run_report)
stored = read_run(folder)
print(sorted(p.name for p in folder.iterdir()))
stored.timeseries.equals(run.timeseries)

# %% [markdown]
# ## 4. Calibration: a run against the observed market facts
#
# The facts shipped with the package (docs/facts.md) are scored on the weekly frame: for
# each fact the run covers, the simulated value, the observed band and whether it falls
# inside.

# %%
from market_sim.facts import DEFAULT_FACTS, load_facts, score_facts, summary_line  # noqa: E402

scored = score_facts(stored.timeseries, load_facts(DEFAULT_FACTS), role="target")
print(summary_line(scored))
scored[["fact_id", "metric_key", "observed", "simulated", "status"]].head()

# %% [markdown]
# ## 5. A sweep and its claims
#
# A sweep file (docs/sweeps.md) names the parameters, the outputs and the claims; the
# same functions as `market-sim sweep` run it (here on one local Dask worker) and the
# results are one Parquet file per run, queried with DuckDB through `SweepStore`.

# %%
from market_sim.experiment import SweepStore, load_sweep, prepare, run_prepared  # noqa: E402
from market_sim.experiment.claims import evaluate_claims  # noqa: E402
from market_sim.experiment.results import results_frame  # noqa: E402

# the repository's scenarios folder (this notebook sits in examples/)
root = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "scenarios").is_dir())
sweep_file = WORK / "tour_sweep.toml"
sweep_file.write_text(f"""
name = "tour"
base = "{(root / "scenarios" / "baseline.toml").as_posix()}"
seed = 3
sampler = "grid"
set = ["simulation.weeks=20", "startups.count=200"]

[parameters]
"policy.allocation" = ["priority", "pro_rata"]

[outputs]
startup_lead = {{ metric = "lead_time_weeks_median@startups", window = "all" }}

[[claims]]
id = "meta_lengthens"
text = "Meta doubling its buy lengthens startups' lead times"
output = "startup_lead"
counterfactual = "{(root / "scenarios" / "meta_doubles.toml").as_posix()}"
direction = "decrease"
threshold = 0
""")
sweep = load_sweep(sweep_file)
prepared = prepare(sweep, WORK / "tour_sweep", resume=False)
run_prepared(sweep, prepared, workers=1)
store = SweepStore(WORK / "tour_sweep")
frame = results_frame(store, store.manifest())
for claim in evaluate_claims(frame, store.manifest()):
    print(claim.claim["id"], claim.verdict, f"holds at {claim.share:.0%}")
store.query("SELECT run_id, status FROM runs WHERE kind = 'output'").head()
