"""Read and check sweep files: the scenario files' rules and one-line problems.

A sweep file is TOML (see docs/sweeps.md). Problems are reported like a scenario's,
``FILE: field.path: what is wrong; how to fix``, all at once, through
:class:`market_sim.scenario.ScenarioError`. Parameter keys are written quoted
(``"startups.count" = [600, 1200]``); unquoted dotted keys, which TOML reads as nested
tables, are flattened back to the same paths. Beyond the schema, the checks need the
scenarios: every parameter path must name a value of each scenario it applies to (a
value a parameter *takes* is checked only when its run starts: a bad one fails that run,
not the sweep), ``set`` overrides must give a valid base scenario, and every output's
metric must be a weekly column of the model.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from market_sim.experiment.design_checks import (
    check_sampler,
    check_size,
    ensemble_parameters,
)
from market_sim.experiment.outputs import parse_window, unknown_metric
from market_sim.experiment.paths import check_path, takes_int
from market_sim.experiment.spec import (
    ClaimsFile,
    ClaimSpec,
    OutputSpec,
    ParameterSpec,
    SweepFile,
)
from market_sim.experiment.sweep import Claim, Output, Parameter, ScenarioRef, Sweep
from market_sim.scenario import ScenarioError
from market_sim.scenario.errors import (
    Problem,
    did_you_mean,
    problems_from_validation,
)
from market_sim.scenario.loader import RawScenario, apply_overrides, read_toml, resolve, validate

_SPEC_KEYS = set(ParameterSpec.model_fields)
_TABLES_OF: dict[str, type[BaseModel]] = {"parameters": ParameterSpec, "outputs": OutputSpec}
"""Tables of tables keyed by the user: their keys' schema, for 'did you mean'."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Problems(list):
    def add(self, file: str, path: str, message: str) -> None:
        self.append(Problem(file, path, message))


