"""The comparison report: a table of headline deltas, B minus A, with 95% intervals over
paired seeds (:mod:`market_sim.runs.compare`), the claims' windowed outputs and the
differences over time (:mod:`market_sim.report.compare_sections`), and the run report's
main charts with the scenarios overlaid (mean over seeds, shaded min-max band)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from market_sim.outcomes.headline import HEADLINES, OUTCOMES, format_value
from market_sim.report import figures as F
from market_sim.report.compare_sections import band_trace, claims_section, differences_section
from market_sim.report.page import (
    Card,
    Section,
    figure_html,
    join,
    links,
    paragraph,
    plot_text,
    render_page,
    table_html,
)
from market_sim.report.sections import SECTIONS, Names
from market_sim.runs.compare import Arm, run_file, spread
from market_sim.runs.compare_weekly import main_keys, weekly_deltas

if TYPE_CHECKING:
    from market_sim.experiment.compare_claims import ClaimOutputs


def union_marks(arms: Sequence[Arm]) -> list[F.Mark]:
    """Every arm's events, once each; an event not in every arm names its arms."""
    found: dict[tuple[str, str], list[str]] = {}
    for arm in arms:
        for m in F.marks_from(arm.runs[0].timeseries, arm.marks):
            found.setdefault((m.date, m.label), []).append(arm.label)
    return [
        F.Mark(d, lab if len(who) == len(arms) else f"{lab} [{', '.join(who)}]")
        for (d, lab), who in sorted(found.items())
    ]


