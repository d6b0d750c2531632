"""Fault injection, ``market-sim query``: read-only, inside its folder. SQL that would
write (COPY TO, ATTACH, EXPORT, CREATE), read elsewhere (read_text, read_csv, sniff_csv,
glob) or load code (INSTALL, LOAD, SET) is refused with one line; the folder is
unchanged; a result can be saved with --out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fault_helpers import SHORT, TINY, cli, ok, one_line
from market_sim.runs.folder import read_run_json
from market_sim.runs.run_json import verify_run_folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("query")
    out = base / "run"
    ok(cli("run", TINY, "--out", out, *SHORT))
    (base / "secret.txt").write_text("secret\n")
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("COPY (SELECT 1 AS x) TO '{run}/timeseries.parquet' (FORMAT parquet)", "got COPY"),
        ("COPY (SELECT 1 AS x) TO '{base}/stolen.csv'", "got COPY"),
        ("COPY timeseries FROM '{base}/secret.txt'", "got COPY"),
        ("ATTACH '{base}/x.db' AS x", "got ATTACH"),
        ("ATTACH '{run}/x.db' AS x", "got ATTACH"),
        ("EXPORT DATABASE '{run}/export'", "got EXPORT"),
        ("INSTALL httpfs", "got LOAD"),
        ("LOAD httpfs", "got LOAD"),
        ("SET enable_external_access = true", "got SET"),
        ("CREATE TABLE t AS SELECT 1", "got CREATE"),
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{run}/y.csv'", "got EXPLAIN"),
        ("SELECT 1; COPY (SELECT 1) TO '{base}/z.csv'", "got COPY"),
        ("SELECT * FROM read_text('{base}/secret.txt')", "Permission Error"),
        ("SELECT * FROM read_text('{run}/../secret.txt')", "Permission Error"),
        ("SELECT * FROM read_csv('/etc/passwd', sep = ':')", "Permission Error"),
        ("SELECT * FROM sniff_csv('/etc/passwd')", "Permission Error"),
        ("SELECT * FROM read_parquet('/etc/hostname')", "Permission Error"),
        ("SELECT * FROM glob('{base}/*')", "Permission Error"),
        ("SELECT * FROM 'https://example.com/data.csv'", "Permission Error"),
        ("", "empty query"),
        ("  ;  ", "empty query"),
        ("SELEC 1", "Parser Error"),
    ],
)
def test_query_cannot_write_or_read_outside(run_dir: Path, sql: str, needle: str) -> None:
    before = _snapshot(run_dir.parent)
    sql = sql.format(run=run_dir, base=run_dir.parent)
    line = one_line(cli("query", run_dir, sql))
    assert line.startswith("SQL: ") and needle in line
    assert _snapshot(run_dir.parent) == before  # nothing written anywhere
    assert verify_run_folder(run_dir, read_run_json(run_dir)) == []


def test_query_reads_inside_its_folder(run_dir: Path) -> None:
    result = ok(cli("query", run_dir, "--csv", "SELECT count(*) AS n FROM timeseries"))
    assert result.stdout.splitlines() == ["n", "12"]
    sql = f"SELECT count(*) AS n FROM read_json_auto('{run_dir}/run.json')"
    assert ok(cli("query", run_dir, "--csv", sql)).stdout.splitlines() == ["n", "1"]
    result = ok(cli("query", run_dir, "DESCRIBE timeseries"))
    assert "deliveries_units" in result.stdout


def test_query_out_writes_csv_and_parquet(run_dir: Path, tmp_path: Path) -> None:
    sql = "SELECT week, deliveries_units FROM timeseries ORDER BY week"
    ok(cli("query", run_dir, sql, "--out", tmp_path / "r.csv"))
    ok(cli("query", run_dir, sql, "--out", tmp_path / "r.parquet"))
    a = pd.read_csv(tmp_path / "r.csv")
    b = pd.read_parquet(tmp_path / "r.parquet")
    assert len(a) == len(b) == 12 and list(a.columns) == list(b.columns)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_query_out_is_checked(run_dir: Path, tmp_path: Path) -> None:
    sql = "SELECT 1"
    line = one_line(cli("query", run_dir, sql, "--out", run_dir / "timeseries.parquet"))
    assert "inside the folder being queried" in line
    line = one_line(cli("query", run_dir, sql, "--out", tmp_path / "r.json"))
    assert ".csv or .parquet" in line
    line = one_line(cli("query", run_dir, sql, "--out", tmp_path / "no" / "r.csv"))
    assert "does not exist" in line
    assert verify_run_folder(run_dir, read_run_json(run_dir)) == []


def test_query_markup_in_values_prints_as_written(run_dir: Path) -> None:
    result = ok(cli("query", run_dir, "SELECT '[/]' AS \"[bold]\", '[red]x' AS y"))
    assert "[/]" in result.stdout and "[bold]" in result.stdout and "[red]x" in result.stdout


def test_a_link_out_of_the_folder_is_refused(run_dir: Path, tmp_path: Path) -> None:
    """DuckDB checks paths as written; a link inside the folder would lead the operating
    system out of it, so a folder holding one is refused (and a link within it is fine)."""
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run_dir, folder)
    (tmp_path / "secret.parquet").write_bytes((folder / "timeseries.parquet").read_bytes())
    inside = folder / "again.parquet"
    inside.symlink_to(folder / "timeseries.parquet")
    ok(cli("query", folder, "SELECT count(*) FROM read_parquet('" + str(inside) + "')"))
    link = folder / "data" / "x.parquet"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "secret.parquet")
    line = one_line(cli("query", folder, f"SELECT * FROM read_parquet('{link}')"))
    assert "symbolic link out of the folder" in line and str(link) in line
