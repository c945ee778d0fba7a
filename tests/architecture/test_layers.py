"""The package's shape, checked by parsing its imports: one core with no web framework
in it, surfaces on top, no cycles between parts, modules of one concept each.

A *part* is a top-level module or subpackage of ``mock_puresms`` (``domain``,
``storage``, ``core``, ``api``, ...). README's "Architecture" section describes the rules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

import mock_puresms

PACKAGE = Path(mock_puresms.__file__).parent
MAX_MODULE_LINES = 600

# The core: plain Python, no HTTP framework.
CORE_PARTS = frozenset({"domain", "simulation", "storage", "webhooks", "core", "recovery"})
WEB_FRAMEWORKS = ("starlette", "uvicorn")
# What the HTTP surfaces may import from the package: the façade, the domain's values and
# errors, what the surfaces share, and their own modules. Never a store, the simulation
# or the dispatcher: those are reached through the façade.
SURFACES = frozenset({"api", "api_connect", "control", "inbox"})
SURFACE_MAY_IMPORT = frozenset({"core", "domain", "web", "version"})


def modules() -> Iterator[tuple[Path, str]]:
    """Every module of the package, with the part it belongs to."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        part = relative.parts[0].removesuffix(".py")
        yield path, part


def imported(path: Path) -> Iterator[str]:
    """The absolute module names ``path`` imports (relative imports resolved)."""
    package = ".".join(("mock_puresms", *path.relative_to(PACKAGE).parent.parts))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module == "mock_puresms":
                # ``from mock_puresms import collector`` imports a submodule; other
                # names (``__version__``) come from the package's ``__init__``.
                for alias in node.names:
                    submodule = (PACKAGE / alias.name).is_dir() or (
                        PACKAGE / f"{alias.name}.py"
                    ).is_file()
                    yield f"mock_puresms.{alias.name}" if submodule else "mock_puresms"
            elif node.module:
                yield node.module


def part_of(module: str) -> str | None:
    """The package part a module name belongs to; ``None`` outside the package."""
    names = module.split(".")
    if names[0] != "mock_puresms":
        return None
    return names[1] if len(names) > 1 else "__init__"


def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path, part in modules():
        for module in imported(path):
            target = part_of(module)
            if target is not None and target != part:
                graph[part].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that returns to its start, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_parts_import_each_other_without_cycles() -> None:
    assert find_cycle(part_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    # Guards the guard: a check that never finds a cycle would pass on any package.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_domain_imports_no_other_part() -> None:
    assert part_graph().get("domain", set()) == set()


@pytest.mark.parametrize("core_part", sorted(CORE_PARTS))
def test_the_core_has_no_web_framework(core_part: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path, part in modules()
        if part == core_part
        for module in imported(path)
        if module.split(".")[0] in WEB_FRAMEWORKS
    ]
    assert offenders == []


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_surfaces_reach_the_core_only_through_the_facade(surface: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path, part in modules()
        if part == surface
        for module in imported(path)
        if (target := part_of(module)) is not None
        and target != surface
        and target not in SURFACE_MAY_IMPORT
    ]
    assert offenders == []


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path, _ in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
