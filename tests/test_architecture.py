"""The package's shape: no import cycles, layers that only look down, no model constants
hidden in code, and one owner of the weekly state.

Imports are read from the source (ast), including imports inside functions and under
``TYPE_CHECKING``: a cycle hidden that way is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "market_sim"

LAYERS = (
    ("fileio", "problems", "integrity", "deferred", "mesa_import", "jit"),
    ("market",),
    ("scenario",),
    ("supply",),
    ("outcomes",),
    ("facts",),
    ("agents",),
    ("model",),
    ("runs",),
    ("experiment",),
    ("claims",),
    ("report",),
    ("explore",),
    ("cli",),
)
"""Subpackages from the lowest to the highest: a module may import its own subpackage and
the ones below it, never one above it."""


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("market_sim")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if not module.startswith("market_sim"):
                continue
            found.add(module)
            for alias in node.names:  # `from market_sim.model import state` names a module
                candidate = f"{module}.{alias.name}"
                if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists():
                    found.add(candidate)
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        graph.add_node(name)
        for target in _imports(path, name):
            if target != name:
                graph.add_edge(name, target)
    return graph


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself (market_sim/__init__.py)
    for i, layer in enumerate(LAYERS):
        if parts[1] in layer:
            return i
    return None


def test_the_graph_sees_imports_inside_functions_and_type_checking():
    graph = import_graph()
    assert graph.has_edge("market_sim.model.core", "market_sim.model.state")
    # runs.folder imports the model inside a function
    assert graph.has_edge("market_sim.runs.folder", "market_sim.model")
    assert len(graph) > 60


def test_no_import_cycles():
    graph = import_graph()
    # a package's __init__ that re-exports one of its modules is not a cycle through it
    for a, b in list(graph.edges):
        if b.startswith(a + "."):
            graph.remove_edge(a, b)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_every_module_is_in_a_layer():
    unplaced = [
        m
        for m in import_graph().nodes
        if m.count(".") >= 1 and _layer(m) is None and m.split(".")[1] not in ("__main__",)
    ]
    assert not unplaced, f"modules outside the layers (add them to LAYERS): {unplaced}"


def test_layers_only_look_down():
    graph = import_graph()
    upward = []
    for a, b in graph.edges:
        la, lb = _layer(a), _layer(b)
        if la is not None and lb is not None and lb > la:
            upward.append(f"{a} -> {b}")
    assert not upward, "imports that look up:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("low", ["market", "supply", "scenario", "facts"])
def test_low_layers_know_nothing_of_the_model(low):
    graph = import_graph()
    forbidden = ("market_sim.model", "market_sim.agents", "market_sim.runs", "market_sim.report")
    bad = [
        f"{a} -> {b}"
        for a, b in graph.edges
        if a.startswith(f"market_sim.{low}") and b.startswith(forbidden)
    ]
    assert not bad, bad


def test_reports_never_build_a_model():
    graph = import_graph()
    bad = [
        f"{a} -> {b}"
        for a, b in graph.edges
        if a.startswith("market_sim.report")
        and b.startswith(("market_sim.model", "market_sim.agents"))
    ]
    assert not bad, bad


# --------------------------------------------------------------------------- state ownership


def _model_attribute_writes(path: Path) -> list[str]:
    """``model.x = ...``, ``m.x += ...``, ``self.model.x = ...`` (and setattr on them)."""

    def is_model(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in ("model", "m")
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "model"
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and node.args
        ):
            targets = [ast.Attribute(value=node.args[0], attr="?")]
        for t in targets:
            if isinstance(t, ast.Attribute) and is_model(t.value):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(t)}")
    return found


def test_only_the_model_sets_model_attributes():
    owner = PACKAGE / "model" / "core.py"
    writes = []
    for path in PACKAGE.rglob("*.py"):
        if path != owner:
            writes += _model_attribute_writes(path)
    assert not writes, "model attributes set outside model/core.py:\n" + "\n".join(writes)
