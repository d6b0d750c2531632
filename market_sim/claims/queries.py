"""The SQL behind every number of the answers page, as ``market-sim query`` runs it.

Each query reads the claims folder's run files (the view ``runs``: one row per output or
weekly value of a run, :mod:`market_sim.experiment.runfile`) and recomputes what
:mod:`market_sim.claims.stats` computes in Python; the page shows the query under the
numbers it gives, and a test checks they agree.
"""

from __future__ import annotations

import shlex
from typing import Any


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _pairs_cte(claim: dict[str, Any]) -> str:
    """CTEs ``o`` (the output's values of ok runs) and ``d`` (the pairs' differences)."""
    if claim["relative"]:
        delta = "100 * (s.value - c.value) / abs(c.value)"
        extra = " AND c.value <> 0"
    else:
        delta, extra = "s.value - c.value", ""
    return (
        "WITH o AS (SELECT scenario, sample, replicate, value FROM runs "
        f"WHERE kind = 'output' AND status = 'ok' AND name = {_lit(claim['output'])} "
        "AND isfinite(value)), "
        f"d AS (SELECT s.sample, s.replicate, {delta} AS delta FROM o s JOIN o c "
        "ON s.sample = c.sample AND s.replicate = c.replicate "
        f"WHERE s.scenario = {_lit(claim['scenario'])} "
        f"AND c.scenario = {_lit(claim['counterfactual'])}{extra})"
    )


def _test(column: str, claim: dict[str, Any]) -> str:
    t = float(claim["threshold"])
    return f"{column} > {t!r}" if claim["direction"] == "increase" else f"{column} < {-t!r}"


def answer_sql(claim: dict[str, Any]) -> str:
    """One row: pairs, members, effect, p05, p95, members_p05, members_p95, noise_p05,
    noise_p95, parameter_share, probability, members_holding."""
    return (
        _pairs_cte(claim) + ", "
        "m AS (SELECT sample, avg(delta) AS mean_delta, count(*) AS n FROM d GROUP BY sample), "
        "r AS (SELECT d.delta - m.mean_delta AS resid FROM d JOIN m USING (sample) "
        "WHERE m.n > 1), "
        "w AS (SELECT sum(resid * resid) / (SELECT sum(n - 1) FROM m) AS within FROM r), "
        "b AS (SELECT greatest(var_samp(mean_delta) - (SELECT within FROM w) / avg(n), 0) "
        "AS between FROM m) "
        "SELECT (SELECT count(*) FROM d) AS pairs, (SELECT count(*) FROM m) AS members, "
        "(SELECT quantile_cont(delta, 0.5) FROM d) AS effect, "
        "(SELECT quantile_cont(delta, 0.05) FROM d) AS p05, "
        "(SELECT quantile_cont(delta, 0.95) FROM d) AS p95, "
        "(SELECT quantile_cont(mean_delta, 0.05) FROM m) AS members_p05, "
        "(SELECT quantile_cont(mean_delta, 0.95) FROM m) AS members_p95, "
        "(SELECT quantile_cont(resid, 0.05) FROM r) AS noise_p05, "
        "(SELECT quantile_cont(resid, 0.95) FROM r) AS noise_p95, "
        "(SELECT between / (between + (SELECT within FROM w)) FROM b) AS parameter_share, "
        f"(SELECT avg(CASE WHEN {_test('delta', claim)} THEN 1.0 ELSE 0.0 END) FROM d) "
        "AS probability, "
        f"(SELECT avg(CASE WHEN {_test('mean_delta', claim)} THEN 1.0 ELSE 0.0 END) FROM m) "
        "AS members_holding"
    )


def members_sql(claim: dict[str, Any]) -> str:
    """Per sample point (parameter set): its mean difference over the seeds."""
    return (
        _pairs_cte(claim) + " SELECT sample, avg(delta) AS mean_delta, count(*) AS seeds "
        "FROM d GROUP BY sample ORDER BY sample"
    )


def weekly_sql(claim: dict[str, Any], metric: str) -> str:
    """Per week: the median and 5-95% range over pairs of the weekly difference of
    ``metric`` (scenario minus counterfactual, in the metric's unit)."""
    return (
        "WITH s AS (SELECT scenario, sample, replicate, week, date, value FROM runs "
        f"WHERE kind = 'series' AND status = 'ok' AND name = {_lit(metric)}), "
        "d AS (SELECT a.week, a.date, a.value - b.value AS delta FROM s a JOIN s b "
        "ON a.sample = b.sample AND a.replicate = b.replicate AND a.week = b.week "
        f"WHERE a.scenario = {_lit(claim['scenario'])} "
        f"AND b.scenario = {_lit(claim['counterfactual'])} AND isfinite(a.value - b.value)) "
        "SELECT week, min(date) AS date, quantile_cont(delta, 0.05) AS p05, "
        "quantile_cont(delta, 0.5) AS p50, quantile_cont(delta, 0.95) AS p95, "
        "count(*) AS n FROM d GROUP BY week ORDER BY week"
    )


def command(folder: str, sql: str) -> str:
    """The shell command that runs ``sql`` over ``folder`` (the SQL in double quotes
    when the shell would keep it as written, else quoted by :func:`shlex.quote`)."""
    text = f'"{sql}"' if not set(sql) & set('"$`\\!') else shlex.quote(sql)
    return f"market-sim query {shlex.quote(folder)} {text}"
