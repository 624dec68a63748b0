"""The layers of docs/architecture.md hold: no upward import and no import cycle in the package.

Imports are read from the source (module level, inside functions, and the lazy ``_LAZY`` names of the
package ``__init__`` modules), so an import hidden in a function to dodge a cycle is still seen.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbench"
DOC = ROOT / "docs" / "architecture.md"


def layers() -> dict[str, int]:
    """``module prefix -> layer number`` from the table in docs/architecture.md."""
    table: dict[str, int] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            for name in re.findall(r"`([\w.]+)`", cells[2]):
                table[name] = int(cells[0])
    return table


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    base = ROOT / Path(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


class Imports(ast.NodeVisitor):
    """Every ``workbench`` import of one module: ``(target, typing_only)``."""

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[tuple[str, bool]] = set()
        self.typing_only = False

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            before, self.typing_only = self.typing_only, True
            for child in node.body:
                self.visit(child)
            self.typing_only = before
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _add(self, target: str) -> None:
        if target == "workbench" or target.startswith("workbench."):
            self.found.add((target, self.typing_only))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            full = f"{source}.{alias.name}"
            self._add(full if is_module(full) else source)

    def visit_Assign(self, node: ast.Assign) -> None:
        """``_LAZY = {"name": ("workbench.x", "attr")}`` or ``{"name": "workbench.x"}``: imported on first use."""
        if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets) and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                for const in ast.walk(value):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and is_module(const.value):
                        self._add(const.value)
        self.generic_visit(node)


def import_graph() -> dict[str, set[tuple[str, bool]]]:
    graph: dict[str, set[tuple[str, bool]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        visitor = Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = {(t, typing) for t, typing in visitor.found if t != name}
    return graph


def layer_of(module: str, table: dict[str, int]) -> int | None:
    best = None
    for prefix, layer in table.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


GRAPH = import_graph()
TABLE = layers()


def test_the_table_has_every_layer():
    assert sorted(set(TABLE.values())) == list(range(max(TABLE.values()) + 1))
    assert "workbench.core" in TABLE and "workbench.executors" in TABLE


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_every_module_has_a_layer(module):
    assert layer_of(module, TABLE) is not None, f"{module} is in no layer of docs/architecture.md"


def test_no_upward_imports():
    upward = []
    for module, targets in GRAPH.items():
        mine = layer_of(module, TABLE)
        for target, typing_only in targets:
            theirs = layer_of(target, TABLE)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} (layer {mine}) -> {target} (layer {theirs})"
                              + (" [TYPE_CHECKING]" if typing_only else ""))
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def runtime_graph() -> dict[str, set[str]]:
    """Imports that run (TYPE_CHECKING ones excluded); a package ``__init__`` that re-exports its own
    submodules is the package's front door, not a dependency of them."""
    out: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        out[module] = {t for t, typing_only in targets if not typing_only and t in GRAPH}
    return out


def test_no_import_cycles():
    cycle = find_cycle(runtime_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_sees_function_level_and_lazy_imports():
    """The reader itself: a hidden import inside a function and a lazy name are edges."""
    assert ("workbench.api", False) in GRAPH["workbench.tuneup.base"]  # `from workbench.api import run` in a function
    assert ("workbench.api", False) in GRAPH["workbench"]  # workbench.run is a lazy name
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert layer_of("workbench.executors.qutip.propagate", TABLE) == TABLE["workbench.executors"]
