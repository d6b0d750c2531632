"""The model's data collector: one row of outcomes a week, and the firms' weekly records.

:class:`MetricsCollector` is a ``mesa.DataCollector``: one model reporter per metric key
(``get_model_vars_dataframe`` and ``mesa.batch_run`` work unchanged), but ``collect``
reads the week's values from ``model.metrics`` as one row instead of calling ~430
reporters. The firms' records (holders, vendors, chipmakers; not the startups) are kept
as a few arrays a week and served the Mesa way on demand: ``get_agent_vars_dataframe()``
(index ``Step, AgentID``, one column per variable, NaN where a variable does not apply)
and the records ``mesa.batch_run`` reads. ``GPUMarketModel.agents_frame()`` gives the
same records tidy, with dates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

AGENT_GROUPS = ("holders", "vendors", "chipmakers")
"""Groups of firms whose records are kept, in this order."""


class MetricsCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` for a model that computes its week's outcomes at once.

    Args:
        keys: the metric keys (one model reporter each, reading ``model.metrics``).
        variables: per firm group, the names of its record's columns.
        firms: per firm group, ``(agent id, role)`` of each firm, in record row order.
    """

    def __init__(
        self,
        keys: Sequence[str],
        variables: Mapping[str, Sequence[str]],
        firms: Mapping[str, Sequence[tuple[str, str]]],
    ):
        self._rows: list[np.ndarray] = []  # weeks collected and not yet in model_vars
        super().__init__(model_reporters={k: functools.partial(_read_metric, key=k) for k in keys})
        self.variables = {g: tuple(variables[g]) for g in AGENT_GROUPS}
        self.firms = {g: list(firms[g]) for g in AGENT_GROUPS}
        names = list(dict.fromkeys(v for g in AGENT_GROUPS for v in self.variables[g]))
        self.agent_reporters = {name: name for name in names}  # names only: see collect
        self._agent_records = _LazyRecords(self)
        self.agent_weeks: list[dict[str, np.ndarray]] = []

    @property
    def model_vars(self) -> dict[str, list]:
        """Mesa's ``{metric key: [value of each week]}``; the weeks are kept as rows (a
        copy of ``model.metrics``' values each) and moved into these lists when they are
        read (one copy a week instead of ~430 appends)."""
        columns, rows = self._model_vars, self._rows
        if rows:
            weeks = np.array(rows).T.tolist()  # [key][week]
            for values, column in zip(columns.values(), weeks, strict=True):
                values.extend(column)
            rows.clear()
        return columns

    @model_vars.setter
    def model_vars(self, columns: dict[str, list]) -> None:
        self._model_vars = columns

    def collect(self, model: mesa.Model) -> None:
        """Keep the week's values (``model.metrics``, a
        :class:`market_sim.model.record_parts.MetricRow` in reporter order) and firms'
        records (``model.agent_records()``)."""
        self._rows.append(model.metrics.row())
        self.agent_weeks.append(model.agent_records())

    # ------------------------------------------------------------------ Mesa's agent data
    def records_of_week(self, week: int) -> list[tuple]:
        """Mesa's agent records of a week: ``(week, agent id, *values)`` with one value
        per ``agent_reporters`` name (NaN where it does not apply)."""
        if not 0 <= week < len(self.agent_weeks):
            return []
        names = list(self.agent_reporters)
        out = []
        for group in AGENT_GROUPS:
            cube = self.agent_weeks[week][group]
            cols = [names.index(v) for v in self.variables[group]]
            for row, (agent_id, _role) in zip(cube, self.firms[group], strict=True):
                values = [np.nan] * len(names)
                for c, value in zip(cols, row.tolist(), strict=True):
                    values[c] = value
                out.append((week, agent_id, *values))
        return out

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """The firms' weekly records the Mesa way: index ``(Step, AgentID)`` (Step = week,
        from 0), a ``role`` column and one column per variable (units in the names)."""
        rows = []
        roles = {a: r for g in AGENT_GROUPS for a, r in self.firms[g]}
        for week in range(len(self.agent_weeks)):
            rows += self.records_of_week(week)
        columns = ["Step", "AgentID", *self.agent_reporters]
        frame = pd.DataFrame(rows, columns=columns)
        frame.insert(2, "role", frame["AgentID"].map(roles))
        return frame.set_index(["Step", "AgentID"])

    def tidy(self, start: pd.Timestamp) -> pd.DataFrame:
        """The records tidy: ``week``, ``date``, ``agent_id``, ``role``, ``variable``,
        ``value``, sorted by week, agent and variable."""
        weeks = self.agent_weeks
        parts = []
        for group in AGENT_GROUPS:
            names, ids = self.variables[group], self.firms[group]
            if not weeks or not ids:
                continue
            cube = np.stack([w[group] for w in weeks])  # [week, firm, variable]
            n_w, n_f, n_v = cube.shape
            parts.append(
                pd.DataFrame(
                    {
                        "week": np.repeat(np.arange(n_w), n_f * n_v),
                        "agent_id": np.tile(np.repeat([i for i, _ in ids], n_v), n_w),
                        "role": np.tile(np.repeat([r for _, r in ids], n_v), n_w),
                        "variable": np.tile(list(names), n_w * n_f),
                        "value": cube.reshape(-1).astype(float),
                    }
                )
            )
        cols = ["week", "date", "agent_id", "role", "variable", "value"]
        if not parts:
            return pd.DataFrame(columns=cols)
        frame = pd.concat(parts, ignore_index=True)
        frame["date"] = start + pd.to_timedelta(frame["week"] * 7, unit="D")
        return (
            frame[cols]
            .sort_values(["week", "agent_id", "variable"], kind="stable")
            .reset_index(drop=True)
        )


class _LazyRecords(dict):
    """``DataCollector._agent_records`` made on demand from the kept arrays (what
    ``mesa.batch_run`` reads for the weeks it reports)."""

    def __init__(self, collector: MetricsCollector):
        super().__init__()
        self._collector = collector

    def get(self, week: Any, default: Any = None) -> Any:
        records = self._collector.records_of_week(int(week))
        return records if records else default

    def __getitem__(self, week: Any) -> list[tuple]:
        records = self.get(week)
        if records is None:
            raise KeyError(week)
        return records

    def __contains__(self, week: object) -> bool:
        return isinstance(week, int) and 0 <= week < len(self._collector.agent_weeks)


def _read_metric(model: Any, key: str) -> float:
    return model.metrics[key]