def overlay_figure(
    arms: Sequence[Arm],
    panels: Sequence[tuple[str, str]],
    title: str,
    y_title: str,
    marks: Sequence[F.Mark],
    cols: int = 2,
) -> go.Figure:
    """One panel per ``(column, panel title)``; in each, a line per arm (mean over its
    seeds) and a shaded band from the lowest to the highest seed."""
    panels = [p for p in panels if any(p[0] in a.runs[0].timeseries.columns for a in arms)]
    cols = max(1, min(cols, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes=True,
        subplot_titles=[plot_text(t) for _, t in panels] or None,
        vertical_spacing=0.14 if rows > 1 else 0.1,
        horizontal_spacing=0.08,
    )
    for k, (col, _) in enumerate(panels):
        r, c = k // cols + 1, k % cols + 1
        for i, arm in enumerate(arms):
            frames = [run.timeseries for run in arm.runs if col in run.timeseries.columns]
            if not frames:
                continue
            colour = F.PALETTE[i % len(F.PALETTE)]
            x = F.dates_of(frames[0])
            stack = np.vstack([f[col].to_numpy(dtype=float) for f in frames])
            if len(frames) > 1:
                lo, hi = stack.min(axis=0), stack.max(axis=0)
                fig.add_trace(band_trace(x, lo, hi, colour), row=r, col=c)
            fig.add_trace(
                F.line(
                    x,
                    stack.mean(axis=0),
                    arm.label,
                    legendgroup=arm.label,
                    showlegend=k == 0,
                    line={"color": colour, "width": 1.6},
                ),
                row=r,
                col=c,
            )
    F.styled(fig, title, height=120 + 260 * rows)
    fig.update_yaxes(rangemode="tozero")
    if y_title:
        fig.update_yaxes(title_text=plot_text(y_title), col=1)
    fig.update_layout(
        hovermode="x unified", legend={"orientation": "h", "y": -0.08}, margin={"t": 80}
    )
    return F.add_marks(fig, marks)


# --------------------------------------------------------------------------- tables


def delta_table(table: pd.DataFrame, spread: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """The deltas as display text, and a row class per row (interval excludes 0: ``ok``);
    ``spread`` adds the 5-95% range of the paired differences (an ensemble's). With more
    than one B arm, a first column (``B arm``) names each row's B."""
    rows, classes = [], []
    several = table["b"].nunique() > 1 if not table.empty else False
    for r in table.itertuples(index=False):
        if math.isfinite(r.delta_low):
            interval = (
                f"{format_value(r.delta_low, r.unit, True)} to "
                f"{format_value(r.delta_high, r.unit, True)}"
            )
            excludes_zero = r.delta_low > 0 or r.delta_high < 0
        else:
            interval, excludes_zero = "n/a (1 seed)", False
        rows.append(
            ({"B arm": r.b} if several else {})
            | {
                "outcome": r.label,
                "A": format_value(r.a_mean, r.unit),
                "B": format_value(r.b_mean, r.unit),
                "B − A (mean)": format_value(r.delta_mean, r.unit, True),
                "95% interval": interval,
                "change": f"{r.delta_pct:+.1f}%" if math.isfinite(r.delta_pct) else "n/a",
            }
        )
        if spread:
            rows[-1]["5-95% of pairs"] = (
                f"{format_value(r.delta_p05, r.unit, True)} to "
                f"{format_value(r.delta_p95, r.unit, True)}"
            )
        classes.append("ok" if excludes_zero else "muted")
    return pd.DataFrame(rows), classes


def _overrides_text(arm: Arm) -> str:
    """The ``--set`` lines an arm's scenario was resolved with ("none"); with an ensemble,
    each member's parameters come on top."""
    ensemble = bool(arm.runs) and arm.runs[0].member is not None
    lines = list(arm.overrides)
    if not lines and arm.runs and not ensemble:  # compare.json from before arms kept them
        lines = list(arm.runs[0].overrides)
    if ensemble:
        member = "each ensemble member's parameters"
        return f"{'; '.join(lines)}; then {member}" if lines else member
    return "; ".join(lines) or "none"


def spread_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`market_sim.runs.compare.spread` as display text."""
    return pd.DataFrame(
        [
            {
                "outcome": r.label,
                "mean": format_value(r.mean, r.unit),
                "5%": format_value(r.p05, r.unit),
                "95%": format_value(r.p95, r.unit),
                "runs": r.n_runs,
            }
            for r in table.itertuples(index=False)
        ]
    )


def delta_cards(table: pd.DataFrame) -> list[Card]:
    """The five headline deltas of the first B arm as cards."""
    if table.empty:
        return []
    first_b = table["b"].iloc[0]
    sub = table[table["b"] == first_b].set_index("outcome")
    cards = []
    for o in HEADLINES:
        r = sub.loc[o.key]
        note = (
            f"95% CI {format_value(r.delta_low, o.unit, True)} to "
            f"{format_value(r.delta_high, o.unit, True)}; "
            if math.isfinite(r.delta_low)
            else "one seed, no interval; "
        )
        note += f"{format_value(r.a_mean, o.unit)} → {format_value(r.b_mean, o.unit)}"
        cards.append(Card(f"Δ {o.label}", format_value(r.delta_mean, o.unit, True), note))
    return cards


# --------------------------------------------------------------------------- page


def _chart_sections(arms: Sequence[Arm], marks: list[F.Mark]) -> list[Section]:
    """The run report's chart sections (:data:`market_sim.report.sections.SECTIONS`), each
    chart's series overlaid for every scenario (one panel per series)."""
    names = Names.of(arms[0].scenario)
    out = []
    for section in SECTIONS:
        figures = []
        for chart in section.charts:
            if not chart.compare:
                continue
            series = list(chart.series(names)) + list(chart.right(names))
            if chart.extra is not None:
                series.insert(0, chart.extra(names))
            y = chart.y_title if chart.kind in ("lines", "stacked") else ""
            figure = overlay_figure(arms, series, chart.title(names), y, marks)
            if figure.data:
                figures.append(figure_html(figure, f"cmp-{chart.id}"))
        if figures:
            out.append(Section(section.id, section.title(names), join(*figures)))
    return out


def render_compare_report(
    arms: Sequence[Arm],
    table: pd.DataFrame,
    claims: ClaimOutputs | None = None,
    claim_table: pd.DataFrame | None = None,
    weekly: pd.DataFrame | None = None,
    overrides: Sequence[str] = (),
) -> str:
    """The comparison report's HTML; ``table`` is :func:`market_sim.runs.compare.deltas`.

    ``claims`` adds the claims' outputs (``claim_table``, computed when not given:
    :func:`market_sim.experiment.compare_claims.claim_deltas`); ``weekly`` is
    :func:`market_sim.runs.compare_weekly.weekly_deltas` (computed when not given);
    ``overrides`` are the ``--set`` lines the command applied to every scenario arm.
    """
    from market_sim import __version__

    a = arms[0]
    n = len(a.runs)
    names = " vs ".join(x.label for x in arms)
    members = sorted({r.member for r in a.runs if r.member is not None})
    shown, classes = delta_table(table, spread=bool(members))
    seeds = sorted(set(a.seeds))
    if members:
        explain = (
            f"B minus A for each of {n} pairs ({len(members)} ensemble members x "
            f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}: both arms run each "
            "member's parameters with the same seed), then averaged. The 95% interval is a "
            "Student-t interval of the mean paired difference (over the ensemble's "
            "parameter sets and the seeds); '5-95% of pairs' is the range of the paired "
            "differences themselves: how much the parameter sets that fit the record "
            "disagree. Charts show the mean and the lowest-to-highest run. "
        )
    else:
        explain = (
            f"B minus A, per seed offset, then averaged over {n} paired seed"
            f"{'s' if n != 1 else ''} (seeds {', '.join(str(s) for s in a.seeds)} for "
            f"{a.label}). The 95% interval is a Student-t interval of the mean paired "
            "difference: seed noise only. "
        )
    explain += (
        "Highlighted rows have an interval that excludes zero. Percentages "
        "change in points (pp); 'change' is relative to A's mean."
    )
    if n < 2:
        explain += " With one seed there is no interval: use --seeds N (N ≥ 2)."
    if overrides:
        explain += (
            f" --set applied to every arm: {'; '.join(overrides)} (the inputs table lists "
            "each arm's overrides)."
        )
    inputs = pd.DataFrame(
        [
            {
                "arm": "A" if i == 0 else "B",
                "scenario": x.label,
                "source": x.source,
                "description": x.scenario.simulation.description,
                "overrides (--set)": _overrides_text(x),
                "seeds": ", ".join(map(str, sorted(set(x.seeds)))),
            }
            for i, x in enumerate(arms)
        ]
    )
    if len(arms) == 1:  # one scenario over an ensemble: its spread, no deltas
        head = Section(
            "spread",
            "Headlines across the ensemble",
            join(
                paragraph(
                    f"{a.label} run with each of {len(members)} ensemble members' parameters "
                    f"x {len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({n} runs). The "
                    "5-95% range covers the parameter sets that fit the record and the "
                    "seeds; it is not a forecast interval for the world (the model's "
                    "structure and its fixed inputs are taken as given). Charts show the "
                    "mean and the lowest-to-highest run."
                ),
                table_html(inputs),
                table_html(spread_display(spread(a)), sortable=True),
            ),
        )
    else:
        head = Section(
            "deltas",
            "Headline deltas (B − A)",
            join(
                paragraph(explain),
                table_html(inputs),
                table_html(shown, sortable=True, row_classes=classes),
            ),
        )
    extra: list[Section] = []
    marks = union_marks(arms)
    if len(arms) > 1:
        if claims is not None and claim_table is None:
            from market_sim.experiment.compare_claims import claim_deltas

            claim_table = claim_deltas(arms, claims)
        shown = None if claim_table is None else delta_table(claim_table, spread=bool(members))
        extra.append(claims_section(arms, claims, claim_table, shown))
        if weekly is None:
            keys = main_keys(a.scenario) + ([o.metric for o in claims.outputs] if claims else [])
            weekly = weekly_deltas(arms, keys)
        diff = differences_section(arms, weekly, claims, marks)
        if diff is not None:
            extra.append(diff)
    files = [
        ("deltas.csv", "deltas.csv (the deltas, unformatted; empty for one scenario)"),
        ("compare.json", "compare.json (inputs, overrides, seeds, resolved scenarios, deltas)"),
    ]
    if len(arms) > 1:
        files.append(("deltas_weekly.csv", "deltas_weekly.csv (B − A by week: p05, p50, p95, n)"))
    if claims is not None:
        files.append(("claims_deltas.csv", "claims_deltas.csv (the claims' outputs' deltas)"))
    files += [(run_file(x, r), run_file(x, r)) for x in arms for r in x.runs]
    appendix = Section(
        "appendix",
        "Appendix: data",
        join(
            paragraph(
                "Each run's weekly outcomes (Parquet; query all at once with "
                '`market-sim query COMPARE_DIR "SELECT ... FROM runs"`):'
            ),
            links(files),
        ),
    )
    sections = [head, *extra, *_chart_sections(arms, marks), appendix]
    kind = "ensemble run" if len(arms) == 1 else "comparison"
    return render_page(
        title=f"market_sim {kind}: {names}",
        subtitle=(
            (f"A = {a.label}; B = {', '.join(x.label for x in arms[1:])}. " if arms[1:] else "")
            + f"{len(OUTCOMES)} outcomes, {n} run{'s' if n != 1 else ''} each"
            + (f" ({len(members)} ensemble members)." if members else ".")
        ),
        cards=delta_cards(table),
        sections=sections,
        generated_by=f"market_sim {__version__} ({kind} report)",
    )
