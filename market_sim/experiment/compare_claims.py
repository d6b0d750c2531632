"""The claims' outputs in a comparison: a claims file's windowed outputs, paired B - A.

A claims file (``scenarios/claims.toml``, :class:`market_sim.experiment.spec.ClaimsFile`)
defines outputs, a metric key reduced over a window (``startup_lead_2024``: the startups'
median quoted lead time, the 2024 mean), and claims, each a rule on one output's
difference between a scenario and its counterfactual. A comparison reduces every run
with the sweeps' reducer (:func:`market_sim.experiment.outputs.compute_output`, the facts
rules: mean of a level, sum of a flow, last of a stock, ratio of sums for shares) and
differences the pairs with the headline outcomes' statistics
(:func:`market_sim.runs.compare.deltas`: mean paired difference, 95% Student-t interval,
and the 5-95% range of the pairs). Each claim's rule (direction and threshold) is shown
next to its output's difference, with no verdict: ``market-sim claims`` gives those.

Which arm is the claim's scenario is read from file names, as sweeps label scenarios: a
claim stated for ``baseline.toml`` vs ``no_meta_surge.toml`` matches a comparison whose A
arm came from ``no_meta_surge.toml`` and whose B arm came from ``baseline.toml``
(:func:`pairing`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from market_sim.experiment.load import load_claims_file
from market_sim.experiment.outputs import compute_output, unknown_metric
from market_sim.experiment.spec import ClaimSpec
from market_sim.experiment.sweep import Output
from market_sim.outcomes.headline import Outcome, format_value
from market_sim.runs.compare import Arm, deltas
from market_sim.scenario import Scenario, ScenarioError
from market_sim.scenario.errors import Problem, did_you_mean

CLAIMS_FILE = "claims.toml"
"""The claims file a comparison reads by default, beside its first arm's scenario file."""
SAME, REVERSED, OTHER = "same", "reversed", "other"
"""How a comparison's B - A relates to a claim's scenario - counterfactual."""


def output_unit(metric: str) -> str:
    """The unit code of a metric key (:data:`market_sim.outcomes.catalogue.UNITS`); an
    output keeps its metric's unit (a flow summed over its window); "" if unknown."""
    from market_sim.outcomes.catalogue import describe, metrics_named

    found = describe(metric)
    if found is not None:
        return found.unit
    named = metrics_named(metric)
    return named[0].unit if named else ""


_SHOWN_AS = {"usd_per_h100e": "usd", "gini": "ratio"}
"""Catalogue units shown in a headline unit's format (:func:`format_value`)."""


def _outcome(o: Output) -> Outcome:
    """An output as an :class:`Outcome` for :func:`market_sim.runs.compare.deltas`."""
    how = f"{o.agg} of {o.metric} over {o.window}"
    unit = output_unit(o.metric)
    return Outcome(
        o.name,
        o.label or o.name,
        _SHOWN_AS.get(unit, unit),
        how,
        lambda ts: (compute_output(ts, o), ""),
    )


