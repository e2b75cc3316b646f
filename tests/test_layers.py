"""Dependencies point one way: pipelines -> validation, models, report, simulator -> features
-> contracts, and no module imports itself back through others (no circles).

Read from the source with `ast`, so every import counts, those inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each package may import packages of a lower layer (and itself), never of its own layer or
# above. The report is a consumer of a finished run; the simulator a source of exports.
LAYERS = {
    "contracts": 0,
    "features": 1,
    "validation": 2,
    "models": 2,
    "report": 3,
    "simulator": 3,
    "pipelines": 4,
}


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """takehold modules `path` imports (the longest known prefix of each imported name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    resolved = set()
    for name in names:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in known:
                resolved.add(candidate)
                break
    return resolved


GRAPH = {name: imported_modules(path, set(modules())) for name, path in modules().items()}


def layer_breaks(graph: dict[str, set[str]]) -> list[str]:
    breaks = []
    for module, targets in graph.items():
        package = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other != package and LAYERS[other] >= LAYERS[package]:
                breaks.append(f"{module} imports {target}")
    return sorted(breaks)


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), plus self-imports.

    A package's `__init__` that re-exports its own modules is left out of the graph: importing
    `pkg.mod` runs `pkg/__init__` first in any case, so that edge is not a choice of the code.
    """
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_package_is_scanned():
    assert {name.split(".")[0] for name in GRAPH} == set(LAYERS)


def test_dependencies_point_one_way():
    assert layer_breaks(GRAPH) == []


def test_no_circles():
    assert circles(GRAPH) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"features.a": {"models.b"}, "models.b": set()}, ["features.a imports models.b"]),
        ({"models.a": {"validation.b"}, "validation.b": set()}, ["models.a imports validation.b"]),
        ({"pipelines.a": {"contracts.b"}, "contracts.b": set()}, []),
    ],
)
def test_the_layer_check_catches_an_upward_import(graph, expected):
    assert layer_breaks(graph) == expected


def test_the_circle_check_catches_a_circle():
    graph = {"models.a": {"models.b"}, "models.b": {"models.c"}, "models.c": {"models.a"}}
    assert circles(graph) == [["models.a", "models.b", "models.c"]]


# --- feature names are spelled once ---------------------------------------------------------

# Modules that read features by name: they use the constants of features.columns, so that a
# renamed feature fails at import instead of silently falling back to a generic phrase.
READERS_OF_FEATURES = (
    "models/rules.py",
    "models/triggers.py",
    "models/explain.py",
    "models/monitoring.py",
)


def spelled_feature_names(path: Path) -> list[str]:
    from features.columns import FEATURE_NAMES

    names = set(FEATURE_NAMES)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    )


@pytest.mark.parametrize("module", READERS_OF_FEATURES)
def test_feature_names_are_read_through_the_declared_constants(module):
    assert spelled_feature_names(ROOT / module) == []


def test_every_feature_declares_its_phrase():
    from features.columns import FEATURES

    assert [f.name for f in FEATURES if "{v}" not in f.phrase] == []
