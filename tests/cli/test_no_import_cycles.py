"""The command line is one layer: its modules, and the two WhatsApp intake modules, import in one direction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path, package: str) -> set[str]:
    """The modules of ``package`` that a file imports, anywhere in it (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == package:
                found.update(f"{package}.{a.name}" for a in node.names)
            elif node.module.startswith(package + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(package + "."))
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["amanat.cli", "amanat.intake"])
def test_no_import_cycle(package: str) -> None:
    folder = ROOT / package.replace(".", "/")
    graph = {f"{package}.{p.stem}": imports_of(p, package) for p in folder.glob("*.py") if p.stem != "__init__"}
    assert cycle(graph) is None


def test_command_modules_never_import_main() -> None:
    # main.py registers every command; a command module importing it would register by side effect again.
    for path in (ROOT / "amanat" / "cli").glob("*.py"):
        if path.stem not in ("main", "__init__"):
            assert "amanat.cli.main" not in imports_of(path, "amanat.cli"), path.name


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
