"""Run folders (Parquet, run.json, report) and comparisons of runs."""