def load_sweep(
    path: str | Path, check_metrics: bool = True, data: dict[str, Any] | None = None
) -> Sweep:
    """Load and check a sweep file; raise ScenarioError listing every problem.

    ``check_metrics`` checks that outputs and series name weekly columns that a run of
    the base scenario records (from the metric catalogue). ``data``: the sweep's table
    when it is built in code (``market-sim claims``); relative paths in it are read from
    ``path``'s folder, and problems name ``path``.
    """
    path = Path(path)
    file = str(path)
    data = read_toml(path) if data is None else copy.deepcopy(data)
    if "claims" in data and "base" not in data and "sampler" not in data:
        raise ScenarioError(
            [
                Problem(
                    file,
                    "",
                    "this is a claims file, not a sweep: answer it with "
                    f"`market-sim claims {file}`, or name it as a sweep's claims_file",
                )
            ]
        )
    if isinstance(data.get("parameters"), dict):
        data["parameters"] = _flatten(data["parameters"])
    spec = _validated(SweepFile, data, file)
    problems = _Problems()

    outputs: dict[str, tuple[Output, str]] = {
        k: (Output.from_spec(k, v), file) for k, v in spec.outputs.items()
    }
    claims: list[tuple[ClaimSpec, Path, str]] = [(c, path, file) for c in spec.claims]
    if spec.claims_file is not None:
        cpath = Path(os.path.normpath(path.parent / spec.claims_file))
        if not cpath.is_file():
            problems.add(
                file,
                "claims_file",
                f"file '{spec.claims_file}' not found (looked in {path.parent}); fix the path",
            )
        else:
            cfile = str(cpath)
            cspec = _validated(ClaimsFile, read_toml(cpath), cfile)
            for name, o in cspec.outputs.items():
                new = Output.from_spec(name, o)
                if name in outputs and outputs[name][0] != new:
                    problems.add(
                        file,
                        f"outputs.{name}",
                        f"differs from the output of the same name in {cfile}; rename one of them",
                    )
                outputs.setdefault(name, (new, cfile))
            claims += [(c, cpath, cfile) for c in cspec.claims]

    # scenarios: the base and every claim's scenario and counterfactual, by file stem
    base_file = Path(os.path.normpath(path.parent / spec.base))
    if not base_file.is_file():
        problems.add(
            file, "base", f"file '{spec.base}' not found (looked in {path.parent}); fix the path"
        )
        raise ScenarioError(problems)
    refs: dict[str, ScenarioRef] = {}
    base = _add_scenario(refs, base_file, spec, file, "base", problems)
    claim_objs: list[Claim] = []
    seen_ids: set[str] = set()
    for c, cpath, cfile in claims:
        where = f"claims.{c.id}"
        if c.id in seen_ids:
            problems.add(cfile, f"{where}.id", f"claim '{c.id}' is defined twice; rename one")
        seen_ids.add(c.id)
        labels = []
        for key, rel in (("scenario", c.scenario), ("counterfactual", c.counterfactual)):
            if rel is None:
                labels.append(base)
                continue
            target = Path(os.path.normpath(cpath.parent / rel))
            if not target.is_file():
                problems.add(
                    cfile,
                    f"{where}.{key}",
                    f"file '{rel}' not found (looked in {cpath.parent}); fix the path",
                )
                labels.append(None)
                continue
            labels.append(_add_scenario(refs, target, spec, cfile, f"{where}.{key}", problems))
        if labels[0] is not None and labels[0] == labels[1]:
            problems.add(
                cfile,
                f"{where}.counterfactual",
                "is the same scenario as the claim's; name its counterfactual",
            )
        if c.output not in outputs:
            problems.add(
                cfile,
                f"{where}.output",
                f"no output '{c.output}'"
                f"{did_you_mean(c.output, outputs)}; define it under [outputs]",
            )
        if None not in labels:
            claim_objs.append(
                Claim(
                    c.id,
                    c.text,
                    c.output,
                    labels[0],
                    labels[1],
                    c.direction,
                    c.threshold,
                    c.relative,
                )
            )

    check_sampler(spec, file, problems)
    specs, members = dict(spec.parameters), None
    if spec.sampler == "ensemble" and spec.ensemble is not None:
        specs, members = ensemble_parameters(spec, path, file, problems)
    params = _parameters(spec, specs, refs, base, file, problems, ensemble=members is not None)
    check_size(spec, len(refs), file, problems, None if members is None else len(members))
    _check_outputs(outputs, problems)
    if not outputs:
        problems.add(
            file,
            "outputs",
            "no outputs; add at least one under [outputs] (or a claims_file that defines some)",
        )
    if problems:
        raise ScenarioError(problems)
    if check_metrics:
        _check_metrics(refs[base], spec, outputs, file)
    return Sweep(
        file=file,
        name=spec.name or path.stem,
        description=spec.description,
        seed=spec.seed,
        sampler=spec.sampler,
        samples=spec.samples,
        replicates=spec.replicates,
        levels=spec.levels,
        fixed=list(spec.set),
        base=base,
        scenarios=refs,
        parameters=params,
        outputs={k: v[0] for k, v in outputs.items()},
        claims=claim_objs,
        series=list(spec.series),
        members=members,
        ensemble=None if members is None else str(path.parent / str(spec.ensemble)),
    )


def load_claims_file(path: str | Path) -> tuple[ClaimsFile, dict[str, Output]]:
    """Read and check a claims file on its own (``scenarios/claims.toml``): its schema,
    its outputs' names and windows, and that each claim names an output. The claims'
    scenario files and the metrics' columns are the caller's to check. Returns the file
    and its outputs by name; raises ScenarioError listing every problem."""
    path = Path(path)
    file = str(path)
    spec = _validated(ClaimsFile, read_toml(path), file)
    outputs = {k: (Output.from_spec(k, v), file) for k, v in spec.outputs.items()}
    problems = _Problems()
    _check_outputs(outputs, problems)
    for c in spec.claims:
        if c.output not in outputs:
            problems.add(
                file,
                f"claims.{c.id}.output",
                f"no output '{c.output}'{did_you_mean(c.output, outputs)}; "
                "define it under [outputs]",
            )
    if problems:
        raise ScenarioError(problems)
    return spec, {k: v[0] for k, v in outputs.items()}


# --------------------------------------------------------------------------- pieces


