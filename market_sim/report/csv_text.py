"""A table as CSV text, the text ``DataFrame.to_csv(index=False)`` writes, made quicker
for the plain tables behind a report's charts (the "download data" links).

pandas turns each column into strings and hands the rows to the standard library's
``csv`` writer; for the 18 small tables of a run report (~17,000 cells, dates and
floats) its per-column work cost ~20 ms. :func:`csv_text` hands the same values to the
same writer itself: float64 columns as Python floats (the writer spells them with
``repr``, the text of pandas' ``astype(str)``), missing values as empty fields, integer
and bool columns as Python ints and bools, string columns as their strings. Any other
table (other dtypes, non-text column labels, a column index with levels) is written by
pandas. ``tests/test_report_csv.py`` compares the two.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np
import pandas as pd


def _column(series: pd.Series) -> list[Any] | None:
    """One column's cells as the csv writer gets them from pandas, or None when pandas'
    own conversion is needed."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        values = series.to_numpy()
        if dtype == np.float64:
            cells = list(map(repr, values.tolist()))  # the writer's own float spelling
            for i in np.flatnonzero(np.isnan(values)).tolist():
                cells[i] = ""
            return cells
        if dtype.kind in "iub":
            return values.tolist()
        if dtype.kind == "O":
            cells = values.tolist()
            return cells if all(type(c) is str for c in cells) else None
        return None
    if isinstance(dtype, pd.StringDtype):  # as pandas: astype(object), missing as ""
        values = series.array
        cells = np.asarray(values.astype(object))
        cells[pd.isna(values)] = ""
        return cells.tolist()
    return None


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)``: the same text, written without pandas' column
    formatting when every column is float64, integer, bool or text (see the module)."""
    labels = frame.columns
    if labels.nlevels != 1 or not len(labels) or not all(type(c) is str for c in labels):
        return frame.to_csv(index=False)
    columns = []
    for _, series in frame.items():
        cells = _column(series)
        if cells is None:
            return frame.to_csv(index=False)
        columns.append(cells)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=os.linesep)  # pandas' defaults
    writer.writerow(list(labels))
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()
