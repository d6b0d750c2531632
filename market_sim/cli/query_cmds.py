"""The ``query`` command: read-only SQL (DuckDB) over a run, comparison or sweep folder.

The folder's Parquet files are views (``timeseries``, ``agents``, ``runs``, ``manifest``)
in an in-memory DuckDB database that is then closed to the outside before the user's SQL
runs: file access only inside the folder (``allowed_directories``; everything else off
with ``enable_external_access = false``), no extension installed or loaded, and the
configuration locked so SQL cannot undo it. Only ``SELECT`` statements (with ``WITH``,
``FROM``-first, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``) run: ``COPY``, ``ATTACH``,
``EXPORT``, ``INSTALL``, ``CREATE``, ``SET`` and the rest are refused, so a query can
neither write nor reach beyond its folder. ``--out FILE`` saves the result (CSV or
Parquet by the file's suffix), written by market_sim, atomically, outside the folder.

Before a query, a run folder's data files are checked against the checksums in its
run.json and a sweep folder's run files against its index; mismatches are warned about
(one line each) and a sweep's damaged run files are left out of ``runs``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from market_sim.cli import UserError, app, console, err_console, user_errors
from market_sim.problems import LineError, shorten

READ_ONLY_SETTINGS = (
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("enable_external_access", "false"),
    ("lock_configuration", "true"),
)
"""Set in this order, after ``allowed_directories`` (which cannot change once external
access is off) and after the views are created."""
OUT_FORMATS = (".csv", ".parquet")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parquet_views(folder: Path, warn: Any = None) -> dict[str, str]:
    """View name -> DuckDB source expression for the Parquet data in a folder.

    ``timeseries`` and ``agents`` (a run folder), ``runs`` (a sweep's verified run files,
    or ``runs/*.parquet`` of a comparison folder, matched by column name), ``manifest``
    (``manifest.parquet``). ``warn(line)`` gets a line per file that fails its checksum.
    """
    root = folder.resolve()
    views = {}
    for name in ("timeseries", "agents", "manifest"):
        if (root / f"{name}.parquet").is_file():
            views[name] = f"read_parquet({_lit(str(root / f'{name}.parquet'))})"
    warn = warn if warn is not None else (lambda line: None)
    if (folder / "run.json").is_file():
        from market_sim.runs.folder import read_run_json
        from market_sim.runs.run_json import verify_run_folder

        try:
            for line in verify_run_folder(folder, read_run_json(folder)):
                warn(line)
        except LineError as err:
            warn(f"{err}; its data files cannot be checked")
    manifest = None
    if (folder / "manifest.json").is_file() and (folder / "runs").is_dir():
        from market_sim.experiment.storage import SweepStore

        store = SweepStore(folder)
        try:
            manifest = store.manifest()
        except LineError as err:
            warn(f"{err}; the run files cannot be checked")
    if manifest is not None:
        from market_sim.experiment.verify import verify_store

        planned = {r["run_id"] for r in manifest["runs"]}
        check = verify_store(store, planned, manifest["fingerprint"])
        for line in check.lines(store, "left out of the view runs"):
            warn(line)
        source = store.parquet_source()
        if source is not None:
            views["runs"] = source
    elif (folder / "runs").is_dir() and any((folder / "runs").glob("*.parquet")):
        pattern = _lit(str(root / "runs" / "*.parquet"))
        views["runs"] = f"read_parquet({pattern}, union_by_name=true)"
    return views


def check_no_links_out(folder: Path) -> None:
    """Raise LineError if a symbolic link inside ``folder`` leads outside it: DuckDB's
    ``allowed_directories`` checks paths as written, and the operating system would
    follow such a link out of the folder."""
    import os

    root = folder.resolve()
    for here, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(here) / name
            if path.is_symlink():
                try:
                    target = path.resolve()
                except (OSError, RuntimeError):
                    target = None
                if target is None or not target.is_relative_to(root):
                    raise LineError(
                        f"{path}: a symbolic link out of the folder; query reads only the "
                        "folder's own files: remove the link or copy the file in"
                    )


def read_only_connection(folder: Path, views: dict[str, str]) -> Any:
    """An in-memory DuckDB connection with ``views``, then closed to everything outside
    ``folder`` (see the module docstring). Raises LineError if a view cannot be made."""
    import duckdb

    folder = folder.resolve()
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET allowed_directories = [{_lit(str(folder) + '/')}]")
        for name, source in views.items():
            try:
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM {source}")
            except duckdb.Error as err:
                message = shorten(str(err).strip().splitlines()[0], 300)
                raise LineError(
                    f"{folder}: cannot read the data of view '{name}' ({message}); "
                    "rerun the run or sweep that wrote it"
                ) from None
        for key, value in READ_ONLY_SETTINGS:
            con.execute(f"SET {key} = {value}")
    except BaseException:
        con.close()
        raise
    return con


def check_read_only(sql: str) -> None:
    """Raise UserError unless ``sql`` is one or more SELECT statements."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError("SQL", "", shorten(message, 500)) from None
    if not statements:
        raise UserError(
            "SQL", "", "empty query; give a SELECT, e.g. 'SELECT * FROM timeseries LIMIT 5'"
        )
    for st in statements:
        if st.type != duckdb.StatementType.SELECT:
            kind = str(st.type).rsplit(".", 1)[-1]
            raise UserError(
                "SQL",
                "",
                f"only SELECT queries run here (got {kind}): query reads its folder and "
                "writes nothing; save a result with --out FILE.csv or FILE.parquet",
            )


def _check_out(out: Path, folder: Path) -> None:
    if out.suffix.lower() not in OUT_FORMATS:
        raise UserError(str(out), "--out", "give a file ending in .csv or .parquet")
    target, inside = out.resolve(), folder.resolve()
    if target == inside or inside in target.parents:
        raise UserError(
            str(out),
            "--out",
            "is inside the folder being queried, whose files query never changes; "
            "write the result elsewhere",
        )
    if target.is_dir():
        raise UserError(str(out), "--out", "is a folder; give a file name")
    if not target.parent.is_dir():
        raise UserError(str(out), "--out", "its folder does not exist; create it first")


@app.command()
@user_errors
def query(
    folder: Annotated[
        Path, typer.Argument(help="A run, comparison or sweep folder.", show_default=False)
    ],
    sql: Annotated[
        str,
        typer.Argument(
            help="SELECT over the views timeseries, agents, runs, manifest (read-only).",
            show_default=False,
        ),
    ],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Write the result to FILE (.csv or .parquet) instead of printing it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run read-only SQL (DuckDB) over a folder's Parquet files and print the result."""
    import duckdb

    if not folder.is_dir():
        raise UserError(str(folder), "", "not a folder; give a run, comparison or sweep folder")
    check_read_only(sql)
    if out is not None:
        _check_out(out, folder)
    check_no_links_out(folder)
    views = parquet_views(folder, warn=_warn)
    if not views:
        raise UserError(
            str(folder),
            "",
            "no Parquet data here (timeseries.parquet, "
            "agents.parquet, runs/*.parquet or manifest.parquet)",
        )
    con = read_only_connection(folder, views)
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description] if cur.description else []
        if out is not None and out.suffix.lower() == ".parquet":
            to_arrow = getattr(cur, "to_arrow_table", None) or cur.fetch_arrow_table
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duckdb 2 notes the copy it makes
                result = to_arrow() if columns else None
            rows: list[tuple] = []
        else:
            result = None
            rows = cur.fetchall() if columns else []
    except duckdb.Error as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "Permission Error" in message:
            message += f"; query reads only files inside {folder}"
        raise UserError("SQL", "", shorten(message, 500)) from None
    finally:
        con.close()
    if out is not None:
        _write_result(out, columns, rows, result)
        console.print(f"Wrote {len(rows) if result is None else result.num_rows:,} rows to {out}")
        return
    if not columns:
        console.print("OK (no result)")
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return
    t = Table(box=None, pad_edge=False, caption=f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
    for i, c in enumerate(columns):
        numeric = any(isinstance(r[i], int | float) for r in rows[:50])
        t.add_column(str(c), justify="right" if numeric else "left")
    for r in rows:
        t.add_row(*(_cell(v) for v in r))
    console.print(t)


def _write_result(out: Path, columns: list[str], rows: list[tuple], table: Any) -> None:
    """Write a result atomically (market_sim's writer, not DuckDB's)."""
    from market_sim.fileio import atomic_write, write_text

    if out.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if table is None:
            table = pa.table({})
        atomic_write(out, lambda fh: pq.write_table(table, fh))
        return
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if columns:
        writer.writerow(columns)
        writer.writerows(rows)
    write_text(out, buf.getvalue())


def _warn(line: str) -> None:
    err_console.print(f"Warning: {shorten(line)}")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)