@dataclass(frozen=True)
class ClaimOutputs:
    """A claims file as a comparison uses it: where it came from, its outputs (in file
    order) and its claims."""

    file: str
    description: str
    outputs: tuple[Output, ...]
    claims: tuple[ClaimSpec, ...]

    def outcomes(self) -> list[Outcome]:
        """Each output as an outcome of a run's weekly frame (value in its metric's unit)."""
        return [_outcome(o) for o in self.outputs]

    def claims_of(self, output: str) -> list[ClaimSpec]:
        """The claims stated on output ``output``."""
        return [c for c in self.claims if c.output == output]

    def to_json(self) -> dict[str, Any]:
        """The entry ``claims`` of compare.json."""
        return {
            "file": self.file,
            "description": self.description,
            "outputs": [o.to_dict() for o in self.outputs],
            "claims": [c.model_dump(mode="json") for c in self.claims],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimOutputs:
        """Read back :meth:`to_json`."""
        return cls(
            str(data.get("file", "")),
            str(data.get("description", "")),
            tuple(Output(**o) for o in data.get("outputs", [])),
            tuple(ClaimSpec.model_validate(c) for c in data.get("claims", [])),
        )


def default_claims_path(scenario_file: str | Path) -> Path | None:
    """``claims.toml`` beside a scenario file, when there is one (None otherwise)."""
    if not str(scenario_file):
        return None
    path = Path(scenario_file).parent / CLAIMS_FILE
    return path if path.is_file() else None


def read_claim_outputs(path: str | Path, scenarios: Mapping[str, Scenario]) -> ClaimOutputs:
    """Load a claims file (:func:`market_sim.experiment.load.load_claims_file`) and check
    that every output's metric is recorded by the runs of each scenario (by label), from
    the metric catalogue; raise ScenarioError listing every problem."""
    from market_sim.outcomes.catalogue import metric_keys

    spec, outputs = load_claims_file(path)
    problems = []
    for label, s in scenarios.items():
        columns = metric_keys(s)
        for name, o in outputs.items():
            if unknown_metric(o.metric, columns):
                hint = did_you_mean(o.metric, columns) or ""
                problems.append(
                    Problem(
                        str(path),
                        f"outputs.{name}.metric",
                        f"'{o.metric}' is not recorded by scenario '{label}'{hint}; "
                        "fix the key (see `market-sim metrics`) or pass --claims none",
                    )
                )
        if problems:
            break  # one scenario's list is enough
    if problems:
        raise ScenarioError(problems)
    return ClaimOutputs(str(path), spec.description, tuple(outputs.values()), tuple(spec.claims))


def claim_deltas(arms: Sequence[Arm], claims: ClaimOutputs) -> pd.DataFrame:
    """One row per (B arm, output): :func:`market_sim.runs.compare.deltas` of the
    outputs (``outcome`` is the output's name), with its ``metric``, ``window`` and
    ``agg``."""
    table = deltas(arms, claims.outcomes())
    if table.empty:
        return table
    spec = {o.name: o for o in claims.outputs}
    for col in ("metric", "window", "agg"):
        table[col] = [getattr(spec[name], col) for name in table["outcome"]]
    return table


def _stem(file: str | None) -> str:
    return Path(file).stem if file else ""


def pairing(claim: ClaimSpec, a_file: str, b_file: str) -> str:
    """How B - A of a comparison whose arms came from ``a_file`` and ``b_file`` relates
    to the claim's scenario - counterfactual, by file stem: :data:`SAME`,
    :data:`REVERSED` or :data:`OTHER` (a claim without ``scenario`` names only its
    counterfactual)."""
    a, b = _stem(a_file), _stem(b_file)
    scen, cf = _stem(claim.scenario), _stem(claim.counterfactual)
    if a and b and a != b:
        if a == cf and (b == scen or not scen):
            return SAME
        if b == cf and (a == scen or not scen):
            return REVERSED
    return OTHER


def rule_text(claim: ClaimSpec, unit: str) -> str:
    """A claim's rule in words, e.g. ``baseline − no_meta_surge > +4 weeks``."""
    scen = _stem(claim.scenario) or "the base scenario"
    cf = _stem(claim.counterfactual)
    up = claim.direction == "increase"
    sign = ">" if up else "<"
    if claim.relative:
        limit = f"{'+' if up else '−'}{claim.threshold:g}%"
        return f"({scen} − {cf}) / {cf} {sign} {limit}"
    limit = format_value(claim.threshold if up else -claim.threshold, unit, signed=True)
    if claim.threshold == 0:
        limit = "0"
    return f"{scen} − {cf} {sign} {limit}"


def pairing_text(claim: ClaimSpec, a_file: str, b_file: str) -> str:
    """What this comparison's B - A is for the claim, in words."""
    how = pairing(claim, a_file, b_file)
    if how == SAME:
        return "B − A here is the claim's difference"
    if how == REVERSED:
        return "B − A here is the claim's difference reversed (A is its scenario)"
    return "stated for other scenarios than these arms"


def stored_claims(data: Mapping[str, Any], file: str | Path) -> ClaimOutputs | None:
    """The claims a comparison's compare.json (``data``, read from ``file``) recorded;
    None when it read none. Raises :class:`market_sim.problems.LineError` (one line) for
    a malformed entry."""
    from pydantic import ValidationError

    from market_sim.problems import LineError

    entry = data.get("claims")
    if not entry:
        return None
    try:
        return ClaimOutputs.from_json(entry)
    except (TypeError, ValueError, AttributeError, ValidationError) as err:
        first = " ".join(str(err).split())[:200]
        raise LineError(
            f"{file}: claims: not a stored claims entry ({first}); run the comparison again"
        ) from None