def _check_outputs(outputs: dict[str, tuple[Output, str]], problems: _Problems) -> None:
    """Each output's name is an identifier and its window parses."""
    for name, (o, ofile) in outputs.items():
        if not _NAME.match(name):
            problems.add(
                ofile,
                f"outputs.{name}",
                "an output name is letters, digits and _ (not starting with a digit); rename it",
            )
        try:
            parse_window(o.window)
        except ValueError as err:
            problems.add(ofile, f"outputs.{name}.window", f"{err}; fix the window")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Parameters by full path: nested tables (unquoted dotted keys) flattened; a list
    becomes ``{values = [...]}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, list):
            out[path] = {"values": value}
        elif isinstance(value, dict) and value and not (set(value) & _SPEC_KEYS):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def _validated(model: type[BaseModel], data: dict[str, Any], file: str) -> Any:
    """Validate against a schema class; raise its problems with parameter keys quoted."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = problems_from_validation(err, model, data, lambda loc: file)
        keys = sorted(data.get("parameters") or {}, key=len, reverse=True)
        fixed = []
        for p in problems:
            path, message = p.path, p.message
            top = path.split(".", 1)[0]
            if top in _TABLES_OF and message.startswith("unknown key '"):
                key = message.split("'")[1]
                hint = did_you_mean(key, _TABLES_OF[top].model_fields)
                valid = ", ".join(_TABLES_OF[top].model_fields)
                fix = hint.lstrip("; ") or f"remove it (valid keys: {valid})"
                message = f"unknown key '{key}'; {fix}"
            for k in keys:
                if path == f"parameters.{k}" or path.startswith(f"parameters.{k}."):
                    path = f'parameters."{k}"' + path[len(f"parameters.{k}") :]
                    break
            fixed.append(Problem(p.file, path, message))
        raise ScenarioError(fixed) from None


def _add_scenario(
    refs: dict[str, ScenarioRef],
    target: Path,
    spec: SweepFile,
    file: str,
    where: str,
    problems: _Problems,
) -> str:
    """Load a scenario (with the sweep's ``set``) once; its label is the file's stem."""
    label = target.stem
    known = refs.get(label)
    if known is not None:
        if Path(known.file).resolve() != target.resolve():
            problems.add(
                file,
                where,
                f"'{target}' has the same name as '{known.file}'; "
                "scenario files of one sweep need distinct names",
            )
        return label
    raw = resolve(target)  # a broken scenario file reports its own problems
    validate(raw)
    trial = RawScenario(copy.deepcopy(raw.data), raw.main_file, dict(raw.provenance))
    found = apply_overrides(trial, spec.set)
    try:
        if not found:
            validate(trial)
    except ScenarioError as err:
        found = err.problems
    for p in found:
        problems.add(file, "set", f"{p.path}: {p.message}" if p.file == "--set" else str(p))
    refs[label] = ScenarioRef(label, str(target), raw.data)
    return label


def _parameters(
    spec: SweepFile,
    specs: dict[str, ParameterSpec],
    refs: dict[str, ScenarioRef],
    base: str,
    file: str,
    problems: _Problems,
    ensemble: bool = False,
) -> list[Parameter]:
    params: list[Parameter] = []
    for key, p in specs.items():
        where = f'parameters."{key}"'
        labels = tuple(refs)
        if p.scenarios is not None:
            labels = tuple(base if s == "base" else s for s in p.scenarios)
            bad = [s for s in labels if s not in refs]
            if bad:
                problems.add(
                    file,
                    f"{where}.scenarios",
                    f"no scenario '{bad[0]}' in this "
                    f"sweep{did_you_mean(bad[0], refs)}; use one of "
                    f"{', '.join(['base', *refs])}",
                )
                continue
        probe = p.values[0] if p.values is not None else 1.0
        is_int = None
        for label in labels:
            message, ann = check_path(refs[label], key, probe)
            if message:
                problems.add(file, where, f"{message} (in {refs[label].file})")
                break
            is_int = is_int or takes_int(ann)
        integer = bool(is_int) if p.integer is None else p.integer
        params.append(Parameter(key, p, integer, labels, ensemble))
    return params


def _check_metrics(
    ref: ScenarioRef, spec: SweepFile, outputs: dict[str, tuple[Output, str]], file: str
) -> None:
    """Check outputs' and series' metric keys against the base scenario's weekly columns
    (from the metric catalogue; no model is built)."""
    from market_sim.model import resolve_scenario
    from market_sim.outcomes.catalogue import metric_keys

    columns = metric_keys(resolve_scenario(ref.data, list(spec.set)))
    problems = _Problems()
    for name, (o, ofile) in outputs.items():
        if unknown_metric(o.metric, columns):
            problems.add(
                ofile,
                f"outputs.{name}.metric",
                f"unknown metric key '{o.metric}'"
                f"{did_you_mean(o.metric, columns) or ''}; see `market-sim metrics`",
            )
    for k, key in enumerate(spec.series):
        if key not in columns:
            problems.add(
                file,
                f"series[{k}]",
                f"unknown metric key '{key}'"
                f"{did_you_mean(key, columns) or ''}; use a weekly column's name",
            )
    if problems:
        raise ScenarioError(problems)
