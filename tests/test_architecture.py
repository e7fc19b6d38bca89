"""The shape of src/paraph: no import circle (deferred imports included), and a map that names every folder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "paraph"
LAYOUT = ROOT / "docs" / "layout.md"


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every paraph module ``module`` imports, at the top or inside a function (a deferred import still closes
    a circle); imports under ``if TYPE_CHECKING:`` are not run, so they do not count."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package
                    for _ in range(child.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                names = [base] + [f"{base}.{alias.name}" for alias in child.names]
            for name in names:
                target = resolve(name) if name.startswith("paraph") else None
                if target and target != module:
                    found.add(target)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return circles


def test_it_has_no_import_circle_inside_src_paraph() -> None:
    known = _modules()
    graph = {module: _imports(module, path, known) for module, path in known.items()}
    assert _circles(graph) == []


def test_it_finds_a_circle_held_shut_by_a_deferred_import() -> None:
    # The check itself: two modules, one importing the other inside a function, are a circle.
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert _circles(graph) == [["a", "b"]]


def test_the_layout_map_names_every_folder_and_names_no_folder_that_is_gone() -> None:
    text = LAYOUT.read_text()
    folders = {
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*")
        if p.is_dir() and (p / "__init__.py").exists() and "migrations" not in p.parts[len(SRC.parts) :]
    } | {"migrations"}
    named = set(re.findall(r"^([a-z_][a-z0-9_/]*)/\s", text, flags=re.M))
    assert folders - named == set(), "folders of src/paraph missing from docs/layout.md"
    assert named - folders == set(), "docs/layout.md names folders that src/paraph does not have"
